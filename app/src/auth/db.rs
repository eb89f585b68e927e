//! SQL for users and their sessions.

use crate::db::{on_unique, Db, UniqueKey};
use crate::error::AppError;
use sqlx::{Any, Row, Transaction};

/// A user as the server sees it. Holds the password hash, so it is never
/// serialised or sent anywhere.
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    /// When the current address was proven by a link sent to it.
    pub email_verified_at: Option<i64>,
    /// When two-step sign-in was turned on; None while it is off.
    pub totp_enabled_at: Option<i64>,
}

fn user_from(row: &sqlx::any::AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        password_hash: row.try_get("password_hash")?,
        email_verified_at: row.try_get("email_verified_at")?,
        totp_enabled_at: row.try_get("totp_enabled_at")?,
    })
}

/// Inserts a user; a taken email becomes a field error on `email`, decided
/// by the constraint (not by an earlier lookup, which would race).
pub async fn insert_user(
    tx: &mut Transaction<'_, Any>,
    email: &str,
    display_name: &str,
    password_hash: &str,
    now_ms: i64,
) -> Result<i64, AppError> {
    let row = sqlx::query(
        "INSERT INTO users (email, display_name, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(email)
    .bind(display_name)
    .bind(password_hash)
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await
    .map_err(on_unique(&[USERS_EMAIL], || {
        AppError::field(
            "email",
            "An account with this email already exists. Sign in instead?",
        )
    }))?;
    Ok(row.try_get("id")?)
}

const USERS_EMAIL: UniqueKey = UniqueKey::new("users_email_key", "users.email");

pub async fn user_by_email(db: &Db, email: &str) -> Result<Option<UserRow>, AppError> {
    let row =
        sqlx::query("SELECT id, email, display_name, password_hash, email_verified_at, totp_enabled_at FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.as_ref().map(user_from).transpose()?)
}

pub async fn user_by_id(db: &Db, id: i64) -> Result<Option<UserRow>, AppError> {
    let row = sqlx::query(
        "SELECT id, email, display_name, password_hash, email_verified_at, totp_enabled_at FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.as_ref().map(user_from).transpose()?)
}

/// A user's columns and their memberships' (see `user_and_memberships`).
const USER_AND_MEMBERSHIPS: &str = "u.id, u.email, u.display_name, u.password_hash, \
     u.email_verified_at, u.totp_enabled_at, m.org_id, o.name, o.kind, m.role, m.staff_role";

/// The user and memberships in rows selecting `USER_AND_MEMBERSHIPS` from
/// users left-joined with memberships and organisations, oldest membership
/// first; None when the rows hold no user.
fn user_and_memberships(
    rows: &[sqlx::any::AnyRow],
) -> Result<Option<(UserRow, Vec<crate::orgs::db::Membership>)>, AppError> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    if first.try_get::<Option<i64>, _>("id")?.is_none() {
        return Ok(None);
    }
    let user = user_from(first)?;
    let mut memberships = Vec::with_capacity(rows.len());
    for row in rows {
        // A user with no organisation: one row, its membership columns NULL
        // (and, as with an inner join, a membership without its
        // organisation is no membership).
        if row.try_get::<Option<i64>, _>("org_id")?.is_some()
            && row.try_get::<Option<String>, _>("name")?.is_some()
        {
            memberships.push(crate::orgs::db::membership_from(row)?);
        }
    }
    Ok(Some((user, memberships)))
}

/// The user `id` and every organisation they belong to, oldest membership
/// first, in one query: what every signed-in page reads first (one trip to
/// the database instead of two).
pub async fn user_with_memberships(
    db: &Db,
    id: i64,
) -> Result<Option<(UserRow, Vec<crate::orgs::db::Membership>)>, AppError> {
    let rows = sqlx::query(&format!(
        "SELECT {USER_AND_MEMBERSHIPS} FROM users u \
         LEFT JOIN memberships m ON m.user_id = u.id \
         LEFT JOIN organisations o ON o.id = m.org_id \
         WHERE u.id = $1 ORDER BY m.created_at, m.id"
    ))
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    user_and_memberships(&rows)
}

/// A session as stored, read together with its user (see
/// `catalogue_version_and_session`).
pub struct StoredSession {
    /// The session's data, as the session layer would load it.
    pub data: std::collections::HashMap<String, serde_json::Value>,
    /// The user the row names, with their memberships; None when there is
    /// no such user.
    pub user: Option<(UserRow, Vec<crate::orgs::db::Membership>)>,
}

/// In one query: the catalogue version, and the session stored under `key`
/// (`session_store::key`) if it has not expired by `now`, with its user and
/// their memberships. A kept catalogue page needs exactly these for a
/// signed-in viewer, who would otherwise cost three trips to the database
/// (the version, the session, the user) against an anonymous visitor's one.
pub async fn catalogue_version_and_session(
    db: &Db,
    key: &str,
    now: i64,
) -> Result<(i64, Option<StoredSession>), AppError> {
    let rows = sqlx::query(&format!(
        "SELECT c.version, s.data, {USER_AND_MEMBERSHIPS} FROM catalogue_state c \
         LEFT JOIN sessions s ON s.id = $1 AND s.expires_at > $2 \
         LEFT JOIN users u ON u.id = s.user_id \
         LEFT JOIN memberships m ON m.user_id = u.id \
         LEFT JOIN organisations o ON o.id = m.org_id \
         WHERE c.id = 1 ORDER BY m.created_at, m.id"
    ))
    .bind(key)
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    let first = rows
        .first()
        .ok_or_else(|| AppError::internal("catalogue version", "no catalogue_state row"))?;
    let version: i64 = first.try_get("version")?;
    let Some(data) = first.try_get::<Option<String>, _>("data")? else {
        return Ok((version, None));
    };
    let data = serde_json::from_str(&data).map_err(|e| AppError::internal("session data", e))?;
    Ok((
        version,
        Some(StoredSession {
            data,
            user: user_and_memberships(&rows)?,
        }),
    ))
}

pub async fn set_password_hash(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    hash: &str,
    now_ms: i64,
) -> Result<(), AppError> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now_ms)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_display_name(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    name: &str,
    now_ms: i64,
) -> Result<(), AppError> {
    sqlx::query("UPDATE users SET display_name = $1, updated_at = $2 WHERE id = $3")
        .bind(name)
        .bind(now_ms)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ends every session of a user (on every device); returns how many.
pub async fn delete_sessions_of(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
) -> Result<u64, AppError> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// A user's live sessions: (stored id, data, created_at), newest first.
pub async fn sessions_of(
    db: &Db,
    user_id: i64,
    now_ms: i64,
) -> Result<Vec<(String, String, i64)>, AppError> {
    let rows = sqlx::query(
        "SELECT id, data, created_at FROM sessions WHERE user_id = $1 AND expires_at > $2 \
         ORDER BY created_at DESC, id",
    )
    .bind(user_id)
    .bind(now_ms)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok::<_, sqlx::Error>((
                r.try_get("id")?,
                r.try_get("data")?,
                r.try_get("created_at")?,
            ))
        })
        .collect::<Result<_, _>>()?)
}

/// Deletes one of the user's sessions by its stored id; whether it was one.
pub async fn delete_session_of(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    stored_id: &str,
) -> Result<bool, AppError> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(stored_id)
            .bind(user_id)
            .execute(&mut **tx)
            .await?
            .rows_affected()
            == 1,
    )
}
