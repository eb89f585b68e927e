//! Server functions for listings.

use super::ListingPage;
use crate::error::AppError;
use leptos::prelude::*;

/// How many cards the home page shows.
pub const HOME_PAGE_SIZE: i64 = 24;

/// The newest published listings; public, no sign-in needed.
#[server(prefix = "/api/fn", endpoint = "home_listings")]
pub async fn home_listings() -> Result<ListingPage, AppError> {
    let state = crate::state::app_state()?;
    super::db::published_page(&state.db, HOME_PAGE_SIZE, 0).await
}
