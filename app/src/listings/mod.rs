//! Listings: the industry models partners (and the platform) publish.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
pub mod views;

use serde::{Deserialize, Serialize};

/// A published listing as a catalogue card shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingCard {
    pub slug: String,
    pub name: String,
    pub tagline: String,
    pub industry: String,
    pub base_model: String,
    pub publisher: String,
    /// The publisher is the platform itself: always labelled as such.
    pub platform_owned: bool,
}

/// One page of published listings, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingPage {
    pub items: Vec<ListingCard>,
    pub total: i64,
}
