//! Server functions for listings: the public listing and compare pages, the
//! publisher's drafts, deployments and plans, and the referees' review.
//! Each resolves the state and the acting person once and hands them, with
//! the typed form, to the service.
// A server function takes one argument per form field.
#![allow(clippy::too_many_arguments)]

use super::{EditorData, ListingDetail, MyListingsData, NewSecret, ReviewQueueData};
use crate::error::AppError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    super::input::{DeploymentForm, DetailsForm, DraftForm, PlanForm},
    super::service,
    crate::auth::visit::{current, viewer},
    crate::state::{respond, respond_then},
};

/// `publisher`: the publisher's slug, for an unpublished listing's
/// address (`/listings/{publisher}/{slug}`); empty for `/listings/{slug}`.
#[server(prefix = "/api/fn", endpoint = "listing_page")]
pub async fn listing_page(
    slug: String,
    #[server(default)] publisher: String,
) -> Result<ListingDetail, AppError> {
    respond(
        async {
            let (state, actor) = viewer().await?;
            let publisher = Some(publisher.trim()).filter(|p| !p.is_empty());
            service::page(&state, actor.as_ref(), publisher, &slug).await
        }
        .await,
    )
}

/// `slugs`: comma-separated listing slugs.
#[server(prefix = "/api/fn", endpoint = "compare_listings")]
pub async fn compare_listings(
    #[server(default)] slugs: String,
) -> Result<Vec<ListingDetail>, AppError> {
    respond(
        async {
            let (state, actor) = viewer().await?;
            service::compare(&state, actor.as_ref(), &slugs).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "my_listings")]
pub async fn my_listings() -> Result<MyListingsData, AppError> {
    respond(
        async {
            let (state, actor) = current().await?;
            service::my_listings(&state, &actor).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "create_listing")]
pub async fn create_listing(
    name: String,
    #[server(default)] slug: String,
    tagline: String,
    industry: String,
    base_model_id: String,
) -> Result<i64, AppError> {
    let form = DraftForm {
        name,
        slug,
        tagline,
        industry,
        base_model_id,
    };
    let result = async {
        let (state, actor) = current().await?;
        service::create(&state, &actor, &form).await
    }
    .await;
    let then = result
        .as_ref()
        .map(|id| editor_path(*id))
        .unwrap_or_default();
    respond_then(result, &then)
}

#[server(prefix = "/api/fn", endpoint = "listing_editor")]
pub async fn listing_editor(id: i64) -> Result<EditorData, AppError> {
    respond(
        async {
            let visit = crate::auth::visit::Visit::current().await?;
            let actor = visit.actor().await?;
            let mut data = service::editor_data(&visit.state, &actor, id).await?;
            data.new_secret = service::take_new_secret(&visit, id).await?;
            data.test_call = service::take_test_call(&visit, id).await?;
            Ok(data)
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn editor_path(id: i64) -> String {
    format!("/my/listings/{id}")
}

#[server(prefix = "/api/fn", endpoint = "update_listing")]
pub async fn update_listing(
    id: i64,
    name: String,
    #[server(default)] slug: String,
    tagline: String,
    #[server(default)] description: String,
    industry: String,
    #[server(default)] tags: String,
    #[server(default)] data_residency: String,
    #[server(default)] certifications: String,
    #[server(default)] documentation_url: String,
) -> Result<(), AppError> {
    let form = DetailsForm {
        name,
        slug,
        tagline,
        description,
        industry,
        tags,
        data_residency,
        certifications,
        documentation_url,
    };
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::update(&state, &actor, id, &form).await
        }
        .await,
        &editor_path(id),
    )
}

#[server(prefix = "/api/fn", endpoint = "add_deployment")]
pub async fn add_deployment(
    listing_id: i64,
    base_model_id: String,
    revision: String,
    status: String,
    #[server(default)] eval_score: String,
    #[server(default)] make_default: Option<String>,
) -> Result<i64, AppError> {
    let form = DeploymentForm {
        base_model_id,
        revision,
        status,
        eval_score,
        make_default: make_default.is_some(),
    };
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::add_deployment(&state, &actor, listing_id, &form).await
        }
        .await,
        &editor_path(listing_id),
    )
}

/// Changes a deployment's revision label, self-reported score or evidence.
#[server(prefix = "/api/fn", endpoint = "edit_deployment")]
pub async fn edit_deployment(
    listing_id: i64,
    deployment_id: i64,
    revision: String,
    #[server(default)] eval_score: String,
    #[server(default)] evidence_url: String,
) -> Result<(), AppError> {
    let form = service::DeploymentEdit {
        revision,
        eval_score,
        evidence_url,
    };
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::edit_deployment(&state, &actor, listing_id, deployment_id, &form).await
        }
        .await,
        &editor_path(listing_id),
    )
}

#[server(prefix = "/api/fn", endpoint = "set_default_deployment")]
pub async fn set_default_deployment(listing_id: i64, deployment_id: i64) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::set_default_deployment(&state, &actor, listing_id, deployment_id).await
        }
        .await,
        &editor_path(listing_id),
    )
}

