//! SQL for base models, industries and the catalogue index.

use super::index::{Entry, Facets};
use super::BaseModelView;
use crate::db::Db;
use crate::error::AppError;
use crate::listings::ListingCard;
use crate::orgs::OrgKind;
use crate::ui::fields::Choice;
use crate::ui::format::format_money;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;

pub struct NewBaseModel<'a> {
    pub slug: &'a str,
    pub provider: &'a str,
    pub name: &'a str,
    pub version: &'a str,
    pub modality: &'a str,
    pub context_length: i64,
    pub licence: &'a str,
}

/// The catalogue version every node compares its index with.
pub async fn catalogue_version(db: &Db) -> Result<i64, AppError> {
    Ok(
        sqlx::query("SELECT version FROM catalogue_state WHERE id = 1")
            .fetch_one(db.pool())
            .await?
            .try_get("version")?,
    )
}

/// Marks the public catalogue as changed, in the transaction of the change.
pub async fn bump_version(tx: &mut Transaction<'_, Any>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE catalogue_state SET version = version + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn lower_list(v: &[String]) -> Vec<String> {
    v.iter().map(|s| s.to_lowercase()).collect()
}

/// Every published listing with what search, filters, ranking and the
/// cards need; and the filter choices.
/// Adoption, per published listing: the distinct client organisations with
/// an active subscription to it and at least one billable call (through the
/// gateway, or reported by the publisher) since `since_ms`. A client
/// organisation that shares a member with the publisher does not count,
/// nor, for a first-party listing (the platform's or an affiliated
/// partner's), one that shares a member with the platform or any affiliated
/// partner: subscribing to oneself from organisations one creates moves
/// nothing.
pub async fn adopters(
    pool: &sqlx::Pool<Any>,
    since_ms: i64,
) -> Result<HashMap<i64, i64>, AppError> {
    let mut out = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT s.listing_id, COUNT(DISTINCT s.client_org_id) AS n \
         FROM subscriptions s \
         JOIN listings l ON l.id = s.listing_id \
         JOIN organisations o ON o.id = l.org_id \
         WHERE s.status = 'active' AND l.status = 'published' \
           AND (EXISTS (SELECT 1 FROM gateway_calls g \
                        WHERE g.subscription_id = s.id AND g.billable = 1 AND g.occurred_at >= $1) \
             OR EXISTS (SELECT 1 FROM usage_records u \
                        WHERE u.subscription_id = s.id AND u.occurred_at >= $1)) \
           AND NOT EXISTS (SELECT 1 FROM memberships mc \
                JOIN memberships mp ON mp.user_id = mc.user_id \
                JOIN organisations po ON po.id = mp.org_id \
                WHERE mc.org_id = s.client_org_id \
                  AND (mp.org_id = l.org_id \
                       OR ({fp} AND (po.kind = 'platform' OR po.affiliated = 1)))) \
         GROUP BY s.listing_id",
        fp = crate::orgs::FIRST_PARTY
    ))
    .bind(since_ms)
    .fetch_all(pool)
    .await?
    {
        out.insert(
            r.try_get::<i64, _>("listing_id")?,
            r.try_get::<i64, _>("n")?,
        );
    }
    Ok(out)
}

pub use super::ranking::ADOPTION_WINDOW_DAYS;

/// A `ranking_weights` row's four weights.
pub fn weights_of(r: &sqlx::any::AnyRow) -> Result<super::ranking::Weights, sqlx::Error> {
    Ok(super::ranking::Weights {
        relevance_bp: r.try_get("relevance_bp")?,
        adoption_bp: r.try_get("adoption_bp")?,
        evaluation_bp: r.try_get("evaluation_bp")?,
        freshness_bp: r.try_get("freshness_bp")?,
    })
}

/// The ranking weights in force at `at_ms`: the newest formula that has
/// begun by then (read through the pool or in a transaction).
pub async fn weights_in_force<'e, E>(
    ex: E,
    at_ms: i64,
) -> Result<super::ranking::Weights, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    sqlx::query(
        "SELECT relevance_bp, adoption_bp, evaluation_bp, freshness_bp FROM ranking_weights \
         WHERE effective_at <= $1 ORDER BY effective_at DESC, id DESC LIMIT 1",
    )
    .bind(at_ms)
    .fetch_optional(ex)
    .await?
    .as_ref()
    .map(weights_of)
    .transpose()
    .map(|w| w.unwrap_or(super::ranking::Weights::OPENING))
}

