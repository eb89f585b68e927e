//! Listing workflows: drafts and their details, deployments and plans, the
//! review lifecycle, and the listing, compare, "my listings" and review
//! pages' data. Each write is one transaction with its audit entry; a change
//! to what the public catalogue shows also moves the catalogue version.
//!
//! Lifecycle: draft → submitted → published | rejected (referee, reason);
//! rejected → submitted; published → suspended (referee, reason) →
//! published (referee); any state but retired → retired (publisher).

use super::db::{self, Details, Labels, ListingRow, NewDraft, NewPlan};
use super::markdown;
use super::{
    format_money, parse_money, EditorData, ListingDetail, ListingStatus, MyListingsData,
    ReviewQueueData, CURRENCIES,
};
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{resolve, resolve_in, Actor, Permission};
use crate::auth::db::violates_unique;
use crate::auth::session::from_request;
use crate::cases::service as cases;
use crate::catalogue::db::{active_base_model_choices, bump_version, industry_choices};
use crate::catalogue::service::slugify;
use crate::catalogue::COMPARE_MAX;
use crate::error::{AppError, FieldErrors};
use crate::orgs::db::Membership;
use crate::orgs::OrgKind;
use crate::policy::firewall::{self, Outcome};
use crate::state::{app_state, AppState};
use sqlx::{Any, Row, Transaction};
use ListingStatus::*;

const MAX_DESCRIPTION: usize = 20_000;
const MAX_TAGS: usize = 12;
const MAX_CERTIFICATIONS: usize = 10;

struct Form {
    fields: FieldErrors,
}

impl Form {
    fn new() -> Form {
        Form {
            fields: FieldErrors::new(),
        }
    }

    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.fields
            .entry(field.to_string())
            .or_default()
            .push(message.into());
    }

    /// Trimmed text of `min..=max` characters without control characters
    /// (newlines allowed when `multiline`).
    fn text(
        &mut self,
        field: &str,
        value: &str,
        min: usize,
        max: usize,
        multiline: bool,
    ) -> String {
        let v = value.trim();
        let n = v.chars().count();
        if n < min {
            self.fail(
                field,
                if min <= 1 {
                    "This field is required.".to_string()
                } else {
                    format!("Use at least {min} characters.")
                },
            );
        } else if n > max {
            self.fail(field, format!("Use at most {max} characters."));
        } else if v
            .chars()
            .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
        {
            self.fail(field, "Use letters, digits, spaces and punctuation only.");
        }
        v.to_string()
    }

    /// Comma-separated labels: trimmed, de-duplicated case-insensitively.
    fn list(
        &mut self,
        field: &str,
        value: &str,
        max_items: usize,
        max_len: usize,
        lower: bool,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let item = if lower {
                item.to_lowercase()
            } else {
                item.to_string()
            };
            if item.chars().count() > max_len || item.chars().any(char::is_control) {
                self.fail(
                    field,
                    format!("Each entry may have at most {max_len} characters."),
                );
                return out;
            }
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&item)) {
                out.push(item);
            }
        }
        if out.len() > max_items {
            self.fail(field, format!("Give at most {max_items}."));
        }
        out
    }

    fn slug(&mut self, field: &str, value: &str, name: &str) -> String {
        let v = value.trim();
        let slug = if v.is_empty() {
            slugify(name)
        } else {
            v.to_string()
        };
        let valid = (3..=60).contains(&slug.len())
            && slug.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        if !valid {
            self.fail(
                field,
                "Use 3 to 60 lower-case letters, digits and single dashes, e.g. chest-x-ray-triage.",
            );
        }
        slug
    }

    fn id(&mut self, field: &str, value: &str, message: &str) -> i64 {
        match value.trim().parse::<i64>() {
            Ok(n) if n > 0 => n,
            _ => {
                self.fail(field, message);
                0
            }
        }
    }

    fn done(self) -> Result<(), AppError> {
        if self.fields.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation {
                fields: self.fields,
            })
        }
    }
}

