//! CSV downloads of invoices (clients) and statements (publishers, or a
//! referee naming one, on the record). Plain GET links, so they work
//! without JavaScript; the same services and checks as the pages.

use super::StatementView;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use leptos::prelude::provide_context;
use leptos::reactive::computed::ScopedFuture;
use leptos::reactive::owner::Owner;
use std::future::Future;

/// Runs a service with the request's context, as server functions have it.
async fn in_context<T>(
    state: AppState,
    req: Request,
    work: impl Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let (parts, _) = req.into_parts();
    let owner = Owner::new();
    owner.with(|| {
        provide_context(state);
        provide_context(parts);
    });
    let out = owner.with(|| ScopedFuture::new(work)).await;
    owner.cleanup();
    out
}

use crate::download::csv_cell as cell;

fn amount(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        minor.unsigned_abs() / 100,
        minor.unsigned_abs() % 100
    )
}

/// The CSV of statements, one line per subscription and month.
pub fn csv(rows: &[StatementView]) -> String {
    let mut out = String::from(
        "month,subscription,listing,platform_owned,platform_affiliated,client,currency,calls,gateway_calls,reported_calls,included_calls,\
         plan_fee,overage,total,take_rate_bp,platform_fee,partner_payout,month_open\n",
    );
    for s in rows {
        let line = [
            cell(&s.month),
            s.subscription_id.to_string(),
            cell(&s.listing_name),
            s.platform_owned.to_string(),
            s.affiliated.to_string(),
            cell(&s.client),
            cell(&s.currency),
            s.calls.to_string(),
            s.gateway_calls.to_string(),
            s.reported_calls.to_string(),
            s.included_calls.to_string(),
            amount(s.plan_fee_minor),
            amount(s.overage_minor),
            amount(s.total_minor),
            s.take_rate_bp.to_string(),
            amount(s.platform_fee_minor),
            amount(s.payout_minor),
            s.open.to_string(),
        ];
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn download(result: Result<Vec<StatementView>, AppError>, name: &'static str) -> Response {
    match result {
        Ok(rows) => crate::download::attachment(
            csv(&rows),
            "text/csv; charset=utf-8",
            &format!("{name}.csv"),
        ),
        Err(err) => err.into_response(),
    }
}

/// `GET /exports/invoices.csv`: the client organisation's invoices.
pub async fn invoices_csv(State(state): State<AppState>, req: Request) -> Response {
    download(
        in_context(state, req, async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::client_statements(&state, &actor).await
        })
        .await,
        "invoices",
    )
}

/// `GET /exports/statements.csv[?org=ID]`: a publisher's statements.
pub async fn statements_csv(State(state): State<AppState>, req: Request) -> Response {
    let org = req
        .uri()
        .query()
        .and_then(|q| url_param(q, "org"))
        .unwrap_or_default();
    download(
        in_context(state, req, async move {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::publisher_page(&state, &actor, &org)
                .await
                .map(|d| d.statements)
        })
        .await,
        "statements",
    )
}

fn url_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| v.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_have_two_decimals() {
        assert_eq!(amount(4900), "49.00");
        assert_eq!(amount(5), "0.05");
    }
}
