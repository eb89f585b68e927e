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
        ranking_notice_days: row.try_get("ranking_notice_days")?,
        anomaly_ratio_pct: row.try_get("anomaly_ratio_pct")?,
    })
}

const SELECT: &str = "SELECT non_compete, take_rate_bp, featured_slots, ranking_notice_days, \
     anomaly_ratio_pct FROM policy_settings WHERE id = 1";

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
        "UPDATE policy_settings SET non_compete = $1, take_rate_bp = $2, featured_slots = $3, \
         ranking_notice_days = $4, anomaly_ratio_pct = $5, updated_at = $6 WHERE id = 1",
    )
    .bind(i64::from(p.non_compete))
    .bind(p.take_rate_bp)
    .bind(i64::from(p.featured_slots))
    .bind(p.ranking_notice_days)
    .bind(p.anomaly_ratio_pct)
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
    // Every partner hears of it: the rules its listings are held to.
    let partners: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM organisations WHERE kind = 'partner' ORDER BY id")
            .fetch_all(&mut **tx)
            .await?;
    let message = format!(
        "The marketplace policy changed: {} from {} to {}. Reason given: {}",
        change.setting, change.before, change.after, change.reason
    );
    for org in partners {
        crate::notifications::db::notify(tx, org, "policy.changed", &message, "/policy", change.at)
            .await?;
    }
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

/// The take rate over time, to find the one in force at any instant.
pub struct RateHistory {
    current: i64,
    /// (when, the rate before the change), oldest first.
    changes: Vec<(i64, i64)>,
}

impl RateHistory {
    pub async fn load(db: &Db) -> Result<RateHistory, AppError> {
        let current = current(db).await?.take_rate_bp;
        let changes = sqlx::query(
            "SELECT at, before_value FROM policy_changes WHERE setting = 'take_rate_bp' ORDER BY at, id",
        )
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| -> Result<(i64, i64), AppError> {
            let before: String = r.try_get("before_value")?;
            let bp = before
                .parse()
                .map_err(|e| AppError::internal("policy history", e))?;
            Ok((r.try_get("at")?, bp))
        })
        .collect::<Result<_, _>>()?;
        Ok(RateHistory { current, changes })
    }

    /// The rate in force at `at`: the value a later change replaced, or
    /// today's when none came after.
    pub fn at(&self, at: i64) -> i64 {
        self.changes
            .iter()
            .find(|(when, _)| *when > at)
            .map_or(self.current, |(_, before)| *before)
    }
}
