//! Subscription workflows: subscribe (one active per client and listing,
//! settled by the database), switch deployment, cancel (`choosing`); the
//! client's, partner's and referees' views with statements computed from
//! usage (`reading`). Every function takes the state and the acting person
//! from its caller.

mod choosing;
mod playground;
mod reading;

pub use choosing::{
    cancel, set_call_options, subscribe, subscribe_box, switch, CallOptionsForm, MAX_MONTHLY_CAP,
};
pub use playground::{keep_answer, playground, take_answer, MAX_PROMPT};
pub use reading::{client_page, client_statements, publisher_page, subscription_page, totals};

use super::billing::{bill, month_bounds, month_label, month_of};
use super::db::{DayCalls, Priced};
use super::StatementView;
use crate::audit::db::NewEntry;
use crate::auth::actor::{Actor, Permission};
use crate::cases::service as cases;
use crate::error::AppError;
use crate::orgs::OrgKind;
use crate::policy::db::RateHistory;
use crate::policy::firewall::{self, Outcome};
use crate::state::AppState;
use std::collections::HashMap;

/// A subscription as chosen in the subscribe box: ids as typed.
#[derive(Debug, Clone, Default)]
pub struct SubscribeForm {
    pub plan_id: String,
    pub deployment_id: String,
}

/// Days of usage the charts show.
pub const CHART_DAYS: i64 = 30;

pub(super) fn entry(
    action: &str,
    actor: &Actor,
    org: i64,
    id: i64,
    details: serde_json::Value,
) -> NewEntry {
    NewEntry::by(
        actor,
        action,
        Some(org),
        format!("subscription:{id}"),
        details,
    )
}

/// The partner-data firewall for one organisation's subscribers, usage and
/// revenue: the organisation itself (a partner's members, or the platform's
/// players for first-party listings) reads freely; referees read on the
/// record; a player reading a partner's is refused on the record (and a
/// case opened); anyone else is told it does not exist.
pub(super) async fn publisher_access(
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

/// Statements, per subscription and month from its start to its end (or
/// now), oldest first. The plan fee is due for every month the
/// subscription was active in, whole (no pro-rating); usage is counted by
/// when it occurred.
pub fn statements(
    subs: &[Priced],
    usage: &[DayCalls],
    rates: &RateHistory,
    now: i64,
) -> Vec<StatementView> {
    // (reported, gateway) per subscription and month.
    let mut calls: HashMap<(i64, (i64, u32)), (i64, i64)> = HashMap::new();
    for d in usage {
        let c = calls
            .entry((d.subscription, month_of(d.day * 86_400_000)))
            .or_default();
        c.0 = c.0.saturating_add(d.reported);
        c.1 = c.1.saturating_add(d.gateway);
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
            let (reported, gateway) = calls.get(&(v.id, (y, mo))).copied().unwrap_or_default();
            let n = reported.saturating_add(gateway);
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
                affiliated: v.affiliated,
                currency: p.currency.clone(),
                calls: n,
                gateway_calls: gateway,
                reported_calls: reported,
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
