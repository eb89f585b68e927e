//! The foundation: start-up and migrations, probes, the home page, 404s,
//! security headers, seeding, graceful shutdown and scale-out.

use crate::helpers::{api_post_as, run_cli, run_ok, App, Backend, TestDb, Visitor};
use scraper::{Html, Selector};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

crate::on_both_backends!(
    migrations_apply_on_empty_database_and_are_idempotent,
    failed_migration_stops_start_up_with_a_clear_message_and_writes_nothing,
    readyz_answers_503_while_the_database_is_unreachable,
    home_page_lists_published_listings_with_platform_badge,
    unknown_paths_get_the_404_page,
    security_headers_and_request_id_on_every_response,
    answers_are_never_cached_and_an_https_site_asks_for_https_only,
    responses_are_compressed_when_the_client_accepts_it,
    demo_seed_is_idempotent,
    sigterm_lets_in_flight_requests_finish,
    slow_and_idle_connections_are_cut_off_while_the_site_answers,
    connections_over_the_cap_are_closed_at_once,
    behind_a_trusted_proxy_limits_and_the_audit_log_see_the_client,
);

const TABLES: &[&str] = &["organisations", "base_models", "industries", "listings"];

async fn migrations_apply_on_empty_database_and_are_idempotent(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut app = App::spawn(&db).await;
    for t in TABLES {
        assert!(
            db.table_exists(t).await,
            "table {t} missing after first start"
        );
    }
    let applied = db.count("SELECT COUNT(*) FROM _sqlx_migrations").await;
    assert!(
        applied >= 2,
        "expected the migrations to be recorded, got {applied}"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM industries").await, 12);
    run_ok(&db, &["seed", "--demo"]).await;

    // Restart on the same database: nothing re-applied, nothing lost.
    app.signal(libc::SIGTERM);
    assert!(app.wait_exit(Duration::from_secs(20)).await.success());
    let app = App::spawn(&db).await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM _sqlx_migrations").await,
        applied
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM industries").await, 12);
    assert_eq!(db.count("SELECT COUNT(*) FROM listings").await, 20);
    assert_eq!(app.get("/readyz").await.status(), 200);

    // `migrate` on an up-to-date database is a no-op that succeeds.
    let out = run_ok(&db, &["migrate"]).await;
    assert!(out.contains("migrations applied"), "{out}");
    assert_eq!(
        db.count("SELECT COUNT(*) FROM _sqlx_migrations").await,
        applied
    );
}

async fn failed_migration_stops_start_up_with_a_clear_message_and_writes_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    // A table in the way makes the first migration fail half-way through.
    {
        let mut conn = db.connect().await;
        sqlx::raw_sql("CREATE TABLE listings (unrelated TEXT)")
            .execute(&mut conn)
            .await
            .expect("arrange");
    }
    let out = run_cli(&db, &["serve"]).await;
    assert!(
        !out.status.success(),
        "server must not start on a failed migration"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert!(
        stderr.contains(&format!("fairground: error: applying {name} migrations")),
        "message should name the failing step: {stderr}"
    );
    assert!(
        stderr.contains("listings"),
        "message should carry the cause: {stderr}"
    );
    assert!(out.stdout.is_empty(), "it must never report listening");
    // The migration ran in a transaction: the tables it created before the
    // failing statement are gone again.
    assert!(!db.table_exists("organisations").await);
    assert!(!db.table_exists("base_models").await);
}

async fn readyz_answers_503_while_the_database_is_unreachable(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);

    let outage = Outage::start(&db).await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["status"], "unavailable");
    // The process itself is fine.
    assert_eq!(app.get("/healthz").await.status(), 200);
    match backend {
        // Readers are not blocked by another process's write lock (WAL).
        Backend::Sqlite => assert_eq!(app.get("/").await.status(), 200),
        // Pages fail closed: 503 with Retry-After, never the cause; within
        // the node's next look at the database, the plain page at once.
        Backend::Postgres => {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                let res = app.get("/").await;
                let status = res.status().as_u16();
                let retry = res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let html = res.text().await.expect("body");
                for leak in [
                    "sqlx",
                    "pool timed out",
                    "error returned from database",
                    "not currently accepting connections",
                    "terminating connection",
                    "SQLSTATE",
                ] {
                    assert!(!html.contains(leak), "page leaks {leak:?}: {html}");
                }
                if status == 503 && html.contains("Fairground is unavailable for a moment") {
                    assert_eq!(retry.as_deref(), Some("5"));
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "no plain 503 page: {status} {html}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    outage.end().await;

    // It recovers without a restart.
    let mut ready = false;
    for _ in 0..20 {
        if app.get("/readyz").await.status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        ready,
        "readyz should return to 200 once the database is back"
    );
}

/// Makes the test database unreachable for the server until `end`.
enum Outage {
    /// Another process holds SQLite's write lock, so the server cannot write.
    Sqlite(sqlx::AnyConnection),
    /// The database refuses connections and the server's are terminated.
    Postgres(String),
}

impl Outage {
    async fn start(db: &TestDb) -> Outage {
        match db.backend {
            Backend::Sqlite => {
                let mut conn = db.connect().await;
                sqlx::raw_sql("BEGIN EXCLUSIVE")
                    .execute(&mut conn)
                    .await
                    .expect("take the write lock");
                Outage::Sqlite(conn)
            }
            Backend::Postgres => {
                let name = db.pg_name().expect("pg").to_string();
                let mut admin = crate::helpers::pg_admin().await;
                sqlx::raw_sql(&format!(
                    "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
                     SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
                ))
                .execute(&mut admin)
                .await
                .expect("cut the database off");
                Outage::Postgres(name)
            }
        }
    }

    async fn end(self) {
        match self {
            Outage::Sqlite(mut conn) => {
                sqlx::raw_sql("ROLLBACK")
                    .execute(&mut conn)
                    .await
                    .expect("rollback");
                drop(conn);
            }
            Outage::Postgres(name) => {
                let mut admin = crate::helpers::pg_admin().await;
                sqlx::raw_sql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
                    .execute(&mut admin)
                    .await
                    .expect("reopen the database");
            }
        }
    }
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("selector")
}

/// (name, has "Platform-owned" badge, text of the card) per listing card.
fn cards(html: &str) -> Vec<(String, bool, String)> {
    let doc = Html::parse_document(html);
    doc.select(&sel("ul.cards > li"))
        .map(|li| {
            let name = li
                .select(&sel("h3"))
                .next()
                .map(|h| h.text().collect::<String>())
                .unwrap_or_default();
            let badge = li
                .select(&sel(".badge"))
                .any(|b| b.text().collect::<String>().trim() == "Platform-owned");
            (name, badge, li.text().collect::<Vec<_>>().join(" "))
        })
        .collect()
}

async fn home_page_lists_published_listings_with_platform_badge(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let (status, html) = app.get_text("/").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("No listings have been published yet."),
        "{html}"
    );
    assert!(cards(&html).is_empty());

    run_ok(&db, &["seed", "--demo"]).await;
    // A draft must never show on the home page.
    {
        let mut conn = db.connect().await;
        sqlx::raw_sql(
            "INSERT INTO listings (org_id, slug, public_slug, name, tagline, industry, base_model_id, status, created_at, updated_at) \
             SELECT o.id, 'secret-draft', '~' || o.id || '~secret-draft', 'Secret Draft Model', '', 'legal', b.id, 'draft', 1, 1 \
             FROM organisations o, base_models b WHERE o.slug = 'clausewise' AND b.slug = 'terra-8b'",
        )
        .execute(&mut conn)
        .await
        .expect("insert draft");
    }
    let (status, html) = app.get_text("/").await;
    assert_eq!(status, 200);
    assert_eq!(cards(&html).len(), 12, "the home page shows the top 12");
    assert!(
        html.contains("Showing the top 12 of 20 published listings"),
        "{html}"
    );
    // The catalogue's first page holds all 20.
    let (status, html) = app.get_text("/catalogue").await;
    assert_eq!(status, 200);
    let cards = cards(&html);
    assert_eq!(cards.len(), 20, "every seeded listing is shown");
    assert!(!html.contains("Secret Draft Model"));

    let first_party: Vec<&str> = cards.iter().filter(|c| c.1).map(|c| c.0.as_str()).collect();
    let mut expected = vec![
        "Fairground Course Tutor",
        "Fairground Policy Q&A",
        "Fairground Clinical Summary",
    ];
    let mut got = first_party.clone();
    got.sort();
    expected.sort();
    assert_eq!(
        got, expected,
        "exactly the platform's listings carry the badge"
    );

    let radiology = cards
        .iter()
        .find(|c| c.0 == "Meridian Radiology Notes")
        .expect("partner card");
    assert!(!radiology.1);
    for part in ["Healthcare", "Aurora 2 70B (2026-06)", "Meridian Health AI"] {
        assert!(
            radiology.2.contains(part),
            "card shows {part}: {}",
            radiology.2
        );
    }
    // The page is the whole document, rendered on the server, with the
    // hydration entry point and the layout around it.
    let doc = Html::parse_document(&html);
    assert_eq!(
        doc.select(&sel("header nav a[href='/catalogue']")).count(),
        1
    );
    assert_eq!(doc.select(&sel("footer")).count(), 1);
    assert!(
        html.contains("/pkg/fairground.js"),
        "hydration script is referenced"
    );
}

async fn unknown_paths_get_the_404_page(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    for path in [
        "/no/such/page",
        "/listings/does-not-exist",
        "/pkg/missing.wasm",
    ] {
        let (status, html) = app.get_text(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("Page not found"), "{path}: {html}");
        let doc = Html::parse_document(&html);
        assert_eq!(
            doc.select(&sel("header nav")).count(),
            1,
            "404 keeps the layout"
        );
    }
}

async fn security_headers_and_request_id_on_every_response(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let mut nonces = Vec::new();
    // Pages rendered per request carry a fresh nonce (copies of a kept
    // catalogue page name their scripts by hash instead: `catalogue`).
    for path in ["/sign-in", "/healthz", "/nope"] {
        let res = app.get(path).await;
        let h = res.headers().clone();
        let csp = h
            .get("content-security-policy")
            .expect("csp")
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h.get("x-content-type-options").expect("nosniff"), "nosniff");
        assert_eq!(h.get("referrer-policy").expect("referrer"), "same-origin");
        assert_eq!(h.get("x-frame-options").expect("xfo"), "DENY");
        let id = h
            .get("x-request-id")
            .expect("request id")
            .to_str()
            .expect("ascii");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        if path == "/sign-in" {
            let nonce = csp
                .split("'nonce-")
                .nth(1)
                .and_then(|s| s.split('\'').next())
                .expect("nonce in csp")
                .to_string();
            let html = res.text().await.expect("body");
            let doc = Html::parse_document(&html);
            let scripts: Vec<_> = doc.select(&sel("script")).collect();
            assert!(!scripts.is_empty());
            for s in scripts {
                assert_eq!(
                    s.value().attr("nonce"),
                    Some(nonce.as_str()),
                    "every script carries the nonce"
                );
            }
            nonces.push(nonce);
        }
    }
    let second = app.get("/sign-in").await;
    let csp = second.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(!csp.contains(&nonces[0]), "nonce is fresh per response");

    // A caller's request id is kept, so logs can be joined across services.
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .expect("get");
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
}

