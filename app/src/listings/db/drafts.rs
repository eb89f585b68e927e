//! SQL for drafts and their details.

use super::insert_deployment;
use sqlx::{Any, Row, Transaction};

pub struct NewDraft<'a> {
    pub org_id: i64,
    pub slug: &'a str,
    pub name: &'a str,
    pub tagline: &'a str,
    pub industry: &'a str,
    pub base_model_id: i64,
}

/// A draft's stand-in for a public address until it is published (see
/// migration 0023): unique because the slug is unique in the organisation,
/// and never a slug.
fn placeholder(org_id: i64, slug: &str) -> String {
    format!("~{org_id}~{slug}")
}

/// A new draft with its first (default) deployment. A slug the
/// organisation already uses is a unique violation on
/// `listings_org_slug_key`; a draft claims no public slug.
pub async fn insert_draft(
    tx: &mut Transaction<'_, Any>,
    d: &NewDraft<'_>,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query(
        "INSERT INTO listings (org_id, slug, public_slug, name, tagline, industry, base_model_id, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $8) RETURNING id",
    )
    .bind(d.org_id)
    .bind(d.slug)
    .bind(placeholder(d.org_id, d.slug))
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

/// Saves a listing's details. A draft's placeholder address follows its
/// slug; a listing once published keeps its slug (the service refuses a
/// change), so its public address is written back unchanged.
pub async fn update_details(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    org_id: i64,
    d: &Details<'_>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE listings SET slug = $1, public_slug = CASE WHEN published_at IS NULL THEN $2 ELSE $1 END, \
                name = $3, tagline = $4, description = $5, industry = $6, \
                data_residency = $7, documentation_url = $8, updated_at = $9 WHERE id = $10",
    )
    .bind(d.slug)
    .bind(placeholder(org_id, d.slug))
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
    pub(super) fn table_column(self) -> (&'static str, &'static str) {
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
