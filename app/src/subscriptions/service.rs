//! Subscription workflows: subscribe (one active per client and listing,
//! settled by the database), switch deployment, cancel; the client's,
//! partner's and referees' views with statements computed from usage.

use super::billing::{bill, month_bounds, month_label, month_of};
use super::db::{self, NewSubscription, Priced, Scope};
use super::{
    ClientSubscriptions, PublisherData, StatementView, SubscribeChoices, SubscriptionData,
    TotalsRow,
};
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{resolve, resolve_in, Actor, Permission};
use crate::auth::db::violates_unique;
use crate::auth::session::from_request;
use crate::cases::service as cases;
use crate::catalogue::db::bump_version;
use crate::error::AppError;
use crate::listings::Choice;
use crate::orgs::OrgKind;
use crate::policy::db::RateHistory;
use crate::policy::firewall::{self, Outcome};
use crate::state::{app_state, AppState};
use std::collections::{BTreeMap, HashMap};

/// Days of usage the charts show.
pub const CHART_DAYS: i64 = 30;

fn entry(action: &str, actor: &Actor, org: i64, id: i64, details: serde_json::Value) -> NewEntry {
    NewEntry::now(
        action,
        Some(actor.user_id),
        Some(org),
        format!("subscription:{id}"),
        details,
    )
}

fn parse_id(field: &str, value: &str, message: &str) -> Result<i64, AppError> {
    value
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::field(field, message))
}

/// The subscribe box of a published listing's page.
pub async fn subscribe_box(listing_id: i64) -> Result<SubscribeChoices, AppError> {
    let state = app_state()?;
    let session = from_request().await?;
    let actor = resolve_in(&state, &session).await?;
    if !db::published(state.db.pool(), listing_id).await? {
        return Err(AppError::NotFound);
    }
    let choices = |v: Vec<(i64, String)>| {
        v.into_iter()
            .map(|(id, label)| Choice {
                value: id.to_string(),
                label,
            })
            .collect::<Vec<_>>()
    };
    let (can_subscribe, reason, current) = match &actor {
        None => (false, None, None),
        Some(a) => match a.require(Permission::Subscribe) {
            Ok(m) => (
                true,
                None,
                db::active_id(&state.db, m.org_id, listing_id).await?,
            ),
            Err(_) => (
                false,
                Some(match a.membership.as_ref().map(|m| m.kind) {
                    Some(OrgKind::Client) => {
                        "Only an owner or admin of your organisation can subscribe.".to_string()
                    }
                    _ => "Subscriptions are taken out by client organisations.".to_string(),
                }),
                None,
            ),
        },
    };
    Ok(SubscribeChoices {
        can_subscribe,
        reason,
        plans: choices(db::plan_choices(&state.db, listing_id).await?),
        deployments: choices(db::deployment_choices(&state.db, listing_id).await?),
        current,
    })
}

/// Subscribes the actor's client organisation. Sending the same choice
/// again (a double submit, a retry) answers with the subscription already
/// made; a different choice while one is active is a conflict.
pub async fn subscribe(listing_id: i64, plan: &str, deployment: &str) -> Result<i64, AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.require(Permission::Subscribe)?.clone();
    let plan_id = parse_id("plan_id", plan, "Choose a plan.");
    let deployment_id = parse_id("deployment_id", deployment, "Choose a base model.");
    let (plan_id, deployment_id) = match (plan_id, deployment_id) {
        (Ok(p), Ok(d)) => (p, d),
        (p, d) => {
            let mut fields = crate::error::FieldErrors::new();
            for err in [p.err(), d.err()].into_iter().flatten() {
                if let AppError::Validation { fields: f } = err {
                    fields.extend(f);
                }
            }
            return Err(AppError::Validation { fields });
        }
    };
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    if !db::published(&mut **tx, listing_id).await? {
        return Err(AppError::NotFound);
    }
    if let Some((id, p, d)) = db::active_for(&mut tx, m.org_id, listing_id).await? {
        return if (p, d) == (plan_id, deployment_id) {
            Ok(id)
        } else {
            Err(AppError::Conflict(
                "Your organisation already subscribes to this listing: switch its base model or cancel it first."
                    .into(),
            ))
        };
    }
    if !db::active_plan(&mut tx, listing_id, plan_id).await? {
        return Err(AppError::field(
            "plan_id",
            "Choose one of this listing's plans.",
        ));
    }
    let Some(base_model) = db::usable_deployment(&mut tx, listing_id, deployment_id).await? else {
        return Err(AppError::field(
            "deployment_id",
            "Choose one of this listing's base models.",
        ));
    };
    let new = NewSubscription {
        client_org_id: m.org_id,
        listing_id,
        plan_id,
        deployment_id,
        by_user_id: actor.user_id,
    };
    let id = match db::insert(&mut tx, &new, now).await {
        Ok(id) => id,
        // Another request got there between our read and our write (on
        // PostgreSQL); its subscription stands.
        Err(e) if violates_unique(&e, "subscriptions_one_active", "subscriptions.listing_id") => {
            drop(tx);
            return retry_as_duplicate(&state, m.org_id, listing_id).await;
        }
        Err(e) => return Err(e.into()),
    };
    append(
        &mut tx,
        &entry(
            "subscription.created",
            &actor,
            m.org_id,
            id,
            serde_json::json!({ "listing": listing_id, "plan": plan_id, "deployment": deployment_id, "base_model": base_model }),
        ),
        now,
    )
    .await?;
    // Active subscribers are a ranking input: the catalogue is re-ranked.
    bump_version(&mut tx).await?;
    tx.commit().await?;
    Ok(id)
}

