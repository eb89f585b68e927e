//! Turning two-step sign-in on and off on the account page, new recovery
//! codes, and the operator's reset.

use super::super::session::store_err;
use super::super::{db, password, session};
use super::super::{TotpSetup, TwoStepView};
use super::codes::{hash, qr, step_of_code};
use super::{entry, factor, take_step, NEW_CODES_KEY, SETUP_SECRET_KEY};
use super::{new_recovery_codes, new_secret, otpauth_uri};
use crate::audit::db::append;
use crate::auth::visit::Visit;
use crate::error::AppError;
use sqlx::{Any, Row, Transaction};

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

/// The account page's two-step section.
pub async fn view(visit: &Visit) -> Result<TwoStepView, AppError> {
    let (state, s) = (&visit.state, &visit.session);
    let user = super::session::require_user(&visit.state, &visit.session).await?;
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
async fn user_giving_code(visit: &Visit) -> Result<db::UserRow, AppError> {
    let user = super::session::require_user(&visit.state, &visit.session).await?;
    visit
        .state
        .rate_limits
        .check(
            &visit.origin.client_ip,
            Some(&format!("second-factor:{}", user.id)),
        )
        .await?;
    Ok(user)
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
pub async fn begin(visit: &Visit) -> Result<(), AppError> {
    let (state, s) = (&visit.state, &visit.session);
    let user = super::session::require_user(&visit.state, &visit.session).await?;
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
pub async fn confirm(visit: &Visit, code: &str) -> Result<(), AppError> {
    let (state, s) = (&visit.state, &visit.session);
    let user = user_giving_code(visit).await?;
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
            &visit.origin.client_ip,
            "user.two_step_enabled",
            user.id,
            serde_json::json!({ "sessions_ended": ended }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    session::start(&visit.state, &visit.session, &visit.origin, user.id).await?;
    session::mark_second_factor(state, s).await?;
    s.remove::<String>(SETUP_SECRET_KEY)
        .await
        .map_err(store_err)?;
    s.insert(NEW_CODES_KEY, codes).await.map_err(store_err)
}

/// New recovery codes in place of the old ones, for a current app code.
pub async fn replace_recovery_codes(visit: &Visit, code: &str) -> Result<(), AppError> {
    let (state, s) = (&visit.state, &visit.session);
    let user = user_giving_code(visit).await?;
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
            &visit.origin.client_ip,
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
pub async fn dismiss_codes(visit: &Visit) -> Result<(), AppError> {
    super::session::require_user(&visit.state, &visit.session).await?;
    visit
        .session
        .remove::<Vec<String>>(NEW_CODES_KEY)
        .await
        .map_err(store_err)?;
    Ok(())
}

/// Turns two-step sign-in off, for the current password. Platform staff
/// lose their staff powers until they turn it on again.
pub async fn turn_off(visit: &Visit, current_password: &str) -> Result<(), AppError> {
    let (state, s) = (&visit.state, &visit.session);
    let ip = &visit.origin.client_ip;
    let user = super::session::require_user(&visit.state, &visit.session).await?;
    state.rate_limits.check(ip, Some(&user.email)).await?;
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
        &entry(ip, "user.two_step_disabled", user.id, serde_json::json!({})),
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
            "",
            "user.two_step_reset",
            id,
            serde_json::json!({ "by": "operator" }),
        );
        e.actor_user_id = None;
        append(&mut tx, &e, now).await?;
    }
    tx.commit().await?;
    Ok(was_on)
}