#[server(prefix = "/api/fn", endpoint = "remove_deployment")]
pub async fn remove_deployment(listing_id: i64, deployment_id: i64) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::remove_deployment(&state, &actor, listing_id, deployment_id).await
        }
        .await,
        &editor_path(listing_id),
    )
}

/// Sets where a deployment is served; the answer carries the signing secret
/// when one was made (the first time), shown this once.
#[server(prefix = "/api/fn", endpoint = "set_endpoint")]
pub async fn set_endpoint(
    listing_id: i64,
    #[server(default)] deployment_id: String,
    #[server(default)] base_url: String,
    #[server(default)] model: String,
) -> Result<Option<NewSecret>, AppError> {
    respond_then(
        async {
            let visit = crate::auth::visit::Visit::current().await?;
            let actor = visit.actor().await?;
            let form = service::UpstreamForm { base_url, model };
            // Every field's problem at once, the deployment's included.
            let mut f = crate::form::Form::new();
            let deployment_id = f.id("deployment_id", &deployment_id, "Choose a deployment.");
            form.check(&mut f);
            f.done()?;
            let made =
                service::set_upstream(&visit.state, &actor, listing_id, deployment_id, &form)
                    .await?;
            let new = made.map(|secret| NewSecret {
                listing_id,
                deployment_id,
                secret,
            });
            if let Some(n) = &new {
                service::keep_for_page(&visit, n).await?;
            }
            Ok(new)
        }
        .await,
        &editor_path(listing_id),
    )
}

/// Replaces a deployment's signing secret; the answer carries the new one.
#[server(prefix = "/api/fn", endpoint = "replace_signing_secret")]
pub async fn replace_signing_secret(
    listing_id: i64,
    deployment_id: i64,
) -> Result<NewSecret, AppError> {
    respond_then(
        async {
            let visit = crate::auth::visit::Visit::current().await?;
            let actor = visit.actor().await?;
            let secret =
                service::rotate_secret(&visit.state, &actor, listing_id, deployment_id).await?;
            let new = NewSecret {
                listing_id,
                deployment_id,
                secret,
            };
            service::keep_for_page(&visit, &new).await?;
            Ok(new)
        }
        .await,
        &editor_path(listing_id),
    )
}

/// Sends a signed test call to a deployment's upstream; the answer says how
/// it went (not metered).
#[server(prefix = "/api/fn", endpoint = "test_endpoint")]
pub async fn test_endpoint(
    listing_id: i64,
    deployment_id: i64,
) -> Result<crate::gateway::TestCall, AppError> {
    respond_then(
        async {
            let visit = crate::auth::visit::Visit::current().await?;
            let actor = visit.actor().await?;
            let call = service::test_call(&visit.state, &actor, listing_id, deployment_id).await?;
            service::keep_test_call(&visit, &call).await?;
            Ok(call)
        }
        .await,
        &editor_path(listing_id),
    )
}

#[server(prefix = "/api/fn", endpoint = "add_plan")]
pub async fn add_plan(
    listing_id: i64,
    plan_name: String,
    monthly_fee: String,
    currency: String,
    included_calls: String,
    overage_per_1000: String,
) -> Result<i64, AppError> {
    let form = PlanForm {
        name: plan_name,
        monthly_fee,
        currency,
        included_calls,
        overage_per_1000,
    };
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::add_plan(&state, &actor, listing_id, &form).await
        }
        .await,
        &editor_path(listing_id),
    )
}

#[server(prefix = "/api/fn", endpoint = "deactivate_plan")]
pub async fn deactivate_plan(listing_id: i64, plan_id: i64) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::deactivate_plan(&state, &actor, listing_id, plan_id).await
        }
        .await,
        &editor_path(listing_id),
    )
}

#[server(prefix = "/api/fn", endpoint = "submit_listing")]
pub async fn submit_listing(id: i64) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::submit(&state, &actor, id).await
        }
        .await,
        &editor_path(id),
    )
}

#[server(prefix = "/api/fn", endpoint = "retire_listing")]
pub async fn retire_listing(id: i64) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::retire(&state, &actor, id).await
        }
        .await,
        "/my/listings",
    )
}

#[server(prefix = "/api/fn", endpoint = "review_queue")]
pub async fn review_queue() -> Result<ReviewQueueData, AppError> {
    respond(
        async {
            let (state, actor) = current().await?;
            service::review_queue(&state, &actor).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "approve_listing")]
pub async fn approve_listing(id: i64) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::approve(&state, &actor, id).await
        }
        .await,
        "/review",
    )
}

#[server(prefix = "/api/fn", endpoint = "reject_listing")]
pub async fn reject_listing(id: i64, reason: String) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::reject(&state, &actor, id, &reason).await
        }
        .await,
        "/review",
    )
}

#[server(prefix = "/api/fn", endpoint = "suspend_listing")]
pub async fn suspend_listing(id: i64, reason: String) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::suspend(&state, &actor, id, &reason).await
        }
        .await,
        "/review",
    )
}

#[server(prefix = "/api/fn", endpoint = "reinstate_listing")]
pub async fn reinstate_listing(id: i64) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::reinstate(&state, &actor, id).await
        }
        .await,
        "/review",
    )
}
