//! Drafting: a publisher's listings, a new draft, the editor's data and
//! saving a listing's details.

use super::{active_base_model, audit_entry, detail, editor, industry_exists, own_listing};
use crate::audit::db::append;
use crate::auth::actor::Actor;
use crate::cases::service as cases;
use crate::catalogue::db::{active_base_model_choices, bump_version, industry_choices};
use crate::db::{on_unique, UniqueKey};
use crate::error::AppError;
use crate::form::Form;
use crate::listings::db::{self, Details, NewDraft};
use crate::listings::input::{DetailsForm, DraftForm};
use crate::listings::ListingStatus::*;
use crate::listings::{EditorData, MyListingsData};
use crate::state::AppState;

/// The listings of the actor's organisation, with what a new draft needs.
pub async fn my_listings(state: &AppState, actor: &Actor) -> Result<MyListingsData, AppError> {
    let m = editor(actor)?;
    Ok(MyListingsData {
        org_name: m.org_name.clone(),
        rows: db::of_org_rows(&state.db, m.org_id).await?,
        industries: industry_choices(&state.db).await?,
        base_models: active_base_model_choices(&state.db).await?,
    })
}

/// A slug some listing has published: its public address.
pub(super) const PUBLIC_SLUG: UniqueKey =
    UniqueKey::new("listings_slug_key", "listings.public_slug");
/// A slug the organisation uses for another of its listings.
const ORG_SLUG: UniqueKey =
    UniqueKey::new("listings_org_slug_key", "listings.org_id, listings.slug");

const TAKEN: &str = "This slug is taken by a published listing. Choose another one.";
const YOURS: &str = "Another of your organisation's listings uses this slug. Choose another one.";

/// What a publisher may learn of who holds `slug`: its own organisation's
/// listings, and listings that are or were public. An unpublished listing
/// of another organisation holds nothing here, so the answer cannot reveal
/// it. `listing` is the one being edited (it does not conflict with
/// itself).
async fn check_slug(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org_id: i64,
    slug: &str,
    listing: Option<i64>,
    f: &mut Form,
) -> Result<(), AppError> {
    let (public, own) = db::slug_holders(tx, org_id, slug).await?;
    let other = |holder: Option<i64>| holder.is_some_and(|h| Some(h) != listing);
    if other(public) {
        f.fail("slug", TAKEN);
    } else if other(own) {
        f.fail("slug", YOURS);
    }
    Ok(())
}

/// A slug taken between the check and the write (two saves racing) is the
/// slug field's problem too.
fn slug_taken(e: sqlx::Error) -> AppError {
    if ORG_SLUG.violated_by(&e) {
        return AppError::field("slug", YOURS);
    }
    on_unique(&[PUBLIC_SLUG], || AppError::field("slug", TAKEN))(e)
}

