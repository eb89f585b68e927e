//! SQL for listings, their deployments, plans, tags, certifications and
//! change history. Every function that reads one listing for a tenant takes
//! the organisation it must belong to.

use super::{ChangeView, DeploymentView, ListingStatus, MyListingRow, PlanView, ReviewRow};
use crate::db::Db;
use crate::error::AppError;
use crate::orgs::OrgKind;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// A listing row with its publisher and industry.
#[derive(Debug, Clone)]
pub struct ListingRow {
    pub id: i64,
    pub org_id: i64,
    pub slug: String,
    pub name: String,
    pub tagline: String,
    pub description: String,
    pub industry_slug: String,
    pub industry: String,
    pub data_residency: String,
    pub documentation_url: String,
    pub status: ListingStatus,
    pub review_reason: String,
    pub published_at: Option<i64>,
    pub submitted_at: Option<i64>,
    pub publisher: String,
    pub publisher_kind: OrgKind,
}

const LISTING_SELECT: &str = "SELECT l.id, l.org_id, l.slug, l.name, l.tagline, l.description, \
        l.industry AS industry_slug, i.name AS industry, l.data_residency, l.documentation_url, \
        l.status, l.review_reason, l.published_at, l.submitted_at, \
        o.name AS publisher, o.kind AS publisher_kind \
     FROM listings l JOIN organisations o ON o.id = l.org_id JOIN industries i ON i.slug = l.industry";

fn status_of(r: &AnyRow) -> Result<ListingStatus, AppError> {
    let s: String = r.try_get("status")?;
    ListingStatus::parse(&s).ok_or_else(|| AppError::internal("listing status", &s))
}

fn listing_from(r: &AnyRow) -> Result<ListingRow, AppError> {
    let kind: String = r.try_get("publisher_kind")?;
    Ok(ListingRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        slug: r.try_get("slug")?,
        name: r.try_get("name")?,
        tagline: r.try_get("tagline")?,
        description: r.try_get("description")?,
        industry_slug: r.try_get("industry_slug")?,
        industry: r.try_get("industry")?,
        data_residency: r.try_get("data_residency")?,
        documentation_url: r.try_get("documentation_url")?,
        status: status_of(r)?,
        review_reason: r.try_get("review_reason")?,
        published_at: r.try_get("published_at")?,
        submitted_at: r.try_get("submitted_at")?,
        publisher: r.try_get("publisher")?,
        publisher_kind: OrgKind::parse(&kind)
            .ok_or_else(|| AppError::internal("org kind", &kind))?,
    })
}

pub async fn by_slug(db: &Db, slug: &str) -> Result<Option<ListingRow>, AppError> {
    sqlx::query(&format!("{LISTING_SELECT} WHERE l.slug = $1"))
        .bind(slug)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(listing_from)
        .transpose()
}

/// The listing, only if it belongs to `org_id`.
pub async fn of_org(db: &Db, org_id: i64, id: i64) -> Result<Option<ListingRow>, AppError> {
    sqlx::query(&format!(
        "{LISTING_SELECT} WHERE l.id = $1 AND l.org_id = $2"
    ))
    .bind(id)
    .bind(org_id)
    .fetch_optional(db.pool())
    .await?
    .as_ref()
    .map(listing_from)
    .transpose()
}

/// The listing's status inside a write transaction, only if it belongs to
/// `org_id` (None: any organisation).
pub async fn status_in(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    org_id: Option<i64>,
) -> Result<Option<(ListingStatus, String)>, AppError> {
    let row =
        sqlx::query("SELECT status, name FROM listings WHERE id = $1 AND ($2 = 0 OR org_id = $2)")
            .bind(id)
            .bind(org_id.unwrap_or(0))
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|r| -> Result<_, AppError> { Ok((status_of(&r)?, r.try_get("name")?)) })
        .transpose()
}