fn audit_entry(
    action: &str,
    actor: &Actor,
    org: i64,
    listing_id: i64,
    details: serde_json::Value,
) -> NewEntry {
    NewEntry::now(
        action,
        Some(actor.user_id),
        Some(org),
        format!("listing:{listing_id}"),
        details,
    )
}

async fn industry_exists(state: &AppState, slug: &str) -> Result<bool, AppError> {
    Ok(sqlx::query("SELECT slug FROM industries WHERE slug = $1")
        .bind(slug)
        .fetch_optional(state.db.pool())
        .await?
        .is_some())
}

async fn active_base_model(tx: &mut Transaction<'_, Any>, id: i64) -> Result<bool, AppError> {
    Ok(
        sqlx::query("SELECT id FROM base_models WHERE id = $1 AND status = 'active'")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
    )
}

/// The actor's membership when it may edit listings.
async fn editor() -> Result<(AppState, Actor, Membership), AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.require(Permission::EditListings)?.clone();
    Ok((state, actor, m))
}

async fn referee() -> Result<(AppState, Actor, Membership), AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.require(Permission::Referee)?.clone();
    Ok((state, actor, m))
}

pub async fn my_listings() -> Result<MyListingsData, AppError> {
    let (state, _, m) = editor().await?;
    Ok(MyListingsData {
        org_name: m.org_name.clone(),
        rows: db::of_org_rows(&state.db, m.org_id).await?,
        industries: industry_choices(&state.db).await?,
        base_models: active_base_model_choices(&state.db).await?,
    })
}

