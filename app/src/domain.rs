//! Values the forms are parsed into before a service sees them: a checked
//! address (slug), an amount of money in minor units, a currency. Parsing
//! answers the message a person sees next to the field.

use serde::{Deserialize, Serialize};

/// A URL-safe slug from free text: lower-case letters, digits and dashes.
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-')
        .chars()
        .take(60)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// An address part such as `chest-x-ray-triage`: 3 to 60 lower-case ASCII
/// letters and digits in dash-separated words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slug(String);

impl Slug {
    /// The slug typed, or one made from `name` when none was typed.
    pub fn parse_or_from(typed: &str, name: &str) -> Result<Slug, String> {
        let typed = typed.trim();
        let slug = if typed.is_empty() {
            slugify(name)
        } else {
            typed.to_string()
        };
        let valid = (3..=60).contains(&slug.len())
            && slug.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        if valid {
            Ok(Slug(slug))
        } else {
            Err(
                "Use 3 to 60 lower-case letters, digits and single dashes, e.g. chest-x-ray-triage."
                    .into(),
            )
        }
    }

    /// Stands in for a slug that failed to parse, in a form that has
    /// therefore failed and writes nothing.
    pub fn failed() -> Slug {
        Slug(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Currencies plans may be priced in; all have two decimal places.
pub const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "CHF"];

/// One of [`CURRENCIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency(&'static str);

impl Currency {
    pub fn parse(input: &str) -> Result<Currency, String> {
        let wanted = input.trim().to_uppercase();
        CURRENCIES
            .into_iter()
            .find(|c| *c == wanted)
            .map(Currency)
            .ok_or_else(|| "Choose EUR, USD, GBP or CHF.".to_string())
    }

    pub fn code(self) -> &'static str {
        self.0
    }
}

/// Largest amount accepted: 999,999,999,999.99 in any currency.
const MAX_WHOLE_DIGITS: usize = 12;

/// Parses "1234", "1234.5" or "1,234.50" into minor units; None when it is
/// not a non-negative amount with at most two decimals (or is absurdly big).
pub fn parse_money(input: &str) -> Option<i64> {
    let s: String = input.trim().chars().filter(|c| *c != ',').collect();
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s.as_str(), ""),
    };
    if whole.is_empty()
        || whole.len() > MAX_WHOLE_DIGITS
        || frac.len() > 2
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    whole.checked_mul(100)?.checked_add(frac)
}

/// An amount in minor units (cents), never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Minor(i64);

impl Minor {
    pub fn parse(input: &str) -> Result<Minor, String> {
        parse_money(input)
            .map(Minor)
            .ok_or_else(|| "Give an amount such as 49 or 49.90 (at most two decimals).".into())
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A whole count such as calls included in a plan: 0 to 10^12, commas allowed.
pub fn parse_count(input: &str) -> Result<i64, String> {
    match input.trim().replace(',', "").parse::<i64>() {
        Ok(n) if (0..=1_000_000_000_000).contains(&n) => Ok(n),
        _ => Err("Give a whole number of calls, 0 or more.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_into_minor_units_and_rejects_nonsense() {
        assert_eq!(parse_money("1,234.5"), Some(123_450));
        assert_eq!(parse_money("0"), Some(0));
        assert_eq!(parse_money(" 99.99 "), Some(9_999));
        for bad in ["", "-1", "1.234", "abc", "1.2.3", "1e3", "9999999999999"] {
            assert_eq!(parse_money(bad), None, "{bad}");
        }
        assert_eq!(Minor::parse("49.9").map(Minor::get), Ok(4_990));
        assert!(Minor::parse("-5").is_err());
        assert_eq!(parse_count("1,000"), Ok(1_000));
        assert!(parse_count("-1").is_err());
        assert!(parse_count("10000000000001").is_err());
    }

    #[test]
    fn slugs_are_typed_or_made_from_the_name() {
        assert_eq!(slugify("  Chest X-Ray Triage!! "), "chest-x-ray-triage");
        assert_eq!(slugify("Ünïcode — only"), "n-code-only");
        assert_eq!(slugify("***"), "");
        assert!(slugify(&"a".repeat(100)).len() <= 60);
        assert_eq!(
            Slug::parse_or_from("", "Chest X-Ray").map(|s| s.as_str().to_string()),
            Ok("chest-x-ray".into())
        );
        assert_eq!(
            Slug::parse_or_from(" my-model-2 ", "ignored").map(|s| s.as_str().to_string()),
            Ok("my-model-2".into())
        );
        for bad in ["ab", "Upper", "two--dashes", "-lead", "trail-", "sp ace"] {
            assert!(Slug::parse_or_from(bad, "").is_err(), "{bad}");
        }
    }

    #[test]
    fn currencies_are_a_closed_list() {
        assert_eq!(Currency::parse(" eur ").map(Currency::code), Ok("EUR"));
        assert!(Currency::parse("BTC").is_err());
    }
}
