//! SQL for the policy settings and their history.

use super::{Policy, PolicyChange};
use crate::db::Db;
use crate::error::AppError;
use sqlx::{Any, Row, Transaction};

fn policy_from(row: &sqlx::any::AnyRow) -> Result<Policy, sqlx::Error> {
    Ok(Policy {
        non_compete: row.try_get::<i64, _>("non_compete")? == 1,
        take_rate_bp: row.try_get("take_rate_bp")?,
        featured_slots: row.try_get::<i64, _>("featured_slots")? == 1,
    })
}

const SELECT: &str =
    "SELECT non_compete, take_rate_bp, featured_slots FROM policy_settings WHERE id = 1";

pub async fn current(db: &Db) -> Result<Policy, AppError> {
    Ok(policy_from(
        &sqlx::query(SELECT).fetch_one(db.pool()).await?,
    )?)
}

/// The settings, read inside a write transaction (so concurrent changes
/// queue behind it).
pub async fn current_in(tx: &mut Transaction<'_, Any>) -> Result<Policy, sqlx::Error> {
    sqlx::query("UPDATE policy_settings SET updated_at = updated_at WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    policy_from(&sqlx::query(SELECT).fetch_one(&mut **tx).await?)
}

pub async fn save(
    tx: &mut Transaction<'_, Any>,
    p: &Policy,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE policy_settings SET non_compete = $1, take_rate_bp = $2, featured_slots = $3, updated_at = $4 WHERE id = 1",
    )
    .bind(i64::from(p.non_compete))
    .bind(p.take_rate_bp)
    .bind(i64::from(p.featured_slots))
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn record_change(
    tx: &mut Transaction<'_, Any>,
    actor_user_id: i64,
    change: &PolicyChange,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO policy_changes (actor_user_id, setting, before_value, after_value, reason, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(actor_user_id)
    .bind(&change.setting)
    .bind(&change.before)
    .bind(&change.after)
    .bind(&change.reason)
    .bind(change.at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every change, newest first.
pub async fn changes(db: &Db) -> Result<Vec<PolicyChange>, AppError> {
    Ok(sqlx::query(
        "SELECT setting, before_value, after_value, reason, at FROM policy_changes ORDER BY at DESC, id DESC",
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| -> Result<PolicyChange, sqlx::Error> {
        Ok(PolicyChange {
            setting: r.try_get("setting")?,
            before: r.try_get("before_value")?,
            after: r.try_get("after_value")?,
            reason: r.try_get("reason")?,
            at: r.try_get("at")?,
        })
    })
    .collect::<Result<_, _>>()?)
}

/// (entries, head hash) of the audit log.
pub async fn audit_head(db: &Db) -> Result<(i64, String), AppError> {
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    Ok((row.try_get("seq")?, row.try_get("hash")?))
}
