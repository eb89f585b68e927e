//! SQL for exposure counts.

use crate::db::Db;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

/// Adds counts to the daily totals (several nodes add to the same rows).
pub async fn add_counts(
    db: &Db,
    counts: &HashMap<(i64, i64), super::DayCounts>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    for ((day, listing), n) in counts {
        sqlx::query(
            "INSERT INTO exposure_daily (day, listing_id, impressions, views, top_impressions) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (day, listing_id) DO UPDATE SET \
               impressions = exposure_daily.impressions + excluded.impressions, \
               views = exposure_daily.views + excluded.views, \
               top_impressions = exposure_daily.top_impressions + excluded.top_impressions",
        )
        .bind(*day)
        .bind(*listing)
        .bind(n.impressions)
        .bind(n.views)
        .bind(n.top)
        .execute(&mut **tx)
        .await?;
    }
    tx.commit().await
}

/// Totals from `from_day` on, per day, industry and kind of publisher:
/// impressions and views, and (in rows of their own) new subscriptions.
pub struct DayTotals {
    pub day: i64,
    pub industry: String,
    pub platform: bool,
    pub impressions: i64,
    pub views: i64,
    pub top: i64,
    pub subscriptions: i64,
}

pub async fn totals_since(db: &Db, from_day: i64) -> Result<Vec<DayTotals>, sqlx::Error> {
    totals_between(db, from_day, i64::MAX / super::DAY_MS).await
}

/// Totals of the days from `from_day` up to (not including) `to_day`.
pub async fn totals_between(
    db: &Db,
    from_day: i64,
    to_day: i64,
) -> Result<Vec<DayTotals>, sqlx::Error> {
    sqlx::query(
        &format!("SELECT e.day AS day, l.industry, CASE WHEN {fp} THEN 1 ELSE 0 END AS fp, \
                CAST(SUM(e.impressions) AS BIGINT) AS impressions, CAST(SUM(e.views) AS BIGINT) AS views, \
                CAST(SUM(e.top_impressions) AS BIGINT) AS top, CAST(0 AS BIGINT) AS subscriptions \
         FROM exposure_daily e \
         JOIN listings l ON l.id = e.listing_id \
         JOIN organisations o ON o.id = l.org_id \
         WHERE e.day >= $1 AND e.day < $2 \
         GROUP BY e.day, l.industry, CASE WHEN {fp} THEN 1 ELSE 0 END \
         UNION ALL \
         SELECT s.started_at / 86400000 AS day, l.industry, CASE WHEN {fp} THEN 1 ELSE 0 END, \
                CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(COUNT(*) AS BIGINT) \
         FROM subscriptions s \
         JOIN listings l ON l.id = s.listing_id \
         JOIN organisations o ON o.id = l.org_id \
         WHERE s.started_at >= $3 AND s.started_at < $4 \
         GROUP BY s.started_at / 86400000, l.industry, CASE WHEN {fp} THEN 1 ELSE 0 END",
        fp = crate::orgs::FIRST_PARTY
    ))
    .bind(from_day)
    .bind(to_day)
    .bind(from_day * super::DAY_MS)
    .bind(to_day.saturating_mul(super::DAY_MS))
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(DayTotals {
            day: r.try_get("day")?,
            industry: r.try_get("industry")?,
            platform: r.try_get::<i64, _>("fp")? == 1,
            impressions: r.try_get("impressions")?,
            views: r.try_get("views")?,
            top: r.try_get("top")?,
            subscriptions: r.try_get("subscriptions")?,
        })
    })
    .collect()
}

/// (first-party, partner) per industry from rows of `industry`, `fp`
/// (1 for first party) and `n`.
pub type PerIndustry = BTreeMap<String, (i64, i64)>;

