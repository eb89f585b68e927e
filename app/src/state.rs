//! Application state handed to server functions and handlers by context.

use crate::db::{Clock, Db};
use crate::error::AppError;
use leptos::config::LeptosOptions;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub leptos_options: LeptosOptions,
    pub clock: Clock,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state provided to the current server function or render.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| AppError::internal("context", "AppState missing from context"))
}
