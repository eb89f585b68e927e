//! Test helpers: a fresh database per test (a SQLite file in a temp dir, or a
//! new PostgreSQL database dropped afterwards), and the real `fairground`
//! binary started on port 0 against it.

use sqlx::{AnyConnection, Connection, Row};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_fairground");

/// Where the PostgreSQL half of the suite creates its databases.
pub fn pg_admin_url() -> String {
    std::env::var("FAIRGROUND_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that exists for one test and is removed when dropped.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    sqlite_dir: Option<PathBuf>,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("fairground-test-{tag}"));
                std::fs::create_dir_all(&dir).expect("create temp dir");
                TestDb {
                    backend,
                    url: format!("sqlite://{}/fairground.db", dir.display()),
                    sqlite_dir: Some(dir),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let name = format!("fairground_test_{tag}");
                let mut admin = pg_admin().await;
                sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                let _ = admin.close().await;
                TestDb {
                    backend,
                    url: pg_url_for(&name),
                    sqlite_dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// A direct connection, for arranging and inspecting state.
    pub async fn connect(&self) -> AnyConnection {
        sqlx::any::install_default_drivers();
        let url = match self.backend {
            Backend::Sqlite => format!("{}?mode=rwc", self.url),
            Backend::Postgres => self.url.clone(),
        };
        AnyConnection::connect(&url)
            .await
            .expect("connect to test database")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let mut conn = self.connect().await;
        let n = sqlx::query(sql)
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .try_get::<i64, _>(0)
            .expect("count");
        let _ = conn.close().await;
        n
    }

    pub async fn table_exists(&self, table: &str) -> bool {
        let sql = match self.backend {
            Backend::Sqlite => {
                format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'")
            }
            Backend::Postgres => format!(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = '{table}'"
            ),
        };
        self.count(&sql).await == 1
    }

    pub fn pg_name(&self) -> Option<&str> {
        self.pg_name.as_deref()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.sqlite_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = self.pg_name.take() {
            // Drop cannot await: a short-lived runtime on its own thread.
            let handle = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    let mut admin = pg_admin().await;
                    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await
                        .expect("drop test database");
                });
            });
            let _ = handle.join();
        }
    }
}

/// Connects to the PostgreSQL server, failing loudly: the Postgres half of the
/// suite must run, never be skipped.
pub async fn pg_admin() -> AnyConnection {
    sqlx::any::install_default_drivers();
    let url = pg_admin_url();
    match AnyConnection::connect(&url).await {
        Ok(c) => c,
        Err(e) => panic!(
            "PostgreSQL is unreachable at {url}: {e}. The PostgreSQL tests need a server \
             (set FAIRGROUND_TEST_PG_URL to an admin URL)."
        ),
    }
}

fn pg_url_for(db: &str) -> String {
    let admin = pg_admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{db}")
}

/// A running `fairground serve` process.
pub struct App {
    pub child: Child,
    pub base_url: String,
    /// The database it serves, for reading what it sent (the outbox).
    db_url: String,
    stderr: Arc<Mutex<String>>,
    pub client: reqwest::Client,
    /// What it printed before its address (say, the metrics' own address).
    pub announced: Vec<String>,
}

impl App {
    pub async fn spawn(db: &TestDb) -> App {
        App::spawn_with(db, &[]).await
    }