/// Everything the index holds; adoption as of `adoption_since_ms`.
pub async fn load_index(db: &Db, adoption_since_ms: i64) -> Result<(Vec<Entry>, Facets), AppError> {
    let pool = db.pool();
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for r in sqlx::query(
        "SELECT t.listing_id, t.tag FROM listing_tags t JOIN listings l ON l.id = t.listing_id \
         WHERE l.status = 'published' ORDER BY t.tag",
    )
    .fetch_all(pool)
    .await?
    {
        tags.entry(r.try_get("listing_id")?)
            .or_default()
            .push(r.try_get("tag")?);
    }
    let mut certs: HashMap<i64, Vec<String>> = HashMap::new();
    for r in sqlx::query(
        "SELECT c.listing_id, c.certification FROM listing_certifications c \
         JOIN listings l ON l.id = c.listing_id WHERE l.status = 'published' ORDER BY c.certification",
    )
    .fetch_all(pool)
    .await?
    {
        certs
            .entry(r.try_get("listing_id")?)
            .or_default()
            .push(r.try_get("certification")?);
    }
    // (base model slugs, deployments, best verified evaluation of an active
    // deployment). Self-reported scores are not read: they are no input.
    let mut deps: HashMap<i64, (Vec<String>, usize, Option<u8>)> = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT d.listing_id, d.status, \
                CASE WHEN {} THEN NULL ELSE r.score END AS verified_score, b.slug \
         FROM deployments d \
         JOIN listings l ON l.id = d.listing_id JOIN base_models b ON b.id = d.base_model_id \
         LEFT JOIN evaluation_runs r ON r.id = d.verified_run_id \
         WHERE l.status = 'published'",
        crate::evaluations::STALE
    ))
    .fetch_all(pool)
    .await?
    {
        let slot = deps.entry(r.try_get("listing_id")?).or_default();
        let status: String = r.try_get("status")?;
        slot.1 += 1;
        if status != "paused" {
            let slug: String = r.try_get("slug")?;
            if !slot.0.contains(&slug) {
                slot.0.push(slug);
            }
        }
        let eval: Option<i64> = r.try_get("verified_score")?;
        if status == "active" {
            if let Some(e) = eval {
                let e = e.clamp(0, 100) as u8;
                slot.2 = Some(slot.2.map_or(e, |b| b.max(e)));
            }
        }
    }
    // Cheapest active plan: (fee, currency).
    let mut fees: HashMap<i64, (i64, String)> = HashMap::new();
    for r in sqlx::query(
        "SELECT p.listing_id, p.monthly_fee_minor, p.currency FROM plans p \
         JOIN listings l ON l.id = p.listing_id WHERE l.status = 'published' AND p.active = 1",
    )
    .fetch_all(pool)
    .await?
    {
        let id: i64 = r.try_get("listing_id")?;
        let fee: i64 = r.try_get("monthly_fee_minor")?;
        let currency: String = r.try_get("currency")?;
        let cheaper = fees.get(&id).is_none_or(|(f, _)| fee < *f);
        if cheaper {
            fees.insert(id, (fee, currency));
        }
    }
    let adopters = adopters(pool, adoption_since_ms).await?;
    let rows = sqlx::query(
        "SELECT l.id, l.slug, l.name, l.tagline, l.description, l.industry, l.published_at, \
                i.name AS industry_name, o.name AS publisher, o.kind AS publisher_kind, o.affiliated, \
                b.name AS bm_name, b.version AS bm_version \
         FROM listings l \
         JOIN organisations o ON o.id = l.org_id \
         JOIN industries i ON i.slug = l.industry \
         JOIN base_models b ON b.id = l.base_model_id \
         WHERE l.status = 'published'",
    )
    .fetch_all(pool)
    .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let kind: String = r.try_get("publisher_kind")?;
        let name: String = r.try_get("name")?;
        let tagline: String = r.try_get("tagline")?;
        let description: String = r.try_get("description")?;
        let bm_name: String = r.try_get("bm_name")?;
        let bm_version: String = r.try_get("bm_version")?;
        let tags = tags.remove(&id).unwrap_or_default();
        let certifications = certs.remove(&id).unwrap_or_default();
        let (base_model_slugs, deployments, evaluation) = deps.remove(&id).unwrap_or_default();
        let fee = fees.remove(&id);
        entries.push(Entry {
            card: ListingCard {
                id,
                slug: r.try_get("slug")?,
                name: name.clone(),
                tagline: tagline.clone(),
                industry: r.try_get("industry_name")?,
                base_model: format!("{bm_name} {bm_version}"),
                deployments,
                publisher: r.try_get("publisher")?,
                platform_owned: OrgKind::parse(&kind) == Some(OrgKind::Platform),
                affiliated: r.try_get::<i64, _>("affiliated")? == 1,
                from_price: fee.as_ref().map(|(f, c)| {
                    if *f == 0 {
                        "Free".to_string()
                    } else {
                        format_money(*f, c)
                    }
                }),
                certifications,
            },
            industry_slug: r.try_get("industry")?,
            base_model_slugs,
            min_fee: fee.map(|(f, _)| f),
            name: name.to_lowercase(),
            tagline: tagline.to_lowercase(),
            description: description.to_lowercase(),
            tags: lower_list(&tags),
            evaluation,
            adopters: adopters.get(&id).copied().unwrap_or(0),
            published_at: r.try_get::<Option<i64>, _>("published_at")?.unwrap_or(0),
        });
    }
    let facets = Facets {
        industries: industry_choices(db).await?,
        base_models: sqlx::query(
            "SELECT slug, provider, name, version, status FROM base_models ORDER BY provider, name, version",
        )
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| -> Result<Choice, sqlx::Error> {
            let status: String = r.try_get("status")?;
            let provider: String = r.try_get("provider")?;
            let name: String = r.try_get("name")?;
            let version: String = r.try_get("version")?;
            let note = if status == "deprecated" { ", deprecated" } else { "" };
            Ok(Choice {
                value: r.try_get("slug")?,
                label: format!("{name} {version} ({provider}{note})"),
            })
        })
        .collect::<Result<_, _>>()?,
    };
    Ok((entries, facets))
}

