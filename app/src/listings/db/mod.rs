//! SQL for listings: reads, the change history and the lifecycle here;
//! drafts and the offer (deployments, plans) in their own files. Every
//! function that reads one listing for a tenant takes the organisation it
//! must belong to.

mod drafts;
mod offer;

pub use drafts::*;
pub use offer::*;

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
    /// The publisher's slug: the first part of an unpublished listing's
    /// address.
    pub publisher_slug: String,
    pub publisher_kind: OrgKind,
    /// The publisher is a platform-affiliated partner.
    pub affiliated: bool,
}

const LISTING_SELECT: &str = "SELECT l.id, l.org_id, l.slug, l.name, l.tagline, l.description, \
        l.industry AS industry_slug, i.name AS industry, l.data_residency, l.documentation_url, \
        l.status, l.review_reason, l.published_at, l.submitted_at, \
        o.name AS publisher, o.slug AS publisher_slug, o.kind AS publisher_kind, o.affiliated \
     FROM listings l JOIN organisations o ON o.id = l.org_id JOIN industries i ON i.slug = l.industry";

/// The listing select with a condition.
fn select(condition: &str) -> String {
    format!("{LISTING_SELECT} WHERE {condition}")
}

/// The one listing a bound `select` finds, if any.
async fn one<'q>(
    db: &Db,
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
) -> Result<Option<ListingRow>, AppError> {
    q.fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(listing_from)
        .transpose()
}

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
        publisher_slug: r.try_get("publisher_slug")?,
        publisher_kind: OrgKind::parse(&kind)
            .ok_or_else(|| AppError::internal("org kind", &kind))?,
        affiliated: r.try_get::<i64, _>("affiliated")? == 1,
    })
}

/// The listing whose public address is `/listings/{slug}`: one that has
/// been published (a draft claims no slug).
pub async fn by_public_slug(db: &Db, slug: &str) -> Result<Option<ListingRow>, AppError> {
    one(db, sqlx::query(&select("l.public_slug = $1")).bind(slug)).await
}

/// The listing at `/listings/{publisher}/{slug}`.
pub async fn by_address(
    db: &Db,
    publisher: &str,
    slug: &str,
) -> Result<Option<ListingRow>, AppError> {
    let sql = select("o.slug = $1 AND l.slug = $2");
    let q = sqlx::query(&sql);
    one(db, q.bind(publisher).bind(slug)).await
}

/// An organisation's own listing by its slug.
pub async fn own_by_slug(db: &Db, org_id: i64, slug: &str) -> Result<Option<ListingRow>, AppError> {
    let sql = select("l.org_id = $1 AND l.slug = $2");
    let q = sqlx::query(&sql);
    one(db, q.bind(org_id).bind(slug)).await
}

/// The never-published listings of any organisation with this slug: what a
/// try at a slug that is not public may have been aimed at.
pub async fn unpublished_by_slug(db: &Db, slug: &str) -> Result<Vec<ListingRow>, AppError> {
    sqlx::query(&select(
        "l.slug = $1 AND l.published_at IS NULL ORDER BY l.id LIMIT 50",
    ))
    .bind(slug)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(listing_from)
    .collect()
}

/// The slug a listing published under (its public address for good), or
/// None for a listing never published.
pub async fn public_address(
    tx: &mut Transaction<'_, Any>,
    id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT public_slug FROM listings WHERE id = $1 AND published_at IS NOT NULL")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get::<String, _>("public_slug"))
        .transpose()
}

/// Who holds a slug, as a publisher drafting `slug` may be told: the
/// listing that published it (its id), and the organisation's own listing
/// with it. Another organisation's unpublished listing is never an answer.
pub async fn slug_holders(
    tx: &mut Transaction<'_, Any>,
    org_id: i64,
    slug: &str,
) -> Result<(Option<i64>, Option<i64>), sqlx::Error> {
    let id_of = |r: sqlx::any::AnyRow| r.try_get::<i64, _>("id");
    let public = sqlx::query("SELECT id FROM listings WHERE public_slug = $1")
        .bind(slug)
        .fetch_optional(&mut **tx)
        .await?
        .map(id_of)
        .transpose()?;
    let own = sqlx::query("SELECT id FROM listings WHERE org_id = $1 AND slug = $2")
        .bind(org_id)
        .bind(slug)
        .fetch_optional(&mut **tx)
        .await?
        .map(id_of)
        .transpose()?;
    Ok((public, own))
}

/// Any listing by id, whoever publishes it: only for recording a refused
/// attempt, never to answer with.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<ListingRow>, AppError> {
    one(db, sqlx::query(&select("l.id = $1")).bind(id)).await
}

