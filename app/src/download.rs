//! Files served as downloads (CSV, JSON Lines, JSON): the body with its
//! type, a file name, and no caching of what may be private; and CSV cells
//! that no spreadsheet reads as a formula.

use axum::body::Body;
use axum::response::Response;
use http::{header, HeaderValue};

/// A download named `filename` (ASCII letters, digits, `.`, `-`, `_`
/// only; anything else is replaced by `_`).
pub fn attachment(body: impl Into<Body>, content_type: &'static str, filename: &str) -> Response {
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut res = Response::new(body.into());
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A CSV cell: quoted when it must be, and never read as a formula by a
/// spreadsheet.
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("-1,2"), "\"'-1,2\"");
    }

    #[test]
    fn file_names_cannot_break_the_header() {
        let res = attachment("x", "text/csv; charset=utf-8", "a\"; b\r\n.csv");
        assert_eq!(
            res.headers()[header::CONTENT_DISPOSITION],
            "attachment; filename=\"a___b__.csv\""
        );
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    }
}
