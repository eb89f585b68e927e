//! Rendered catalogue pages, kept per node and served to everyone.
//!
//! The home page and `/catalogue?…` look the same to every visitor, for as
//! long as the catalogue version and the minute (the ranking's clock) stay
//! the same, except for the header menu's items that name the signed-in
//! person (`app::auth::views::MenuItems`). Such a page is rendered once as
//! an anonymous visitor sees it and kept without its CSP nonce: the copies
//! name the page's own scripts by their SHA-256 hashes in the policy
//! instead (the scripts that carried the rendering's fresh nonce, which no
//! typed text can have known), so every anonymous visitor gets the same
//! bytes, compressed once per page and encoding rather than per response.
//! Someone signed in gets a copy with their own menu items in place of
//! "Sign in / Sign up" (resolved from their session as any page does, so an
//! expired sign-in ends here too and activity is recorded): in brotli, the
//! parts before and after the menu compressed once and joined around their
//! menu compressed alone. The rendering's own response keeps its nonce. Any other path or
//! method, and any answer but a 200 HTML page that left the session
//! untouched, are passed through untouched. A page kept also keeps the
//! listings it showed, so every copy served counts as exposure just as a
//! fresh rendering would.

use app::auth::session_store::DbSessionStore;
use app::exposure::tally::{Seen, Shown};
use app::metrics::{metrics, PageCacheOutcome};
use app::state::AppState;
use app::CspNonce;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use bytes::Bytes;
use http::{header, HeaderValue, Method, StatusCode};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tower_sessions::Session;

/// Pages kept at most; the whole set is dropped when full (a new minute or
/// catalogue version empties it anyway).
const MAX_PAGES: usize = 512;
/// Bigger pages are served but not kept.
const MAX_PAGE_BYTES: usize = 512 * 1024;
/// Brotli quality and gzip level of the shared copy of a kept page: made
/// on the page's first copy and served until the page goes stale. The
/// fastest, as pages compressed per response are (`http`): many kept pages
/// are copied only once or twice before they go stale (quality 5 cost
/// searches in rotation a quarter of their throughput).
const KEPT_BROTLI: u32 = 0;
const KEPT_GZIP: u32 = 1;
const MINUTE_MS: i64 = 60_000;
/// Where the header starts and ends; the menu items are looked for only
/// between the two, before any text a visitor or publisher typed.
const HEADER_OPEN: &str = "<header class=\"site-header\">";
const HEADER_CLOSE: &str = "</header>";

struct Kept {
    version: i64,
    minute: i64,
    /// The page as an anonymous visitor sees it, without the nonce.
    body: Bytes,
    /// Where the anonymous menu items start in `body`.
    menu_at: usize,
    /// The listings its rendering showed: each copy served counts them again.
    seen: Seen,
    /// The policy of its copies: its scripts named by hash.
    csp: HeaderValue,
    /// The anonymous copy compressed, each made on first use.
    br: OnceLock<Option<Bytes>>,
    gzip: OnceLock<Option<Bytes>>,
    /// What comes before and after the menu items, each compressed once
    /// as a brotli part (`assets::brotli_part`): a signed-in copy is these
    /// two joined around that person's menu items, compressed alone.
    parts_br: OnceLock<Option<(Bytes, Bytes)>>,
}

impl Kept {
    /// Keeps a page rendered with `nonce`: every script carrying that nonce
    /// is named by its hash, and the nonce taken out. None when the nonce
    /// shows anywhere but in a script's attribute (or where Leptos puts it
    /// in the preload links' `crossorigin`, which any value but
    /// `use-credentials` makes anonymous, as the empty value does), or the
    /// menu is missing.
    fn new(text: &str, nonce: &str, version: i64, minute: i64, seen: Seen) -> Option<Kept> {
        let text: &str = &text.replace(&format!(" crossorigin=\"{nonce}\""), " crossorigin=\"\"");
        let attribute = format!(" nonce=\"{nonce}\"");
        let mut hashes = String::new();
        let mut named = 0;
        let mut rest = text;
        while let Some(open) = rest.find("<script") {
            let tag_end = open + rest[open..].find('>')?;
            let close = tag_end + rest[tag_end..].find("</script>")?;
            if rest[open..tag_end].contains(&attribute) {
                let code = &rest[tag_end + 1..close];
                let hash = base64::engine::general_purpose::STANDARD
                    .encode(Sha256::digest(code.as_bytes()));
                hashes.push_str(&format!("'sha256-{hash}' "));
                named += 1;
            }
            rest = &rest[close..];
        }
        if named == 0 || text.matches(nonce).count() != named {
            return None;
        }
        let body = text.replace(&attribute, "");
        let csp =
            HeaderValue::from_str(&crate::http::content_security_policy(hashes.trim_end())).ok()?;
        Some(Kept {
            version,
            minute,
            menu_at: menu_position(&body)?,
            body: Bytes::from(body),
            seen,
            csp,
            br: OnceLock::new(),
            gzip: OnceLock::new(),
            parts_br: OnceLock::new(),
        })
    }