/// The listing, only if it belongs to `org_id`.
pub async fn of_org(db: &Db, org_id: i64, id: i64) -> Result<Option<ListingRow>, AppError> {
    let sql = select("l.id = $1 AND l.org_id = $2");
    let q = sqlx::query(&sql);
    one(db, q.bind(id).bind(org_id)).await
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

/// Who publishes a listing (first party or not), its industry and name;
/// through the pool or inside a transaction.
pub async fn publisher_in<'e, E>(ex: E, id: i64) -> Result<Option<Publisher>, AppError>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let row = sqlx::query(&format!(
        "SELECT l.org_id, o.kind, CASE WHEN {} THEN 1 ELSE 0 END AS first_party, l.industry, l.name \
         FROM listings l JOIN organisations o ON o.id = l.org_id WHERE l.id = $1",
        crate::orgs::FIRST_PARTY
    ))
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.map(|r| -> Result<_, AppError> {
        let kind: String = r.try_get("kind")?;
        Ok(Publisher {
            org_id: r.try_get("org_id")?,
            kind: OrgKind::parse(&kind).ok_or_else(|| AppError::internal("org kind", &kind))?,
            first_party: r.try_get::<i64, _>("first_party")? == 1,
            industry: r.try_get("industry")?,
            name: r.try_get("name")?,
        })
    })
    .transpose()
}

/// Who publishes a listing, and where.
pub struct Publisher {
    pub org_id: i64,
    pub kind: OrgKind,
    /// The platform itself or a platform-affiliated partner: bound by the
    /// non-compete rules.
    pub first_party: bool,
    pub industry: String,
    /// The listing's name.
    pub name: String,
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
        &format!(
            "SELECT d.id, d.base_model_id, b.provider, b.name, b.version, b.status AS bm_status, \
                    d.revision, d.status, d.eval_score, d.eval_evidence_url, d.is_default, \
                    r.id AS run_id, r.score AS verified_score, r.finished_at AS verified_at, \
                    CASE WHEN r.id IS NOT NULL AND {} THEN 1 ELSE 0 END AS verified_stale \
             FROM deployments d JOIN base_models b ON b.id = d.base_model_id \
             JOIN listings l ON l.id = d.listing_id \
             LEFT JOIN evaluation_runs r ON r.id = d.verified_run_id \
             WHERE d.listing_id = $1 ORDER BY d.is_default DESC, b.provider, b.name, b.version, d.revision",
            crate::evaluations::STALE
        ),
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
            eval_evidence_url: r.try_get("eval_evidence_url")?,
            verified_score: r.try_get("verified_score")?,
            verified_at: r.try_get("verified_at")?,
            verified_run_id: r.try_get("run_id")?,
            verified_stale: r.try_get::<i64, _>("verified_stale")? == 1,
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
    Ok(sqlx::query_as::<_, ChangeView>(
        "SELECT at, kind, summary FROM listing_changes WHERE listing_id = $1 ORDER BY at DESC, id DESC",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?)
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
        // Published: the listing claims its slug as its public address
        // (a unique violation when another listing published it first).
        ListingStatus::Published => {
            ", published_at = COALESCE(published_at, $4), public_slug = slug"
        }
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
        "SELECT l.id, l.org_id, l.slug, l.name, l.status, l.submitted_at, l.published_at, \
                o.name AS publisher, o.slug AS publisher_slug, o.kind, o.affiliated \
         FROM listings l JOIN organisations o ON o.id = l.org_id \
         WHERE l.status = $1 ORDER BY l.submitted_at, l.id LIMIT 500",
    )
    .bind(status.as_str())
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| -> Result<ReviewRow, AppError> {
        let kind: String = r.try_get("kind")?;
        let slug: String = r.try_get("slug")?;
        let published: Option<i64> = r.try_get("published_at")?;
        let publisher_slug: String = r.try_get("publisher_slug")?;
        Ok(ReviewRow {
            id: r.try_get("id")?,
            org_id: r.try_get("org_id")?,
            href: crate::listings::href(&publisher_slug, &slug, published.is_some()),
            slug,
            name: r.try_get("name")?,
            publisher: r.try_get("publisher")?,
            platform_owned: OrgKind::parse(&kind) == Some(OrgKind::Platform),
            affiliated: r.try_get::<i64, _>("affiliated")? == 1,
            status: status_of(r)?,
            submitted_at: r.try_get("submitted_at")?,
            recuse: false,
        })
    })
    .collect()
}
