//! Conflict-of-interest cases: opened automatically where the platform as
//! a player meets partners, or by a partner's complaint; audited by
//! referees (acknowledge, sign off, resolve, dismiss) and visible to the
//! partners they concern.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod service;
pub mod views;

use serde::{Deserialize, Serialize};

pub const STATUSES: [&str; 4] = ["open", "acknowledged", "resolved", "dismissed"];

/// A case in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRow {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    pub status: String,
    pub title: String,
    pub opened_at: i64,
    pub signed_off: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasesData {
    pub cases: Vec<CaseRow>,
    /// The viewer is a referee (sees every case).
    pub referee: bool,
    /// The viewer may open a complaint (a partner).
    pub can_complain: bool,
}

/// A listing set beside the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseListing {
    pub slug: String,
    /// The listing's address (`crate::listings::href`).
    pub href: String,
    pub name: String,
    pub publisher: String,
    pub platform_owned: bool,
    pub affiliated: bool,
    pub status: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub at: i64,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDetail {
    pub row: CaseRow,
    pub industry: Option<String>,
    pub parties: Vec<String>,
    /// The listing the case is about, then the ones set beside it.
    pub listings: Vec<CaseListing>,
    pub sign_off: String,
    pub note: String,
    pub timeline: Vec<CaseEvent>,
    pub referee: bool,
}
