//! A permanent action asks once more before it is done. The first button a
//! person meets only opens a disclosure (`<details>`, native HTML: works
//! without JavaScript and from the keyboard) that says what will happen and
//! holds the real submit button. Placed inside the action's form.

use leptos::prelude::*;

#[component]
pub fn Confirm(
    /// What the first button says ("Revoke", "Retire listing").
    #[prop(into)]
    label: String,
    /// Its accessible name where the label alone is ambiguous in a list
    /// ("Revoke key ci-runner").
    #[prop(into, optional)]
    name: Option<String>,
    /// What happens, in a sentence.
    #[prop(into)]
    consequence: String,
    /// The real submit button ("Yes, revoke this key").
    #[prop(into)]
    confirm: String,
) -> impl IntoView {
    view! {
        <details class="confirm">
            <summary aria-label=name>{label}</summary>
            <div class="confirm-body">
                <p>{consequence}</p>
                <button type="submit" class="danger">{confirm}</button>
            </div>
        </details>
    }
}