/// Pages and answers for a signed-in person (a new API key is shown once)
/// are never kept by a browser or a shared cache; nor are anonymous ones.
/// HSTS only where the site is served over HTTPS.
async fn answers_are_never_cached_and_an_https_site_asks_for_https_only(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let v = Visitor::signed_up(&app, "cache@example.org", "Cleo Cache").await;
    let no_store = |what: &str, h: &reqwest::header::HeaderMap| {
        assert_eq!(
            h.get("cache-control").and_then(|c| c.to_str().ok()),
            Some("private, no-store"),
            "{what}"
        );
        assert!(
            h.get("strict-transport-security").is_none(),
            "{what}: HSTS over HTTP"
        );
    };
    for path in [
        "/account",
        "/orgs",
        "/org/api-keys",
        "/exports/invoices.csv",
        "/",
        "/catalogue",
        "/nope",
    ] {
        let res = v.get(path).await;
        no_store(path, res.headers());
    }
    let (status, _, headers) =
        api_post_as(&app, "/api/fn/my_orgs", v.cookie().as_deref(), &[]).await;
    assert_eq!(status, 200);
    no_store("a server function's answer", &headers);
    no_store("an anonymous page", app.get("/").await.headers());

    let https = App::spawn_with(
        &db,
        &[("FAIRGROUND_PUBLIC_URL", "https://fairground.example")],
    )
    .await;
    // Pages rendered per request carry a fresh nonce (copies of a kept
    // catalogue page name their scripts by hash instead: `catalogue`).
    for path in ["/sign-in", "/healthz", "/nope"] {
        let res = https.get(path).await;
        assert_eq!(
            res.headers()
                .get("strict-transport-security")
                .and_then(|c| c.to_str().ok()),
            Some("max-age=31536000"),
            "{path}"
        );
    }
}

