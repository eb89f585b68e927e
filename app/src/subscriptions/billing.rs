//! The money rules, written once: overage pricing, the platform's fee and
//! the partner's payout, calendar months. All amounts are integer minor
//! units; rates are basis points.

use crate::calendar::{civil_from_days, days_from_civil, DAY_MS};

/// `n / d` rounded to the nearest integer, halves away from zero (`d` > 0).
/// The one rounding rule every amount on a statement goes through.
pub fn round_div(n: i128, d: i128) -> i64 {
    let q = if n >= 0 {
        (2 * n + d) / (2 * d)
    } else {
        -((-2 * n + d) / (2 * d))
    };
    q.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Calls above the plan's included ones, priced per 1,000 (pro rata, then rounded).
pub fn overage_minor(calls: i64, included: i64, per_1000_minor: i64) -> i64 {
    let over = (calls as i128 - included as i128).max(0);
    round_div(over * per_1000_minor as i128, 1000)
}

/// A month's bill for one subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bill {
    pub plan_fee: i64,
    pub overage: i64,
    pub total: i64,
    pub take_rate_bp: i64,
    pub platform_fee: i64,
    pub payout: i64,
}

/// Plan fee + overage = total; the platform's fee is the total at the take
/// rate (rounded once); the partner's payout is the rest, so the parts add
/// up to the total exactly.
pub fn bill(
    plan_fee: i64,
    calls: i64,
    included: i64,
    per_1000_minor: i64,
    take_rate_bp: i64,
) -> Bill {
    let overage = overage_minor(calls, included, per_1000_minor);
    // Saturating: no stored usage can make a statement panic; quantities
    // are bounded at ingest, so the ceiling is never reached in practice.
    let total = plan_fee.saturating_add(overage);
    let platform_fee = round_div(total as i128 * take_rate_bp as i128, 10_000);
    Bill {
        plan_fee,
        overage,
        total,
        take_rate_bp,
        platform_fee,
        payout: total.saturating_sub(platform_fee),
    }
}

/// (year, month 1–12) of an instant (UTC).
pub fn month_of(ms: i64) -> (i64, u32) {
    let (y, m, _) = civil_from_days(ms.div_euclid(DAY_MS));
    (y, m)
}

/// [start, end) of a calendar month in ms (UTC).
pub fn month_bounds(year: i64, month: u32) -> (i64, i64) {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    (
        days_from_civil(year, month, 1) * DAY_MS,
        days_from_civil(ny, nm, 1) * DAY_MS,
    )
}

/// The month before.
pub fn previous_month(year: i64, month: u32) -> (i64, u32) {
    if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    }
}

/// "2026-11".
pub fn month_label(year: i64, month: u32) -> String {
    format!("{year:04}-{month:02}")
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_div(5, 10), 1);
        assert_eq!(round_div(4, 10), 0);
        assert_eq!(round_div(15, 10), 2);
        assert_eq!(round_div(-5, 10), -1);
        assert_eq!(round_div(2499, 1000), 2);
        assert_eq!(round_div(2500, 1000), 3);
    }

    #[test]
    fn overage_is_priced_per_thousand_above_the_included_calls() {
        assert_eq!(overage_minor(900, 1000, 250), 0);
        assert_eq!(overage_minor(1000, 1000, 250), 0);
        assert_eq!(overage_minor(3000, 1000, 250), 500);
        // 1 call over at 2.50 per 1,000 = 0.25 minor units: rounds to 0.
        assert_eq!(overage_minor(1001, 1000, 250), 0);
        // 2 calls over: 0.5 → 1.
        assert_eq!(overage_minor(1002, 1000, 250), 1);
    }

    #[test]
    fn a_bill_splits_at_the_take_rate() {
        let b = bill(4900, 3000, 1000, 250, 2000);
        assert_eq!((b.plan_fee, b.overage, b.total), (4900, 500, 5400));
        assert_eq!((b.platform_fee, b.payout), (1080, 4320));
        // 12.5 % of 999 = 124.875 → 125.
        let b = bill(999, 0, 0, 0, 1250);
        assert_eq!((b.platform_fee, b.payout), (125, 874));
    }

    /// Usage far beyond anything ingest accepts still gives a statement
    /// whose parts add up, instead of an overflow.
    #[test]
    fn extreme_usage_saturates_instead_of_overflowing() {
        for (fee, calls, included) in [
            (i64::MAX, i64::MAX, 0),
            (1_000_000, i64::MAX, 0),
            (0, i64::MAX, i64::MAX),
            (5, 0, i64::MAX),
        ] {
            let b = bill(fee, calls, included, 1_000_000_000, 10_000);
            assert_eq!(b.platform_fee.saturating_add(b.payout), b.total, "{b:?}");
            assert!(b.total >= fee && b.payout >= 0, "{b:?}");
        }
        assert_eq!(overage_minor(i64::MAX, -1, 1000), i64::MAX);
    }

    /// Property: over random plans, usage and take rates, the parts add up
    /// to the total exactly, each part is within bounds, and the fee is the
    /// exact product rounded (never off by more than half a minor unit).
    #[test]
    fn parts_always_add_up_to_the_total() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed_f00d);
        for _ in 0..200_000 {
            let fee = rng.random_range(0..=10_000_000i64);
            let included = rng.random_range(0..=10_000_000i64);
            let calls = rng.random_range(0..=50_000_000i64);
            let per_1000 = rng.random_range(0..=100_000i64);
            let rate = rng.random_range(0..=10_000i64);
            let b = bill(fee, calls, included, per_1000, rate);
            assert_eq!(b.plan_fee + b.overage, b.total);
            assert_eq!(b.platform_fee + b.payout, b.total, "{b:?}");
            assert!(b.platform_fee >= 0 && b.payout >= 0, "{b:?}");
            let exact = b.total as i128 * rate as i128;
            assert!(
                (b.platform_fee as i128 * 10_000 - exact).abs() <= 5_000,
                "{b:?}"
            );
            let over = (calls - included).max(0) as i128 * per_1000 as i128;
            assert!((b.overage as i128 * 1000 - over).abs() <= 500, "{b:?}");
        }
    }

    #[test]
    fn months_have_their_calendar_bounds() {
        let (s, e) = month_bounds(2026, 11);
        assert_eq!(crate::calendar::date(s), "2026-11-01");
        assert_eq!(crate::calendar::date(e), "2026-12-01");
        assert_eq!(month_of(s), (2026, 11));
        assert_eq!(month_of(e - 1), (2026, 11));
        assert_eq!(month_of(e), (2026, 12));
        let (s, e) = month_bounds(2024, 2);
        assert_eq!((e - s) / 86_400_000, 29, "a leap February");
        let (s, _) = month_bounds(2026, 12);
        let (_, e) = month_bounds(2026, 12);
        assert_eq!(crate::calendar::date(e), "2027-01-01");
        assert_eq!(month_of(s), (2026, 12));
        assert_eq!(previous_month(2026, 1), (2025, 12));
        assert_eq!(month_label(2026, 3), "2026-03");
    }
}
