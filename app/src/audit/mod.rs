//! The audit log: who did what, to what, from where and when, kept as a
//! tamper-evident hash chain.

#[cfg(feature = "ssr")]
pub mod db;

/// The hash the first entry chains from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
