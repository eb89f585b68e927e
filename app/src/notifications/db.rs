//! SQL for notifications.

use super::NotificationView;
use crate::db::Db;
use crate::error::AppError;
use sqlx::{Any, Transaction};

/// Adds a notification for every member of `org_id` to see, and a
/// message in the outbox for each member whose address is confirmed (sent
/// when SMTP is set up; the link is made absolute when it is sent).
pub async fn notify(
    tx: &mut Transaction<'_, Any>,
    org_id: i64,
    kind: &str,
    message: &str,
    link: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notifications (org_id, kind, message, link, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(org_id)
    .bind(kind)
    .bind(message)
    .bind(link)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO outbox (org_id, to_email, subject, body, link, created_at) \
         SELECT $1, u.email, $2, $3, $4, $5 FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 AND u.email_verified_at IS NOT NULL ORDER BY u.id",
    )
    .bind(org_id)
    .bind(subject_of(kind))
    .bind(format!(
        "{message}\n\nYou receive this as a member of an organisation on Fairground; \
         every notice is also on its Notifications page."
    ))
    .bind(link)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A message's subject for each kind of notification: fixed text, never
/// anything typed by a user.
fn subject_of(kind: &str) -> &'static str {
    match kind {
        "base_model.deprecated" => "A base model your listings run on is deprecated",
        "conflict_case" => "A conflict case concerns your organisation",
        "policy.changed" => "The marketplace policy is changing",
        _ => "A notice from Fairground",
    }
}

/// The organisation's notifications, newest first.
pub async fn notifications(db: &Db, org_id: i64) -> Result<Vec<NotificationView>, AppError> {
    Ok(sqlx::query_as::<_, NotificationView>(
        "SELECT id, kind, message, link, created_at FROM notifications WHERE org_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT 100",
    )
    .bind(org_id)
    .fetch_all(db.pool())
    .await?)
}
