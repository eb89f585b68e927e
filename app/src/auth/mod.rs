//! Accounts: who someone is (email + password), signing in and out, and the
//! sessions that remember it.

pub mod api;
pub mod password;
pub mod views;

#[cfg(feature = "ssr")]
pub mod actor;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod session_store;
#[cfg(feature = "ssr")]
pub mod two_step;
pub mod two_step_api;
pub mod two_step_views;
#[cfg(feature = "ssr")]
pub mod verification;

pub use password::Email;
#[cfg(feature = "ssr")]
pub use password::NewPassword;
