//! The monthly neutrality report: for one calendar month (UTC), the
//! first-party share of impressions, top positions, detail views and new
//! subscriptions per industry beside the share of published listings, the
//! weekly audits and their anomalies, the conflict cases opened and how
//! they stood at the month's end, the median time to a sign-off, referees'
//! reads of partner data and players' refused tries, and the audit chain's
//! head at the month's end.
//!
//! Once a month is over (and its last counts are written) the report is
//! published: its JSON is stored byte for byte and its SHA-256 is entered
//! in the audit log, so a partner who keeps a copy can check it later
//! against the chain. Until then it is computed on each visit and marked
//! provisional.

pub mod api;
#[cfg(feature = "ssr")]
pub mod report;
pub mod views;

use crate::exposure::Split;
use serde::{Deserialize, Serialize};

/// One industry's (or, with an empty slug, all industries') figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndustryFigures {
    pub industry: String,
    pub name: String,
    pub impressions: Split,
    /// Impressions in the top three places of ranked results.
    pub top: Split,
    pub views: Split,
    pub subscriptions: Split,
    /// First-party share of published listings, as the month's last weekly
    /// audit found it (for a provisional report without one: now).
    pub listing_share_bp: Option<i64>,
    /// Weeks ending in the month that were audited, and how many of them
    /// opened an exposure anomaly case.
    pub weeks_audited: i64,
    pub anomalies: i64,
}

/// Conflict cases of one kind opened in the month, and where they stood
/// at its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFigures {
    pub kind: String,
    pub opened: i64,
    pub resolved: i64,
    pub dismissed: i64,
    /// Neither resolved nor dismissed by the month's end.
    pub still_open: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeutralityReport {
    /// "2026-11".
    pub month: String,
    /// The month's first instant and the next month's, ms since the epoch.
    pub from: i64,
    pub to: i64,
    /// "provisional" while the month runs (computed on each visit, so a
    /// kept copy of it proves nothing), "published" in the stored copy
    /// whose SHA-256 is in the audit log.
    #[serde(default)]
    pub status: String,
    /// All industries first, then each industry with anything counted or
    /// audited, by name.
    pub industries: Vec<IndustryFigures>,
    /// The anomaly threshold in force when the report was made ("1.5").
    pub anomaly_threshold: String,
    pub cases: Vec<CaseFigures>,
    /// Sign-offs given in the month and the median time from a case's
    /// opening to its sign-off, ms.
    pub sign_offs: i64,
    pub median_sign_off_ms: Option<i64>,
    /// Referees' reads of partners' non-public data, and players' tries
    /// refused by the firewall.
    pub referee_reads: i64,
    pub player_refusals: i64,
    /// The audit log's last entry before the month's end: its position and
    /// hash (all zeros when there is none).
    pub audit_entries: i64,
    pub audit_head: String,
    /// When these figures were computed.
    pub made_at: i64,
}

/// A report as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportPage {
    pub report: NeutralityReport,
    /// Published: when, and the SHA-256 of its JSON download (also in the
    /// audit log). None while the month is not over: provisional.
    pub published: Option<(i64, String)>,
}

/// The months there are reports for, newest first: ("2026-11", published).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportIndex {
    pub months: Vec<(String, bool)>,
}

/// What a case kind is called in the report.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "first_party_overlap" => "First-party listing enters partners' industry",
        "partner_overlap" => "Partner listing beside first-party listings",
        "player_data_access" => "Player tried to read partner data",
        "policy_change" => "Policy change",
        "complaint" => "Partner complaint",
        "featured" => "First-party listing featured",
        "affiliation" => "Platform affiliation",
        "exposure_anomaly" => "Exposure anomaly",
        _ => "Other",
    }
}

/// The day numbers [first, next month's first) of "YYYY-MM"; None unless
/// it is a month from 2000-01 to 9999-12 written so.
pub fn month_days(month: &str) -> Option<(i64, i64)> {
    let b = month.as_bytes();
    if b.len() != 7
        || b[4] != b'-'
        || !month[..4]
            .bytes()
            .chain(month[5..].bytes())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let y: i64 = month[..4].parse().ok()?;
    let m: u32 = month[5..].parse().ok()?;
    if !(2000..=9999).contains(&y) || !(1..=12).contains(&m) {
        return None;
    }
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Some((
        crate::calendar::days_from_civil(y, m, 1),
        crate::calendar::days_from_civil(ny, nm, 1),
    ))
}

/// "2026-11" of the month an instant falls in.
pub fn month_of(ms: i64) -> String {
    let (y, m, _) = crate::calendar::civil_from_days(ms.div_euclid(crate::calendar::DAY_MS));
    format!("{y:04}-{m:02}")
}

