//! `GET /metrics`: this node's figures (`app::metrics`) in the Prometheus
//! text format, behind a bearer token on the main address
//! (`FAIRGROUND_METRICS_TOKEN`) and/or alone on an address of its own
//! (`FAIRGROUND_METRICS_ADDR`).

use app::error::AppError;
use app::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

/// How long a scrape waits for the outbox count.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(2);

/// The label of a path that no route declares.
const UNMATCHED: &str = "unmatched";
/// The label of the site's hashed files.
const ASSETS: &str = "/pkg/{file}";

/// Request paths to the route patterns the router declares: a request for
/// `/listings/acme-notes` counts under `/listings/{slug}`, one for a path
/// no route has under `unmatched`.
pub struct RoutePatterns(matchit::Router<String>);

impl RoutePatterns {
    /// From the route table (`http::route_table`), with `/metrics` and the
    /// hashed files added.
    pub fn new(table: &[(String, String)]) -> RoutePatterns {
        let mut router = matchit::Router::new();
        let extra = ["/metrics".to_string(), ASSETS.to_string()];
        for path in table.iter().map(|(_, path)| path).chain(extra.iter()) {
            // The same path under several methods: inserted once.
            if let Err(err) = router.insert(path.as_str(), path.clone()) {
                if !matches!(err, matchit::InsertError::Conflict { .. }) {
                    tracing::warn!(%path, error = %err, "a route pattern the metrics cannot match");
                }
            }
        }
        RoutePatterns(router)
    }

    pub fn pattern(&self, path: &str) -> &str {
        self.0
            .at(path)
            .map(|m| m.value.as_str())
            .unwrap_or(UNMATCHED)
    }
}

/// A router with only `GET /metrics`; with a token, it asks for it.
pub fn router(state: AppState, token: Option<Arc<str>>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state((state, token))
}

/// Whether `headers` carry `Authorization: Bearer <token>`. Both sides are
/// hashed first, so how long the comparison takes says nothing about how
/// much of the token a guess got right.
fn authorised(headers: &HeaderMap, token: &str) -> bool {
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    Sha256::digest(sent.trim().as_bytes()) == Sha256::digest(token.as_bytes())
}

async fn metrics(
    State((state, token)): State<(AppState, Option<Arc<str>>)>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = &token {
        if !authorised(&headers, token) {
            let mut res = AppError::Unauthorized.into_response();
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return res;
        }
    }
    let pool = state.db.pool();
    let outbox = tokio::time::timeout(
        SAMPLE_TIMEOUT,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
            .fetch_one(pool),
    )
    .await
    .ok()
    .and_then(Result::ok);
    let sampled = app::metrics::Sampled {
        backend: state.db.backend().name(),
        pool_size: pool.size(),
        pool_idle: pool.num_idle(),
        pool_max: pool.options().get_max_connections(),
        outbox,
        redis_up: state.rate_limits.shared().map(|s| s.is_up()),
    };
    let body = app::metrics::metrics().render(&sampled);
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_count_under_their_route_pattern_never_as_requested() {
        // As `http::route_table` lists them (the integration tests count
        // requests against the real table).
        let table: Vec<(String, String)> = [
            ("GET", "/catalogue"),
            ("GET", "/listings/{publisher}/{slug}"),
            ("GET", "/listings/{slug}"),
            ("GET", "/subscriptions/{id}"),
            ("POST", "/api/fn/sign_up"),
            ("GET", "/neutrality-report/{month}"),
            ("GET", "/neutrality-report/{month}/{file}"),
            ("POST", "/gateway/v1/chat/completions"),
            ("GET", "/gateway/v1/models"),
        ]
        .iter()
        .chain(&[("HEAD", "/catalogue")])
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
        let routes = RoutePatterns::new(&table);
        assert_eq!(
            routes.pattern("/listings/acme-secret-notes"),
            "/listings/{slug}"
        );
        assert_eq!(
            routes.pattern("/listings/acme/notes"),
            "/listings/{publisher}/{slug}"
        );
        assert_eq!(routes.pattern("/subscriptions/42"), "/subscriptions/{id}");
        assert_eq!(routes.pattern("/catalogue"), "/catalogue");
        assert_eq!(
            routes.pattern("/pkg/fairground.0123456789abcdef.wasm"),
            ASSETS
        );
        assert_eq!(routes.pattern("/metrics"), "/metrics");
        assert_eq!(routes.pattern("/wp-admin/fgk_0123456789"), UNMATCHED);
        // Every declared path matches itself.
        for (_, path) in &table {
            assert_eq!(routes.pattern(path), path, "{path}");
        }
    }

    #[test]
    fn only_the_exact_bearer_token_opens_the_metrics() {
        let token = "0123456789abcdef0123456789abcdef";
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(authorised(&with(&format!("Bearer {token}")), token));
        assert!(!authorised(&with(&format!("Bearer {token}x")), token));
        assert!(!authorised(&with(&format!("Basic {token}")), token));
        assert!(!authorised(&with("Bearer "), token));
        assert!(!authorised(&HeaderMap::new(), token));
    }
}
