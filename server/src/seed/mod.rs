//! Demo and benchmark data, kept out of the capabilities' code: the demo
//! marketplace here, the benchmark catalogue in `bench`, and the rows
//! both insert directly (published at once, no review) in `rows`. One
//! transaction per command.

mod bench;
mod rows;

pub use bench::bulk_listings;

use app::catalogue::db::NewBaseModel;
use app::db::{Clock, Db};
use app::listings::db::insert_deployment;
use app::orgs::db::{ensure_org, platform_org_id};
use app::orgs::OrgKind;
use rows::{ensure_base_model, ensure_published, SeedListing};
use sqlx::Row;
use std::collections::HashMap;

pub(crate) const BASE_MODELS: &[NewBaseModel<'static>] = &[
    NewBaseModel {
        slug: "aurora-2-70b",
        provider: "Aurora Labs",
        name: "Aurora 2",
        version: "70B (2026-06)",
        modality: "text",
        context_length: 128_000,
        licence: "Aurora Community Licence",
    },
    NewBaseModel {
        slug: "lumen-3",
        provider: "Lumen AI",
        name: "Lumen 3",
        version: "2026-09",
        modality: "text+image",
        context_length: 200_000,
        licence: "Commercial",
    },
    NewBaseModel {
        slug: "terra-8b",
        provider: "OpenTerra Collective",
        name: "Terra",
        version: "8B v1.2",
        modality: "text",
        context_length: 32_768,
        licence: "Apache-2.0",
    },
    NewBaseModel {
        slug: "basalt-mini",
        provider: "Basalt Systems",
        name: "Basalt Mini",
        version: "2026-03",
        modality: "text",
        context_length: 64_000,
        licence: "Commercial",
    },
];

/// The platform organisation: the marketplace operator, whose own listings
/// are first-party.
const PLATFORM: (&str, &str) = ("fairground", "Fairground");

const PARTNERS: &[(&str, &str)] = &[
    ("meridian-health", "Meridian Health AI"),
    ("ledgerline", "Ledgerline Analytics"),
    ("clausewise", "Clausewise Legal"),
    ("foundry-intelligence", "Foundry Intelligence"),
    ("gridsense", "GridSense Energy"),
];

const CLIENTS: &[(&str, &str)] = &[
    ("st-brigid-hospital", "St Brigid Hospital"),
    ("harbour-bank", "Harbour Bank"),
];

/// (publisher slug, listing slug, name, tagline, industry, base model slug)
const DEMO_LISTINGS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "meridian-health",
        "meridian-radiology-notes",
        "Meridian Radiology Notes",
        "Drafts structured radiology reports from dictation.",
        "healthcare",
        "aurora-2-70b",
    ),
    (
        "meridian-health",
        "meridian-triage-assist",
        "Meridian Triage Assist",
        "Suggests triage categories from intake notes, with cited guidelines.",
        "healthcare",
        "lumen-3",
    ),
    (
        "meridian-health",
        "meridian-coding",
        "Meridian Clinical Coding",
        "Maps discharge summaries to ICD-10 codes for review.",
        "healthcare",
        "terra-8b",
    ),
    (
        "ledgerline",
        "ledgerline-kyc",
        "Ledgerline KYC Reviewer",
        "Reads onboarding documents and flags gaps against KYC policy.",
        "finance",
        "aurora-2-70b",
    ),
    (
        "ledgerline",
        "ledgerline-filings",
        "Ledgerline Filings Digest",
        "Summarises annual reports and regulatory filings.",
        "finance",
        "lumen-3",
    ),
    (
        "ledgerline",
        "ledgerline-claims",
        "Ledgerline Claims Triage",
        "Sorts insurance claims by complexity and likely fraud signals.",
        "insurance",
        "basalt-mini",
    ),
    (
        "clausewise",
        "clausewise-contracts",
        "Clausewise Contract Review",
        "Finds non-standard clauses and proposes fallback wording.",
        "legal",
        "aurora-2-70b",
    ),
    (
        "clausewise",
        "clausewise-discovery",
        "Clausewise eDiscovery",
        "Classifies documents for privilege and relevance.",
        "legal",
        "terra-8b",
    ),
    (
        "clausewise",
        "clausewise-public-procurement",
        "Clausewise Tender Check",
        "Checks public tenders against procurement rules.",
        "government",
        "lumen-3",
    ),
    (
        "foundry-intelligence",
        "foundry-maintenance",
        "Foundry Predictive Maintenance",
        "Explains sensor anomalies in plain language for line engineers.",
        "manufacturing",
        "basalt-mini",
    ),
    (
        "foundry-intelligence",
        "foundry-quality",
        "Foundry Quality Inspector",
        "Writes non-conformance reports from inspection notes and photos.",
        "manufacturing",
        "lumen-3",
    ),
    (
        "foundry-intelligence",
        "foundry-supply",
        "Foundry Supply Planner",
        "Answers supply-chain questions over ERP exports.",
        "logistics",
        "aurora-2-70b",
    ),
    (
        "gridsense",
        "gridsense-outage",
        "GridSense Outage Desk",
        "Drafts outage notices and restoration estimates.",
        "energy",
        "terra-8b",
    ),
    (
        "gridsense",
        "gridsense-tariffs",
        "GridSense Tariff Explainer",
        "Explains energy tariffs and bills to customers.",
        "energy",
        "basalt-mini",
    ),
    (
        "gridsense",
        "gridsense-field",
        "GridSense Field Reports",
        "Turns field crew voice notes into work orders.",
        "telecom",
        "aurora-2-70b",
    ),
    (
        "meridian-health",
        "meridian-agri-vet",
        "Meridian Herd Health",
        "Flags herd-health risks from veterinary records.",
        "agriculture",
        "terra-8b",
    ),
    (
        "ledgerline",
        "ledgerline-retail-returns",
        "Ledgerline Returns Analyst",
        "Finds patterns in retail returns and refund abuse.",
        "retail",
        "basalt-mini",
    ),
    (
        "fairground",
        "fairground-tutor",
        "Fairground Course Tutor",
        "Answers students' questions from a course's own material.",
        "education",
        "aurora-2-70b",
    ),
    (
        "fairground",
        "fairground-policy-qa",
        "Fairground Policy Q&A",
        "Answers questions over a public body's published policies.",
        "government",
        "lumen-3",
    ),
    (
        "fairground",
        "fairground-clinical-summary",
        "Fairground Clinical Summary",
        "Summarises patient histories for hand-over.",
        "healthcare",
        "terra-8b",
    ),
];

