//! SQL for listings.

use super::{ListingCard, ListingPage};
use crate::db::Db;
use crate::error::AppError;
use crate::orgs::OrgKind;
use sqlx::{Any, Row, Transaction};

/// Published listings, newest first. Ordering is by publication time only:
/// nothing about the publisher takes part in it.
pub async fn published_page(db: &Db, limit: i64, offset: i64) -> Result<ListingPage, AppError> {
    let rows = sqlx::query(
        "SELECT l.slug, l.name, l.tagline, i.name AS industry, \
                b.name AS bm_name, b.version AS bm_version, \
                o.name AS publisher, o.kind AS publisher_kind \
         FROM listings l \
         JOIN organisations o ON o.id = l.org_id \
         JOIN industries i ON i.slug = l.industry \
         JOIN base_models b ON b.id = l.base_model_id \
         WHERE l.status = 'published' \
         ORDER BY l.published_at DESC, l.id DESC \
         LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let items = rows
        .iter()
        .map(|r| -> Result<ListingCard, sqlx::Error> {
            let kind: String = r.try_get("publisher_kind")?;
            let bm_name: String = r.try_get("bm_name")?;
            let bm_version: String = r.try_get("bm_version")?;
            Ok(ListingCard {
                slug: r.try_get("slug")?,
                name: r.try_get("name")?,
                tagline: r.try_get("tagline")?,
                industry: r.try_get("industry")?,
                base_model: format!("{bm_name} {bm_version}"),
                publisher: r.try_get("publisher")?,
                platform_owned: OrgKind::parse(&kind) == Some(OrgKind::Platform),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM listings WHERE status = 'published'")
        .fetch_one(db.pool())
        .await?
        .try_get("n")?;
    Ok(ListingPage { items, total })
}

pub struct NewListing<'a> {
    pub org_id: i64,
    pub slug: &'a str,
    pub name: &'a str,
    pub tagline: &'a str,
    pub industry: &'a str,
    pub base_model_id: i64,
}

/// Inserts a published listing unless its slug exists (seeding only; the
/// review workflow publishes listings in normal operation). Returns whether a
/// row was added.
pub async fn ensure_published(
    tx: &mut Transaction<'_, Any>,
    l: &NewListing<'_>,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO listings (org_id, slug, name, tagline, industry, base_model_id, status, \
                               published_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'published', $7, $7, $7) ON CONFLICT (slug) DO NOTHING",
    )
    .bind(l.org_id)
    .bind(l.slug)
    .bind(l.name)
    .bind(l.tagline)
    .bind(l.industry)
    .bind(l.base_model_id)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Inserts many published listings in multi-row statements (benchmark data).
pub async fn insert_published_bulk(
    tx: &mut Transaction<'_, Any>,
    listings: &[NewListing<'_>],
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    const COLS: usize = 7;
    // Well under SQLite's and PostgreSQL's bound-parameter limits.
    const ROWS_PER_STATEMENT: usize = 500;
    let mut added = 0;
    for chunk in listings.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO listings (org_id, slug, name, tagline, industry, base_model_id, status, \
                                   published_at, created_at, updated_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = i * COLS;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, 'published', ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                p + 7,
                p + 7
            ));
        }
        let mut q = sqlx::query(&sql);
        for (i, l) in chunk.iter().enumerate() {
            // Spread publication times so "newest first" has a real order.
            let at = now_ms - (chunk.len() - i) as i64;
            q = q
                .bind(l.org_id)
                .bind(l.slug)
                .bind(l.name)
                .bind(l.tagline)
                .bind(l.industry)
                .bind(l.base_model_id)
                .bind(at);
        }
        added += q.execute(&mut **tx).await?.rows_affected();
    }
    Ok(added)
}
