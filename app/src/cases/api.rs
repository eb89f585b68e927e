//! Server functions for conflict cases.

use super::{CaseDetail, CasesData};
use crate::error::AppError;
use leptos::prelude::*;

/// Referees: every case; partners and clients: the cases concerning them.
#[server(prefix = "/api/fn", endpoint = "cases_list")]
pub async fn cases_list(#[server(default)] status: String) -> Result<CasesData, AppError> {
    crate::state::respond(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::list(&state, &actor, &status).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "case_page")]
pub async fn case_page(id: i64) -> Result<CaseDetail, AppError> {
    crate::state::respond(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::detail(&state, &actor, id).await
        }
        .await,
    )
}

/// `action`: acknowledge, sign_off (words = justification), resolve or
/// dismiss (words = note).
#[server(prefix = "/api/fn", endpoint = "decide_case")]
pub async fn decide_case(
    id: i64,
    action: String,
    #[server(default)] words: String,
) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::decide(&state, &actor, id, &action, &words).await
        }
        .await,
        &format!("/cases/{id}"),
    )
}

/// `about`: listing, ranking or data_use.
#[server(prefix = "/api/fn", endpoint = "open_complaint")]
pub async fn open_complaint(about: String, text: String) -> Result<i64, AppError> {
    let result = async {
        let (state, actor) = crate::auth::visit::current().await?;
        super::service::complain(&state, &actor, &about, &text).await
    }
    .await;
    let then = result
        .as_ref()
        .map(|id| format!("/cases/{id}"))
        .unwrap_or_default();
    crate::state::respond_then(result, &then)
}