/// The platform organisation: the one bootstrapped, or the demo's own.
pub(crate) async fn platform(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    now: i64,
) -> anyhow::Result<i64> {
    Ok(match platform_org_id(tx).await? {
        Some(id) => id,
        None => ensure_org(tx, PLATFORM.0, PLATFORM.1, OrgKind::Platform, now).await?,
    })
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub listings_added: u64,
}

/// Demo data; idempotent (everything is keyed by slug).
pub async fn demo(db: &Db, clock: &Clock) -> anyhow::Result<SeedReport> {
    let now = clock.now_ms();
    let mut tx = db.begin_write().await?;
    let mut base_models = HashMap::new();
    for m in BASE_MODELS {
        base_models.insert(m.slug, ensure_base_model(&mut tx, m, now).await?);
    }
    let mut publishers = HashMap::new();
    publishers.insert(PLATFORM.0, platform(&mut tx, now).await?);
    for (slug, name) in PARTNERS {
        publishers.insert(
            *slug,
            ensure_org(&mut tx, slug, name, OrgKind::Partner, now).await?,
        );
    }
    for (slug, name) in CLIENTS {
        ensure_org(&mut tx, slug, name, OrgKind::Client, now).await?;
    }
    let mut added = 0;
    for (i, (publisher, slug, name, tagline, industry, base)) in DEMO_LISTINGS.iter().enumerate() {
        let org_id = *publishers
            .get(publisher)
            .ok_or_else(|| anyhow::anyhow!("demo data names an unknown publisher {publisher}"))?;
        let base_model_id = *base_models
            .get(base)
            .ok_or_else(|| anyhow::anyhow!("demo data names an unknown base model {base}"))?;
        let description = format!(
            "## What it does\n\n{tagline}\n\n## How it is built\n\nFine-tuned adapters on \
             the base models listed below, evaluated on held-out {industry} data. Every answer \
             cites its sources; nothing is stored after the call.\n\n- Human review stays in \
             the loop\n- Audit trail of every call"
        );
        let certifications: &[&str] = match *industry {
            "healthcare" => &["HIPAA", "ISO 27001"],
            "finance" | "insurance" => &["SOC 2", "ISO 27001"],
            "government" => &["ISO 27001"],
            _ => &[],
        };
        let listing = SeedListing {
            org_id,
            slug,
            name,
            tagline,
            description: &description,
            industry,
            base_model_id,
            tags: &[industry, "assistant"],
            certifications,
            monthly_fee_minor: [0, 4_900, 19_900, 49_000, 149_000][i % 5],
        };
        // A day apart, so freshness and "newest first" have a real order.
        let at = now - (i as i64) * 86_400_000;
        if let Some(id) = ensure_published(&mut tx, &listing, at).await? {
            added += 1;
            // Every other listing also runs on a second base model.
            if i % 2 == 0 {
                let other = BASE_MODELS[(i / 2 + 1) % BASE_MODELS.len()].slug;
                let other_id = base_models[other];
                if other_id != base_model_id {
                    let eval = Some(60 + (i as i64 * 7) % 40);
                    insert_deployment(&mut tx, id, other_id, "v1", "active", eval, false, at)
                        .await?;
                }
            }
        }
    }
    let hospital = ensure_org(&mut tx, CLIENTS[0].0, CLIENTS[0].1, OrgKind::Client, now).await?;
    demo_subscriptions(&mut tx, hospital, now).await?;
    demo_evaluation_set(&mut tx, now).await?;
    app::catalogue::db::bump_version(&mut tx).await?;
    tx.commit().await?;
    Ok(SeedReport {
        listings_added: added,
    })
}

