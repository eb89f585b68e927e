//! Reading and changing who is signed in on the current session.

use super::session_store::USER_ID_KEY;
use crate::error::AppError;
use crate::request::Origin;
use crate::state::{AppState, SessionLimits};
use tower_sessions::Session;

/// When the current sign-in started (ms since the epoch, UTC).
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";
/// Last request seen on this sign-in (ms since the epoch, UTC).
pub const LAST_SEEN_KEY: &str = "last_seen";
/// The browser signed in with, as its User-Agent described it (shortened).
pub const DEVICE_KEY: &str = "device";
/// When this sign-in passed two-step sign-in (a code after the password,
/// or turning two-step sign-in on); absent otherwise.
pub const SECOND_FACTOR_KEY: &str = "second_factor_at";
/// Activity is recorded at most this often: recording it writes the
/// session (and renews its expiry), and a write on every signed-in request
/// would cost a database write per page.
const RECORD_ACTIVITY_AFTER_MS: i64 = 60_000;

pub async fn from_request() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| AppError::internal("session layer", e))
}

pub(crate) fn store_err(e: tower_sessions::session::Error) -> AppError {
    AppError::internal("session store", e)
}

/// Where a sign-in stands at a given moment, by the app's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Older than the absolute lifetime, or idle for longer than the idle
    /// timeout: to be ended.
    Over,
    /// Signed in; `record_activity` when the last recorded activity is a
    /// minute old or more (recording it writes the session).
    Current { record_activity: bool },
}

/// How a sign-in that started at `started` and was last seen at `seen`
/// stands at `now` (all ms since the epoch). Every reading of a sign-in
/// decides by this, whether it reads the session through the session layer
/// or straight from the store (`actor::resolve_stored`).
pub fn standing(limits: &SessionLimits, now: i64, started: i64, seen: i64) -> Standing {
    if now - started > limits.absolute.as_millis() as i64
        || now - seen > limits.idle.as_millis() as i64
    {
        Standing::Over
    } else {
        Standing::Current {
            record_activity: now - seen >= RECORD_ACTIVITY_AFTER_MS,
        }
    }
}

/// The signed-in user's id, or None. A sign-in older than the absolute
/// lifetime, or idle for longer than the idle timeout (both by the app's
/// clock; activity recorded to the minute), is ended here and the session
/// deleted.
pub async fn signed_in_user(state: &AppState, session: &Session) -> Result<Option<i64>, AppError> {
    let Some(user_id) = session.get::<i64>(USER_ID_KEY).await.map_err(store_err)? else {
        return Ok(None);
    };
    let now = state.clock.now_ms();
    let started = session
        .get::<i64>(SIGNED_IN_AT_KEY)
        .await
        .map_err(store_err)?
        .unwrap_or(0);
    let seen = session
        .get::<i64>(LAST_SEEN_KEY)
        .await
        .map_err(store_err)?
        .unwrap_or(0);
    match standing(&state.sessions, now, started, seen) {
        Standing::Over => {
            session.flush().await.map_err(store_err)?;
            return Ok(None);
        }
        Standing::Current {
            record_activity: true,
        } => session
            .insert(LAST_SEEN_KEY, now)
            .await
            .map_err(store_err)?,
        Standing::Current {
            record_activity: false,
        } => {}
    }
    Ok(Some(user_id))
}

/// Makes `user_id` the signed-in user under a new session id, so a session
/// id known before sign-in (fixation) is worth nothing after it.
pub async fn start(
    state: &AppState,
    session: &Session,
    origin: &Origin,
    user_id: i64,
) -> Result<(), AppError> {
    let now = state.clock.now_ms();
    session.cycle_id().await.map_err(store_err)?;
    session
        .insert(USER_ID_KEY, user_id)
        .await
        .map_err(store_err)?;
    session
        .insert(SIGNED_IN_AT_KEY, now)
        .await
        .map_err(store_err)?;
    session
        .insert(LAST_SEEN_KEY, now)
        .await
        .map_err(store_err)?;
    session
        .insert(DEVICE_KEY, origin.device.clone())
        .await
        .map_err(store_err)?;
    Ok(())
}

/// Marks this sign-in as having passed two-step sign-in.
pub async fn mark_second_factor(state: &AppState, session: &Session) -> Result<(), AppError> {
    session
        .insert(SECOND_FACTOR_KEY, state.clock.now_ms())
        .await
        .map_err(store_err)
}

/// Whether this sign-in passed two-step sign-in.
pub async fn passed_second_factor(session: &Session) -> Result<bool, AppError> {
    Ok(session
        .get::<i64>(SECOND_FACTOR_KEY)
        .await
        .map_err(store_err)?
        .is_some())
}

/// Ends the sign-in and deletes the session from the store.
pub async fn end(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(store_err)
}

/// The signed-in user, or Unauthorized.
pub(crate) async fn require_user(
    state: &AppState,
    session: &Session,
) -> Result<super::db::UserRow, AppError> {
    let user_id = signed_in_user(state, session)
        .await?
        .ok_or(AppError::Unauthorized)?;
    super::db::user_by_id(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_sign_in_ends_past_either_limit_and_records_activity_once_a_minute() {
        let limits = SessionLimits {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
        };
        let minute = 60_000;
        let start = 1_000_000_000;
        let current = |record_activity| Standing::Current { record_activity };
        // Seen a moment ago, a minute ago, at the idle limit, past it.
        assert_eq!(
            standing(&limits, start + 59_999, start, start),
            current(false)
        );
        assert_eq!(
            standing(&limits, start + minute, start, start),
            current(true)
        );
        assert_eq!(
            standing(&limits, start + 30 * minute, start, start),
            current(true)
        );
        assert_eq!(
            standing(&limits, start + 30 * minute + 1, start, start),
            Standing::Over
        );
        // Active all along, but signed in longer than the absolute lifetime.
        let twelve_hours = 12 * 60 * minute;
        let now = start + twelve_hours;
        assert_eq!(standing(&limits, now, start, now - 1), current(false));
        assert_eq!(standing(&limits, now + 1, start, now), Standing::Over);
    }
}
