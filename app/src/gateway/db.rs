//! SQL of the gateway: a client key, the subscription a model name names,
//! the deployments that may serve it, the monthly cap's reservations, and
//! the call records (written in batches by `recorder`).

use crate::db::Db;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{Any, Row, Transaction};

/// What one call needs, read in one query: the key (when live), the
/// listing the model names with the key's organisation's subscription to
/// it, and (when subscribed) the listing's deployments in order.
pub struct CallContext {
    pub key_id: i64,
    pub key_hash: String,
    pub named: Option<Named>,
    pub candidates: Vec<Candidate>,
}

pub async fn call_context(
    db: &Db,
    prefix: &str,
    slug: &str,
) -> Result<Option<CallContext>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT k.id AS key_id, k.key_hash, l.id AS listing_id, l.status AS listing_status, \
                s.id AS sub_id, s.deployment_id AS sub_deployment, s.allow_fallback, s.monthly_call_cap, \
                d.id AS dep_id, d.status AS dep_status, b.slug AS base, \
                u.base_url, u.upstream_model, u.signing_secret \
         FROM api_keys k \
         LEFT JOIN listings l ON l.public_slug = $2 \
         LEFT JOIN subscriptions s \
           ON s.listing_id = l.id AND s.client_org_id = k.org_id AND s.status = 'active' \
         LEFT JOIN deployments d ON d.listing_id = s.listing_id \
         LEFT JOIN base_models b ON b.id = d.base_model_id \
         LEFT JOIN deployment_upstreams u ON u.deployment_id = d.id \
         WHERE k.prefix = $1 AND k.revoked_at IS NULL AND k.purpose = 'gateway' \
         ORDER BY d.is_default DESC, b.provider, b.name, b.version, d.revision",
    )
    .bind(prefix)
    .bind(slug)
    .fetch_all(db.pool())
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let listing: Option<i64> = first.try_get("listing_id")?;
    let named = match listing {
        None => None,
        Some(listing_id) => {
            let status: String = first.try_get("listing_status")?;
            Some(Named {
                listing_id,
                published: status == "published",
                subscription: subscribed_of(first, "sub_deployment")?,
            })
        }
    };
    let mut candidates = Vec::new();
    for r in &rows {
        if r.try_get::<Option<i64>, _>("dep_id")?.is_some() {
            candidates.push(candidate_of(r, "dep_id", "dep_status")?);
        }
    }
    Ok(Some(CallContext {
        key_id: first.try_get("key_id")?,
        key_hash: first.try_get("key_hash")?,
        named,
        candidates,
    }))
}

/// The subscription columns of a row (`sub_id`, `deployment_id`,
/// `allow_fallback`, `monthly_call_cap`), when it has one.
fn subscribed_of(r: &AnyRow, deployment_col: &str) -> Result<Option<Subscribed>, sqlx::Error> {
    let Some(id) = r.try_get::<Option<i64>, _>("sub_id")? else {
        return Ok(None);
    };
    Ok(Some(Subscribed {
        id,
        deployment_id: r.try_get(deployment_col)?,
        allow_fallback: r.try_get::<i64, _>("allow_fallback")? == 1,
        monthly_call_cap: r.try_get("monthly_call_cap")?,
    }))
}

/// A deployment of a row (`id_col`, `status_col`, `base` and the
/// upstream's columns).
fn candidate_of(r: &AnyRow, id_col: &str, status_col: &str) -> Result<Candidate, sqlx::Error> {
    let status: String = r.try_get(status_col)?;
    let url: Option<String> = r.try_get("base_url")?;
    Ok(Candidate {
        id: r.try_get(id_col)?,
        base: r.try_get("base")?,
        active: status == "active",
        upstream: match url {
            Some(url) => Some((
                url,
                r.try_get("upstream_model")?,
                r.try_get("signing_secret")?,
            )),
            None => None,
        },
    })
}

/// A listing found by its slug, with the client's active subscription to it.
pub struct Named {
    pub listing_id: i64,
    pub published: bool,
    pub subscription: Option<Subscribed>,
}

pub struct Subscribed {
    pub id: i64,
    pub deployment_id: i64,
    pub allow_fallback: bool,
    pub monthly_call_cap: Option<i64>,
}