/// (org id, org kind, industry, name) of a listing; through the pool or
/// inside a transaction.
pub async fn publisher_in<'e, E>(
    ex: E,
    id: i64,
) -> Result<Option<(i64, OrgKind, String, String)>, AppError>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let row = sqlx::query(
        "SELECT l.org_id, o.kind, l.industry, l.name FROM listings l \
         JOIN organisations o ON o.id = l.org_id WHERE l.id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.map(|r| -> Result<_, AppError> {
        let kind: String = r.try_get("kind")?;
        Ok((
            r.try_get("org_id")?,
            OrgKind::parse(&kind).ok_or_else(|| AppError::internal("org kind", &kind))?,
            r.try_get("industry")?,
            r.try_get("name")?,
        ))
    })
    .transpose()
}

/// A listing's tags or certifications, alphabetically; through the pool or
/// inside a transaction.
pub async fn labels<'e, E>(ex: E, which: Labels, id: i64) -> Result<Vec<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let (table, column) = which.table_column();
    sqlx::query(&format!(
        "SELECT {column} AS label FROM {table} WHERE listing_id = $1 ORDER BY {column}"
    ))
    .bind(id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| r.try_get("label"))
    .collect()
}

pub async fn deployments(db: &Db, id: i64) -> Result<Vec<DeploymentView>, AppError> {
    Ok(sqlx::query(
        "SELECT d.id, d.base_model_id, b.provider, b.name, b.version, b.status AS bm_status, \
                d.revision, d.status, d.eval_score, d.is_default \
         FROM deployments d JOIN base_models b ON b.id = d.base_model_id \
         WHERE d.listing_id = $1 ORDER BY d.is_default DESC, b.provider, b.name, b.version, d.revision",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| -> Result<DeploymentView, sqlx::Error> {
        let provider: String = r.try_get("provider")?;
        let name: String = r.try_get("name")?;
        let version: String = r.try_get("version")?;
        let bm_status: String = r.try_get("bm_status")?;
        let is_default: i64 = r.try_get("is_default")?;
        Ok(DeploymentView {
            id: r.try_get("id")?,
            base_model_id: r.try_get("base_model_id")?,
            base_model: format!("{name} {version} ({provider})"),
            base_model_deprecated: bm_status == "deprecated",
            revision: r.try_get("revision")?,
            status: r.try_get("status")?,
            eval_score: r.try_get("eval_score")?,
            is_default: is_default == 1,
        })
    })
    .collect::<Result<_, _>>()?)
}

pub async fn plans(db: &Db, id: i64) -> Result<Vec<PlanView>, AppError> {
    Ok(sqlx::query(
        "SELECT id, name, monthly_fee_minor, currency, included_calls, overage_per_1000_minor, active \
         FROM plans WHERE listing_id = $1 ORDER BY active DESC, monthly_fee_minor, name",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| -> Result<PlanView, sqlx::Error> {
        let active: i64 = r.try_get("active")?;
        Ok(PlanView {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            monthly_fee_minor: r.try_get("monthly_fee_minor")?,
            currency: r.try_get("currency")?,
            included_calls: r.try_get("included_calls")?,
            overage_per_1000_minor: r.try_get("overage_per_1000_minor")?,
            active: active == 1,
        })
    })
    .collect::<Result<_, _>>()?)
}

pub async fn changes(db: &Db, id: i64) -> Result<Vec<ChangeView>, AppError> {
    Ok(sqlx::query(
        "SELECT at, kind, summary FROM listing_changes WHERE listing_id = $1 ORDER BY at DESC, id DESC",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| -> Result<ChangeView, sqlx::Error> {
        Ok(ChangeView {
            at: r.try_get("at")?,
            kind: r.try_get("kind")?,
            summary: r.try_get("summary")?,
        })
    })
    .collect::<Result<_, _>>()?)
}

pub struct NewDraft<'a> {
    pub org_id: i64,
    pub slug: &'a str,
    pub name: &'a str,
    pub tagline: &'a str,
    pub industry: &'a str,
    pub base_model_id: i64,
}

/// A new draft with its first (default) deployment. A taken slug is a
/// unique violation on `listings_slug_key`.
pub async fn insert_draft(
    tx: &mut Transaction<'_, Any>,
    d: &NewDraft<'_>,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query(
        "INSERT INTO listings (org_id, slug, name, tagline, industry, base_model_id, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $7) RETURNING id",
    )
    .bind(d.org_id)
    .bind(d.slug)
    .bind(d.name)
    .bind(d.tagline)
    .bind(d.industry)
    .bind(d.base_model_id)
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?;
    insert_deployment(tx, id, d.base_model_id, "v1", "active", None, true, now_ms).await?;
    Ok(id)
}

