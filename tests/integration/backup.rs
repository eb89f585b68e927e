//! Backup and restore: a copy taken while usage records and gateway calls
//! are being written holds every one acknowledged before it began, its
//! audit chain verifies, and a fresh server runs on it. SQLite: `fairground
//! backup` / `fairground restore` (which refuses a database in use);
//! PostgreSQL: the README's pg_dump / pg_restore commands.

use crate::builders::{
    carol_subscribes, echo_upstream, market, new_key, now_ms, offer, post_usage, record,
};
use crate::helpers::{run_cli, App, Backend, TestDb};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

crate::on_both_backends!(
    a_backup_taken_under_write_load_restores_whole_into_a_fresh_server,
    restore_refuses_a_database_in_use_and_a_damaged_backup,
);

/// A directory removed at the end of the test.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "fairground-backup-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Stops a server and waits until it has exited (and let go of the file).
async fn stop(mut app: App) {
    app.signal(libc::SIGTERM);
    app.wait_exit(Duration::from_secs(20)).await;
}

const ENV: [(&str, &str); 3] = [
    ("FAIRGROUND_GATEWAY_ALLOW_PRIVATE_UPSTREAMS", "true"),
    ("FAIRGROUND_GATEWAY_REQUESTS_PER_KEY", "100000"),
    ("FAIRGROUND_API_REQUESTS_PER_KEY", "100000"),
];

/// What a writer saw acknowledged, and when.
type Acks = Vec<(Instant, String)>;

