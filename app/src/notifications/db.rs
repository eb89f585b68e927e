//! SQL for notifications.

use super::NotificationView;
use crate::db::Db;
use crate::error::AppError;
use sqlx::{Any, Transaction};

/// Adds a notification for every member of `org_id` to see.
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
    Ok(())
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
