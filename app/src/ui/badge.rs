//! The label every first-party listing carries, wherever it appears.

use leptos::prelude::*;

#[component]
pub fn PlatformBadge() -> impl IntoView {
    view! {
        <span class="badge badge-platform" title="Published by the marketplace operator itself">
            "Platform-owned"
        </span>
    }
}