    /// Starts the server with extra environment; panics (with the server's
    /// stderr) if it does not report its address within 60 s.
    pub async fn spawn_with(db: &TestDb, env: &[(&str, &str)]) -> App {
        let mut cmd = server_command(db, env);
        cmd.arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start fairground");
        let stderr = collect(child.stderr.take().expect("stderr"));
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut announced = Vec::new();
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("fairground listening on ") {
                    return Some(url.trim().to_string());
                }
                announced.push(line);
            }
            None
        })
        .await;
        let base_url = match addr {
            Ok(Some(url)) => url,
            _ => {
                let _ = child.kill().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!(
                    "fairground did not start; stderr:\n{}",
                    stderr.lock().unwrap_or_else(|e| e.into_inner())
                );
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        App {
            child,
            base_url,
            db_url: match db.backend {
                Backend::Sqlite => format!("{}?mode=rwc", db.url),
                Backend::Postgres => db.url.clone(),
            },
            stderr,
            client: client(),
            announced,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// The token of the newest address-confirmation link sent to `email`
    /// (read from the outbox, as a mailbox would receive it).
    pub async fn confirmation_token(&self, email: &str) -> String {
        sqlx::any::install_default_drivers();
        let mut conn = AnyConnection::connect(&self.db_url).await.expect("connect");
        let bodies: Vec<String> =
            sqlx::query_scalar("SELECT body FROM outbox WHERE to_email = $1 ORDER BY id DESC")
                .bind(email.trim().to_lowercase())
                .fetch_all(&mut conn)
                .await
                .expect("outbox");
        let _ = conn.close().await;
        bodies
            .iter()
            .find_map(|b| b.split("/verify-email/").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no confirmation link was sent to {email}"))
            .to_string()
    }

    /// Confirms `email` the way its owner would: the newest link sent to
    /// it, used through the page's button.
    pub async fn confirm_email(&self, email: &str) {
        let token = self.confirmation_token(email).await;
        let (status, body, _) = api_post(self, "/api/fn/verify_email", &[("token", &token)]).await;
        assert_eq!(status, 200, "confirming {email}: {body}");
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_text(&self, path: &str) -> (reqwest::StatusCode, String) {
        let res = self.get(path).await;
        let status = res.status();
        (status, res.text().await.expect("body"))
    }

    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn pid(&self) -> i32 {
        self.child.id().expect("running") as i32
    }

    /// Sends a signal (SIGTERM, SIGINT) to the server.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid with a valid signal number.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill({sig}) failed");
    }

    pub async fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "server did not exit within {within:?}; stderr:\n{}",
                    self.stderr()
                )
            })
            .expect("wait")
    }
}

/// An HTTP client that keeps no cookies yet, follows no redirects and does
/// not decompress, so tests see exactly what the server sent.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_gzip()
        .no_brotli()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn server_command(db: &TestDb, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("FAIRGROUND_ADDR", "127.0.0.1:0")
        .env(
            "FAIRGROUND_SITE_ROOT",
            std::env::temp_dir().join("fairground-no-site"),
        )
        .env("FAIRGROUND_DB_ACQUIRE_TIMEOUT_SECS", "2")
        .env("FAIRGROUND_LOG", "info,sqlx=warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs a one-shot sub-command (`migrate`, `seed --demo`, ...) to completion.
pub async fn run_cli(db: &TestDb, args: &[&str]) -> std::process::Output {
    run_cli_with(db, args, &[]).await
}

/// `run_cli` with extra environment.
pub async fn run_cli_with(
    db: &TestDb,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = server_command(db, env);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("command timed out")
        .expect("run fairground")
}

/// Like `run_cli`, but the command must succeed.
pub async fn run_ok(db: &TestDb, args: &[&str]) -> String {
    let out = run_cli(db, args).await;
    assert!(
        out.status.success(),
        "fairground {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn collect(stream: tokio::process::ChildStderr) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let sink = buf.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut b = sink.lock().unwrap_or_else(|e| e.into_inner());
            b.push_str(&line);
            b.push('\n');
        }
    });
    buf
}

/// Generates one `#[tokio::test]` per backend for each listed async
/// `fn(Backend)`, in modules `sqlite` and `postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            )*
        }
    };
}

/// A password that meets the rules, for test accounts.
pub const PASSWORD: &str = "tangerine orbit cathedral 93";

/// The session cookie's `name=value` from a response, if it set one.
pub fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.contains("fg_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// A form post as a browser without JavaScript sends it: same-site Origin
/// and Referer, HTML accepted, so errors come back as a redirect.
pub async fn form_post(
    app: &App,
    path: &str,
    from_page: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(path))
        .header("origin", &app.base_url)
        .header(reqwest::header::REFERER, app.url(from_page))
        .header(reqwest::header::ACCEPT, "text/html,application/xhtml+xml")
        .form(fields);
    if let Some(c) = cookie {
        req = req.header(reqwest::header::COOKIE, c);
    }
    req.send().await.expect("post")
}

