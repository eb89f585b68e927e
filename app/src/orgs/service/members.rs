//! Members: changing roles, removing members, leaving.

use super::super::db::{self, Membership};
use super::super::Role;
use super::may_grant;
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{Actor, Permission};
use crate::error::AppError;
use crate::orgs::affiliation;
use crate::state::AppState;

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

pub async fn change_role(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    role: &str,
) -> Result<(), AppError> {
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
        &NewEntry::by(
            actor,
            "member.role_changed",
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

pub async fn remove_member(state: &AppState, actor: &Actor, user_id: i64) -> Result<(), AppError> {
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
    affiliation::after_membership_change(&mut tx, m.org_id, user_id, Some(actor), now).await?;
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "member.removed",
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

pub async fn leave(state: &AppState, actor: &Actor) -> Result<(), AppError> {
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
    affiliation::after_membership_change(&mut tx, m.org_id, actor.user_id, Some(actor), now)
        .await?;
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "member.left",
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
