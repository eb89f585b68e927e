//! Metering: publishers' API keys and the usage API (`POST /api/v1/usage`)
//! through which they report what their subscribers used. Every record is
//! accepted once, reported as a duplicate, or rejected with a reason.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod ingest;
#[cfg(feature = "ssr")]
pub mod openapi;
#[cfg(feature = "ssr")]
pub mod records;
#[cfg(feature = "ssr")]
pub mod service;
pub mod views;

use serde::{Deserialize, Serialize};

/// Records a batch may hold, at most.
pub const MAX_BATCH: usize = 1_000;
/// A record may be this old when it arrives, at most (6 hours).
pub const MAX_AGE_MS: i64 = 6 * 3_600_000;
/// A record may be this far in the future (clock skew), at most (5 minutes).
pub const MAX_AHEAD_MS: i64 = 5 * 60_000;
/// The dimensions a record may measure.
pub const DIMENSIONS: [&str; 1] = ["calls"];
/// Longest idempotency key.
pub const MAX_KEY_LEN: usize = 128;
/// The largest quantity one record may carry (one billion). It keeps every
/// sum a page or export computes far inside a 64-bit integer: a day of one
/// subscription would need more than nine billion records at this maximum
/// to reach the limit.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// Why a record was rejected: a stable code and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No such subscription, or one of another publisher's listings.
    UnknownSubscription,
    /// The subscription was not active at `occurred_at`.
    NotActive,
    /// `occurred_at` more than 6 hours before arrival.
    TooOld,
    /// `occurred_at` more than 5 minutes after arrival.
    InFuture,
    /// `quantity` is zero or negative.
    NonPositiveQuantity,
    /// `quantity` is above [`MAX_QUANTITY`].
    QuantityTooLarge,
    /// The idempotency key was used before for a different record.
    KeyReused,
    /// `dimension` is not one of the known ones.
    UnknownDimension,
    /// The idempotency key is empty or longer than 128 characters.
    InvalidKey,
}

impl Reason {
    pub const ALL: [Reason; 9] = [
        Reason::UnknownSubscription,
        Reason::NotActive,
        Reason::TooOld,
        Reason::InFuture,
        Reason::NonPositiveQuantity,
        Reason::QuantityTooLarge,
        Reason::KeyReused,
        Reason::UnknownDimension,
        Reason::InvalidKey,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Reason::UnknownSubscription => "unknown_subscription",
            Reason::NotActive => "not_active",
            Reason::TooOld => "too_old",
            Reason::InFuture => "in_future",
            Reason::NonPositiveQuantity => "non_positive_quantity",
            Reason::QuantityTooLarge => "quantity_too_large",
            Reason::KeyReused => "key_reused",
            Reason::UnknownDimension => "unknown_dimension",
            Reason::InvalidKey => "invalid_key",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Reason::UnknownSubscription => "No subscription to one of your listings has this id.",
            Reason::NotActive => "The subscription was not active at occurred_at.",
            Reason::TooOld => "occurred_at is more than 6 hours before the record arrived.",
            Reason::InFuture => "occurred_at is more than 5 minutes after the record arrived.",
            Reason::NonPositiveQuantity => "quantity must be 1 or more.",
            Reason::QuantityTooLarge => "quantity must be at most 1,000,000,000 per record.",
            Reason::KeyReused => "This idempotency_key was used before for a different record.",
            Reason::UnknownDimension => "dimension must be one of: calls.",
            Reason::InvalidKey => "idempotency_key must have 1 to 128 characters.",
        }
    }
}

/// An API key as its organisation's page lists it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub created_by: String,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// What a key is for: a publisher reports usage with a metering key; a
/// client calls its subscribed models through the gateway with a gateway
/// key. The organisation's kind decides which it makes, and a key works
/// for its own purpose only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPurpose {
    Metering,
    Gateway,
}

impl KeyPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Metering => "metering",
            KeyPurpose::Gateway => "gateway",
        }
    }

    /// The start of every key of this purpose: `fgk_` (metering) or
    /// `fgc_` (gateway, for clients).
    pub fn marker(self) -> &'static str {
        match self {
            KeyPurpose::Metering => "fgk_",
            KeyPurpose::Gateway => "fgc_",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeysData {
    pub purpose: KeyPurpose,
    pub keys: Vec<ApiKeyView>,
    pub can_manage: bool,
    /// The key just created, shown this once.
    pub new_key: Option<CreatedKey>,
}

/// A key just made: the only time the whole key is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub id: i64,
    pub name: String,
    pub key: String,
}
