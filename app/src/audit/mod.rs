//! The audit log: who did what, to what, from where and when, kept as a
//! tamper-evident hash chain.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
pub mod views;

use serde::{Deserialize, Serialize};

/// The hash the first entry chains from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The outcome of checking the audit log's hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    pub entries: i64,
    pub head_hash: String,
    /// (entry, reason) of the first entry that does not fit.
    pub broken: Option<(i64, String)>,
}
