//! Session lifetimes, driven by a clock the test moves: the app is served
//! in-process (same router, same state type) with a manual clock.

use crate::helpers::{Backend, TestDb};
use app::db::{Clock, Db, DbOptions};
use app::state::{AppState, RateLimits, SessionLimits};
use axum::body::Body;
use clap::Parser;
use fairground::config::Cli;
use fairground::csrf::SiteOrigin;
use http::{header, Request, StatusCode};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const MINUTE: i64 = 60_000;

/// In-process servers are built one at a time: building a router generates
/// Leptos's route list, which sets a process-wide "suppress resource loads"
/// flag while it runs; a page render in another test polling a resource for
/// the first time at that moment would wait forever (leptos issue #4773).
/// A real server builds its route list once, before it serves.
static IN_PROCESS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const HOST: &str = "fairground.test";

struct InProcess {
    router: axum::Router,
    now: Arc<AtomicI64>,
    db: Db,
}

impl InProcess {
    async fn new(test_db: &TestDb) -> InProcess {
        let db = Db::connect(&test_db.url, &DbOptions::default())
            .await
            .expect("connect");
        fairground::db::migrate(&db).await.expect("migrate");
        let now = Arc::new(AtomicI64::new(1_800_000_000_000));
        let clock = {
            let now = now.clone();
            Clock::from_fn(move || now.load(Ordering::SeqCst))
        };
        let config = Cli::parse_from(["fairground", "--database-url", &test_db.url]).config;
        let state = AppState {
            db: db.clone(),
            leptos_options: fairground::leptos_options(&config),
            clock,
            sessions: SessionLimits {
                idle: Duration::from_secs(30 * 60),
                absolute: Duration::from_secs(12 * 3600),
            },
            rate_limits: Arc::new(RateLimits::new(1000, 1000)),
            public_url: None,
            catalogue: Default::default(),
            exposure: Default::default(),
        };
        let router = fairground::http::router(state, SiteOrigin::SameHost, false);
        InProcess { router, now, db }
    }

    fn advance(&self, ms: i64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    async fn send(&self, req: Request<Body>) -> http::Response<Body> {
        let what = format!("{} {}", req.method(), req.uri());
        tokio::time::timeout(Duration::from_secs(30), self.router.clone().oneshot(req))
            .await
            .unwrap_or_else(|_| panic!("{what} did not answer within 30 s"))
            .expect("infallible")
    }

    async fn sign_up(&self) -> String {
        let body = "email=ada%40example.org&display_name=Ada&password=tangerine+orbit+cathedral+93";
        let res = self
            .send(
                Request::post("/api/fn/sign_up")
                    .header(header::HOST, HOST)
                    .header(header::ORIGIN, format!("http://{HOST}"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ACCEPT, "application/json")
                    .body(Body::from(body))
                    .expect("request"),
            )
            .await;
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "{}",
            res.status()
        );
        res.headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("fg_session="))
            .and_then(|c| c.split(';').next())
            .expect("session cookie")
            .to_string()
    }

    async fn account_status(&self, cookie: &str) -> StatusCode {
        self.send(
            Request::get("/account")
                .header(header::HOST, HOST)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .status()
    }
}

crate::on_both_backends!(
    idle_sessions_end_after_the_idle_timeout,
    sessions_end_at_the_absolute_lifetime_however_active
);

async fn idle_sessions_end_after_the_idle_timeout(backend: Backend) {
    let _one_at_a_time = IN_PROCESS.lock().await;
    let test_db = TestDb::new(backend).await;
    let app = InProcess::new(&test_db).await;
    let cookie = app.sign_up().await;
    assert_eq!(app.account_status(&cookie).await, StatusCode::OK);
    // Activity keeps it alive: 29 minutes between requests, four times.
    for _ in 0..4 {
        app.advance(29 * MINUTE);
        assert_eq!(app.account_status(&cookie).await, StatusCode::OK);
    }
    app.advance(31 * MINUTE);
    assert_eq!(
        app.account_status(&cookie).await,
        StatusCode::UNAUTHORIZED,
        "idle for 31 minutes"
    );
    app.db.close().await;
}

async fn sessions_end_at_the_absolute_lifetime_however_active(backend: Backend) {
    let _one_at_a_time = IN_PROCESS.lock().await;
    let test_db = TestDb::new(backend).await;
    let app = InProcess::new(&test_db).await;
    let cookie = app.sign_up().await;
    // A request every 20 minutes for 11 h 40 min: still signed in.
    for _ in 0..35 {
        app.advance(20 * MINUTE);
        assert_eq!(app.account_status(&cookie).await, StatusCode::OK);
    }
    app.advance(21 * MINUTE);
    assert_eq!(
        app.account_status(&cookie).await,
        StatusCode::UNAUTHORIZED,
        "12 h after sign-in"
    );
    assert_eq!(
        test_db
            .count("SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL")
            .await,
        0
    );
    app.db.close().await;
}
