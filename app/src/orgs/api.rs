//! Server functions for organisations, members and invitations.

use super::{InvitationInfo, MembersData, OrgSummary};
#[cfg(feature = "ssr")]
use crate::auth::visit::Visit;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "my_orgs")]
pub async fn my_orgs() -> Result<Vec<OrgSummary>, AppError> {
    crate::state::respond(
        async {
            let (_, actor) = crate::auth::visit::current().await?;
            Ok(super::service::my_orgs(&actor))
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "create_org")]
pub async fn create_org(name: String, kind: String) -> Result<i64, AppError> {
    crate::state::respond_then(
        async {
            let visit = Visit::current().await?;
            let actor = visit.actor().await?;
            let form = super::service::NewOrgForm { name, kind };
            super::service::create_org(&visit, &actor, &form).await
        }
        .await,
        "/org/members",
    )
}

#[server(prefix = "/api/fn", endpoint = "switch_org")]
pub async fn switch_org(org_id: i64) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let visit = Visit::current().await?;
            let actor = visit.actor().await?;
            super::service::switch_org(&visit, &actor, org_id).await
        }
        .await,
        "/orgs",
    )
}

#[server(prefix = "/api/fn", endpoint = "members_page")]
pub async fn members_page() -> Result<MembersData, AppError> {
    crate::state::respond(
        async {
            let visit = Visit::current().await?;
            let actor = visit.actor().await?;
            super::service::members_page(&visit, &actor).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "invite_member")]
pub async fn invite_member(
    email: String,
    role: String,
    #[server(default)] staff_role: String,
) -> Result<String, AppError> {
    crate::state::respond_then(
        async {
            let visit = Visit::current().await?;
            let actor = visit.actor().await?;
            let form = super::service::InviteForm {
                email,
                role,
                staff_role,
            };
            super::service::invite(&visit, &actor, &form).await
        }
        .await,
        "/org/members",
    )
}

#[server(prefix = "/api/fn", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(invitation_id: i64) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::revoke(&state, &actor, invitation_id).await
        }
        .await,
        "/org/members",
    )
}

#[server(prefix = "/api/fn", endpoint = "invitation_offer")]
pub async fn invitation_offer(token: String) -> Result<InvitationInfo, AppError> {
    crate::state::respond(
        async { super::service::offer(&Visit::current().await?, &token).await }.await,
    )
}

#[server(prefix = "/api/fn", endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String) -> Result<(), AppError> {
    let out = async {
        let visit = Visit::current().await?;
        let actor = visit.actor().await?;
        super::service::accept(&visit, &actor, &token).await
    }
    .await;
    match out {
        // New staff turn on two-step sign-in before anything else.
        Ok(true) => crate::state::respond_then(Ok(()), "/account?updated=staff#two-step"),
        other => crate::state::respond_then(other.map(|_| ()), "/org/members"),
    }
}

#[server(prefix = "/api/fn", endpoint = "change_role")]
pub async fn change_role(user_id: i64, role: String) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::change_role(&state, &actor, user_id, &role).await
        }
        .await,
        "/org/members",
    )
}

#[server(prefix = "/api/fn", endpoint = "remove_member")]
pub async fn remove_member(user_id: i64) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::remove_member(&state, &actor, user_id).await
        }
        .await,
        "/org/members",
    )
}

#[server(prefix = "/api/fn", endpoint = "leave_org")]
pub async fn leave_org() -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::leave(&state, &actor).await
        }
        .await,
        "/orgs",
    )
}
