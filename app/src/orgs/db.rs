//! SQL for organisations.

use super::OrgKind;
use sqlx::{Any, Row, Transaction};

/// Creates the organisation unless one with this slug exists, and returns its
/// id either way. Used by seeding; sign-up flows create organisations
/// through their own checks.
pub async fn ensure_org(
    tx: &mut Transaction<'_, Any>,
    slug: &str,
    name: &str,
    kind: OrgKind,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO organisations (slug, name, kind, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (slug) DO NOTHING",
    )
    .bind(slug)
    .bind(name)
    .bind(kind.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query("SELECT id FROM organisations WHERE slug = $1")
        .bind(slug)
        .fetch_one(&mut **tx)
        .await?;
    row.try_get("id")
}

/// The platform organisation's id, if it has been created.
pub async fn platform_org_id(tx: &mut Transaction<'_, Any>) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query("SELECT id FROM organisations WHERE kind = 'platform'")
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| r.try_get("id")).transpose()
}
