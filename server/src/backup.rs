//! `fairground backup` and `fairground restore` for the embedded SQLite
//! database (README: Backup and restore). PostgreSQL has its own tools
//! (`pg_dump`, `pg_restore`); both commands say so and stop.
//!
//! A backup is `VACUUM INTO` a new file: one read transaction, so it is a
//! consistent snapshot of every commit made before it began, and the
//! serving nodes keep writing meanwhile (WAL). The copy is checked (SQLite's
//! integrity check, the audit chain) before it takes its final name.
//!
//! A restore replaces the database file, so no process may have it open:
//! every process opening the file holds `<file>.lock` shared (see
//! `app::db`), and restore takes it exclusively or refuses. The backup is
//! copied beside the database, checked there, and renamed into place; the
//! database it replaces is kept under a dated name, never deleted.

use anyhow::{bail, Context};
use app::db::{Backend, Db, DbOptions};
use std::path::{Path, PathBuf};

/// What a backup or a restore leaves, as printed.
#[derive(Debug)]
pub struct Checked {
    /// The file written.
    pub file: PathBuf,
    pub bytes: u64,
    pub audit_entries: i64,
    pub audit_head: String,
    pub usage_records: i64,
    pub gateway_calls: i64,
    /// The newest migration the copy has.
    pub schema: i64,
}

impl std::fmt::Display for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} bytes, schema {}): integrity ok; audit log OK, {} entries, head {}; {} usage records, {} gateway calls",
            self.file.display(),
            self.bytes,
            self.schema,
            self.audit_entries,
            self.audit_head,
            self.usage_records,
            self.gateway_calls
        )
    }
}

/// The SQLite file `DATABASE_URL` names, or why there is none.
fn sqlite_target(database_url: &str, command: &str) -> anyhow::Result<PathBuf> {
    match Backend::from_url(database_url) {
        Some(Backend::Postgres) => bail!(
            "DATABASE_URL is a PostgreSQL database: `fairground {command}` works on the \
             embedded SQLite file only; use pg_dump and pg_restore (README: Backup and restore)"
        ),
        Some(Backend::Sqlite) => app::db::sqlite_file(database_url)
            .with_context(|| format!("an in-memory database cannot be {command}d")),
        None => bail!("DATABASE_URL must start with sqlite: or postgres:"),
    }
}

fn url_of(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// `file` with `suffix` added to its name.
fn beside(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a SQLite file's companions (WAL, shared memory, lock file).
fn remove_companions(file: &Path) {
    for suffix in ["-wal", "-shm", ".lock"] {
        let _ = std::fs::remove_file(beside(file, suffix));
    }
}

/// Opens `file` on one connection, without migrating it.
async fn open_copy(file: &Path) -> anyhow::Result<Db> {
    let options = DbOptions {
        max_connections: 1,
        ..DbOptions::default()
    };
    Db::connect(&format!("{}?mode=rw", url_of(file)), &options)
        .await
        .with_context(|| format!("opening {}", file.display()))
}

/// Checks a copy: SQLite's integrity check, a schema this build knows, the
/// audit chain; and counts what it holds.
async fn check(file: &Path, newest_known: i64) -> anyhow::Result<Checked> {
    let db = open_copy(file).await?;
    let result = check_open(&db, file, newest_known).await;
    db.close().await;
    drop(db);
    result
}

async fn check_open(db: &Db, file: &Path, newest_known: i64) -> anyhow::Result<Checked> {
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(db.pool())
        .await
        .with_context(|| format!("{} is not a SQLite database", file.display()))?;
    if integrity != ["ok"] {
        bail!(
            "{} fails SQLite's integrity check: {}",
            file.display(),
            integrity.join("; ")
        );
    }
    let schema: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(db.pool())
        .await
        .with_context(|| format!("{} is not a Fairground database", file.display()))?;
    let schema = schema.unwrap_or(0);
    if schema > newest_known {
        bail!(
            "{} has schema {schema}, newer than this fairground knows ({newest_known}): \
             use the version that wrote it",
            file.display()
        );
    }
    let audit = app::audit::db::verify(db)
        .await
        .context("reading the audit log")?;
    if let Some(b) = audit.broken {
        bail!(
            "the audit log in {} is BROKEN at entry {}: {}",
            file.display(),
            b.seq,
            b.reason
        );
    }
    let count = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(db.pool())
            .await
            .with_context(|| format!("counting {table}"))
    };
    Ok(Checked {
        file: file.to_path_buf(),
        bytes: 0,
        audit_entries: audit.entries,
        audit_head: audit.head_hash,
        usage_records: count("usage_records").await?,
        gateway_calls: count("gateway_calls").await?,
        schema,
    })
}

/// Writes a consistent copy of the live SQLite database to `out` (never
/// over an existing file) and checks it.
pub async fn backup(database_url: &str, out: &Path, newest_known: i64) -> anyhow::Result<Checked> {
    let source = sqlite_target(database_url, "backup")?;
    if !source.is_file() {
        bail!("there is no database at {}", source.display());
    }
    if out.exists() {
        bail!("--out: {} exists; give a new file name", out.display());
    }
    let partial = beside(out, ".partial");
    remove_companions(&partial);
    let _ = std::fs::remove_file(&partial);
    // The live database, as it is: no migrations, one connection.
    let db = open_copy(&source).await?;
    let copied = sqlx::query("VACUUM INTO $1")
        .bind(partial.to_string_lossy().into_owned())
        .execute(db.pool())
        .await;
    db.close().await;
    drop(db);
    copied.with_context(|| format!("copying the database into {}", partial.display()))?;
    let checked = check(&partial, newest_known).await;
    remove_companions(&partial);
    let mut checked = match checked {
        Ok(c) => c,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err.context("the copy failed its checks and was removed"));
        }
    };
    std::fs::rename(&partial, out)
        .with_context(|| format!("naming the backup {}", out.display()))?;
    sync_dir(out);
    checked.file = out.to_path_buf();
    checked.bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(checked)
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub checked: Checked,
    /// Where the database it replaced was kept, if there was one.
    pub kept: Option<PathBuf>,
}

