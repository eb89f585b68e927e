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

use super::session::store_err;
use super::{db, password, session};
use super::{TotpSetup, TwoStepView};
use crate::audit::db::{append, NewEntry};
use crate::error::AppError;
use crate::state::{app_state, client_ip, AppState};
use codes::{hash, qr, six_digits, step_of_code};
pub use codes::{
    matching_step, new_recovery_codes, new_secret, otpauth_uri, step_of, wait_ms, RECOVERY_CODES,
    STEP_SECS,
};
use sqlx::{Any, Row, Transaction};
use tower_sessions::Session;

/// Between the password and the code: at most this long.
pub const PENDING_MS: i64 = 5 * 60_000;
/// Session keys of a sign-in waiting for its code.
const PENDING_USER_KEY: &str = "pending_uid";
const PENDING_AT_KEY: &str = "pending_at";
/// A secret offered for setting up, until a code from it is entered.
const SETUP_SECRET_KEY: &str = "totp_setup";
/// New recovery codes, shown on the account page until put away.
const NEW_CODES_KEY: &str = "new_recovery_codes";

fn entry(action: &str, user_id: i64, details: serde_json::Value) -> NewEntry {
    NewEntry {
        actor_user_id: Some(user_id),
        org_id: None,
        action: action.into(),
        target: format!("user:{user_id}"),
        client_ip: client_ip(),
        details,
    }
}

/// The stored state of a user's second factor.
struct Factor {
    secret: Option<String>,
    enabled_at: Option<i64>,
    failures: i64,
    failed_at: Option<i64>,
}

