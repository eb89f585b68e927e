//! Subscribing, switching deployment and cancelling, by a client
//! organisation's owners and admins.

use super::{entry, SubscribeForm};
use crate::audit::db::append;
use crate::auth::actor::{Actor, Permission};
use crate::catalogue::db::bump_version;
use crate::db::UniqueKey;
use crate::error::AppError;
use crate::form::Form;
use crate::orgs::OrgKind;
use crate::state::AppState;
use crate::subscriptions::db::{self, NewSubscription};
use crate::subscriptions::SubscribeChoices;
use crate::ui::fields::Choice;

const ONE_ACTIVE: UniqueKey =
    UniqueKey::new("subscriptions_one_active", "subscriptions.listing_id");

/// The subscribe box of a published listing's page.
pub async fn subscribe_box(
    state: &AppState,
    actor: Option<&Actor>,
    listing_id: i64,
) -> Result<SubscribeChoices, AppError> {
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
    let (can_subscribe, reason, current) = match actor {
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
pub async fn subscribe(
    state: &AppState,
    actor: &Actor,
    listing_id: i64,
    form: &SubscribeForm,
) -> Result<i64, AppError> {
    let m = actor.require(Permission::Subscribe)?;
    let mut f = Form::new();
    let plan_id = f.id("plan_id", &form.plan_id, "Choose a plan.");
    let deployment_id = f.id("deployment_id", &form.deployment_id, "Choose a base model.");
    f.done()?;
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
        Err(e) if ONE_ACTIVE.violated_by(&e) => {
            drop(tx);
            return retry_as_duplicate(state, m.org_id, listing_id).await;
        }
        Err(e) => return Err(e.into()),
    };
    append(
        &mut tx,
        &entry(
            "subscription.created",
            actor,
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
pub async fn cancel(state: &AppState, actor: &Actor, id: i64) -> Result<(), AppError> {
    let m = actor.require(Permission::Subscribe)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let row = own_active(&mut tx, m.org_id, id).await?;
    db::cancel(&mut tx, id, now).await?;
    append(
        &mut tx,
        &entry(
            "subscription.cancelled",
            actor,
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
pub async fn switch(
    state: &AppState,
    actor: &Actor,
    id: i64,
    deployment: &str,
) -> Result<(), AppError> {
    let m = actor.require(Permission::Subscribe)?;
    let mut f = Form::new();
    let to = f.id("deployment_id", deployment, "Choose a base model.");
    f.done()?;
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
            actor,
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

/// The client's choices for calls through the gateway, as typed.
#[derive(Debug, Clone, Default)]
pub struct CallOptionsForm {
    /// "on" (a ticked box) or empty.
    pub allow_fallback: String,
    /// Calls a month, or empty for no cap.
    pub monthly_call_cap: String,
}

/// The largest monthly cap a client may set.
pub const MAX_MONTHLY_CAP: i64 = 1_000_000_000;

/// Sets whether calls may fall back to the listing's other deployments,
/// and the monthly cap of calls.
pub async fn set_call_options(
    state: &AppState,
    actor: &Actor,
    id: i64,
    form: &CallOptionsForm,
) -> Result<(), AppError> {
    let m = actor.require(Permission::Subscribe)?;
    let mut f = Form::new();
    let fallback = matches!(form.allow_fallback.trim(), "on" | "true" | "1");
    let typed = form.monthly_call_cap.trim().replace([',', '_', ' '], "");
    let cap = if typed.is_empty() {
        None
    } else {
        f.take(
            "monthly_call_cap",
            typed
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_MONTHLY_CAP).contains(n))
                .ok_or_else(|| {
                    "Type a whole number of calls from 1 to 1,000,000,000, or leave it empty for no cap."
                        .to_string()
                }),
        )
    };
    f.done()?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    own_active(&mut tx, m.org_id, id).await?;
    db::set_call_options(&mut tx, id, fallback, cap).await?;
    append(
        &mut tx,
        &entry(
            "subscription.call_options_set",
            actor,
            m.org_id,
            id,
            serde_json::json!({ "allow_fallback": fallback, "monthly_call_cap": cap }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
