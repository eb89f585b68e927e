//! Server functions and downloads of the monthly neutrality report.

use super::{ReportIndex, ReportPage};
use crate::error::AppError;
use leptos::prelude::*;

/// Public: one month's report ("2026-11").
#[server(prefix = "/api/fn", endpoint = "neutrality_report")]
pub async fn neutrality_report(month: String) -> Result<ReportPage, AppError> {
    crate::state::respond(
        async {
            let state = crate::state::app_state()?;
            super::report::page(&state, &month).await
        }
        .await,
    )
}

/// Public: the months there are reports for.
#[server(prefix = "/api/fn", endpoint = "neutrality_reports")]
pub async fn neutrality_reports() -> Result<ReportIndex, AppError> {
    crate::state::respond(
        async {
            let state = crate::state::app_state()?;
            super::report::index(&state).await
        }
        .await,
    )
}

/// `GET /neutrality-report/{month}/report.json` and `…/report.csv`
/// (public). The published JSON is served byte for byte: its SHA-256 is
/// the one in the audit log.
#[cfg(feature = "ssr")]
pub async fn download(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    axum::extract::Path((month, file)): axum::extract::Path<(String, String)>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let result = match file.as_str() {
        "report.json" => super::report::json(&state, &month).await.map(|body| {
            crate::download::attachment(
                body,
                "application/json",
                &format!("neutrality-report-{month}.json"),
            )
        }),
        "report.csv" => super::report::page(&state, &month).await.map(|p| {
            crate::download::attachment(
                super::csv(&p.report, p.published.as_ref()),
                "text/csv; charset=utf-8",
                &format!("neutrality-report-{month}.csv"),
            )
        }),
        _ => Err(AppError::NotFound),
    };
    result.unwrap_or_else(|e| e.into_response())
}
