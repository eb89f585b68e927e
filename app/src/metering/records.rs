//! The records of a usage batch: their shape (every field present and of
//! the right type, else the whole request is refused) and each record's
//! judgement (accepted, or rejected with a reason).

use super::db;
use super::{Reason, DIMENSIONS, MAX_AGE_MS, MAX_AHEAD_MS, MAX_BATCH, MAX_KEY_LEN};
use crate::calendar::{days_from_civil, DAY_MS};
use serde_json::Value;
use std::collections::HashMap;

/// "2026-11-28T10:00:00Z" / "…T10:00:00.123+01:00" → ms since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    // An RFC 3339 date-time is ASCII; refusing anything else up front also
    // keeps every byte offset below on a character boundary.
    if !s.is_ascii() {
        return None;
    }
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let month_start = days_from_civil(y, mo as u32, 1);
    let (ny, nm) = if mo == 12 {
        (y + 1, 1)
    } else {
        (y, mo as u32 + 1)
    };
    if d > days_from_civil(ny, nm, 1) - month_start {
        return None;
    }
    let mut rest = &s[19..];
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &frac[..digits.min(3)]);
        ms = padded.parse::<i64>().ok()?;
        rest = &frac[digits..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && &rest[3..4] == ":" =>
        {
            let oh = rest[1..3].parse::<i64>().ok()?;
            let om = rest[4..6].parse::<i64>().ok()?;
            if oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if rest.starts_with('-') {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    Some(
        (month_start + d - 1) * DAY_MS
            + ((h * 60 + mi - offset_min) * 60 + sec.min(59)) * 1000
            + ms,
    )
}

/// A record whose fields all have the right types.
pub(super) struct Checked {
    pub key: String,
    pub subscription: i64,
    pub dimension: String,
    pub quantity: i64,
    pub occurred_at: i64,
}

/// The batch, or a precise message about the first field that is missing
/// or of the wrong type (the whole request is then refused).
pub(super) fn check_shape(body: &Value) -> Result<Vec<Checked>, String> {
    let records = body
        .get("records")
        .ok_or("The body must be an object with a `records` array.")?
        .as_array()
        .ok_or("`records` must be an array.")?;
    if records.is_empty() || records.len() > MAX_BATCH {
        return Err(format!(
            "`records` must hold 1 to {MAX_BATCH} records; it holds {}.",
            records.len()
        ));
    }
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let field = |name: &str| {
                r.get(name)
                    .ok_or_else(|| format!("records[{i}].{name} is missing."))
            };
            if !r.is_object() {
                return Err(format!("records[{i}] must be an object."));
            }
            let text = |name: &str| -> Result<String, String> {
                field(name)?
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("records[{i}].{name} must be a string."))
            };
            let int = |name: &str| -> Result<i64, String> {
                field(name)?
                    .as_i64()
                    .ok_or_else(|| format!("records[{i}].{name} must be a whole number (64-bit)."))
            };
            let occurred = text("occurred_at")?;
            Ok(Checked {
                key: text("idempotency_key")?,
                subscription: int("subscription_id")?,
                dimension: text("dimension")?,
                quantity: int("quantity")?,
                occurred_at: parse_rfc3339(&occurred).ok_or_else(|| {
                    format!("records[{i}].occurred_at must be an RFC 3339 date-time such as 2026-11-28T10:00:00Z.")
                })?,
            })
        })
        .collect()
}

