//! The codes of two-step sign-in, without state: TOTP (RFC 6238 through
//! the `totp-rs` crate), the key and its `otpauth://` link and QR code,
//! recovery codes and their hashes, and the waits after wrong codes.

use crate::error::AppError;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per code.
pub const STEP_SECS: i64 = 30;
const DIGITS: usize = 6;
/// 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;
/// Letters and digits of a recovery code: no 0/o, 1/i/l look-alikes.
const CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Characters of a recovery code (12 of 31: 59 bits).
const CODE_CHARS: usize = 12;
/// Wrong codes in a row that cost nothing more than the rate limit.
const FREE_FAILURES: i64 = 5;
/// The longest wait after wrong codes.
const MAX_WAIT_MS: i64 = 60 * 60_000;

fn totp(secret_b32: &str) -> Result<TOTP, AppError> {
    let bytes = Secret::Encoded(secret_b32.to_string())
        .to_bytes()
        .map_err(|e| AppError::internal("totp secret", format!("{e:?}")))?;
    TOTP::new(Algorithm::SHA1, DIGITS, 0, STEP_SECS as u64, bytes)
        .map_err(|e| AppError::internal("totp secret", format!("{e:?}")))
}

/// The 30-second step `now_ms` falls in.
pub fn step_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000).div_euclid(STEP_SECS)
}

/// The step (this one, the one before or the one after) whose code `code`
/// is, if any. Compared in constant time by the TOTP crate.
pub fn matching_step(secret_b32: &str, code: &str, now_ms: i64) -> Result<Option<i64>, AppError> {
    let totp = totp(secret_b32)?;
    let now = step_of(now_ms);
    Ok([now, now - 1, now + 1]
        .into_iter()
        .filter(|s| *s >= 0)
        .find(|s| totp.check(code, (*s * STEP_SECS) as u64)))
}

/// A fresh random secret, base32 as authenticator apps take it.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    match Secret::Raw(bytes.to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => String::new(),
    }
}

/// `otpauth://` for authenticator apps; every character outside letters
/// and digits of the label is percent-encoded.
pub fn otpauth_uri(secret_b32: &str, email: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/Fairground:{}?secret={secret_b32}&issuer=Fairground&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(email)
    )
}

/// The QR code of `text` as an SVG path over a square of the returned
/// size (a quiet zone of four modules on every side).
pub(super) fn qr(text: &str) -> Result<(u32, String), AppError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| AppError::internal("qr", e))?;
    let width = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    // One rectangle per run of dark modules in a row.
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == qrcode::Color::Dark {
                let run = row[x..]
                    .iter()
                    .take_while(|c| **c == qrcode::Color::Dark)
                    .count();
                path.push_str(&format!("M{} {}h{run}v1h-{run}z", x + 4, y + 4));
                x += run;
            } else {
                x += 1;
            }
        }
    }
    Ok((width as u32 + 8, path))
}

/// Ten recovery codes, "abcd-efgh-jkmn".
pub fn new_recovery_codes() -> Vec<String> {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..CODE_CHARS)
                .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
                .collect();
            format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..])
        })
        .collect()
}

/// A typed code without spaces and hyphens, lower case.
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

pub(super) fn hash(code: &str) -> String {
    hex::encode(Sha256::digest(normalise(code).as_bytes()))
}

/// How long the account must still wait before the next code, after
/// `failures` wrong ones in a row: nothing for the first five, then one
/// minute, doubling up to an hour.
pub fn wait_ms(failures: i64, failed_at: Option<i64>, now: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let exp = (failures - FREE_FAILURES).min(6) as u32;
    let wait = (60_000i64 << exp).min(MAX_WAIT_MS);
    (failed_at.unwrap_or(0) + wait - now).max(0)
}

pub(super) fn six_digits(code: &str) -> Option<String> {
    let c = normalise(code);
    (c.len() == DIGITS && c.bytes().all(|b| b.is_ascii_digit())).then_some(c)
}

/// A code of `secret` given now: the step it belongs to, or `wrong`.
pub(super) fn step_of_code(
    secret: &str,
    code: &str,
    now: i64,
    wrong: impl FnOnce() -> AppError,
) -> Result<i64, AppError> {
    six_digits(code)
        .map(|c| matching_step(secret, &c, now))
        .transpose()?
        .flatten()
        .ok_or_else(wrong)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 vectors (8 digits there; the last
    /// six are the 6-digit code of the same step).
    #[test]
    fn codes_match_the_rfc_6238_vectors() {
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        for (t, eight) in [
            (59i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            let code = &eight[2..];
            assert_eq!(
                matching_step(&secret, code, t * 1000).expect("secret"),
                Some(t / STEP_SECS),
                "t={t}"
            );
            // One step of drift either way is accepted, two are not.
            assert!(matching_step(&secret, code, (t + STEP_SECS) * 1000)
                .expect("secret")
                .is_some());
            assert_eq!(
                matching_step(&secret, code, (t + 2 * STEP_SECS + 1) * 1000).expect("secret"),
                None
            );
        }
    }

    #[test]
    fn recovery_codes_are_distinct_and_typed_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        for c in &codes {
            assert_eq!(c.len(), 14, "{c}");
            assert_eq!(hash(c), hash(&c.to_uppercase().replace('-', " ")));
        }
    }

    #[test]
    fn waits_grow_after_five_wrong_codes_up_to_an_hour() {
        assert_eq!(wait_ms(4, Some(1_000), 1_000), 0);
        assert_eq!(wait_ms(5, Some(1_000), 1_000), 60_000);
        assert_eq!(wait_ms(6, Some(1_000), 1_000), 120_000);
        assert_eq!(wait_ms(5, Some(1_000), 61_000), 0);
        assert_eq!(wait_ms(40, Some(0), 0), MAX_WAIT_MS);
    }

    #[test]
    fn the_uri_names_the_account_without_breaking_out() {
        let uri = otpauth_uri("ABC", "a+b@x.org&secret=EVIL");
        assert!(uri
            .starts_with("otpauth://totp/Fairground:a%2Bb%40x%2Eorg%26secret%3DEVIL?secret=ABC&"));
    }
}
