//! Failing closed: while PostgreSQL is out of reach (the connection between
//! the node and the database is cut under load), `/readyz` is 503, pages
//! answer 503 with `Retry-After` and a plain message, the metering API 503
//! in the project's error shape, and the gateway refuses calls (nothing
//! forwarded that could not be metered); `/healthz` stays 200. When the
//! connection returns, everything serves again by itself.
//!
//! PostgreSQL only: an embedded SQLite file cannot be cut off from the
//! process that holds it open.

use crate::builders::{
    carol_subscribes, chat, echo_upstream, market, new_key, now_ms, offer, one_record, record,
};
use crate::helpers::{App, Backend, Relay, TestDb};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn ready(app: &App) -> u16 {
    app.get("/readyz").await.status().as_u16()
}

async fn wait_for_ready(app: &App, want: u16, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        if ready(app).await == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz did not turn {want} within {within:?}; stderr:\n{}",
            app.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn retry_after(res: &reqwest::Response) -> String {
    res.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_out_of_reach_fails_closed_under_load_and_recovers_by_itself() {
    let db = TestDb::new(Backend::Postgres).await;
    let relay = Relay::to("127.0.0.1:5432").await;
    let through_relay = db.url.replace("127.0.0.1:5432", &relay.addr.to_string());
    assert_ne!(
        through_relay, db.url,
        "the test database is on 127.0.0.1:5432"
    );
    let app = App::spawn_with(
        &db,
        &[
            ("DATABASE_URL", &through_relay),
            ("FAIRGROUND_GATEWAY_ALLOW_PRIVATE_UPSTREAMS", "true"),
            ("FAIRGROUND_GATEWAY_REQUESTS_PER_KEY", "100000"),
            ("FAIRGROUND_API_REQUESTS_PER_KEY", "100000"),
        ],
    )
    .await;
    let m = market(&app, &db).await;
    let o = offer(&m).await;
    let echo = echo_upstream(&m.alice, &o.listing, &o.deployments[0]).await;
    let sub = carol_subscribes(&m, &o).await;
    let gateway_key = new_key(&m.carol, "Ward system").await;
    let metering_key = new_key(&m.alice, "Billing").await;
    assert_eq!(chat(&app, &gateway_key).await.status(), 200);

    // Load all along: the catalogue, usage records and gateway calls.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (client, base) = (app.client.clone(), app.base_url.clone());
        let (stop, gk, mk, sub) = (
            stop.clone(),
            gateway_key.clone(),
            metering_key.clone(),
            sub.clone(),
        );
        tokio::spawn(async move {
            let mut seen: BTreeMap<(&'static str, u16), usize> = BTreeMap::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let page = client.get(format!("{base}/catalogue")).send().await;
                let metered = client
                    .post(format!("{base}/api/v1/usage"))
                    .bearer_auth(&mk)
                    .json(&json!({"records": [record(&format!("load-{i}"), &sub, 1, now_ms())]}))
                    .send()
                    .await;
                let called = client
                    .post(format!("{base}/gateway/v1/chat/completions"))
                    .bearer_auth(&gk)
                    .json(&json!({"model": "triage-notes", "messages": [{"role": "user", "content": "Hi"}]}))
                    .send()
                    .await;
                for (what, res) in [("page", page), ("usage", metered), ("gateway", called)] {
                    let status = res.map(|r| r.status().as_u16()).unwrap_or(0);
                    *seen.entry((what, status)).or_default() += 1;
                }
            }
            seen
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The database goes out of reach.
    relay.cut();
    wait_for_ready(&app, 503, Duration::from_secs(10)).await;

    // Pages: 503 from the first failed query on; within seconds (the
    // node's next look at the database) the plain page, at once.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let res = app.get("/").await;
        assert_eq!(res.status(), 503);
        assert_eq!(retry_after(&res), "5");
        assert!(res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html")));
        let text = res.text().await.expect("text");
        if text.contains("Fairground is unavailable for a moment") {
            break text;
        }
        assert!(
            text.contains("Fairground cannot reach its database at the moment"),
            "{text}"
        );
        assert!(Instant::now() < deadline, "no plain page: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(text.contains("Nothing was changed"), "{text}");
    // Calls that read the database before it went may still be on their
    // way to the model (and then fail to be recorded): counted from here,
    // once the node knows, nothing more may be forwarded.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let forwarded_before = echo.standin.admitted().len();
    assert_eq!(app.get("/catalogue").await.status(), 503);
    assert_eq!(app.get("/listings/triage-notes").await.status(), 503);
    // A script's server-function call gets the one error shape.
    let (status, body, headers) = crate::helpers::api_post(
        &app,
        "/api/fn/sign_in",
        &[
            ("email", "carol@example.org"),
            ("password", "whatever it is"),
        ],
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "unavailable", "{body}");
    assert_eq!(
        headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("5")
    );

    let res = one_record(&app, &metering_key, &sub, "down").await;
    assert_eq!(res.status(), 503);
    assert_eq!(retry_after(&res), "5");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "unavailable", "{body}");
    assert_eq!(body["retry_after_secs"], 5, "{body}");

    let res = chat(&app, &gateway_key).await;
    assert_eq!(res.status(), 503);
    assert_eq!(retry_after(&res), "5");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "metering_unavailable", "{body}");
    assert_eq!(body["error"]["type"], "server_error", "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        echo.standin.admitted().len(),
        forwarded_before,
        "no call was forwarded while it could not be metered"
    );
    assert_eq!(app.get("/healthz").await.status(), 200, "the process is up");
    assert!(
        app.stderr().contains("the database is out of reach"),
        "{}",
        app.stderr()
    );

    // Back: the node serves again by itself.
    relay.mend();
    wait_for_ready(&app, 200, Duration::from_secs(20)).await;
    assert_eq!(app.get("/catalogue").await.status(), 200);
    let res = one_record(&app, &metering_key, &sub, "back").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["results"][0]["status"], "accepted", "{body}");
    let res = chat(&app, &gateway_key).await;
    let status = res.status();
    let text = res.text().await.expect("text");
    assert_eq!(status, 200, "{text}\n{}", app.stderr());
    assert!(
        app.stderr().contains("the database answers again"),
        "{}",
        app.stderr()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let seen = load.await.expect("load");
    eprintln!("fail closed, statuses under load: {seen:?}");
    for what in ["page", "usage", "gateway"] {
        assert!(seen.contains_key(&(what, 200)), "{what} served: {seen:?}");
        assert!(
            seen.contains_key(&(what, 503)),
            "{what} refused while down: {seen:?}"
        );
    }
    // Pages and the metering API never answer 500 for the outage, even
    // between the failure and the node's next look at the database (a
    // gateway call already forwarded when the database went may: its
    // record cannot be written, so its answer is withheld as not_metered).
    for what in ["page", "usage"] {
        assert!(
            !seen.contains_key(&(what, 500)),
            "{what} answered 500 for the outage: {seen:?}"
        );
    }
}
