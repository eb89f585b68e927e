//! The edge: every request body arrives whole within a deadline (408
//! otherwise) and at most 2 MiB (413), and control characters are refused
//! before any handler sees them.
//!
//! A NUL byte or another control character has no place in a path, a query
//! or a submitted field; PostgreSQL cannot store NUL in text at all, and
//! the others hide what a name or a key shows. So every request carrying
//! one in its decoded path or query, or in a decoded form field or JSON
//! string, is answered 400 with a message that says so, on both backends
//! alike, and nothing is written. Tab, line feed and carriage return stay
//! allowed (multi-line text fields submit them).

use app::error::{ApiErrorBody, AppError};
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};

/// The largest body read at the edge; what is larger is refused with 413
/// (the handlers' own limits are smaller: the metering API's is 1 MiB).
pub const MAX_BODY: usize = 2 * 1024 * 1024;

const MESSAGE: &str =
    "Text may not contain control characters (such as NUL); remove them and send it again.";

/// A code point that is refused: C0 controls but tab, LF and CR; DEL; C1.
fn refused(c: u32) -> bool {
    (c < 0x20 && !matches!(c, 0x09 | 0x0A | 0x0D)) || (0x7F..=0x9F).contains(&c)
}

/// Bytes of UTF-8 (or anything) after decoding: a refused control byte, or
/// a C1 control encoded in UTF-8 (0xC2 0x80..=0x9F).
fn has_control(bytes: &[u8]) -> bool {
    bytes.iter().any(|b| refused(u32::from(*b)) && *b < 0x80)
        || bytes
            .windows(2)
            .any(|w| w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]))
}

/// Decodes `%XX` escapes (and `+` as a space when `plus` is set).
pub fn percent_decode(input: &[u8], plus: bool) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' if i + 2 < input.len() => match (hex(input[i + 1]), hex(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// A JSON text holding a refused control character, raw or as a `\uXXXX`
/// escape (an escape is one when an odd number of backslashes leads to it).
fn json_has_control(bytes: &[u8]) -> bool {
    if has_control(bytes) {
        return true;
    }
    let mut i = 0;
    while i + 5 < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes[i + 1] == b'u' {
                let code = std::str::from_utf8(&bytes[i + 2..i + 6])
                    .ok()
                    .and_then(|h| u32::from_str_radix(h, 16).ok());
                if code.is_some_and(refused) {
                    return true;
                }
            }
            // Skip the escaped character, so `\\u0000` is a backslash and text.
            i += 2;
            continue;
        }
        i += 1;
    }
    false
}

/// A body refused at the edge, in the one error shape: the metering API's
/// codes under `/api/v1/`, the application's elsewhere.
fn refuse(path: &str, status: StatusCode, message: &str) -> Response {
    let code = match (path.starts_with("/api/v1/"), status) {
        (_, StatusCode::PAYLOAD_TOO_LARGE) => "payload_too_large",
        (_, StatusCode::REQUEST_TIMEOUT) => "request_timeout",
        (true, _) => "invalid_request",
        (false, _) => return AppError::BadRequest(message.to_string()).into_response(),
    };
    (status, axum::Json(ApiErrorBody::new(code, message))).into_response()
}

/// How long a request body may take to arrive, whole.
#[derive(Clone, Copy, Debug)]
pub struct BodyDeadline(pub std::time::Duration);

/// Screens a request at the edge: a control character in its path or query
/// (decoded), or in a form or JSON body, is refused, and every body is read
/// whole within `deadline`. Returns the request to pass on (its body read)
/// or the refusal.
pub async fn screen(deadline: BodyDeadline, req: Request) -> Result<Request, Response> {
    let query = req.uri().query().unwrap_or("").as_bytes();
    if has_control(&percent_decode(req.uri().path().as_bytes(), false))
        || has_control(&percent_decode(query, true))
    {
        return Err(refuse(req.uri().path(), StatusCode::BAD_REQUEST, MESSAGE));
    }
    if matches!(
        *req.method(),
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    ) {
        return Ok(req);
    }
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let form = kind == "application/x-www-form-urlencoded";
    let json = kind == "application/json" || kind.ends_with("+json");
    // Every body is read whole here, within the deadline: a client that
    // trickles one byte at a time is answered 408 instead of holding a
    // handler (and perhaps a database connection) for as long as it likes.
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let bytes = match tokio::time::timeout(deadline.0, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(err)) => {
            let too_large = std::error::Error::source(&err)
                .is_some_and(|e| e.is::<http_body_util::LengthLimitError>());
            return Err(if too_large {
                refuse(
                    path,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "The body is too large.",
                )
            } else {
                refuse(path, StatusCode::BAD_REQUEST, "The body was cut off.")
            });
        }
        Err(_) => {
            return Err(refuse(
                path,
                StatusCode::REQUEST_TIMEOUT,
                "The body did not arrive in time.",
            ))
        }
    };
    let bad = if form {
        has_control(&percent_decode(&bytes, true))
    } else {
        json && json_has_control(&bytes)
    };
    if bad {
        return Err(refuse(path, StatusCode::BAD_REQUEST, MESSAGE));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_controls_are_found_and_ordinary_text_is_not() {
        assert!(has_control(&percent_decode(b"/listings/%00", false)));
        assert!(has_control(&percent_decode(b"name=a%1Fb&x=1", true)));
        assert!(has_control(&percent_decode(b"name=%C2%85", true)), "C1 NEL");
        assert!(has_control(&percent_decode(b"q=%7F", true)));
        assert!(!has_control(&percent_decode(
            b"description=line%0D%0Anext%09tab&name=Z%C3%BCrich+R%C3%BCck",
            true
        )));
        assert!(!has_control(&percent_decode(b"q=100%25+sure%", true)));
        assert!(!has_control("東京 ümlaut €".as_bytes()));
    }

    #[test]
    fn json_escapes_count_only_when_they_are_escapes() {
        assert!(json_has_control(br#"{"k":"a\u0000"}"#));
        assert!(json_has_control(br#"{"k":"a\u001b"}"#));
        assert!(json_has_control(br#"{"k":"\\\u0000"}"#));
        assert!(json_has_control(br#"{"k":"\u0085"}"#));
        assert!(
            !json_has_control(br#"{"k":"\\u0000"}"#),
            "a backslash, then text"
        );
        assert!(!json_has_control(br#"{"k":"line\nnext\t\u000a\u00e9"}"#));
        assert!(!json_has_control(br#"{"quantity":1}"#));
    }

    #[test]
    fn percent_decoding_survives_truncated_escapes() {
        assert_eq!(percent_decode(b"%", false), b"%");
        assert_eq!(percent_decode(b"a%4", false), b"a%4");
        assert_eq!(percent_decode(b"%41%zz", false), b"A%zz");
    }
}