/// Healthcare's evaluation set (once), so a demo referee can run it on
/// the demo deployments from `/evaluations`. The demo's stand-in model
/// server echoes each prompt, so the items that name their answer pass.
async fn demo_evaluation_set(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    now: i64,
) -> anyhow::Result<()> {
    let exists = sqlx::query("SELECT 1 FROM evaluation_sets WHERE industry = 'healthcare'")
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    let items = [
        ("Chest pain spreading to the left arm for 20 minutes. Urgency (urgent or routine)? Say urgent if so.", "urgent"),
        ("A mild rash for three weeks, no fever. Urgency (urgent or routine)? Say routine if so.", "routine"),
        ("Sudden slurred speech and a drooping face. Which pathway applies?", "stroke"),
        ("Adult paracetamol maximum per day, in grams? The label says 4 grams.", "4 grams"),
        ("Fever and stiff neck in a child. Which test is considered first?", "lumbar puncture"),
    ];
    let jsonl: String = items
        .iter()
        .map(|(p, e)| serde_json::json!({"prompt": p, "expected": e}).to_string() + "\n")
        .collect();
    let set_id: i64 = sqlx::query(
        "INSERT INTO evaluation_sets (industry, name, created_at) VALUES ('healthcare', 'Triage basics', $1) RETURNING id",
    )
    .bind(now)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?;
    sqlx::query(
        "INSERT INTO evaluation_set_versions \
         (set_id, version, rule, tolerance_milli, items, item_count, reason, published_at) \
         VALUES ($1, 1, 'contains', 0, $2, $3, 'Demo set: five triage questions with one expected answer each.', $4)",
    )
    .bind(set_id)
    .bind(jsonl)
    .bind(items.len() as i64)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The demo hospital subscribes (once) to the first demo listings of each
/// publisher, 40 days ago, with a month of daily usage, so the client's,
/// partners' and referees' pages have something to show.
async fn demo_subscriptions(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    client: i64,
    now: i64,
) -> anyhow::Result<()> {
    const DAY: i64 = 86_400_000;
    let started = now - 40 * DAY;
    let slugs: Vec<&str> = DEMO_LISTINGS.iter().map(|l| l.1).step_by(3).collect();
    for slug in slugs {
        let row = sqlx::query(
            "SELECT l.id, l.org_id, \
                    (SELECT MIN(p.id) FROM plans p WHERE p.listing_id = l.id AND p.active = 1) AS plan_id, \
                    (SELECT MIN(d.id) FROM deployments d WHERE d.listing_id = l.id AND d.is_default = 1) AS deployment_id \
             FROM listings l WHERE l.slug = $1 AND l.status = 'published' \
               AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.listing_id = l.id AND s.client_org_id = $2)",
        )
        .bind(slug)
        .bind(client)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else { continue };
        let (listing, publisher): (i64, i64) = (row.try_get("id")?, row.try_get("org_id")?);
        let (Some(plan), Some(deployment)): (Option<i64>, Option<i64>) =
            (row.try_get("plan_id")?, row.try_get("deployment_id")?)
        else {
            continue;
        };
        let sub: i64 = sqlx::query_scalar(
            "INSERT INTO subscriptions (client_org_id, listing_id, plan_id, deployment_id, status, started_at) \
             VALUES ($1, $2, $3, $4, 'active', $5) RETURNING id",
        )
        .bind(client)
        .bind(listing)
        .bind(plan)
        .bind(deployment)
        .bind(started)
        .fetch_one(&mut **tx)
        .await?;
        for day in 0..30i64 {
            let calls = 200 + (sub * 131 + day * 977) % 1_800;
            sqlx::query(
                "INSERT INTO usage_records (org_id, idempotency_key, subscription_id, dimension, quantity, occurred_at, received_at) \
                 VALUES ($1, $2, $3, 'calls', $4, $5, $5)",
            )
            .bind(publisher)
            .bind(format!("demo-{sub}-{day}"))
            .bind(sub)
            .bind(calls)
            .bind(now - day * DAY - 3_600_000)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
