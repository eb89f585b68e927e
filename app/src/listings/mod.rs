//! Listings: the industry models partners (and the platform) publish, their
//! deployments on base models, their plans, and the review lifecycle.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod input;
#[cfg(feature = "ssr")]
pub mod markdown;
#[cfg(feature = "ssr")]
pub mod service;
pub mod views;

use crate::ui::fields::Choice;
use serde::{Deserialize, Serialize};

/// A listing's address. Once published, a listing owns its slug:
/// `/listings/{slug}`, which stays its address when it is later suspended
/// or retired. Before that its slug is only its publisher's name for it
/// (another organisation may use the same one), so its address names the
/// publisher: `/listings/{publisher}/{slug}`.
pub fn href(publisher_slug: &str, slug: &str, ever_published: bool) -> String {
    if ever_published {
        format!("/listings/{slug}")
    } else {
        format!("/listings/{publisher_slug}/{slug}")
    }
}

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
    /// The publisher is a platform-affiliated partner: labelled as such,
    /// and first party for every non-compete rule.
    pub affiliated: bool,
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
    /// Self-reported by the publisher: shown as such, not a ranking input.
    pub eval_score: Option<i64>,
    pub eval_evidence_url: Option<String>,
    /// The latest evaluation run's score, its date and run, and whether it
    /// is stale (no longer counted by the ranking).
    pub verified_score: Option<i64>,
    pub verified_at: Option<i64>,
    pub verified_run_id: Option<i64>,
    pub verified_stale: bool,
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
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
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
    /// The listing's address (`href`).
    pub href: String,
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
    pub affiliated: bool,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyListingsData {
    pub org_name: String,
    pub rows: Vec<MyListingRow>,
    pub industries: Vec<Choice>,
    /// Active base models a listing can be deployed on.
    pub base_models: Vec<Choice>,
}

/// A deployment's upstream as its publisher sees it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamView {
    pub deployment_id: i64,
    pub base_url: String,
    pub model: String,
    pub updated_at: i64,
}

/// A signing secret just made: the only time it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSecret {
    pub listing_id: i64,
    pub deployment_id: i64,
    pub secret: String,
}

/// The editor: the listing as its publisher sees it, plus the raw fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditorData {
    pub detail: ListingDetail,
    pub description: String,
    pub industry_slug: String,
    pub industries: Vec<Choice>,
    pub base_models: Vec<Choice>,
    /// Each deployment's upstream (never a secret).
    pub upstreams: Vec<UpstreamView>,
    /// A signing secret just made by a form posted without JavaScript,
    /// shown this once.
    pub new_secret: Option<NewSecret>,
    /// Gateway traffic of each deployment (the last days).
    pub health: Vec<crate::gateway::DeploymentHealth>,
    /// A test call's result kept by a form posted without JavaScript.
    pub test_call: Option<crate::gateway::TestCall>,
}

/// A listing in the referees' queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRow {
    pub id: i64,
    /// The publishing organisation.
    pub org_id: i64,
    pub slug: String,
    /// The listing's address (`href`).
    pub href: String,
    pub name: String,
    pub publisher: String,
    pub platform_owned: bool,
    pub affiliated: bool,
    pub status: ListingStatus,
    pub submitted_at: Option<i64>,
    /// The viewer belongs to the publisher: another referee decides it.
    pub recuse: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewQueueData {
    pub submitted: Vec<ReviewRow>,
    pub published: Vec<ReviewRow>,
    pub suspended: Vec<ReviewRow>,
}