fn per_industry(rows: &[sqlx::any::AnyRow]) -> Result<PerIndustry, sqlx::Error> {
    let mut out = PerIndustry::new();
    for r in rows {
        let n: i64 = r.try_get("n")?;
        let e = out.entry(r.try_get("industry")?).or_default();
        if r.try_get::<i64, _>("fp")? == 1 {
            e.0 += n;
        } else {
            e.1 += n;
        }
    }
    Ok(out)
}

/// All industries together.
pub fn total(m: &PerIndustry) -> (i64, i64) {
    m.values().fold((0, 0), |acc, n| (acc.0 + n.0, acc.1 + n.1))
}

/// The same pairs with all industries together under `""`.
pub fn with_total(mut m: PerIndustry) -> PerIndustry {
    let all = total(&m);
    m.insert(String::new(), all);
    m
}

/// Published listings per industry: (first-party, partner).
pub async fn published_by_industry<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
) -> Result<PerIndustry, sqlx::Error> {
    per_industry(
        &sqlx::query(&format!(
            "SELECT l.industry, CASE WHEN {fp} THEN 1 ELSE 0 END AS fp, COUNT(*) AS n FROM listings l \
             JOIN organisations o ON o.id = l.org_id \
             WHERE l.status = 'published' GROUP BY l.industry, CASE WHEN {fp} THEN 1 ELSE 0 END",
            fp = crate::orgs::FIRST_PARTY
        ))
        .fetch_all(db)
        .await?,
    )
}

/// Top-position impressions per industry of the days from `from_day` up
/// to (not including) `to_day`: (first-party, partner).
pub async fn top_by_industry<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    from_day: i64,
    to_day: i64,
) -> Result<PerIndustry, sqlx::Error> {
    per_industry(
        &sqlx::query(&format!(
            "SELECT l.industry, CASE WHEN {fp} THEN 1 ELSE 0 END AS fp, \
                    CAST(SUM(e.top_impressions) AS BIGINT) AS n \
             FROM exposure_daily e JOIN listings l ON l.id = e.listing_id \
             JOIN organisations o ON o.id = l.org_id \
             WHERE e.day >= $1 AND e.day < $2 \
             GROUP BY l.industry, CASE WHEN {fp} THEN 1 ELSE 0 END",
            fp = crate::orgs::FIRST_PARTY
        ))
        .bind(from_day)
        .bind(to_day)
        .fetch_all(db)
        .await?,
    )
}

/// The gateway's overhead as a histogram: (week's Monday as a day number,
/// first-party, bucket, calls), from `from_day` on.
pub async fn overhead_histogram(
    db: &Db,
    from_day: i64,
) -> Result<Vec<(i64, bool, i64, i64)>, sqlx::Error> {
    use sqlx::Row;
    sqlx::query(&format!(
        "SELECT x.week, x.platform, x.bucket, CAST(COUNT(*) AS BIGINT) AS calls FROM ( \
           SELECT (g.occurred_at / 86400000) - ((g.occurred_at / 86400000 + 3) % 7) AS week, \
                  CASE WHEN {fp} THEN 1 ELSE 0 END AS platform, \
                  CASE WHEN g.overhead_us / {b} >= {n} THEN {last} ELSE g.overhead_us / {b} END AS bucket \
           FROM gateway_calls g JOIN deployments d ON d.id = g.deployment_id \
           JOIN listings l ON l.id = d.listing_id JOIN organisations o ON o.id = l.org_id \
           WHERE g.occurred_at >= $1 \
         ) x GROUP BY x.week, x.platform, x.bucket",
        b = super::OVERHEAD_BUCKET_US,
        n = super::OVERHEAD_BUCKETS,
        last = super::OVERHEAD_BUCKETS - 1,
        fp = crate::orgs::FIRST_PARTY,
    ))
    .bind(from_day * super::DAY_MS)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("week")?,
            r.try_get::<i64, _>("platform")? == 1,
            r.try_get("bucket")?,
            r.try_get("calls")?,
        ))
    })
    .collect()
}
