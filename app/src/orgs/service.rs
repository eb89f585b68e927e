//! Organisation workflows: create, switch, invite, accept, change roles,
//! remove, leave, and the platform's bootstrap. Each write is one
//! transaction with its audit entry.

use super::db::{self, Membership, NewInvitation};
use super::{InvitationInfo, MembersData, OrgKind, OrgSummary, Role, StaffRole};
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{resolve, resolve_in, set_current_org, Actor, Permission};
use crate::auth::session::from_request;
use crate::auth::Email;
use crate::db::Db;
use crate::error::AppError;
use crate::state::app_state;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// How long an invitation link stays valid.
pub const INVITATION_DAYS: i64 = 7;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// Session key holding the link of the invitation just created, shown once.
const NEW_INVITE_KEY: &str = "new_invite_link";

fn org_name(input: &str) -> Result<String, AppError> {
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

pub async fn my_orgs() -> Result<Vec<OrgSummary>, AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let current = actor.membership.as_ref().map(|m| m.org_id);
    Ok(db::summaries(actor.memberships, current))
}

/// Creates a partner or client organisation; its creator is its first owner
/// and works in it from now on.
pub async fn create_org(name: &str, kind: &str) -> Result<i64, AppError> {
    let state = app_state()?;
    let (actor, session) = resolve(&state).await?;
    let name = org_name(name);
    let kind = match OrgKind::parse(kind) {
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
    let details = serde_json::json!({ "name": name, "kind": kind.as_str() });
    append(
        &mut tx,
        &NewEntry::now(
            "org.created",
            Some(actor.user_id),
            Some(org_id),
            format!("org:{org_id}"),
            details,
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    set_current_org(&session, org_id).await?;
    Ok(org_id)
}

/// Works in another of one's organisations. Not a member: NotFound.
pub async fn switch_org(org_id: i64) -> Result<(), AppError> {
    let state = app_state()?;
    let (actor, session) = resolve(&state).await?;
    if !actor.memberships.iter().any(|m| m.org_id == org_id) {
        return Err(AppError::NotFound);
    }
    set_current_org(&session, org_id).await
}

pub async fn members_page() -> Result<MembersData, AppError> {
    let state = app_state()?;
    let (actor, session) = resolve(&state).await?;
    let m = actor.require(Permission::ViewMembers)?;
    let can_manage = actor.require(Permission::ManageMembers).is_ok();
    let invitations = if can_manage {
        db::pending_invitations(&state.db, m.org_id, state.clock.now_ms()).await?
    } else {
        Vec::new()
    };
    let new_invite_link = session
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

fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The roles an actor may hand out: owners any, admins admin or member.
fn may_grant(granter: Role, role: Role) -> bool {
    granter == Role::Owner || role != Role::Owner
}

fn staff_role_for(kind: OrgKind, staff_role: &str) -> Result<Option<StaffRole>, AppError> {
    match (kind, StaffRole::parse(staff_role)) {
        (OrgKind::Platform, Some(s)) => Ok(Some(s)),
        (OrgKind::Platform, None) => Err(AppError::field(
            "staff_role",
            "Choose referee or player: platform staff are one or the other.",
        )),
        (_, _) => Ok(None),
    }
}

/// Invites someone by email with a role; returns the single-use link, which
/// is also written to the outbox.
pub async fn invite(email: &str, role: &str, staff_role: &str) -> Result<String, AppError> {
    let state = app_state()?;
    let (actor, session) = resolve(&state).await?;
    let m = actor.require(Permission::ManageMembers)?.clone();
    let email = Email::parse(email)?;
    let role = Role::parse(role)
        .ok_or_else(|| AppError::field("role", "Choose owner, admin or member."))?;
    if !may_grant(m.role, role) {
        return Err(AppError::field(
            "role",
            "Only an owner can invite another owner.",
        ));
    }
    let staff_role = staff_role_for(m.kind, staff_role)?;
    // Referees read partners' data and decide cases: only a referee who
    // owns the platform organisation makes another.
    if staff_role == Some(StaffRole::Referee) && m.role != Role::Owner {
        return Err(AppError::field(
            "staff_role",
            "Only an owner who is a referee can grant the referee role.",
        ));
    }
    let (token, hash) = new_token();
    let link = format!("{}/invitations/{token}", crate::state::site_url(&state));
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
        &NewEntry::now(
            "invitation.created",
            Some(actor.user_id),
            Some(m.org_id),
            format!("invitation:{id}"),
            details,
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    session
        .insert(NEW_INVITE_KEY, &link)
        .await
        .map_err(|e| AppError::internal("session store", e))?;
    Ok(link)
}

pub async fn revoke(invitation_id: i64) -> Result<(), AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.require(Permission::ManageMembers)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    if !db::revoke_invitation(&mut tx, m.org_id, invitation_id, now).await? {
        return Err(AppError::NotFound);
    }
    append(
        &mut tx,
        &NewEntry::now(
            "invitation.revoked",
            Some(actor.user_id),
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
pub async fn offer(token: &str) -> Result<InvitationInfo, AppError> {
    let state = app_state()?;
    let inv = db::invitation_by_token(&state.db, &token_hash(token))
        .await?
        .ok_or(AppError::NotFound)?;
    if inv.accepted_at.is_some()
        || inv.revoked_at.is_some()
        || inv.expires_at <= state.clock.now_ms()
    {
        return Err(AppError::NotFound);
    }
    let session = from_request().await?;
    let actor = resolve_in(&state, &session).await?;
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
pub async fn accept(token: &str) -> Result<bool, AppError> {
    let state = app_state()?;
    let (actor, session) = resolve(&state).await?;
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
        refuse_second_staff_role(&actor, inv.org_id, inv.staff_role)?;
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
    let details = serde_json::json!({ "role": inv.role.as_str(), "staff_role": inv.staff_role.map(StaffRole::as_str) });
    append(
        &mut tx,
        &NewEntry::now(
            "invitation.accepted",
            Some(actor.user_id),
            Some(inv.org_id),
            format!("invitation:{}", inv.id),
            details,
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    set_current_org(&session, inv.org_id).await?;
    Ok(inv.org_kind == OrgKind::Platform
        && !(crate::auth::two_step::is_on(&state, actor.user_id).await?
            && crate::auth::session::passed_second_factor(&session).await?))
}

/// A platform member already holds one staff role; the other is refused.
fn refuse_second_staff_role(
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

/// The target member's role, for a change by `m`'s holder.
async fn target_role(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    m: &Membership,
    user_id: i64,
) -> Result<Role, AppError> {
    db::role_of(tx, m.org_id, user_id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn change_role(user_id: i64, role: &str) -> Result<(), AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.require(Permission::ManageMembers)?;
    let role = Role::parse(role)
        .ok_or_else(|| AppError::field("role", "Choose owner, admin or member."))?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    db::lock_org(&mut tx, m.org_id).await?;
    let current = target_role(&mut tx, m, user_id).await?;
    if !may_grant(m.role, role) || (current == Role::Owner && m.role != Role::Owner) {
        return Err(AppError::Forbidden);
    }
    if current == Role::Owner
        && role != Role::Owner
        && db::owner_count(&mut tx, m.org_id).await? == 1
    {
        return Err(AppError::Conflict(
            "This is the organisation's last owner: make someone else an owner first.".into(),
        ));
    }
    db::set_role(&mut tx, m.org_id, user_id, role).await?;
    let details = serde_json::json!({ "from": current.as_str(), "to": role.as_str() });
    append(
        &mut tx,
        &NewEntry::now(
            "member.role_changed",
            Some(actor.user_id),
            Some(m.org_id),
            format!("user:{user_id}"),
            details,
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove_member(user_id: i64) -> Result<(), AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.require(Permission::ManageMembers)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    db::lock_org(&mut tx, m.org_id).await?;
    let current = target_role(&mut tx, m, user_id).await?;
    if current == Role::Owner && m.role != Role::Owner {
        return Err(AppError::Forbidden);
    }
    if current == Role::Owner && db::owner_count(&mut tx, m.org_id).await? == 1 {
        return Err(AppError::Conflict(
            "The last owner cannot be removed.".into(),
        ));
    }
    db::remove_member(&mut tx, m.org_id, user_id).await?;
    append(
        &mut tx,
        &NewEntry::now(
            "member.removed",
            Some(actor.user_id),
            Some(m.org_id),
            format!("user:{user_id}"),
            serde_json::json!({}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn leave() -> Result<(), AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.require(Permission::ViewMembers)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    db::lock_org(&mut tx, m.org_id).await?;
    if m.role == Role::Owner && db::owner_count(&mut tx, m.org_id).await? == 1 {
        return Err(AppError::Conflict(
            "You are the last owner: make someone else an owner before leaving.".into(),
        ));
    }
    db::remove_member(&mut tx, m.org_id, actor.user_id).await?;
    append(
        &mut tx,
        &NewEntry::now(
            "member.left",
            Some(actor.user_id),
            Some(m.org_id),
            format!("user:{}", actor.user_id),
            serde_json::json!({}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `fairground admin bootstrap`: creates the platform organisation (once)
/// and makes `email` its first owner and referee: directly when that person
/// has an account, else through an invitation whose link is returned.
pub async fn bootstrap(
    database: &Db,
    now: i64,
    email: &str,
    name: &str,
    site: &str,
) -> Result<BootstrapOutcome, AppError> {
    let email = Email::parse(email)?;
    let mut tx = database.begin_write().await?;
    let org_id = match db::platform_org(database).await? {
        Some((id, _)) => id,
        None => {
            let id =
                super::db::ensure_org(&mut tx, "platform", name, OrgKind::Platform, now).await?;
            append(
                &mut tx,
                &audit_system(
                    "org.created",
                    id,
                    serde_json::json!({ "name": name, "kind": "platform" }),
                ),
                now,
            )
            .await?;
            id
        }
    };
    let user = crate::auth::db::user_by_email(database, email.as_str()).await?;
    let outcome = match user {
        Some(u) if db::membership(database, u.id, org_id).await?.is_some() => {
            BootstrapOutcome::AlreadyMember
        }
        Some(u) if u.email_verified_at.is_none() => {
            return Err(AppError::Conflict(format!(
                "An account with {} exists but has not confirmed its address. Its owner must open the \
                 confirmation link sent to it (or ask for a new one on the account page) before becoming \
                 the platform's referee; nothing was changed.",
                email.as_str()
            )));
        }
        Some(u) => {
            db::add_member(
                &mut tx,
                org_id,
                OrgKind::Platform,
                u.id,
                Role::Owner,
                Some(StaffRole::Referee),
                now,
            )
            .await?;
            append(
                &mut tx,
                &audit_system(
                    "member.bootstrapped",
                    org_id,
                    serde_json::json!({ "user": u.id, "role": "owner", "staff_role": "referee" }),
                ),
                now,
            )
            .await?;
            BootstrapOutcome::Added
        }
        None => {
            let (token, hash) = new_token();
            let link = format!("{}/invitations/{token}", site.trim_end_matches('/'));
            let id = db::insert_invitation(
                &mut tx,
                &NewInvitation {
                    org_id,
                    email: email.as_str(),
                    role: Role::Owner,
                    staff_role: Some(StaffRole::Referee),
                    token_hash: &hash,
                    invited_by: None,
                    expires_at: now + INVITATION_DAYS * DAY_MS,
                },
                now,
            )
            .await?;
            let body = format!("You are the first referee of the {name} platform. Accept within {INVITATION_DAYS} days: {link}\n");
            db::insert_outbox(
                &mut tx,
                Some(org_id),
                email.as_str(),
                "Run the Fairground platform",
                &body,
                now,
            )
            .await?;
            append(
                &mut tx,
                &audit_system("invitation.created", org_id, serde_json::json!({ "invitation": id, "role": "owner", "staff_role": "referee" })),
                now,
            )
            .await?;
            BootstrapOutcome::Invited(link)
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

fn audit_system(action: &str, org_id: i64, details: serde_json::Value) -> NewEntry {
    NewEntry {
        actor_user_id: None,
        org_id: Some(org_id),
        action: action.into(),
        target: format!("org:{org_id}"),
        client_ip: String::new(),
        details,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// The person already belongs to the platform organisation.
    AlreadyMember,
    /// The person had an account and is now owner and referee.
    Added,
    /// The person has no account yet: this link makes them owner and referee.
    Invited(String),
}