/// Posts usage batches of ten (each record occurring at `at`) until
/// `stop`: each accepted record's idempotency key with the moment its
/// answer arrived.
fn usage_writer(
    app: &App,
    key: &str,
    sub: &str,
    at: i64,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Acks> {
    let client = app.client.clone();
    let url = app.url("/api/v1/usage");
    let (key, sub) = (key.to_string(), sub.to_string());
    tokio::spawn(async move {
        let mut acks = Vec::new();
        for batch in 0.. {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let records: Vec<Value> = (0..10)
                .map(|i| record(&format!("b{batch}-{i}"), &sub, 1, at))
                .collect();
            let res = client
                .post(&url)
                .bearer_auth(&key)
                .json(&json!({ "records": records }))
                .send()
                .await
                .expect("usage post");
            assert_eq!(res.status(), 200);
            let body: Value = res.json().await.expect("json");
            let at = Instant::now();
            for r in body["results"].as_array().expect("results") {
                assert_eq!(r["status"], "accepted", "{r}");
                acks.push((at, r["idempotency_key"].as_str().expect("key").to_string()));
            }
        }
        acks
    })
}

/// Calls the gateway until `stop`: each answered call's request id with
/// the moment its answer was read whole.
fn gateway_caller(app: &App, key: &str, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Acks> {
    let client = app.client.clone();
    let url = app.url("/gateway/v1/chat/completions");
    let key = key.to_string();
    tokio::spawn(async move {
        let mut acks = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let res = client
                .post(&url)
                .bearer_auth(&key)
                .json(&json!({"model": "triage-notes", "messages": [{"role": "user", "content": "Summarise."}]}))
                .send()
                .await
                .expect("gateway call");
            assert_eq!(res.status(), 200);
            let id = res
                .headers()
                .get("fairground-request-id")
                .and_then(|v| v.to_str().ok())
                .expect("request id")
                .to_string();
            let body: Value = res.json().await.expect("json");
            assert!(
                body["choices"][0]["message"]["content"].is_string(),
                "{body}"
            );
            acks.push((Instant::now(), id));
        }
        acks
    })
}

async fn keys_in(db: &TestDb, sql: &str) -> HashSet<String> {
    let mut conn = db.connect().await;
    let keys: Vec<String> = sqlx::query_scalar(sql)
        .fetch_all(&mut conn)
        .await
        .expect("keys");
    keys.into_iter().collect()
}

fn pg_tool(tool: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} is not installed ({e}): see README, Set-up"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ok(out: &std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn a_backup_taken_under_write_load_restores_whole_into_a_fresh_server(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &ENV).await;
    let m = market(&app, &db).await;
    let o = offer(&m).await;
    let _echo = echo_upstream(&m.alice, &o.listing, &o.deployments[0]).await;
    let sub = carol_subscribes(&m, &o).await;
    let metering_key = new_key(&m.alice, "Billing").await;
    let gateway_key = new_key(&m.carol, "Ward system").await;

    let stop = Arc::new(AtomicBool::new(false));
    let occurred = now_ms();
    let usage = usage_writer(&app, &metering_key, &sub, occurred, stop.clone());
    let calls = [
        gateway_caller(&app, &gateway_key, stop.clone()),
        gateway_caller(&app, &gateway_key, stop.clone()),
    ];
    tokio::time::sleep(Duration::from_millis(700)).await;

    // The backup, taken while both kinds of writes go on.
    let dir = Scratch::new();
    let file = dir.path().join("fairground.backup");
    let file_arg = file.to_string_lossy().into_owned();
    let began = Instant::now();
    match backend {
        Backend::Sqlite => {
            let out = run_cli(&db, &["backup", "--out", &file_arg]).await;
            let said = ok(&out, "fairground backup");
            assert!(said.contains("backup written:"), "{said}");
            assert!(said.contains("integrity ok; audit log OK"), "{said}");
        }
        Backend::Postgres => {
            pg_tool(
                "pg_dump",
                &[
                    "--format=custom",
                    "--no-owner",
                    "--file",
                    &file_arg,
                    &db.url,
                ],
            );
        }
    }
    let ended = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let usage = usage.await.expect("usage writer");
    let mut gateway: Acks = Vec::new();
    for c in calls {
        gateway.extend(c.await.expect("gateway caller"));
    }
    let before = |acks: &Acks| -> Vec<String> {
        acks.iter()
            .filter(|(at, _)| *at < began)
            .map(|(_, k)| k.clone())
            .collect()
    };
    let after = |acks: &Acks| acks.iter().filter(|(at, _)| *at > ended).count();
    let (usage_before, calls_before) = (before(&usage), before(&gateway));
    assert!(
        !usage_before.is_empty() && !calls_before.is_empty(),
        "writes were acknowledged before the backup"
    );
    assert!(
        after(&usage) > 0 && after(&gateway) > 0,
        "writes went on after the backup"
    );

    // Restored into a fresh database, served by a fresh server.
    let fresh = TestDb::new(backend).await;
    match backend {
        Backend::Sqlite => {
            let out = run_cli(&fresh, &["restore", &file_arg]).await;
            let said = ok(&out, "fairground restore");
            assert!(said.contains("restored:"), "{said}");
            assert!(said.contains("audit log OK"), "{said}");
        }
        Backend::Postgres => {
            pg_tool(
                "pg_restore",
                &[
                    "--no-owner",
                    "--exit-on-error",
                    "--dbname",
                    &fresh.url,
                    &file_arg,
                ],
            );
        }
    }
    let restored_app = App::spawn_with(&fresh, &ENV).await;
    let verified = ok(&run_cli(&fresh, &["audit", "verify"]).await, "audit verify");
    assert!(verified.starts_with("audit log OK"), "{verified}");

    let usage_there = keys_in(&fresh, "SELECT idempotency_key FROM usage_records").await;
    let calls_there = keys_in(&fresh, "SELECT request_id FROM gateway_calls").await;
    let missing_usage: Vec<_> = usage_before
        .iter()
        .filter(|k| !usage_there.contains(*k))
        .collect();
    let missing_calls: Vec<_> = calls_before
        .iter()
        .filter(|k| !calls_there.contains(*k))
        .collect();
    eprintln!(
        "backup under load ({backend:?}): {} usage records and {} gateway calls acknowledged before it began; \
         {} and {} in the copy; {} and {} in the live database",
        usage_before.len(),
        calls_before.len(),
        usage_there.len(),
        calls_there.len(),
        db.count("SELECT COUNT(*) FROM usage_records").await,
        db.count("SELECT COUNT(*) FROM gateway_calls").await,
    );
    assert!(
        missing_usage.is_empty(),
        "usage records lost: {missing_usage:?}"
    );
    assert!(
        missing_calls.is_empty(),
        "gateway calls lost: {missing_calls:?}"
    );
    // A copy, not the live database: what came after it is not there.
    assert!(
        (usage_there.len() as i64) < db.count("SELECT COUNT(*) FROM usage_records").await,
        "the copy holds fewer usage records than the live database has now"
    );

    // The restored server carries on: the same keys work, and a record
    // acknowledged before the backup is known there as a duplicate.
    let (status, body) = post_usage(
        &restored_app,
        Some(&metering_key),
        &json!({"records": [record(&usage_before[0], &sub, 1, occurred)]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["status"], "duplicate", "{body}");
    let res = restored_app
        .client
        .post(restored_app.url("/gateway/v1/chat/completions"))
        .bearer_auth(&gateway_key)
        .json(
            &json!({"model": "triage-notes", "messages": [{"role": "user", "content": "Again."}]}),
        )
        .send()
        .await
        .expect("call");
    assert_eq!(res.status(), 200);
}

async fn restore_refuses_a_database_in_use_and_a_damaged_backup(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = Scratch::new();
    let file = dir.path().join("copy.db");
    let file_arg = file.to_string_lossy().into_owned();
    if backend == Backend::Postgres {
        // The commands name the tools that do this for PostgreSQL.
        for args in [
            vec!["backup", "--out", file_arg.as_str()],
            vec!["restore", file_arg.as_str()],
        ] {
            let out = run_cli(&db, &args).await;
            assert!(!out.status.success(), "{args:?} on PostgreSQL");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("pg_dump and pg_restore"), "{err}");
        }
        assert!(!file.exists());
        return;
    }
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    drop(m);
    ok(
        &run_cli(&db, &["backup", "--out", &file_arg]).await,
        "backup",
    );
    // Never over an existing file.
    let again = run_cli(&db, &["backup", "--out", &file_arg]).await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    // While the server runs, the database is in use: refused, untouched.
    let orgs = db.count("SELECT COUNT(*) FROM organisations").await;
    let out = run_cli(&db, &["restore", &file_arg]).await;
    assert!(!out.status.success(), "restore beside a running server");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to restore") && err.contains("in use"),
        "{err}"
    );
    let (status, _) = app.get_text("/healthz").await;
    assert_eq!(status, 200);
    stop(app).await;

    // A damaged backup is refused and nothing changes.
    let damaged = dir.path().join("damaged.db");
    let mut bytes = std::fs::read(&file).expect("read");
    let half = bytes.len() / 2;
    bytes.truncate(half);
    std::fs::write(&damaged, &bytes).expect("write");
    let out = run_cli(&db, &["restore", &damaged.to_string_lossy()]).await;
    assert!(!out.status.success(), "a damaged backup was restored");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing was changed"), "{err}");
    let not_a_db = dir.path().join("notes.txt");
    std::fs::write(&not_a_db, "hello").expect("write");
    let out = run_cli(&db, &["restore", &not_a_db.to_string_lossy()]).await;
    assert!(!out.status.success(), "a text file was restored");

    // More written after the backup, then the backup restored over it:
    // the database is as it was, and the replaced one is kept.
    let app = App::spawn(&db).await;
    crate::helpers::sign_up(&app, "late@example.test", "Late Comer").await;
    stop(app).await;
    let users_after = db.count("SELECT COUNT(*) FROM users").await;
    let said = ok(&run_cli(&db, &["restore", &file_arg]).await, "restore");
    assert!(said.contains("kept as"), "{said}");
    assert_eq!(db.count("SELECT COUNT(*) FROM organisations").await, orgs);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM users").await,
        users_after - 1
    );

    // A server does not start while a restore holds the database.
    let db_file = std::path::PathBuf::from(db.url.trim_start_matches("sqlite://"));
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(app::db::lock_file_of(&db_file))
        .expect("lock file");
    lock.try_lock().expect("no one holds it now");
    let out = run_cli(&db, &["migrate"]).await;
    assert!(!out.status.success(), "opened during a restore");
    assert!(String::from_utf8_lossy(&out.stderr).contains("being restored"));
    drop(lock);
    ok(
        &run_cli(&db, &["migrate"]).await,
        "migrate after the restore",
    );
}
