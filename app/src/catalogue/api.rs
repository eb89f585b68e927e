//! Server functions for the catalogue, base models and notifications.

use super::{BaseModelsData, NotificationView, SearchResults};
use crate::error::AppError;
use leptos::prelude::*;

/// Cards the home page shows: the top of the default catalogue order.
pub const HOME_PAGE_SIZE: usize = 12;

/// Searches published listings (public, no sign-in).
/// Every field is optional text, as the catalogue's GET form sends it.
#[server(prefix = "/api/fn", endpoint = "catalogue_search")]
pub async fn catalogue_search(
    #[server(default)] q: String,
    #[server(default)] industry: String,
    #[server(default)] base_model: String,
    #[server(default)] price: String,
    #[server(default)] certification: String,
    #[server(default)] sort: String,
    #[server(default)] page: String,
) -> Result<SearchResults, AppError> {
    let query = super::CatalogueQuery {
        q,
        industry,
        base_model,
        price,
        certification,
        sort,
        page,
    };
    crate::state::respond(shown(
        super::service::search(&query, super::PAGE_SIZE).await,
    ))
}

/// Counts the results a visitor is shown as impressions.
#[cfg(feature = "ssr")]
fn shown(results: Result<SearchResults, AppError>) -> Result<SearchResults, AppError> {
    if let Ok(r) = &results {
        crate::exposure::tally::impressions(r.hits.iter().map(|h| h.card.id));
    }
    results
}

/// The top of the catalogue for the home page.
#[server(prefix = "/api/fn", endpoint = "home_listings")]
pub async fn home_listings() -> Result<SearchResults, AppError> {
    crate::state::respond(shown(
        super::service::search(&super::CatalogueQuery::default(), HOME_PAGE_SIZE).await,
    ))
}

#[server(prefix = "/api/fn", endpoint = "base_models")]
pub async fn base_models() -> Result<BaseModelsData, AppError> {
    crate::state::respond(super::service::base_models_page().await)
}

#[server(prefix = "/api/fn", endpoint = "add_base_model")]
pub async fn add_base_model(
    provider: String,
    name: String,
    version: String,
    modality: String,
    context_length: String,
    licence: String,
) -> Result<i64, AppError> {
    crate::state::respond_then(
        super::service::add_base_model(
            &provider,
            &name,
            &version,
            &modality,
            &context_length,
            &licence,
        )
        .await,
        "/base-models",
    )
}

#[server(prefix = "/api/fn", endpoint = "deprecate_base_model")]
pub async fn deprecate_base_model(id: i64) -> Result<(), AppError> {
    crate::state::respond_then(
        super::service::set_base_model_status(id, true).await,
        "/base-models",
    )
}

#[server(prefix = "/api/fn", endpoint = "reactivate_base_model")]
pub async fn reactivate_base_model(id: i64) -> Result<(), AppError> {
    crate::state::respond_then(
        super::service::set_base_model_status(id, false).await,
        "/base-models",
    )
}

#[server(prefix = "/api/fn", endpoint = "notifications")]
pub async fn notifications() -> Result<Vec<NotificationView>, AppError> {
    crate::state::respond(super::service::notifications().await)
}