/// Why a record is rejected, or None when it is accepted.
pub(super) fn judge(
    r: &Checked,
    org: i64,
    now: i64,
    subs: &HashMap<i64, db::Metered>,
) -> Option<Reason> {
    if r.key.is_empty() || r.key.chars().count() > MAX_KEY_LEN {
        return Some(Reason::InvalidKey);
    }
    if !DIMENSIONS.contains(&r.dimension.as_str()) {
        return Some(Reason::UnknownDimension);
    }
    if r.quantity <= 0 {
        return Some(Reason::NonPositiveQuantity);
    }
    if r.quantity > super::MAX_QUANTITY {
        return Some(Reason::QuantityTooLarge);
    }
    if r.occurred_at < now - MAX_AGE_MS {
        return Some(Reason::TooOld);
    }
    if r.occurred_at > now + MAX_AHEAD_MS {
        return Some(Reason::InFuture);
    }
    let Some(s) = subs.get(&r.subscription).filter(|s| s.publisher_org == org) else {
        return Some(Reason::UnknownSubscription);
    };
    if r.occurred_at < s.started_at || s.ended_at.is_some_and(|end| r.occurred_at >= end) {
        return Some(Reason::NotActive);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character of valid date-times replaced by, and every gap
    /// filled with, characters of one to four bytes and the separators: the
    /// parser answers (None, or a time) and never panics. Before the ASCII
    /// check, "…T10:00:00+1é:0" split a character and panicked the handler.
    #[test]
    fn rfc3339_parser_never_panics_on_mangled_input() {
        let samples = [
            "2026-11-23T01:00:00.5+01:00",
            "2026-11-22T23:30:00-00:30",
            "2026-11-23T00:00:00Z",
            "2026-11-23T00:00:00+1\u{e9}:0",
        ];
        let fillers = [
            '\u{e9}',
            '\u{20ac}',
            '\u{1d11e}',
            '\0',
            'Z',
            '+',
            '-',
            ':',
            '.',
            '9',
            'T',
        ];
        let mut tried = 0;
        for sample in samples {
            let chars: Vec<char> = sample.chars().collect();
            for i in 0..=chars.len() {
                for f in fillers {
                    let mut replaced = chars.clone();
                    if i < replaced.len() {
                        replaced[i] = f;
                    }
                    let mut inserted = chars.clone();
                    inserted.insert(i, f);
                    for candidate in [replaced, inserted] {
                        let text: String = candidate.into_iter().collect();
                        let _ = parse_rfc3339(&text);
                        // And every shorter prefix of it.
                        for (cut, _) in text.char_indices() {
                            let _ = parse_rfc3339(&text[..cut]);
                        }
                        tried += 1;
                    }
                }
            }
        }
        assert!(tried > 1_000, "{tried}");
        assert_eq!(parse_rfc3339("2026-11-23T00:00:00+1\u{e9}:0"), None);
    }

    #[test]
    fn rfc3339_times_parse_to_milliseconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-11-23T00:00:00Z"),
            Some(1_795_392_000_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-23T01:00:00.5+01:00"),
            Some(1_795_392_000_500)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T23:30:00-00:30"),
            Some(1_795_392_000_000)
        );
        for bad in [
            "",
            "2026-11-23",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-23T00:00:00",
            "2026-11-23T24:00:00Z",
            "2026-11-23T00:00:00.Z",
            "x026-11-23T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn shapes_are_checked_with_the_field_named() {
        let ok = serde_json::json!({"records": [{"idempotency_key": "a", "subscription_id": 1, "dimension": "calls", "quantity": 2, "occurred_at": "2026-11-23T00:00:00Z"}]});
        assert_eq!(check_shape(&ok).map(|r| r.len()), Ok(1));
        let wrong = serde_json::json!({"records": [{"idempotency_key": "a", "subscription_id": "1", "dimension": "calls", "quantity": 2, "occurred_at": "2026-11-23T00:00:00Z"}]});
        assert_eq!(
            check_shape(&wrong).err().as_deref(),
            Some("records[0].subscription_id must be a whole number (64-bit).")
        );
        let missing = serde_json::json!({"records": [{"idempotency_key": "a"}]});
        assert!(check_shape(&missing).err().unwrap().contains("records[0]."));
        assert!(check_shape(&serde_json::json!({"records": []})).is_err());
        assert!(check_shape(&serde_json::json!([])).is_err());
    }
}
