//! Form pieces every page uses: a page's own action, labelled inputs and
//! select boxes, and error messages tied to their control (`aria-invalid`
//! says the control is wrong and `aria-describedby` names the message).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The id of the message shown under `field`.
pub fn error_id(field: &str) -> String {
    format!("{field}-error")
}

/// `aria-invalid` of the control of `field`: "true" while `error` has a
/// message for it.
pub fn invalid(error: Signal<Option<AppError>>, field: &'static str) -> impl Fn() -> &'static str {
    move || {
        if error
            .get()
            .is_some_and(|e| !e.messages_for(field).is_empty())
        {
            "true"
        } else {
            "false"
        }
    }
}

/// The message for `field`, placed under its control.
pub fn field_error(error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    view! {
        <p class="field-error" id=error_id(field)>
            {move || error.get().map(|e| e.messages_for(field).join(" ")).unwrap_or_default()}
        </p>
    }
}

/// A page's own action, for its `ActionForm`: the form posts to the
/// action's server function, and when that fails the page reads the error
/// back from the address it is sent back to (`action.value()`, filled on
/// the server). Nothing of it runs in the browser.
pub fn page_action<S>() -> ServerAction<S>
where
    S: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static + leptos::server_fn::error::FromServerFnError,
{
    ServerAction::<S>::new()
}

/// An error that belongs to no single field, shown above the form.
#[component]
pub fn FormAlert(
    #[prop(into)] error: Signal<Option<AppError>>,
    fields: &'static [&'static str],
) -> impl IntoView {
    let message = move || {
        error.get().and_then(|e| match &e {
            AppError::Validation { fields: f } => {
                let other: Vec<String> = f
                    .iter()
                    .filter(|(k, _)| !fields.contains(&k.as_str()))
                    .flat_map(|(_, v)| v.clone())
                    .collect();
                (!other.is_empty()).then(|| other.join(" "))
            }
            other => Some(other.to_string()),
        })
    };
    view! {
        <Show when=move || message().is_some()>
            <p class="form-alert" role="alert">{message}</p>
        </Show>
    }
}

/// A labelled input with its error message next to it.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    input_type: &'static str,
    autocomplete: &'static str,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(optional)] hint: &'static str,
    /// Initial value (never used for passwords).
    #[prop(optional, into)]
    value: Option<String>,
    /// The field may be left empty.
    #[prop(optional)]
    optional: bool,
) -> impl IntoView {
    let messages = move || {
        error
            .get()
            .map(|e| e.messages_for(name).join(" "))
            .unwrap_or_default()
    };
    let invalid = move || (!messages().is_empty()).to_string();
    let error_id = format!("{name}-error");
    let described = error_id.clone();
    view! {
        <div class="field">
            <label for=name>{label}</label>
            {(!hint.is_empty()).then(|| view! { <small class="hint">{hint}</small> })}
            <input
                id=name
                name=name
                type=input_type
                autocomplete=autocomplete
                required=!optional
                aria-invalid=invalid
                aria-describedby=described
                value=value
            />
            <p class="field-error" id=error_id>{messages}</p>
        </div>
    }
}

/// A choice in a select box: value and label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The options of a select box, `current` selected.
pub fn options(choices: Vec<Choice>, current: String) -> impl IntoView {
    choices
        .into_iter()
        .map(|c| {
            let selected = c.value == current;
            view! { <option value=c.value selected=selected>{c.label}</option> }
        })
        .collect_view()
}
