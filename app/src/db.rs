//! The database handle shared by every capability.
//!
//! One code path serves SQLite and PostgreSQL through sqlx's `Any` driver:
//! queries use `$1`-style placeholders (both backends accept them), integers
//! are `i64`, timestamps are UTC milliseconds since the epoch in a BIGINT, and
//! flags are text or integers. What differs per backend lives here and in the
//! per-backend migration folders.

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A PostgreSQL connection idle this long is tested before it is used.
const IDLE_BEFORE_TEST: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// SQLite only: how long a statement waits for a lock before failing.
    pub busy_timeout: Duration,
    /// SQLite only: commits never checkpoint the WAL themselves; the
    /// serving process calls `checkpoint` on a timer instead, so no commit
    /// (and no request waiting for one) pays for copying pages back.
    pub checkpoint_in_background: bool,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
            checkpoint_in_background: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("DATABASE_URL must start with sqlite: or postgres: (got {0:?})")]
    UnsupportedUrl(String),
    #[error("could not create the directory for the SQLite file {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the SQLite file {path} is being restored (its lock file {path}.lock is held \
         exclusively by `fairground restore`); start again once the restore has finished"
    )]
    BeingRestored { path: String },
    #[error("could not open the lock file {path}.lock beside the SQLite file: {source}")]
    LockFile {
        path: String,
        source: std::io::Error,
    },
    #[error("could not connect to the {backend} database: {source}")]
    Connect {
        backend: &'static str,
        source: sqlx::Error,
    },
}

/// A pool on one backend. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time. Writers of this process queue here,
    /// first come first served, instead of in SQLite's busy handler, which
    /// sleeps in growing steps (up to 100 ms) and turned a few contended
    /// writes into long tails.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// How long a writer waits for its turn, as for SQLite's busy timeout.
    turn_timeout: Duration,
    /// SQLite file: a shared lock on `<file>.lock`, held while this handle
    /// (or a clone) lives, so `fairground restore` (which takes it
    /// exclusively) never replaces a file a server or command has open.
    _in_use: Option<Arc<std::fs::File>>,
    /// Set while the database is known to be out of reach (see
    /// `watch_health`): requests that need it are answered 503 at once.
    down: Arc<std::sync::atomic::AtomicBool>,
    /// How many times the database was found out of reach: a connection
    /// held across an outage (the gateway's writer keeps one) is let go.
    outages: Arc<std::sync::atomic::AtomicU64>,
}

