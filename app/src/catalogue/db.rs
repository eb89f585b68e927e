//! SQL for base models and industries.

use sqlx::{Any, Row, Transaction};

pub struct NewBaseModel<'a> {
    pub slug: &'a str,
    pub provider: &'a str,
    pub name: &'a str,
    pub version: &'a str,
    pub modality: &'a str,
    pub context_length: i64,
    pub licence: &'a str,
}

/// Adds the base model unless its slug exists; returns its id either way.
pub async fn ensure_base_model(
    tx: &mut Transaction<'_, Any>,
    m: &NewBaseModel<'_>,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO base_models (slug, provider, name, version, modality, context_length, licence, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (slug) DO NOTHING",
    )
    .bind(m.slug)
    .bind(m.provider)
    .bind(m.name)
    .bind(m.version)
    .bind(m.modality)
    .bind(m.context_length)
    .bind(m.licence)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    sqlx::query("SELECT id FROM base_models WHERE slug = $1")
        .bind(m.slug)
        .fetch_one(&mut **tx)
        .await?
        .try_get("id")
}

/// Ids of the active base models, oldest first.
pub async fn active_base_model_ids(tx: &mut Transaction<'_, Any>) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query("SELECT id FROM base_models WHERE status = 'active' ORDER BY id")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect()
}

/// Industry slugs, alphabetically.
pub async fn industry_slugs(tx: &mut Transaction<'_, Any>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query("SELECT slug FROM industries ORDER BY slug")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("slug"))
        .collect()
}
