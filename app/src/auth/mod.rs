//! Accounts: who someone is (email + password), signing in and out, and the
//! sessions that remember it.

pub mod api;
pub mod next;
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
#[cfg(feature = "ssr")]
pub mod visit;

pub use password::Email;
#[cfg(feature = "ssr")]
pub use password::NewPassword;

use serde::{Deserialize, Serialize};

/// The signed-in person, as pages see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    /// Their address was proven by a link sent to it.
    pub email_verified: bool,
    /// The current organisation lets them draft listings (menu link).
    pub edits_listings: bool,
    /// They are a platform referee working in the platform (menu link).
    pub referee: bool,
    /// They work in the platform but this sign-in has not passed two-step
    /// sign-in: staff powers wait for it.
    pub staff_locked: bool,
    /// The current organisation is a client (subscriptions menu link).
    pub client: bool,
}

#[cfg(feature = "ssr")]
impl SignedInUser {
    /// What pages show of a signed-in actor: the header's menu and the
    /// account page read these flags, the same wherever they are built.
    pub fn of(a: actor::Actor) -> SignedInUser {
        use actor::Permission;
        SignedInUser {
            id: a.user_id,
            edits_listings: a.require(Permission::EditListings).is_ok(),
            referee: a.require(Permission::Referee).is_ok(),
            staff_locked: a.staff_locked,
            client: a
                .membership
                .as_ref()
                .is_some_and(|m| m.kind == crate::orgs::OrgKind::Client),
            email_verified: a.email_verified,
            email: a.email,
            display_name: a.display_name,
        }
    }
}

/// What signing in with a password led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOutcome {
    /// The account has two-step sign-in: the code is asked for next, at
    /// `/sign-in/code`, and nobody is signed in until it is given.
    pub second_step: bool,
}

/// One of the signed-in person's sessions (a browser or device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Names the session for ending it (a hash of its id; not the cookie).
    pub handle: String,
    pub signed_in_at: i64,
    pub last_seen_at: i64,
    /// The browser it was signed in from, as that browser described itself.
    pub device: String,
    /// The session this page was asked for on.
    pub current: bool,
}

/// A secret offered for setting up two-step sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetup {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    /// `otpauth://` link with the same secret (what the QR code holds).
    pub uri: String,
    /// The QR code: one SVG path over a square of `qr_size` modules.
    pub qr_size: u32,
    pub qr_path: String,
}

/// The account page's two-step section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoStepView {
    /// When it was turned on; None while off.
    pub enabled_at: Option<i64>,
    /// Recovery codes not used yet.
    pub codes_left: i64,
    /// A set-up in progress on this session.
    pub setup: Option<TotpSetup>,
    /// Recovery codes just made, shown until put away.
    pub new_codes: Vec<String>,
    /// The person is platform staff: required for them.
    pub staff: bool,
}
