//! Subscriptions: a client organisation subscribes to a published listing
//! with one of its plans on one of its deployments (base models), may move
//! to another deployment without re-contracting, cancels and resubscribes.
//! Monthly statements split each bill between partner and platform at the
//! published take rate (`billing`).

pub mod api;
pub mod billing;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod export;
#[cfg(feature = "ssr")]
pub mod service;
pub mod views;

use crate::ui::fields::Choice;
use serde::{Deserialize, Serialize};

/// A deployment move of a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchView {
    pub at: i64,
    pub from: String,
    pub to: String,
    pub by: String,
}

/// A subscription as its client (or the listing's partner, or a referee) sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionView {
    pub id: i64,
    pub client: String,
    pub listing_slug: String,
    pub listing_name: String,
    pub publisher: String,
    pub platform_owned: bool,
    /// The publisher is a platform-affiliated partner.
    pub affiliated: bool,
    pub plan: String,
    /// "EUR 49.00 a month, 1,000 calls included, EUR 2.50 per 1,000 more".
    pub terms: String,
    pub deployment_id: i64,
    /// The base model it runs on now, with the deployment's revision.
    pub base_model: String,
    pub active: bool,
    pub started_at: i64,
    pub ended_at: Option<i64>,
}

/// One month's statement of one subscription. For a first-party listing it
/// is a "shadow" statement: the same arithmetic at the same rate, so its
/// economics compare with partners'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementView {
    pub subscription_id: i64,
    /// "2026-11".
    pub month: String,
    /// The month is not over: figures may still grow.
    pub open: bool,
    pub listing_name: String,
    pub client: String,
    pub platform_owned: bool,
    pub affiliated: bool,
    pub currency: String,
    /// Billable calls from both sources.
    pub calls: i64,
    /// Of them, metered by the platform's gateway.
    pub gateway_calls: i64,
    /// Of them, reported by the publisher through the usage API.
    pub reported_calls: i64,
    pub included_calls: i64,
    pub plan_fee_minor: i64,
    pub overage_minor: i64,
    pub total_minor: i64,
    /// The take rate in force at the month's end (now, for an open month).
    pub take_rate_bp: i64,
    pub platform_fee_minor: i64,
    pub payout_minor: i64,
}

/// Calls per UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayUsage {
    /// The day's start, ms since the epoch.
    pub day: i64,
    /// Billable calls from both sources.
    pub calls: i64,
    /// Of them, metered by the gateway.
    pub gateway_calls: i64,
    /// Tokens of the gateway's calls, as reported by the upstreams.
    pub tokens: i64,
}

/// The subscribe box on a listing page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscribeChoices {
    /// The viewer's organisation may subscribe (a client, as owner or admin).
    pub can_subscribe: bool,
    /// Why not, when the viewer is signed in but may not.
    pub reason: Option<String>,
    pub plans: Vec<Choice>,
    pub deployments: Vec<Choice>,
    /// The organisation's active subscription to this listing.
    pub current: Option<i64>,
}

/// The client's subscriptions page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSubscriptions {
    pub subscriptions: Vec<SubscriptionView>,
    pub can_manage: bool,
}

/// How the client calls a subscription's model through the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connect {
    /// The gateway's base URL, for `base_url` in an OpenAI client.
    pub base_url: String,
    /// The model name: the listing's slug.
    pub model: String,
    /// `slug@base-model` for each of the listing's deployments.
    pub pinned: Vec<String>,
    pub allow_fallback: bool,
    pub monthly_call_cap: Option<i64>,
}

/// The playground's answer to one prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaygroundAnswer {
    pub subscription_id: i64,
    pub ok: bool,
    /// The model's answer, or why there is none.
    pub text: String,
    /// `slug@base-model` of the deployment that answered.
    pub served_by: String,
}

/// One subscription's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionData {
    pub subscription: SubscriptionView,
    pub switches: Vec<SwitchView>,
    /// Other deployments it may move to.
    pub deployments: Vec<Choice>,
    /// The last 30 days, oldest first, every day present.
    pub usage: Vec<DayUsage>,
    /// For the client's members while it is active.
    pub connect: Option<Connect>,
    /// The playground's last answer, kept by a form posted without JavaScript.
    pub playground: Option<PlaygroundAnswer>,
    /// Monthly invoices, newest first.
    pub invoices: Vec<StatementView>,
    /// The viewer may switch and cancel (the client's owner or admin).
    pub can_manage: bool,
}

/// A partner's subscribers, usage and statements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublisherData {
    pub subscribers: Vec<SubscriptionView>,
    pub usage: Vec<DayUsage>,
    pub statements: Vec<StatementView>,
    /// Gateway traffic per deployment (partner data, behind the firewall).
    pub health: Vec<crate::gateway::DeploymentHealth>,
}

/// Marketplace totals for referees: per month and industry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalsRow {
    pub month: String,
    /// The industry's slug and name.
    pub industry: String,
    pub industry_name: String,
    pub currency: String,
    pub subscriptions: i64,
    pub total_minor: i64,
    pub platform_fee_minor: i64,
    pub payout_minor: i64,
    /// Of the total, what first-party (shadow) statements account for.
    pub first_party_total_minor: i64,
}
