//! Exposure: how much of the catalogue's attention went to the platform's
//! own listings and how much to partners', per industry and week, so that
//! self-preferencing would show in the numbers.
//!
//! A listing shown in catalogue results (search, browse, the home page, the
//! featured strip) is an *impression*; a listing page or compare column opened
//! by someone outside its publisher is a *detail view*; a subscription
//! started is a *new subscription*. Counting happens per
//! request and per node in memory (`tally`), and reaches the database every
//! few seconds; anonymous pages served from the page cache are counted too.

pub mod api;
#[cfg(feature = "ssr")]
pub mod audit;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod record;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod tally;
pub mod views;

use crate::ui::fields::Choice;
use serde::{Deserialize, Serialize};

/// Places of ranked results the outcome audit calls the top positions.
pub const TOP_PLACES: usize = 3;
/// A week's top-position impressions in an industry below this many are
/// too few to judge: no anomaly case is opened on them.
pub const MIN_TOP_EVENTS: i64 = 50;

/// One listing's counts on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub impressions: i64,
    pub views: i64,
    /// Impressions in the top places of ranked results.
    pub top: i64,
}

/// Weeks the dashboard covers, the current one included.
pub const WEEKS: i64 = 12;
pub use crate::calendar::DAY_MS;

/// Days since 1970-01-01 (UTC) of an instant.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// The Monday (UTC) starting the week a day falls in, as a day number.
/// 1970-01-01 was a Thursday, three days after a Monday.
pub fn week_of(day: i64) -> i64 {
    day - (day + 3).rem_euclid(7)
}

/// The first-party part of a total, in basis points, rounded half up;
/// `None` when nothing was counted (no share to speak of).
pub fn share_bp(first_party: i64, partner: i64) -> Option<i64> {
    let total = first_party + partner;
    (total > 0).then(|| (first_party * 20_000 + total) / (2 * total))
}

/// A cell whose estimated total (below) is smaller is not published.
pub const PUBLIC_MIN_EVENTS: i64 = 50;
/// The public share is computed with the partners' count known only to
/// this grain: 0–9, 10–19, ... each counted as its middle (4.5, 14.5...).
pub const PARTNER_GRAIN: i64 = 10;

/// The partners' count as the public figures see it, in halves (to count
/// a grain's middle exactly): 0–9 is 9 (4.5), 10–19 is 29 (14.5)...
pub fn partner_halves(partner: i64) -> i64 {
    (partner.max(0) / PARTNER_GRAIN) * PARTNER_GRAIN * 2 + (PARTNER_GRAIN - 1)
}

/// One measure split by publisher. Counts are only sent to referees.
///
/// The public summary must not give away the partners' counts to someone
/// who knows the platform's own (a player does): an exact share beside
/// them would, and in an industry with one partner that is the partner's
/// own figure (its new subscriptions). So what is published depends on the
/// partners' count only through its grain of `PARTNER_GRAIN`: the share
/// (whole percent) of the first-party count in the first-party count plus
/// the middle of the partners' grain, and nothing when that estimated
/// total is under `PUBLIC_MIN_EVENTS`. Whatever the platform knows of its
/// own, at least ten partner counts publish the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Split {
    pub share_bp: Option<i64>,
    pub first_party: Option<i64>,
    pub partner: Option<i64>,
    /// Public: too few events for a share (nothing is said of how few).
    #[serde(default)]
    pub suppressed: bool,
}

impl Split {
    pub fn new(first_party: i64, partner: i64, detailed: bool) -> Split {
        if detailed {
            return Split {
                share_bp: share_bp(first_party, partner),
                first_party: Some(first_party),
                partner: Some(partner),
                suppressed: false,
            };
        }
        let total_2 = first_party.max(0) * 2 + partner_halves(partner);
        if total_2 < PUBLIC_MIN_EVENTS * 2 {
            return Split {
                suppressed: true,
                ..Split::default()
            };
        }
        // Whole percent, rounded half up.
        let percent = (first_party.max(0) * 2 * 100 * 2 + total_2) / (2 * total_2);
        Split {
            share_bp: Some(percent * 100),
            first_party: None,
            partner: None,
            suppressed: false,
        }
    }
}