async fn factor(db: &crate::db::Db, user_id: i64) -> Result<Factor, AppError> {
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

async fn codes_left(db: &crate::db::Db, user_id: i64) -> Result<i64, AppError> {
    Ok(sqlx::query(
        "SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(db.pool())
    .await?
    .try_get("n")?)
}

async fn replace_codes(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    codes: &[String],
    now: i64,
) -> Result<(), AppError> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for code in codes {
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(hash(code))
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Accepts the code of `step` once: false when that step (or a later one)
/// was already used.
async fn take_step(
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

fn wrong_code() -> AppError {
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
pub async fn sign_in_code(code: &str) -> Result<(), AppError> {
    let state = app_state()?;
    let ip = client_ip();
    let s = session::from_request().await?;
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
        .check(&ip, Some(&format!("second-factor:{user_id}")))?;
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
    session::start(&state, &s, user_id).await?;
    session::mark_second_factor(&state, &s).await
}

/// The account page's two-step section.
pub async fn view() -> Result<TwoStepView, AppError> {
    let state = app_state()?;
    let (user, s) = super::session::require_user(&state).await?;
    let f = factor(&state.db, user.id).await?;
    let setup = match s.get::<String>(SETUP_SECRET_KEY).await.map_err(store_err)? {
        Some(secret) if f.enabled_at.is_none() => {
            let uri = otpauth_uri(&secret, &user.email);
            let (qr_size, qr_path) = qr(&uri)?;
            Some(TotpSetup {
                secret,
                uri,
                qr_size,
                qr_path,
            })
        }
        _ => None,
    };
    let staff = crate::orgs::db::memberships_of(&state.db, user.id)
        .await?
        .iter()
        .any(|m| m.kind == crate::orgs::OrgKind::Platform);
    Ok(TwoStepView {
        enabled_at: f.enabled_at,
        codes_left: codes_left(&state.db, user.id).await?,
        new_codes: s
            .get::<Vec<String>>(NEW_CODES_KEY)
            .await
            .map_err(store_err)?
            .unwrap_or_default(),
        setup,
        staff,
    })
}

fn already_on() -> AppError {
    AppError::Conflict("Two-step sign-in is already on for this account.".into())
}

/// The signed-in user about to give a code: each try counts against the
/// address's and the account's limits.
async fn user_giving_code(state: &AppState) -> Result<(db::UserRow, Session), AppError> {
    let (user, s) = super::session::require_user(state).await?;
    state
        .rate_limits
        .check(&client_ip(), Some(&format!("second-factor:{}", user.id)))?;
    Ok((user, s))
}

/// Turns the second factor off and deletes the recovery codes; false when
/// it was off.
async fn clear_factor(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    now: i64,
) -> Result<bool, AppError> {
    let n = sqlx::query(
        "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, \
         totp_failures = 0, totp_failed_at = NULL, updated_at = $2 \
         WHERE id = $1 AND totp_enabled_at IS NOT NULL",
    )
    .bind(user_id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(n == 1)
}

/// Offers a new secret to set up with (kept in this session only).
pub async fn begin() -> Result<(), AppError> {
    let state = app_state()?;
    let (user, s) = super::session::require_user(&state).await?;
    if factor(&state.db, user.id).await?.enabled_at.is_some() {
        return Err(already_on());
    }
    s.insert(SETUP_SECRET_KEY, new_secret())
        .await
        .map_err(store_err)
}

/// Turns two-step sign-in on with a code from the offered secret; makes
/// recovery codes, signs out every other session, and this one counts as
/// having passed the second step.
pub async fn confirm(code: &str) -> Result<(), AppError> {
    let state = app_state()?;
    let (user, s) = user_giving_code(&state).await?;
    let secret = s
        .get::<String>(SETUP_SECRET_KEY)
        .await
        .map_err(store_err)?
        .ok_or_else(|| {
            AppError::field(
                "code",
                "Start the set-up first: press \"Set up two-step sign-in\".",
            )
        })?;
    if factor(&state.db, user.id).await?.enabled_at.is_some() {
        return Err(already_on());
    }
    let now = state.clock.now_ms();
    let step = step_of_code(&secret, code, now, || {
        AppError::field(
            "code",
            "That code does not match. Enter the six digits your app shows now.",
        )
    })?;
    let codes = new_recovery_codes();
    let mut tx = state.db.begin_write().await?;
    let n = sqlx::query(
        "UPDATE users SET totp_secret = $2, totp_enabled_at = $3, totp_last_step = $4, \
         totp_failures = 0, totp_failed_at = NULL, updated_at = $3 \
         WHERE id = $1 AND totp_enabled_at IS NULL",
    )
    .bind(user.id)
    .bind(&secret)
    .bind(now)
    .bind(step)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(already_on());
    }
    replace_codes(&mut tx, user.id, &codes, now).await?;
    let ended = db::delete_sessions_of(&mut tx, user.id).await?;
    append(
        &mut tx,
        &entry(
            "user.two_step_enabled",
            user.id,
            serde_json::json!({ "sessions_ended": ended }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    session::start(&state, &s, user.id).await?;
    session::mark_second_factor(&state, &s).await?;
    s.remove::<String>(SETUP_SECRET_KEY)
        .await
        .map_err(store_err)?;
    s.insert(NEW_CODES_KEY, codes).await.map_err(store_err)
}

/// New recovery codes in place of the old ones, for a current app code.
pub async fn replace_recovery_codes(code: &str) -> Result<(), AppError> {
    let state = app_state()?;
    let (user, s) = user_giving_code(&state).await?;
    let f = factor(&state.db, user.id).await?;
    let Some(secret) = f.secret.filter(|_| f.enabled_at.is_some()) else {
        return Err(AppError::Conflict(
            "Two-step sign-in is off for this account.".into(),
        ));
    };
    let now = state.clock.now_ms();
    let wrong = || {
        AppError::field(
            "code",
            "That code is not right. Enter the six digits your app shows now.",
        )
    };
    let step = step_of_code(&secret, code, now, wrong)?;
    let codes = new_recovery_codes();
    let mut tx = state.db.begin_write().await?;
    if !take_step(&mut tx, user.id, step).await? {
        return Err(wrong());
    }
    replace_codes(&mut tx, user.id, &codes, now).await?;
    append(
        &mut tx,
        &entry(
            "user.recovery_codes_replaced",
            user.id,
            serde_json::json!({}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    s.insert(NEW_CODES_KEY, codes).await.map_err(store_err)
}

/// Stops showing new recovery codes (the person has put them away).
pub async fn dismiss_codes() -> Result<(), AppError> {
    let state = app_state()?;
    let (_, s) = super::session::require_user(&state).await?;
    s.remove::<Vec<String>>(NEW_CODES_KEY)
        .await
        .map_err(store_err)?;
    Ok(())
}

/// Turns two-step sign-in off, for the current password. Platform staff
/// lose their staff powers until they turn it on again.
pub async fn turn_off(current_password: &str) -> Result<(), AppError> {
    let state = app_state()?;
    let ip = client_ip();
    let (user, s) = super::session::require_user(&state).await?;
    state.rate_limits.check(&ip, Some(&user.email))?;
    if !password::verify(current_password.to_string(), user.password_hash.clone()).await? {
        return Err(AppError::field(
            "current_password",
            "That is not your current password.",
        ));
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    if !clear_factor(&mut tx, user.id, now).await? {
        return Err(AppError::Conflict(
            "Two-step sign-in is already off for this account.".into(),
        ));
    }
    append(
        &mut tx,
        &entry("user.two_step_disabled", user.id, serde_json::json!({})),
        now,
    )
    .await?;
    tx.commit().await?;
    s.remove::<Vec<String>>(NEW_CODES_KEY)
        .await
        .map_err(store_err)?;
    Ok(())
}

/// The operator's reset for someone who lost both their app and their
/// recovery codes: two-step sign-in off, every session ended. Returns
/// false when it was off already.
pub async fn reset(db: &crate::db::Db, email: &str, now: i64) -> Result<bool, AppError> {
    let mut tx = db.begin_write().await?;
    let id: Option<i64> = sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
    let Some(id) = id else {
        return Err(AppError::NotFound);
    };
    let was_on = clear_factor(&mut tx, id, now).await?;
    db::delete_sessions_of(&mut tx, id).await?;
    if was_on {
        let mut e = entry(
            "user.two_step_reset",
            id,
            serde_json::json!({ "by": "operator" }),
        );
        e.actor_user_id = None;
        e.client_ip = String::new();
        append(&mut tx, &e, now).await?;
    }
    tx.commit().await?;
    Ok(was_on)
}
