//! Rows the seeders insert directly: base models, published listings with
//! their deployment, plan and labels. Normal operation never calls these:
//! listings are published through review there.

use app::catalogue::db::{insert_base_model, NewBaseModel};
use app::listings::db::{insert_deployment, insert_plan, set_labels, Labels, NewPlan};
use sqlx::{Any, Row, Transaction};

/// Adds the base model unless its slug exists; returns its id either way.
pub async fn ensure_base_model(
    tx: &mut Transaction<'_, Any>,
    m: &NewBaseModel<'_>,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    let existing = sqlx::query("SELECT id FROM base_models WHERE slug = $1")
        .bind(m.slug)
        .fetch_optional(&mut **tx)
        .await?;
    match existing {
        Some(row) => row.try_get("id"),
        None => insert_base_model(tx, m, now_ms).await,
    }
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
    let exists = sqlx::query("SELECT id FROM listings WHERE public_slug = $1")
        .bind(l.slug)
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        return Ok(None);
    }
    let id: i64 = sqlx::query(
        "INSERT INTO listings (org_id, slug, public_slug, name, tagline, description, industry, base_model_id, status, \
                               published_at, submitted_at, created_at, updated_at) \
         VALUES ($1, $2, $2, $3, $4, $5, $6, $7, 'published', $8, $8, $8, $8) RETURNING id",
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
            "INSERT INTO listings (org_id, slug, public_slug, name, tagline, description, industry, base_model_id, \
                                   status, published_at, submitted_at, created_at, updated_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = i * COLS;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, 'published', ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
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
