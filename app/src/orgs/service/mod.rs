//! Organisation workflows: create, switch and the members page here;
//! invitations (invite, revoke, accept), members (roles, removal, leaving)
//! and the platform's bootstrap in their own files. Each write is one
//! transaction with its audit entry.

mod bootstrap;
mod invitations;
mod members;

pub use bootstrap::{bootstrap, BootstrapOutcome};
pub use invitations::{accept, invite, offer, revoke, InviteForm};
pub use members::{change_role, leave, remove_member};

use super::db::{self};
use super::{MembersData, OrgKind, OrgSummary, Role, StaffRole};
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{set_current_org, Actor, Permission};
use crate::auth::visit::Visit;
use crate::error::AppError;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// How long an invitation link stays valid.
pub const INVITATION_DAYS: i64 = 7;
pub(super) const DAY_MS: i64 = 24 * 3600 * 1000;
/// Session key holding the link of the invitation just created, shown once.
pub(super) const NEW_INVITE_KEY: &str = "new_invite_link";

pub(super) fn org_name(input: &str) -> Result<String, AppError> {
    let name = input.trim();
    if name.is_empty() {
        Err(AppError::field("name", "Enter the organisation's name."))
    } else if name.chars().count() > 100 {
        Err(AppError::field("name", "Use at most 100 characters."))
    } else if let Some(why) = super::names::refusal(name, []) {
        Err(AppError::field("name", why))
    } else {
        Ok(name.to_string())
    }
}

/// The organisations the person belongs to, the current one marked.
pub fn my_orgs(actor: &Actor) -> Vec<OrgSummary> {
    let current = actor.membership.as_ref().map(|m| m.org_id);
    db::summaries(actor.memberships.clone(), current)
}

/// The new-organisation form as typed.
#[derive(Debug, Clone, Default)]
pub struct NewOrgForm {
    pub name: String,
    /// `partner` or `client`.
    pub kind: String,
}

/// Creates a partner or client organisation; its creator is its first owner
/// and works in it from now on.
pub async fn create_org(visit: &Visit, actor: &Actor, form: &NewOrgForm) -> Result<i64, AppError> {
    let state = &visit.state;
    let name = org_name(&form.name);
    let kind = match OrgKind::parse(&form.kind) {
        Some(k @ (OrgKind::Partner | OrgKind::Client)) => Ok(k),
        _ => Err(AppError::field("kind", "Choose partner or client.")),
    };
    let (name, kind) = match (name, kind) {
        (Ok(n), Ok(k)) => (n, k),
        (n, k) => {
            let mut fields = crate::error::FieldErrors::new();
            for e in [n.err(), k.err()].into_iter().flatten() {
                if let AppError::Validation { fields: f } = e {
                    fields.extend(f);
                }
            }
            return Err(AppError::Validation { fields });
        }
    };
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let existing = db::names_for_new_org(&mut tx, state.db.backend()).await?;
    if let Some(why) = super::names::refusal(&name, existing.iter().map(String::as_str)) {
        return Err(AppError::field("name", why));
    }
    let org_id = db::create_org(&mut tx, &name, kind, now).await?;
    db::add_member(&mut tx, org_id, kind, actor.user_id, Role::Owner, None, now).await?;
    super::affiliation::after_membership_change(&mut tx, org_id, actor.user_id, Some(actor), now)
        .await?;
    let details = serde_json::json!({ "name": name, "kind": kind.as_str() });
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "org.created",
            Some(org_id),
            format!("org:{org_id}"),
            details,
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    set_current_org(&visit.session, org_id).await?;
    Ok(org_id)
}

/// Works in another of one's organisations. Not a member: NotFound.
pub async fn switch_org(visit: &Visit, actor: &Actor, org_id: i64) -> Result<(), AppError> {
    if !actor.memberships.iter().any(|m| m.org_id == org_id) {
        return Err(AppError::NotFound);
    }
    set_current_org(&visit.session, org_id).await
}

/// The current organisation's members, its pending invitations for those
/// who manage it, and the link of the invitation just made (shown once).
pub async fn members_page(visit: &Visit, actor: &Actor) -> Result<MembersData, AppError> {
    let state = &visit.state;
    let m = actor.require(Permission::ViewMembers)?;
    let can_manage = actor.require(Permission::ManageMembers).is_ok();
    let invitations = if can_manage {
        db::pending_invitations(&state.db, m.org_id, state.clock.now_ms()).await?
    } else {
        Vec::new()
    };
    let new_invite_link = visit
        .session
        .remove::<String>(NEW_INVITE_KEY)
        .await
        .map_err(|e| AppError::internal("session store", e))?;
    Ok(MembersData {
        org_name: m.org_name.clone(),
        org_kind: m.kind,
        me: actor.user_id,
        can_manage,
        members: db::members(&state.db, m.org_id).await?,
        invitations,
        new_invite_link: if can_manage { new_invite_link } else { None },
    })
}

pub(super) fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub(super) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The roles an actor may hand out: owners any, admins admin or member.
pub(super) fn may_grant(granter: Role, role: Role) -> bool {
    granter == Role::Owner || role != Role::Owner
}

pub(super) fn staff_role_for(
    kind: OrgKind,
    staff_role: &str,
) -> Result<Option<StaffRole>, AppError> {
    match (kind, StaffRole::parse(staff_role)) {
        (OrgKind::Platform, Some(s)) => Ok(Some(s)),
        (OrgKind::Platform, None) => Err(AppError::field(
            "staff_role",
            "Choose referee or player: platform staff are one or the other.",
        )),
        (_, _) => Ok(None),
    }
}

/// A platform member already holds one staff role; the other is refused.
pub(super) fn refuse_second_staff_role(
    actor: &Actor,
    platform_org: i64,
    wanted: Option<StaffRole>,
) -> Result<(), AppError> {
    let held = actor
        .memberships
        .iter()
        .find(|m| m.org_id == platform_org)
        .and_then(|m| m.staff_role);
    match (held, wanted) {
        (Some(h), Some(w)) if h != w => Err(AppError::Conflict(format!(
            "You are already a {} of the platform; one person cannot be both referee and player.",
            h.as_str()
        ))),
        (Some(_), _) => Err(AppError::Conflict(
            "You are already a member of the platform organisation.".into(),
        )),
        _ => Ok(()),
    }
}