pub struct Details<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub tagline: &'a str,
    pub description: &'a str,
    pub industry: &'a str,
    pub data_residency: &'a str,
    pub documentation_url: &'a str,
    pub tags: &'a [String],
    pub certifications: &'a [String],
}

pub async fn update_details(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    d: &Details<'_>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE listings SET slug = $1, name = $2, tagline = $3, description = $4, industry = $5, \
                data_residency = $6, documentation_url = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(d.slug)
    .bind(d.name)
    .bind(d.tagline)
    .bind(d.description)
    .bind(d.industry)
    .bind(d.data_residency)
    .bind(d.documentation_url)
    .bind(now_ms)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let tags: Vec<&str> = d.tags.iter().map(String::as_str).collect();
    let certifications: Vec<&str> = d.certifications.iter().map(String::as_str).collect();
    set_labels(tx, Labels::Tags, id, &tags).await?;
    set_labels(tx, Labels::Certifications, id, &certifications).await
}

/// The two label lists of a listing.
#[derive(Clone, Copy)]
pub enum Labels {
    Tags,
    Certifications,
}

impl Labels {
    fn table_column(self) -> (&'static str, &'static str) {
        match self {
            Labels::Tags => ("listing_tags", "tag"),
            Labels::Certifications => ("listing_certifications", "certification"),
        }
    }
}

