//! The platform's bootstrap from the command line: its first owner and
//! referee, added or invited.

use super::super::db::{self, NewInvitation};
use super::super::{OrgKind, Role, StaffRole};
use super::{new_token, DAY_MS, INVITATION_DAYS};
use crate::audit::db::{append, NewEntry};
use crate::auth::Email;
use crate::db::Db;
use crate::error::AppError;

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
            crate::orgs::affiliation::after_membership_change(&mut tx, org_id, u.id, None, now)
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