async fn retry_as_duplicate(state: &AppState, org: i64, listing: i64) -> Result<i64, AppError> {
    db::active_id(&state.db, org, listing)
        .await?
        .ok_or_else(|| AppError::Conflict("Subscribing failed; please try again.".into()))
}

/// The actor's own client subscription, in a write transaction.
async fn own_active(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org: i64,
    id: i64,
) -> Result<db::SubRow, AppError> {
    let row = db::row(&mut **tx, id)
        .await?
        .filter(|r| r.client_org_id == org)
        .ok_or(AppError::NotFound)?;
    if !row.active {
        return Err(AppError::Conflict("This subscription has ended.".into()));
    }
    Ok(row)
}

/// Ends the subscription now (cancellation is immediate: usage after this
/// moment is refused; the month's plan fee stays due).
pub async fn cancel(id: i64) -> Result<(), AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.require(Permission::Subscribe)?.clone();
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let row = own_active(&mut tx, m.org_id, id).await?;
    db::cancel(&mut tx, id, now).await?;
    append(
        &mut tx,
        &entry(
            "subscription.cancelled",
            &actor,
            m.org_id,
            id,
            serde_json::json!({ "listing": row.listing_id }),
        ),
        now,
    )
    .await?;
    bump_version(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves the subscription to another deployment of the same listing.
pub async fn switch(id: i64, deployment: &str) -> Result<(), AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.require(Permission::Subscribe)?.clone();
    let to = parse_id("deployment_id", deployment, "Choose a base model.")?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let row = own_active(&mut tx, m.org_id, id).await?;
    if to == row.deployment_id {
        return Err(AppError::field(
            "deployment_id",
            "The subscription already runs on this base model.",
        ));
    }
    let Some(label) = db::usable_deployment(&mut tx, row.listing_id, to).await? else {
        return Err(AppError::field(
            "deployment_id",
            "Choose one of this listing's base models.",
        ));
    };
    db::switch(&mut tx, id, row.deployment_id, to, actor.user_id, now).await?;
    append(
        &mut tx,
        &entry(
            "subscription.switched",
            &actor,
            m.org_id,
            id,
            serde_json::json!({ "from": row.deployment_id, "to": to, "base_model": label }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The client organisation's subscriptions.
pub async fn client_page() -> Result<ClientSubscriptions, AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
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
pub async fn client_statements() -> Result<Vec<StatementView>, AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
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

/// The partner-data firewall for one organisation's subscribers, usage and
/// revenue: the organisation itself (a partner's members, or the platform's
/// players for first-party listings) reads freely; referees read on the
/// record; a player reading a partner's is refused on the record (and a
/// case opened); anyone else is told it does not exist.
async fn publisher_access(
    state: &AppState,
    actor: &Actor,
    publisher_org: i64,
    what: &str,
) -> Result<(), AppError> {
    let Some(m) = actor.membership.as_ref() else {
        // A player without two-step sign-in: refused all the same, and on
        // the record like any player.
        if actor.is_player()
            && crate::orgs::db::kind_of(&state.db, publisher_org).await? == Some(OrgKind::Partner)
        {
            let case = cases::player_read(None, publisher_org, what, actor.user_id);
            firewall::record(state, actor, publisher_org, what, Outcome::Refused(case)).await?;
        }
        return Err(AppError::NotFound);
    };
    if m.org_id == publisher_org {
        return match m.kind {
            OrgKind::Partner | OrgKind::Platform => Ok(()),
            OrgKind::Client => Err(AppError::NotFound),
        };
    }
    let partner =
        crate::orgs::db::kind_of(&state.db, publisher_org).await? == Some(OrgKind::Partner);
    if actor.require(Permission::Referee).is_ok() {
        if partner {
            firewall::record(state, actor, publisher_org, what, Outcome::Read).await?;
        }
        return Ok(());
    }
    if m.kind == OrgKind::Platform && partner {
        let case = cases::player_read(None, publisher_org, what, actor.user_id);
        firewall::record(state, actor, publisher_org, what, Outcome::Refused(case)).await?;
    }
    Err(AppError::NotFound)
}

pub async fn subscription_page(id: i64) -> Result<SubscriptionData, AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let priced = db::one(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let m = actor.membership.as_ref().ok_or(AppError::NotFound)?;
    let client = m.org_id == priced.client_org_id;
    if !client {
        let what = format!("subscription #{id} (subscriber, usage and statements)");
        publisher_access(&state, &actor, priced.publisher_org_id, &what).await?;
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
    Ok(SubscriptionData {
        subscription: priced.view,
        switches: db::switches(&state.db, id).await?,
        deployments,
        usage: db::daily_series(&usage_rows, today, CHART_DAYS),
        invoices,
        can_manage: manage,
    })
}

/// Statements, per subscription and month from its start to its end (or
/// now), oldest first. The plan fee is due for every month the
/// subscription was active in, whole (no pro-rating); usage is counted by
/// when it occurred.
pub fn statements(
    subs: &[Priced],
    usage: &[(i64, i64, i64)],
    rates: &RateHistory,
    now: i64,
) -> Vec<StatementView> {
    let mut calls: HashMap<(i64, (i64, u32)), i64> = HashMap::new();
    for (sub, day, n) in usage {
        let c = calls.entry((*sub, month_of(day * 86_400_000))).or_default();
        *c = c.saturating_add(*n);
    }
    let mut out = Vec::new();
    for p in subs {
        let v = &p.view;
        let last = v.ended_at.unwrap_or(now).min(now);
        let (mut y, mut mo) = month_of(v.started_at);
        let end = month_of(last);
        loop {
            let (_, end_ms) = month_bounds(y, mo);
            let open = now < end_ms;
            let rate = rates.at(if open { now } else { end_ms - 1 });
            let n = calls.get(&(v.id, (y, mo))).copied().unwrap_or(0);
            let b = bill(
                p.monthly_fee_minor,
                n,
                p.included_calls,
                p.overage_per_1000_minor,
                rate,
            );
            out.push(StatementView {
                subscription_id: v.id,
                month: month_label(y, mo),
                open,
                listing_name: v.listing_name.clone(),
                client: v.client.clone(),
                platform_owned: v.platform_owned,
                currency: p.currency.clone(),
                calls: n,
                included_calls: p.included_calls,
                plan_fee_minor: b.plan_fee,
                overage_minor: b.overage,
                total_minor: b.total,
                take_rate_bp: b.take_rate_bp,
                platform_fee_minor: b.platform_fee,
                payout_minor: b.payout,
            });
            if (y, mo) >= end {
                break;
            }
            (y, mo) = if mo == 12 { (y + 1, 1) } else { (y, mo + 1) };
        }
    }
    out
}

/// A publisher's subscribers, usage and statements. `org`: empty for the
/// actor's own organisation; a referee may name a partner's (on the record).
pub async fn publisher_page(org: &str) -> Result<PublisherData, AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.membership.as_ref().ok_or(AppError::Forbidden)?;
    let publisher = if org.trim().is_empty() {
        match m.kind {
            OrgKind::Partner => m.org_id,
            OrgKind::Platform if actor.require(Permission::EditListings).is_ok() => m.org_id,
            _ => return Err(AppError::Forbidden),
        }
    } else {
        let id = parse_id("org", org, "Give an organisation id.")?;
        publisher_access(&state, &actor, id, "subscribers, usage and revenue").await?;
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
        usage: db::daily_series(&usage, today, CHART_DAYS),
        subscribers: subs.into_iter().map(|p| p.view).collect(),
        statements,
    })
}

/// Marketplace totals per month, industry and currency (referees).
pub async fn totals() -> Result<Vec<TotalsRow>, AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
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
        &state,
        &actor,
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
