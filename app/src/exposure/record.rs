//! What a request showed, added to the request's collection ([`Shown`],
//! set up by the HTTP layer) or, outside one, straight to the node's tally.

use super::tally::{Seen, Shown};
use crate::state::AppState;

/// Listings shown in catalogue results.
pub fn impressions(state: &AppState, ids: impl IntoIterator<Item = i64>) {
    note(
        state,
        Seen {
            impressions: ids.into_iter().collect(),
            views: Vec::new(),
        },
    );
}

/// Listings opened (a listing page, a compare column).
pub fn views(state: &AppState, ids: impl IntoIterator<Item = i64>) {
    note(
        state,
        Seen {
            impressions: Vec::new(),
            views: ids.into_iter().collect(),
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
