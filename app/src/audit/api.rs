//! The referees' check of the audit chain.

use super::AuditReport;
use crate::error::AppError;
use leptos::prelude::*;

/// A referee checks the whole hash chain.
#[server(prefix = "/api/fn", endpoint = "audit_check")]
pub async fn audit_check() -> Result<AuditReport, AppError> {
    crate::state::respond(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            actor.require(crate::auth::actor::Permission::Referee)?;
            let v = super::db::verify(&state.db).await?;
            Ok(AuditReport {
                entries: v.entries,
                head_hash: v.head_hash,
                broken: v.broken.map(|b| (b.seq, b.reason)),
            })
        }
        .await,
    )
}
