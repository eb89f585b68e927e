//! The labels every first-party listing carries, wherever it appears: the
//! platform's own, and a platform-affiliated partner's.

use leptos::prelude::*;

#[component]
pub fn PlatformBadge() -> impl IntoView {
    view! {
        <span class="badge badge-platform" title="Published by the marketplace operator itself">
            "Platform-owned"
        </span>
    }
}

/// A partner organisation with a member on the platform's staff, or
/// declared affiliated by a referee: first party under every non-compete
/// rule, and labelled so.
#[component]
pub fn AffiliatedBadge() -> impl IntoView {
    view! {
        <a class="badge badge-affiliated" href="/policy#affiliations"
            title="A partner tied to the marketplace operator (a member on its staff, or declared by a referee): treated as the platform's own">
            "Platform-affiliated"
        </a>
    }
}

/// Up to two initials of a publisher's name ("Aurora Labs" → "AL"), for its
/// avatar: letters only, so a name of symbols gives none.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// A publisher: initials in a circle (the same neutral colour for every
/// publisher, the platform included), then the name.
#[component]
pub fn Publisher(name: String) -> impl IntoView {
    let letters = initials(&name);
    view! {
        <span class="publisher">
            <span class="avatar" aria-hidden="true">{letters}</span>
            <span>{name}</span>
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_take_the_first_letter_of_two_words() {
        assert_eq!(initials("Aurora Labs"), "AL");
        assert_eq!(initials("northwind"), "N");
        assert_eq!(initials("St Brigid Hospital"), "SB");
        assert_eq!(initials("  élan  vital "), "ÉV");
        assert_eq!(initials("<script> & co"), "SC");
        assert_eq!(initials("& -- !!"), "");
    }
}
