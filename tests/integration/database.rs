//! The database layer itself: SQLite settings, write transactions that queue
//! instead of failing, and constraints enforced on both backends.

use crate::helpers::{Backend, TestDb};
use app::db::{Db, DbOptions};
use sqlx::Row;

crate::on_both_backends!(
    concurrent_read_then_write_transactions_all_commit,
    foreign_keys_and_the_single_platform_rule_are_enforced,
);

async fn open(db: &TestDb) -> Db {
    open_with(
        db,
        DbOptions {
            max_connections: 8,
            ..DbOptions::default()
        },
    )
    .await
}

async fn open_with(db: &TestDb, opts: DbOptions) -> Db {
    let handle = Db::connect(&db.url, &opts).await.expect("connect");
    fairground::db::migrate(&handle).await.expect("migrate");
    handle
}

/// As the serving process opens SQLite: the WAL checkpointed by a timer.
async fn open_serving(db: &TestDb, max_connections: u32) -> Db {
    open_with(
        db,
        DbOptions {
            max_connections,
            checkpoint_in_background: true,
            ..DbOptions::default()
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_connections_use_wal_busy_timeout_and_foreign_keys() {
    let test_db = TestDb::new(Backend::Sqlite).await;
    let db = open(&test_db).await;
    let mut conn = db.pool().acquire().await.expect("acquire");
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .expect("pragma")
        .try_get(0)
        .expect("text");
    assert_eq!(mode, "wal");
    let timeout: i64 = sqlx::query("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await
        .expect("pragma")
        .try_get(0)
        .expect("int");
    assert_eq!(timeout, 5000);
    let fk: i64 = sqlx::query("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .expect("pragma")
        .try_get(0)
        .expect("int");
    assert_eq!(fk, 1);
}

async fn write_orgs(db: &Db, from: usize, n: usize) {
    for i in from..from + n {
        let mut tx = db.begin_write().await.expect("begin");
        sqlx::query(
            "INSERT INTO organisations (slug, name, kind, created_at) VALUES ($1, $2, 'client', $3)",
        )
        .bind(format!("wal-org-{i}"))
        .bind("x".repeat(2_000))
        .bind(i as i64)
        .execute(&mut **tx)
        .await
        .expect("insert");
        tx.commit().await.expect("commit");
    }
}

/// The serving process's checkpoint (`Db::checkpoint`): while readers
/// keep reading, a passive checkpoint leaves the WAL as long as it was;
/// past the threshold the next commits go back to the WAL's start, so the
/// file does not grow; far past it (four times) the WAL is emptied. Every
/// committed row is still there afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_checkpoint_keeps_the_wal_bounded_under_reads() {
    let test_db = TestDb::new(Backend::Sqlite).await;
    let db = open_serving(&test_db, 8).await;
    let wal = std::path::PathBuf::from(format!(
        "{}-wal",
        test_db.url.trim_start_matches("sqlite://")
    ));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (db, stop) = (db.clone(), stop.clone());
        tokio::spawn(async move {
            let mut reads = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                sqlx::query("SELECT COUNT(*) FROM organisations")
                    .fetch_one(db.pool())
                    .await
                    .expect("read");
                reads += 1;
            }
            reads
        })
    };
    write_orgs(&db, 0, 200).await;
    let frames = db.checkpoint(i64::MAX).await.expect("passive checkpoint");
    assert!(
        frames >= 200,
        "each commit adds frames to the WAL: {frames}"
    );
    let before = std::fs::metadata(&wal).expect("the WAL exists").len();
    assert!(
        before > 400_000,
        "the WAL still holds the writes: {before} bytes"
    );
    // Past the threshold: a restart that does not wait for readers; one
    // that meets a reader in the way is tried again at the next call.
    let mut restarted_after = None;
    for attempt in 0..50 {
        db.checkpoint(frames - 1)
            .await
            .expect("checkpoint past the threshold");
        write_orgs(&db, 1_000 + attempt, 1).await;
        let now = db.checkpoint(i64::MAX).await.expect("passive checkpoint");
        if now < 20 {
            restarted_after = Some(attempt);
            break;
        }
    }
    let before = std::fs::metadata(&wal).expect("the WAL exists").len();
    assert!(
        restarted_after.is_some(),
        "the commits after a checkpoint past the threshold go back to the WAL's start"
    );
    write_orgs(&db, 2_000, 50).await;
    let after = std::fs::metadata(&wal).expect("the WAL exists").len();
    assert!(
        after <= before,
        "the WAL is written over from its start, not grown: {after} bytes (was {before})"
    );
    // Four times past the threshold: emptied, waiting for the readers.
    let frames = db.checkpoint(i64::MAX).await.expect("passive checkpoint");
    assert!(frames >= 50, "{frames}");
    db.checkpoint(frames / 4 - 1)
        .await
        .expect("checkpoint far past the threshold");
    let emptied = std::fs::metadata(&wal).expect("the WAL exists").len();
    assert_eq!(emptied, 0, "the WAL is emptied (was {after} bytes)");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.await.expect("reader") > 0);
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM organisations WHERE slug LIKE 'wal-org-%'")
        .fetch_one(db.pool())
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
    let restarts = restarted_after.expect("restarted") as i64 + 1;
    assert_eq!(n, 200 + restarts + 50);
}

/// The restart runs without a busy timeout so that it never holds writers
/// back waiting for a reader; the connection it ran on gets its timeout
/// back, so a write on it still waits for another process's lock instead
/// of failing at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_checkpoint_gives_its_connection_back_with_its_busy_timeout() {
    let test_db = TestDb::new(Backend::Sqlite).await;
    let db = open_serving(&test_db, 1).await;
    write_orgs(&db, 0, 20).await;
    let frames = db.checkpoint(i64::MAX).await.expect("passive checkpoint");
    db.checkpoint(frames - 1)
        .await
        .expect("checkpoint past the threshold");
    let mut conn = db.pool().acquire().await.expect("the one connection");
    let timeout: i64 = sqlx::query("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await
        .expect("busy timeout")
        .try_get(0)
        .expect("int");
    assert_eq!(timeout, 5_000, "the connection's busy timeout is back");
    drop(conn);
    // Another process holds the write lock for a moment; the write waits.
    let mut other = <sqlx::SqliteConnection as sqlx::Connection>::connect(&test_db.url)
        .await
        .expect("another connection");
    sqlx::Executor::execute(&mut other, "BEGIN IMMEDIATE")
        .await
        .expect("lock");
    let release = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        sqlx::Executor::execute(&mut other, "COMMIT")
            .await
            .expect("unlock");
    });
    write_orgs(&db, 100, 1).await;
    release.await.expect("released");
}

