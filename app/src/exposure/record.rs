//! What a request showed, added to the request's collection ([`Shown`],
//! set up by the HTTP layer) or, outside one, straight to the node's tally.

use super::tally::{Seen, Shown};
use crate::state::AppState;

/// Listings shown in catalogue results outside the ranking's order (the
/// featured strip, results sorted by price or date).
pub fn impressions(state: &AppState, ids: impl IntoIterator<Item = i64>) {
    note(
        state,
        Seen {
            impressions: ids.into_iter().collect(),
            ..Seen::default()
        },
    );
}

/// Listings shown in ranked results, best first, and whether these are the
/// first places (the first page): its first `TOP_PLACES` are counted as
/// top impressions too.
pub fn ranked(state: &AppState, ids: impl IntoIterator<Item = i64>, first_page: bool) {
    let impressions: Vec<i64> = ids.into_iter().collect();
    let top = if first_page {
        impressions
            .iter()
            .copied()
            .take(super::TOP_PLACES)
            .collect()
    } else {
        Vec::new()
    };
    note(
        state,
        Seen {
            impressions,
            top,
            ..Seen::default()
        },
    );
}

/// Listings opened (a listing page, a compare column).
pub fn views(state: &AppState, ids: impl IntoIterator<Item = i64>) {
    note(
        state,
        Seen {
            views: ids.into_iter().collect(),
            ..Seen::default()
        },
    );
}

fn note(state: &AppState, seen: Seen) {
    if seen.is_empty() {
        return;
    }
    let shown = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<Shown>().cloned());
    match shown {
        Some(shown) => shown.add(&seen),
        None => state
            .exposure
            .add(super::day_of(state.clock.now_ms()), &seen),
    }
}
