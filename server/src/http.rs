//! The HTTP surface: routes, probes and the middleware every response passes.

use crate::csrf::{same_origin_only, SiteOrigin};
use app::auth::session_store::DbSessionStore;
use app::exposure::tally::{Shown, Visitor};
use app::state::AppState;
use app::{shell, App, CspNonce, REQUEST_ID_HEADER};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use base64::Engine as _;
use http::{header, HeaderName, HeaderValue, StatusCode};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use rand::RngCore as _;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::map_response_body::MapResponseBodyLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

/// How long `/readyz` waits for the database before answering 503.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Which stack a route outside Leptos sits behind.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behind {
    /// The machine API: an API key in a header a browser never sends on
    /// its own, so no session and no same-origin layer (no cookie can act
    /// on it).
    ApiKey,
    /// Sessions, the same-origin check and the rest, as pages.
    Session,
    /// The probes: read no cookie and change nothing, so, like the API,
    /// no session and no same-origin layer; the layers every response
    /// passes (request id, trace, security headers) still apply.
    Probe,
}

/// The routes outside Leptos, written once: the router mounts exactly these
/// and the route table lists exactly these.
fn plain_routes() -> Vec<(http::Method, &'static str, Behind, MethodRouter<AppState>)> {
    use http::Method;
    vec![
        (Method::GET, "/healthz", Behind::Probe, get(healthz)),
        (Method::GET, "/readyz", Behind::Probe, get(readyz)),
        (
            Method::GET,
            "/exports/invoices.csv",
            Behind::Session,
            get(app::subscriptions::export::invoices_csv),
        ),
        (
            Method::GET,
            "/exports/statements.csv",
            Behind::Session,
            get(app::subscriptions::export::statements_csv),
        ),
        (
            Method::GET,
            "/evaluation-sets/{industry}/{file}",
            Behind::Session,
            get(app::evaluations::api::set_jsonl),
        ),
        (
            Method::GET,
            "/neutrality-report/{month}/{file}",
            Behind::Session,
            get(app::neutrality::api::download),
        ),
        (
            Method::POST,
            "/api/v1/usage",
            Behind::ApiKey,
            post(app::metering::ingest::usage),
        ),
        (
            Method::POST,
            "/gateway/v1/chat/completions",
            Behind::ApiKey,
            post(app::gateway::api::chat_completions),
        ),
        (
            Method::GET,
            "/gateway/v1/models",
            Behind::ApiKey,
            get(app::gateway::api::models),
        ),
        (
            Method::GET,
            "/gateway/v1/openapi.json",
            Behind::ApiKey,
            get(app::gateway::api::document),
        ),
        (
            Method::GET,
            "/api/v1/openapi.json",
            Behind::ApiKey,
            get(app::metering::openapi::document),
        ),
    ]
}

/// Every route the server answers, as (method, path), sorted: the pages,
/// the probes and the server functions, from the same definitions the
/// router is built from. `fairground routes` prints it, and the tests walk
/// it so no route escapes the cross-site and permission checks.
pub fn route_table() -> Vec<(String, String)> {
    let mut table: Vec<(String, String)> = plain_routes()
        .into_iter()
        .map(|(method, path, _, _)| (method.to_string(), path.to_string()))
        .collect();
    for route in generate_route_list(App) {
        for method in route.methods() {
            table.push((
                format!("{method:?}").to_uppercase(),
                route.path().to_string(),
            ));
        }
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        table.push((method.to_string(), path.to_string()));
    }
    table.sort();
    table.dedup();
    table
}

