//! Invitations: a single-use link by email with a role, revoked or accepted.

use super::super::db::{self, NewInvitation};
use super::super::{InvitationInfo, OrgKind, Role, StaffRole};
use super::{
    may_grant, new_token, refuse_second_staff_role, staff_role_for, token_hash, DAY_MS,
    INVITATION_DAYS, NEW_INVITE_KEY,
};
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{set_current_org, Actor, Permission};
use crate::auth::visit::Visit;
use crate::auth::Email;
use crate::error::AppError;
use crate::state::AppState;

/// The invitation form as typed.
#[derive(Debug, Clone, Default)]
pub struct InviteForm {
    pub email: String,
    /// `owner`, `admin` or `member`.
    pub role: String,
    /// `referee` or `player`; only read in the platform organisation.
    pub staff_role: String,
}

/// Invites someone by email with a role; returns the single-use link, which
/// is also written to the outbox.
pub async fn invite(visit: &Visit, actor: &Actor, form: &InviteForm) -> Result<String, AppError> {
    let state = &visit.state;
    let m = actor.require(Permission::ManageMembers)?.clone();
    let email = Email::parse(&form.email)?;
    let role = Role::parse(&form.role)
        .ok_or_else(|| AppError::field("role", "Choose owner, admin or member."))?;
    if !may_grant(m.role, role) {
        return Err(AppError::field(
            "role",
            "Only an owner can invite another owner.",
        ));
    }
    let staff_role = staff_role_for(m.kind, &form.staff_role)?;
    // Referees read partners' data and decide cases: only a referee who
    // owns the platform organisation makes another.
    if staff_role == Some(StaffRole::Referee) && m.role != Role::Owner {
        return Err(AppError::field(
            "staff_role",
            "Only an owner who is a referee can grant the referee role.",
        ));
    }
    let (token, hash) = new_token();
    let link = format!("{}/invitations/{token}", visit.origin.site_url);
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let id = db::insert_invitation(
        &mut tx,
        &NewInvitation {
            org_id: m.org_id,
            email: email.as_str(),
            role,
            staff_role,
            token_hash: &hash,
            invited_by: Some(actor.user_id),
            expires_at: now + INVITATION_DAYS * DAY_MS,
        },
        now,
    )
    .await?;
    let body = format!(
        "{} invited you to join {} on Fairground as {}.\n\nAccept within {INVITATION_DAYS} days: {link}\n",
        actor.display_name,
        m.org_name,
        role.label().to_lowercase()
    );
    db::insert_outbox(
        &mut tx,
        Some(m.org_id),
        email.as_str(),
        &format!("Join {} on Fairground", m.org_name),
        &body,
        now,
    )
    .await?;
    let details = serde_json::json!({ "email": email.as_str(), "role": role.as_str(), "staff_role": staff_role.map(StaffRole::as_str) });
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "invitation.created",
            Some(m.org_id),
            format!("invitation:{id}"),
            details,
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    visit
        .session
        .insert(NEW_INVITE_KEY, &link)
        .await
        .map_err(|e| AppError::internal("session store", e))?;
    Ok(link)
}

pub async fn revoke(state: &AppState, actor: &Actor, invitation_id: i64) -> Result<(), AppError> {
    let m = actor.require(Permission::ManageMembers)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    if !db::revoke_invitation(&mut tx, m.org_id, invitation_id, now).await? {
        return Err(AppError::NotFound);
    }
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "invitation.revoked",
            Some(m.org_id),
            format!("invitation:{invitation_id}"),
            serde_json::json!({}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What a link offers. Unknown, used, revoked and expired links are all
/// NotFound: the page says only that the link is not valid.
pub async fn offer(visit: &Visit, token: &str) -> Result<InvitationInfo, AppError> {
    let state = &visit.state;
    let inv = db::invitation_by_token(&state.db, &token_hash(token))
        .await?
        .ok_or(AppError::NotFound)?;
    if inv.accepted_at.is_some()
        || inv.revoked_at.is_some()
        || inv.expires_at <= state.clock.now_ms()
    {
        return Err(AppError::NotFound);
    }
    let actor = visit.viewer().await?;
    Ok(InvitationInfo {
        org_name: inv.org_name,
        role: inv.role,
        staff_role: inv.staff_role,
        for_you: actor.as_ref().is_some_and(|a| a.email == inv.email),
        signed_in: actor.is_some(),
        email: inv.email,
    })
}

/// Accepts an invitation as the signed-in person, who must be the one
/// invited; they then work in that organisation. True when it is the
/// platform and this sign-in has not passed two-step sign-in, so the person
/// must turn it on (or sign in with a code) before acting as staff.
pub async fn accept(visit: &Visit, actor: &Actor, token: &str) -> Result<bool, AppError> {
    let state = &visit.state;
    let inv = db::invitation_by_token(&state.db, &token_hash(token))
        .await?
        .ok_or(AppError::NotFound)?;
    if inv.email != actor.email {
        return Err(AppError::Forbidden);
    }
    if inv.org_kind == OrgKind::Platform {
        // Staff read partners' data and decide cases: whoever joins must
        // have proven the invited address is theirs, not merely typed it.
        if !actor.email_verified {
            return Err(AppError::Conflict(
                "Confirm your email address first (open the link sent to it, or ask for a new one on your account page), then accept this invitation."
                    .into(),
            ));
        }
        refuse_second_staff_role(actor, inv.org_id, inv.staff_role)?;
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    db::lock_org(&mut tx, inv.org_id).await?;
    if !db::claim_invitation(&mut tx, inv.id, actor.user_id, now).await? {
        return Err(AppError::NotFound);
    }
    db::add_member(
        &mut tx,
        inv.org_id,
        inv.org_kind,
        actor.user_id,
        inv.role,
        inv.staff_role,
        now,
    )
    .await?;
    crate::orgs::affiliation::after_membership_change(
        &mut tx,
        inv.org_id,
        actor.user_id,
        Some(actor),
        now,
    )
    .await?;
    let details = serde_json::json!({ "role": inv.role.as_str(), "staff_role": inv.staff_role.map(StaffRole::as_str) });
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "invitation.accepted",
            Some(inv.org_id),
            format!("invitation:{}", inv.id),
            details,
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    set_current_org(&visit.session, inv.org_id).await?;
    Ok(inv.org_kind == OrgKind::Platform
        && !(crate::auth::two_step::is_on(state, actor.user_id).await?
            && crate::auth::session::passed_second_factor(&visit.session).await?))
}
