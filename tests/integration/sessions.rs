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

fn session_cookie_of(res: &http::Response<Body>) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("fg_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
}

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
        let state = AppState::new(app::state::StateFields {
            db: db.clone(),
            leptos_options: fairground::leptos_options(&config, &Default::default()),
            clock,
            sessions: SessionLimits {
                idle: Duration::from_secs(30 * 60),
                absolute: Duration::from_secs(12 * 3600),
            },
            rate_limits: Arc::new(RateLimits::new(1000, 1000, None)),
            public_url: None,
            catalogue: Default::default(),
            exposure: Default::default(),
            gateway: Arc::new(app::gateway::Gateway::new(
                db.clone(),
                Default::default(),
                None,
            )),
        });
        let key = fairground::db::site_key(&db, "form_errors", 0)
            .await
            .expect("key");
        let router = fairground::http::router(
            state,
            fairground::http::Surface {
                site: SiteOrigin::SameHost,
                secure_cookies: false,
                form_error_key: key,
                body_timeout: Duration::from_secs(30),
                assets: Default::default(),
                metrics_token: None,
            },
        );
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
        let res = self.post("/api/fn/sign_up", None, body).await;
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "{}",
            res.status()
        );
        session_cookie_of(&res).expect("session cookie")
    }

    fn clock(&self) -> Clock {
        let now = self.now.clone();
        Clock::from_fn(move || now.load(Ordering::SeqCst))
    }

    /// A form post to a server function, as a script on the site would.
    async fn post(&self, path: &str, cookie: Option<&str>, body: &str) -> http::Response<Body> {
        let mut req = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::ORIGIN, format!("http://{HOST}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(body.to_string())).expect("request"))
            .await
    }

    /// Signs Ada in again with `password` (form-encoded): a second session
    /// (another device).
    async fn sign_in_with(&self, password: &str) -> String {
        let res = self
            .post(
                "/api/fn/sign_in",
                None,
                &format!("email=ada%40example.org&password={password}"),
            )
            .await;
        assert!(res.status().is_success(), "{}", res.status());
        session_cookie_of(&res).expect("session cookie")
    }

    async fn account(&self, cookie: &str) -> http::Response<Body> {
        self.send(
            Request::get("/account")
                .header(header::HOST, HOST)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .expect("request"),
        )
        .await
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
    sessions_end_at_the_absolute_lifetime_however_active,
    a_session_deleted_while_a_request_of_it_is_in_flight_stays_deleted,
    busy_sessions_ended_by_a_password_change_stay_ended,
    a_signed_in_request_writes_the_session_at_most_once_a_minute,
    the_catalogue_kept_for_everyone_keeps_sign_ins_alive_and_ends_idle_ones,
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

/// The store itself: a request loads a session, the session is deleted
/// (signed out, or ended by a password change elsewhere), then the request
/// ends and saves what it loaded. Nothing may bring the row back.
async fn a_session_deleted_while_a_request_of_it_is_in_flight_stays_deleted(backend: Backend) {
    use app::auth::session_store::DbSessionStore;
    use tower_sessions::session::{Id, Record};
    use tower_sessions::SessionStore;
    let _one_at_a_time = IN_PROCESS.lock().await;
    let test_db = TestDb::new(backend).await;
    let app = InProcess::new(&test_db).await;
    app.sign_up().await;
    let user = test_db.count("SELECT id FROM users").await;
    let store = DbSessionStore::new(app.db.clone(), app.clock(), Duration::from_secs(1800));
    let mut record = Record {
        id: Id::default(),
        data: [("uid".to_string(), serde_json::json!(user))].into(),
        expiry_date: time::OffsetDateTime::now_utc(),
    };
    store.create(&mut record).await.expect("create");
    let in_flight = store.load(&record.id).await.expect("load").expect("stored");
    store.delete(&record.id).await.expect("delete");
    store.save(&in_flight).await.expect("save");
    assert!(store.load(&record.id).await.expect("load").is_none());
    // Only the sign-up's own session is left.
    assert_eq!(test_db.count("SELECT COUNT(*) FROM sessions").await, 1);
    app.db.close().await;
}

/// Over HTTP: a second device's session, busy with requests that record
/// activity, is ended by a password change on the first; once every request
/// has finished it is still ended, round after round.
async fn busy_sessions_ended_by_a_password_change_stay_ended(backend: Backend) {
    let _one_at_a_time = IN_PROCESS.lock().await;
    let test_db = TestDb::new(backend).await;
    let app = Arc::new(InProcess::new(&test_db).await);
    let mut first = app.sign_up().await;
    let passwords = ["tangerine+orbit+cathedral+93", "velvet+harbour+quantum+47"];
    for round in 0..6 {
        let second = app.sign_in_with(passwords[round % 2]).await;
        // Every request of the busy session now records activity and saves.
        app.advance(2 * MINUTE);
        let busy: Vec<_> = (0..24)
            .map(|_| {
                let (app, cookie) = (app.clone(), second.clone());
                tokio::spawn(async move { app.account(&cookie).await.status() })
            })
            .collect();
        let body = format!(
            "current_password={}&new_password={}",
            passwords[round % 2],
            passwords[(round + 1) % 2]
        );
        let res = app
            .post("/api/fn/change_password", Some(&first), &body)
            .await;
        assert!(res.status().is_success(), "round {round}: {}", res.status());
        first = session_cookie_of(&res).expect("the changer's new session");
        for b in busy {
            b.await.expect("request");
        }
        assert_eq!(
            app.account_status(&second).await,
            StatusCode::UNAUTHORIZED,
            "round {round}: the other device is still signed in"
        );
        assert_eq!(app.account_status(&first).await, StatusCode::OK);
        assert_eq!(
            test_db
                .count("SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL")
                .await,
            1,
            "round {round}: only the changer's session is left"
        );
    }
    app.db.close().await;
}

/// Signed-in pages do not write the session on every request: only when
/// the last activity is a minute old (which also renews the expiry and
/// the cookie).
async fn a_signed_in_request_writes_the_session_at_most_once_a_minute(backend: Backend) {
    let _one_at_a_time = IN_PROCESS.lock().await;
    let test_db = TestDb::new(backend).await;
    let app = InProcess::new(&test_db).await;
    let cookie = app.sign_up().await;
    let expiry = || async {
        test_db
            .count("SELECT MAX(expires_at) FROM sessions WHERE user_id IS NOT NULL")
            .await
    };
    let at_sign_in = expiry().await;
    for _ in 0..3 {
        app.advance(15_000);
        let res = app.account(&cookie).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(session_cookie_of(&res).is_none(), "no cookie re-sent");
        assert_eq!(expiry().await, at_sign_in, "no session write");
    }
    app.advance(16_000);
    let res = app.account(&cookie).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        session_cookie_of(&res).is_some(),
        "the cookie's expiry is renewed"
    );
    assert_eq!(
        expiry().await,
        at_sign_in + 61_000,
        "activity recorded a minute on"
    );
    app.db.close().await;
}

/// The catalogue is served from a page kept for everyone (`page_cache`),
/// with the viewer's menu put in: reading it is activity like any page, and
/// a sign-in idle for too long is ended there too.
async fn the_catalogue_kept_for_everyone_keeps_sign_ins_alive_and_ends_idle_ones(backend: Backend) {
    let _one_at_a_time = IN_PROCESS.lock().await;
    let test_db = TestDb::new(backend).await;
    let app = InProcess::new(&test_db).await;
    let cookie = app.sign_up().await;
    let catalogue = |cookie: Option<&str>| {
        let mut req = Request::get("/catalogue?q=triage").header(header::HOST, HOST);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let req = req.body(Body::empty()).expect("request");
        async {
            let res = app.send(req).await;
            assert_eq!(res.status(), StatusCode::OK);
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .expect("body");
            String::from_utf8(body.to_vec()).expect("utf-8")
        }
    };
    // Only the catalogue for 87 minutes, a visit every 29: still signed in
    // at the end, so each visit counted as activity. Each time the page is
    // first rendered for the signed-in person, then served to them kept.
    for _ in 0..3 {
        app.advance(29 * MINUTE);
        for _ in 0..2 {
            let page = catalogue(Some(&cookie)).await;
            assert!(page.contains(">Ada</a>"), "{page}");
            assert!(!page.contains("href=\"/sign-in\""), "{page}");
        }
        assert!(!catalogue(None).await.contains("Ada"));
    }
    assert_eq!(app.account_status(&cookie).await, StatusCode::OK);
    // Idle for 31 minutes, the page kept meanwhile by an anonymous visit:
    // the sign-in is over on the catalogue too, and everywhere after it.
    app.advance(31 * MINUTE);
    assert!(!catalogue(None).await.contains("Ada"));
    let page = catalogue(Some(&cookie)).await;
    assert!(!page.contains("Ada"), "{page}");
    assert!(page.contains("href=\"/sign-in\""), "{page}");
    // (The store refuses the expired row; the sweeper removes it later.)
    assert_eq!(app.account_status(&cookie).await, StatusCode::UNAUTHORIZED);
    app.db.close().await;
}
