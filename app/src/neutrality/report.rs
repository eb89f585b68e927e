//! Computing, publishing and serving the monthly neutrality report.

use super::{
    median, month_days, month_of, previous_month, CaseFigures, IndustryFigures, NeutralityReport,
    ReportIndex, ReportPage,
};
use crate::audit::db::{append, NewEntry};
use crate::calendar::DAY_MS;
use crate::db::Db;
use crate::error::AppError;
use crate::exposure::audit::{checked_between, Checked, GRACE_MS};
use crate::exposure::db::{published_by_industry, totals_between, with_total};
use crate::exposure::service::Counts;
use crate::exposure::{share_bp, week_of, Split};
use crate::state::AppState;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The first Monday on or after a day.
fn first_monday_from(day: i64) -> i64 {
    let w = week_of(day);
    if w == day {
        w
    } else {
        w + 7
    }
}

/// An industry's weekly audits in the month: how many, how many found an
/// anomaly, and the (first-party, partner) listings the last one counted.
#[derive(Debug, Clone, Copy, Default)]
struct Weeks {
    audited: i64,
    anomalies: i64,
    listed: Option<(i64, i64)>,
}

/// The figures of `month` from the database as it is now. `provisional`:
/// industries whose listing share no weekly audit of the month recorded
/// get today's.
pub async fn compute(
    db: &Db,
    month: &str,
    now_ms: i64,
    provisional: bool,
) -> Result<NeutralityReport, AppError> {
    let (from_day, to_day) = month_days(month).ok_or(AppError::NotFound)?;
    let (from, to) = (from_day * DAY_MS, to_day * DAY_MS);

    // Exposure: the month's days, per industry and publisher kind.
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    for t in totals_between(db, from_day, to_day).await? {
        counts.entry(String::new()).or_default().add(&t);
        counts.entry(t.industry.clone()).or_default().add(&t);
    }
    // The weekly audits of weeks ending in the month (all of them are due
    // by the time the report is published).
    let audits: Vec<Checked> = checked_between(
        db,
        first_monday_from(from_day - 6),
        first_monday_from(to_day - 6),
    )
    .await?;
    let mut weekly: BTreeMap<String, Weeks> = BTreeMap::new();
    for c in &audits {
        let e = weekly.entry(c.industry.clone()).or_default();
        e.audited += 1;
        e.anomalies += i64::from(c.case_id.is_some());
        // Oldest first: the last one stays.
        e.listed = Some(c.listed);
    }
    let now_listed = if provisional {
        with_total(published_by_industry(db.pool()).await?)
    } else {
        BTreeMap::new()
    };
    let names: HashMap<String, String> = crate::catalogue::db::industry_choices(db)
        .await?
        .into_iter()
        .map(|c| (c.value, c.label))
        .collect();
    let mut slugs: Vec<String> = counts.keys().chain(weekly.keys()).cloned().collect();
    slugs.push(String::new());
    slugs.sort();
    slugs.dedup();
    let name_of = |slug: &str| {
        if slug.is_empty() {
            "All industries".to_string()
        } else {
            names.get(slug).cloned().unwrap_or_else(|| slug.to_string())
        }
    };
    let mut industries: Vec<IndustryFigures> = slugs
        .iter()
        .map(|slug| {
            let c = counts.get(slug).copied().unwrap_or_default();
            let weeks = weekly.get(slug).copied().unwrap_or_default();
            let listed = weeks.listed.or_else(|| now_listed.get(slug).copied());
            let public = |pair: (i64, i64)| Split::new(pair.0, pair.1, false);
            IndustryFigures {
                industry: slug.clone(),
                name: name_of(slug),
                impressions: public(c.impressions),
                top: public(c.top),
                views: public(c.views),
                subscriptions: public(c.subscriptions),
                listing_share_bp: listed.and_then(|(f, p)| share_bp(f, p)),
                weeks_audited: weeks.audited,
                anomalies: weeks.anomalies,
            }
        })
        .collect();
    industries
        .sort_by(|a, b| (!a.industry.is_empty(), &a.name).cmp(&(!b.industry.is_empty(), &b.name)));

    // Cases opened in the month, and where they stood at its end.
    let ended: HashMap<String, String> = sqlx::query(
        "SELECT action, target FROM audit_log \
         WHERE action IN ('case.resolve', 'case.dismiss') AND occurred_at < $1",
    )
    .bind(to)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| Ok((r.try_get("target")?, r.try_get("action")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let mut kinds: BTreeMap<String, CaseFigures> = BTreeMap::new();
    for r in
        sqlx::query("SELECT id, kind FROM conflict_cases WHERE opened_at >= $1 AND opened_at < $2")
            .bind(from)
            .bind(to)
            .fetch_all(db.pool())
            .await?
    {
        let id: i64 = r.try_get("id")?;
        let kind: String = r.try_get("kind")?;
        let k = kinds.entry(kind.clone()).or_insert_with(|| CaseFigures {
            kind,
            opened: 0,
            resolved: 0,
            dismissed: 0,
            still_open: 0,
        });
        k.opened += 1;
        match ended.get(&format!("case:{id}")).map(String::as_str) {
            Some("case.resolve") => k.resolved += 1,
            Some("case.dismiss") => k.dismissed += 1,
            _ => k.still_open += 1,
        }
    }

    let mut sign_offs: Vec<i64> = sqlx::query(
        "SELECT opened_at, signed_off_at FROM conflict_cases \
         WHERE signed_off_at >= $1 AND signed_off_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| Ok(r.try_get::<i64, _>("signed_off_at")? - r.try_get::<i64, _>("opened_at")?))
    .collect::<Result<_, sqlx::Error>>()?;

    let mut referee_reads = 0;
    let mut player_refusals = 0;
    for r in sqlx::query(
        "SELECT outcome, COUNT(*) AS n FROM data_access_log WHERE at >= $1 AND at < $2 GROUP BY outcome",
    )
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?
    {
        let n: i64 = r.try_get("n")?;
        match r.try_get::<String, _>("outcome")?.as_str() {
            "read" => referee_reads = n,
            _ => player_refusals = n,
        }
    }

    let head = sqlx::query(
        "SELECT seq, hash FROM audit_log WHERE occurred_at < $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(to)
    .fetch_optional(db.pool())
    .await?;
    let (audit_entries, audit_head) = match head {
        Some(r) => (r.try_get("seq")?, r.try_get("hash")?),
        None => (0, ZERO_HASH.to_string()),
    };
    let threshold = crate::policy::db::current(db).await?.anomaly_ratio_pct;

    Ok(NeutralityReport {
        month: month.to_string(),
        from,
        to,
        status: if provisional {
            "provisional"
        } else {
            "published"
        }
        .into(),
        industries,
        anomaly_threshold: crate::policy::format_ratio(threshold),
        cases: kinds.into_values().collect(),
        sign_offs: sign_offs.len() as i64,
        median_sign_off_ms: median(&mut sign_offs),
        referee_reads,
        player_refusals,
        audit_entries,
        audit_head,
        made_at: now_ms,
    })
}

/// When the audit log's first entry was made: the marketplace's start.
async fn first_entry_at(db: &Db) -> Result<Option<i64>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT occurred_at FROM audit_log ORDER BY seq LIMIT 1")
            .fetch_optional(db.pool())
            .await?,
    )
}

/// The stored report of a month: (body, SHA-256, published at).
async fn stored(db: &Db, month: &str) -> Result<Option<(String, String, i64)>, AppError> {
    Ok(
        sqlx::query("SELECT body, sha256, published_at FROM neutrality_reports WHERE month = $1")
            .bind(month)
            .fetch_optional(db.pool())
            .await?
            .map(|r| -> Result<_, sqlx::Error> {
                Ok((
                    r.try_get("body")?,
                    r.try_get("sha256")?,
                    r.try_get("published_at")?,
                ))
            })
            .transpose()?,
    )
}

/// Publishes the last month that is over (by `GRACE_MS`, so every node's
/// counts are in), unless it is published already or the marketplace did
/// not exist yet at its end (no audit entry before it). Returns the month
/// published.
pub async fn publish_due(db: &Db, now_ms: i64) -> Result<Option<String>, AppError> {
    let Some(month) = previous_month(&month_of(now_ms - GRACE_MS)) else {
        return Ok(None);
    };
    let Some((_, to_day)) = month_days(&month) else {
        return Ok(None);
    };
    // Every few seconds on every node: two lookups by key.
    let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM neutrality_reports WHERE month = $1")
        .bind(&month)
        .fetch_one(db.pool())
        .await?;
    if done > 0 {
        return Ok(None);
    }
    let first = first_entry_at(db).await?;
    if first.is_none_or(|first| first >= to_day * DAY_MS) {
        return Ok(None);
    }
    let report = compute(db, &month, now_ms, false).await?;
    let body = serde_json::to_string(&report).map_err(|e| AppError::internal("report json", e))?;
    let sha = hex::encode(Sha256::digest(body.as_bytes()));
    let mut tx = db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO neutrality_reports (month, body, sha256, published_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (month) DO NOTHING",
    )
    .bind(&month)
    .bind(&body)
    .bind(&sha)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(None);
    }
    append(
        &mut tx,
        &NewEntry {
            actor_user_id: None,
            org_id: None,
            action: "neutrality_report.published".into(),
            target: format!("neutrality-report:{month}"),
            client_ip: String::new(),
            details: serde_json::json!({ "month": month, "sha256": sha }),
        },
        now_ms,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%month, sha256 = %sha, "neutrality report published");
    Ok(Some(month))
}

/// A month's report (public): the published one, or figures computed now
/// while the month is not over (or its report not yet made). Months that
/// have not begun are not found.
pub async fn page(state: &AppState, month: &str) -> Result<ReportPage, AppError> {
    let (from_day, _) = month_days(month.trim()).ok_or(AppError::NotFound)?;
    let now = state.clock.now_ms();
    if from_day * DAY_MS > now {
        return Err(AppError::NotFound);
    }
    if let Some((body, sha, at)) = stored(&state.db, month.trim()).await? {
        let report = serde_json::from_str(&body)
            .map_err(|e| AppError::internal("stored neutrality report", e))?;
        return Ok(ReportPage {
            report,
            published: Some((at, sha)),
        });
    }
    // This node's latest counts first.
    if let Err(err) = state.exposure.flush(&state.db).await {
        tracing::warn!(error = %err, "flushing exposure counts failed");
    }
    Ok(ReportPage {
        report: compute(&state.db, month.trim(), now, true).await?,
        published: None,
    })
}

/// The JSON download: the published bytes exactly (their SHA-256 is in
/// the audit log), or the provisional figures.
pub async fn json(state: &AppState, month: &str) -> Result<String, AppError> {
    if let Some((body, _, _)) = stored(&state.db, month.trim()).await? {
        return Ok(body);
    }
    let page = page(state, month).await?;
    serde_json::to_string(&page.report).map_err(|e| AppError::internal("report json", e))
}

/// The months with a report, newest first: from the marketplace's first
/// audit entry to now (at most 20 years).
pub async fn index(state: &AppState) -> Result<ReportIndex, AppError> {
    let now = state.clock.now_ms();
    let first = first_entry_at(&state.db).await?;
    let published: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT month FROM neutrality_reports")
            .fetch_all(state.db.pool())
            .await?
            .into_iter()
            .collect();
    let oldest = month_of(first.unwrap_or(now).min(now));
    let mut months = Vec::new();
    let mut m = month_of(now);
    while months.len() < 240 {
        months.push((m.clone(), published.contains(&m)));
        if m <= oldest {
            break;
        }
        match previous_month(&m) {
            Some(p) => m = p,
            None => break,
        }
    }
    Ok(ReportIndex { months })
}