/// Each task reads, then writes, in one transaction. On SQLite a deferred
/// `BEGIN` would fail some of them with "database is locked" when they try to
/// upgrade their read lock; `begin_write` takes the lock up front so they
/// queue and every one commits.
async fn concurrent_read_then_write_transactions_all_commit(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = open(&test_db).await;
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut tx = db.begin_write().await?;
                let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM organisations")
                    .fetch_one(&mut **tx)
                    .await?
                    .try_get("n")?;
                tokio::task::yield_now().await;
                sqlx::query(
                    "INSERT INTO organisations (slug, name, kind, created_at) VALUES ($1, $2, 'client', $3)",
                )
                .bind(format!("org-{i}"))
                .bind(format!("Org {i} (saw {n})"))
                .bind(i as i64)
                .execute(&mut **tx)
                .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(())
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("transaction commits");
    }
    assert_eq!(
        test_db.count("SELECT COUNT(*) FROM organisations").await,
        24
    );
    db.close().await;
}

async fn foreign_keys_and_the_single_platform_rule_are_enforced(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = open(&test_db).await;
    let orphan = sqlx::query(
        "INSERT INTO listings (org_id, slug, name, industry, base_model_id, created_at, updated_at) \
         VALUES (999, 'orphan', 'Orphan', 'legal', 999, 1, 1)",
    )
    .execute(db.pool())
    .await;
    assert!(
        orphan.is_err(),
        "a listing must belong to an existing organisation"
    );

    let insert_platform = |slug: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query(
                "INSERT INTO organisations (slug, name, kind, created_at) VALUES ($1, $1, 'platform', 1)",
            )
            .bind(slug)
            .execute(db.pool())
            .await
        }
    };
    insert_platform("first")
        .await
        .expect("the first platform organisation");
    let second = insert_platform("second").await;
    assert!(second.is_err(), "a second platform organisation is refused");
    assert_eq!(test_db.count("SELECT COUNT(*) FROM organisations").await, 1);
    db.close().await;
}
