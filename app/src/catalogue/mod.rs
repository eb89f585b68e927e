//! The platform's catalogue of base models and the industry taxonomy.

#[cfg(feature = "ssr")]
pub mod db;
