//! Listing workflows, one file each: drafting (drafts and their details),
//! the offer (deployments and plans), review (the lifecycle a referee
//! decides), and the public pages' data. Each write is one transaction with
//! its audit entry; a change to what the public catalogue shows also moves
//! the catalogue version.
//!
//! Lifecycle: draft → submitted → published | rejected (referee, reason);
//! rejected → submitted; published → suspended (referee, reason) →
//! published (referee); any state but retired → retired (publisher).
//!
//! Every function takes the application state and the acting person from
//! its caller (a server function resolves them once per request), and a
//! typed form: none reads the request itself.

mod drafting;
mod offer;
mod probe;
mod public;
mod review;
mod upstream;

pub use drafting::{create, editor_data, my_listings, update};
pub use offer::{
    add_deployment, add_plan, deactivate_plan, edit_deployment, remove_deployment,
    set_default_deployment, DeploymentEdit,
};
pub use probe::{keep_test_call, take_test_call, test_call};
pub use public::{compare, page};
pub use review::{approve, reinstate, reject, retire, review_queue, submit, suspend};
pub use upstream::{
    keep_for_page, new_secret, rotate_secret, set_upstream, take_new_secret, upstreams, Upstream,
    UpstreamForm,
};

use super::db::{self, Labels, ListingRow};
use super::markdown;
use super::{ListingDetail, ListingStatus};
use crate::audit::db::NewEntry;
use crate::auth::actor::{Actor, Permission};
use crate::catalogue::db::bump_version;
use crate::error::AppError;
use crate::orgs::db::Membership;
use crate::orgs::OrgKind;
use crate::state::AppState;
use sqlx::{Any, Transaction};
use ListingStatus::*;

/// The actor's membership when it may edit listings.
pub(super) fn editor(actor: &Actor) -> Result<&Membership, AppError> {
    actor.require(Permission::EditListings)
}

pub(super) fn audit_entry(
    action: &str,
    actor: &Actor,
    org: i64,
    listing_id: i64,
    details: serde_json::Value,
) -> NewEntry {
    NewEntry::by(
        actor,
        action,
        Some(org),
        format!("listing:{listing_id}"),
        details,
    )
}

pub(super) async fn industry_exists(state: &AppState, slug: &str) -> Result<bool, AppError> {
    Ok(sqlx::query("SELECT slug FROM industries WHERE slug = $1")
        .bind(slug)
        .fetch_optional(state.db.pool())
        .await?
        .is_some())
}

pub(super) async fn active_base_model(
    tx: &mut Transaction<'_, Any>,
    id: i64,
) -> Result<bool, AppError> {
    Ok(
        sqlx::query("SELECT id FROM base_models WHERE id = $1 AND status = 'active'")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
    )
}

/// The listing of the actor's organisation; another's is NotFound.
pub(super) async fn own_listing(
    state: &AppState,
    m: &Membership,
    id: i64,
) -> Result<ListingRow, AppError> {
    db::of_org(&state.db, m.org_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A player who reaches for a partner's listing where only its publisher
/// (or a referee) may look: the attempt is recorded as refused, and opens
/// a case, exactly as a refused read of its page does. Anyone else: nothing
/// to record.
pub(super) async fn refuse_player(
    state: &AppState,
    actor: &Actor,
    row: &ListingRow,
    place: &str,
) -> Result<(), AppError> {
    if !actor.is_player() || row.publisher_kind != OrgKind::Partner {
        return Ok(());
    }
    let what = format!(
        "listing “{}” ({}), {place}",
        row.name,
        row.status.label().to_lowercase()
    );
    let case = crate::cases::service::player_read(Some(row.id), row.org_id, &what, actor.user_id);
    crate::policy::firewall::record(
        state,
        actor,
        row.org_id,
        &what,
        crate::policy::firewall::Outcome::Refused(case),
    )
    .await
}

pub(super) async fn detail(
    state: &AppState,
    row: &ListingRow,
    show_reason: bool,
    can_edit: bool,
) -> Result<ListingDetail, AppError> {
    Ok(ListingDetail {
        id: row.id,
        slug: row.slug.clone(),
        href: crate::listings::href(&row.publisher_slug, &row.slug, row.published_at.is_some()),
        name: row.name.clone(),
        tagline: row.tagline.clone(),
        description_html: markdown::render(&row.description),
        industry: row.industry.clone(),
        tags: db::labels(state.db.pool(), Labels::Tags, row.id).await?,
        data_residency: row.data_residency.clone(),
        certifications: db::labels(state.db.pool(), Labels::Certifications, row.id).await?,
        documentation_url: row.documentation_url.clone(),
        status: row.status,
        review_reason: (show_reason && !row.review_reason.is_empty())
            .then(|| row.review_reason.clone()),
        publisher: row.publisher.clone(),
        platform_owned: row.publisher_kind == OrgKind::Platform,
        affiliated: row.affiliated,
        published_at: row.published_at,
        deployments: db::deployments(&state.db, row.id).await?,
        plans: db::plans(&state.db, row.id).await?,
        changes: db::changes(&state.db, row.id).await?,
        can_edit,
    })
}

/// Opens a write on one of the organisation's listings that may still
/// change (not retired); its status.
pub(super) async fn open_own(
    tx: &mut Transaction<'_, Any>,
    m: &Membership,
    id: i64,
) -> Result<ListingStatus, AppError> {
    let (status, _) = db::status_in(tx, id, Some(m.org_id))
        .await?
        .ok_or(AppError::NotFound)?;
    if status == Retired {
        return Err(AppError::Conflict(
            "A retired listing cannot be changed.".into(),
        ));
    }
    Ok(status)
}

/// As [`open_own`], for a change of plans or deployments: refused while a
/// referee reviews the listing, since the referee decides on what was
/// submitted (the details are frozen then too).
pub(super) async fn open_offer(
    tx: &mut Transaction<'_, Any>,
    m: &Membership,
    id: i64,
) -> Result<ListingStatus, AppError> {
    let status = open_own(tx, m, id).await?;
    if status == Submitted {
        return Err(AppError::Conflict(
            "The listing is being reviewed; its plans and deployments can be changed again once a referee has decided."
                .into(),
        ));
    }
    Ok(status)
}

/// Records a price or deployment change of a public listing and tells the
/// catalogue.
pub(super) async fn public_change(
    tx: &mut Transaction<'_, Any>,
    status: ListingStatus,
    id: i64,
    actor: &Actor,
    kind: &str,
    summary: &str,
    now: i64,
) -> Result<(), AppError> {
    if status == Published {
        db::add_change(tx, id, actor.user_id, kind, summary, now).await?;
        bump_version(tx).await?;
    }
    db::touch(tx, id, now).await?;
    Ok(())
}

pub(super) fn cannot(status: ListingStatus, verb: &str) -> AppError {
    AppError::Conflict(format!(
        "A listing that is {} cannot be {verb}.",
        status.label().to_lowercase()
    ))
}
