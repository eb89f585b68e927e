//! Server functions for listings: the public listing and compare pages, the
//! publisher's drafts, deployments and plans, and the referees' review.
// A server function takes one argument per form field.
#![allow(clippy::too_many_arguments)]

use super::{EditorData, ListingDetail, MyListingsData, ReviewQueueData};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "listing_page")]
pub async fn listing_page(slug: String) -> Result<ListingDetail, AppError> {
    crate::state::respond(super::service::page(&slug).await)
}

/// `slugs`: comma-separated listing slugs.
#[server(prefix = "/api/fn", endpoint = "compare_listings")]
pub async fn compare_listings(
    #[server(default)] slugs: String,
) -> Result<Vec<ListingDetail>, AppError> {
    crate::state::respond(super::service::compare(&slugs).await)
}

#[server(prefix = "/api/fn", endpoint = "my_listings")]
pub async fn my_listings() -> Result<MyListingsData, AppError> {
    crate::state::respond(super::service::my_listings().await)
}

#[server(prefix = "/api/fn", endpoint = "create_listing")]
pub async fn create_listing(
    name: String,
    #[server(default)] slug: String,
    tagline: String,
    industry: String,
    base_model_id: String,
) -> Result<i64, AppError> {
    let result = super::service::create(&name, &slug, &tagline, &industry, &base_model_id).await;
    let then = result
        .as_ref()
        .map(|id| format!("/my/listings/{id}"))
        .unwrap_or_default();
    crate::state::respond_then(result, &then)
}

#[server(prefix = "/api/fn", endpoint = "listing_editor")]
pub async fn listing_editor(id: i64) -> Result<EditorData, AppError> {
    crate::state::respond(super::service::editor_data(id).await)
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
    crate::state::respond_then(
        super::service::update(
            id,
            &name,
            &slug,
            &tagline,
            &description,
            &industry,
            &tags,
            &data_residency,
            &certifications,
            &documentation_url,
        )
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
    crate::state::respond_then(
        super::service::add_deployment(
            listing_id,
            &base_model_id,
            &revision,
            &status,
            &eval_score,
            make_default.is_some(),
        )
        .await,
        &editor_path(listing_id),
    )
}

#[server(prefix = "/api/fn", endpoint = "set_default_deployment")]
pub async fn set_default_deployment(listing_id: i64, deployment_id: i64) -> Result<(), AppError> {
    crate::state::respond_then(
        super::service::set_default_deployment(listing_id, deployment_id).await,
        &editor_path(listing_id),
    )
}

#[server(prefix = "/api/fn", endpoint = "remove_deployment")]
pub async fn remove_deployment(listing_id: i64, deployment_id: i64) -> Result<(), AppError> {
    crate::state::respond_then(
        super::service::remove_deployment(listing_id, deployment_id).await,
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
    crate::state::respond_then(
        super::service::add_plan(
            listing_id,
            &plan_name,
            &monthly_fee,
            &currency,
            &included_calls,
            &overage_per_1000,
        )
        .await,
        &editor_path(listing_id),
    )
}

#[server(prefix = "/api/fn", endpoint = "deactivate_plan")]
pub async fn deactivate_plan(listing_id: i64, plan_id: i64) -> Result<(), AppError> {
    crate::state::respond_then(
        super::service::deactivate_plan(listing_id, plan_id).await,
        &editor_path(listing_id),
    )
}

#[server(prefix = "/api/fn", endpoint = "submit_listing")]
pub async fn submit_listing(id: i64) -> Result<(), AppError> {
    crate::state::respond_then(super::service::submit(id).await, &editor_path(id))
}

#[server(prefix = "/api/fn", endpoint = "retire_listing")]
pub async fn retire_listing(id: i64) -> Result<(), AppError> {
    crate::state::respond_then(super::service::retire(id).await, "/my/listings")
}

#[server(prefix = "/api/fn", endpoint = "review_queue")]
pub async fn review_queue() -> Result<ReviewQueueData, AppError> {
    crate::state::respond(super::service::review_queue().await)
}

#[server(prefix = "/api/fn", endpoint = "approve_listing")]
pub async fn approve_listing(id: i64) -> Result<(), AppError> {
    crate::state::respond_then(super::service::approve(id).await, "/review")
}

#[server(prefix = "/api/fn", endpoint = "reject_listing")]
pub async fn reject_listing(id: i64, reason: String) -> Result<(), AppError> {
    crate::state::respond_then(super::service::reject(id, &reason).await, "/review")
}

#[server(prefix = "/api/fn", endpoint = "suspend_listing")]
pub async fn suspend_listing(id: i64, reason: String) -> Result<(), AppError> {
    crate::state::respond_then(super::service::suspend(id, &reason).await, "/review")
}

#[server(prefix = "/api/fn", endpoint = "reinstate_listing")]
pub async fn reinstate_listing(id: i64) -> Result<(), AppError> {
    crate::state::respond_then(super::service::reinstate(id).await, "/review")
}
