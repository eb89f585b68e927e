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
