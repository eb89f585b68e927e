//! The benchmark catalogue: many published listings in few statements.

use super::rows::{
    active_base_model_ids, ensure_base_model, industry_slugs, insert_published_bulk, SeedListing,
};
use super::{platform, SeedReport, BASE_MODELS};
use app::db::{Clock, Db};
use app::orgs::db::ensure_org;
use app::orgs::OrgKind;

/// `n` more published listings for benchmarks, spread round-robin over every
/// industry, active base model and ten benchmark partners; one in ten is
/// first-party.
pub async fn bulk_listings(db: &Db, clock: &Clock, n: u32) -> anyhow::Result<SeedReport> {
    let now = clock.now_ms();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let run = &run[..8];
    let mut tx = db.begin_write().await?;
    for m in BASE_MODELS {
        ensure_base_model(&mut tx, m, now).await?;
    }
    let platform = platform(&mut tx, now).await?;
    let mut partners = Vec::new();
    for i in 1..=10 {
        let slug = format!("bench-vendor-{i}");
        partners.push(
            ensure_org(
                &mut tx,
                &slug,
                &format!("Bench Vendor {i}"),
                OrgKind::Partner,
                now,
            )
            .await?,
        );
    }
    let industries = industry_slugs(&mut tx).await?;
    let models = active_base_model_ids(&mut tx).await?;
    if industries.is_empty() || models.is_empty() {
        anyhow::bail!("benchmark listings need at least one industry and one active base model");
    }
    const WORDS: &[&str] = &[
        "triage",
        "claims",
        "radiology",
        "contracts",
        "fraud",
        "maintenance",
        "tariffs",
        "compliance",
        "forecasting",
        "summaries",
        "coding",
        "underwriting",
        "procurement",
        "logistics",
        "tutoring",
        "outage",
    ];
    let word = |i: usize, k: usize| WORDS[(i * (k + 3) + k * 7) % WORDS.len()];
    let owned: Vec<(String, String, String, String)> = (0..n as usize)
        .map(|i| {
            (
                format!("bench-{run}-{i}"),
                format!("Bench {} {} #{i}", word(i, 0), word(i, 1)),
                format!("Synthetic {} model {i} for load tests.", word(i, 2)),
                format!(
                    "A synthetic listing for load tests. It handles {} and {} workflows, \
                     reports on {} and answers questions about {} with cited sources.",
                    word(i, 3),
                    word(i, 4),
                    word(i, 5),
                    word(i, 6)
                ),
            )
        })
        .collect();
    let listings: Vec<SeedListing<'_>> = owned
        .iter()
        .enumerate()
        .map(|(i, (slug, name, tagline, description))| SeedListing {
            org_id: if i % 10 == 0 {
                platform
            } else {
                partners[i % partners.len()]
            },
            slug,
            name,
            tagline,
            description,
            industry: &industries[i % industries.len()],
            base_model_id: models[i % models.len()],
            tags: &[],
            certifications: &[],
            monthly_fee_minor: 0,
        })
        .collect();
    let added = insert_published_bulk(&mut tx, &listings, &format!("bench-{run}-"), now).await?;
    app::catalogue::db::bump_version(&mut tx).await?;
    tx.commit().await?;
    Ok(SeedReport {
        listings_added: added,
    })
}
