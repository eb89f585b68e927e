//! Server functions of evaluations, and the download of a set's items.

use super::{EvaluationsPage, RunDetail};
use crate::error::AppError;
use leptos::prelude::*;

/// Sets, their versions and the latest runs (public).
#[server(prefix = "/api/fn", endpoint = "evaluations")]
pub async fn evaluations() -> Result<EvaluationsPage, AppError> {
    crate::state::respond(
        async {
            let (state, actor) = crate::auth::visit::viewer().await?;
            super::service::page(&state, actor.as_ref()).await
        }
        .await,
    )
}

/// One run, item by item (public).
#[server(prefix = "/api/fn", endpoint = "evaluation_run")]
pub async fn evaluation_run(id: i64) -> Result<RunDetail, AppError> {
    crate::state::respond(
        async {
            let (state, _) = crate::auth::visit::viewer().await?;
            super::service::run_detail(&state, id).await
        }
        .await,
    )
}

/// A referee publishes a new version of an industry's evaluation set.
#[server(prefix = "/api/fn", endpoint = "publish_evaluation_set")]
pub async fn publish_evaluation_set(
    industry: String,
    name: String,
    rule: String,
    #[server(default)] tolerance: String,
    items: String,
    reason: String,
) -> Result<i64, AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::publish_set(
                &state, &actor, &industry, &name, &rule, &tolerance, &items, &reason,
            )
            .await
        }
        .await,
        "/evaluations",
    )
}

/// A referee runs the industry's current set on a deployment; the browser
/// goes on to the run.
#[server(prefix = "/api/fn", endpoint = "run_evaluation")]
pub async fn run_evaluation(deployment_id: String) -> Result<i64, AppError> {
    let result = async {
        let (state, actor) = crate::auth::visit::current().await?;
        let id = deployment_id
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::field("deployment_id", "Choose a deployment from the list."))?;
        super::service::run(&state, &actor, id).await
    }
    .await;
    if let Ok(run) = &result {
        leptos_axum::redirect(&format!("/evaluations/runs/{run}"));
    }
    crate::state::respond(result)
}

/// `GET /evaluation-sets/{industry}/v{N}.jsonl`: a set version's items,
/// public, as JSON Lines.
#[cfg(feature = "ssr")]
pub async fn set_jsonl(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    axum::extract::Path((industry, file)): axum::extract::Path<(String, String)>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let version = file
        .strip_prefix('v')
        .and_then(|f| f.strip_suffix(".jsonl"))
        .and_then(|n| n.parse::<i64>().ok());
    let Some(version) = version else {
        return AppError::NotFound.into_response();
    };
    match super::service::set_items(&state, &industry, version).await {
        Ok(body) => crate::download::attachment(
            body,
            "application/jsonl; charset=utf-8",
            &format!("{industry}-v{version}.jsonl"),
        ),
        Err(e) => e.into_response(),
    }
}
