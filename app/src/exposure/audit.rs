//! The outcome audit: once a week is over, each industry's first-party
//! (platform and affiliated) share of the top three positions of ranked
//! results is set beside its first-party share of published listings. A
//! share more than the policy's threshold times the listing share opens an
//! "exposure anomaly" case, the partners publishing there as parties.
//!
//! Every node runs the check after each flush of its counts (a few
//! seconds); the week's row for industry `''`, written in the same
//! transaction as the rest, settles which node checks it.

use super::{day_of, partner_halves, share_bp, week_of, DAY_MS, MIN_TOP_EVENTS, WEEKS};
use crate::audit::db::{append, NewEntry};
use crate::cases::db::NewCase;
use crate::db::Db;
use sqlx::{Any, Row, Transaction};

/// A week is checked this long after it ended, so that every node's
/// counts of its last minutes have been written.
pub const GRACE_MS: i64 = 10 * 60 * 1000;

/// Whether a week's counts in one industry are an anomaly. The mark is
/// public (the dashboard, the monthly report), so like the public shares
/// it reads the partners' top impressions only through their grain
/// (`partner_halves`): whatever a player knows of the platform's own
/// counts, the mark says nothing finer of the partners'. An anomaly is at
/// least `MIN_TOP_EVENTS` top impressions so estimated, and a first-party
/// share of them above `ratio_pct` hundredths of the first-party share of
/// published listings (any first-party top impression is, when no
/// first-party listing is published any more). Exact integer arithmetic.
pub fn is_anomaly(top: (i64, i64), listed: (i64, i64), ratio_pct: i64) -> bool {
    let top_fp = top.0.max(0);
    let (listed_fp, listed_partner) = (listed.0.max(0), listed.1.max(0));
    let top_total_2 = top_fp * 2 + partner_halves(top.1);
    if top_total_2 < MIN_TOP_EVENTS * 2 || top_fp == 0 {
        return false;
    }
    if listed_fp == 0 {
        return true;
    }
    let listed_total = i128::from(listed_fp + listed_partner);
    i128::from(top_fp) * 2 * 100 * listed_total
        > i128::from(ratio_pct) * i128::from(listed_fp) * i128::from(top_total_2)
}

/// The newest week whose check is due at `now`: its Monday (a day number).
pub fn last_due_week(now_ms: i64) -> i64 {
    week_of(day_of(now_ms - GRACE_MS)) - 7
}

/// One industry's row of a week's audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub week: i64,
    /// `''` for all industries.
    pub industry: String,
    pub top: (i64, i64),
    pub listed: (i64, i64),
    pub ratio_pct: i64,
    pub case_id: Option<i64>,
}

/// Checks every week that is due and not yet checked (at most the
/// dashboard's period back, and never before the first counted day).
/// Returns the cases opened.
pub async fn check_due(db: &Db, now_ms: i64) -> Result<Vec<i64>, sqlx::Error> {
    let due = last_due_week(now_ms);
    let row = sqlx::query(
        "SELECT (SELECT MAX(week) FROM exposure_audits WHERE industry = '') AS checked, \
                (SELECT MIN(day) FROM exposure_daily) AS first_day",
    )
    .fetch_one(db.pool())
    .await?;
    let checked: Option<i64> = row.try_get("checked")?;
    let Some(first_day) = row.try_get::<Option<i64>, _>("first_day")? else {
        return Ok(Vec::new());
    };
    let mut week = match checked {
        Some(w) => w + 7,
        None => week_of(first_day),
    }
    .max(due - 7 * (WEEKS - 1));
    let mut opened = Vec::new();
    while week <= due {
        opened.extend(check_week(db, week, now_ms).await?);
        week += 7;
    }
    Ok(opened)
}

