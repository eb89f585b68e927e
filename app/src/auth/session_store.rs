//! Sessions stored in the application database (SQLite or PostgreSQL), so
//! any app node can serve any request. Only a SHA-256 of each session id is
//! stored: reading the table does not yield usable cookies.

use crate::db::{Clock, Db};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::HashMap;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The session data key holding the signed-in user's id.
pub const USER_ID_KEY: &str = "uid";

/// Expiry is kept by the application's clock (now + idle timeout, renewed
/// on every save), so sessions age with the same clock as everything else.
/// The session layer saves only a changed session; a signed-in session
/// changes when its last activity is recorded, at most once a minute.
#[derive(Clone)]
pub struct DbSessionStore {
    db: Db,
    clock: Clock,
    idle: std::time::Duration,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSessionStore").finish_non_exhaustive()
    }
}

impl DbSessionStore {
    pub fn new(db: Db, clock: Clock, idle: std::time::Duration) -> Self {
        DbSessionStore { db, clock, idle }
    }

    fn expires_at(&self) -> i64 {
        self.clock.now_ms() + self.idle.as_millis() as i64
    }

    /// Removes expired sessions; returns how many.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(self.clock.now_ms())
            .execute(self.db.pool())
            .await?
            .rows_affected())
    }
}

/// The stored form of a session id (its SHA-256, hex).
pub fn key(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

impl DbSessionStore {
    /// Stores a new session under `record.id`; returns false (writing
    /// nothing) when that id is taken.
    async fn insert(&self, record: &Record) -> session_store::Result<bool> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let done = sqlx::query(
            "INSERT INTO sessions (id, user_id, data, expires_at, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(key(&record.id))
        .bind(record.data.get(USER_ID_KEY).and_then(|v| v.as_i64()))
        .bind(&data)
        .bind(self.expires_at())
        .bind(self.clock.now_ms())
        .execute(self.db.pool())
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh id until one is free (a clash of 128-bit random ids is
        // astronomically unlikely, but never overwrite someone's session).
        while !self.insert(record).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    /// Updates a stored session and renews its expiry; never inserts. A
    /// request that loaded a session which was then deleted (signed out,
    /// or ended by a password change on another device) finishes with
    /// nothing to update, so the deleted session stays deleted.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        sqlx::query("UPDATE sessions SET user_id = $2, data = $3, expires_at = $4 WHERE id = $1")
            .bind(key(&record.id))
            .bind(record.data.get(USER_ID_KEY).and_then(|v| v.as_i64()))
            .bind(&data)
            .bind(self.expires_at())
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row =
            sqlx::query("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(key(id))
                .bind(self.clock.now_ms())
                .fetch_optional(self.db.pool())
                .await
                .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get("data").map_err(backend)?;
        let expires_at: i64 = row.try_get("expires_at").map_err(backend)?;
        let data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp_nanos(expires_at as i128 * 1_000_000)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(key(id))
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}