/// The session cookie: HttpOnly, SameSite=Lax, host-only, path `/`; Secure
/// with the `__Host-` prefix when served over HTTPS. Expiry follows the idle
/// timeout, refreshed whenever the session is saved: only when it changed,
/// which for a signed-in person is at most once a minute (see
/// `auth::session`). The absolute lifetime is enforced when it is read.
fn session_layer(state: &AppState, secure: bool) -> SessionManagerLayer<DbSessionStore> {
    let store = DbSessionStore::new(state.db.clone(), state.clock.clone(), state.sessions.idle);
    let idle = time::Duration::try_from(state.sessions.idle).unwrap_or(time::Duration::minutes(30));
    SessionManagerLayer::new(store)
        .with_name(if secure {
            "__Host-fg_session"
        } else {
            "fg_session"
        })
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// How the HTTP surface is set up, besides the application's state.
pub struct Surface {
    /// Which origins count as this site.
    pub site: SiteOrigin,
    /// Secure, `__Host-` session cookies.
    pub secure_cookies: bool,
    /// Signs the error links of forms posted without JavaScript (see
    /// `form_errors`); every node of a deployment must have the same key
    /// (`db::site_key`).
    pub form_error_key: Vec<u8>,
    /// How long a request body may take to arrive.
    pub body_timeout: Duration,
    /// The built site's hashed assets.
    pub assets: Arc<crate::assets::Assets>,
    /// With a token, `GET /metrics` answers those who send it (`metrics`).
    pub metrics_token: Option<Arc<str>>,
}

pub fn router(state: AppState, surface: Surface) -> Router {
    let Surface {
        site,
        secure_cookies,
        form_error_key,
        body_timeout,
        assets,
        metrics_token,
    } = surface;
    let sessions = session_layer(&state, secure_cookies);
    let links = crate::form_errors::FormErrorLinks::new(form_error_key, site.clone());
    let hsts = site.is_https();
    let state_for_cache = state.clone();
    let state_for_exposure = state.clone();
    let state_for_front = state.clone();
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    let (mut api, mut pages) = (Router::new(), Router::new());
    for (_, path, behind, handler) in plain_routes() {
        match behind {
            Behind::ApiKey | Behind::Probe => api = api.route(path, handler),
            Behind::Session => pages = pages.route(path, handler),
        }
    }
    let api = api.with_state(state.clone());
    let api = match metrics_token {
        Some(token) => api.merge(crate::metrics::router(state.clone(), Some(token))),
        None => api,
    };
    let pages = pages
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(
                    links,
                    crate::form_errors::signed_error_links,
                ))
                .layer(middleware::from_fn_with_state(
                    Arc::new(site),
                    same_origin_only,
                ))
                .layer(sessions)
                .layer(middleware::from_fn_with_state(
                    state_for_exposure,
                    count_exposure,
                ))
                .layer(middleware::from_fn_with_state(
                    (state_for_cache, crate::page_cache::PageCache::default()),
                    crate::page_cache::anonymous_pages,
                )),
        );
    // Every response, the API's included.
    api.merge(pages).layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    // One line per response at INFO: status and latency.
                    .on_response(DefaultOnResponse::new().level(Level::INFO))
                    .on_failure(DefaultOnFailure::new().level(Level::WARN)),
            )
            .layer(PropagateRequestIdLayer::new(request_id))
            // The compressed body's type holds its encoders' state inline
            // (kilobytes, compressing or not): boxed here, the layers above
            // move a pointer instead. `perf` on `/healthz` found a fifth of
            // its time copying it, when two compression layers were stacked.
            .layer(MapResponseBodyLayer::new(axum::body::Body::new))
            // Pages and API answers are made per request (each page has its
            // own CSP nonce), so they are compressed at the fastest level:
            // brotli 4 cost 40 % of the catalogue's throughput; other answers
            // (CSV exports, files in the site without a hash) alike. Copies
            // of a kept catalogue page arrive compressed already (anonymous
            // ones once per page, signed-in ones in brotli joined from parts
            // compressed once; `page_cache`), as do the site's hashed assets
            // (compressed at build time, `assets`): this layer leaves an
            // answer that has a content encoding alone.
            .layer(
                CompressionLayer::new()
                    .quality(CompressionLevel::Fastest)
                    .compress_when(DefaultPredicate::new().and(not_relayed)),
            )
            // Security headers, the edge's screening and the hashed assets in
            // one layer: each `from_fn` layer copies the stack below it per
            // request, which `perf` showed as a fifth of a `/healthz` answer.
            .layer(middleware::from_fn_with_state(
                Arc::new(Front {
                    db: state_for_front.db.clone(),
                    hsts,
                    deadline: crate::edge::BodyDeadline(body_timeout),
                    assets,
                    routes: crate::metrics::RoutePatterns::new(&route_table()),
                }),
                front,
            )),
    )
}

/// What the front layer needs.
struct Front {
    /// Whether the database answers (see `watch_database`).
    db: app::db::Db,
    hsts: bool,
    deadline: crate::edge::BodyDeadline,
    assets: Arc<crate::assets::Assets>,
    /// Paths to route patterns, for the metrics.
    routes: crate::metrics::RoutePatterns,
}

/// Every request: a fresh script nonce; the edge's screening
/// ([`crate::edge::screen`]); the hashed assets answered from memory; the
/// rest passed on; and the security headers on every answer, refusals and
/// assets included.
async fn front(State(front): State<Arc<Front>>, mut req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let route = front.routes.pattern(req.uri().path());
    let nonce = new_nonce();
    let asset = req.uri().path().starts_with("/pkg/");
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let res = match crate::edge::screen(front.deadline, req).await {
        Err(refused) => refused,
        Ok(req) => match crate::assets::serve(&front.assets, &req) {
            Some(res) => res,
            // Fail closed while the database is out of reach: no page,
            // no metering, no gateway call it could not record.
            None if front.db.is_down() && !matches!(route, "/healthz" | "/readyz" | "/metrics") => {
                database_unavailable(&req)
            }
            None => next.run(req).await,
        },
    };
    app::metrics::metrics().request(route, &method, res.status().as_u16(), started.elapsed());
    security_headers(res, &nonce, asset, front.hsts)
}

