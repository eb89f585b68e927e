//! The catalogue's compare button, an island: the one part of the search
//! page that runs in the browser. Without JavaScript it is a plain submit
//! button of the compare form (the listings' boxes belong to that form), and
//! the compare page itself refuses more than [`COMPARE_MAX`] listings.
//!
//! [`COMPARE_MAX`]: crate::catalogue::COMPARE_MAX

use leptos::prelude::*;

/// What the count line says for `ticked` boxes of at most `max`.
pub fn ticked_note(ticked: usize, max: usize) -> String {
    match ticked {
        0 => String::new(),
        n if n > max => format!("{n} ticked: untick {} to compare", n - max),
        1 => "1 ticked: tick one more to compare".to_string(),
        n => format!("{n} ticked"),
    }
}

/// With JavaScript, counts the ticked listings as they are ticked, says
/// so, and holds the button back while more than `max` are ticked.
#[island]
pub fn ComparePicker(max: usize) -> impl IntoView {
    let ticked = RwSignal::new(0usize);
    #[cfg(feature = "hydrate")]
    {
        let count = || {
            document()
                .query_selector_all("input[form=compare-form]:checked")
                .map(|list| list.length() as usize)
                .unwrap_or(0)
        };
        // After hydration: boxes the browser restored (back button) count too.
        Effect::new(move |_| ticked.set(count()));
        // The page lives until the next navigation: the listener with it.
        let _listener = window_event_listener(leptos::ev::change, move |_| ticked.set(count()));
    }
    let too_many = move || ticked.get() > max;
    view! {
        <button type="submit" disabled=too_many>
            {format!("Compare selected (up to {max})")}
        </button>
        " "
        <span class="compare-count" role="status">{move || ticked_note(ticked.get(), max)}</span>
    }
}

#[cfg(test)]
mod tests {
    use super::ticked_note;

    #[test]
    fn the_count_line_says_what_to_do() {
        assert_eq!(ticked_note(0, 4), "");
        assert_eq!(ticked_note(1, 4), "1 ticked: tick one more to compare");
        assert_eq!(ticked_note(4, 4), "4 ticked");
        assert_eq!(ticked_note(6, 4), "6 ticked: untick 2 to compare");
    }
}