/// The month before "YYYY-MM".
pub fn previous_month(month: &str) -> Option<String> {
    let (first, _) = month_days(month)?;
    Some(month_of((first - 1) * crate::calendar::DAY_MS))
}

/// The middle of a list of durations (the lower middle's and upper
/// middle's mean, rounded down, for an even count); None for none.
pub fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]).div_euclid(2)
    })
}

/// "3 d 4 h", "2 h 5 min", "40 min", "under a minute".
pub fn format_duration(ms: i64) -> String {
    let minutes = ms / 60_000;
    let (d, h, m) = (minutes / 1_440, minutes % 1_440 / 60, minutes % 60);
    match (d, h, m) {
        (0, 0, 0) => "under a minute".into(),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// The report as CSV: one line per figure, `section,industry,measure,value`.
/// Shares are percentages; a withheld share (too few events) is "withheld".
#[cfg(feature = "ssr")]
pub fn csv(r: &NeutralityReport, published: Option<&(i64, String)>) -> String {
    use crate::download::csv_cell as cell;
    let mut out = String::from("section,industry,measure,value\n");
    let mut line = |section: &str, industry: &str, measure: &str, value: String| {
        out.push_str(&format!(
            "{},{},{},{}\n",
            cell(section),
            cell(industry),
            cell(measure),
            cell(&value)
        ));
    };
    line("report", "", "month", r.month.clone());
    line(
        "report",
        "",
        "status",
        if published.is_some() {
            "published"
        } else {
            "provisional"
        }
        .into(),
    );
    let share = |s: &Split| {
        if s.suppressed {
            "withheld".to_string()
        } else {
            s.share_bp.map_or_else(String::new, |bp| {
                crate::policy::format_rate(bp).replace(' ', "")
            })
        }
    };
    for i in &r.industries {
        let slug = if i.industry.is_empty() {
            "all"
        } else {
            i.industry.as_str()
        };
        let listings = i.listing_share_bp.map_or_else(String::new, |bp| {
            crate::policy::format_rate(bp).replace(' ', "")
        });
        for (measure, value) in [
            ("impressions_first_party_share", share(&i.impressions)),
            ("top3_first_party_share", share(&i.top)),
            ("views_first_party_share", share(&i.views)),
            ("subscriptions_first_party_share", share(&i.subscriptions)),
            ("listings_first_party_share", listings),
            ("weeks_audited", i.weeks_audited.to_string()),
            ("anomalies", i.anomalies.to_string()),
        ] {
            line("exposure", slug, measure, value);
        }
    }
    line(
        "exposure",
        "",
        "anomaly_threshold",
        r.anomaly_threshold.clone(),
    );
    for c in &r.cases {
        for (what, n) in [
            ("opened", c.opened),
            ("resolved", c.resolved),
            ("dismissed", c.dismissed),
            ("still_open", c.still_open),
        ] {
            line("cases", "", &format!("{}_{what}", c.kind), n.to_string());
        }
    }
    line("sign_off", "", "sign_offs", r.sign_offs.to_string());
    line(
        "sign_off",
        "",
        "median_ms",
        r.median_sign_off_ms
            .map_or_else(String::new, |ms| ms.to_string()),
    );
    line("firewall", "", "referee_reads", r.referee_reads.to_string());
    line(
        "firewall",
        "",
        "player_refusals",
        r.player_refusals.to_string(),
    );
    line("audit", "", "entries", r.audit_entries.to_string());
    line("audit", "", "head", r.audit_head.clone());
    if let Some((_, sha)) = published {
        line("report", "", "json_sha256", sha.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_to_their_days() {
        let (from, to) = month_days("2026-11").unwrap();
        assert_eq!(
            crate::calendar::date(from * crate::calendar::DAY_MS),
            "2026-11-01"
        );
        assert_eq!(to - from, 30);
        assert_eq!(month_days("2026-12").map(|(f, t)| t - f), Some(31));
        assert_eq!(month_days("2024-02").map(|(f, t)| t - f), Some(29));
        for bad in [
            "2026-13",
            "2026-00",
            "1999-12",
            "2026-1",
            "2026/11",
            "２０２６-11",
            "2026-11x",
            "",
            "-202-11",
        ] {
            assert_eq!(month_days(bad), None, "{bad}");
        }
        assert_eq!(month_of(1_795_392_000_000), "2026-11");
        assert_eq!(previous_month("2026-01").as_deref(), Some("2025-12"));
    }

    #[test]
    fn medians_and_durations() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5, 1, 3]), Some(3));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2));
        assert_eq!(format_duration(30_000), "under a minute");
        assert_eq!(format_duration(40 * 60_000), "40 min");
        assert_eq!(format_duration(125 * 60_000), "2 h 5 min");
        assert_eq!(
            format_duration((3 * 1_440 + 4 * 60 + 7) * 60_000),
            "3 d 4 h"
        );
    }
}
