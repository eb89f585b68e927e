//! Server functions for API keys.

use super::{ApiKeysData, CreatedKey};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "api_keys")]
pub async fn api_keys() -> Result<ApiKeysData, AppError> {
    crate::state::respond(
        async {
            let visit = crate::auth::visit::Visit::current().await?;
            let actor = visit.actor().await?;
            super::service::list(&visit, &actor).await
        }
        .await,
    )
}

/// Makes a key; the answer carries the whole key, shown this once.
#[server(prefix = "/api/fn", endpoint = "create_api_key")]
pub async fn create_api_key(#[server(default)] name: String) -> Result<CreatedKey, AppError> {
    crate::state::respond_then(
        async {
            let visit = crate::auth::visit::Visit::current().await?;
            let actor = visit.actor().await?;
            super::service::create(&visit, &actor, &name).await
        }
        .await,
        "/org/api-keys",
    )
}

#[server(prefix = "/api/fn", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::revoke(&state, &actor, id).await
        }
        .await,
        "/org/api-keys",
    )
}