/// A new draft in the actor's organisation, with its first deployment.
pub async fn create(state: &AppState, actor: &Actor, form: &DraftForm) -> Result<i64, AppError> {
    let m = editor(actor)?;
    let mut f = Form::new();
    let draft = form.check(m.kind, &mut f);
    if !industry_exists(state, &draft.industry).await? {
        f.fail("industry", "Choose an industry from the list.");
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    if draft.base_model_id > 0 && !active_base_model(&mut tx, draft.base_model_id).await? {
        f.fail(
            "base_model_id",
            "Choose an active base model from the list.",
        );
    }
    if !draft.slug.as_str().is_empty() {
        check_slug(&mut tx, m.org_id, draft.slug.as_str(), None, &mut f).await?;
    }
    f.done()?;
    let row = NewDraft {
        org_id: m.org_id,
        slug: draft.slug.as_str(),
        name: &draft.name,
        tagline: &draft.tagline,
        industry: &draft.industry,
        base_model_id: draft.base_model_id,
    };
    let id = db::insert_draft(&mut tx, &row, now)
        .await
        .map_err(slug_taken)?;
    append(
        &mut tx,
        &audit_entry(
            "listing.created",
            actor,
            m.org_id,
            id,
            serde_json::json!({ "name": draft.name, "slug": draft.slug.as_str() }),
        ),
        now,
    )
    .await?;
    if crate::orgs::affiliation::first_party(&mut **tx, m.org_id).await? {
        cases::first_party_entered(
            &mut tx,
            id,
            &draft.name,
            &draft.industry,
            Some(actor.user_id),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The editor of one of the organisation's listings.
pub async fn editor_data(state: &AppState, actor: &Actor, id: i64) -> Result<EditorData, AppError> {
    let m = editor(actor)?;
    let row = match own_listing(state, m, id).await {
        Err(AppError::NotFound) => {
            // A player trying a partner's listing through the editor's
            // address: refused as on its page, and on the record.
            if let Some(row) = db::by_id(&state.db, id).await? {
                super::refuse_player(state, actor, &row, "in the listing editor").await?;
            }
            return Err(AppError::NotFound);
        }
        other => other?,
    };
    Ok(EditorData {
        detail: detail(state, &row, true, true).await?,
        description: row.description.clone(),
        industry_slug: row.industry_slug.clone(),
        industries: industry_choices(&state.db).await?,
        base_models: active_base_model_choices(&state.db).await?,
        upstreams: super::upstreams(state, actor, id).await?,
        new_secret: None,
        health: crate::gateway::health::of_publisher(
            &state.db,
            m.org_id,
            Some(id),
            state.clock.now_ms(),
        )
        .await?,
        test_call: None,
    })
}

/// Saves a listing's details. A public (or suspended) listing moved to
/// another industry enters it: the conflict rules of publishing there
/// apply now.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: i64,
    form: &DetailsForm,
) -> Result<(), AppError> {
    let m = editor(actor)?;
    let mut f = Form::new();
    let d = form.check(m.kind, &mut f);
    if !industry_exists(state, &d.industry).await? {
        f.fail("industry", "Choose an industry from the list.");
    }
    let now = state.clock.now_ms();
    let non_compete = crate::policy::db::current(&state.db).await?.non_compete;
    let mut tx = state.db.begin_write().await?;
    let (status, _) = db::status_in(&mut tx, id, Some(m.org_id))
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(public) = db::public_address(&mut tx, id).await? {
        // Links, bookmarks and gateway clients' model names use it.
        if !d.slug.as_str().is_empty() && d.slug.as_str() != public {
            f.fail(
                "slug",
                format!("A published listing keeps its address: the slug stays “{public}”, so that links and gateway model names keep working."),
            );
        }
    } else if !d.slug.as_str().is_empty() {
        check_slug(&mut tx, m.org_id, d.slug.as_str(), Some(id), &mut f).await?;
    }
    f.done()?;
    let publisher = db::publisher_in(&mut **tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if matches!(status, Published | Suspended) && publisher.industry != d.industry {
        let user = actor.user_id;
        if !publisher.first_party {
            cases::partner_entered(&mut tx, id, m.org_id, &d.name, &d.industry, Some(user), now)
                .await?;
        } else if let Some(case) =
            cases::sign_off_missing(&mut tx, id, &d.name, &d.industry, user, now).await?
        {
            if non_compete {
                // The case stays open for the referees; the edit waits.
                tx.commit().await?;
                return Err(cases::needs_sign_off(case));
            }
        }
    }
    match status {
        Submitted => {
            return Err(AppError::Conflict(
                "The listing is being reviewed; it can be edited again once a referee has decided."
                    .into(),
            ))
        }
        Retired => {
            return Err(AppError::Conflict(
                "A retired listing cannot be edited.".into(),
            ))
        }
        _ => {}
    }
    let details = Details {
        slug: d.slug.as_str(),
        name: &d.name,
        tagline: &d.tagline,
        description: &d.description,
        industry: &d.industry,
        data_residency: &d.data_residency,
        documentation_url: &d.documentation_url,
        tags: &d.tags,
        certifications: &d.certifications,
    };
    db::update_details(&mut tx, id, m.org_id, &details, now)
        .await
        .map_err(slug_taken)?;
    append(
        &mut tx,
        &audit_entry(
            "listing.updated",
            actor,
            m.org_id,
            id,
            serde_json::json!({ "name": d.name, "slug": d.slug.as_str() }),
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