/// Replaces the SQLite database with the backup `from`, refusing while any
/// process has the database open.
pub async fn restore(
    database_url: &str,
    from: &Path,
    newest_known: i64,
    now_ms: i64,
) -> anyhow::Result<Restored> {
    let target = sqlite_target(database_url, "restore")?;
    if !from.is_file() {
        bail!("there is no backup at {}", from.display());
    }
    if let (Ok(a), Ok(b)) = (from.canonicalize(), target.canonicalize()) {
        if a == b {
            bail!(
                "{} is the database itself, not a backup of it",
                from.display()
            );
        }
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let lock_path = app::db::lock_file_of(&target);
    let lock = app::db::open_lock_file(&target)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "refusing to restore: {} is in use (a fairground server or command has it open); \
             stop every node using it first",
            target.display()
        ),
        Err(std::fs::TryLockError::Error(err)) => {
            return Err(err).with_context(|| format!("locking {}", lock_path.display()))
        }
    }
    // Copied beside the database (the same file system, so the last step
    // is a rename) and checked there.
    let incoming = beside(&target, ".restoring");
    remove_companions(&incoming);
    std::fs::copy(from, &incoming)
        .with_context(|| format!("copying {} to {}", from.display(), incoming.display()))?;
    let checked = check(&incoming, newest_known).await;
    remove_companions(&incoming);
    let mut checked = match checked {
        Ok(c) => c,
        Err(err) => {
            let _ = std::fs::remove_file(&incoming);
            return Err(err.context("nothing was changed"));
        }
    };
    let kept = if target.exists() {
        let stamp = app::calendar::rfc3339(now_ms).replace([':', '-'], "");
        let kept = beside(&target, &format!(".replaced-{stamp}"));
        // The WAL goes with its database, so the kept copy opens whole.
        for suffix in ["-wal", "-shm"] {
            let companion = beside(&target, suffix);
            if companion.exists() {
                std::fs::rename(&companion, beside(&kept, suffix))
                    .with_context(|| format!("keeping {}", companion.display()))?;
            }
        }
        std::fs::rename(&target, &kept)
            .with_context(|| format!("keeping the old database as {}", kept.display()))?;
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&incoming, &target)
        .with_context(|| format!("putting the backup in place at {}", target.display()))?;
    sync_dir(&target);
    checked.file = target.clone();
    checked.bytes = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    drop(lock);
    Ok(Restored { checked, kept })
}

/// Makes a rename in `file`'s directory durable.
fn sync_dir(file: &Path) {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_and_memory_databases_are_refused_with_the_way_to_go() {
        let pg = sqlite_target("postgres://u@h/db", "backup").unwrap_err();
        assert!(format!("{pg:#}").contains("pg_dump"), "{pg:#}");
        let mem = sqlite_target("sqlite::memory:", "restore").unwrap_err();
        assert!(format!("{mem:#}").contains("in-memory"), "{mem:#}");
        assert_eq!(
            sqlite_target("sqlite://data/fg.db", "backup").unwrap(),
            PathBuf::from("data/fg.db")
        );
    }
}
