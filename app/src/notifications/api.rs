//! The server function of the notifications page.

use super::NotificationView;
use crate::error::AppError;
use leptos::prelude::*;

/// The current organisation's notifications, newest first.
#[server(prefix = "/api/fn", endpoint = "notifications")]
pub async fn notifications() -> Result<Vec<NotificationView>, AppError> {
    crate::state::respond(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            let m = actor.require(crate::auth::actor::Permission::ViewMembers)?;
            super::db::notifications(&state.db, m.org_id).await
        }
        .await,
    )
}
