//! What clients, publishers and referees read: subscriptions, usage
//! charts, statements and marketplace totals.

use super::{publisher_access, statements, CHART_DAYS};
use crate::auth::actor::{Actor, Permission};
use crate::error::AppError;
use crate::orgs::OrgKind;
use crate::policy::db::RateHistory;
use crate::policy::firewall::{self, Outcome};
use crate::state::AppState;
use crate::subscriptions::db::{self, Scope};
use crate::subscriptions::{
    ClientSubscriptions, Connect, PublisherData, StatementView, SubscriptionData, TotalsRow,
};
use crate::ui::fields::Choice;
use std::collections::{BTreeMap, HashMap};

/// The client organisation's subscriptions.
pub async fn client_page(state: &AppState, actor: &Actor) -> Result<ClientSubscriptions, AppError> {
    let m = actor.require(Permission::ViewMembers)?;
    if m.kind != OrgKind::Client {
        return Err(AppError::Forbidden);
    }
    Ok(ClientSubscriptions {
        subscriptions: db::list(&state.db, Scope::Client(m.org_id))
            .await?
            .into_iter()
            .map(|p| p.view)
            .collect(),
        can_manage: actor.require(Permission::Subscribe).is_ok(),
    })
}

/// Every invoice of the client organisation, newest month first.
pub async fn client_statements(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<StatementView>, AppError> {
    let m = actor.require(Permission::ViewMembers)?;
    if m.kind != OrgKind::Client {
        return Err(AppError::Forbidden);
    }
    let subs = db::list(&state.db, Scope::Client(m.org_id)).await?;
    let now = state.clock.now_ms();
    let first = subs.iter().map(|p| p.view.started_at).min().unwrap_or(now);
    let usage = db::calls_per_day(&state.db, Scope::Client(m.org_id), None, first).await?;
    let rates = RateHistory::load(&state.db).await?;
    let mut out = statements(&subs, &usage, &rates, now);
    out.sort_by(|a, b| {
        b.month
            .cmp(&a.month)
            .then(a.subscription_id.cmp(&b.subscription_id))
    });
    Ok(out)
}

/// One subscription: its client's view, or (through the partner-data
/// firewall) its publisher's.
pub async fn subscription_page(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<SubscriptionData, AppError> {
    let priced = db::one(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let m = actor.membership.as_ref().ok_or(AppError::NotFound)?;
    let client = m.org_id == priced.client_org_id;
    if !client {
        let what = format!("subscription #{id} (subscriber, usage and statements)");
        publisher_access(state, actor, priced.publisher_org_id, &what).await?;
    }
    let now = state.clock.now_ms();
    let today = now.div_euclid(86_400_000);
    let v = &priced.view;
    let usage_rows = db::calls_per_day(&state.db, Scope::All, Some(id), v.started_at).await?;
    let rates = RateHistory::load(&state.db).await?;
    let mut invoices = statements(std::slice::from_ref(&priced), &usage_rows, &rates, now);
    invoices.reverse();
    // Only the client's owners and admins change it, while it runs.
    let manage = client && v.active && actor.require(Permission::Subscribe).is_ok();
    let deployments = if manage {
        db::deployment_choices(&state.db, priced.listing_id)
            .await?
            .into_iter()
            .filter(|(d, _)| *d != v.deployment_id)
            .map(|(d, label)| Choice {
                value: d.to_string(),
                label,
            })
            .collect()
    } else {
        Vec::new()
    };
    let connect = if client && v.active {
        let (allow_fallback, monthly_call_cap) = db::call_options(&state.db, id).await?;
        Some(Connect {
            base_url: format!("{}/gateway/v1", actor.origin.site_url.trim_end_matches('/')),
            model: v.listing_slug.clone(),
            pinned: db::deployment_bases(&state.db, priced.listing_id)
                .await?
                .into_iter()
                .map(|b| format!("{}@{b}", v.listing_slug))
                .collect(),
            allow_fallback,
            monthly_call_cap,
        })
    } else {
        None
    };
    Ok(SubscriptionData {
        connect,
        playground: None,
        subscription: priced.view,
        switches: db::switches(&state.db, id).await?,
        deployments,
        usage: db::daily_series(&usage_rows, today, CHART_DAYS),
        invoices,
        can_manage: manage,
    })
}

/// A publisher's subscribers, usage and statements. `org`: empty for the
/// actor's own organisation; a referee may name a partner's (on the record).
pub async fn publisher_page(
    state: &AppState,
    actor: &Actor,
    org: &str,
) -> Result<PublisherData, AppError> {
    let m = actor.membership.as_ref().ok_or(AppError::Forbidden)?;
    let publisher = if org.trim().is_empty() {
        match m.kind {
            OrgKind::Partner => m.org_id,
            OrgKind::Platform if actor.require(Permission::EditListings).is_ok() => m.org_id,
            _ => return Err(AppError::Forbidden),
        }
    } else {
        let id = org
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::field("org", "Give an organisation id."))?;
        publisher_access(
            state,
            actor,
            id,
            "subscribers, usage, revenue and gateway traffic",
        )
        .await?;
        id
    };
    let subs = db::list(&state.db, Scope::Publisher(publisher)).await?;
    let now = state.clock.now_ms();
    let today = now.div_euclid(86_400_000);
    let first = subs.iter().map(|p| p.view.started_at).min().unwrap_or(now);
    let usage = db::calls_per_day(&state.db, Scope::Publisher(publisher), None, first).await?;
    let rates = RateHistory::load(&state.db).await?;
    let mut statements = statements(&subs, &usage, &rates, now);
    statements.sort_by(|a, b| {
        b.month
            .cmp(&a.month)
            .then(a.subscription_id.cmp(&b.subscription_id))
    });
    Ok(PublisherData {
        health: crate::gateway::health::of_publisher(&state.db, publisher, None, now).await?,
        usage: db::daily_series(&usage, today, CHART_DAYS),
        subscribers: subs.into_iter().map(|p| p.view).collect(),
        statements,
    })
}

/// Marketplace totals per month, industry and currency (referees).
pub async fn totals(state: &AppState, actor: &Actor) -> Result<Vec<TotalsRow>, AppError> {
    actor.require(Permission::Referee)?;
    let subs = db::list(&state.db, Scope::All).await?;
    // Aggregates still carry each partner's revenue (alone in an industry,
    // a partner's total is its own): the read is on every partner's record.
    let partners: std::collections::BTreeSet<i64> = subs
        .iter()
        .filter(|p| !p.view.platform_owned)
        .map(|p| p.publisher_org_id)
        .collect();
    firewall::record_all(
        state,
        actor,
        partners
            .into_iter()
            .map(|org| {
                (
                    org,
                    "marketplace totals (your revenue within them)".to_string(),
                    Outcome::Read,
                )
            })
            .collect(),
    )
    .await?;
    let now = state.clock.now_ms();
    let first = subs.iter().map(|p| p.view.started_at).min().unwrap_or(now);
    let usage = db::calls_per_day(&state.db, Scope::All, None, first).await?;
    let rates = RateHistory::load(&state.db).await?;
    let industry: HashMap<i64, String> = subs
        .iter()
        .map(|p| (p.view.id, p.industry.clone()))
        .collect();
    let names: HashMap<String, String> = crate::catalogue::db::industry_choices(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.value, c.label))
        .collect();
    let mut rows: BTreeMap<(String, String, String), TotalsRow> = BTreeMap::new();
    for s in statements(&subs, &usage, &rates, now) {
        let ind = industry
            .get(&s.subscription_id)
            .cloned()
            .unwrap_or_default();
        let r = rows
            .entry((s.month.clone(), ind.clone(), s.currency.clone()))
            .or_insert_with(|| TotalsRow {
                month: s.month.clone(),
                industry_name: names.get(&ind).cloned().unwrap_or_else(|| ind.clone()),
                industry: ind,
                currency: s.currency.clone(),
                subscriptions: 0,
                total_minor: 0,
                platform_fee_minor: 0,
                payout_minor: 0,
                first_party_total_minor: 0,
            });
        r.subscriptions += 1;
        r.total_minor = r.total_minor.saturating_add(s.total_minor);
        r.platform_fee_minor = r.platform_fee_minor.saturating_add(s.platform_fee_minor);
        r.payout_minor = r.payout_minor.saturating_add(s.payout_minor);
        if s.platform_owned {
            r.first_party_total_minor = r.first_party_total_minor.saturating_add(s.total_minor);
        }
    }
    let mut out: Vec<TotalsRow> = rows.into_values().collect();
    out.sort_by(|a, b| {
        b.month
            .cmp(&a.month)
            .then(a.industry_name.cmp(&b.industry_name))
    });
    Ok(out)
}
