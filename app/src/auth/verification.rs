//! Proving an email address: a single-use link, valid for two days, sent
//! to the address (through the outbox). Becoming platform staff needs a
//! proven address, so nobody can sign up as someone else in advance and be
//! made a referee in their place.

use crate::audit::db::{append, NewEntry};
use crate::auth::visit::Visit;
use crate::error::AppError;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};

/// How long a verification link works.
pub const LINK_HOURS: i64 = 48;
/// A new link may be asked for this often, at most.
pub const RESEND_AFTER_MS: i64 = 60_000;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Writes a verification link for `email` to the outbox; its token (for
/// tests and the operator's outbox listing, never shown on a page).
pub async fn send_link(
    tx: &mut Transaction<'_, Any>,
    site: &str,
    user_id: i64,
    email: &str,
    now: i64,
) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    sqlx::query(
        "INSERT INTO email_verifications (token_hash, user_id, email, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash(&token))
    .bind(user_id)
    .bind(email)
    .bind(now)
    .bind(now + LINK_HOURS * 3_600_000)
    .execute(&mut **tx)
    .await?;
    let link = format!("{}/verify-email/{token}", site.trim_end_matches('/'));
    let body = format!(
        "Confirm that this address is yours by opening this link within {LINK_HOURS} hours:\n{link}\n\n\
         If you did not create a Fairground account, ignore this message.\n"
    );
    crate::orgs::db::insert_outbox(tx, None, email, "Confirm your email address", &body, now)
        .await?;
    Ok(token)
}

/// When the user's current address was proven, if it was.
pub async fn verified_at(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
) -> Result<Option<i64>, AppError> {
    Ok(
        sqlx::query("SELECT email_verified_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get::<Option<i64>, _>("email_verified_at"))
            .transpose()?
            .flatten(),
    )
}

/// Uses a link: the address it was sent to is proven, if it is still the
/// account's address. Works once, before it expires, signed in or not.
pub async fn confirm(visit: &Visit, token: &str) -> Result<(), AppError> {
    let state = &visit.state;
    let now = state.clock.now_ms();
    let spent = || {
        AppError::Conflict(
            "This link has been used or has expired. Sign in and ask for a new one on your account page."
                .into(),
        )
    };
    let mut tx = state.db.begin_write().await?;
    let row = sqlx::query(
        "SELECT user_id, email FROM email_verifications \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(hash(token.trim()))
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(spent)?;
    let user_id: i64 = row.try_get("user_id")?;
    let email: String = row.try_get("email")?;
    let used = sqlx::query(
        "UPDATE email_verifications SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
    )
    .bind(hash(token.trim()))
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if used != 1 {
        return Err(spent());
    }
    let proven = sqlx::query(
        "UPDATE users SET email_verified_at = $3, updated_at = $3 \
         WHERE id = $1 AND email = $2 AND email_verified_at IS NULL",
    )
    .bind(user_id)
    .bind(&email)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if proven == 1 {
        append(
            &mut tx,
            &NewEntry {
                actor_user_id: Some(user_id),
                org_id: None,
                action: "user.email_verified".into(),
                target: format!("user:{user_id}"),
                client_ip: visit.origin.client_ip.clone(),
                details: serde_json::json!({}),
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sends the signed-in person a new link (once a minute at most); an
/// address already proven needs none.
pub async fn resend(visit: &Visit) -> Result<(), AppError> {
    let state = &visit.state;
    let site = &visit.origin.site_url;
    let user = super::session::require_user(&visit.state, &visit.session).await?;
    let user_id = user.id;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    if verified_at(&mut tx, user_id).await?.is_some() {
        return Err(AppError::Conflict(
            "Your address is already confirmed.".into(),
        ));
    }
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(created_at) FROM email_verifications WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&mut **tx)
            .await?;
    if let Some(wait) = last.map(|t| t + RESEND_AFTER_MS - now).filter(|w| *w > 0) {
        return Err(AppError::RateLimited {
            retry_after_secs: (wait as u64).div_ceil(1000),
        });
    }
    send_link(&mut tx, site, user_id, &user.email, now).await?;
    tx.commit().await?;
    Ok(())
}
