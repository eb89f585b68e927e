//! Writes call records together: each call hands its record over and waits
//! until it is committed; one writer task takes every record waiting at
//! that moment and commits them in one transaction. Under load many calls
//! share one commit (and one fsync), so every record is durable before its
//! call's answer ends without a transaction per call.

use super::db::{self, CallRecord};
use crate::db::{Backend, Db};
use sqlx::pool::PoolConnection;
use sqlx::{Any, Connection};
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};

/// Records one commit takes at most.
const MAX_BATCH: usize = 1_000;
/// Calls waiting for the writer at most; more wait to hand over.
const QUEUE: usize = 8_192;
/// A key's last use is written again only this much later (ms): it is
/// shown as a date, and a row rewritten with every commit costs each
/// commit a statement and a page.
const LAST_USE_STEP_MS: i64 = 1_000;

type Waiting = (CallRecord, oneshot::Sender<bool>);

/// The handle calls use; the writer task runs as long as one exists.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Waiting>,
}

/// The record was not stored (the database failed, or the writer stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotStored;

impl Recorder {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(db: Db) -> Recorder {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(db, rx));
        Recorder { tx }
    }

    /// Stores one record; returns once it is committed.
    pub async fn store(&self, record: CallRecord) -> Result<(), NotStored> {
        crate::metrics::metrics().gateway_call(
            record.outcome,
            record.upstream_ms,
            record.overhead_us,
        );
        let (done, committed) = oneshot::channel();
        self.tx.send((record, done)).await.map_err(|_| NotStored)?;
        match committed.await {
            Ok(true) => Ok(()),
            _ => Err(NotStored),
        }
    }
}

async fn write_loop(db: Db, mut rx: mpsc::Receiver<Waiting>) {
    let mut batch: Vec<Waiting> = Vec::with_capacity(64);
    // Each key's last use as committed by this writer.
    let mut written: HashMap<i64, i64> = HashMap::new();
    // The writer keeps one of the pool's connections: taking one from the
    // pool and giving it back (which tests it with a round trip) for every
    // batch cost each call's commit. Given back after a failure, so a
    // broken connection is closed and the next batch takes another.
    let mut held: Option<Held> = None;
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (records, waiting): (Vec<CallRecord>, Vec<_>) = batch.drain(..).unzip();
        let uses = key_uses(&records, &written);
        let ok = match commit(&db, &mut held, &records, &uses).await {
            Ok(()) => {
                written.extend(uses.iter().copied());
                true
            }
            Err(err) => {
                held = None;
                tracing::error!(error = %err, calls = records.len(), "storing gateway call records failed");
                false
            }
        };
        for done in waiting {
            let _ = done.send(ok);
        }
    }
}

/// The last use of each key in `records` that moves its recorded last use
/// on by at least `LAST_USE_STEP_MS` (every key this writer has not
/// written yet).
fn key_uses(records: &[CallRecord], written: &HashMap<i64, i64>) -> Vec<(i64, i64)> {
    let mut latest: HashMap<i64, i64> = HashMap::new();
    for r in records {
        if let Some(key) = r.api_key {
            let at = latest.entry(key).or_insert(r.occurred_at);
            *at = (*at).max(r.occurred_at);
        }
    }
    let mut uses: Vec<(i64, i64)> = latest
        .into_iter()
        .filter(|(key, at)| written.get(key).is_none_or(|w| *at >= w + LAST_USE_STEP_MS))
        .collect();
    uses.sort_unstable();
    uses
}

/// A held connection idle this long is tested before a batch: the
/// database may have restarted meanwhile.
const IDLE_BEFORE_TEST: std::time::Duration = std::time::Duration::from_secs(1);

/// The writer's connection: when it was last used, and how many outages
/// the node had seen when it was taken.
struct Held {
    conn: PoolConnection<Any>,
    used: std::time::Instant,
    outages: u64,
}

async fn commit(
    db: &Db,
    held: &mut Option<Held>,
    records: &[CallRecord],
    uses: &[(i64, i64)],
) -> Result<(), sqlx::Error> {
    // A connection from before an outage is let go (while the database
    // was out of reach no call was let through, so the writer may not
    // have met the break itself), and one idle a while is tested: the
    // first batch after the database returns must not fail on a dead
    // connection.
    if let Some(h) = held {
        let stale = h.outages != db.outages()
            || (h.used.elapsed() >= IDLE_BEFORE_TEST && h.conn.ping().await.is_err());
        if stale {
            *held = None;
        }
    }
    let h = match held {
        Some(h) => h,
        None => held.insert(Held {
            outages: db.outages(),
            conn: db.pool().acquire().await?,
            used: std::time::Instant::now(),
        }),
    };
    h.used = std::time::Instant::now();
    let conn = &mut h.conn;
    let _turn = db.writer_turn().await?;
    if uses.is_empty() && db::insert_only(records) {
        return db::write_alone(conn, records).await;
    }
    let mut tx = match db.backend() {
        Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => conn.begin().await?,
    };
    db::write_calls(&mut tx, records, uses).await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(key: Option<i64>, at: i64) -> CallRecord {
        CallRecord {
            request_id: format!("r{at}"),
            subscription: 1,
            api_key: key,
            deployment: Some(1),
            fallback_from: None,
            status: 200,
            outcome: "ok",
            streamed: false,
            billable: true,
            prompt_tokens: None,
            completion_tokens: None,
            upstream_ms: 0,
            overhead_us: 0,
            occurred_at: at,
            reserved_month: None,
        }
    }

    #[test]
    fn a_keys_last_use_is_written_once_a_step() {
        let mut written = HashMap::new();
        let first = [
            call(Some(7), 5_000),
            call(Some(7), 5_400),
            call(Some(8), 5_100),
            call(None, 9_000),
        ];
        let uses = key_uses(&first, &written);
        assert_eq!(
            uses,
            vec![(7, 5_400), (8, 5_100)],
            "each key once, at its latest call"
        );
        written.extend(uses);
        // Within the step: nothing to write.
        assert!(key_uses(&[call(Some(7), 6_399), call(Some(8), 5_900)], &written).is_empty());
        // A step on (key 7) is written; key 8 still inside its step is not.
        assert_eq!(
            key_uses(&[call(Some(7), 6_400), call(Some(8), 6_099)], &written),
            vec![(7, 6_400)]
        );
    }
}