/// One industry (or all of them) in one week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureRow {
    /// The week's Monday, ms since the epoch (UTC).
    pub week: i64,
    /// Industry slug; empty for all industries together.
    pub industry: String,
    pub industry_name: String,
    pub impressions: Split,
    /// Impressions in the top three places of ranked results.
    #[serde(default)]
    pub top: Split,
    pub views: Split,
    pub subscriptions: Split,
    /// First-party share of the published listings, as the week's audit
    /// found it (for weeks not yet audited: now).
    #[serde(default)]
    pub listing_share_bp: Option<i64>,
    /// The week's audit found the top-position share above the policy's
    /// threshold and opened an "exposure anomaly" case.
    #[serde(default)]
    pub anomaly: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureData {
    /// The industry shown (slug), empty for all.
    pub industry: String,
    pub industries: Vec<Choice>,
    /// The chart's series: the chosen industry (or all), one row per week,
    /// oldest first, every week of the period present.
    pub series: Vec<ExposureRow>,
    /// The table: per industry and week with anything counted, newest week first.
    pub rows: Vec<ExposureRow>,
    /// First-party share of the chosen industry's published listings now:
    /// the baseline a neutral catalogue's exposure shares hover around.
    pub listing_share_bp: Option<i64>,
    /// The viewer is a referee and sees counts, not only shares.
    pub detailed: bool,
    /// The gateway's own added latency, first-party vs partner deployments,
    /// per week with calls (all industries), newest first.
    pub overhead: Vec<OverheadRow>,
}

/// The gateway's overhead in one week: p50 and p99 in microseconds (to the
/// 100 µs above), for calls to first-party (and, for referees, the call
/// counts) and to partner deployments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverheadRow {
    /// The week's Monday, ms since the epoch (UTC).
    pub week: i64,
    pub first_party: Option<(i64, i64)>,
    pub partner: Option<(i64, i64)>,
    pub first_party_calls: Option<i64>,
    pub partner_calls: Option<i64>,
}

/// Width of the overhead histogram's buckets, microseconds.
pub const OVERHEAD_BUCKET_US: i64 = 100;
/// Buckets kept; slower calls fall in the last.
pub const OVERHEAD_BUCKETS: i64 = 1_000;

/// p50 and p99 (upper bucket edges, µs) of a histogram of (bucket, count).
pub fn histogram_percentiles(buckets: &[(i64, i64)]) -> Option<(i64, i64)> {
    let total: i64 = buckets.iter().map(|(_, n)| n).sum();
    if total <= 0 {
        return None;
    }
    let mut sorted = buckets.to_vec();
    sorted.sort_unstable();
    let at = |p: i64| {
        let rank = ((total * p + 99) / 100).max(1);
        let mut seen = 0;
        for (b, n) in &sorted {
            seen += n;
            if seen >= rank {
                return (b + 1) * OVERHEAD_BUCKET_US;
            }
        }
        (sorted.last().map_or(0, |(b, _)| *b) + 1) * OVERHEAD_BUCKET_US
    };
    Some((at(50), at(99)))
}

/// "12.5 %" from basis points; a dash when there is no share.
pub fn format_share(bp: Option<i64>) -> String {
    match bp {
        Some(bp) => crate::policy::format_rate(bp),
        None => "–".to_string(),
    }
}

/// A public cell: its share, or why there is none.
pub fn format_split(split: &Split) -> String {
    if split.suppressed {
        format!("fewer than {PUBLIC_MIN_EVENTS}")
    } else {
        format_share(split.share_bp)
    }
}

/// Where each week's share sits on a `width` × `height` plot (x evenly
/// spread, 0 % at the bottom); None where nothing was counted.
pub fn plot_points(shares: &[Option<i64>], width: f64, height: f64) -> Vec<Option<(f64, f64)>> {
    let step = if shares.len() > 1 {
        width / (shares.len() - 1) as f64
    } else {
        0.0
    };
    shares
        .iter()
        .enumerate()
        .map(|(i, share)| share.map(|bp| (step * i as f64, height - height * bp as f64 / 10_000.0)))
        .collect()
}

