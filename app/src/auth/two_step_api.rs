//! Server functions of two-step sign-in: the code after the password, and
//! turning it on and off on the account page.

use super::TwoStepView;
#[cfg(feature = "ssr")]
use crate::auth::visit::Visit;
use crate::error::AppError;
use leptos::prelude::*;

/// The second step of signing in: a code from the authenticator app or a
/// recovery code.
#[server(prefix = "/api/fn", endpoint = "sign_in_code")]
pub async fn sign_in_code(
    code: String,
    // An invitation page to return to (see `auth::next::return_to`).
    #[server(default)] next: Option<String>,
) -> Result<(), AppError> {
    crate::state::respond_then(
        async { super::two_step::sign_in_code(&Visit::current().await?, &code).await }.await,
        super::next::return_to(next.as_deref()).unwrap_or("/account"),
    )
}

#[server(prefix = "/api/fn", endpoint = "two_step")]
pub async fn two_step() -> Result<TwoStepView, AppError> {
    crate::state::respond(async { super::two_step::view(&Visit::current().await?).await }.await)
}

/// Offers a secret to set up with; the page shows it as text and QR code.
#[server(prefix = "/api/fn", endpoint = "begin_two_step")]
pub async fn begin_two_step() -> Result<(), AppError> {
    crate::state::respond_then(
        async { super::two_step::begin(&Visit::current().await?).await }.await,
        "/account#two-step",
    )
}

/// Turns two-step sign-in on with a code from the offered secret.
#[server(prefix = "/api/fn", endpoint = "confirm_two_step")]
pub async fn confirm_two_step(code: String) -> Result<(), AppError> {
    crate::state::respond_then(
        async { super::two_step::confirm(&Visit::current().await?, &code).await }.await,
        "/account?updated=two-step#two-step",
    )
}

/// Replaces the recovery codes, for a current code from the app.
#[server(prefix = "/api/fn", endpoint = "replace_recovery_codes")]
pub async fn replace_recovery_codes(code: String) -> Result<(), AppError> {
    crate::state::respond_then(
        async { super::two_step::replace_recovery_codes(&Visit::current().await?, &code).await }
            .await,
        "/account#two-step",
    )
}

/// Stops showing the new recovery codes.
#[server(prefix = "/api/fn", endpoint = "dismiss_recovery_codes")]
pub async fn dismiss_recovery_codes() -> Result<(), AppError> {
    crate::state::respond_then(
        async { super::two_step::dismiss_codes(&Visit::current().await?).await }.await,
        "/account#two-step",
    )
}

/// Turns two-step sign-in off, for the current password.
#[server(prefix = "/api/fn", endpoint = "turn_off_two_step")]
pub async fn turn_off_two_step(current_password: String) -> Result<(), AppError> {
    crate::state::respond_then(
        async { super::two_step::turn_off(&Visit::current().await?, &current_password).await }
            .await,
        "/account?updated=two-step-off#two-step",
    )
}
