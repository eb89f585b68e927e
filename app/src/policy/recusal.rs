//! Recusal: a referee who belongs to an organisation that is a party to a
//! listing or a case leaves its decisions to another referee. The refusal
//! names the conflict and is on the audit record.
//!
//! The platform organisation itself is not a conflict: every referee
//! belongs to it, and its own listings go through the non-compete rules
//! (cases, sign-off under the flag) instead. What is caught is the other
//! membership: a referee who also works in a partner organisation (a side
//! company, a former employer still joined) judging that organisation.

use crate::audit::db::{append, NewEntry};
use crate::auth::actor::Actor;
use crate::error::AppError;
use crate::orgs::db::Membership;
use crate::orgs::OrgKind;
use crate::state::AppState;

/// The membership of `actor` in one of `parties`, other than the platform.
pub fn conflict<'a>(actor: &'a Actor, parties: &[i64]) -> Option<&'a Membership> {
    actor
        .memberships
        .iter()
        .find(|m| m.kind != OrgKind::Platform && parties.contains(&m.org_id))
}

/// Refuses `decision` on `target` (`listing:ID`, `case:ID`) when the actor
/// belongs to one of `parties`: the refusal is appended to the audit log
/// (in its own transaction) and the error names the organisation.
pub async fn refuse_if_party(
    state: &AppState,
    actor: &Actor,
    staff_org: i64,
    parties: &[i64],
    target: &str,
    decision: &str,
) -> Result<(), AppError> {
    let Some(m) = conflict(actor, parties) else {
        return Ok(());
    };
    let what = target.split(':').next().unwrap_or("item");
    let mut tx = state.db.begin_write().await?;
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "referee.recusal_refused",
            Some(staff_org),
            target.to_string(),
            serde_json::json!({ "decision": decision, "conflict_org": m.org_id }),
        ),
        state.clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Err(AppError::Conflict(format!(
        "You are a member of {}, a party to this {what}: you cannot decide it. \
         Another referee must.",
        m.org_name
    )))
}