/// Replaces a listing's tags or certifications.
pub async fn set_labels(
    tx: &mut Transaction<'_, Any>,
    which: Labels,
    id: i64,
    values: &[&str],
) -> Result<(), sqlx::Error> {
    let (table, column) = which.table_column();
    sqlx::query(&format!("DELETE FROM {table} WHERE listing_id = $1"))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for v in values {
        sqlx::query(&format!(
            "INSERT INTO {table} (listing_id, {column}) VALUES ($1, $2)"
        ))
        .bind(id)
        .bind(*v)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_deployment(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    base_model_id: i64,
    revision: &str,
    status: &str,
    eval_score: Option<i64>,
    is_default: bool,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    if is_default {
        sqlx::query("UPDATE deployments SET is_default = 0 WHERE listing_id = $1")
            .bind(listing_id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE listings SET base_model_id = $1 WHERE id = $2")
            .bind(base_model_id)
            .bind(listing_id)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO deployments (listing_id, base_model_id, revision, status, eval_score, is_default, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(listing_id)
    .bind(base_model_id)
    .bind(revision)
    .bind(status)
    .bind(eval_score)
    .bind(i64::from(is_default))
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")
}

/// A deployment of the listing: (base model label, is default), or None.
pub async fn deployment_in(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    deployment_id: i64,
) -> Result<Option<(i64, String, bool)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT d.base_model_id, b.name, b.version, d.revision, d.is_default \
         FROM deployments d JOIN base_models b ON b.id = d.base_model_id \
         WHERE d.id = $1 AND d.listing_id = $2",
    )
    .bind(deployment_id)
    .bind(listing_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| -> Result<_, sqlx::Error> {
        let name: String = r.try_get("name")?;
        let version: String = r.try_get("version")?;
        let revision: String = r.try_get("revision")?;
        let is_default: i64 = r.try_get("is_default")?;
        Ok((
            r.try_get("base_model_id")?,
            format!("{name} {version} ({revision})"),
            is_default == 1,
        ))
    })
    .transpose()
}

pub async fn make_default(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    deployment_id: i64,
    base_model_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE deployments SET is_default = 0 WHERE listing_id = $1")
        .bind(listing_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE deployments SET is_default = 1 WHERE id = $1")
        .bind(deployment_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE listings SET base_model_id = $1 WHERE id = $2")
        .bind(base_model_id)
        .bind(listing_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn delete_deployment(
    tx: &mut Transaction<'_, Any>,
    deployment_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM deployments WHERE id = $1")
        .bind(deployment_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub struct NewPlan<'a> {
    pub name: &'a str,
    pub monthly_fee_minor: i64,
    pub currency: &'a str,
    pub included_calls: i64,
    pub overage_per_1000_minor: i64,
}

/// A taken name is a unique violation on `plans_listing_name_key`.
pub async fn insert_plan(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    p: &NewPlan<'_>,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO plans (listing_id, name, monthly_fee_minor, currency, included_calls, \
                            overage_per_1000_minor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(listing_id)
    .bind(p.name)
    .bind(p.monthly_fee_minor)
    .bind(p.currency)
    .bind(p.included_calls)
    .bind(p.overage_per_1000_minor)
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")
}

/// Deactivates an active plan of the listing; its name, or None.
pub async fn deactivate_plan(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    plan_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    let row =
        sqlx::query("SELECT name FROM plans WHERE id = $1 AND listing_id = $2 AND active = 1")
            .bind(plan_id)
            .bind(listing_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(row) = row else { return Ok(None) };
    sqlx::query("UPDATE plans SET active = 0 WHERE id = $1")
        .bind(plan_id)
        .execute(&mut **tx)
        .await?;
    Ok(Some(row.try_get("name")?))
}

/// (active plans, deployments) of a listing.
pub async fn plan_and_deployment_counts(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM plans WHERE listing_id = $1 AND active = 1) AS plans, \
                (SELECT COUNT(*) FROM deployments WHERE listing_id = $1) AS deployments",
    )
    .bind(listing_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok((row.try_get("plans")?, row.try_get("deployments")?))
}

pub async fn add_change(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    actor_user_id: i64,
    kind: &str,
    summary: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO listing_changes (listing_id, actor_user_id, kind, summary, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(listing_id)
    .bind(actor_user_id)
    .bind(kind)
    .bind(summary)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves the listing from one of `from` to `to`, recording `reason` (the
/// review reason, cleared when None). False when the listing was not in one
/// of `from` — the state machine is enforced by the WHERE clause, so two
/// racing transitions cannot both succeed.
pub async fn transition(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    from: &[ListingStatus],
    to: ListingStatus,
    reason: Option<&str>,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let allowed = from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let stamp = match to {
        ListingStatus::Submitted => ", submitted_at = $4",
        ListingStatus::Published => ", published_at = COALESCE(published_at, $4)",
        _ => "",
    };
    let done = sqlx::query(&format!(
        "UPDATE listings SET status = $1, review_reason = $2, updated_at = $4{stamp} \
         WHERE id = $3 AND status IN ({allowed})"
    ))
    .bind(to.as_str())
    .bind(reason.unwrap_or(""))
    .bind(id)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn touch(tx: &mut Transaction<'_, Any>, id: i64, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE listings SET updated_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn of_org_rows(db: &Db, org_id: i64) -> Result<Vec<MyListingRow>, AppError> {
    sqlx::query(
        "SELECT id, slug, name, status, review_reason, updated_at FROM listings \
         WHERE org_id = $1 ORDER BY updated_at DESC, id DESC",
    )
    .bind(org_id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| -> Result<MyListingRow, AppError> {
        let reason: String = r.try_get("review_reason")?;
        Ok(MyListingRow {
            id: r.try_get("id")?,
            slug: r.try_get("slug")?,
            name: r.try_get("name")?,
            status: status_of(r)?,
            review_reason: (!reason.is_empty()).then_some(reason),
            updated_at: r.try_get("updated_at")?,
        })
    })
    .collect()
}

/// Listings in a review state, oldest submission first.
pub async fn review_rows(db: &Db, status: ListingStatus) -> Result<Vec<ReviewRow>, AppError> {
    sqlx::query(
        "SELECT l.id, l.org_id, l.slug, l.name, l.status, l.submitted_at, o.name AS publisher, o.kind \
         FROM listings l JOIN organisations o ON o.id = l.org_id \
         WHERE l.status = $1 ORDER BY l.submitted_at, l.id LIMIT 500",
    )
    .bind(status.as_str())
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| -> Result<ReviewRow, AppError> {
        let kind: String = r.try_get("kind")?;
        Ok(ReviewRow {
            id: r.try_get("id")?,
            org_id: r.try_get("org_id")?,
            slug: r.try_get("slug")?,
            name: r.try_get("name")?,
            publisher: r.try_get("publisher")?,
            platform_owned: OrgKind::parse(&kind) == Some(OrgKind::Platform),
            status: status_of(r)?,
            submitted_at: r.try_get("submitted_at")?,
        })
    })
    .collect()
}

/// A listing for seeding: published at once, with a default deployment, a
/// plan, tags and certifications.
pub struct SeedListing<'a> {
    pub org_id: i64,
    pub slug: &'a str,
    pub name: &'a str,
    pub tagline: &'a str,
    pub description: &'a str,
    pub industry: &'a str,
    pub base_model_id: i64,
    pub tags: &'a [&'a str],
    pub certifications: &'a [&'a str],
    pub monthly_fee_minor: i64,
}

/// Inserts a published listing unless its slug exists (seeding only; the
/// review workflow publishes listings in normal operation). Returns its id
/// when it was added.
pub async fn ensure_published(
    tx: &mut Transaction<'_, Any>,
    l: &SeedListing<'_>,
    now_ms: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let exists = sqlx::query("SELECT id FROM listings WHERE slug = $1")
        .bind(l.slug)
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        return Ok(None);
    }
    let id: i64 = sqlx::query(
        "INSERT INTO listings (org_id, slug, name, tagline, description, industry, base_model_id, status, \
                               published_at, submitted_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'published', $8, $8, $8, $8) RETURNING id",
    )
    .bind(l.org_id)
    .bind(l.slug)
    .bind(l.name)
    .bind(l.tagline)
    .bind(l.description)
    .bind(l.industry)
    .bind(l.base_model_id)
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?;
    insert_deployment(tx, id, l.base_model_id, "v1", "active", None, true, now_ms).await?;
    set_labels(tx, Labels::Tags, id, l.tags).await?;
    set_labels(tx, Labels::Certifications, id, l.certifications).await?;
    insert_plan(
        tx,
        id,
        &NewPlan {
            name: "Standard",
            monthly_fee_minor: l.monthly_fee_minor,
            currency: "EUR",
            included_calls: 100_000,
            overage_per_1000_minor: 150,
        },
        now_ms,
    )
    .await?;
    Ok(Some(id))
}

/// Inserts many published listings in multi-row statements (benchmark
/// data), then a default deployment, a plan and a tag for each.
pub async fn insert_published_bulk(
    tx: &mut Transaction<'_, Any>,
    listings: &[SeedListing<'_>],
    slug_prefix: &str,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    const COLS: usize = 8;
    // Well under SQLite's and PostgreSQL's bound-parameter limits.
    const ROWS_PER_STATEMENT: usize = 400;
    let mut added = 0;
    for chunk in listings.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO listings (org_id, slug, name, tagline, description, industry, base_model_id, \
                                   status, published_at, submitted_at, created_at, updated_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = i * COLS;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 'published', ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                p + 8,
                p + 8,
                p + 8,
                p + 8
            ));
        }
        let mut q = sqlx::query(&sql);
        for (i, l) in chunk.iter().enumerate() {
            // Spread publication times over the last 300 days.
            let at = now_ms - (i as i64 * 7_919 % 300) * 86_400_000 - i as i64;
            q = q
                .bind(l.org_id)
                .bind(l.slug)
                .bind(l.name)
                .bind(l.tagline)
                .bind(l.description)
                .bind(l.industry)
                .bind(l.base_model_id)
                .bind(at);
        }
        added += q.execute(&mut **tx).await?.rows_affected();
    }
    let like = format!("{slug_prefix}%");
    for sql in [
        "INSERT INTO deployments (listing_id, base_model_id, revision, status, eval_score, is_default, created_at) \
         SELECT id, base_model_id, 'v1', 'active', (id * 37) % 101, 1, created_at FROM listings WHERE slug LIKE $1",
        "INSERT INTO plans (listing_id, name, monthly_fee_minor, currency, included_calls, overage_per_1000_minor, created_at) \
         SELECT id, 'Standard', ((id * 7919) % 2000) * 100, 'EUR', 100000, 150, created_at FROM listings WHERE slug LIKE $1",
        "INSERT INTO listing_tags (listing_id, tag) SELECT id, industry FROM listings WHERE slug LIKE $1",
    ] {
        sqlx::query(sql).bind(&like).execute(&mut **tx).await?;
    }
    Ok(added)
}
