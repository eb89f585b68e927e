//! The marketplace policy the platform owner is bound by (non-compete flag,
//! take rate, featured slots), its public history, and the referees' check
//! of the audit log's hash chain.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod featured;
#[cfg(feature = "ssr")]
pub mod firewall;
#[cfg(feature = "ssr")]
pub mod recusal;
#[cfg(feature = "ssr")]
pub mod service;
pub mod views;
#[cfg(feature = "ssr")]
pub mod weights;

use serde::{Deserialize, Serialize};

/// The current settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The platform may not place its own listings ahead of partners'.
    pub non_compete: bool,
    /// The platform's share of revenue, in basis points (2000 = 20 %).
    pub take_rate_bp: i64,
    /// Whether featured slots exist at all.
    pub featured_slots: bool,
    /// Days between announcing new ranking weights and applying them (at
    /// least 15, as the EU P2B Regulation requires for changed terms).
    pub ranking_notice_days: i64,
    /// The outcome audit's threshold, in hundredths: a week in which the
    /// platform's (and affiliates') share of the top three positions is more
    /// than this many hundredths of its share of published listings opens
    /// an "exposure anomaly" case (150 = 1.5 times).
    pub anomaly_ratio_pct: i64,
}

/// One ranking formula and when it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Formula {
    pub weights: crate::catalogue::ranking::Weights,
    /// The referee's published reason.
    pub reason: String,
    pub proposed_at: i64,
    /// Applies from this instant (a UTC midnight).
    pub effective_at: i64,
}

/// The ranking formula in force, changes announced and not yet applied,
/// and the ones before (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankingFormula {
    pub in_force: Formula,
    pub announced: Vec<Formula>,
    pub past: Vec<Formula>,
    pub notice_days: i64,
    /// The viewer is a referee and may propose new weights.
    pub can_propose: bool,
}

/// One recorded change of one setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyChange {
    pub setting: String,
    pub before: String,
    pub after: String,
    pub reason: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyData {
    pub policy: Policy,
    pub changes: Vec<PolicyChange>,
    /// Entries in the audit log and the hash at its head: anyone may keep a
    /// copy and later detect a rewritten history.
    pub audit_entries: i64,
    pub audit_head: String,
    /// The viewer is a referee and may change the policy.
    pub can_manage: bool,
    /// Partner organisations that are or were platform-affiliated.
    pub affiliations: Vec<Affiliation>,
    /// For referees: partner organisations to declare or withdraw (id,
    /// name, declared); empty for everyone else.
    pub partner_choices: Vec<(i64, String, bool)>,
}

/// A partner organisation that is, or was, platform-affiliated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affiliation {
    pub org_id: i64,
    pub name: String,
    pub affiliated: bool,
    pub history: Vec<AffiliationEvent>,
}

/// One change (or declaration) in an organisation's affiliation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffiliationEvent {
    /// The state after the event.
    pub affiliated: bool,
    /// `staff_member`, `declared`, `withdrawn` or `staff_left`.
    pub cause: String,
    /// The published reason.
    pub reason: String,
    pub at: i64,
}

/// One read (or refused attempt) of an organisation's non-public data by
/// someone outside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataAccess {
    pub at: i64,
    /// Name and email of the person.
    pub who: String,
    /// Their organisation (the platform, for staff).
    pub their_org: String,
    pub what: String,
    /// A player's attempt, refused.
    pub refused: bool,
}

/// A listing in a featured slot (shown apart from the ranked results).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeaturedCard {
    pub card: crate::listings::ListingCard,
    /// A first-party listing: "Promoted by the platform".
    pub promoted: bool,
}

/// "20 %" or "12.5 %" from basis points.
pub fn format_rate(bp: i64) -> String {
    let cents = format!("{:02}", bp % 100);
    match cents.trim_end_matches('0') {
        "" => format!("{} %", bp / 100),
        frac => format!("{}.{frac} %", bp / 100),
    }
}

/// "1.5" from hundredths.
pub fn format_ratio(pct: i64) -> String {
    let cents = format!("{:02}", pct % 100);
    match cents.trim_end_matches('0') {
        "" => format!("{}", pct / 100),
        frac => format!("{}.{frac}", pct / 100),
    }
}

/// A ratio with at most two decimals, above 1 and at most 10, into
/// hundredths.
pub fn parse_ratio(input: &str) -> Option<i64> {
    let s = input.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || whole.len() > 2
        || frac.len() > 2
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let pct = whole.parse::<i64>().ok()? * 100 + format!("{frac:0<2}").parse::<i64>().ok()?;
    (101..=1_000).contains(&pct).then_some(pct)
}

/// A percentage with at most two decimals, 0 to 100, into basis points.
pub fn parse_rate(input: &str) -> Option<i64> {
    let s = input.trim().trim_end_matches('%').trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || whole.len() > 3
        || frac.len() > 2
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let bp = whole.parse::<i64>().ok()? * 100
        + if frac.is_empty() {
            0
        } else {
            format!("{frac:0<2}").parse::<i64>().ok()?
        };
    (0..=10_000).contains(&bp).then_some(bp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_to_basis_points_and_back() {
        assert_eq!(parse_rate("20"), Some(2000));
        assert_eq!(parse_rate("12.5 %"), Some(1250));
        assert_eq!(parse_rate("0.05"), Some(5));
        assert_eq!(parse_rate("100"), Some(10_000));
        for bad in ["", "-1", "100.01", "abc", "1.234", "1e2"] {
            assert_eq!(parse_rate(bad), None, "{bad}");
        }
        assert_eq!(format_rate(2000), "20 %");
        assert_eq!(format_rate(1250), "12.5 %");
        assert_eq!(format_rate(5), "0.05 %");
    }

    #[test]
    fn ratios_parse_to_hundredths_and_back() {
        assert_eq!(parse_ratio("1.5"), Some(150));
        assert_eq!(parse_ratio(" 2 "), Some(200));
        assert_eq!(parse_ratio("1.01"), Some(101));
        assert_eq!(parse_ratio("10"), Some(1_000));
        for bad in [
            "", "1", "1.0", "0.5", "10.01", "-2", "1,5", "1.234", "abc", "1e1",
        ] {
            assert_eq!(parse_ratio(bad), None, "{bad}");
        }
        assert_eq!(format_ratio(150), "1.5");
        assert_eq!(format_ratio(200), "2");
        assert_eq!(format_ratio(125), "1.25");
    }
}