async fn responses_are_compressed_when_the_client_accepts_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    run_ok(&db, &["seed", "--demo"]).await;
    for (accept, expect) in [("br", "br"), ("gzip", "gzip")] {
        let res = app
            .client
            .get(app.url("/"))
            .header("accept-encoding", accept)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap_or("")),
            Some(expect)
        );
    }
    let plain = app.get("/").await;
    assert!(plain.headers().get("content-encoding").is_none());
}

async fn demo_seed_is_idempotent(backend: Backend) {
    let db = TestDb::new(backend).await;
    let first = run_ok(&db, &["seed", "--demo"]).await;
    assert!(first.contains("20 listings added"), "{first}");
    let counts = || async {
        (
            db.count("SELECT COUNT(*) FROM organisations").await,
            db.count("SELECT COUNT(*) FROM base_models").await,
            db.count("SELECT COUNT(*) FROM listings").await,
            db.count("SELECT COUNT(*) FROM organisations WHERE kind = 'platform'")
                .await,
        )
    };
    let before = counts().await;
    assert_eq!(before, (8, 4, 20, 1));
    let second = run_ok(&db, &["seed", "--demo"]).await;
    assert!(second.contains("0 listings added"), "{second}");
    assert_eq!(counts().await, before);

    // Benchmark data adds exactly what was asked, on top.
    let out = run_ok(&db, &["seed", "--listings", "1200"]).await;
    assert!(out.contains("1200 benchmark listings added"), "{out}");
    assert_eq!(
        db.count("SELECT COUNT(*) FROM listings WHERE status = 'published'")
            .await,
        1220
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM organisations WHERE kind = 'platform'")
            .await,
        1
    );
}

