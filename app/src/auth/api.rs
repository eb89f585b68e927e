//! Server functions for signing up, in and out.

use super::{SessionView, SignInOutcome, SignedInUser};
#[cfg(feature = "ssr")]
use crate::auth::visit::Visit;
use crate::error::AppError;
use leptos::prelude::*;

/// Who is signed in on this session, if anyone.
#[server(prefix = "/api/fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SignedInUser>, AppError> {
    let out = async {
        Ok(Visit::current()
            .await?
            .viewer()
            .await?
            .map(SignedInUser::of))
    }
    .await;
    crate::state::respond(out)
}

/// Creates an account and signs it in.
#[server(prefix = "/api/fn", endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    display_name: String,
    password: String,
    // An invitation page to return to (see `auth::next::return_to`).
    #[server(default)] next: Option<String>,
) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let visit = Visit::current().await?;
            super::service::sign_up(&visit, &email, &display_name, &password).await
        }
        .await,
        super::next::return_to(next.as_deref()).unwrap_or("/account"),
    )
}

/// Signs in. Unknown email and wrong password answer alike.
#[server(prefix = "/api/fn", endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    // An invitation page to return to (see `auth::next::return_to`).
    #[server(default)] next: Option<String>,
) -> Result<SignInOutcome, AppError> {
    let out = async {
        let visit = Visit::current().await?;
        super::service::sign_in(&visit, &email, &password).await
    }
    .await;
    match out {
        Ok(true) => crate::state::respond_then(
            Ok(SignInOutcome { second_step: true }),
            &super::next::with_next("/sign-in/code", next.as_deref()),
        ),
        other => crate::state::respond_then(
            other.map(|_| SignInOutcome { second_step: false }),
            super::next::return_to(next.as_deref()).unwrap_or("/account"),
        ),
    }
}

/// Signs out: the session is deleted on the server, not just forgotten.
#[server(prefix = "/api/fn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::state::respond_then(
        async { super::service::sign_out(&Visit::current().await?).await }.await,
        "/",
    )
}

/// Changes the password; every other session of the user is signed out.
#[server(prefix = "/api/fn", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let visit = Visit::current().await?;
            super::service::change_password(&visit, &current_password, &new_password).await
        }
        .await,
        "/account?updated=password",
    )
}

#[server(prefix = "/api/fn", endpoint = "change_display_name")]
pub async fn change_display_name(display_name: String) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let visit = Visit::current().await?;
            super::service::change_display_name(&visit, &display_name).await
        }
        .await,
        "/account?updated=name",
    )
}

/// The signed-in person's sessions, most recently used first.
#[server(prefix = "/api/fn", endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionView>, AppError> {
    crate::state::respond(
        async { super::service::my_sessions(&Visit::current().await?).await }.await,
    )
}

/// Ends one of one's own sessions (signing that browser out); ending the
/// current one signs out here.
#[server(prefix = "/api/fn", endpoint = "end_session")]
pub async fn end_session(handle: String) -> Result<(), AppError> {
    let out = async {
        let visit = Visit::current().await?;
        super::service::end_session(&visit, &handle).await
    }
    .await;
    match out {
        Ok(true) => crate::state::respond_then(Ok(()), "/sign-in"),
        Ok(false) => crate::state::respond_then(Ok(()), "/account?updated=session"),
        Err(e) => crate::state::respond(Err(e)),
    }
}

/// Uses an email verification link (the button on its page: opening the
/// link changes nothing by itself).
#[server(prefix = "/api/fn", endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    crate::state::respond_then(
        async { super::verification::confirm(&Visit::current().await?, &token).await }.await,
        "/account?updated=email",
    )
}

/// Sends the signed-in person a new verification link.
#[server(prefix = "/api/fn", endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    let out = async { super::verification::resend(&Visit::current().await?).await }.await;
    crate::state::respond_then(out, "/account?updated=link")
}