/// A write transaction; on SQLite it also holds this process's writer
/// turn until it is committed, rolled back or dropped.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Db {
    /// Connects to `url`; a SQLite file (and its directory) is created when
    /// missing. The URL is never logged: it may carry a password.
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Db, ConnectError> {
        sqlx::any::install_default_drivers();
        let backend =
            Backend::from_url(url).ok_or_else(|| ConnectError::UnsupportedUrl(redact_url(url)))?;
        let (url, in_use) = match backend {
            Backend::Sqlite => {
                let url = prepare_sqlite_url(url)?;
                let in_use = match sqlite_file(&url) {
                    Some(path) => Some(Arc::new(hold_shared(&path)?)),
                    None => None,
                };
                (url, in_use)
            }
            Backend::Postgres => (url.to_string(), None),
        };
        // WAL lets readers run beside the single writer; the busy timeout makes
        // a second writer wait instead of failing.
        let pragmas: Arc<str> = format!(
            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = {}; \
             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;{}",
            opts.busy_timeout.as_millis(),
            if opts.checkpoint_in_background {
                " PRAGMA wal_autocheckpoint = 0;"
            } else {
                ""
            }
        )
        .into();
        let pool = AnyPoolOptions::new()
            .max_connections(opts.max_connections)
            .acquire_timeout(opts.acquire_timeout)
            // sqlx can test a pooled connection with a round trip before
            // each use. A SQLite connection is a file this process holds
            // open and cannot be cut off; there the test is a hand-over to
            // the connection's thread and back, and it doubled the thread
            // switches of every query. A PostgreSQL connection can be (a
            // restarted server), but the pool already tests each one as it
            // is released, so one that failed a query never comes back;
            // what is left to test is a connection that sat idle, where the
            // round trip is not on a busy path. A busy connection is not
            // tested again (a round trip to the server per query, a third
            // of a gateway call's database time).
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                Box::pin(async move {
                    if backend == Backend::Postgres && meta.idle_for >= IDLE_BEFORE_TEST {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| {
                let pragmas = pragmas.clone();
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(&*pragmas).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|source| ConnectError::Connect {
                backend: backend.name(),
                source,
            })?;
        Ok(Db {
            pool,
            backend,
            writer: Arc::default(),
            turn_timeout: opts.busy_timeout,
            _in_use: in_use,
            down: Arc::default(),
            outages: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// SQLite: copies what the WAL holds back into the database file as far
    /// as readers allow, without blocking writers (a passive checkpoint).
    /// Under steady reads and writes a passive checkpoint never gets the
    /// WAL back to its start (some reader always holds a snapshot in it),
    /// so it would grow without end (hundreds of MB a minute under gateway
    /// load). Past `restart_above` frames this process's writers are held
    /// back for a moment while a second checkpoint copies what came since
    /// and sends the next commit back to the WAL's start (a restart), if no
    /// reader holds an older snapshot at that instant: it does not wait for
    /// readers, so a restart that cannot happen now is tried at the next
    /// call. The file keeps its length and is written over from its start,
    /// not cut and grown again (cutting it cost commits several
    /// milliseconds each time). Should restarts keep missing until the WAL
    /// holds four times `restart_above`, this call waits for the readers
    /// and empties the file, as a bound.
    /// Returns the frames the WAL held. Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self, restart_above: i64) -> Result<i64, sqlx::Error> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        let row: AnyRow = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&self.pool)
            .await?;
        // (busy, frames in the WAL, frames copied back)
        let frames: i64 = sqlx::Row::try_get(&row, 1)?;
        if frames <= restart_above {
            return Ok(frames);
        }
        // In this process's writer turn: writers wait on it and go on the
        // moment it ends, instead of meeting the lock inside SQLite and
        // sleeping in its busy handler's coarse steps (tens of ms).
        let _turn = self.turn().await?;
        let mut conn = self.pool.acquire().await?;
        if frames > restart_above.saturating_mul(4) {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *conn)
                .await?;
            return Ok(frames);
        }
        // Without a busy timeout the restart gives up at once where a
        // reader is in the way, instead of holding the writers back.
        conn.execute("PRAGMA busy_timeout = 0").await?;
        let restarted = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
            .execute(&mut *conn)
            .await;
        let restored = conn
            .execute(&*format!(
                "PRAGMA busy_timeout = {}",
                self.turn_timeout.as_millis()
            ))
            .await;
        if restarted.is_err() || restored.is_err() {
            // Never hand a connection without its busy timeout back to
            // the pool: close it.
            drop(conn.detach());
        }
        restarted?;
        restored?;
        Ok(frames)
    }

    /// Whether the database is known to be out of reach right now.
    pub fn is_down(&self) -> bool {
        self.down.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records whether the database answered a check (the node's watch,
    /// or `/readyz`), with one log line when that changes.
    pub fn mark_answered(&self, answered: bool) {
        let was_down = self
            .down
            .swap(!answered, std::sync::atomic::Ordering::Relaxed);
        if !answered && !was_down {
            self.outages
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!("the database is out of reach: pages, the metering API and the gateway answer 503 until it answers again");
        } else if answered && was_down {
            tracing::info!("the database answers again: serving");
        }
    }

    /// How many outages this node has seen (see `mark_answered`).
    pub fn outages(&self) -> u64 {
        self.outages.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it waits for this process's
    /// writer turn, then takes the write lock up front (`BEGIN IMMEDIATE`),
    /// so writers queue instead of one failing half-way when it upgrades a
    /// read lock (another process, such as a CLI command, still meets the
    /// busy timeout).
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                let turn = self.turn().await?;
                Ok(WriteTx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                })
            }
            Backend::Postgres => Ok(WriteTx {
                tx: self.pool.begin().await?,
                _turn: None,
            }),
        }
    }

    /// This process's writer turn on SQLite (as `begin_write` takes it),
    /// for a writer on a connection of its own; nothing on PostgreSQL.
    pub async fn writer_turn(
        &self,
    ) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => Ok(Some(self.turn().await?)),
            Backend::Postgres => Ok(None),
        }
    }

    /// Waits for this process's writer turn, as long as SQLite's busy
    /// timeout would.
    async fn turn(&self) -> Result<tokio::sync::OwnedMutexGuard<()>, sqlx::Error> {
        let asked = std::time::Instant::now();
        let turn = tokio::time::timeout(self.turn_timeout, self.writer.clone().lock_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut);
        crate::metrics::metrics().sqlite_writer_wait(asked.elapsed());
        turn
    }

    /// Readiness: the database answers and has been migrated. On SQLite the
    /// check also takes (and releases) the write lock, since a file the app
    /// cannot write to cannot serve it.
    pub async fn ping(&self) -> Result<i64, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let row: AnyRow = sqlx::query("SELECT COUNT(*) AS n FROM _sqlx_migrations")
            .fetch_one(&mut **tx)
            .await?;
        tx.rollback().await?;
        sqlx::Row::try_get::<i64, _>(&row, "n")
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A shared clock, so tests and seeds can control "now".
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    pub fn system() -> Clock {
        Clock(Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        }))
    }

    /// A clock read from `f`, e.g. one a test moves forward.
    pub fn from_fn(f: impl Fn() -> i64 + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(f))
    }

    /// Milliseconds since the Unix epoch, UTC.
    pub fn now_ms(&self) -> i64 {
        (self.0)()
    }
}

