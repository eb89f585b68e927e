//! The browser entry point. Pages are plain server HTML; only the islands
//! (`#[island]` components in `app`) are hydrated, each where it appears.

// The islands' exported entry points live in `app`: keep it linked.
pub use app::App as _App;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // The loader hydrates each island right after this returns, before the
    // next task: then the page is live. Marked so tests (and curious
    // people) can tell.
    leptos::prelude::set_timeout(
        || {
            if let Some(body) = leptos::prelude::document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}
