//! Server functions for subscriptions and statements.

use super::{ClientSubscriptions, PublisherData, SubscribeChoices, SubscriptionData, TotalsRow};
use crate::error::AppError;
use leptos::prelude::*;

/// The subscribe box of a listing's page.
#[server(prefix = "/api/fn", endpoint = "subscribe_options")]
pub async fn subscribe_options(listing_id: i64) -> Result<SubscribeChoices, AppError> {
    crate::state::respond(super::service::subscribe_box(listing_id).await)
}

#[server(prefix = "/api/fn", endpoint = "subscribe")]
pub async fn subscribe(
    listing_id: i64,
    #[server(default)] plan_id: String,
    #[server(default)] deployment_id: String,
) -> Result<i64, AppError> {
    let result = super::service::subscribe(listing_id, &plan_id, &deployment_id).await;
    let then = result
        .as_ref()
        .map(|id| format!("/subscriptions/{id}"))
        .unwrap_or_default();
    crate::state::respond_then(result, &then)
}

#[server(prefix = "/api/fn", endpoint = "cancel_subscription")]
pub async fn cancel_subscription(id: i64) -> Result<(), AppError> {
    crate::state::respond_then(
        super::service::cancel(id).await,
        &format!("/subscriptions/{id}"),
    )
}

#[server(prefix = "/api/fn", endpoint = "switch_deployment")]
pub async fn switch_deployment(
    id: i64,
    #[server(default)] deployment_id: String,
) -> Result<(), AppError> {
    crate::state::respond_then(
        super::service::switch(id, &deployment_id).await,
        &format!("/subscriptions/{id}"),
    )
}

#[server(prefix = "/api/fn", endpoint = "my_subscriptions")]
pub async fn my_subscriptions() -> Result<ClientSubscriptions, AppError> {
    crate::state::respond(super::service::client_page().await)
}

#[server(prefix = "/api/fn", endpoint = "subscription_detail")]
pub async fn subscription_detail(id: i64) -> Result<SubscriptionData, AppError> {
    crate::state::respond(super::service::subscription_page(id).await)
}

/// A publisher's subscribers, usage and statements; `org` (referees only)
/// names another organisation's.
#[server(prefix = "/api/fn", endpoint = "publisher_revenue")]
pub async fn publisher_revenue(#[server(default)] org: String) -> Result<PublisherData, AppError> {
    crate::state::respond(super::service::publisher_page(&org).await)
}

#[server(prefix = "/api/fn", endpoint = "marketplace_totals")]
pub async fn marketplace_totals() -> Result<Vec<TotalsRow>, AppError> {
    crate::state::respond(super::service::totals().await)
}
