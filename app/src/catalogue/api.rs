//! Server functions for the catalogue and base models.

use super::{BaseModelsData, SearchResults};
use crate::error::AppError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    super::service,
    crate::auth::visit::{current, viewer},
    crate::state::{respond, respond_then},
};

/// The catalogue version the page cache read as this request began, if it did.
#[cfg(feature = "ssr")]
fn version_read() -> Option<super::cache::VersionRead> {
    use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<super::cache::VersionRead>().copied())
}

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
    respond(
        async {
            let state = crate::state::app_state()?;
            service::search(&state, &query, super::PAGE_SIZE, version_read()).await
        }
        .await,
    )
}

/// The top of the catalogue for the home page.
#[server(prefix = "/api/fn", endpoint = "home_listings")]
pub async fn home_listings() -> Result<SearchResults, AppError> {
    respond(
        async {
            let state = crate::state::app_state()?;
            let query = super::CatalogueQuery::default();
            service::search(&state, &query, HOME_PAGE_SIZE, version_read()).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "base_models")]
pub async fn base_models() -> Result<BaseModelsData, AppError> {
    respond(
        async {
            let (state, actor) = viewer().await?;
            service::base_models_page(&state, actor.as_ref()).await
        }
        .await,
    )
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
    let form = service::BaseModelForm {
        provider,
        name,
        version,
        modality,
        context_length,
        licence,
    };
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::add_base_model(&state, &actor, &form).await
        }
        .await,
        "/base-models",
    )
}

#[server(prefix = "/api/fn", endpoint = "deprecate_base_model")]
pub async fn deprecate_base_model(id: i64) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::set_base_model_status(&state, &actor, id, true).await
        }
        .await,
        "/base-models",
    )
}

#[server(prefix = "/api/fn", endpoint = "reactivate_base_model")]
pub async fn reactivate_base_model(id: i64) -> Result<(), AppError> {
    respond_then(
        async {
            let (state, actor) = current().await?;
            service::set_base_model_status(&state, &actor, id, false).await
        }
        .await,
        "/base-models",
    )
}
