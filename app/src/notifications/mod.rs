//! In-app notifications to an organisation: a base model's deprecation, a
//! conflict case in its industry.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
pub mod views;

use serde::{Deserialize, Serialize};

/// An in-app notification to an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct NotificationView {
    pub id: i64,
    pub kind: String,
    pub message: String,
    pub link: String,
    pub created_at: i64,
}
