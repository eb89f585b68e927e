//! The review lifecycle: the publisher submits or retires a listing; a
//! referee approves, rejects, suspends or reinstates it.

use super::{audit_entry, cannot, editor, open_own};
use crate::audit::db::append;
use crate::auth::actor::{Actor, Permission};
use crate::cases::service as cases;
use crate::catalogue::db::bump_version;
use crate::error::AppError;
use crate::form::Form;
use crate::listings::db;
use crate::listings::input;
use crate::listings::ListingStatus::{self, *};
use crate::listings::ReviewQueueData;
use crate::policy::firewall::{self, Outcome};
use crate::state::AppState;
use sqlx::Row;

/// The publisher asks for review.
pub async fn submit(state: &AppState, actor: &Actor, id: i64) -> Result<(), AppError> {
    let m = editor(actor)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_own(&mut tx, m, id).await?;
    let mut missing = Vec::new();
    let (plans, deployments) = db::plan_and_deployment_counts(&mut tx, id).await?;
    if plans == 0 {
        missing.push("at least one active plan");
    }
    if deployments == 0 {
        missing.push("a deployment on a base model");
    }
    let description: String = sqlx::query("SELECT description FROM listings WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?
        .try_get("description")?;
    if description.trim().is_empty() {
        missing.push("a description");
    }
    if !missing.is_empty() {
        return Err(AppError::Conflict(format!(
            "Before submitting, add {}.",
            missing.join(" and ")
        )));
    }
    // A draft's slug is its publisher's own until publication; one that
    // another listing has published since cannot become its address.
    if let Some(slug) = slug_published_by_another(&mut tx, id).await? {
        return Err(AppError::Conflict(format!(
            "The slug “{slug}” now belongs to a published listing. Choose another one in the details, then submit."
        )));
    }
    if !db::transition(&mut tx, id, &[Draft, Rejected], Submitted, None, now).await? {
        return Err(cannot(status, "submitted"));
    }
    if let Some(p) = db::publisher_in(&mut **tx, id).await? {
        if p.first_party {
            cases::first_party_entered(&mut tx, id, &p.name, &p.industry, Some(actor.user_id), now)
                .await?;
        }
    }
    append(
        &mut tx,
        &audit_entry(
            "listing.submitted",
            actor,
            m.org_id,
            id,
            serde_json::json!({}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The listing's slug, when a listing other than `id` has published it.
async fn slug_published_by_another(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
) -> Result<Option<String>, AppError> {
    Ok(sqlx::query(
        "SELECT l.slug FROM listings l JOIN listings p ON p.public_slug = l.slug AND p.id <> l.id \
         WHERE l.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.try_get::<String, _>("slug"))
    .transpose()?)
}

/// The publisher withdraws the listing for good.
pub async fn retire(state: &AppState, actor: &Actor, id: i64) -> Result<(), AppError> {
    let m = editor(actor)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_own(&mut tx, m, id).await?;
    if !db::transition(
        &mut tx,
        id,
        &[Draft, Submitted, Published, Rejected, Suspended],
        Retired,
        None,
        now,
    )
    .await?
    {
        return Err(cannot(status, "retired"));
    }
    append(
        &mut tx,
        &audit_entry(
            "listing.retired",
            actor,
            m.org_id,
            id,
            serde_json::json!({ "from": status.as_str() }),
        ),
        now,
    )
    .await?;
    if status == Published {
        bump_version(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A referee's decision: moves the listing `from` → `to` (with a reason
/// the publisher sees, when one is required).
#[allow(clippy::too_many_arguments)]
async fn review(
    state: &AppState,
    actor: &Actor,
    id: i64,
    from: &[ListingStatus],
    to: ListingStatus,
    reason: Option<&str>,
    action: &str,
    verb: &str,
) -> Result<(), AppError> {
    let m = actor.require(Permission::Referee)?;
    let reason = reason
        .map(|raw| {
            let mut f = Form::new();
            let r = input::reason(&mut f, raw);
            f.done().map(|()| r)
        })
        .transpose()?;
    let now = state.clock.now_ms();
    // A plain read: the write transaction below re-checks the status.
    let org = db::publisher_in(state.db.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?
        .org_id;
    crate::policy::recusal::refuse_if_party(
        state,
        actor,
        m.org_id,
        &[org],
        &format!("listing:{id}"),
        verb,
    )
    .await?;
    let mut tx = state.db.begin_write().await?;
    let (status, _) = db::status_in(&mut tx, id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    // Who publishes, read in this transaction: an affiliation that changed
    // since is seen.
    let db::Publisher {
        first_party,
        industry,
        name,
        ..
    } = db::publisher_in(&mut **tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    // A decision the status does not allow writes nothing.
    if !from.contains(&status) {
        return Err(cannot(status, verb));
    }
    // Approving a first-party listing into partners' industry needs the
    // case signed off while the non-compete flag is on (read in this
    // transaction, so a change of the flag queues behind the decision).
    if to == Published
        && from.contains(&Submitted)
        && first_party
        && crate::policy::db::current_in(&mut tx).await?.non_compete
    {
        if let Some(case) =
            cases::sign_off_missing(&mut tx, id, &name, &industry, actor.user_id, now).await?
        {
            // The case is where a referee signs it off, so it is kept (the
            // partners told, if it is new); the listing stays as it was.
            tx.commit().await?;
            return Err(cases::needs_sign_off(case));
        }
    }
    // Publishing claims the slug as the listing's public address; another
    // listing may have published it while this one waited for review.
    let moved = db::transition(&mut tx, id, from, to, reason.as_deref(), now)
        .await
        .map_err(crate::db::on_unique(&[super::drafting::PUBLIC_SLUG], || {
            AppError::Conflict(
                "Another listing has published this listing's slug since it was submitted. Reject it with that reason, so that its publisher can choose another slug."
                    .into(),
            )
        }))?;
    if !moved {
        return Err(cannot(status, verb));
    }
    if to == Published && !first_party {
        cases::partner_entered(&mut tx, id, org, &name, &industry, Some(actor.user_id), now)
            .await?;
    }
    append(
        &mut tx,
        &audit_entry(
            action,
            actor,
            m.org_id,
            id,
            serde_json::json!({ "from": status.as_str(), "reason": reason }),
        ),
        now,
    )
    .await?;
    if status == Published || to == Published {
        bump_version(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn approve(state: &AppState, actor: &Actor, id: i64) -> Result<(), AppError> {
    review(
        state,
        actor,
        id,
        &[Submitted],
        Published,
        None,
        "listing.approved",
        "approved",
    )
    .await
}

pub async fn reject(
    state: &AppState,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<(), AppError> {
    review(
        state,
        actor,
        id,
        &[Submitted],
        Rejected,
        Some(reason),
        "listing.rejected",
        "rejected",
    )
    .await
}

pub async fn suspend(
    state: &AppState,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<(), AppError> {
    review(
        state,
        actor,
        id,
        &[Published],
        Suspended,
        Some(reason),
        "listing.suspended",
        "suspended",
    )
    .await
}

pub async fn reinstate(state: &AppState, actor: &Actor, id: i64) -> Result<(), AppError> {
    review(
        state,
        actor,
        id,
        &[Suspended],
        Published,
        None,
        "listing.reinstated",
        "reinstated",
    )
    .await
}

/// The referees' queue: listings submitted, published and suspended. Each
/// partner listing shown that is not public is a read of partner data, on
/// the record.
pub async fn review_queue(state: &AppState, actor: &Actor) -> Result<ReviewQueueData, AppError> {
    actor.require(Permission::Referee)?;
    let mut queue = ReviewQueueData {
        submitted: db::review_rows(&state.db, Submitted).await?,
        published: db::review_rows(&state.db, Published).await?,
        suspended: db::review_rows(&state.db, Suspended).await?,
    };
    for r in queue
        .submitted
        .iter_mut()
        .chain(&mut queue.published)
        .chain(&mut queue.suspended)
    {
        r.recuse = crate::policy::recusal::conflict(actor, &[r.org_id]).is_some();
    }
    // Listings under review or suspended are not public: each one shown is
    // a read of its partner's data.
    let reads = queue
        .submitted
        .iter()
        .chain(&queue.suspended)
        .filter(|r| !r.platform_owned)
        .map(|r| {
            let what = format!(
                "listing “{}” ({}), in the review queue",
                r.name,
                r.status.label().to_lowercase()
            );
            (r.org_id, what, Outcome::Read)
        })
        .collect();
    firewall::record_new(state, actor, reads).await?;
    Ok(queue)
}
