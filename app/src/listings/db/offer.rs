//! SQL for a listing's deployments and plans.

use sqlx::{Any, Row, Transaction};

#[allow(clippy::too_many_arguments)]
pub async fn insert_deployment(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    base_model_id: i64,
    revision: &str,
    status: &str,
    eval_score: Option<i64>,
    is_default: bool,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    if is_default {
        sqlx::query("UPDATE deployments SET is_default = 0 WHERE listing_id = $1")
            .bind(listing_id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE listings SET base_model_id = $1 WHERE id = $2")
            .bind(base_model_id)
            .bind(listing_id)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO deployments (listing_id, base_model_id, revision, status, eval_score, is_default, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(listing_id)
    .bind(base_model_id)
    .bind(revision)
    .bind(status)
    .bind(eval_score)
    .bind(i64::from(is_default))
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")
}

/// A deployment of the listing: (base model label, is default), or None.
pub async fn deployment_in(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    deployment_id: i64,
) -> Result<Option<(i64, String, bool)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT d.base_model_id, b.name, b.version, d.revision, d.is_default \
         FROM deployments d JOIN base_models b ON b.id = d.base_model_id \
         WHERE d.id = $1 AND d.listing_id = $2",
    )
    .bind(deployment_id)
    .bind(listing_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| -> Result<_, sqlx::Error> {
        let name: String = r.try_get("name")?;
        let version: String = r.try_get("version")?;
        let revision: String = r.try_get("revision")?;
        let is_default: i64 = r.try_get("is_default")?;
        Ok((
            r.try_get("base_model_id")?,
            format!("{name} {version} ({revision})"),
            is_default == 1,
        ))
    })
    .transpose()
}

pub async fn make_default(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    deployment_id: i64,
    base_model_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE deployments SET is_default = 0 WHERE listing_id = $1")
        .bind(listing_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE deployments SET is_default = 1 WHERE id = $1")
        .bind(deployment_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE listings SET base_model_id = $1 WHERE id = $2")
        .bind(base_model_id)
        .bind(listing_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn delete_deployment(
    tx: &mut Transaction<'_, Any>,
    deployment_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM deployments WHERE id = $1")
        .bind(deployment_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub struct NewPlan<'a> {
    pub name: &'a str,
    pub monthly_fee_minor: i64,
    pub currency: &'a str,
    pub included_calls: i64,
    pub overage_per_1000_minor: i64,
}

/// A taken name is a unique violation on `plans_listing_name_key`.
pub async fn insert_plan(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    p: &NewPlan<'_>,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO plans (listing_id, name, monthly_fee_minor, currency, included_calls, \
                            overage_per_1000_minor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(listing_id)
    .bind(p.name)
    .bind(p.monthly_fee_minor)
    .bind(p.currency)
    .bind(p.included_calls)
    .bind(p.overage_per_1000_minor)
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")
}

/// Deactivates an active plan of the listing; its name, or None.
pub async fn deactivate_plan(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    plan_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    let row =
        sqlx::query("SELECT name FROM plans WHERE id = $1 AND listing_id = $2 AND active = 1")
            .bind(plan_id)
            .bind(listing_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(row) = row else { return Ok(None) };
    sqlx::query("UPDATE plans SET active = 0 WHERE id = $1")
        .bind(plan_id)
        .execute(&mut **tx)
        .await?;
    Ok(Some(row.try_get("name")?))
}

/// (active plans, deployments) of a listing.
pub async fn plan_and_deployment_counts(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM plans WHERE listing_id = $1 AND active = 1) AS plans, \
                (SELECT COUNT(*) FROM deployments WHERE listing_id = $1) AS deployments",
    )
    .bind(listing_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok((row.try_get("plans")?, row.try_get("deployments")?))
}
