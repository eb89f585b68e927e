//! Listings: the industry models partners (and the platform) publish, their
//! deployments on base models, their plans, and the review lifecycle.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod markdown;
#[cfg(feature = "ssr")]
pub mod service;
pub mod views;

use serde::{Deserialize, Serialize};

/// Where a listing is in its lifecycle. Only `Published` is public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListingStatus {
    Draft,
    Submitted,
    Published,
    Rejected,
    Suspended,
    Retired,
}

impl ListingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ListingStatus::Draft => "draft",
            ListingStatus::Submitted => "submitted",
            ListingStatus::Published => "published",
            ListingStatus::Rejected => "rejected",
            ListingStatus::Suspended => "suspended",
            ListingStatus::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<ListingStatus> {
        [
            ListingStatus::Draft,
            ListingStatus::Submitted,
            ListingStatus::Published,
            ListingStatus::Rejected,
            ListingStatus::Suspended,
            ListingStatus::Retired,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ListingStatus::Draft => "Draft",
            ListingStatus::Submitted => "Submitted for review",
            ListingStatus::Published => "Published",
            ListingStatus::Rejected => "Rejected",
            ListingStatus::Suspended => "Suspended",
            ListingStatus::Retired => "Retired",
        }
    }
}

/// Currencies plans may be priced in; all have two decimal places.
pub const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "CHF"];

/// "EUR 1,234.50" from minor units.
pub fn format_money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{currency} {sign}{}.{:02}",
        group_digits(abs / 100),
        abs % 100
    )
}

/// "1,234,567".
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// Parses "1234", "1234.5" or "1,234.50" into minor units; None when it is
/// not a non-negative amount with at most two decimals (or is absurdly big).
pub fn parse_money(input: &str) -> Option<i64> {
    let s: String = input.trim().chars().filter(|c| *c != ',').collect();
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s.as_str(), ""),
    };
    if whole.is_empty()
        || whole.len() > 12
        || frac.len() > 2
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    whole.checked_mul(100)?.checked_add(frac)
}

/// A published listing as a catalogue card shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListingCard {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub tagline: String,
    pub industry: String,
    /// The default deployment's base model.
    pub base_model: String,
    /// How many base models it is deployed on.
    pub deployments: usize,
    pub publisher: String,
    /// The publisher is the platform itself: always labelled as such.
    pub platform_owned: bool,
    /// The cheapest active plan's monthly fee, formatted.
    pub from_price: Option<String>,
    pub certifications: Vec<String>,
}

/// A deployment of a listing on a base model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentView {
    pub id: i64,
    pub base_model_id: i64,
    pub base_model: String,
    pub base_model_deprecated: bool,
    pub revision: String,
    pub status: String,
    pub eval_score: Option<i64>,
    pub is_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub id: i64,
    pub name: String,
    pub monthly_fee_minor: i64,
    pub currency: String,
    pub included_calls: i64,
    pub overage_per_1000_minor: i64,
    pub active: bool,
}

/// One entry of a listing's public change history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeView {
    pub at: i64,
    pub kind: String,
    pub summary: String,
}

/// Everything the listing page (and a compare column) shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListingDetail {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub tagline: String,
    /// Sanitised HTML rendered from the Markdown description.
    pub description_html: String,
    pub industry: String,
    pub tags: Vec<String>,
    pub data_residency: String,
    pub certifications: Vec<String>,
    pub documentation_url: String,
    pub status: ListingStatus,
    /// A referee's reason for rejecting or suspending; shown to the
    /// publisher and referees only.
    pub review_reason: Option<String>,
    pub publisher: String,
    pub platform_owned: bool,
    pub published_at: Option<i64>,
    pub deployments: Vec<DeploymentView>,
    pub plans: Vec<PlanView>,
    pub changes: Vec<ChangeView>,
    /// The viewer belongs to the publishing organisation and may edit.
    pub can_edit: bool,
}

/// A row of "my listings".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyListingRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub status: ListingStatus,
    pub review_reason: Option<String>,
    pub updated_at: i64,
}

/// A choice in a select box: value and label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyListingsData {
    pub org_name: String,
    pub rows: Vec<MyListingRow>,
    pub industries: Vec<Choice>,
    /// Active base models a listing can be deployed on.
    pub base_models: Vec<Choice>,
}

/// The editor: the listing as its publisher sees it, plus the raw fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditorData {
    pub detail: ListingDetail,
    pub description: String,
    pub industry_slug: String,
    pub industries: Vec<Choice>,
    pub base_models: Vec<Choice>,
}

/// A listing in the referees' queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRow {
    pub id: i64,
    /// The publishing organisation.
    pub org_id: i64,
    pub slug: String,
    pub name: String,
    pub publisher: String,
    pub platform_owned: bool,
    pub status: ListingStatus,
    pub submitted_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewQueueData {
    pub submitted: Vec<ReviewRow>,
    pub published: Vec<ReviewRow>,
    pub suspended: Vec<ReviewRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_round_trips_and_rejects_nonsense() {
        assert_eq!(parse_money("1,234.5"), Some(123_450));
        assert_eq!(parse_money("0"), Some(0));
        assert_eq!(parse_money(" 99.99 "), Some(9_999));
        for bad in ["", "-1", "1.234", "abc", "1.2.3", "1e3", "9999999999999"] {
            assert_eq!(parse_money(bad), None, "{bad}");
        }
        assert_eq!(format_money(123_450, "EUR"), "EUR 1,234.50");
        assert_eq!(format_money(5, "USD"), "USD 0.05");
        assert_eq!(format_money(100_000_000, "GBP"), "GBP 1,000,000.00");
    }
}
