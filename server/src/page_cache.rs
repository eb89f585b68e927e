//! Rendered catalogue pages, kept per node and served to everyone.
//!
//! The home page and `/catalogue?…` look the same to every visitor, for as
//! long as the catalogue version and the minute (the ranking's clock) stay
//! the same, except for the header menu's items that name the signed-in
//! person (`app::auth::views::MenuItems`). Such a page is rendered once as
//! an anonymous visitor sees it and kept with its CSP nonce replaced by a
//! placeholder; later requests get a copy with their own nonce and, when
//! someone is signed in, their own menu items in place of "Sign in / Sign
//! up" (resolved from their session as any page does, so an expired
//! sign-in ends here too and activity is recorded). Any other path or
//! method, and any answer but a 200 HTML page that left the session
//! untouched, are passed through untouched. A page kept also keeps the
//! listings it showed, so every copy served counts as exposure just as a
//! fresh rendering would.

use app::auth::session_store::DbSessionStore;
use app::exposure::tally::{Seen, Shown};
use app::state::AppState;
use app::CspNonce;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{header, HeaderValue, Method, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tower_sessions::Session;

/// Pages kept at most; the whole set is dropped when full (a new minute or
/// catalogue version empties it anyway).
const MAX_PAGES: usize = 512;
/// Bigger pages are served but not kept.
const MAX_PAGE_BYTES: usize = 512 * 1024;
/// Stands for the nonce in a kept page; never a valid nonce (base64url has no `!`).
const PLACEHOLDER: &str = "!nonce!";
const MINUTE_MS: i64 = 60_000;
/// Where the header starts and ends; the menu items are looked for only
/// between the two, before any text a visitor or publisher typed.
const HEADER_OPEN: &str = "<header class=\"site-header\">";
const HEADER_CLOSE: &str = "</header>";

struct Kept {
    version: i64,
    minute: i64,
    /// The page as an anonymous visitor sees it, nonce replaced.
    body: String,
    /// Where the anonymous menu items start in `body`.
    menu_at: usize,
    /// The listings its rendering showed: each copy served counts them again.
    seen: Seen,
}

#[derive(Default, Clone)]
pub struct PageCache {
    /// Shared so a copy is made outside the lock.
    pages: Arc<Mutex<HashMap<String, Arc<Kept>>>>,
    /// The pages being rendered for keeping, each with a lock its renderer
    /// holds: requests for the same page meanwhile wait for that rendering
    /// instead of each rendering it again (every kept page goes stale at
    /// once when the minute turns).
    rendering: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// How long a request waits for another's rendering of the same page
/// before rendering it itself.
const WAIT_FOR_RENDERING: std::time::Duration = std::time::Duration::from_secs(2);

impl PageCache {
    /// A copy of the page kept under `key`, if it is current.
    fn copy(
        &self,
        key: &str,
        (version, minute): (i64, i64),
        menu: Option<&str>,
        nonce: &str,
    ) -> Option<(String, Seen)> {
        let kept = self
            .pages
            .lock()
            .ok()?
            .get(key)
            .filter(|k| k.version == version && k.minute == minute)
            .cloned()?;
        Some((copy_for(&kept, menu, nonce), kept.seen.clone()))
    }

    /// The lock of `key`'s rendering, and whether this caller is the
    /// renderer (the lock was free; the guard is held until it is kept).
    fn turn(
        &self,
        key: &str,
    ) -> Result<tokio::sync::OwnedMutexGuard<()>, Arc<tokio::sync::Mutex<()>>> {
        let lock = match self.rendering.lock() {
            Ok(mut map) => map.entry(key.to_string()).or_default().clone(),
            Err(_) => Arc::default(),
        };
        lock.clone().try_lock_owned().map_err(|_| lock)
    }

    /// The rendering of `key` is over (kept or not).
    fn rendered(&self, key: &str) {
        if let Ok(mut map) = self.rendering.lock() {
            map.remove(key);
        }
    }
}

fn cacheable(req: &Request) -> bool {
    req.method() == Method::GET && matches!(req.uri().path(), "/" | "/catalogue")
}

fn html_page(body: String) -> Response {
    let mut res = Response::new(Body::from(body));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

/// The menu items an anonymous visitor sees ("Sign in", "Sign up").
fn anonymous_menu() -> &'static str {
    static MENU: OnceLock<String> = OnceLock::new();
    MENU.get_or_init(|| app::auth::views::menu_items_html(None))
}

/// Where the anonymous menu items start in a rendered page's header.
fn menu_position(page: &str) -> Option<usize> {
    let open = page.find(HEADER_OPEN)?;
    let close = open + page[open..].find(HEADER_CLOSE)?;
    Some(open + page[open..close].find(anonymous_menu())?)
}

/// A kept page for one viewer: their menu items (None: the anonymous
/// ones, as kept) and their nonce.
fn copy_for(kept: &Kept, menu: Option<&str>, nonce: &str) -> String {
    let body = &kept.body;
    let Some(menu) = menu else {
        return body.replace(PLACEHOLDER, nonce);
    };
    let (before, rest) = body.split_at(kept.menu_at);
    let after = &rest[anonymous_menu().len()..];
    // The menu items are HTML of their own, without the placeholder.
    let mut out = before.replace(PLACEHOLDER, nonce);
    out.push_str(menu);
    out.push_str(&after.replace(PLACEHOLDER, nonce));
    out
}

/// Holds a page's rendering lock; on drop (kept, not kept, or the request
/// dropped) the lock is released and forgotten.
struct Rendering<'c> {
    cache: &'c PageCache,
    key: &'c str,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for Rendering<'_> {
    fn drop(&mut self) {
        self.cache.rendered(self.key);
    }
}

/// Who is looking, as the header shows them: the menu items for a signed-in
/// person, None for everyone else. Resolved from the session as every page
/// resolves it (`auth::actor::resolve_in`): a sign-in past its idle or
/// absolute limit is ended here, and activity is recorded.
async fn viewer_menu(
    state: &AppState,
    parts: &http::request::Parts,
) -> Result<Option<String>, app::error::AppError> {
    let Some(session) = parts.extensions.get::<Session>() else {
        return Ok(None);
    };
    let origin = app::request::Origin::of(parts, state.public_url.as_deref());
    let actor = app::auth::actor::resolve_in(state, session, &origin).await?;
    Ok(actor.map(|a| app::auth::views::menu_items_html(Some(app::auth::SignedInUser::of(a)))))
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
    // Rendering the page uses this read instead of making its own.
    let mut req = req;
    req.extensions_mut()
        .insert(app::catalogue::cache::VersionRead(version));
    let (parts, body) = req.into_parts();
    // Perhaps signed in: the cookie is looked up (a stale or foreign
    // cookie gets the anonymous menu).
    let with_cookie = parts.headers.contains_key(header::COOKIE);
    let menu = if with_cookie {
        match viewer_menu(&state, &parts).await {
            Ok(menu) => menu,
            // The page reports the error as any page does.
            Err(_) => return next.run(Request::from_parts(parts, body)).await,
        }
    } else {
        None
    };
    let minute = state.clock.now_ms().div_euclid(MINUTE_MS);
    let key = parts.uri.to_string();
    let shown = parts.extensions.get::<Shown>().cloned();
    let serve = |(body, seen): (String, Seen)| {
        if let Some(shown) = &shown {
            shown.add(&seen);
        }
        html_page(body)
    };
    if let Some(hit) = cache.copy(&key, (version, minute), menu.as_deref(), &nonce) {
        return serve(hit);
    }
    // One request renders a page for keeping; others asking for it
    // meanwhile wait for that (bounded), then take the copy it kept, or
    // render it themselves when it was not kept.
    let _renderer = match cache.turn(&key) {
        Ok(guard) => Some(Rendering {
            cache: &cache,
            key: &key,
            _guard: guard,
        }),
        Err(lock) => {
            let _ = tokio::time::timeout(WAIT_FOR_RENDERING, lock.lock()).await;
            if let Some(hit) = cache.copy(&key, (version, minute), menu.as_deref(), &nonce) {
                return serve(hit);
            }
            None
        }
    };
    tracing::debug!(page = %parts.uri.path(), waited = _renderer.is_none(), "rendering a catalogue page");
    // Rendered as an anonymous visitor sees it, its listings counted apart.
    // For a request with a cookie: without it, and with a session of its
    // own that nothing saves.
    let rendering = Shown::default();
    let mut anonymous = parts.clone();
    anonymous.extensions.insert(rendering.clone());
    let session = if with_cookie {
        let blank = Session::new(
            None,
            Arc::new(DbSessionStore::new(
                state.db.clone(),
                state.clock.clone(),
                state.sessions.idle,
            )),
            None,
        );
        anonymous.headers.remove(header::COOKIE);
        anonymous.extensions.insert(blank.clone());
        Some(blank)
    } else {
        parts.extensions.get::<Session>().cloned()
    };
    let res = next
        .clone()
        .run(Request::from_parts(anonymous, Body::empty()))
        .await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let keepable = res.status() == StatusCode::OK
        && is_html
        && !res.headers().contains_key(header::SET_COOKIE)
        && !session.is_some_and(|s| s.is_modified());
    if !keepable {
        if with_cookie {
            // Not a page for everyone: rendered for this viewer as usual.
            return next.run(Request::from_parts(parts, body)).await;
        }
        if let Some(shown) = &shown {
            shown.add(&rendering.snapshot());
        }
        return res;
    }
    let (res_parts, res_body) = res.into_parts();
    // The page is already whole in memory (pages render before the first byte).
    let bytes = match axum::body::to_bytes(res_body, usize::MAX).await {
        Ok(b) => b,
        Err(err) => {
            tracing::warn!(error = %err, "could not read a rendered page");
            return Response::from_parts(res_parts, Body::empty());
        }
    };
    let Some(kept) = std::str::from_utf8(&bytes).ok().and_then(|text| {
        let body = text.replace(&nonce, PLACEHOLDER);
        Some(Kept {
            version,
            minute,
            menu_at: menu_position(&body)?,
            body,
            seen: rendering.snapshot(),
        })
    }) else {
        tracing::error!("a catalogue page without the header's menu items; not kept");
        if with_cookie {
            return next.run(Request::from_parts(parts, body)).await;
        }
        if let Some(shown) = &shown {
            shown.add(&rendering.snapshot());
        }
        return Response::from_parts(res_parts, Body::from(bytes));
    };
    if let Some(shown) = &shown {
        shown.add(&kept.seen);
    }
    // An anonymous visitor gets the rendering as it is (it carries their
    // nonce); a signed-in one a copy with their menu.
    let page = match menu.as_deref() {
        None => Body::from(bytes.clone()),
        Some(menu) => Body::from(copy_for(&kept, Some(menu), &nonce)),
    };
    if bytes.len() <= MAX_PAGE_BYTES {
        if let Ok(mut pages) = cache.pages.lock() {
            if pages.len() >= MAX_PAGES {
                pages.clear();
            }
            pages.insert(key.clone(), Arc::new(kept));
        }
    }
    let mut res = Response::from_parts(res_parts, page);
    res.headers_mut().remove(header::CONTENT_LENGTH);
    res
}
