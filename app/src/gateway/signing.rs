//! How a partner's server tells a call forwarded by Fairground from a
//! forgery. Every forwarded request carries three headers:
//!
//! - `Fairground-Request-Id`: a fresh id per call (and per attempt);
//! - `Fairground-Timestamp`: seconds since the Unix epoch, UTC;
//! - `Fairground-Signature`: `v1=` and the lower-case hex of
//!   HMAC-SHA256, keyed with the deployment's signing secret (the text
//!   shown once to the publisher, as it is), over
//!   `{timestamp}.{request id}.{body}`.
//!
//! The receiver recomputes the signature over the body as received,
//! compares in constant time, refuses a timestamp further than five
//! minutes from its clock, and remembers the request ids it has seen for
//! that long: an altered body, header or id fails, and a replay is caught
//! by its id (a replay under a new id fails the signature).

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const REQUEST_ID_HEADER: &str = "fairground-request-id";
pub const TIMESTAMP_HEADER: &str = "fairground-timestamp";
pub const SIGNATURE_HEADER: &str = "fairground-signature";
/// How far a timestamp may be from the receiver's clock.
pub const TOLERANCE_SECS: i64 = 300;

fn mac(secret: &str, timestamp: i64, request_id: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(request_id.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Fairground-Signature` value for a request.
pub fn sign(secret: &str, timestamp: i64, request_id: &str, body: &[u8]) -> String {
    format!(
        "v1={}",
        hex::encode(
            mac(secret, timestamp, request_id, body)
                .finalize()
                .into_bytes()
        )
    )
}

/// Why a request is not a genuine call from Fairground.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forged {
    /// A header is missing or not in its format.
    Malformed,
    /// The timestamp is too far from now (an old request played again).
    Stale,
    /// The signature does not match the secret, timestamp, id and body.
    BadSignature,
}

/// Checks a request's headers and body against `secret`, at `now_secs`.
/// Remembering ids already seen (replays within the tolerance) is the
/// caller's part.
pub fn verify(
    secret: &str,
    timestamp: &str,
    request_id: &str,
    signature: &str,
    body: &[u8],
    now_secs: i64,
) -> Result<(), Forged> {
    let at: i64 = timestamp.trim().parse().map_err(|_| Forged::Malformed)?;
    let given = signature
        .trim()
        .strip_prefix("v1=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(Forged::Malformed)?;
    if request_id.is_empty() {
        return Err(Forged::Malformed);
    }
    if (now_secs - at).abs() > TOLERANCE_SECS {
        return Err(Forged::Stale);
    }
    mac(secret, at, request_id, body)
        .verify_slice(&given)
        .map_err(|_| Forged::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "fgs_test-secret";

    #[test]
    fn a_signed_request_verifies_and_any_change_fails() {
        let body = br#"{"model":"triage","messages":[]}"#;
        let sig = sign(SECRET, 1_700_000_000, "req-1", body);
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64, "{sig}");
        let check = |secret: &str, ts: &str, id: &str, sig: &str, body: &[u8], now: i64| {
            verify(secret, ts, id, sig, body, now)
        };
        assert_eq!(
            check(SECRET, "1700000000", "req-1", &sig, body, 1_700_000_030),
            Ok(())
        );
        // Another body, id, timestamp or secret: refused.
        let altered = br#"{"model":"triage","messages":[1]}"#;
        assert_eq!(
            check(SECRET, "1700000000", "req-1", &sig, altered, 1_700_000_000),
            Err(Forged::BadSignature)
        );
        assert_eq!(
            check(SECRET, "1700000000", "req-2", &sig, body, 1_700_000_000),
            Err(Forged::BadSignature)
        );
        assert_eq!(
            check(SECRET, "1700000001", "req-1", &sig, body, 1_700_000_000),
            Err(Forged::BadSignature)
        );
        assert_eq!(
            check(
                "fgs_other",
                "1700000000",
                "req-1",
                &sig,
                body,
                1_700_000_000
            ),
            Err(Forged::BadSignature)
        );
        // Played again later than the tolerance: stale.
        assert_eq!(
            check(
                SECRET,
                "1700000000",
                "req-1",
                &sig,
                body,
                1_700_000_000 + TOLERANCE_SECS + 1
            ),
            Err(Forged::Stale)
        );
        assert_eq!(
            check(SECRET, "soon", "req-1", &sig, body, 1_700_000_000),
            Err(Forged::Malformed)
        );
        assert_eq!(
            check(
                SECRET,
                "1700000000",
                "req-1",
                "sha256=00",
                body,
                1_700_000_000
            ),
            Err(Forged::Malformed)
        );
        assert_eq!(
            check(SECRET, "1700000000", "", &sig, body, 1_700_000_000),
            Err(Forged::Malformed)
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_id_and_body() {
        // Computed independently:
        // printf '1.id.body' | openssl dgst -sha256 -hmac key
        assert_eq!(
            sign("key", 1, "id", b"body"),
            "v1=97bfc3bba68c0d0ec4fcf8b5964de9b872837ea292f27f168007ed42006fa834"
        );
    }
}