/// Checks one week, unless another node already has.
async fn check_week(db: &Db, week: i64, now_ms: i64) -> Result<Vec<i64>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let ratio_pct: i64 =
        sqlx::query_scalar("SELECT anomaly_ratio_pct FROM policy_settings WHERE id = 1")
            .fetch_one(&mut **tx)
            .await?;
    let top = super::db::top_by_industry(&mut **tx, week, week + 7).await?;
    let listed = super::db::published_by_industry(&mut **tx).await?;
    let whole = Checked {
        week,
        industry: String::new(),
        top: super::db::total(&top),
        listed: super::db::total(&listed),
        ratio_pct,
        case_id: None,
    };
    if !insert(&mut tx, &whole, now_ms).await? {
        // Another node checked it.
        return Ok(Vec::new());
    }
    let mut opened = Vec::new();
    // Every industry with top impressions or published listings: the
    // report reads each week's listing shares from here.
    let industries: std::collections::BTreeSet<&String> = top.keys().chain(listed.keys()).collect();
    for industry in industries {
        let mut row = Checked {
            week,
            industry: industry.clone(),
            top: top.get(industry).copied().unwrap_or_default(),
            listed: listed.get(industry).copied().unwrap_or_default(),
            ratio_pct,
            case_id: None,
        };
        if is_anomaly(row.top, row.listed, ratio_pct) {
            let id = open_case(&mut tx, &row, now_ms).await?;
            row.case_id = Some(id);
            opened.push(id);
        }
        insert(&mut tx, &row, now_ms).await?;
    }
    tx.commit().await?;
    Ok(opened)
}