/// Industries as select choices, by name.
pub async fn industry_choices(db: &Db) -> Result<Vec<Choice>, AppError> {
    Ok(
        sqlx::query("SELECT slug, name FROM industries ORDER BY name")
            .fetch_all(db.pool())
            .await?
            .iter()
            .map(|r| -> Result<Choice, sqlx::Error> {
                Ok(Choice {
                    value: r.try_get("slug")?,
                    label: r.try_get("name")?,
                })
            })
            .collect::<Result<_, _>>()?,
    )
}

/// Active base models as select choices (value: id).
pub async fn active_base_model_choices(db: &Db) -> Result<Vec<Choice>, AppError> {
    Ok(sqlx::query(
        "SELECT id, provider, name, version FROM base_models WHERE status = 'active' \
         ORDER BY provider, name, version",
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| -> Result<Choice, sqlx::Error> {
        let id: i64 = r.try_get("id")?;
        let provider: String = r.try_get("provider")?;
        let name: String = r.try_get("name")?;
        let version: String = r.try_get("version")?;
        Ok(Choice {
            value: id.to_string(),
            label: format!("{name} {version} ({provider})"),
        })
    })
    .collect::<Result<_, _>>()?)
}

/// Every base model (the listing counts are the caller's to fill in).
pub async fn base_models(db: &Db) -> Result<Vec<BaseModelView>, AppError> {
    Ok(sqlx::query(
        "SELECT id, slug, provider, name, version, modality, context_length, licence, status \
         FROM base_models b ORDER BY b.provider, b.name, b.version",
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| -> Result<BaseModelView, sqlx::Error> {
        let status: String = r.try_get("status")?;
        Ok(BaseModelView {
            id: r.try_get("id")?,
            slug: r.try_get("slug")?,
            provider: r.try_get("provider")?,
            name: r.try_get("name")?,
            version: r.try_get("version")?,
            modality: r.try_get("modality")?,
            context_length: r.try_get("context_length")?,
            licence: r.try_get("licence")?,
            deprecated: status == "deprecated",
            listings: 0,
        })
    })
    .collect::<Result<_, _>>()?)
}

/// Inserts a base model; its id. A duplicate slug or (provider, name,
/// version) is a unique violation for the caller to explain.
pub async fn insert_base_model(
    tx: &mut Transaction<'_, Any>,
    m: &NewBaseModel<'_>,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO base_models (slug, provider, name, version, modality, context_length, licence, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(m.slug)
    .bind(m.provider)
    .bind(m.name)
    .bind(m.version)
    .bind(m.modality)
    .bind(m.context_length)
    .bind(m.licence)
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")
}

/// Sets a base model's status; returns (label, previous status), or None
/// when there is no such model.
pub async fn set_base_model_status(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    status: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let Some(row) = sqlx::query("SELECT name, version, status FROM base_models WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(None);
    };
    let name: String = row.try_get("name")?;
    let version: String = row.try_get("version")?;
    let before: String = row.try_get("status")?;
    sqlx::query("UPDATE base_models SET status = $1 WHERE id = $2")
        .bind(status)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(Some((format!("{name} {version}"), before)))
}

/// Organisations with a listing (not retired) deployed on the base model,
/// with the names of those listings.
pub async fn orgs_deploying_on(
    tx: &mut Transaction<'_, Any>,
    base_model_id: i64,
) -> Result<Vec<(i64, Vec<String>)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT l.org_id, l.id, l.name FROM deployments d JOIN listings l ON l.id = d.listing_id \
         WHERE d.base_model_id = $1 AND l.status <> 'retired' ORDER BY l.org_id, l.id",
    )
    .bind(base_model_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut out: Vec<(i64, Vec<String>)> = Vec::new();
    for r in rows {
        let org: i64 = r.try_get("org_id")?;
        let name: String = r.try_get("name")?;
        match out.last_mut() {
            Some((o, names)) if *o == org => names.push(name),
            _ => out.push((org, vec![name])),
        }
    }
    Ok(out)
}
