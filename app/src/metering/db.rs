//! SQL for API keys and usage records.

use super::{ApiKeyView, KeyPurpose};
use crate::db::Db;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// A key to store: only its hash and visible prefix are kept.
pub struct NewKey<'a> {
    pub org: i64,
    pub purpose: KeyPurpose,
    pub name: &'a str,
    pub prefix: &'a str,
    pub hash: &'a str,
    pub by: Option<i64>,
}

pub async fn insert_key(
    tx: &mut Transaction<'_, Any>,
    k: &NewKey<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_keys (org_id, name, prefix, key_hash, created_by_user_id, created_at, purpose) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(k.org)
    .bind(k.name)
    .bind(k.prefix)
    .bind(k.hash)
    .bind(k.by)
    .bind(now)
    .bind(k.purpose.as_str())
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")
}

/// Revokes one of the organisation's keys; false if there is none to revoke.
pub async fn revoke(
    tx: &mut Transaction<'_, Any>,
    org: i64,
    id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(org)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

pub async fn keys_of(
    db: &Db,
    org: i64,
    purpose: KeyPurpose,
) -> Result<Vec<ApiKeyView>, sqlx::Error> {
    sqlx::query(
        "SELECT k.id, k.name, k.prefix, k.created_at, k.revoked_at, k.last_used_at, \
                COALESCE(u.display_name, 'a former member') AS by_name \
         FROM api_keys k LEFT JOIN users u ON u.id = k.created_by_user_id \
         WHERE k.org_id = $1 AND k.purpose = $2 ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC, k.id DESC",
    )
    .bind(org)
    .bind(purpose.as_str())
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(ApiKeyView {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            prefix: r.try_get("prefix")?,
            created_at: r.try_get("created_at")?,
            created_by: r.try_get("by_name")?,
            revoked_at: r.try_get("revoked_at")?,
            last_used_at: r.try_get("last_used_at")?,
        })
    })
    .collect()
}

/// A live metering key found by its prefix: (id, org, hash). A key made
/// for calling models through the gateway is not one.
pub async fn live_key(
    db: &Db,
    prefix: &str,
    purpose: KeyPurpose,
) -> Result<Option<(i64, i64, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT id, org_id, key_hash FROM api_keys \
         WHERE prefix = $1 AND revoked_at IS NULL AND purpose = $2",
    )
    .bind(prefix)
    .bind(purpose.as_str())
    .fetch_optional(db.pool())
    .await?
    .map(|r| {
        Ok((
            r.try_get("id")?,
            r.try_get("org_id")?,
            r.try_get("key_hash")?,
        ))
    })
    .transpose()
}

pub async fn touch_key(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// `$first, $first+1, …` for `n` parameters.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A subscription as the metering rules need it.
pub struct Metered {
    pub publisher_org: i64,
    pub started_at: i64,
    pub ended_at: Option<i64>,
}

/// The subscriptions among `ids` (any publisher: the caller checks).
pub async fn subscriptions(
    tx: &mut Transaction<'_, Any>,
    ids: &[i64],
) -> Result<Vec<(i64, Metered)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT s.id, l.org_id, s.started_at, s.ended_at FROM subscriptions s \
         JOIN listings l ON l.id = s.listing_id WHERE s.id IN ({})",
        placeholders(1, ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(*id);
    }
    q.fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                Metered {
                    publisher_org: r.try_get("org_id")?,
                    started_at: r.try_get("started_at")?,
                    ended_at: r.try_get("ended_at")?,
                },
            ))
        })
        .collect()
}

/// What a stored record said: (subscription, dimension, quantity, occurred_at).
pub type Content = (i64, String, i64, i64);

fn content(r: &AnyRow) -> Result<(String, Content), sqlx::Error> {
    Ok((
        r.try_get("idempotency_key")?,
        (
            r.try_get("subscription_id")?,
            r.try_get("dimension")?,
            r.try_get("quantity")?,
            r.try_get("occurred_at")?,
        ),
    ))
}

/// The organisation's stored records among `keys`.
pub async fn existing(
    tx: &mut Transaction<'_, Any>,
    org: i64,
    keys: &[&str],
) -> Result<Vec<(String, Content)>, sqlx::Error> {
    let mut out = Vec::new();
    // Bounded statements: parameters per query stay well under every limit.
    for chunk in keys.chunks(500) {
        let sql = format!(
            "SELECT idempotency_key, subscription_id, dimension, quantity, occurred_at \
             FROM usage_records WHERE org_id = $1 AND idempotency_key IN ({})",
            placeholders(2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(org);
        for k in chunk {
            q = q.bind(*k);
        }
        for r in q.fetch_all(&mut **tx).await? {
            out.push(content(&r)?);
        }
    }
    Ok(out)
}

/// A record to store.
pub struct NewRecord<'a> {
    pub key: &'a str,
    pub subscription: i64,
    pub dimension: &'a str,
    pub quantity: i64,
    pub occurred_at: i64,
}

/// Inserts the records whose key the organisation has not stored yet
/// (many rows per statement); returns the keys inserted. A key already
/// stored, or being stored by a transaction committing meanwhile, is left
/// alone.
pub async fn insert_new(
    tx: &mut Transaction<'_, Any>,
    org: i64,
    key_id: i64,
    records: &[NewRecord<'_>],
    now: i64,
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    const COLS: usize = 8;
    let mut inserted = std::collections::HashSet::new();
    for chunk in records.chunks(100) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", placeholders(1 + i * COLS, COLS)))
            .collect();
        let sql = format!(
            "INSERT INTO usage_records (org_id, idempotency_key, subscription_id, dimension, quantity, \
             occurred_at, received_at, api_key_id) VALUES {} \
             ON CONFLICT (org_id, idempotency_key) DO NOTHING RETURNING idempotency_key",
            rows.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(org)
                .bind(r.key)
                .bind(r.subscription)
                .bind(r.dimension)
                .bind(r.quantity)
                .bind(r.occurred_at)
                .bind(now)
                .bind(key_id);
        }
        for row in q.fetch_all(&mut **tx).await? {
            inserted.insert(row.try_get("idempotency_key")?);
        }
    }
    Ok(inserted)
}
