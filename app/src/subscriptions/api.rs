//! Server functions for subscriptions and statements. Each resolves the
//! state and the acting person once and hands them to the service.

use super::{ClientSubscriptions, PublisherData, SubscribeChoices, SubscriptionData, TotalsRow};
use crate::error::AppError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    super::service::{self, SubscribeForm},
    crate::auth::visit::{current, viewer},
    crate::state::{respond, respond_then},
};

/// The subscribe box of a listing's page.
#[server(prefix = "/api/fn", endpoint = "subscribe_options")]
pub async fn subscribe_options(listing_id: i64) -> Result<SubscribeChoices, AppError> {
    respond(
        async {
            let (state, actor) = viewer().await?;
            service::subscribe_box(&state, actor.as_ref(), listing_id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "subscribe")]
pub async fn subscribe(
    listing_id: i64,
    #[server(default)] plan_id: String,
    #[server(default)] deployment_id: String,
) -> Result<i64, AppError> {
    let form = SubscribeForm {
        plan_id,
        deployment_id,
    };
    let result = async {
        let (state, actor) = current().await?;
        service::subscribe(&state, &actor, listing_id, &form).await
    }
    .await;
    let then = result
        .as_ref()
        .map(|id| format!("/subscriptions/{id}"))
        .unwrap_or_default();
    respond_then(result, &then)
}

#[server(prefix = "/api/fn", endpoint = "cancel_subscription")]
pub async fn cancel_subscription(id: i64) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::cancel(&state, &actor, id).await
        }
        .await,
        &format!("/subscriptions/{id}"),
    )
}

#[server(prefix = "/api/fn", endpoint = "switch_deployment")]
pub async fn switch_deployment(
    id: i64,
    #[server(default)] deployment_id: String,
) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::switch(&state, &actor, id, &deployment_id).await
        }
        .await,
        &format!("/subscriptions/{id}"),
    )
}

#[server(prefix = "/api/fn", endpoint = "set_call_options")]
pub async fn set_call_options(
    id: i64,
    #[server(default)] allow_fallback: String,
    #[server(default)] monthly_call_cap: String,
) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            let form = service::CallOptionsForm {
                allow_fallback,
                monthly_call_cap,
            };
            service::set_call_options(&state, &actor, id, &form).await
        }
        .await,
        &format!("/subscriptions/{id}"),
    )
}

/// Sends one prompt to the subscription's model through the gateway
/// (metered like any call); the answer, or why there is none.
#[server(prefix = "/api/fn", endpoint = "try_model")]
pub async fn try_model(
    id: i64,
    #[server(default)] prompt: String,
) -> Result<super::PlaygroundAnswer, AppError> {
    respond_then(
        async {
            let visit = crate::auth::visit::Visit::current().await?;
            let actor = visit.actor().await?;
            let answer = service::playground(&visit.state, &actor, id, &prompt).await?;
            service::keep_answer(&visit, &answer).await?;
            Ok(answer)
        }
        .await,
        &format!("/subscriptions/{id}"),
    )
}

#[server(prefix = "/api/fn", endpoint = "my_subscriptions")]
pub async fn my_subscriptions() -> Result<ClientSubscriptions, AppError> {
    respond(
        async {
            let (state, actor) = current().await?;
            service::client_page(&state, &actor).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "subscription_detail")]
pub async fn subscription_detail(id: i64) -> Result<SubscriptionData, AppError> {
    respond(
        async {
            let visit = crate::auth::visit::Visit::current().await?;
            let actor = visit.actor().await?;
            let mut data = service::subscription_page(&visit.state, &actor, id).await?;
            if data.connect.is_some() {
                data.playground = service::take_answer(&visit, id).await?;
            }
            Ok(data)
        }
        .await,
    )
}

/// A publisher's subscribers, usage and statements; `org` (referees only)
/// names another organisation's.
#[server(prefix = "/api/fn", endpoint = "publisher_revenue")]
pub async fn publisher_revenue(#[server(default)] org: String) -> Result<PublisherData, AppError> {
    respond(
        async {
            let (state, actor) = current().await?;
            service::publisher_page(&state, &actor, &org).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "marketplace_totals")]
pub async fn marketplace_totals() -> Result<Vec<TotalsRow>, AppError> {
    respond(
        async {
            let (state, actor) = current().await?;
            service::totals(&state, &actor).await
        }
        .await,
    )
}
