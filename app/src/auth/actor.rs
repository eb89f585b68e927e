//! The actor: who is making the request, in which organisation, with which
//! role. Every server function resolves it once and asks it for a
//! permission; tenant data is then read through the organisation it names.

use crate::error::AppError;
use crate::orgs::db::Membership;
use crate::orgs::{OrgKind, Role, StaffRole};
use crate::request::Origin;
use crate::state::AppState;
use tower_sessions::Session;

/// Session key of the organisation the person is working in.
pub const CURRENT_ORG_KEY: &str = "org";

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    /// The address was proven by a link sent to it.
    pub email_verified: bool,
    /// The current organisation; None for someone who belongs to none, and
    /// for platform staff working in the platform without two-step sign-in
    /// (then `staff_locked`): every path that reads the membership finds
    /// none, so no staff power is reachable on a password alone.
    pub membership: Option<Membership>,
    /// The current organisation is the platform, and this sign-in has not
    /// passed two-step sign-in.
    pub staff_locked: bool,
    /// Every organisation the person belongs to.
    pub memberships: Vec<Membership>,
    /// Where this request comes from (for limits, the audit log and the
    /// data-access record).
    pub origin: Origin,
}

/// What an actor may be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See the current organisation's members and invitations.
    ViewMembers,
    /// Invite, remove members and change roles: an owner or admin; in the
    /// platform organisation, only a referee (players never bring in or
    /// promote staff: a player could otherwise invite a referee of their
    /// own choosing, who then reads partners' data).
    ManageMembers,
    /// Create and edit the organisation's listings: any member of a partner
    /// organisation, or a platform player (first-party listings).
    EditListings,
    /// Review listings and manage the base-model catalogue: platform
    /// referees only.
    Referee,
    /// Subscribe, switch and cancel: a client organisation's owner or admin.
    Subscribe,
    /// Create and revoke metering API keys: a partner organisation's owner
    /// or admin.
    ManageApiKeys,
}

impl Actor {
    /// The platform membership the person works in, whether or not this
    /// sign-in passed two-step sign-in. Only for putting a staff member's
    /// refused attempts on the record; it grants nothing.
    pub fn platform_staff(&self) -> Option<&Membership> {
        match &self.membership {
            Some(m) if m.kind == OrgKind::Platform => Some(m),
            None if self.staff_locked => self
                .memberships
                .iter()
                .find(|m| m.kind == OrgKind::Platform),
            _ => None,
        }
    }

    /// A platform player, locked or not (see `platform_staff`).
    pub fn is_player(&self) -> bool {
        self.platform_staff()
            .is_some_and(|m| m.staff_role == Some(StaffRole::Player))
    }

