//! SQL for the audit log: appending inside the caller's transaction, and
//! verifying the whole chain.

use super::GENESIS_HASH;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// What happened. Never holds passwords, tokens or cookies: callers pass ids
/// and names only.
#[derive(Debug, Clone, Default)]
pub struct NewEntry {
    pub actor_user_id: Option<i64>,
    pub org_id: Option<i64>,
    /// Dotted verb, e.g. `user.signed_up`, `org.created`.
    pub action: String,
    /// What it was done to, e.g. `user:42`.
    pub target: String,
    pub client_ip: String,
    /// Further facts as a JSON object.
    pub details: serde_json::Value,
}

impl NewEntry {
    /// An entry for what `actor` did, from the address their request came
    /// from.
    pub fn by(
        actor: &crate::auth::actor::Actor,
        action: &str,
        org: Option<i64>,
        target: String,
        details: serde_json::Value,
    ) -> NewEntry {
        NewEntry {
            actor_user_id: Some(actor.user_id),
            org_id: org,
            action: action.into(),
            target,
            client_ip: actor.origin.client_ip.clone(),
            details,
        }
    }
}

/// The exact bytes that are hashed, in a fixed field order.
#[derive(Serialize)]
struct Canonical<'a> {
    seq: i64,
    occurred_at: i64,
    actor_user_id: Option<i64>,
    org_id: Option<i64>,
    action: &'a str,
    target: &'a str,
    client_ip: &'a str,
    details: &'a str,
}

/// SHA-256 of the previous hash and the entry's canonical JSON. A content
/// that cannot be serialised fails the write (it is never hashed as empty).
fn chain_hash(prev_hash: &str, c: &impl Serialize) -> Result<String, sqlx::Error> {
    let content = serde_json::to_string(c).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(content.as_bytes());
    Ok(hex::encode(h.finalize()))
}

/// Appends `entry` as part of `tx`: it is recorded exactly when the action
/// it describes commits. Returns the entry's position in the chain.
pub async fn append(
    tx: &mut Transaction<'_, Any>,
    entry: &NewEntry,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    // Taking the head row's lock first serialises appenders on PostgreSQL
    // (SQLite write transactions are serial already).
    sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut **tx)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev_hash: String = head.try_get("hash")?;
    let details = entry.details.to_string();
    let canonical = Canonical {
        seq,
        occurred_at: now_ms,
        actor_user_id: entry.actor_user_id,
        org_id: entry.org_id,
        action: &entry.action,
        target: &entry.target,
        client_ip: &entry.client_ip,
        details: &details,
    };
    let hash = chain_hash(&prev_hash, &canonical)?;
    sqlx::query(
        "INSERT INTO audit_log (seq, occurred_at, actor_user_id, org_id, action, target, client_ip, \
                                details, prev_hash, hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $2)",
    )
    .bind(seq)
    .bind(now_ms)
    .bind(entry.actor_user_id)
    .bind(entry.org_id)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(&entry.client_ip)
    .bind(&details)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(seq)
}

/// The outcome of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Entries checked and found sound.
    pub entries: i64,
    /// The chain head as stored (publish it to detect later rewrites).
    pub head_hash: String,
    /// The first entry that does not fit, and why.
    pub broken: Option<Broken>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub reason: String,
}

const PAGE: i64 = 1000;

/// Recomputes every entry's hash in order and checks the links and the head.
pub async fn verify(db: &crate::db::Db) -> Result<Verification, sqlx::Error> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    let head_seq: i64 = head.try_get("seq")?;
    let head_hash: String = head.try_get("hash")?;
    let mut expected_seq = 1;
    let mut prev = GENESIS_HASH.to_string();
    loop {
        let rows = sqlx::query(
            "SELECT seq, occurred_at, actor_user_id, org_id, action, target, client_ip, details, prev_hash, hash \
             FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(expected_seq)
        .bind(PAGE)
        .fetch_all(db.pool())
        .await?;
        let fetched = rows.len() as i64;
        for row in &rows {
            if let Some(reason) = check(row, expected_seq, &prev)? {
                let seq: i64 = row.try_get("seq")?;
                return Ok(Verification {
                    entries: expected_seq - 1,
                    head_hash,
                    broken: Some(Broken {
                        seq: seq.min(expected_seq),
                        reason,
                    }),
                });
            }
            prev = row.try_get("hash")?;
            expected_seq += 1;
        }
        if fetched < PAGE {
            break;
        }
    }
    let last = expected_seq - 1;
    let broken = if last != head_seq || prev != head_hash {
        Some(Broken {
            seq: last + 1,
            reason: format!(
                "the chain ends at entry {last} but its head says {head_seq}: entries were removed from the end or the head was altered"
            ),
        })
    } else {
        None
    };
    Ok(Verification {
        entries: last,
        head_hash,
        broken,
    })
}