async fn insert(
    tx: &mut Transaction<'_, Any>,
    c: &Checked,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO exposure_audits (week, industry, top_first_party, top_partner, \
           listed_first_party, listed_partner, ratio_pct, case_id, checked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (week, industry) DO NOTHING",
    )
    .bind(c.week)
    .bind(&c.industry)
    .bind(c.top.0)
    .bind(c.top.1)
    .bind(c.listed.0)
    .bind(c.listed.1)
    .bind(c.ratio_pct)
    .bind(c.case_id)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn open_case(
    tx: &mut Transaction<'_, Any>,
    c: &Checked,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    let format = |bp: Option<i64>| super::format_share(bp);
    let date = crate::calendar::date(c.week * DAY_MS);
    let partners = crate::cases::db::partner_listings_in(tx, &c.industry).await?;
    let ours = crate::cases::db::first_party_listings_in(tx, &c.industry).await?;
    let mut orgs: Vec<i64> = partners.iter().map(|(_, o)| *o).collect();
    orgs.sort_unstable();
    orgs.dedup();
    let title = format!(
        "Exposure anomaly in {}: first-party listings held {} of the top three positions in the week of {date}, against {} of published listings",
        c.industry,
        format(share_bp(c.top.0, c.top.1)),
        format(share_bp(c.listed.0, c.listed.1)),
    );
    let case = NewCase {
        kind: "exposure_anomaly",
        severity: "high",
        title: title.clone(),
        industry: Some(c.industry.clone()),
        listing_id: None,
        opened_by: None,
        dedupe_key: Some(format!("exposure_anomaly:{}:{}", c.industry, c.week)),
        parties: orgs,
        listings: ours.iter().map(|(l, _)| *l).collect(),
    };
    let (id, new_parties) = crate::cases::db::open(tx, &case, now_ms).await?;
    crate::cases::service::notify_parties(
        tx,
        &new_parties,
        id,
        &format!("{title}. A referee reviews it as a conflict case."),
        now_ms,
    )
    .await?;
    append(
        tx,
        &NewEntry {
            actor_user_id: None,
            org_id: None,
            action: "exposure.anomaly".into(),
            target: format!("case:{id}"),
            client_ip: String::new(),
            details: serde_json::json!({
                "industry": c.industry,
                "week": date,
                "top_share_bp": share_bp(c.top.0, c.top.1),
                "listing_share_bp": share_bp(c.listed.0, c.listed.1),
                "threshold": crate::policy::format_ratio(c.ratio_pct),
            }),
        },
        now_ms,
    )
    .await?;
    Ok(id)
}

/// The audit's rows for the weeks from `from_week` up to (not including)
/// `to_week`.
pub async fn checked_between(
    db: &Db,
    from_week: i64,
    to_week: i64,
) -> Result<Vec<Checked>, sqlx::Error> {
    sqlx::query(
        "SELECT week, industry, top_first_party, top_partner, listed_first_party, listed_partner, \
                ratio_pct, case_id \
         FROM exposure_audits WHERE week >= $1 AND week < $2 ORDER BY week, industry",
    )
    .bind(from_week)
    .bind(to_week)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(Checked {
            week: r.try_get("week")?,
            industry: r.try_get("industry")?,
            top: (r.try_get("top_first_party")?, r.try_get("top_partner")?),
            listed: (
                r.try_get("listed_first_party")?,
                r.try_get("listed_partner")?,
            ),
            ratio_pct: r.try_get("ratio_pct")?,
            case_id: r.try_get("case_id")?,
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposure::PARTNER_GRAIN;

    #[test]
    fn an_anomaly_is_a_top_share_above_the_threshold_times_the_listing_share() {
        // One listing in four is first party (25 %): at 1.5 the line is
        // 37.5 %, of the first-party count plus the middle of the partners'
        // grain (60–69 counts as 64.5).
        assert!(!is_anomaly((38, 60), (1, 3), 150), "38 / 102.5 = 37.1 %");
        assert!(is_anomaly((39, 60), (1, 3), 150), "39 / 103.5 = 37.7 %");
        assert!(!is_anomaly((39, 60), (1, 3), 200), "under 50 %");
        assert!(!is_anomaly((39, 70), (1, 3), 150), "39 / 113.5 = 34.4 %");
        // Too few top impressions to judge: under 50 as estimated.
        assert!(!is_anomaly((45, 0), (1, 3), 150), "45 + 4.5");
        assert!(is_anomaly((46, 0), (1, 3), 150), "46 + 4.5");
        // No first-party impressions, or no partner listings to be unfair to
        // (a share of 100 % of listings can't be exceeded).
        assert!(!is_anomaly((0, 500), (1, 3), 150));
        assert!(!is_anomaly((500, 0), (4, 0), 101));
        // First-party listings gone from the catalogue but holding the top.
        assert!(is_anomaly((60, 40), (0, 3), 1_000));
        // Large counts do not overflow.
        assert!(is_anomaly((1 << 40, 1), (1, 1 << 40), 1_000));
    }

    #[test]
    fn the_public_mark_says_nothing_finer_than_the_partners_grain() {
        // Whatever the first-party counts, every partner count in one grain
        // gives the same mark; and the mark does change across grains, so
        // the grain is what hides the rest.
        let mut changed = false;
        for fp in 0..120 {
            for listed in [(1, 1), (1, 3), (2, 9)] {
                for partner in 0..300 {
                    let floor = partner / PARTNER_GRAIN * PARTNER_GRAIN;
                    let mark = is_anomaly((fp, partner), listed, 150);
                    assert_eq!(mark, is_anomaly((fp, floor), listed, 150), "{fp} {partner}");
                    changed |= mark != is_anomaly((fp, floor + PARTNER_GRAIN), listed, 150);
                }
            }
        }
        assert!(changed);
    }

    #[test]
    fn a_week_is_due_once_it_is_over_and_the_grace_has_passed() {
        // 2026-11-23 was a Monday.
        let monday = day_of(1_795_392_000_000);
        let next = (monday + 7) * DAY_MS;
        assert_eq!(last_due_week(next + GRACE_MS), monday);
        assert_eq!(last_due_week(next + GRACE_MS - 1), monday - 7);
        assert_eq!(last_due_week(next + 6 * DAY_MS), monday);
    }
}