    /// The current membership, when it grants `permission`. Having no
    /// current organisation, or too small a role, is Forbidden; platform
    /// staff without two-step sign-in are told to turn it on.
    pub fn require(&self, permission: Permission) -> Result<&Membership, AppError> {
        let m = self.membership.as_ref().ok_or(if self.staff_locked {
            AppError::SecondFactorRequired
        } else {
            AppError::Forbidden
        })?;
        let allowed = match permission {
            Permission::ViewMembers => true,
            Permission::ManageMembers => {
                matches!(m.role, Role::Owner | Role::Admin)
                    && (m.kind != OrgKind::Platform || m.staff_role == Some(StaffRole::Referee))
            }
            Permission::EditListings => match m.kind {
                OrgKind::Partner => true,
                OrgKind::Platform => m.staff_role == Some(StaffRole::Player),
                OrgKind::Client => false,
            },
            Permission::Referee => {
                m.kind == OrgKind::Platform && m.staff_role == Some(StaffRole::Referee)
            }
            Permission::Subscribe => {
                m.kind == OrgKind::Client && matches!(m.role, Role::Owner | Role::Admin)
            }
            Permission::ManageApiKeys => {
                m.kind == OrgKind::Partner && matches!(m.role, Role::Owner | Role::Admin)
            }
        };
        if allowed {
            Ok(m)
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// The actor of `session`, or None when nobody is signed in. The current
/// organisation is the one chosen in the session while the person still
/// belongs to it, else their oldest membership.
pub async fn resolve_in(
    state: &AppState,
    session: &Session,
    origin: &Origin,
) -> Result<Option<Actor>, AppError> {
    let Some(user_id) = super::session::signed_in_user(state, session).await? else {
        return Ok(None);
    };
    let Some((user, memberships)) = super::db::user_with_memberships(&state.db, user_id).await?
    else {
        return Ok(None);
    };
    let chosen = session
        .get::<i64>(CURRENT_ORG_KEY)
        .await
        .map_err(|e| AppError::internal("session store", e))?;
    let second_factor = super::session::passed_second_factor(session).await?;
    Ok(Some(actor_of(
        user,
        memberships,
        chosen,
        second_factor,
        origin,
    )))
}

/// Who a session read straight from the store is (see `resolve_stored`).
#[derive(Debug)]
pub enum Stored {
    /// Nobody is signed in on it.
    Nobody,
    /// Signed in, as this actor.
    Actor(Box<Actor>),
    /// Reading it changes it (the sign-in is over, or its activity is due
    /// to be recorded), or it is not as the store writes it: to be resolved
    /// through the session layer (`resolve_in`), which makes the change.
    ThroughSession,
}

/// The actor of a session read straight from the store with its user and
/// memberships (`db::catalogue_version_and_session`), decided exactly as
/// `resolve_in` decides it from the session layer, for a reading that
/// changes nothing. Nothing is kept between requests: a sign-out, a
/// password change ending other sessions, or a membership removed counts
/// on the next request.
pub fn resolve_stored(
    state: &AppState,
    stored: Option<super::db::StoredSession>,
    origin: &Origin,
) -> Stored {
    let Some(stored) = stored else {
        // No unexpired session under that id: the session layer would load
        // none either.
        return Stored::Nobody;
    };
    read_stored(state, stored, origin).unwrap_or(Stored::ThroughSession)
}

/// `resolve_stored`'s reading; None for data not as the session layer
/// writes it.
fn read_stored(
    state: &AppState,
    stored: super::db::StoredSession,
    origin: &Origin,
) -> Option<Stored> {
    use super::session::{self, Standing};
    // Some(None) for a key the session does not hold.
    let number = |key: &str| match stored.data.get(key) {
        None => Some(None),
        Some(value) => value.as_i64().map(Some),
    };
    let Some(user_id) = number(super::session_store::USER_ID_KEY)? else {
        return Some(Stored::Nobody);
    };
    let started = number(session::SIGNED_IN_AT_KEY)?.unwrap_or(0);
    let seen = number(session::LAST_SEEN_KEY)?.unwrap_or(0);
    let unchanged = Standing::Current {
        record_activity: false,
    };
    if session::standing(&state.sessions, state.clock.now_ms(), started, seen) != unchanged {
        return Some(Stored::ThroughSession);
    }
    let chosen = number(CURRENT_ORG_KEY)?;
    let second_factor = number(session::SECOND_FACTOR_KEY)?.is_some();
    let Some((user, memberships)) = stored.user else {
        return Some(Stored::Nobody);
    };
    if user.id != user_id {
        return None;
    }
    Some(Stored::Actor(Box::new(actor_of(
        user,
        memberships,
        chosen,
        second_factor,
        origin,
    ))))
}

/// The actor of `user`: the organisation `chosen` in the session while the
/// person still belongs to it, else their oldest membership; staff powers
/// only on a sign-in that `second_factor` says passed two-step sign-in.
fn actor_of(
    user: super::db::UserRow,
    memberships: Vec<Membership>,
    chosen: Option<i64>,
    second_factor: bool,
    origin: &Origin,
) -> Actor {
    let mut membership = chosen
        .and_then(|id| memberships.iter().find(|m| m.org_id == id))
        .or_else(|| memberships.first())
        .cloned();
    // Staff powers need a sign-in that passed two-step sign-in while it is
    // on: both, since a session from before it was turned on never did.
    let staff_locked = membership
        .as_ref()
        .is_some_and(|m| m.kind == OrgKind::Platform)
        && !(user.totp_enabled_at.is_some() && second_factor);
    if staff_locked {
        membership = None;
    }
    Actor {
        user_id: user.id,
        staff_locked,
        email_verified: user.email_verified_at.is_some(),
        email: user.email,
        display_name: user.display_name,
        membership,
        memberships,
        origin: origin.clone(),
    }
}

/// Makes `org_id` the current organisation, under a new session id (the
/// session's privileges change).
pub async fn set_current_org(session: &Session, org_id: i64) -> Result<(), AppError> {
    let err = |e| AppError::internal("session store", e);
    session.cycle_id().await.map_err(err)?;
    session.insert(CURRENT_ORG_KEY, org_id).await.map_err(err)
}
