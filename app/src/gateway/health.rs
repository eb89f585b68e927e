//! Per-deployment health of gateway traffic: calls, errors, upstream
//! latency p50/p99 and the last call, over the last `HEALTH_DAYS` days.

use super::{DeploymentHealth, HEALTH_DAYS};
use crate::db::Db;
use sqlx::Row;
use std::collections::BTreeMap;

/// The nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// Every deployment of a publisher's listings (one listing's when given),
/// with its traffic from `now` back `HEALTH_DAYS` days.
pub async fn of_publisher(
    db: &Db,
    publisher: i64,
    listing: Option<i64>,
    now: i64,
) -> Result<Vec<DeploymentHealth>, sqlx::Error> {
    let since = now - HEALTH_DAYS * 86_400_000;
    let deployments = sqlx::query(
        "SELECT d.id, l.id AS listing_id, l.name, l.slug, b.slug AS base \
         FROM deployments d JOIN listings l ON l.id = d.listing_id \
         JOIN base_models b ON b.id = d.base_model_id \
         WHERE l.org_id = $1 AND ($2 = 0 OR l.id = $2) \
         ORDER BY l.name, l.id, d.is_default DESC, b.provider, b.name, b.version, d.revision",
    )
    .bind(publisher)
    .bind(listing.unwrap_or(0))
    .fetch_all(db.pool())
    .await?;
    let calls = sqlx::query(
        "SELECT g.deployment_id, g.billable, g.upstream_ms, g.occurred_at \
         FROM gateway_calls g JOIN deployments d ON d.id = g.deployment_id \
         JOIN listings l ON l.id = d.listing_id \
         WHERE l.org_id = $1 AND ($2 = 0 OR l.id = $2) AND g.occurred_at >= $3",
    )
    .bind(publisher)
    .bind(listing.unwrap_or(0))
    .bind(since)
    .fetch_all(db.pool())
    .await?;
    // (calls, errors, latencies, last) per deployment.
    let mut seen: BTreeMap<i64, (i64, i64, Vec<i64>, Option<i64>)> = BTreeMap::new();
    for r in &calls {
        let d: i64 = r.try_get("deployment_id")?;
        let e = seen.entry(d).or_default();
        e.0 += 1;
        if r.try_get::<i64, _>("billable")? == 0 {
            e.1 += 1;
        }
        e.2.push(r.try_get("upstream_ms")?);
        let at: i64 = r.try_get("occurred_at")?;
        e.3 = Some(e.3.map_or(at, |l: i64| l.max(at)));
    }
    deployments
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let slug: String = r.try_get("slug")?;
            let base: String = r.try_get("base")?;
            let (calls, errors, mut lat, last) = seen.remove(&id).unwrap_or_default();
            lat.sort_unstable();
            Ok(DeploymentHealth {
                deployment_id: id,
                listing_id: r.try_get("listing_id")?,
                listing_name: r.try_get("name")?,
                label: format!("{slug}@{base}"),
                calls,
                errors,
                p50_ms: percentile(&lat, 50.0),
                p99_ms: percentile(&lat, 99.0),
                last_call: last,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
