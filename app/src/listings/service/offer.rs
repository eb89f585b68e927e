//! The offer: a listing's deployments on base models and its plans.
//! Changes to a published listing's offer enter its public change history.

use super::{active_base_model, audit_entry, editor, open_offer, public_change};
use crate::audit::db::append;
use crate::auth::actor::Actor;
use crate::db::{on_unique, UniqueKey};
use crate::error::AppError;
use crate::form::Form;
use crate::listings::db::{self, NewPlan};
use crate::listings::input::{DeploymentForm, NewDeployment, NewPlanInput, PlanForm};
use crate::listings::ListingStatus::*;
use crate::state::AppState;
use crate::ui::format::format_money;
use sqlx::Row;

const DEPLOYMENT_REVISION: UniqueKey = UniqueKey::new(
    "deployments_listing_model_revision_key",
    "deployments.revision",
);
fn revision_taken() -> AppError {
    AppError::field(
        "revision",
        "This listing already has this revision on this base model.",
    )
}

const PLAN_NAME: UniqueKey = UniqueKey::new("plans_listing_name_key", "plans.name");

/// Adds a deployment of the listing on a base model.
pub async fn add_deployment(
    state: &AppState,
    actor: &Actor,
    listing_id: i64,
    form: &DeploymentForm,
) -> Result<i64, AppError> {
    let m = editor(actor)?;
    let mut f = Form::new();
    let NewDeployment {
        base_model_id,
        revision,
        status,
        eval_score,
        make_default,
    } = form.check(&mut f);
    let status = status.as_str();
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let listing_status = open_offer(&mut tx, m, listing_id).await?;
    if base_model_id > 0 && !active_base_model(&mut tx, base_model_id).await? {
        f.fail(
            "base_model_id",
            "Choose an active base model from the list.",
        );
    }
    f.done()?;
    let id = db::insert_deployment(
        &mut tx,
        listing_id,
        base_model_id,
        &revision,
        status,
        eval_score,
        make_default,
        now,
    )
    .await
    .map_err(on_unique(&[DEPLOYMENT_REVISION], revision_taken))?;
    let label = sqlx::query("SELECT name, version FROM base_models WHERE id = $1")
        .bind(base_model_id)
        .fetch_one(&mut **tx)
        .await
        .and_then(|r| {
            Ok(format!(
                "{} {}",
                r.try_get::<String, _>("name")?,
                r.try_get::<String, _>("version")?
            ))
        })?;
    let summary = format!(
        "Deployment added: {label}, revision {revision}, {status}{}{}",
        eval_score
            .map(|e| format!(", self-reported evaluation {e} / 100 (not a ranking input)"))
            .unwrap_or_default(),
        if make_default {
            ", now the default"
        } else {
            ""
        }
    );
    public_change(
        &mut tx,
        listing_status,
        listing_id,
        actor,
        "deployment",
        &summary,
        now,
    )
    .await?;
    append(
        &mut tx,
        &audit_entry(
            "listing.deployment_added",
            actor,
            m.org_id,
            listing_id,
            serde_json::json!({
                "deployment": id, "base_model": base_model_id, "revision": revision,
                "self_reported_score": eval_score,
            }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A deployment's revision, self-reported score and evidence link as
/// typed on the editor.
#[derive(Debug, Clone, Default)]
pub struct DeploymentEdit {
    pub revision: String,
    pub eval_score: String,
    pub evidence_url: String,
}

/// Changes a deployment's revision label, self-reported evaluation score
/// or its evidence link. Each change enters the listing's public history
/// and the audit log. A new revision makes the deployment's verified
/// evaluation stale until the next run: the model that was evaluated is
/// not the one served any more.
pub async fn edit_deployment(
    state: &AppState,
    actor: &Actor,
    listing_id: i64,
    deployment_id: i64,
    form: &DeploymentEdit,
) -> Result<(), AppError> {
    let m = editor(actor)?;
    let mut f = Form::new();
    let revision = f.text("revision", &form.revision, 1, 40, false);
    let score = crate::listings::input::self_reported_score(&mut f, &form.eval_score);
    let evidence = crate::listings::input::web_address(&mut f, "evidence_url", &form.evidence_url);
    let evidence = (!evidence.is_empty()).then_some(evidence);
    f.done()?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_offer(&mut tx, m, listing_id).await?;
    let (_, label, _) = db::deployment_in(&mut tx, listing_id, deployment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let before = sqlx::query(
        "SELECT revision, eval_score, eval_evidence_url, verified_run_id FROM deployments WHERE id = $1",
    )
    .bind(deployment_id)
    .fetch_one(&mut **tx)
    .await?;
    let old_revision: String = before.try_get("revision")?;
    let old_score: Option<i64> = before.try_get("eval_score")?;
    let old_evidence: Option<String> = before.try_get("eval_evidence_url")?;
    let evaluated = before
        .try_get::<Option<i64>, _>("verified_run_id")?
        .is_some();
    let mut changes = Vec::new();
    if revision != old_revision {
        changes.push(format!(
            "Revision of {label} is now {revision}{}",
            if evaluated {
                "; its verified evaluation is stale until the next run"
            } else {
                ""
            }
        ));
    }
    let shown = |s: Option<i64>| s.map_or("none".to_string(), |s| format!("{s} / 100"));
    if score != old_score {
        changes.push(format!(
            "Self-reported evaluation of {label}: {} → {} (not a ranking input)",
            shown(old_score),
            shown(score)
        ));
    }
    if evidence != old_evidence {
        changes.push(format!(
            "Evidence link of the self-reported evaluation of {label} changed"
        ));
    }
    if changes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE deployments SET revision = $2, eval_score = $3, eval_evidence_url = $4, \
         verified_stale = CASE WHEN $5 = 1 THEN 1 ELSE verified_stale END WHERE id = $1",
    )
    .bind(deployment_id)
    .bind(&revision)
    .bind(score)
    .bind(&evidence)
    .bind(i64::from(revision != old_revision && evaluated))
    .execute(&mut **tx)
    .await
    .map_err(on_unique(&[DEPLOYMENT_REVISION], revision_taken))?;
    for summary in &changes {
        public_change(
            &mut tx,
            status,
            listing_id,
            actor,
            "deployment",
            summary,
            now,
        )
        .await?;
    }
    append(
        &mut tx,
        &audit_entry(
            "listing.deployment_changed",
            actor,
            m.org_id,
            listing_id,
            serde_json::json!({
                "deployment": deployment_id,
                "revision": [old_revision, revision],
                "self_reported_score": [old_score, score],
                "evidence_changed": evidence != old_evidence,
            }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes one of the listing's deployments the default.
pub async fn set_default_deployment(
    state: &AppState,
    actor: &Actor,
    listing_id: i64,
    deployment_id: i64,
) -> Result<(), AppError> {
    let m = editor(actor)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_offer(&mut tx, m, listing_id).await?;
    let (base_model_id, label, is_default) = db::deployment_in(&mut tx, listing_id, deployment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if is_default {
        return Err(AppError::Conflict(format!(
            "{label} is already the default."
        )));
    }
    db::make_default(&mut tx, listing_id, deployment_id, base_model_id).await?;
    public_change(
        &mut tx,
        status,
        listing_id,
        actor,
        "deployment",
        &format!("Default deployment is now {label}"),
        now,
    )
    .await?;
    append(
        &mut tx,
        &audit_entry(
            "listing.default_deployment_set",
            actor,
            m.org_id,
            listing_id,
            serde_json::json!({ "deployment": deployment_id }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a deployment no subscription ever ran on.
pub async fn remove_deployment(
    state: &AppState,
    actor: &Actor,
    listing_id: i64,
    deployment_id: i64,
) -> Result<(), AppError> {
    let m = editor(actor)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_offer(&mut tx, m, listing_id).await?;
    let (_, label, is_default) = db::deployment_in(&mut tx, listing_id, deployment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if is_default {
        return Err(AppError::Conflict(
            "The default deployment cannot be removed: make another one the default first.".into(),
        ));
    }
    if crate::subscriptions::db::deployment_used(&mut tx, deployment_id).await? {
        return Err(AppError::Conflict(
            "Subscriptions run, or ran, on this deployment: set it to paused instead of removing it.".into(),
        ));
    }
    db::delete_deployment(&mut tx, deployment_id).await?;
    public_change(
        &mut tx,
        status,
        listing_id,
        actor,
        "deployment",
        &format!("Deployment removed: {label}"),
        now,
    )
    .await?;
    append(
        &mut tx,
        &audit_entry(
            "listing.deployment_removed",
            actor,
            m.org_id,
            listing_id,
            serde_json::json!({ "deployment": deployment_id }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a plan to the listing.
pub async fn add_plan(
    state: &AppState,
    actor: &Actor,
    listing_id: i64,
    form: &PlanForm,
) -> Result<i64, AppError> {
    let m = editor(actor)?;
    let mut f = Form::new();
    let plan = form.check(&mut f);
    f.done()?;
    let Some(NewPlanInput {
        name,
        monthly_fee,
        currency,
        included_calls: included,
        overage_per_1000,
    }) = plan
    else {
        return Err(AppError::internal("plan form", "checked without a plan"));
    };
    let (fee, overage, currency) = (monthly_fee.get(), overage_per_1000.get(), currency.code());
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_offer(&mut tx, m, listing_id).await?;
    let plan = NewPlan {
        name: &name,
        monthly_fee_minor: fee,
        currency,
        included_calls: included,
        overage_per_1000_minor: overage,
    };
    let id = db::insert_plan(&mut tx, listing_id, &plan, now)
        .await
        .map_err(on_unique(&[PLAN_NAME], || {
            AppError::field(
                "plan_name",
                "This listing already has a plan with this name.",
            )
        }))?;
    let summary = format!(
        "Plan added: {name}, {} a month, {included} calls included, {} per 1,000 more",
        format_money(fee, currency),
        format_money(overage, currency)
    );
    public_change(&mut tx, status, listing_id, actor, "plan", &summary, now).await?;
    append(
        &mut tx,
        &audit_entry(
            "listing.plan_added",
            actor,
            m.org_id,
            listing_id,
            serde_json::json!({ "plan": id, "monthly_fee_minor": fee, "currency": currency }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Withdraws a plan; a published or submitted listing keeps at least one.
pub async fn deactivate_plan(
    state: &AppState,
    actor: &Actor,
    listing_id: i64,
    plan_id: i64,
) -> Result<(), AppError> {
    let m = editor(actor)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_offer(&mut tx, m, listing_id).await?;
    let name = db::deactivate_plan(&mut tx, listing_id, plan_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (active_plans, _) = db::plan_and_deployment_counts(&mut tx, listing_id).await?;
    if matches!(status, Published | Submitted) && active_plans == 0 {
        return Err(AppError::Conflict(
            "A published or submitted listing needs at least one active plan: add another first."
                .into(),
        ));
    }
    public_change(
        &mut tx,
        status,
        listing_id,
        actor,
        "plan",
        &format!("Plan withdrawn: {name}"),
        now,
    )
    .await?;
    append(
        &mut tx,
        &audit_entry(
            "listing.plan_deactivated",
            actor,
            m.org_id,
            listing_id,
            serde_json::json!({ "plan": plan_id }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