/// A server function called as a script calls it: JSON back, status = the
/// error's. Returns (status, body, headers).
pub async fn api_post_as(
    app: &App,
    path: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
    let mut req = app
        .client
        .post(app.url(path))
        .header("origin", &app.base_url)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(fields);
    if let Some(c) = cookie {
        req = req.header(reqwest::header::COOKIE, c);
    }
    let res = req.send().await.expect("post");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or(serde_json::Value::Null);
    (status, body, headers)
}

/// `api_post_as` with no session.
pub async fn api_post(
    app: &App,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
    api_post_as(app, path, None, fields).await
}

/// Signs up through the form and returns the session cookie.
pub async fn sign_up(app: &App, email: &str, name: &str) -> String {
    let res = form_post(
        app,
        "/api/fn/sign_up",
        "/sign-up",
        None,
        &[
            ("email", email),
            ("display_name", name),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), 302, "sign-up of {email}");
    assert_eq!(res.headers()[reqwest::header::LOCATION], "/account");
    session_cookie(res.headers()).expect("signed in after sign-up")
}

/// The audit log's actions, in order.
pub async fn audit_actions(db: &TestDb) -> Vec<String> {
    let mut conn = db.connect().await;
    sqlx::query_scalar::<_, String>("SELECT action FROM audit_log ORDER BY seq")
        .fetch_all(&mut conn)
        .await
        .expect("audit")
}

/// One browser: keeps its session cookie and follows rotations (a new
/// session id at sign-in, organisation switch, ...), like a real one does.
pub struct Visitor<'a> {
    pub app: &'a App,
    cookie: Mutex<Option<String>>,
}

