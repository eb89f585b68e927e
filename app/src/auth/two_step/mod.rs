//! Two-step sign-in: after the password, a six-digit code from an
//! authenticator app (TOTP, RFC 6238: HMAC-SHA1, 30-second steps, one step
//! of clock drift either way) or one of ten single-use recovery codes.
//!
//! Optional for everyone; platform staff act only on a sign-in that passed
//! it (see `actor::resolve_in`). A code is accepted once (the step it
//! belongs to is remembered); wrong codes are limited per address and per
//! account in memory, and after five in a row the account waits longer
//! before each try, counted in the database so every node agrees.

mod codes;
mod settings;

pub use settings::{begin, confirm, dismiss_codes, replace_recovery_codes, reset, turn_off, view};

use super::session;
use super::session::store_err;
use crate::audit::db::{append, NewEntry};
use crate::auth::visit::Visit;
use crate::error::AppError;
use crate::state::AppState;
use codes::{hash, six_digits};
pub use codes::{
    matching_step, new_recovery_codes, new_secret, otpauth_uri, step_of, wait_ms, RECOVERY_CODES,
    STEP_SECS,
};
use sqlx::{Any, Row, Transaction};
use tower_sessions::Session;

/// Between the password and the code: at most this long.
pub const PENDING_MS: i64 = 5 * 60_000;
/// Session keys of a sign-in waiting for its code.
pub(super) const PENDING_USER_KEY: &str = "pending_uid";
pub(super) const PENDING_AT_KEY: &str = "pending_at";
/// A secret offered for setting up, until a code from it is entered.
pub(super) const SETUP_SECRET_KEY: &str = "totp_setup";
/// New recovery codes, shown on the account page until put away.
pub(super) const NEW_CODES_KEY: &str = "new_recovery_codes";

/// An entry for what `user_id` did from `ip` to their own account.
pub(super) fn entry(ip: &str, action: &str, user_id: i64, details: serde_json::Value) -> NewEntry {
    NewEntry {
        actor_user_id: Some(user_id),
        org_id: None,
        action: action.into(),
        target: format!("user:{user_id}"),
        client_ip: ip.into(),
        details,
    }
}

/// The stored state of a user's second factor.
pub(super) struct Factor {
    secret: Option<String>,
    enabled_at: Option<i64>,
    failures: i64,
    failed_at: Option<i64>,
}

pub(super) async fn factor(db: &crate::db::Db, user_id: i64) -> Result<Factor, AppError> {
    let row = sqlx::query(
        "SELECT totp_secret, totp_enabled_at, totp_failures, totp_failed_at FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_one(db.pool())
    .await?;
    Ok(Factor {
        secret: row.try_get("totp_secret")?,
        enabled_at: row.try_get("totp_enabled_at")?,
        failures: row.try_get("totp_failures")?,
        failed_at: row.try_get("totp_failed_at")?,
    })
}

/// Accepts the code of `step` once: false when that step (or a later one)
/// was already used.
pub(super) async fn take_step(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    step: i64,
) -> Result<bool, AppError> {
    Ok(sqlx::query(
        "UPDATE users SET totp_last_step = $2, totp_failures = 0, totp_failed_at = NULL \
         WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
    )
    .bind(user_id)
    .bind(step)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

pub(super) fn wrong_code() -> AppError {
    AppError::field(
        "code",
        "That code is not right. Enter the current code from your app, or a recovery code.",
    )
}

/// After the password of an account with two-step sign-in: the session
/// holds no sign-in yet, only whose code it waits for (under a new id).
pub async fn await_code(state: &AppState, s: &Session, user_id: i64) -> Result<(), AppError> {
    s.cycle_id().await.map_err(store_err)?;
    s.clear().await;
    s.insert(PENDING_USER_KEY, user_id)
        .await
        .map_err(store_err)?;
    s.insert(PENDING_AT_KEY, state.clock.now_ms())
        .await
        .map_err(store_err)
}

/// Whether `user_id` must give a code after the password.
pub async fn is_on(state: &AppState, user_id: i64) -> Result<bool, AppError> {
    Ok(factor(&state.db, user_id).await?.enabled_at.is_some())
}

/// The second step of signing in: a current code or a recovery code.
pub async fn sign_in_code(visit: &Visit, code: &str) -> Result<(), AppError> {
    let state = &visit.state;
    let ip = &visit.origin.client_ip;
    let s = &visit.session;
    let start_again = || {
        AppError::field(
            "code",
            "This sign-in has expired. Enter your email and password again.",
        )
    };
    let user_id = s
        .get::<i64>(PENDING_USER_KEY)
        .await
        .map_err(store_err)?
        .ok_or_else(start_again)?;
    let at = s
        .get::<i64>(PENDING_AT_KEY)
        .await
        .map_err(store_err)?
        .unwrap_or(0);
    let now = state.clock.now_ms();
    if now - at > PENDING_MS {
        s.flush().await.map_err(store_err)?;
        return Err(start_again());
    }
    state
        .rate_limits
        .check(ip, Some(&format!("second-factor:{user_id}")))
        .await?;
    let f = factor(&state.db, user_id).await?;
    let Some(secret) = f.secret.filter(|_| f.enabled_at.is_some()) else {
        s.flush().await.map_err(store_err)?;
        return Err(start_again());
    };
    let wait = wait_ms(f.failures, f.failed_at, now);
    if wait > 0 {
        return Err(AppError::RateLimited {
            retry_after_secs: (wait as u64).div_ceil(1000),
        });
    }
    let mut tx = state.db.begin_write().await?;
    let used = match six_digits(code) {
        Some(digits) => match matching_step(&secret, &digits, now)? {
            Some(step) if take_step(&mut tx, user_id, step).await? => Some("app"),
            _ => None,
        },
        None => {
            let n = sqlx::query(
                "UPDATE recovery_codes SET used_at = $3 \
                 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
            )
            .bind(user_id)
            .bind(hash(code))
            .bind(now)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query(
                    "UPDATE users SET totp_failures = 0, totp_failed_at = NULL WHERE id = $1",
                )
                .bind(user_id)
                .execute(&mut **tx)
                .await?;
                Some("recovery_code")
            } else {
                None
            }
        }
    };
    let Some(kind) = used else {
        sqlx::query(
            "UPDATE users SET totp_failures = totp_failures + 1, totp_failed_at = $2 WHERE id = $1",
        )
        .bind(user_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        append(
            &mut tx,
            &entry(
                ip,
                "user.second_factor_failed",
                user_id,
                serde_json::json!({ "failures_in_a_row": f.failures + 1 }),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        return Err(wrong_code());
    };
    append(
        &mut tx,
        &entry(
            ip,
            "user.signed_in",
            user_id,
            serde_json::json!({ "second_factor": kind }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    s.remove::<i64>(PENDING_USER_KEY).await.map_err(store_err)?;
    s.remove::<i64>(PENDING_AT_KEY).await.map_err(store_err)?;
    session::start(&visit.state, &visit.session, &visit.origin, user_id).await?;
    session::mark_second_factor(state, s).await
}