/// Why `row` does not continue the chain, or None when it does.
fn check(row: &AnyRow, expected_seq: i64, prev: &str) -> Result<Option<String>, sqlx::Error> {
    let seq: i64 = row.try_get("seq")?;
    if seq != expected_seq {
        return Ok(Some(format!(
            "entry {expected_seq} is missing (next found: {seq})"
        )));
    }
    let prev_hash: String = row.try_get("prev_hash")?;
    if prev_hash != prev {
        return Ok(Some(format!(
            "entry {seq} does not link to entry {}",
            seq - 1
        )));
    }
    let action: String = row.try_get("action")?;
    let target: String = row.try_get("target")?;
    let client_ip: String = row.try_get("client_ip")?;
    let details: String = row.try_get("details")?;
    let canonical = Canonical {
        seq,
        occurred_at: row.try_get("occurred_at")?,
        actor_user_id: row.try_get("actor_user_id")?,
        org_id: row.try_get("org_id")?,
        action: &action,
        target: &target,
        client_ip: &client_ip,
        details: &details,
    };
    let stored: String = row.try_get("hash")?;
    if chain_hash(&prev_hash, &canonical)? != stored {
        return Ok(Some(format!(
            "entry {seq} was altered: its content does not match its hash"
        )));
    }
    Ok(None)
}

/// Writes every entry, in chain order, as one JSON object per line (JSON
/// Lines) with its stored hashes, so a copy can be checked independently.
/// Returns how many entries were written.
pub async fn export(
    db: &crate::db::Db,
    out: &mut (dyn std::io::Write + Send),
) -> Result<i64, ExportError> {
    let mut next = 1;
    let mut written = 0;
    loop {
        let rows = sqlx::query(
            "SELECT seq, occurred_at, actor_user_id, org_id, action, target, client_ip, details, prev_hash, hash \
             FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(next)
        .bind(PAGE)
        .fetch_all(db.pool())
        .await?;
        for row in &rows {
            let seq: i64 = row.try_get("seq")?;
            let details: String = row.try_get("details")?;
            let line = serde_json::json!({
                "seq": seq,
                "occurred_at": row.try_get::<i64, _>("occurred_at")?,
                "actor_user_id": row.try_get::<Option<i64>, _>("actor_user_id")?,
                "org_id": row.try_get::<Option<i64>, _>("org_id")?,
                "action": row.try_get::<String, _>("action")?,
                "target": row.try_get::<String, _>("target")?,
                "client_ip": row.try_get::<String, _>("client_ip")?,
                // Kept as the exact string that was hashed.
                "details": details,
                "prev_hash": row.try_get::<String, _>("prev_hash")?,
                "hash": row.try_get::<String, _>("hash")?,
            });
            writeln!(out, "{line}")?;
            next = seq + 1;
            written += 1;
        }
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    out.flush()?;
    Ok(written)
}

/// Errors of `export`: reading the database or writing the output.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::chain_hash;

    /// Content that refuses to serialise.
    struct Unserialisable;

    impl serde::Serialize for Unserialisable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no canonical form"))
        }
    }

    #[test]
    fn content_that_cannot_be_serialised_fails_the_write_instead_of_hashing_nothing() {
        assert!(chain_hash("prev", &Unserialisable).is_err());
        let a = chain_hash("prev", &("a", 1)).expect("hash");
        assert_eq!(a.len(), 64);
        assert_ne!(a, chain_hash("prev", &("a", 2)).expect("hash"));
    }
}
