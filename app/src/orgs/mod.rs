//! Organisations: the tenants of the marketplace, their members and roles,
//! and invitations.

#[cfg(feature = "ssr")]
pub mod affiliation;
pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod names;
#[cfg(feature = "ssr")]
pub mod service;
pub mod views;

use serde::{Deserialize, Serialize};

/// SQL for "the publisher `o` is first party": the platform itself or a
/// platform-affiliated partner (see `affiliation`).
pub const FIRST_PARTY: &str = "(o.kind = 'platform' OR o.affiliated = 1)";

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

impl OrgKind {
    pub fn label(self) -> &'static str {
        match self {
            OrgKind::Platform => "Platform",
            OrgKind::Partner => "Partner",
            OrgKind::Client => "Client",
        }
    }
}

/// A member's role in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
        }
    }
}

/// What a member of the platform organisation does there. Referees review,
/// audit and may read partner data (every read logged); players build
/// first-party listings and never see partner data. Nobody is both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    Referee,
    Player,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Referee => "referee",
            StaffRole::Player => "player",
        }
    }

    pub fn parse(s: &str) -> Option<StaffRole> {
        match s {
            "referee" => Some(StaffRole::Referee),
            "player" => Some(StaffRole::Player),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StaffRole::Referee => "Referee",
            StaffRole::Player => "Player",
        }
    }
}

/// One of the signed-in person's organisations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSummary {
    pub id: i64,
    pub name: String,
    pub kind: OrgKind,
    pub role: Role,
    pub staff_role: Option<StaffRole>,
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: i64,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub staff_role: Option<StaffRole>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub staff_role: Option<StaffRole>,
    pub expires_at: i64,
}

/// The current organisation's members page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersData {
    pub org_name: String,
    pub org_kind: OrgKind,
    pub me: i64,
    pub can_manage: bool,
    pub members: Vec<MemberView>,
    pub invitations: Vec<InvitationView>,
    /// The link of an invitation just created by this person, shown once.
    pub new_invite_link: Option<String>,
}

/// What an invitation link offers, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationInfo {
    pub org_name: String,
    pub role: Role,
    pub staff_role: Option<StaffRole>,
    pub email: String,
    /// The signed-in person is the one invited.
    pub for_you: bool,
    pub signed_in: bool,
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
