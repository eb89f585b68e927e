//! Rendered catalogue pages for anonymous visitors, kept per node.
//!
//! The home page and `/catalogue?…` look the same to every visitor who is
//! not signed in, for as long as the catalogue version and the minute (the
//! ranking's clock) stay the same. Such a page is rendered once and kept with
//! its CSP nonce replaced by a placeholder; later requests get a copy with
//! their own nonce. A request with any cookie, any other path or method, and
//! any answer but a 200 HTML page are passed through untouched. A page kept
//! also keeps the listings it showed, so every copy served counts as
//! exposure just as a fresh rendering would.

use app::exposure::tally::{Seen, Shown};
use app::state::AppState;
use app::CspNonce;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{header, HeaderValue, Method, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Pages kept at most; the whole set is dropped when full (a new minute or
/// catalogue version empties it anyway).
const MAX_PAGES: usize = 512;
/// Bigger pages are served but not kept.
const MAX_PAGE_BYTES: usize = 512 * 1024;
/// Stands for the nonce in a kept page; never a valid nonce (base64url has no `!`).
const PLACEHOLDER: &str = "!nonce!";
const MINUTE_MS: i64 = 60_000;

struct Kept {
    version: i64,
    minute: i64,
    body: String,
    /// The listings its rendering showed: each copy served counts them again.
    seen: Seen,
}

#[derive(Default, Clone)]
pub struct PageCache {
    pages: Arc<Mutex<HashMap<String, Kept>>>,
}

fn cacheable(req: &Request) -> bool {
    req.method() == Method::GET
        && matches!(req.uri().path(), "/" | "/catalogue")
        && !req.headers().contains_key(header::COOKIE)
}

fn html_page(body: String) -> Response {
    let mut res = Response::new(Body::from(body));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

pub async fn anonymous_pages(
    State((state, cache)): State<(AppState, PageCache)>,
    req: Request,
    next: Next,
) -> Response {
    if !cacheable(&req) {
        return next.run(req).await;
    }
    let Some(CspNonce(nonce)) = req.extensions().get::<CspNonce>().cloned() else {
        return next.run(req).await;
    };
    // The version read is the one every catalogue search makes anyway; if
    // it fails, the page is rendered (and reports the error) as usual.
    let Ok(version) = app::catalogue::db::catalogue_version(&state.db).await else {
        return next.run(req).await;
    };
    let minute = state.clock.now_ms().div_euclid(MINUTE_MS);
    let key = req.uri().to_string();
    let shown = req.extensions().get::<Shown>().cloned();
    let hit = cache.pages.lock().ok().and_then(|pages| {
        pages
            .get(&key)
            .filter(|k| k.version == version && k.minute == minute)
            .map(|k| (k.body.replace(PLACEHOLDER, &nonce), k.seen.clone()))
    });
    if let Some((body, seen)) = hit {
        if let Some(shown) = &shown {
            shown.add(&seen);
        }
        return html_page(body);
    }
    let res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if res.status() != StatusCode::OK || !is_html || res.headers().contains_key(header::SET_COOKIE)
    {
        return res;
    }
    let (parts, body) = res.into_parts();
    // The page is already whole in memory (pages render before the first byte).
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(err) => {
            tracing::warn!(error = %err, "could not read a rendered page");
            return Response::from_parts(parts, Body::empty());
        }
    };
    let text = (bytes.len() <= MAX_PAGE_BYTES)
        .then(|| std::str::from_utf8(&bytes).ok())
        .flatten();
    if let (Some(text), Ok(mut pages)) = (text, cache.pages.lock()) {
        if pages.len() >= MAX_PAGES {
            pages.clear();
        }
        pages.insert(
            key,
            Kept {
                version,
                minute,
                body: text.replace(&nonce, PLACEHOLDER),
                seen: shown.map(|s| s.snapshot()).unwrap_or_default(),
            },
        );
    }
    Response::from_parts(parts, Body::from(bytes))
}
