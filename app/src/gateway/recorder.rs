//! Writes call records together: each call hands its record over and waits
//! until it is committed; one writer task takes every record waiting at
//! that moment and commits them in one transaction. Under load many calls
//! share one commit (and one fsync), so every record is durable before its
//! call's answer ends without a transaction per call.

use super::db::{self, CallRecord};
use crate::db::Db;
use tokio::sync::{mpsc, oneshot};

/// Records one commit takes at most.
const MAX_BATCH: usize = 1_000;
/// Calls waiting for the writer at most; more wait to hand over.
const QUEUE: usize = 8_192;

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
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (records, waiting): (Vec<CallRecord>, Vec<_>) = batch.drain(..).unzip();
        let ok = match commit(&db, &records).await {
            Ok(()) => true,
            Err(err) => {
                tracing::error!(error = %err, calls = records.len(), "storing gateway call records failed");
                false
            }
        };
        for done in waiting {
            let _ = done.send(ok);
        }
    }
}

async fn commit(db: &Db, records: &[CallRecord]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    db::write_calls(&mut tx, records).await?;
    tx.commit().await
}