/// A new draft in the actor's organisation, with its first deployment.
pub async fn create(
    name: &str,
    slug: &str,
    tagline: &str,
    industry: &str,
    base_model_id: &str,
) -> Result<i64, AppError> {
    let (state, actor, m) = editor().await?;
    let mut f = Form::new();
    let name = f.text("name", name, 3, 80, false);
    let slug = f.slug("slug", slug, &name);
    check_listing_name(&mut f, &m, &name, &slug);
    let tagline = f.text("tagline", tagline, 1, 140, false);
    let industry = industry.trim().to_string();
    if !industry_exists(&state, &industry).await? {
        f.fail("industry", "Choose an industry from the list.");
    }
    let base_model_id = f.id("base_model_id", base_model_id, "Choose a base model.");
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    if base_model_id > 0 && !active_base_model(&mut tx, base_model_id).await? {
        f.fail(
            "base_model_id",
            "Choose an active base model from the list.",
        );
    }
    f.done()?;
    let draft = NewDraft {
        org_id: m.org_id,
        slug: &slug,
        name: &name,
        tagline: &tagline,
        industry: &industry,
        base_model_id,
    };
    let id = match db::insert_draft(&mut tx, &draft, now).await {
        Ok(id) => id,
        Err(e) if violates_unique(&e, "listings_slug_key", "listings.slug") => {
            return Err(AppError::field(
                "slug",
                "This slug is taken. Choose another one.",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    append(
        &mut tx,
        &audit_entry(
            "listing.created",
            &actor,
            m.org_id,
            id,
            serde_json::json!({ "name": name, "slug": slug }),
        ),
        now,
    )
    .await?;
    if m.kind == OrgKind::Platform {
        cases::first_party_entered(&mut tx, id, &name, &industry, Some(actor.user_id), now).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The listing of the actor's organisation; another's is NotFound.
async fn own_listing(state: &AppState, m: &Membership, id: i64) -> Result<ListingRow, AppError> {
    db::of_org(&state.db, m.org_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn detail(
    state: &AppState,
    row: &ListingRow,
    show_reason: bool,
    can_edit: bool,
) -> Result<ListingDetail, AppError> {
    Ok(ListingDetail {
        id: row.id,
        slug: row.slug.clone(),
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
        published_at: row.published_at,
        deployments: db::deployments(&state.db, row.id).await?,
        plans: db::plans(&state.db, row.id).await?,
        changes: db::changes(&state.db, row.id).await?,
        can_edit,
    })
}

pub async fn editor_data(id: i64) -> Result<EditorData, AppError> {
    let (state, _, m) = editor().await?;
    let row = own_listing(&state, &m, id).await?;
    Ok(EditorData {
        detail: detail(&state, &row, true, true).await?,
        description: row.description.clone(),
        industry_slug: row.industry_slug.clone(),
        industries: industry_choices(&state.db).await?,
        base_models: active_base_model_choices(&state.db).await?,
    })
}

/// The public listing page. A listing that is not published is shown only
/// to its publisher and to referees; to anyone else it does not exist.
pub async fn page(slug: &str) -> Result<ListingDetail, AppError> {
    let state = app_state()?;
    let row = db::by_slug(&state.db, slug.trim())
        .await?
        .ok_or(AppError::NotFound)?;
    let session = from_request().await?;
    let actor = resolve_in(&state, &session).await?;
    let member = actor.as_ref().and_then(|a| a.membership.as_ref());
    let own = member.is_some_and(|m| m.org_id == row.org_id);
    let can_edit = own
        && actor
            .as_ref()
            .is_some_and(|a| a.require(Permission::EditListings).is_ok());
    let is_referee = actor
        .as_ref()
        .is_some_and(|a| a.require(Permission::Referee).is_ok());
    let partner_secret = row.status != Published && !own && row.publisher_kind == OrgKind::Partner;
    if partner_secret {
        // The data firewall: a referee's read is recorded for the partner to
        // see; platform staff who are not referees are refused, on the record.
        let what = format!(
            "listing “{}” ({})",
            row.name,
            row.status.label().to_lowercase()
        );
        match actor.as_ref() {
            Some(a) if is_referee => {
                firewall::record(&state, a, row.org_id, &what, Outcome::Read).await?
            }
            Some(a) if a.is_player() => {
                let case = cases::player_read(Some(row.id), row.org_id, &what, a.user_id);
                firewall::record(&state, a, row.org_id, &what, Outcome::Refused(case)).await?;
                return Err(AppError::NotFound);
            }
            _ => return Err(AppError::NotFound),
        }
    } else if row.status != Published && !own && !is_referee {
        return Err(AppError::NotFound);
    }
    if row.status == Published && !own {
        crate::exposure::tally::views([row.id]);
    }
    detail(&state, &row, own || is_referee, can_edit).await
}

/// Up to `COMPARE_MAX` published listings side by side, in the order given.
pub async fn compare(slugs: &str) -> Result<Vec<ListingDetail>, AppError> {
    let state = app_state()?;
    let mut wanted: Vec<&str> = Vec::new();
    for s in slugs.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !wanted.contains(&s) {
            wanted.push(s);
        }
    }
    if wanted.len() > COMPARE_MAX {
        return Err(AppError::field(
            "l",
            format!("Compare at most {COMPARE_MAX} listings at a time."),
        ));
    }
    let mut out = Vec::new();
    let mut publishers = Vec::new();
    for slug in wanted {
        match db::by_slug(&state.db, slug).await? {
            Some(row) if row.status == Published => {
                publishers.push(row.org_id);
                out.push(detail(&state, &row, false, false).await?)
            }
            _ => return Err(AppError::NotFound),
        }
    }
    // A publisher comparing its own listings is not exposure.
    let session = from_request().await?;
    let viewer_org = resolve_in(&state, &session)
        .await?
        .and_then(|a| a.membership.map(|m| m.org_id));
    crate::exposure::tally::views(
        out.iter()
            .zip(&publishers)
            .filter(|(_, org)| Some(**org) != viewer_org)
            .map(|(d, _)| d.id),
    );
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
pub async fn update(
    id: i64,
    name: &str,
    slug: &str,
    tagline: &str,
    description: &str,
    industry: &str,
    tags: &str,
    data_residency: &str,
    certifications: &str,
    documentation_url: &str,
) -> Result<(), AppError> {
    let (state, actor, m) = editor().await?;
    let mut f = Form::new();
    let name = f.text("name", name, 3, 80, false);
    let slug = f.slug("slug", slug, &name);
    check_listing_name(&mut f, &m, &name, &slug);
    let tagline = f.text("tagline", tagline, 1, 140, false);
    let description = f.text("description", description, 0, MAX_DESCRIPTION, true);
    let industry = industry.trim().to_string();
    if !industry_exists(&state, &industry).await? {
        f.fail("industry", "Choose an industry from the list.");
    }
    let tags = f.list("tags", tags, MAX_TAGS, 30, true);
    let data_residency = f.text("data_residency", data_residency, 0, 80, false);
    let certifications = f.list(
        "certifications",
        certifications,
        MAX_CERTIFICATIONS,
        40,
        false,
    );
    let documentation_url = f.text("documentation_url", documentation_url, 0, 300, false);
    let web = documentation_url.starts_with("https://") || documentation_url.starts_with("http://");
    if !(documentation_url.is_empty() || web) || documentation_url.contains(char::is_whitespace) {
        f.fail(
            "documentation_url",
            "Give a web address starting with https:// (or leave it empty).",
        );
    }
    f.done()?;
    let now = state.clock.now_ms();
    let non_compete = crate::policy::db::current(&state.db).await?.non_compete;
    let mut tx = state.db.begin_write().await?;
    let (status, _) = db::status_in(&mut tx, id, Some(m.org_id))
        .await?
        .ok_or(AppError::NotFound)?;
    // A public (or suspended, so soon public again) listing moved to another
    // industry enters it: the conflict rules of publishing there apply now.
    let (_, kind, was_in, _) = db::publisher_in(&mut **tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if matches!(status, Published | Suspended) && was_in != industry {
        let user = actor.user_id;
        if kind == OrgKind::Partner {
            cases::partner_entered(&mut tx, id, m.org_id, &name, &industry, Some(user), now)
                .await?;
        } else if let Some(case) =
            cases::sign_off_missing(&mut tx, id, &name, &industry, user, now).await?
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
        slug: &slug,
        name: &name,
        tagline: &tagline,
        description: &description,
        industry: &industry,
        data_residency: &data_residency,
        documentation_url: &documentation_url,
        tags: &tags,
        certifications: &certifications,
    };
    match db::update_details(&mut tx, id, &details, now).await {
        Ok(()) => {}
        Err(e) if violates_unique(&e, "listings_slug_key", "listings.slug") => {
            return Err(AppError::field(
                "slug",
                "This slug is taken. Choose another one.",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    append(
        &mut tx,
        &audit_entry(
            "listing.updated",
            &actor,
            m.org_id,
            id,
            serde_json::json!({ "name": name, "slug": slug }),
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

/// A listing name people cannot be fooled by: no invisible or
/// direction-changing characters, and a name or address (slug) that reads
/// as the platform's ("Fairground …", "Fairgr0und …", `/listings/fairground-…`)
/// only on the platform's own listings.
fn check_listing_name(f: &mut Form, m: &Membership, name: &str, slug: &str) {
    use crate::orgs::names::{is_hidden, skeleton, PLATFORM_NAME};
    if name.chars().any(is_hidden) {
        f.fail(
            "name",
            "Use letters, digits, spaces and punctuation only: no invisible or direction-changing characters.",
        );
    } else if m.kind != OrgKind::Platform && skeleton(name).contains(&skeleton(PLATFORM_NAME)) {
        f.fail(
            "name",
            format!("Only the platform's own listings may use a name that reads as \"{PLATFORM_NAME}\"."),
        );
    }
    if m.kind != OrgKind::Platform && skeleton(slug).contains(&skeleton(PLATFORM_NAME)) {
        f.fail(
            "slug",
            format!("Only the platform's own listings may use an address that reads as \"{PLATFORM_NAME}\"."),
        );
    }
}

/// Opens a write on one of the organisation's listings that may still
/// change (not retired); its status.
async fn open_own(
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
async fn open_offer(
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
async fn public_change(
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

pub async fn add_deployment(
    listing_id: i64,
    base_model_id: &str,
    revision: &str,
    status: &str,
    eval_score: &str,
    make_default: bool,
) -> Result<i64, AppError> {
    let (state, actor, m) = editor().await?;
    let mut f = Form::new();
    let base_model_id = f.id("base_model_id", base_model_id, "Choose a base model.");
    let revision = f.text("revision", revision, 1, 40, false);
    let status = status.trim();
    if !["active", "preview", "paused"].contains(&status) {
        f.fail("status", "Choose active, preview or paused.");
    }
    let eval_score = match eval_score.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) if (0..=100).contains(&n) => Some(n),
            _ => {
                f.fail(
                    "eval_score",
                    "Give a whole number from 0 to 100, or leave it empty.",
                );
                None
            }
        },
    };
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let listing_status = open_offer(&mut tx, &m, listing_id).await?;
    if base_model_id > 0 && !active_base_model(&mut tx, base_model_id).await? {
        f.fail(
            "base_model_id",
            "Choose an active base model from the list.",
        );
    }
    f.done()?;
    let id = match db::insert_deployment(
        &mut tx,
        listing_id,
        base_model_id,
        &revision,
        status,
        eval_score,
        make_default,
        now,
    )
    .await
    {
        Ok(id) => id,
        Err(e)
            if violates_unique(
                &e,
                "deployments_listing_model_revision_key",
                "deployments.revision",
            ) =>
        {
            return Err(AppError::field(
                "revision",
                "This listing already has this revision on this base model.",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let label = sqlx::query("SELECT name, version FROM base_models WHERE id = $1")
        .bind(base_model_id)
        .fetch_one(&mut **tx)
        .await
        .and_then(|r| {
            Ok(format!(
                "{} {}",
                r.try_get::<String, _>("name")?,
                r.try_get::<String, _>("version")?
            ))
        })?;
    let summary = format!(
        "Deployment added: {label}, revision {revision}, {status}{}",
        if make_default {
            ", now the default"
        } else {
            ""
        }
    );
    public_change(
        &mut tx,
        listing_status,
        listing_id,
        &actor,
        "deployment",
        &summary,
        now,
    )
    .await?;
    append(
        &mut tx,
        &audit_entry(
            "listing.deployment_added",
            &actor,
            m.org_id,
            listing_id,
            serde_json::json!({ "deployment": id, "base_model": base_model_id, "revision": revision }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn set_default_deployment(listing_id: i64, deployment_id: i64) -> Result<(), AppError> {
    let (state, actor, m) = editor().await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_offer(&mut tx, &m, listing_id).await?;
    let (base_model_id, label, is_default) = db::deployment_in(&mut tx, listing_id, deployment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if is_default {
        return Err(AppError::Conflict(format!(
            "{label} is already the default."
        )));
    }
    db::make_default(&mut tx, listing_id, deployment_id, base_model_id).await?;
    public_change(
        &mut tx,
        status,
        listing_id,
        &actor,
        "deployment",
        &format!("Default deployment is now {label}"),
        now,
    )
    .await?;
    append(
        &mut tx,
        &audit_entry(
            "listing.default_deployment_set",
            &actor,
            m.org_id,
            listing_id,
            serde_json::json!({ "deployment": deployment_id }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove_deployment(listing_id: i64, deployment_id: i64) -> Result<(), AppError> {
    let (state, actor, m) = editor().await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_offer(&mut tx, &m, listing_id).await?;
    let (_, label, is_default) = db::deployment_in(&mut tx, listing_id, deployment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if is_default {
        return Err(AppError::Conflict(
            "The default deployment cannot be removed: make another one the default first.".into(),
        ));
    }
    if crate::subscriptions::db::deployment_used(&mut tx, deployment_id).await? {
        return Err(AppError::Conflict(
            "Subscriptions run, or ran, on this deployment: set it to paused instead of removing it.".into(),
        ));
    }
    db::delete_deployment(&mut tx, deployment_id).await?;
    public_change(
        &mut tx,
        status,
        listing_id,
        &actor,
        "deployment",
        &format!("Deployment removed: {label}"),
        now,
    )
    .await?;
    append(
        &mut tx,
        &audit_entry(
            "listing.deployment_removed",
            &actor,
            m.org_id,
            listing_id,
            serde_json::json!({ "deployment": deployment_id }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn add_plan(
    listing_id: i64,
    name: &str,
    monthly_fee: &str,
    currency: &str,
    included_calls: &str,
    overage_per_1000: &str,
) -> Result<i64, AppError> {
    let (state, actor, m) = editor().await?;
    let mut f = Form::new();
    let name = f.text("plan_name", name, 1, 60, false);
    let money = "Give an amount such as 49 or 49.90 (at most two decimals).";
    let fee = parse_money(monthly_fee);
    if fee.is_none() {
        f.fail("monthly_fee", money);
    }
    let currency = currency.trim().to_uppercase();
    if !CURRENCIES.contains(&currency.as_str()) {
        f.fail("currency", "Choose EUR, USD, GBP or CHF.");
    }
    let included = match included_calls.trim().replace(',', "").parse::<i64>() {
        Ok(n) if (0..=1_000_000_000_000).contains(&n) => n,
        _ => {
            f.fail("included_calls", "Give a whole number of calls, 0 or more.");
            0
        }
    };
    let overage = parse_money(overage_per_1000);
    if overage.is_none() {
        f.fail("overage_per_1000", money);
    }
    f.done()?;
    let (fee, overage) = (fee.unwrap_or(0), overage.unwrap_or(0));
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_offer(&mut tx, &m, listing_id).await?;
    let plan = NewPlan {
        name: &name,
        monthly_fee_minor: fee,
        currency: &currency,
        included_calls: included,
        overage_per_1000_minor: overage,
    };
    let id = match db::insert_plan(&mut tx, listing_id, &plan, now).await {
        Ok(id) => id,
        Err(e) if violates_unique(&e, "plans_listing_name_key", "plans.name") => {
            return Err(AppError::field(
                "plan_name",
                "This listing already has a plan with this name.",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let summary = format!(
        "Plan added: {name}, {} a month, {included} calls included, {} per 1,000 more",
        format_money(fee, &currency),
        format_money(overage, &currency)
    );
    public_change(&mut tx, status, listing_id, &actor, "plan", &summary, now).await?;
    append(
        &mut tx,
        &audit_entry(
            "listing.plan_added",
            &actor,
            m.org_id,
            listing_id,
            serde_json::json!({ "plan": id, "monthly_fee_minor": fee, "currency": currency }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn deactivate_plan(listing_id: i64, plan_id: i64) -> Result<(), AppError> {
    let (state, actor, m) = editor().await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_offer(&mut tx, &m, listing_id).await?;
    let name = db::deactivate_plan(&mut tx, listing_id, plan_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (active_plans, _) = db::plan_and_deployment_counts(&mut tx, listing_id).await?;
    if matches!(status, Published | Submitted) && active_plans == 0 {
        return Err(AppError::Conflict(
            "A published or submitted listing needs at least one active plan: add another first."
                .into(),
        ));
    }
    public_change(
        &mut tx,
        status,
        listing_id,
        &actor,
        "plan",
        &format!("Plan withdrawn: {name}"),
        now,
    )
    .await?;
    append(
        &mut tx,
        &audit_entry(
            "listing.plan_deactivated",
            &actor,
            m.org_id,
            listing_id,
            serde_json::json!({ "plan": plan_id }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn cannot(status: ListingStatus, verb: &str) -> AppError {
    AppError::Conflict(format!(
        "A listing that is {} cannot be {verb}.",
        status.label().to_lowercase()
    ))
}

/// The publisher asks for review.
pub async fn submit(id: i64) -> Result<(), AppError> {
    let (state, actor, m) = editor().await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_own(&mut tx, &m, id).await?;
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
    if !db::transition(&mut tx, id, &[Draft, Rejected], Submitted, None, now).await? {
        return Err(cannot(status, "submitted"));
    }
    if m.kind == OrgKind::Platform {
        if let Some((_, _, industry, name)) = db::publisher_in(&mut **tx, id).await? {
            cases::first_party_entered(&mut tx, id, &name, &industry, Some(actor.user_id), now)
                .await?;
        }
    }
    append(
        &mut tx,
        &audit_entry(
            "listing.submitted",
            &actor,
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

/// The publisher withdraws the listing for good.
pub async fn retire(id: i64) -> Result<(), AppError> {
    let (state, actor, m) = editor().await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let status = open_own(&mut tx, &m, id).await?;
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
            &actor,
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

fn reason_text(reason: &str) -> Result<String, AppError> {
    let mut f = Form::new();
    let r = f.text("reason", reason, 5, 1000, true);
    f.done()?;
    Ok(r)
}

/// A referee's decision: moves the listing `from` → `to` (with a reason
/// the publisher sees, when one is required).
async fn review(
    id: i64,
    from: &[ListingStatus],
    to: ListingStatus,
    reason: Option<&str>,
    action: &str,
    verb: &str,
) -> Result<(), AppError> {
    let (state, actor, m) = referee().await?;
    let reason = reason.map(reason_text).transpose()?;
    let now = state.clock.now_ms();
    // A plain read: the write transaction below re-checks the status.
    let (org, kind, industry, name) = db::publisher_in(state.db.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = state.db.begin_write().await?;
    let (status, _) = db::status_in(&mut tx, id, None)
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
        && kind == OrgKind::Platform
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
    if !db::transition(&mut tx, id, from, to, reason.as_deref(), now).await? {
        return Err(cannot(status, verb));
    }
    if to == Published && kind == OrgKind::Partner {
        cases::partner_entered(&mut tx, id, org, &name, &industry, Some(actor.user_id), now)
            .await?;
    }
    append(
        &mut tx,
        &audit_entry(
            action,
            &actor,
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

pub async fn approve(id: i64) -> Result<(), AppError> {
    review(
        id,
        &[Submitted],
        Published,
        None,
        "listing.approved",
        "approved",
    )
    .await
}

pub async fn reject(id: i64, reason: &str) -> Result<(), AppError> {
    review(
        id,
        &[Submitted],
        Rejected,
        Some(reason),
        "listing.rejected",
        "rejected",
    )
    .await
}

pub async fn suspend(id: i64, reason: &str) -> Result<(), AppError> {
    review(
        id,
        &[Published],
        Suspended,
        Some(reason),
        "listing.suspended",
        "suspended",
    )
    .await
}

pub async fn reinstate(id: i64) -> Result<(), AppError> {
    review(
        id,
        &[Suspended],
        Published,
        None,
        "listing.reinstated",
        "reinstated",
    )
    .await
}

pub async fn review_queue() -> Result<ReviewQueueData, AppError> {
    let (state, actor, _) = referee().await?;
    let queue = ReviewQueueData {
        submitted: db::review_rows(&state.db, Submitted).await?,
        published: db::review_rows(&state.db, Published).await?,
        suspended: db::review_rows(&state.db, Suspended).await?,
    };
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
    firewall::record_all(&state, &actor, reads).await?;
    Ok(queue)
}