/// The answer while the database is out of reach: the gateway's error in
/// OpenAI's shape, the API's in the project's, and for pages a plain page;
/// each 503 with `Retry-After`.
fn database_unavailable(req: &Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/gateway/") {
        return app::gateway::errors::GatewayError::NoDatabase.into_response();
    }
    let wants_html = req
        .headers()
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if path.starts_with("/api/") && !wants_html {
        return app::error::AppError::Unavailable {
            retry_after_secs: app::error::UNAVAILABLE_RETRY_SECS,
        }
        .into_response();
    }
    let page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
        <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
        <title>Fairground is unavailable for a moment</title></head>\
        <body><main><h1>Fairground is unavailable for a moment</h1>\
        <p>We cannot reach our database, so no page can be shown and nothing sent now can be saved. \
        Nothing was changed. Please try again in a minute.</p></main></body></html>\n";
    let mut res = (StatusCode::SERVICE_UNAVAILABLE, axum::response::Html(page)).into_response();
    let headers = res.headers_mut();
    headers.insert(
        http::header::RETRY_AFTER,
        app::error::UNAVAILABLE_RETRY_SECS.into(),
    );
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    res
}

/// The request's span: method, the route's pattern where one matched
/// (`/invitations/{token}`), never the query (paths and queries can carry
/// tokens), and the request id.
fn request_span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or_else(|| req.uri().path());
    tracing::info_span!("request", method = %req.method(), path = %path, request_id = %id)
}

/// Collects the listings a request shows (see `app::exposure::tally`) and,
/// if it succeeded, adds them to this node's exposure counts.
async fn count_exposure(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let shown = Shown::default();
    req.extensions_mut().insert(shown.clone());
    let session = req.extensions().get::<tower_sessions::Session>().cloned();
    let address = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let res = next.run(req).await;
    if res.status().is_success() {
        let seen = shown.snapshot();
        if seen.is_empty() {
            return res;
        }
        let user = match (&session, seen.views.is_empty()) {
            (Some(s), false) => s
                .get::<i64>(app::auth::session_store::USER_ID_KEY)
                .await
                .ok()
                .flatten(),
            _ => None,
        };
        let visitor = user.map_or_else(
            || Visitor::Address(address.map(|a| a.to_string()).unwrap_or_default()),
            Visitor::User,
        );
        let day = app::exposure::day_of(state.clock.now_ms());
        state.exposure.add_from(day, &visitor, &seen);
    }
    res
}

/// Not an answer the gateway relays (see `app::gateway::Relayed`), nor an
/// asset compressed at build time (`assets::Precompressed`).
fn not_relayed(
    _: StatusCode,
    _: http::Version,
    _: &http::HeaderMap,
    extensions: &http::Extensions,
) -> bool {
    extensions.get::<app::gateway::Relayed>().is_none()
        && extensions.get::<crate::assets::Precompressed>().is_none()
}

/// The process is up.
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// The process can serve: the database answers and is migrated.
async fn readyz(State(state): State<AppState>) -> Response {
    let checked = tokio::time::timeout(READY_TIMEOUT, state.db.ping()).await;
    // An answer ends a known outage at once; a failure here may be a
    // write lock held elsewhere (SQLite), so marking the database down is
    // left to the node's own watch, which reads.
    if matches!(checked, Ok(Ok(_))) {
        state.db.mark_answered(true);
    }
    match checked {
        Ok(Ok(_)) => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            not_ready()
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = READY_TIMEOUT.as_millis() as u64,
                "readiness check timed out"
            );
            not_ready()
        }
    }
}

fn not_ready() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({ "status": "unavailable", "reason": "database not reachable" })),
    )
        .into_response()
}

/// The one content security policy, with the page's own scripts named by
/// `scripts` (a nonce, or the hashes of a kept page's scripts).
pub(crate) fn content_security_policy(scripts: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' {scripts} 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Adds the security headers to every response. Pages get a fresh script
/// nonce per request: only scripts carrying it (the hydration scripts) run,
/// and `wasm-unsafe-eval` lets them instantiate the WebAssembly module.
///
/// Everything but the built assets under `/pkg/` is made per request and may
/// be someone's own (a new API key is shown once, an invoice, a session's
/// pages): `Cache-Control: private, no-store`, so neither the browser's
/// history nor a shared cache keeps a copy. Anonymous pages are not left to
/// a shared cache either: the views a page counts feed the exposure audit
/// (a cache would hide them), and a sign-in form carries its own token. The
/// hashed assets are cached for a year (`assets`); other files under
/// `/pkg/` are checked with the server each time (`no-cache`). With an
/// `https://` public URL, browsers are told to come back over HTTPS only,
/// for a year (HSTS; not for subdomains, which may be someone else's).
///
/// A response that already names its scripts keeps its policy: a copy of a
/// kept catalogue page names its scripts by hash instead of a nonce, so
/// that one compressed copy serves every anonymous visitor (`page_cache`).
fn security_headers(mut res: Response, nonce: &str, asset: bool, hsts: bool) -> Response {
    let headers = res.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(v) = HeaderValue::from_str(&content_security_policy(&format!("'nonce-{nonce}'")))
        {
            headers.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    if !asset {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    } else if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(crate::assets::UNHASHED),
        );
    }
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::new_nonce;

    #[test]
    fn nonces_are_fresh_and_csp_safe() {
        let a = new_nonce();
        let b = new_nonce();
        assert_ne!(a, b);
        assert_eq!(a.len(), 22, "16 random bytes, base64 without padding");
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