/// Opens a connection and sends the head of a chunked POST to a server
/// function, holding back the body: until it arrives the request is in
/// flight.
async fn request_in_flight(app: &App) -> tokio::net::TcpStream {
    let addr = app.base_url.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/fn/home_listings HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("send head");
    stream
}

async fn sigterm_lets_in_flight_requests_finish(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut app = App::spawn(&db).await;
    // A request whose body is still arriving is in flight.
    let mut stream = request_in_flight(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.signal(libc::SIGTERM);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        app.child.try_wait().expect("poll").is_none(),
        "server waits for the in-flight request"
    );
    // New connections are no longer accepted.
    assert!(
        reqwest::get(app.url("/healthz")).await.is_err(),
        "listener is closed after SIGTERM"
    );

    stream.write_all(b"0\r\n\r\n").await.expect("finish body");
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("response in time")
    .expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"total\":0"), "{response}");
    let status = app.wait_exit(Duration::from_secs(10)).await;
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    assert!(
        app.stderr().contains("shutdown requested"),
        "{}",
        app.stderr()
    );
}

/// Two stateless app processes on one PostgreSQL database serve the same data:
/// both start (racing on migrations), and what is written is seen by both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_database_see_the_same_data() {
    let db = TestDb::new(Backend::Postgres).await;
    let (a, b) = tokio::join!(App::spawn(&db), App::spawn(&db));
    assert_ne!(a.base_url, b.base_url);
    for app in [&a, &b] {
        let (_, html) = app.get_text("/").await;
        assert!(cards(&html).is_empty());
    }
    // Both nodes built their catalogue index while it was empty; the seed
    // (a third process) moves the catalogue version, and both notice.
    run_ok(&db, &["seed", "--demo"]).await;
    let (_, html_a) = a.get_text("/catalogue").await;
    let (_, html_b) = b.get_text("/catalogue").await;
    let (ca, cb) = (cards(&html_a), cards(&html_b));
    assert_eq!(ca.len(), 20);
    assert_eq!(
        ca, cb,
        "both nodes show the same listings in the same order"
    );
}