pub async fn named(db: &Db, client_org: i64, slug: &str) -> Result<Option<Named>, sqlx::Error> {
    sqlx::query(
        "SELECT l.id AS listing_id, l.status AS listing_status, s.id AS sub_id, s.deployment_id, \
                s.allow_fallback, s.monthly_call_cap \
         FROM listings l LEFT JOIN subscriptions s \
           ON s.listing_id = l.id AND s.client_org_id = $1 AND s.status = 'active' \
         WHERE l.public_slug = $2",
    )
    .bind(client_org)
    .bind(slug)
    .fetch_optional(db.pool())
    .await?
    .map(|r| {
        let status: String = r.try_get("listing_status")?;
        Ok(Named {
            listing_id: r.try_get("listing_id")?,
            published: status == "published",
            subscription: subscribed_of(&r, "deployment_id")?,
        })
    })
    .transpose()
}

/// A deployment as the router sees it: never who publishes it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    /// The base model's slug: what `slug@base` names.
    pub base: String,
    pub active: bool,
    /// (base URL, upstream model, signing secret), once the publisher set it.
    pub upstream: Option<(String, String, String)>,
}

/// A listing's deployments in the publisher's order (the default first).
pub async fn candidates(db: &Db, listing: i64) -> Result<Vec<Candidate>, sqlx::Error> {
    sqlx::query(
        "SELECT d.id, d.status, b.slug AS base, u.base_url, u.upstream_model, u.signing_secret \
         FROM deployments d JOIN base_models b ON b.id = d.base_model_id \
         LEFT JOIN deployment_upstreams u ON u.deployment_id = d.id \
         WHERE d.listing_id = $1 \
         ORDER BY d.is_default DESC, b.provider, b.name, b.version, d.revision",
    )
    .bind(listing)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| candidate_of(r, "id", "status"))
    .collect()
}

/// The models a client's key may call: (listing slug, base model slugs of
/// its deployments, subscription start in ms, publisher's name).
/// One subscribed model as `/gateway/v1/models` lists it.
pub struct SubscribedModel {
    pub slug: String,
    pub base: String,
    pub started_at: i64,
    pub publisher: String,
    pub platform_owned: bool,
    pub affiliated: bool,
}

pub async fn subscribed_models(
    db: &Db,
    client_org: i64,
) -> Result<Vec<SubscribedModel>, sqlx::Error> {
    sqlx::query(
        "SELECT l.slug, b.slug AS base, s.started_at, o.name AS publisher, o.kind, o.affiliated \
         FROM subscriptions s JOIN listings l ON l.id = s.listing_id \
         JOIN organisations o ON o.id = l.org_id \
         JOIN deployments d ON d.listing_id = l.id \
         JOIN base_models b ON b.id = d.base_model_id \
         WHERE s.client_org_id = $1 AND s.status = 'active' \
         ORDER BY l.slug, d.is_default DESC, b.provider, b.name, b.version, d.revision",
    )
    .bind(client_org)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(SubscribedModel {
            slug: r.try_get("slug")?,
            base: r.try_get("base")?,
            started_at: r.try_get("started_at")?,
            publisher: r.try_get("publisher")?,
            platform_owned: r.try_get::<String, _>("kind")? == "platform",
            affiliated: r.try_get::<i64, _>("affiliated")? == 1,
        })
    })
    .collect()
}

/// Takes one call of the month's cap for a subscription: false when the
/// cap is reached. The reservation row starts from the month's billable
/// calls so far; the conditional update is atomic on both backends, so
/// concurrent calls (on any node) never take more than the cap.
pub async fn reserve(
    db: &Db,
    subscription: i64,
    month: i64,
    cap: i64,
    month_start: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO subscription_cap_use (subscription_id, month, reserved) \
         SELECT $1, $2, COUNT(*) FROM gateway_calls \
         WHERE subscription_id = $1 AND billable = 1 AND occurred_at >= $3 \
         ON CONFLICT (subscription_id, month) DO NOTHING",
    )
    .bind(subscription)
    .bind(month)
    .bind(month_start)
    .execute(&mut **tx)
    .await?;
    let took = sqlx::query(
        "UPDATE subscription_cap_use SET reserved = reserved + 1 \
         WHERE subscription_id = $1 AND month = $2 AND reserved < $3",
    )
    .bind(subscription)
    .bind(month)
    .bind(cap)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    tx.commit().await?;
    Ok(took)
}