/// SVG polylines through the known points; weeks without a share break the
/// line (each run of known points is its own polyline).
pub fn polylines(shares: &[Option<i64>], width: f64, height: f64) -> Vec<String> {
    plot_points(shares, width, height)
        .split(Option::is_none)
        .filter(|run| !run.is_empty())
        .map(|run| {
            run.iter()
                .flatten()
                .map(|(x, y)| format!("{x:.1},{y:.1}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn overhead_percentiles_from_a_histogram() {
        // 98 calls in 0–100 µs, one in 300–400 µs, one at 5 ms.
        let h = [(0, 98), (3, 1), (50, 1)];
        assert_eq!(histogram_percentiles(&h), Some((100, 400)));
        assert_eq!(histogram_percentiles(&[(2, 1)]), Some((300, 300)));
        assert_eq!(histogram_percentiles(&[]), None);
    }

    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-23 was a Monday, 2026-11-29 a Sunday.
        let monday = day_of(1_795_392_000_000);
        assert_eq!(crate::calendar::date(monday * DAY_MS), "2026-11-23");
        for d in monday..monday + 7 {
            assert_eq!(week_of(d), monday);
        }
        assert_eq!(week_of(monday - 1), monday - 7);
        assert_eq!(week_of(monday + 7), monday + 7);
        // 1970-01-01 (a Thursday) belongs to the week of 1969-12-29.
        assert_eq!(week_of(0), -3);
    }

    #[test]
    fn shares_round_half_up_and_need_a_total() {
        assert_eq!(share_bp(0, 0), None);
        assert_eq!(share_bp(1, 0), Some(10_000));
        assert_eq!(share_bp(0, 5), Some(0));
        assert_eq!(share_bp(1, 2), Some(3_333));
        assert_eq!(share_bp(2, 1), Some(6_667));
        assert_eq!(share_bp(1, 7), Some(1_250));
    }

    #[test]
    fn public_splits_carry_no_counts() {
        // 60 first-party, 20–29 partner events: 60 / (60 + 24.5) = 71 %.
        let public = Split::new(60, 25, false);
        assert_eq!(public.share_bp, Some(7_100));
        assert_eq!((public.first_party, public.partner), (None, None));
        let small = Split::new(3, 1, false);
        assert_eq!((small.share_bp, small.suppressed), (None, true));
        assert!(Split::new(0, 0, false).suppressed, "as for any small cell");
        let detailed = Split::new(3, 1, true);
        assert_eq!((detailed.first_party, detailed.partner), (Some(3), Some(1)));
        assert_eq!(detailed.share_bp, Some(7_500));
        // Large cells come close to the exact share.
        assert_eq!(Split::new(5_000, 5_000, false).share_bp, Some(5_000));
    }

    /// A player knows the platform's own count in a cell. From what is
    /// published they can narrow the partners' count down to the counts
    /// that publish the same: never fewer than ten, whatever the two counts
    /// are (up to 300 a side).
    #[test]
    fn the_platforms_own_count_and_a_public_share_never_pin_the_partners_count() {
        for first_party in 0..=300_i64 {
            let published: Vec<Split> = (0..=400_i64)
                .map(|p| Split::new(first_party, p, false))
                .collect();
            for partner in 0..=300_usize {
                let alike = published
                    .iter()
                    .filter(|s| **s == published[partner])
                    .count();
                assert!(
                    alike >= PARTNER_GRAIN as usize,
                    "own {first_party}, partners {partner}: {:?} fits {alike}",
                    published[partner]
                );
            }
        }
    }

    #[test]
    fn chart_lines_break_where_nothing_was_counted() {
        let lines = polylines(&[Some(0), Some(10_000), None, Some(5_000)], 300.0, 100.0);
        assert_eq!(
            lines,
            vec!["0.0,100.0 100.0,0.0".to_string(), "300.0,50.0".to_string()]
        );
        assert!(polylines(&[None, None], 300.0, 100.0).is_empty());
        assert_eq!(
            plot_points(&[None, Some(10_000)], 300.0, 100.0),
            vec![None, Some((300.0, 0.0))]
        );
        assert_eq!(
            polylines(&[Some(2_500)], 300.0, 100.0),
            vec!["0.0,75.0".to_string()]
        );
    }
}