#[tokio::test]
async fn help_lists_every_setting_and_sub_command() {
    let out = tokio::process::Command::new(crate::helpers::BIN)
        .arg("--help")
        .output()
        .await
        .expect("run");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for word in [
        "DATABASE_URL",
        "FAIRGROUND_ADDR",
        "FAIRGROUND_SITE_ROOT",
        "FAIRGROUND_DB_MAX_CONNECTIONS",
        "FAIRGROUND_LOG",
        "FAIRGROUND_SHUTDOWN_TIMEOUT_SECS",
        "serve",
        "migrate",
        "seed",
    ] {
        assert!(help.contains(word), "--help mentions {word}:\n{help}");
    }
}

/// With JSON logs, each response is one object carrying the request id, so a
/// support reference can be traced to its log lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_of_each_request() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = App::spawn_with(&db, &[("FAIRGROUND_LOG_FORMAT", "json")]).await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "support-ref-7")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let mut found = None;
    for _ in 0..20 {
        found = app
            .stderr()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["span"]["request_id"] == "support-ref-7");
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line =
        found.unwrap_or_else(|| panic!("no JSON log line for the request:\n{}", app.stderr()));
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["span"]["path"], "/healthz");
    assert_eq!(line["fields"]["status"], 200);
}

/// A request that never finishes does not hold the process hostage: after
/// FAIRGROUND_SHUTDOWN_TIMEOUT_SECS the server exits anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_up_on_stuck_requests_after_the_timeout() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut app = App::spawn_with(&db, &[("FAIRGROUND_SHUTDOWN_TIMEOUT_SECS", "1")]).await;
    let _stream = request_in_flight(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.signal(libc::SIGTERM);
    let status = app.wait_exit(Duration::from_secs(8)).await;
    assert!(status.success(), "{status}");
    assert!(
        app.stderr().contains("did not finish in time"),
        "{}",
        app.stderr()
    );
}