/// What the recorder writes for one call.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub request_id: String,
    pub subscription: i64,
    /// None for a call from the client's playground page.
    pub api_key: Option<i64>,
    pub deployment: Option<i64>,
    pub fallback_from: Option<i64>,
    pub status: u16,
    pub outcome: &'static str,
    pub streamed: bool,
    pub billable: bool,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub upstream_ms: i64,
    pub overhead_us: i64,
    pub occurred_at: i64,
    /// The cap month a reservation was taken in, to give back when the
    /// call is not billable.
    pub reserved_month: Option<i64>,
}

/// Columns bound per record in one multi-row insert.
const COLUMNS: usize = 14;
/// Records per insert statement (well inside both backends' bind limits).
pub const ROWS_PER_INSERT: usize = 200;

/// The insert of `rows` call records.
fn insert_sql(rows: usize) -> String {
    let rows: Vec<String> = (0..rows)
        .map(|i| {
            let cols: Vec<String> = (1..=COLUMNS)
                .map(|c| format!("${}", i * COLUMNS + c))
                .collect();
            format!("({})", cols.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO gateway_calls (request_id, subscription_id, api_key_id, deployment_id, \
         fallback_from, status, outcome, streamed, billable, prompt_tokens, completion_tokens, \
         upstream_ms, overhead_us, occurred_at) VALUES {}",
        rows.join(", ")
    )
}

fn bind_calls<'q>(
    mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    calls: &'q [CallRecord],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    for c in calls {
        q = q
            .bind(c.request_id.as_str())
            .bind(c.subscription)
            .bind(c.api_key)
            .bind(c.deployment)
            .bind(c.fallback_from)
            .bind(i64::from(c.status))
            .bind(c.outcome)
            .bind(i64::from(c.streamed))
            .bind(i64::from(c.billable))
            .bind(c.prompt_tokens)
            .bind(c.completion_tokens)
            .bind(c.upstream_ms)
            .bind(c.overhead_us)
            .bind(c.occurred_at);
    }
    q
}

/// Whether `write_alone` can store this batch: one insert and nothing else
/// (no reservation to give back).
pub fn insert_only(calls: &[CallRecord]) -> bool {
    calls.len() <= ROWS_PER_INSERT
        && calls
            .iter()
            .all(|c| c.billable || c.reserved_month.is_none())
}

/// Stores a batch that `insert_only` accepts in one statement that commits
/// by itself: one round trip to the database instead of three (begin,
/// insert, commit), with the same durability. The caller holds the writer
/// turn on SQLite.
pub async fn write_alone(
    conn: &mut AnyConnection,
    calls: &[CallRecord],
) -> Result<(), sqlx::Error> {
    debug_assert!(insert_only(calls));
    let sql = insert_sql(calls.len());
    bind_calls(sqlx::query(&sql), calls)
        .execute(conn)
        .await
        .map(drop)
}

/// Writes a batch of call records, gives back the reservations of calls
/// that were not billable, and marks the keys' last uses given as
/// (key, instant).
pub async fn write_calls(
    tx: &mut Transaction<'_, Any>,
    calls: &[CallRecord],
    key_uses: &[(i64, i64)],
) -> Result<(), sqlx::Error> {
    for chunk in calls.chunks(ROWS_PER_INSERT) {
        let sql = insert_sql(chunk.len());
        bind_calls(sqlx::query(&sql), chunk)
            .execute(&mut **tx)
            .await?;
    }
    for c in calls.iter().filter(|c| !c.billable) {
        if let Some(month) = c.reserved_month {
            sqlx::query(
                "UPDATE subscription_cap_use SET reserved = reserved - 1 \
                 WHERE subscription_id = $1 AND month = $2 AND reserved > 0",
            )
            .bind(c.subscription)
            .bind(month)
            .execute(&mut **tx)
            .await?;
        }
    }
    for &(key, at) in key_uses {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 \
             AND (last_used_at IS NULL OR last_used_at < $2)",
        )
        .bind(key)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Gives back a reservation taken for a call that was never forwarded.
pub async fn release(db: &Db, subscription: i64, month: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE subscription_cap_use SET reserved = reserved - 1 \
         WHERE subscription_id = $1 AND month = $2 AND reserved > 0",
    )
    .bind(subscription)
    .bind(month)
    .execute(&mut **tx)
    .await?;
    tx.commit().await
}
