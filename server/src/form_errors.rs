//! Error links of forms posted without JavaScript.
//!
//! The framework answers such a post by redirecting to the page it came
//! from (its Referer) with the error in the query (`__path`, `__err`), and
//! a page shows whatever error its URL carries. Two ways to abuse that are
//! closed here:
//!
//! - the redirect goes to a path of this site only: a Referer naming
//!   another host (or a protocol-relative `//host`) becomes `/`;
//! - a page shows an error only when the server wrote it: every error
//!   redirect is signed (`__sig`, HMAC-SHA256 with a key kept in the shared
//!   database, so any node accepts any node's links), and a page request
//!   whose error is unsigned or wrongly signed is redirected to the same
//!   page without it. A link crafted elsewhere can no longer put made-up
//!   text on a page in the site's own voice.

use crate::csrf::{origin_of, SiteOrigin};
use crate::edge::percent_decode;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use http::{header, HeaderValue, Method};
use sha2::Sha256;
use std::sync::Arc;

/// What the layer needs: the signing key and which origins are this site.
#[derive(Clone)]
pub struct FormErrorLinks {
    key: Arc<Vec<u8>>,
    site: Arc<SiteOrigin>,
}

impl FormErrorLinks {
    pub fn new(key: Vec<u8>, site: SiteOrigin) -> FormErrorLinks {
        FormErrorLinks {
            key: Arc::new(key),
            site: Arc::new(site),
        }
    }

    fn mac(&self, path: &[u8], err: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(path);
        mac.update(b"\n");
        mac.update(err);
        mac
    }

    fn sign(&self, path: &[u8], err: &[u8]) -> String {
        hex::encode(self.mac(path, err).finalize().into_bytes())
    }

    fn verify(&self, path: &[u8], err: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = hex::decode(sig) else {
            return false;
        };
        self.mac(path, err).verify_slice(&sig).is_ok()
    }
}

const KEYS: [&str; 3] = ["__path", "__err", "__sig"];

/// A query's pairs, raw (as written) and decoded.
fn pairs(query: &str) -> Vec<(&str, Vec<u8>, Vec<u8>)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                p,
                percent_decode(k.as_bytes(), true),
                percent_decode(v.as_bytes(), true),
            )
        })
        .collect()
}

fn value<'a>(pairs: &'a [(&str, Vec<u8>, Vec<u8>)], key: &str) -> Option<&'a [u8]> {
    pairs
        .iter()
        .find(|(_, k, _)| k == key.as_bytes())
        .map(|(_, _, v)| v.as_slice())
}

/// `path?query` without the error parameters.
fn without_error(path: &str, query: &str) -> String {
    let kept: Vec<&str> = pairs(query)
        .into_iter()
        .filter(|(_, k, _)| !KEYS.iter().any(|key| k == key.as_bytes()))
        .map(|(raw, _, _)| raw)
        .collect();
    if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// The redirect target if it stays on this site, else None.
fn same_site(location: &str, site: &SiteOrigin, host: Option<&str>) -> bool {
    if location.starts_with('/') {
        return !(location.starts_with("//") || location.starts_with("/\\"));
    }
    origin_of(location).is_some_and(|o| site.allows(o, host))
}

/// Splits a location into (everything before the query, the query, the
/// fragment with its `#`).
fn split(location: &str) -> (&str, &str, &str) {
    let (rest, fragment) = match location.find('#') {
        Some(i) => location.split_at(i),
        None => (location, ""),
    };
    let (base, query) = rest.split_once('?').unwrap_or((rest, ""));
    (base, query, fragment)
}

pub async fn signed_error_links(
    State(links): State<FormErrorLinks>,
    req: Request,
    next: Next,
) -> Response {
    // A page asked for with an error in its URL: shown only when signed.
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        if let Some(query) = req.uri().query() {
            let p = pairs(query);
            if KEYS.iter().any(|k| value(&p, k).is_some()) {
                let signed = match (value(&p, "__path"), value(&p, "__err"), value(&p, "__sig")) {
                    (Some(path), Some(err), Some(sig)) => links.verify(path, err, sig),
                    _ => false,
                };
                if !signed {
                    // A path such as `//host` would leave the site.
                    let path = req.uri().path();
                    let path = if same_site(path, &links.site, None) {
                        path
                    } else {
                        "/"
                    };
                    return Redirect::to(&without_error(path, query)).into_response();
                }
            }
        }
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let mut res = next.run(req).await;
    if !res.status().is_redirection() {
        return res;
    }
    let Some(location) = res
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned)
    else {
        return res;
    };
    let location = if same_site(&location, &links.site, host.as_deref()) {
        let (base, query, fragment) = split(&location);
        let p = pairs(query);
        let stripped = without_error(base, query);
        match (value(&p, "__path"), value(&p, "__err")) {
            (Some(path), Some(err)) => {
                let sig = links.sign(path, err);
                let kept: Vec<&str> = p
                    .iter()
                    .filter(|(_, k, _)| k != b"__sig")
                    .map(|(raw, _, _)| *raw)
                    .collect();
                format!("{base}?{}&__sig={sig}{fragment}", kept.join("&"))
            }
            _ => format!("{stripped}{fragment}"),
        }
    } else {
        tracing::warn!("a redirect to another site was replaced by the home page");
        "/".to_string()
    };
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_sites_paths_and_origin_are_redirect_targets() {
        let fixed = SiteOrigin::Fixed("https://fair.example".into());
        assert!(same_site("/account?x=1", &fixed, None));
        assert!(same_site("https://fair.example/orgs", &fixed, None));
        assert!(!same_site("https://evil.example/orgs", &fixed, None));
        assert!(!same_site("//evil.example/orgs", &fixed, None));
        assert!(!same_site("/\\evil.example", &fixed, None));
        assert!(!same_site("javascript:alert(1)", &fixed, None));
        let host = SiteOrigin::SameHost;
        assert!(same_site(
            "http://127.0.0.1:3000/x",
            &host,
            Some("127.0.0.1:3000")
        ));
        assert!(!same_site(
            "http://127.0.0.1:3001/x",
            &host,
            Some("127.0.0.1:3000")
        ));
    }

    #[test]
    fn signatures_bind_path_and_error() {
        let links = FormErrorLinks::new(vec![7; 32], SiteOrigin::SameHost);
        let sig = links.sign(b"/api/fn/a", b"eyJ4Ijp9");
        assert!(links.verify(b"/api/fn/a", b"eyJ4Ijp9", sig.as_bytes()));
        assert!(!links.verify(b"/api/fn/b", b"eyJ4Ijp9", sig.as_bytes()));
        assert!(!links.verify(b"/api/fn/a", b"eyJ4Ijp8", sig.as_bytes()));
        assert!(!links.verify(b"/api/fn/a", b"eyJ4Ijp9", b"00"));
        let other = FormErrorLinks::new(vec![8; 32], SiteOrigin::SameHost);
        assert!(!other.verify(b"/api/fn/a", b"eyJ4Ijp9", sig.as_bytes()));
    }

    #[test]
    fn error_parameters_are_removed_and_the_rest_kept() {
        assert_eq!(
            without_error("/p", "a=1&__err=x&__path=y&__sig=z&b=2"),
            "/p?a=1&b=2"
        );
        assert_eq!(without_error("/p", "__err=x"), "/p");
        assert!(!same_site("//evil.example", &SiteOrigin::SameHost, None));
        assert_eq!(split("/p?a=1#top"), ("/p", "a=1", "#top"));
    }
}
