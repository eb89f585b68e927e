//! The public catalogue: search, filters, the one ranking function, and the
//! platform's catalogue of base models (managed by referees) with the
//! in-app notifications a deprecation sends.

pub mod api;
#[cfg(feature = "ssr")]
pub mod cache;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod index;
pub mod ranking;
#[cfg(feature = "ssr")]
pub mod service;
pub mod views;

use crate::listings::ListingCard;
use crate::ui::fields::Choice;
use ranking::ScoreBreakdown;
use serde::{Deserialize, Serialize};

/// Results per catalogue page.
pub const PAGE_SIZE: usize = 20;
/// Listings the compare page puts side by side, at most.
pub const COMPARE_MAX: usize = 4;

/// Bands of the cheapest active plan's monthly fee (in the plan's currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PriceBand {
    Free,
    Under100,
    From100To1000,
    Over1000,
}

impl PriceBand {
    pub const ALL: [PriceBand; 4] = [
        PriceBand::Free,
        PriceBand::Under100,
        PriceBand::From100To1000,
        PriceBand::Over1000,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PriceBand::Free => "free",
            PriceBand::Under100 => "under-100",
            PriceBand::From100To1000 => "100-1000",
            PriceBand::Over1000 => "over-1000",
        }
    }

    pub fn parse(s: &str) -> Option<PriceBand> {
        PriceBand::ALL.into_iter().find(|b| b.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            PriceBand::Free => "Free",
            PriceBand::Under100 => "Under 100 a month",
            PriceBand::From100To1000 => "100 to 1,000 a month",
            PriceBand::Over1000 => "Over 1,000 a month",
        }
    }

    /// Whether a monthly fee in minor units falls in the band.
    pub fn contains(self, fee_minor: i64) -> bool {
        match self {
            PriceBand::Free => fee_minor == 0,
            PriceBand::Under100 => fee_minor > 0 && fee_minor < 10_000,
            PriceBand::From100To1000 => (10_000..=100_000).contains(&fee_minor),
            PriceBand::Over1000 => fee_minor > 100_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SortOrder {
    #[default]
    Relevance,
    /// Cheapest monthly fee first.
    Price,
    Newest,
}

impl SortOrder {
    pub const ALL: [SortOrder; 3] = [SortOrder::Relevance, SortOrder::Price, SortOrder::Newest];

    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Relevance => "relevance",
            SortOrder::Price => "price",
            SortOrder::Newest => "newest",
        }
    }

    pub fn parse(s: &str) -> Option<SortOrder> {
        SortOrder::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            SortOrder::Relevance => "Relevance",
            SortOrder::Price => "Price, lowest first",
            SortOrder::Newest => "Newest first",
        }
    }
}

/// A catalogue query, as the search form and the API send it (all text, so
/// a plain GET form maps onto it; empty means "any").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CatalogueQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub industry: String,
    /// A base model's slug.
    #[serde(default)]
    pub base_model: String,
    #[serde(default)]
    pub price: String,
    #[serde(default)]
    pub certification: String,
    #[serde(default)]
    pub sort: String,
    /// 1-based.
    #[serde(default)]
    pub page: String,
}

/// One result, with where it stands and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// 1-based position in the whole result list.
    pub position: usize,
    pub card: ListingCard,
    pub score: ScoreBreakdown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Matching listings in all pages.
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub sort: SortOrder,
    pub industries: Vec<Choice>,
    pub base_models: Vec<Choice>,
    pub certifications: Vec<String>,
}

/// A base model of the platform's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseModelView {
    pub id: i64,
    pub slug: String,
    pub provider: String,
    pub name: String,
    pub version: String,
    pub modality: String,
    pub context_length: i64,
    pub licence: String,
    pub deprecated: bool,
    /// Published listings with a (not paused) deployment on it.
    pub listings: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseModelsData {
    pub models: Vec<BaseModelView>,
    /// The viewer is a referee and may add or deprecate base models.
    pub can_manage: bool,
}