    /// The page before and after the anonymous menu items.
    fn around_menu(&self) -> (&[u8], &[u8]) {
        let (before, after) = self.body.split_at(self.menu_at);
        (before, &after[anonymous_menu().len()..])
    }

    /// The page as a brotli stream with `menu` in place of the anonymous
    /// menu items: the kept parts around them joined with the menu's own.
    fn brotli_with(&self, menu: &str) -> Option<Vec<u8>> {
        use crate::assets::{brotli_join, brotli_part};
        let (before, after) = self
            .parts_br
            .get_or_init(|| {
                let (before, after) = self.around_menu();
                Some((
                    brotli_part(before, true, KEPT_BROTLI as i32).ok()?.into(),
                    brotli_part(after, false, KEPT_BROTLI as i32).ok()?.into(),
                ))
            })
            .as_ref()?;
        let menu = brotli_part(menu.as_bytes(), false, KEPT_BROTLI as i32).ok()?;
        brotli_join(&[before, &menu, after])
    }

    /// A copy for one viewer: their menu items (None: the anonymous ones,
    /// as kept). Compressed here where that costs no compressing of the
    /// page (the anonymous copy once per encoding, a signed-in one in
    /// brotli joined from parts); otherwise left to the compression layer.
    fn copy(&self, menu: Option<&str>, accepts: &http::HeaderMap) -> Response {
        use crate::assets::Encoding;
        type Compress = fn(&[u8], u32) -> std::io::Result<Vec<u8>>;
        let shared = |slot: &OnceLock<Option<Bytes>>, compress: Compress, level| {
            slot.get_or_init(|| compress(&self.body, level).ok().map(Bytes::from))
                .clone()
        };
        let encoded = match (menu, crate::assets::preferred(accepts)) {
            (None, Encoding::Brotli) => {
                shared(&self.br, crate::assets::brotli, KEPT_BROTLI).map(|b| (b, "br"))
            }
            (None, Encoding::Gzip) => {
                shared(&self.gzip, crate::assets::gzip, KEPT_GZIP).map(|b| (b, "gzip"))
            }
            (Some(menu), Encoding::Brotli) => self.brotli_with(menu).map(|b| (b.into(), "br")),
            _ => None,
        };
        let mut res = match (encoded, menu) {
            (Some((bytes, name)), _) => {
                let mut res = html_page(Body::from(bytes));
                res.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
                res
            }
            (None, None) => html_page(Body::from(self.body.clone())),
            (None, Some(menu)) => {
                let (before, after) = self.around_menu();
                html_page(Body::from([before, menu.as_bytes(), after].concat()))
            }
        };
        // The compression layer adds no second one.
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        res
    }
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
    /// The page kept under `key`, if it is current.
    fn current(&self, key: &str, (version, minute): (i64, i64)) -> Option<Arc<Kept>> {
        self.pages
            .lock()
            .ok()?
            .get(key)
            .filter(|k| k.version == version && k.minute == minute)
            .cloned()
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

fn html_page(body: Body) -> Response {
    let mut res = Response::new(body);
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
/// person, None for everyone else. Decided as every page decides it
/// (`auth::actor`): from the session row read with the catalogue version
/// when that reading changes nothing, else through the session layer (a
/// sign-in past its idle or absolute limit is ended there, and activity is
/// recorded).
async fn viewer_menu(
    state: &AppState,
    parts: &http::request::Parts,
    stored: Option<app::auth::db::StoredSession>,
) -> Result<Option<String>, app::error::AppError> {
    use app::auth::actor::{resolve_in, resolve_stored, Stored};
    let origin = app::request::Origin::of(parts, state.public_url.as_deref());
    let actor = match resolve_stored(state, stored, &origin) {
        Stored::Nobody => None,
        Stored::Actor(actor) => Some(*actor),
        Stored::ThroughSession => match parts.extensions.get::<Session>() {
            Some(session) => resolve_in(state, session, &origin).await?,
            None => None,
        },
    };
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
    // Perhaps signed in: the cookie is looked up (a stale or foreign
    // cookie gets the anonymous menu).
    let with_cookie = req.headers().contains_key(header::COOKIE);
    let session_id = with_cookie
        .then(|| req.extensions().get::<Session>().and_then(Session::id))
        .flatten();
    // The version read is the one every catalogue search makes anyway; the
    // session a cookie names is read with it. If the read fails, the page
    // is rendered (and reports the error) as usual.
    let read = match session_id {
        Some(id) => {
            app::auth::db::catalogue_version_and_session(
                &state.db,
                &app::auth::session_store::key(&id),
                state.clock.now_ms(),
            )
            .await
        }
        None => app::catalogue::db::catalogue_version(&state.db)
            .await
            .map(|version| (version, None)),
    };
    let Ok((version, stored)) = read else {
        return next.run(req).await;
    };
    // Rendering the page uses this read instead of making its own.
    let mut req = req;
    req.extensions_mut()
        .insert(app::catalogue::cache::VersionRead(version));
    let (parts, body) = req.into_parts();
    let menu = if with_cookie {
        match viewer_menu(&state, &parts, stored).await {
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
    let serve = |kept: Arc<Kept>| {
        if let Some(shown) = &shown {
            shown.add(&kept.seen);
        }
        kept.copy(menu.as_deref(), &parts.headers)
    };
    if let Some(hit) = cache.current(&key, (version, minute)) {
        metrics().page_cache(PageCacheOutcome::Hit);
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
            if let Some(hit) = cache.current(&key, (version, minute)) {
                metrics().page_cache(PageCacheOutcome::Waited);
                return serve(hit);
            }
            None
        }
    };
    tracing::debug!(page = %parts.uri.path(), waited = _renderer.is_none(), "rendering a catalogue page");
    metrics().page_cache(PageCacheOutcome::Rendered);
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
    let Some(kept) = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| Kept::new(text, &nonce, version, minute, rendering.snapshot()))
    else {
        tracing::error!(
            "a catalogue page without the header's menu items, or with its nonce outside its scripts; not kept"
        );
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
    let kept = Arc::new(kept);
    if bytes.len() <= MAX_PAGE_BYTES {
        if let Ok(mut pages) = cache.pages.lock() {
            if pages.len() >= MAX_PAGES {
                pages.clear();
            }
            pages.insert(key.clone(), kept.clone());
        }
    }
    // The renderer too gets a copy (a signed-in one with their menu): for
    // an anonymous one, the shared bytes, compressed here once for it and
    // every copy after it. Sent as rendered, with its own nonce, the page
    // was compressed twice (for this answer, then for the first copy): a
    // tenth of the time of a search that misses this cache.
    drop(res_parts);
    kept.copy(menu.as_deref(), &parts.headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(nonce: &str, main: &str) -> String {
        format!(
            "<html><head><link rel=\"modulepreload\" href=\"/pkg/a.js\" crossorigin=\"{nonce}\">\
             <script type=\"module\" nonce=\"{nonce}\">start()</script></head><body>\
             {HEADER_OPEN}{}{HEADER_CLOSE}<main>{main}</main></body></html>\
             <script nonce=\"{nonce}\">__X=[];</script>",
            anonymous_menu()
        )
    }

    fn named(csp: &str, code: &str) -> bool {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(code));
        csp.contains(&format!("'sha256-{hash}'"))
    }

    #[test]
    fn a_kept_page_names_only_the_scripts_that_carried_the_nonce() {
        let nonce = "Qx7_fresh-nonce";
        // A script that got into the page without the nonce (as an injection
        // would) is not named, so a browser refuses it in every copy too.
        let kept = Kept::new(
            &page(nonce, "<script>alert(1)</script>"),
            nonce,
            1,
            1,
            Seen::default(),
        )
        .expect("kept");
        let csp = kept.csp.to_str().expect("ascii");
        assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
        assert!(named(csp, "start()") && named(csp, "__X=[];"), "{csp}");
        assert!(!named(csp, "alert(1)"), "{csp}");
        assert!(!csp.contains("nonce"), "{csp}");
        let body = std::str::from_utf8(&kept.body).expect("utf-8");
        assert!(!body.contains(nonce), "{body}");
        assert!(body.contains("crossorigin=\"\""), "{body}");
        // Nothing else changed: the rendering without its nonce.
        assert_eq!(
            body,
            page(nonce, "<script>alert(1)</script>")
                .replace(&format!(" nonce=\"{nonce}\""), "")
                .replace(&format!("crossorigin=\"{nonce}\""), "crossorigin=\"\"")
        );

        // A signed-in copy in brotli: the kept parts joined around the
        // person's own menu items.
        let menu = "<li><a href=\"/account\">R&amp;D Rowe \u{e9}</a></li>";
        let joined = kept.brotli_with(menu).expect("joined");
        let mut back = String::new();
        std::io::Read::read_to_string(
            &mut brotli::Decompressor::new(joined.as_slice(), 4096),
            &mut back,
        )
        .expect("brotli");
        assert_eq!(back, body.replacen(anonymous_menu(), menu, 1));
        assert!(back.contains("R&amp;D Rowe") && !back.contains(anonymous_menu()));

        // The nonce anywhere else: the page is not kept.
        let elsewhere = page(nonce, &format!("<p title=\"{nonce}\"></p>"));
        assert!(Kept::new(&elsewhere, nonce, 1, 1, Seen::default()).is_none());
    }
}