impl<'a> Visitor<'a> {
    pub fn new(app: &'a App) -> Visitor<'a> {
        Visitor {
            app,
            cookie: Mutex::new(None),
        }
    }

    /// A browser holding an existing session cookie.
    pub fn with_cookie(app: &'a App, cookie: &str) -> Visitor<'a> {
        Visitor {
            app,
            cookie: Mutex::new(Some(cookie.to_string())),
        }
    }

    pub async fn signed_up(app: &'a App, email: &str, name: &str) -> Visitor<'a> {
        let v = Visitor::new(app);
        *v.cookie.lock().unwrap_or_else(|e| e.into_inner()) = Some(sign_up(app, email, name).await);
        v
    }

    pub fn cookie(&self) -> Option<String> {
        self.cookie
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn keep(&self, headers: &reqwest::header::HeaderMap) {
        if let Some(c) = session_cookie(headers) {
            *self.cookie.lock().unwrap_or_else(|e| e.into_inner()) = Some(c);
        }
    }

    /// Calls a server function as a script would: (status, JSON body).
    pub async fn call(&self, path: &str, fields: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let (status, body, headers) =
            api_post_as(self.app, path, self.cookie().as_deref(), fields).await;
        self.keep(&headers);
        (status, body)
    }

    /// Posts a form as a browser without JavaScript would.
    pub async fn form(
        &self,
        path: &str,
        from_page: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let res = form_post(self.app, path, from_page, self.cookie().as_deref(), fields).await;
        self.keep(res.headers());
        res
    }

    /// A page's text, which must have answered 200.
    pub async fn page(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        res.text().await.expect("body")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let mut req = self.app.client.get(self.app.url(path));
        if let Some(c) = self.cookie() {
            req = req.header(reqwest::header::COOKIE, c);
        }
        let res = req.send().await.expect("get");
        self.keep(res.headers());
        res
    }
}

/// The current 30-second step of two-step sign-in codes.
pub fn totp_step_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        / 30
}

/// The six-digit code of `secret` (base32, as the account page shows it)
/// for `step`, computed here from RFC 6238 and RFC 4226 (HMAC-SHA1, dynamic
/// truncation), independently of the server's implementation.
pub fn totp_code(secret: &str, step: i64) -> String {
    use hmac::Mac as _;
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut n = 0;
    let mut key = Vec::new();
    for c in secret.chars().filter(|c| *c != '=' && !c.is_whitespace()) {
        let v = ALPHABET
            .find(c.to_ascii_uppercase())
            .expect("a base32 secret") as u64;
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            key.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).expect("any key length");
    mac.update(&(step as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!("{:06}", bin % 1_000_000)
}

/// Steps already used per secret in this test process: a code is accepted
/// once, so each use takes a later step (the server accepts one step ahead).
static USED_STEPS: Mutex<Vec<(String, i64)>> = Mutex::new(Vec::new());

/// A code of `secret` that has not been used yet, waiting for the next
/// step when both the current and the next one are used.
pub async fn fresh_totp_code(secret: &str) -> String {
    loop {
        let now = totp_step_now();
        let step = {
            let mut used = USED_STEPS.lock().unwrap_or_else(|e| e.into_inner());
            let last = used
                .iter()
                .filter(|(s, _)| s == secret)
                .map(|(_, n)| *n)
                .max();
            let step = match last {
                Some(l) if l > now => None,
                Some(l) if l >= now => Some(now + 1),
                _ => Some(now),
            };
            if let Some(step) = step {
                used.push((secret.to_string(), step));
            }
            step
        };
        match step {
            Some(step) => return totp_code(secret, step),
            None => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

impl<'a> Visitor<'a> {
    /// Turns on two-step sign-in from the account page's server functions;
    /// the secret (for later codes) and the ten recovery codes.
    pub async fn enable_two_step(&self) -> (String, Vec<String>) {
        let (status, body) = self.call("/api/fn/begin_two_step", &[]).await;
        assert_eq!(status, 200, "{body}");
        let (status, view) = self.call("/api/fn/two_step", &[]).await;
        assert_eq!(status, 200, "{view}");
        let secret = view["setup"]["secret"]
            .as_str()
            .expect("a secret to set up with")
            .to_string();
        let code = fresh_totp_code(&secret).await;
        let (status, body) = self
            .call("/api/fn/confirm_two_step", &[("code", &code)])
            .await;
        assert_eq!(status, 200, "{body}");
        let (_, view) = self.call("/api/fn/two_step", &[]).await;
        let codes = view["new_codes"]
            .as_array()
            .expect("recovery codes")
            .iter()
            .map(|c| c.as_str().expect("code").to_string())
            .collect();
        (secret, codes)
    }

    /// A new browser signed in as `email` with the password and, when the
    /// account asks for one, a fresh code of `secret`.
    pub async fn signed_in(app: &'a App, email: &str, secret: Option<&str>) -> Visitor<'a> {
        let v = Visitor::new(app);
        let (status, body) = v
            .call(
                "/api/fn/sign_in",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(status, 200, "sign in {email}: {body}");
        if body["second_step"] == true {
            let code = fresh_totp_code(secret.expect("the account's two-step secret")).await;
            let (status, body) = v.call("/api/fn/sign_in_code", &[("code", &code)]).await;
            assert_eq!(status, 200, "code for {email}: {body}");
        }
        v
    }
}

/// A TCP relay to a service (Redis, PostgreSQL) that a test can cut, as a
/// network failure would: every open connection is closed and new ones
/// are closed as soon as they arrive, until it is mended.
pub struct Relay {
    pub addr: std::net::SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    pub async fn to(target: &str) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("relay bind");
        let addr = listener.local_addr().expect("relay addr");
        let (cut, watching) = tokio::sync::watch::channel(false);
        let target = target.to_string();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *watching.borrow() {
                    continue;
                }
                let target = target.clone();
                let mut cut = watching.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        Relay { addr, cut }
    }

    pub fn cut(&self) {
        let _ = self.cut.send(true);
    }

    pub fn mend(&self) {
        let _ = self.cut.send(false);
    }
}
