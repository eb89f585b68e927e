//! The frame around every page: header (with the account menu) and footer.

use leptos::prelude::*;

#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="site-header">
            <a class="brand" href="/">"Fairground"</a>
            // On a narrow screen the menu folds behind this switch: a
            // checkbox and its label, so it opens without JavaScript.
            <input type="checkbox" id="menu-switch" class="menu-switch"/>
            <label for="menu-switch" class="menu-button">"Menu"</label>
            <nav aria-label="Main">
                <ul>
                    <li><a href="/catalogue">"Catalogue"</a></li>
                    <li><a href="/base-models">"Base models"</a></li>
                    <li><a href="/policy">"Policy"</a></li>
                    <crate::auth::views::AccountMenu/>
                </ul>
            </nav>
        </header>
    }
}

#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>
                "Fairground is a neutral marketplace: the operator's own listings are always "
                "labelled as platform-owned and never placed ahead of partners' listings. "
                <a href="/policy">"Marketplace policy"</a>
                " · "
                <a href="/exposure">"Exposure"</a>
                " · "
                <a href="/neutrality-report">"Neutrality reports"</a>
                " · "
                <a href="/evaluations">"Evaluations"</a>
                " · "
                <a href="/api">"Metering API"</a>
            </p>
            <crate::ui::in_place::FormsInPlace/>
        </footer>
    }
}
