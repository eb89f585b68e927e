//! Error messages of form controls that are not plain inputs (selects and
//! textareas), tied to their control: `aria-invalid` says the control is
//! wrong and `aria-describedby` names the message, as `Field` does for
//! inputs.

use crate::error::AppError;
use leptos::prelude::*;

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