/// Whether an error means the database is out of reach (down, cut off,
/// or every connection busy past the wait), rather than a failed query.
pub fn out_of_reach(err: &sqlx::Error) -> bool {
    matches!(
        err,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    )
}

/// The file a SQLite URL names; None for an in-memory database.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    let memory = path.is_empty() || path == ":memory:" || rest.contains("mode=memory");
    (!memory).then(|| std::path::PathBuf::from(path))
}

/// The lock file beside a SQLite file: shared by every process using the
/// database, exclusive while `fairground restore` replaces it.
pub fn lock_file_of(db_file: &std::path::Path) -> std::path::PathBuf {
    let mut name = db_file.as_os_str().to_owned();
    name.push(".lock");
    std::path::PathBuf::from(name)
}

/// Opens (creating) the lock file beside a SQLite file, unlocked.
pub fn open_lock_file(db_file: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_file_of(db_file))
}

/// Opens (creating) the lock file and takes it shared.
fn hold_shared(db_file: &std::path::Path) -> Result<std::fs::File, ConnectError> {
    let shown = db_file.display().to_string();
    let file = open_lock_file(db_file).map_err(|source| ConnectError::LockFile {
        path: shown.clone(),
        source,
    })?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ConnectError::BeingRestored { path: shown }),
        Err(std::fs::TryLockError::Error(source)) => Err(ConnectError::LockFile {
            path: shown,
            source,
        }),
    }
}

/// Adds `mode=rwc` (create when missing) and creates the file's directory.
fn prepare_sqlite_url(url: &str) -> Result<String, ConnectError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" && !path.is_empty() {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|source| ConnectError::CreateDir {
                    path: path.to_string(),
                    source,
                })?;
            }
        }
    }
    let query = if query.split('&').any(|kv| kv.starts_with("mode=")) {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// The URL with any password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_url_gets_create_mode_once() {
        let dir = std::env::temp_dir().join(format!("fg-url-{}", std::process::id()));
        let url = format!("sqlite://{}/x.db", dir.display());
        let prepared = prepare_sqlite_url(&url).unwrap();
        assert!(prepared.ends_with("/x.db?mode=rwc"), "{prepared}");
        assert!(dir.is_dir());
        let kept = prepare_sqlite_url(&format!("sqlite://{}/x.db?mode=ro", dir.display())).unwrap();
        assert!(kept.ends_with("?mode=ro"), "{kept}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_file_of_a_sqlite_url_and_its_lock_file() {
        use std::path::PathBuf;
        assert_eq!(
            sqlite_file("sqlite://data/fg.db?mode=rwc"),
            Some(PathBuf::from("data/fg.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///tmp/a b/fg.db"),
            Some(PathBuf::from("/tmp/a b/fg.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://:memory:?mode=rwc"), None);
        assert_eq!(sqlite_file("sqlite://x.db?mode=memory"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
        assert_eq!(
            lock_file_of(std::path::Path::new("data/fg.db")),
            PathBuf::from("data/fg.db.lock")
        );
    }

    #[test]
    fn redacts_password_but_keeps_user_and_host() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.internal:5432/fg"),
            "postgres://app:***@db.internal:5432/fg"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[test]
    fn backend_from_url() {
        assert_eq!(Backend::from_url("sqlite://a.db"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("postgresql://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://h/db"), None);
    }
}

/// A unique key of the schema as each backend names it in a violation:
/// PostgreSQL names the constraint, SQLite the column (the last one of a
/// composite key).
#[derive(Debug, Clone, Copy)]
pub struct UniqueKey {
    pub pg_constraint: &'static str,
    pub sqlite_column: &'static str,
}

impl UniqueKey {
    pub const fn new(pg_constraint: &'static str, sqlite_column: &'static str) -> UniqueKey {
        UniqueKey {
            pg_constraint,
            sqlite_column,
        }
    }

    /// Whether `e` is a violation of this key.
    pub fn violated_by(self, e: &sqlx::Error) -> bool {
        let sqlx::Error::Database(d) = e else {
            return false;
        };
        if d.kind() != sqlx::error::ErrorKind::UniqueViolation {
            return false;
        }
        match d.constraint() {
            Some(c) => c == self.pg_constraint,
            // SQLite reports no constraint name; its message names the columns.
            None => d.message().ends_with(self.sqlite_column),
        }
    }
}

/// Turns a violation of one of `keys` into `err` (a field error, usually)
/// and any other database error into the usual `AppError`:
/// `insert(…).await.map_err(on_unique(&[KEY], || AppError::field(…)))?`.
pub fn on_unique(
    keys: &'static [UniqueKey],
    err: impl FnOnce() -> crate::error::AppError,
) -> impl FnOnce(sqlx::Error) -> crate::error::AppError {
    move |e| {
        if keys.iter().any(|k| k.violated_by(&e)) {
            err()
        } else {
            e.into()
        }
    }
}
