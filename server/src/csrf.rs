//! Cross-site request protection. A request that can change state (any
//! method but GET, HEAD and OPTIONS) must show, by its Origin header or
//! failing that its Referer, that it comes from this site's own pages;
//! otherwise it is refused with 403 before it reaches a handler. Browsers
//! send Origin on every cross-site and every form POST, so this blocks
//! cross-site form posts and fetches whatever the cookies' SameSite says.

use app::error::AppError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, Method};
use std::sync::Arc;

/// Which origins count as this site.
#[derive(Debug, Clone)]
pub enum SiteOrigin {
    /// The configured public URL's origin, e.g. `https://fairground.example`.
    Fixed(String),
    /// No public URL configured: same host and port as the request's Host.
    SameHost,
}

impl SiteOrigin {
    /// Whether the site is served over HTTPS (a configured `https://`
    /// public URL): then browsers are told to use nothing else (HSTS).
    pub fn is_https(&self) -> bool {
        matches!(self, SiteOrigin::Fixed(o) if o.starts_with("https://"))
    }

    /// From FAIRGROUND_PUBLIC_URL (scheme://host[:port], any path ignored).
    pub fn from_public_url(url: Option<&str>) -> Result<SiteOrigin, String> {
        match url {
            None => Ok(SiteOrigin::SameHost),
            Some(u) => origin_of(u)
                .map(|o| SiteOrigin::Fixed(o.to_ascii_lowercase()))
                .ok_or_else(|| {
                    format!("FAIRGROUND_PUBLIC_URL must look like https://host[:port], got {u:?}")
                }),
        }
    }

    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.to_ascii_lowercase();
        match self {
            SiteOrigin::Fixed(o) => origin == *o,
            SiteOrigin::SameHost => match (authority_of(&origin), host) {
                (Some(a), Some(h)) => a == h.to_ascii_lowercase(),
                _ => false,
            },
        }
    }
}

/// `scheme://authority` of a URL, or None when it has no such prefix.
pub fn origin_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if end == 0 {
        return None;
    }
    Some(&url[..scheme.len() + 3 + end])
}

fn authority_of(origin: &str) -> Option<&str> {
    origin.split_once("://").map(|(_, a)| a)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

pub async fn same_origin_only(
    State(site): State<Arc<SiteOrigin>>,
    req: Request,
    next: Next,
) -> Response {
    if is_safe(req.method()) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let claimed = match headers.get(header::ORIGIN) {
        Some(o) => o.to_str().ok().map(str::to_owned),
        None => headers
            .get(header::REFERER)
            .and_then(|r| r.to_str().ok())
            .and_then(origin_of)
            .map(str::to_owned),
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match claimed {
        Some(origin) if site.allows(&origin, host) => next.run(req).await,
        claimed => {
            tracing::warn!(
                method = %req.method(),
                path = %req.uri().path(),
                origin = claimed.as_deref().unwrap_or("(none)"),
                "cross-site or unattributed state-changing request refused"
            );
            AppError::Forbidden.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_of_keeps_scheme_and_authority_only() {
        assert_eq!(
            origin_of("https://a.example:8443/x/y?z#w"),
            Some("https://a.example:8443")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:3000"),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(origin_of("null"), None);
        assert_eq!(origin_of("https:///path"), None);
    }

    #[test]
    fn same_host_compares_authority_with_the_host_header() {
        let s = SiteOrigin::SameHost;
        assert!(s.allows("http://127.0.0.1:3000", Some("127.0.0.1:3000")));
        assert!(!s.allows("http://127.0.0.1:3001", Some("127.0.0.1:3000")));
        assert!(!s.allows("https://evil.example", Some("127.0.0.1:3000")));
        assert!(!s.allows("null", Some("127.0.0.1:3000")));
        assert!(!s.allows("http://127.0.0.1:3000", None));
    }

    #[test]
    fn fixed_origin_must_match_exactly_scheme_included() {
        let s = SiteOrigin::from_public_url(Some("https://Fairground.example/app")).unwrap();
        assert!(s.allows("https://fairground.example", Some("anything")));
        assert!(!s.allows("http://fairground.example", Some("fairground.example")));
        assert!(SiteOrigin::from_public_url(Some("fairground.example")).is_err());
    }
}
