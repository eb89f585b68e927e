//! Organisations: the tenants of the marketplace.

#[cfg(feature = "ssr")]
pub mod db;

use serde::{Deserialize, Serialize};

/// What an organisation is to the marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    /// Runs the marketplace; exactly one exists.
    Platform,
    /// Publishes industry models.
    Partner,
    /// Subscribes to industry models.
    Client,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Platform => "platform",
            OrgKind::Partner => "partner",
            OrgKind::Client => "client",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        match s {
            "platform" => Some(OrgKind::Platform),
            "partner" => Some(OrgKind::Partner),
            "client" => Some(OrgKind::Client),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_round_trips_through_its_text() {
        for kind in [OrgKind::Platform, OrgKind::Partner, OrgKind::Client] {
            assert_eq!(OrgKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(OrgKind::parse("Platform"), None);
    }
}
