//! The request's origin as a service sees it. A server function reads it
//! once (`auth::visit`) and passes it on; no service reads the request or
//! the Leptos context itself. A test builds one by hand.

use crate::state::AppState;

/// Where a request comes from and how it was sent: the facts services use
/// for rate limits, audit entries, the data-access record and links.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The client's address: the peer, or behind a trusted proxy the
    /// address it forwards for. Empty outside an HTTP request.
    pub client_ip: String,
    /// The browser as its User-Agent describes it, without control
    /// characters, at most 160 characters (shown on the sessions list).
    pub device: String,
    /// An HTML form posted without JavaScript: the answer is a redirect, so
    /// anything to show once (a new key) must wait in the session.
    pub plain_form: bool,
    /// Sent by one of this site's own pages (see [`Origin::of`]); a read of
    /// partner data from elsewhere is recorded as such.
    pub from_own_pages: bool,
    /// The site's own URL for links: the configured public URL, or the host
    /// the request was sent to.
    pub site_url: String,
}

impl Origin {
    /// The facts of a request. It came from this site's own pages when it
    /// is not a GET or HEAD (those passed the same-origin check before they
    /// got here), or the browser says so (`Sec-Fetch-Site: same-origin`),
    /// or, from a browser that does not send that header, its `Referer` is a
    /// page of this site. A GET with neither (a link from elsewhere, a
    /// bookmark, a script) did not.
    pub fn of(parts: &http::request::Parts, public_url: Option<&str>) -> Origin {
        let header = |name: http::header::HeaderName| {
            parts
                .headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let host = header(http::header::HOST);
        let site_url = match public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", host.as_deref().unwrap_or("localhost")),
        };
        let authority = |url: &str| {
            url.split_once("://")
                .and_then(|(_, rest)| rest.split('/').next())
                .map(str::to_ascii_lowercase)
        };
        let from_own_pages = if !matches!(parts.method, http::Method::GET | http::Method::HEAD) {
            true
        } else if let Some(site) = header(http::header::HeaderName::from_static("sec-fetch-site")) {
            site == "same-origin"
        } else {
            let site = match public_url {
                Some(url) => authority(url),
                None => host.map(|h| h.to_ascii_lowercase()),
            };
            match (header(http::header::REFERER), site) {
                (Some(referer), Some(site)) => {
                    authority(&referer).as_deref() == Some(site.as_str())
                }
                _ => false,
            }
        };
        Origin {
            client_ip: parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default(),
            device: header(http::header::USER_AGENT)
                .map(|ua| ua.chars().filter(|c| !c.is_control()).take(160).collect())
                .unwrap_or_default(),
            plain_form: header(http::header::ACCEPT).is_some_and(|v| v.contains("text/html")),
            from_own_pages,
            site_url,
        }
    }

    /// The facts of the request being served; none (defaults) outside one.
    pub fn current(state: &AppState) -> Origin {
        leptos::prelude::use_context::<http::request::Parts>()
            .map(|p| Origin::of(&p, state.public_url.as_deref()))
            .unwrap_or_else(|| Origin {
                site_url: state
                    .public_url
                    .as_deref()
                    .map(|u| u.trim_end_matches('/').to_string())
                    .unwrap_or_else(|| "http://localhost".into()),
                ..Origin::default()
            })
    }
}
