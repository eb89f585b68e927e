//! Accounts: who someone is (email + password) and how that is checked.

pub mod password;

pub use password::Email;
#[cfg(feature = "ssr")]
pub use password::NewPassword;