/// Whether the server closed `sock` within `within` (a read returns end of
/// file or an error); anything it sent before closing is returned.
async fn closed_within(sock: &mut tokio::net::TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, sock.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// With a 2-second header and body timeout: sockets that send nothing,
/// that trickle a request line byte by byte, or that trickle a body are
/// closed (the body one answered 408) within a few seconds, and all the
/// while `/healthz` answers as usual.
async fn slow_and_idle_connections_are_cut_off_while_the_site_answers(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(
        &db,
        &[
            ("FAIRGROUND_HEADER_TIMEOUT_SECS", "2"),
            ("FAIRGROUND_BODY_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    let addr = app.base_url.trim_start_matches("http://").to_string();
    let connect = || async {
        tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect")
    };
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(connect().await);
    }
    let mut trickling = Vec::new();
    for _ in 0..10 {
        let mut s = connect().await;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        trickling.push(s);
    }
    let mut slow_body = connect().await;
    slow_body
        .write_all(
            b"POST /api/fn/sign_in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=",
        )
        .await
        .expect("write");
    // Keep trickling (one header byte, one body byte, every 300 ms) while
    // the site is asked for /healthz.
    let started = tokio::time::Instant::now();
    let mut answered = 0;
    while started.elapsed() < Duration::from_secs(6) {
        for s in trickling.iter_mut() {
            let _ = s.write_all(b"X").await;
        }
        let _ = slow_body.write_all(b"a").await;
        let asked = tokio::time::Instant::now();
        let res = app
            .client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        assert_eq!(res.status(), 200);
        assert!(
            asked.elapsed() < Duration::from_secs(2),
            "healthz stayed quick"
        );
        answered += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(answered >= 10, "{answered}");
    for (i, s) in idle.iter_mut().enumerate() {
        let got = closed_within(s, Duration::from_secs(1)).await;
        assert_eq!(
            got.as_deref(),
            Some(""),
            "idle socket {i} was closed, silently"
        );
    }
    for (i, s) in trickling.iter_mut().enumerate() {
        assert!(
            closed_within(s, Duration::from_secs(1)).await.is_some(),
            "trickling socket {i} was closed"
        );
    }
    let answer = closed_within(&mut slow_body, Duration::from_secs(1))
        .await
        .unwrap_or_else(|| "(still open)".into());
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// At most FAIRGROUND_MAX_CONNECTIONS connections are served at once: one
/// more is closed at once, and when one of the open ones goes, a new one
/// is served again.
async fn connections_over_the_cap_are_closed_at_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &[("FAIRGROUND_MAX_CONNECTIONS", "4")]).await;
    let addr = app.base_url.trim_start_matches("http://").to_string();
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(
            tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect"),
        );
    }
    // Let the server accept the four before the fifth arrives.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut fifth = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let _ = fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let got = closed_within(&mut fifth, Duration::from_secs(3)).await;
    assert_eq!(got.as_deref(), Some(""), "the fifth was closed unanswered");
    // The four are served.
    let s = &mut open[0];
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let answer = closed_within(s, Duration::from_secs(3))
        .await
        .expect("answered");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(open.remove(0));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut again = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    again
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let answer = closed_within(&mut again, Duration::from_secs(3))
        .await
        .expect("answered");
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "a freed place is used again: {answer}"
    );
}

/// Failed sign-ins from `xff` (as a proxy would forward them), each with
/// another unknown email so only the per-address limit can refuse; the
/// statuses.
async fn sign_ins_from(app: &App, xff: &str, n: usize, tag: &str) -> Vec<u16> {
    let mut out = Vec::new();
    for i in 0..n {
        let res = app
            .client
            .post(app.url("/api/fn/sign_in"))
            .header("origin", &app.base_url)
            .header("accept", "application/json")
            .header("x-forwarded-for", xff)
            .form(&[
                ("email", format!("{tag}-{i}@example.org")),
                ("password", "not the password".to_string()),
            ])
            .send()
            .await
            .expect("post");
        out.push(res.status().as_u16());
    }
    out
}

/// Behind a reverse proxy every visitor used to share the proxy's
/// rate-limit bucket and be recorded as the proxy. With the proxy listed
/// as trusted, the address it forwards counts; a forged address to the
/// left of it does not; and with no trusted proxies (the default) the
/// header is ignored.
async fn behind_a_trusted_proxy_limits_and_the_audit_log_see_the_client(backend: Backend) {
    let db = TestDb::new(backend).await;
    let limits = [
        ("FAIRGROUND_AUTH_ATTEMPTS_PER_IP", "3"),
        ("FAIRGROUND_TRUSTED_PROXIES", "127.0.0.1, ::1"),
    ];
    let app = App::spawn_with(&db, &limits).await;
    assert_eq!(
        sign_ins_from(&app, "203.0.113.7", 4, "a").await,
        [422, 422, 422, 429]
    );
    // Another client behind the same proxy has its own budget, even when
    // it puts the first one's address in front of its own.
    assert_eq!(
        sign_ins_from(&app, "203.0.113.7, 198.51.100.8", 3, "b").await,
        [422, 422, 422]
    );
    let mut conn = db.connect().await;
    let ips: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT client_ip FROM audit_log WHERE action = 'user.sign_in_failed' ORDER BY client_ip",
    )
    .fetch_all(&mut conn)
    .await
    .expect("ips");
    assert_eq!(ips, ["198.51.100.8", "203.0.113.7"]);
    drop(app);

    // Not trusted: the header changes nothing; everyone is the peer.
    let other = TestDb::new(backend).await;
    let app = App::spawn_with(&other, &limits[..1]).await;
    assert_eq!(
        sign_ins_from(&app, "203.0.113.7", 3, "c").await,
        [422, 422, 422]
    );
    assert_eq!(sign_ins_from(&app, "198.51.100.8", 1, "d").await, [429]);
    let mut conn = other.connect().await;
    let ips: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT client_ip FROM audit_log WHERE action = 'user.sign_in_failed'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("ips");
    assert_eq!(ips, ["127.0.0.1"]);

    // A list that is not addresses stops the start with a message.
    let out = run_cli_with_env(&db, &[("FAIRGROUND_TRUSTED_PROXIES", "proxy.local")]).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("FAIRGROUND_TRUSTED_PROXIES"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `fairground serve` with extra environment, run to its end (it must fail
/// to start).
async fn run_cli_with_env(db: &TestDb, env: &[(&str, &str)]) -> std::process::Output {
    crate::helpers::run_cli_with(db, &["serve"], env).await
}
