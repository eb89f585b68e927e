//! Mail: with SMTP set up, the outbox is delivered to a local SMTP server
//! (aiosmtpd, from PyPI, installed by the set-up script): invitations and
//! notifications reach the right recipients once, with their subject and
//! a link that works; a refused message is tried again later; with two
//! nodes on one database each message is still sent once.

use crate::builders::{alice_publishes, invite, market};
use crate::helpers::{App, Backend, TestDb, Visitor};
use serde_json::Value;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

crate::on_both_backends!(
    invitations_and_notices_reach_their_recipients_once_with_links_that_work,
    a_message_the_server_refuses_is_tried_again_later,
);

const FROM: &str = "Fairground <mail@fairground.test>";

/// The SMTP server the tests deliver to: every message it took.
struct Sink {
    port: u16,
    messages: Arc<Mutex<Vec<Value>>>,
    _child: tokio::process::Child,
}

impl Sink {
    /// Starts the sink; the first `fail_first` messages are refused (451).
    async fn start(fail_first: usize) -> Sink {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let python = format!("{root}/target/tools-venv/bin/python");
        assert!(
            std::path::Path::new(&python).exists(),
            "{python} is missing: run server/scripts/setup.sh (it installs aiosmtpd)"
        );
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
        let mut child = tokio::process::Command::new(&python)
            .arg(format!("{root}/tests/integration/smtp_sink.py"))
            .arg(port.to_string())
            .env("FAIL_FIRST", fail_first.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP sink");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the SMTP sink did not start")
            .expect("read")
            .unwrap_or_default();
        assert_eq!(ready, "ready");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = messages.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().unwrap_or_else(|e| e.into_inner()).push(v);
                }
            }
        });
        Sink {
            port,
            messages,
            _child: child,
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "FAIRGROUND_SMTP_URL",
                format!("smtp://127.0.0.1:{}", self.port),
            ),
            ("FAIRGROUND_MAIL_FROM", FROM.to_string()),
            ("FAIRGROUND_MAIL_EVERY_MS", "100".to_string()),
            ("FAIRGROUND_MAIL_RETRY_SECS", "1".to_string()),
        ]
    }

    /// The messages delivered (not refused) so far.
    fn delivered(&self) -> Vec<Value> {
        self.messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|m| m.get("from").is_some())
            .cloned()
            .collect()
    }

    fn refused(&self) -> usize {
        self.messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|m| m.get("refused").is_some())
            .count()
    }

    /// Waits until a message to `to` whose subject contains `subject` has
    /// arrived; it.
    async fn wait_for(&self, to: &str, subject: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(m) = self.delivered().into_iter().find(|m| {
                m["to"] == serde_json::json!([to])
                    && m["subject"].as_str().is_some_and(|s| s.contains(subject))
            }) {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "no message to {to} about {subject:?}; got {:#?}",
                self.delivered()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn spawn(db: &TestDb, env: &[(&'static str, String)]) -> App {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    App::spawn_with(db, &env).await
}

/// The first link to `app` in a message's body, as a path.
fn link_in(app: &App, message: &Value) -> String {
    let body = message["body"].as_str().unwrap_or("");
    let start = body
        .find(&app.base_url)
        .unwrap_or_else(|| panic!("no link to {} in {body}", app.base_url));
    body[start + app.base_url.len()..]
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

/// No two deliveries of the same message (recipient, subject and body).
fn each_once(messages: &[Value]) {
    let mut seen = std::collections::HashSet::new();
    for m in messages {
        let id = (
            m["to"].to_string(),
            m["subject"].to_string(),
            m["body"].to_string(),
        );
        assert!(seen.insert(id), "delivered twice: {m:#}");
    }
}

async fn invitations_and_notices_reach_their_recipients_once_with_links_that_work(
    backend: Backend,
) {
    let sink = Sink::start(0).await;
    let db = TestDb::new(backend).await;
    let app = spawn(&db, &sink.env()).await;
    let m = market(&app, &db).await;

    // An invitation, to an address with no account yet.
    invite(
        &m.alice,
        &[("email", "newcomer@example.org"), ("role", "member")],
    )
    .await;
    let mail = sink
        .wait_for("newcomer@example.org", "Join Meridian Health on Fairground")
        .await;
    assert_eq!(mail["from"], "mail@fairground.test");
    assert_eq!(mail["header_to"], "newcomer@example.org");
    let body = mail["body"].as_str().unwrap_or("");
    assert!(body.contains("Meridian Health"), "{body}");
    let path = link_in(&app, &mail);
    assert!(path.starts_with("/invitations/"), "{path}");
    let res = app.get(&path).await;
    assert_eq!(res.status(), 200, "the invitation link opens");
    let page = res.text().await.expect("page");
    assert!(page.contains("Meridian Health"), "{page}");
    // The newcomer signs up from the link and joins.
    let newcomer = Visitor::signed_up(&app, "newcomer@example.org", "New Comer").await;
    let token = path.rsplit('/').next().unwrap_or("");
    let (status, body) = newcomer
        .call("/api/fn/accept_invitation", &[("token", token)])
        .await;
    assert_eq!(status, 200, "{body}");

    // A notice (a base model Alice's listing runs on is deprecated) goes
    // to the members of Alice's organisation whose address is confirmed:
    // Alice once she confirms, never the newcomer, who has not.
    app.confirm_email("alice@example.org").await;
    alice_publishes(&m).await;
    let (status, body) = m
        .referee
        .call("/api/fn/deprecate_base_model", &[("id", &m.models[0])])
        .await;
    assert_eq!(status, 200, "{body}");
    let notice = sink
        .wait_for(
            "alice@example.org",
            "A base model your listings run on is deprecated",
        )
        .await;
    let body = notice["body"].as_str().unwrap_or("");
    assert!(body.contains("Aurora"), "{body}");
    let path = link_in(&app, &notice);
    assert_eq!(path, "/my/listings");
    let res = m.alice.get(&path).await;
    assert_eq!(res.status(), 200, "the notice's link opens for its reader");

    // Everything is sent once, and the outbox knows it.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let delivered = sink.delivered();
    each_once(&delivered);
    assert!(
        !delivered
            .iter()
            .any(|m| m["to"] == serde_json::json!(["newcomer@example.org"])
                && m["subject"]
                    .as_str()
                    .is_some_and(|s| s.contains("deprecated"))),
        "no notice to an unconfirmed address"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
            .await,
        0,
        "every message in the outbox was sent"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM outbox").await,
        delivered.len() as i64,
        "one delivery per message"
    );
    // No header from anything typed: only the usual ones.
    for m in &delivered {
        for h in m["headers"].as_array().into_iter().flatten() {
            let h = h.as_str().unwrap_or("");
            assert!(
                [
                    "from",
                    "to",
                    "subject",
                    "content-type",
                    "content-transfer-encoding",
                    "date",
                    "mime-version",
                    "message-id"
                ]
                .contains(&h),
                "unexpected header {h}: {m:#}"
            );
        }
    }
}

async fn a_message_the_server_refuses_is_tried_again_later(backend: Backend) {
    let sink = Sink::start(1).await;
    let db = TestDb::new(backend).await;
    let app = spawn(&db, &sink.env()).await;
    // Signing up asks for the address to be confirmed, by mail.
    crate::helpers::sign_up(&app, "ada@example.org", "Ada").await;
    let mail = sink.wait_for("ada@example.org", "Confirm").await;
    assert_eq!(sink.refused(), 1, "the first try was refused");
    let path = link_in(&app, &mail);
    assert!(
        path.starts_with("/verify-email") || path.contains("token"),
        "{path}"
    );
    // The node marks the message sent once the SMTP server took it, so a
    // moment after the sink has it.
    let mut conn = db.connect().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let (attempts, error) = loop {
        let (attempts, error, sent): (i64, Option<String>, Option<i64>) = sqlx::query_as(
            "SELECT attempts, last_error, sent_at FROM outbox WHERE to_email = 'ada@example.org'",
        )
        .fetch_one(&mut conn)
        .await
        .expect("row");
        if sent.is_some() || Instant::now() > deadline {
            break (attempts, error);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(attempts, 2, "sent on the second try");
    assert_eq!(error, None);
    assert!(
        app.stderr()
            .contains("sending a message failed; tried again later"),
        "{}",
        app.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_send_each_message_once() {
    let sink = Sink::start(0).await;
    let db = TestDb::new(Backend::Postgres).await;
    let env = sink.env();
    let a = spawn(&db, &env).await;
    let _b = spawn(&db, &env).await;
    let m = market(&a, &db).await;
    for i in 0..20 {
        let email = format!("invitee{i}@example.org");
        invite(&m.alice, &[("email", &email), ("role", "member")]).await;
    }
    for i in 0..20 {
        sink.wait_for(&format!("invitee{i}@example.org"), "Join Meridian Health")
            .await;
    }
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let delivered = sink.delivered();
    each_once(&delivered);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM outbox").await,
        delivered.len() as i64
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
            .await,
        0
    );
}
