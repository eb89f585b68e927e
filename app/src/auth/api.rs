//! Server functions for signing up, in and out.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in person, as pages see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
}

/// Who is signed in on this session, if anyone.
#[server(prefix = "/api/fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SignedInUser>, AppError> {
    let out = async {
        let state = crate::state::app_state()?;
        let session = super::session::from_request().await?;
        let Some(user_id) = super::session::signed_in_user(&state, &session).await? else {
            return Ok(None);
        };
        Ok(super::db::user_by_id(&state.db, user_id)
            .await?
            .map(|u| SignedInUser {
                id: u.id,
                email: u.email,
                display_name: u.display_name,
            }))
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
) -> Result<(), AppError> {
    crate::state::respond_then(
        super::service::sign_up(&email, &display_name, &password).await,
        "/account",
    )
}

/// Signs in. Unknown email and wrong password answer alike.
#[server(prefix = "/api/fn", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    crate::state::respond_then(super::service::sign_in(&email, &password).await, "/account")
}

/// Signs out: the session is deleted on the server, not just forgotten.
#[server(prefix = "/api/fn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::state::respond_then(super::service::sign_out().await, "/")
}

/// Changes the password; every other session of the user is signed out.
#[server(prefix = "/api/fn", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    crate::state::respond_then(
        super::service::change_password(&current_password, &new_password).await,
        "/account?updated=password",
    )
}

#[server(prefix = "/api/fn", endpoint = "change_display_name")]
pub async fn change_display_name(display_name: String) -> Result<(), AppError> {
    crate::state::respond_then(
        super::service::change_display_name(&display_name).await,
        "/account?updated=name",
    )
}
