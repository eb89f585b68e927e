//! Numbers, money and dates as every page writes them.

pub use crate::calendar::date;

/// "EUR 1,234.50" from minor units.
pub fn format_money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{currency} {sign}{}.{:02}",
        group_digits(abs / 100),
        abs % 100
    )
}

/// "1,234,567".
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// "2026-11-30 09:41 UTC".
pub fn minute(ms: i64) -> String {
    let t = crate::calendar::rfc3339(ms);
    format!("{} UTC", t.get(..16).unwrap_or(&t).replace('T', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_counts_are_grouped() {
        assert_eq!(format_money(123_450, "EUR"), "EUR 1,234.50");
        assert_eq!(format_money(5, "USD"), "USD 0.05");
        assert_eq!(format_money(100_000_000, "GBP"), "GBP 1,000,000.00");
        assert_eq!(format_money(-250, "CHF"), "CHF -2.50");
        assert_eq!(group_digits(1_234_567), "1,234,567");
        assert_eq!(group_digits(999), "999");
    }
}
