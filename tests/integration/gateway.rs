//! The model gateway: a client's key calls its subscribed model through
//! `/gateway/v1`, plain and streamed; every forwarded call is signed,
//! metered once (billable only when it finished), and feeds statements;
//! errors come in OpenAI's shape; fallback stays within the listing and
//! only when allowed; the monthly cap holds under concurrency; the rate
//! limit bills nothing; prompts and answers are stored nowhere.

use crate::builders::{call_ok, carol_subscribes, market, new_key, offer, Market, Offer};
use crate::helpers::{App, Backend, TestDb, Visitor};
use fairground::standin::{Behaviour, StandIn};
use serde_json::{json, Value};
use sqlx::{Connection, Row};
use std::net::SocketAddr;

crate::on_both_backends!(
    a_client_calls_its_model_plain_and_streamed_and_each_call_is_metered_once,
    calls_are_refused_in_openai_shape_with_the_right_status,
    failures_fall_back_within_the_listing_only_when_allowed,
    the_monthly_cap_holds_under_200_concurrent_calls,
    a_key_over_its_rate_is_refused_and_nothing_is_billed,
    prompts_and_answers_are_stored_and_logged_nowhere,
    the_official_openai_package_works_with_only_base_url_and_key,
    in_the_demo_a_new_client_subscribes_and_calls_a_model_at_once,
    every_call_seen_complete_survives_repeated_sigkill_once_and_failures_are_never_billed,
    partners_see_health_and_test_calls_referees_read_on_the_record_players_never,
    the_playground_sends_one_prompt_metered_like_any_call,
    a_call_the_client_walks_away_from_is_still_recorded_once_and_its_cap_given_back,
    answers_leave_as_the_model_gave_them_never_compressed_on_the_way,
);

/// Gateway settings for tests: the stand-in is on 127.0.0.1, and a hung
/// upstream fails over after a second.
const ENV: [(&str, &str); 4] = [
    ("FAIRGROUND_GATEWAY_ALLOW_PRIVATE_UPSTREAMS", "true"),
    ("FAIRGROUND_GATEWAY_FIRST_BYTE_TIMEOUT_MS", "1000"),
    ("FAIRGROUND_GATEWAY_REQUESTS_PER_KEY", "1000"),
    ("FAIRGROUND_METRICS_TOKEN", METRICS_TOKEN),
];
const METRICS_TOKEN: &str = "gateway-metrics-token-0123456789abcdef";

/// Alice's listing on two base models, each deployment connected to its
/// own stand-in upstream ("first", "second"), Carol's subscription on the
/// first, and a gateway key of Carol's.
struct Connected<'a> {
    m: Market<'a>,
    o: Offer,
    sub: String,
    key: String,
    standin: StandIn,
    addr: SocketAddr,
    /// The deployments' secrets, in the offer's order.
    secrets: Vec<String>,
}

async fn connect_deployment(m: &Market<'_>, o: &Offer, i: usize, base_url: &str) -> String {
    let set = call_ok(
        &m.alice,
        "/api/fn/set_endpoint",
        &[
            ("listing_id", &o.listing),
            ("deployment_id", &o.deployments[i]),
            ("base_url", base_url),
            ("model", "triage-7b"),
        ],
    )
    .await;
    set["secret"].as_str().unwrap_or("").to_string()
}

async fn connected<'a>(app: &'a App, db: &TestDb, behaviours: [Behaviour; 2]) -> Connected<'a> {
    let m = market(app, db).await;
    let o = offer(&m).await;
    let standin = StandIn::default();
    let addr = standin
        .spawn("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("stand-in");
    let mut secrets = Vec::new();
    for (i, (name, b)) in ["first", "second"].iter().zip(behaviours).enumerate() {
        let secret = connect_deployment(&m, &o, i, &format!("http://{addr}/u/{name}")).await;
        assert!(secret.starts_with("fgs_"), "{secret}");
        standin.register(name, &secret, b);
        secrets.push(secret);
    }
    let sub = carol_subscribes(&m, &o).await;
    let key = new_key(&m.carol, "carol's app").await;
    assert!(key.starts_with("fgc_"), "{key}");
    Connected {
        m,
        o,
        sub,
        key,
        standin,
        addr,
        secrets,
    }
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// The `data:` payloads of a streamed answer.
    fn events(&self) -> Vec<String> {
        self.text
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .map(str::to_string)
            .collect()
    }

    /// The streamed text, pieced together from the chunks' deltas.
    fn streamed_text(&self) -> String {
        self.events()
            .iter()
            .filter_map(|e| serde_json::from_str::<Value>(e).ok())
            .filter_map(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect()
    }

    /// The OpenAI-shaped error: (type, code), with a message present.
    fn error(&self) -> (String, String) {
        let v = self.json();
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}: {}",
            self.status,
            self.text
        );
        (
            v["error"]["type"].as_str().unwrap_or("").to_string(),
            v["error"]["code"].as_str().unwrap_or("").to_string(),
        )
    }
}

async fn call(app: &App, key: Option<&str>, body: &Value) -> Answer {
    let mut req = app
        .client
        .post(app.url("/gateway/v1/chat/completions"))
        .json(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let res = req.send().await.expect("call");
    Answer {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        text: res
            .text()
            .await
            .unwrap_or_else(|e| format!("<broken: {e}>")),
    }
}

fn ask(model: &str, prompt: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": prompt}
        ],
        "stream": stream,
    })
}

async fn models(app: &App, key: &str) -> Vec<String> {
    let res = app
        .client
        .get(app.url("/gateway/v1/models"))
        .bearer_auth(key)
        .send()
        .await
        .expect("models");
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.expect("json");
    assert_eq!(v["object"], "list");
    v["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect()
}

/// (outcome, billable, deployment, fallback_from, prompt tokens, completion
/// tokens, streamed) of every gateway call, oldest first.
type Row7 = (
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
);

async fn records(db: &TestDb) -> Vec<Row7> {
    let mut conn = db.connect().await;
    let rows = sqlx::query(
        "SELECT outcome, billable, deployment_id, fallback_from, prompt_tokens, completion_tokens, streamed \
         FROM gateway_calls ORDER BY id",
    )
    .fetch_all(&mut conn)
    .await
    .expect("records");
    rows.iter()
        .map(|r| {
            (
                r.get::<String, _>(0),
                r.get::<i64, _>(1),
                r.get::<Option<i64>, _>(2),
                r.get::<Option<i64>, _>(3),
                r.get::<Option<i64>, _>(4),
                r.get::<Option<i64>, _>(5),
                r.get::<i64, _>(6),
            )
        })
        .collect()
}

async fn a_client_calls_its_model_plain_and_streamed_and_each_call_is_metered_once(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &ENV).await;
    let c = connected(&app, &db, [Behaviour::Fixed, Behaviour::Fixed]).await;
    let listed = models(&app, &c.key).await;
    assert_eq!(listed[0], "triage-notes", "{listed:?}");
    let pinned: Vec<&String> = listed.iter().filter(|m| m.contains('@')).collect();
    assert_eq!(pinned.len(), 2, "{listed:?}");
    let first = pinned[0].clone();
    let second = pinned[1].clone();

    // Plain: the upstream's answer under the client's model name, the
    // serving deployment named.
    let plain = call(
        &app,
        Some(&c.key),
        &ask("triage-notes", "Is this urgent?", false),
    )
    .await;
    assert_eq!(plain.status, 200, "{}", plain.text);
    let body = plain.json();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Echo: Is this urgent?"
    );
    assert_eq!(
        body["model"], "triage-notes",
        "the upstream's model name stays private"
    );
    assert_eq!(plain.header("fairground-deployment"), first);
    assert_eq!(plain.header("fairground-fallback-from"), "");
    assert!(!plain.text.contains("triage-7b"));

    // Streamed, not asking for usage: chunks as they come, no usage chunk,
    // the final [DONE].
    let streamed = call(
        &app,
        Some(&c.key),
        &ask("triage-notes", "Is this urgent?", true),
    )
    .await;
    assert_eq!(streamed.status, 200, "{}", streamed.text);
    assert_eq!(streamed.header("content-type"), "text/event-stream");
    let events = streamed.events();
    assert_eq!(
        events.last().map(String::as_str),
        Some("[DONE]"),
        "{events:?}"
    );
    assert!(
        events.iter().all(|e| !e.contains("\"usage\"")),
        "{events:?}"
    );
    assert!(!streamed.text.contains("triage-7b"));
    assert_eq!(streamed.streamed_text(), "Echo: Is this urgent?");

    // Streamed with usage asked for, pinned to the second base model.
    let mut asked = ask(&second, "Two words", true);
    asked["stream_options"] = json!({"include_usage": true});
    let pinned_call = call(&app, Some(&c.key), &asked).await;
    assert_eq!(pinned_call.status, 200, "{}", pinned_call.text);
    assert_eq!(pinned_call.header("fairground-deployment"), second);
    let events = pinned_call.events();
    let usage: Value = serde_json::from_str(&events[events.len() - 2]).expect("usage chunk");
    assert_eq!(usage["usage"]["completion_tokens"], 3, "{events:?}");

    // One record per call, billable, with the upstream's token counts; the
    // stand-in verified every signature.
    let dep = |i: usize| c.o.deployments[i].parse::<i64>().ok();
    assert_eq!(
        records(&db).await,
        vec![
            ("ok".into(), 1, dep(0), None, Some(5), Some(4), 0),
            ("ok".into(), 1, dep(0), None, Some(5), Some(4), 1),
            ("ok".into(), 1, dep(1), None, Some(4), Some(3), 1),
        ]
    );
    let (served, refused) = c.standin.tally();
    assert_eq!((served, refused.len()), (3, 0));
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM api_keys WHERE purpose = 'gateway' AND last_used_at IS NOT NULL"
        )
        .await,
        1
    );

    // The calls are on the client's invoice and the partner's statement,
    // marked as metered by the gateway.
    let detail = call_ok(&c.m.carol, "/api/fn/subscription_detail", &[("id", &c.sub)]).await;
    let invoice = &detail["invoices"][0];
    assert_eq!(
        (invoice["calls"].as_i64(), invoice["gateway_calls"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(invoice["reported_calls"], 0);
    assert_eq!(
        detail["usage"]
            .as_array()
            .and_then(|d| d.last())
            .map(|d| d["tokens"].clone()),
        Some(json!(25))
    );
    assert_eq!(detail["connect"]["model"], "triage-notes");
    assert!(detail["connect"]["base_url"]
        .as_str()
        .unwrap_or("")
        .ends_with("/gateway/v1"));
    let revenue = call_ok(&c.m.alice, "/api/fn/publisher_revenue", &[]).await;
    assert_eq!(revenue["statements"][0]["gateway_calls"], 3, "{revenue}");
    let csv =
        c.m.alice
            .get("/exports/statements.csv")
            .await
            .text()
            .await
            .expect("csv");
    assert!(
        csv.lines()
            .next()
            .unwrap_or("")
            .contains("gateway_calls,reported_calls"),
        "{csv}"
    );
    let page = c.m.carol.page(&format!("/subscriptions/{}", c.sub)).await;
    assert!(
        page.contains("3 through the gateway, 0 reported by the partner"),
        "{page}"
    );
    assert!(page.contains("/gateway/v1</code>"));

    // The node's metrics count the three calls, their upstream and
    // overhead times, and the three answers by route pattern.
    let text = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("metrics");
    for line in [
        "fairground_gateway_calls_total{outcome=\"ok\"} 3",
        "fairground_gateway_upstream_seconds_count{outcome=\"ok\"} 3",
        "fairground_gateway_overhead_seconds_count{outcome=\"ok\"} 3",
        "fairground_http_requests_total{route=\"/gateway/v1/chat/completions\",method=\"POST\",status=\"200\"} 3",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    assert!(!text.contains(&c.key[..12]), "no key in the metrics");
    let _ = (c.addr, c.secrets);
}

async fn calls_are_refused_in_openai_shape_with_the_right_status(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &ENV).await;
    let c = connected(&app, &db, [Behaviour::Fixed, Behaviour::Fixed]).await;
    let ok = ask("triage-notes", "Hello there", false);

    // No key, a metering key, a made-up key: 401.
    let alice_metering = new_key(&c.m.alice, "alice's meter").await;
    for key in [
        None,
        Some(alice_metering.as_str()),
        Some("fgc_0000000000000000000000"),
    ] {
        let a = call(&app, key, &ok).await;
        assert_eq!(a.status, 401, "{key:?}: {}", a.text);
        assert_eq!(
            a.error(),
            ("authentication_error".into(), "invalid_api_key".into())
        );
    }
    // Not a chat completion request: 400.
    for bad in [
        json!({"messages": []}),
        json!({"model": "triage-notes"}),
        json!([1]),
    ] {
        let a = call(&app, Some(&c.key), &bad).await;
        assert_eq!(a.status, 400, "{bad}: {}", a.text);
        assert_eq!(a.error().0, "invalid_request_error");
    }
    // No such model, or no such base model of it: 404.
    for model in ["no-such-model", "triage-notes@no-such-base"] {
        let a = call(&app, Some(&c.key), &ask(model, "Hi", false)).await;
        assert_eq!(a.status, 404, "{model}: {}", a.text);
        assert_eq!(
            a.error(),
            ("not_found_error".into(), "model_not_found".into())
        );
    }
    // Another client organisation's key: its organisation has no
    // subscription to the listing, so 403 (and Carol's listing stays hers).
    let dave = Visitor::signed_up(&app, "dave@example.org", "Dave").await;
    call_ok(
        &dave,
        "/api/fn/create_org",
        &[("name", "Dockside Clinic"), ("kind", "client")],
    )
    .await;
    let dave_key = new_key(&dave, "dave's app").await;
    let a = call(&app, Some(&dave_key), &ok).await;
    assert_eq!(a.status, 403, "{}", a.text);
    assert_eq!(
        a.error(),
        ("permission_error".into(), "no_active_subscription".into())
    );
    assert!(models(&app, &dave_key).await.is_empty());

    // A revoked key: 401. A cancelled subscription: 403 on the next call.
    let spare = new_key(&c.m.carol, "spare").await;
    assert_eq!(call(&app, Some(&spare), &ok).await.status, 200);
    let keys = call_ok(&c.m.carol, "/api/fn/api_keys", &[]).await;
    let spare_id = keys["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["name"] == "spare")
        .map(|k| k["id"].as_i64().expect("id").to_string())
        .expect("spare");
    call_ok(&c.m.carol, "/api/fn/revoke_api_key", &[("id", &spare_id)]).await;
    assert_eq!(call(&app, Some(&spare), &ok).await.status, 401);
    call_ok(&c.m.carol, "/api/fn/cancel_subscription", &[("id", &c.sub)]).await;
    let a = call(&app, Some(&c.key), &ok).await;
    assert_eq!(a.status, 403, "{}", a.text);
    assert_eq!(a.error().1, "no_active_subscription");

    // Only the one good call reached an upstream and was billed.
    assert_eq!(c.standin.tally().0, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM gateway_calls").await, 1);
}

async fn failures_fall_back_within_the_listing_only_when_allowed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &ENV).await;
    let c = connected(&app, &db, [Behaviour::ServerError, Behaviour::Fixed]).await;
    let labels: Vec<String> = models(&app, &c.key)
        .await
        .into_iter()
        .filter(|m| m.contains('@'))
        .collect();
    let dep = |i: usize| c.o.deployments[i].parse::<i64>().ok();
    let ok = ask("triage-notes", "Still there?", false);

    // Fallback is off by default: the chosen deployment's failure is the
    // client's answer, recorded at zero.
    let a = call(&app, Some(&c.key), &ok).await;
    assert_eq!(a.status, 502, "{}", a.text);
    assert_eq!(a.error(), ("api_error".into(), "upstream_failed".into()));

    // With fallback allowed: each failure kind moves the call to the other
    // deployment, which is named, with the one it fell back from.
    call_ok(
        &c.m.carol,
        "/api/fn/set_call_options",
        &[
            ("id", &c.sub),
            ("allow_fallback", "on"),
            ("monthly_call_cap", ""),
        ],
    )
    .await;
    let fell_back = |a: &Answer| {
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.header("fairground-deployment"), labels[1]);
        assert_eq!(a.header("fairground-fallback-from"), labels[0]);
    };
    // 5xx.
    fell_back(&call(&app, Some(&c.key), &ok).await);
    // Hangs past the first-byte timeout (streamed this time).
    c.standin.register("first", &c.secrets[0], Behaviour::Hang);
    let s = call(
        &app,
        Some(&c.key),
        &ask("triage-notes", "Still there?", true),
    )
    .await;
    fell_back(&s);
    assert_eq!(s.events().last().map(String::as_str), Some("[DONE]"));
    // Cannot be reached (nothing listens on the port).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let dead = format!("http://{}/v1", closed.local_addr().expect("addr"));
    drop(closed);
    connect_deployment(&c.m, &c.o, 0, &dead).await;
    fell_back(&call(&app, Some(&c.key), &ok).await);
    // Paused.
    let mut conn = db.connect().await;
    sqlx::query("UPDATE deployments SET status = 'paused' WHERE id = $1")
        .bind(dep(0))
        .execute(&mut conn)
        .await
        .expect("pause");
    fell_back(&call(&app, Some(&c.key), &ok).await);

    // A stream that breaks after it started cannot fall back: the client
    // is told, and the call is not billed.
    sqlx::query("UPDATE deployments SET status = 'active' WHERE id = $1")
        .bind(dep(0))
        .execute(&mut conn)
        .await
        .expect("resume");
    let secret = connect_deployment(&c.m, &c.o, 0, &format!("http://{}/u/first", c.addr)).await;
    assert!(secret.is_empty(), "a changed endpoint keeps its secret");
    c.standin
        .register("first", &c.secrets[0], Behaviour::DropMidStream);
    let broken = call(
        &app,
        Some(&c.key),
        &ask("triage-notes", "Still there?", true),
    )
    .await;
    assert_eq!(broken.status, 200);
    assert_eq!(broken.header("fairground-deployment"), labels[0]);
    assert!(!broken.text.contains("[DONE]"), "{}", broken.text);
    assert!(broken.text.contains("upstream_broken"), "{}", broken.text);

    // An upstream expecting another signature refuses every call: 502.
    c.standin
        .register("first", "fgs_some-other-secret", Behaviour::Fixed);
    sqlx::query("UPDATE subscriptions SET allow_fallback = 0")
        .execute(&mut conn)
        .await
        .expect("fallback off");
    let forged = call(&app, Some(&c.key), &ok).await;
    assert_eq!(forged.status, 502, "{}", forged.text);
    let _ = conn.close().await;

    let rows = records(&db).await;
    let summary: Vec<(&str, i64, Option<i64>, Option<i64>)> =
        rows.iter().map(|r| (r.0.as_str(), r.1, r.2, r.3)).collect();
    assert_eq!(
        summary,
        vec![
            ("upstream_error", 0, dep(0), None),
            ("ok", 1, dep(1), dep(0)),
            ("ok", 1, dep(1), dep(0)),
            ("ok", 1, dep(1), dep(0)),
            ("ok", 1, dep(1), dep(0)),
            ("broken", 0, dep(0), None),
            ("upstream_refused", 0, dep(0), None),
        ]
    );
    let (_, refused) = c.standin.tally();
    assert_eq!(
        refused.len(),
        1,
        "only the call to the upstream with another secret"
    );
}

async fn the_monthly_cap_holds_under_200_concurrent_calls(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &ENV).await;
    let c = connected(&app, &db, [Behaviour::Fixed, Behaviour::Fixed]).await;
    let (s, _) =
        c.m.carol
            .call(
                "/api/fn/set_call_options",
                &[("id", &c.sub), ("monthly_call_cap", "lots")],
            )
            .await;
    assert_eq!(s, 422);
    call_ok(
        &c.m.carol,
        "/api/fn/set_call_options",
        &[("id", &c.sub), ("monthly_call_cap", "50")],
    )
    .await;
    // Five calls before the burst count against the cap.
    for _ in 0..5 {
        assert_eq!(
            call(&app, Some(&c.key), &ask("triage-notes", "Hi", false))
                .await
                .status,
            200
        );
    }
    let mut tasks = Vec::new();
    for i in 0..200 {
        let client = app.client.clone();
        let url = app.url("/gateway/v1/chat/completions");
        let key = c.key.clone();
        let body = ask("triage-notes", "Hi", i % 2 == 0);
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .expect("call");
            let status = res.status().as_u16();
            let text = res.text().await.unwrap_or_default();
            (status, text)
        }));
    }
    let mut ok = 0;
    let mut capped = 0;
    for t in tasks {
        let (status, text) = t.await.expect("task");
        match status {
            200 => ok += 1,
            429 => {
                assert!(text.contains("monthly_cap_reached"), "{text}");
                capped += 1
            }
            other => panic!("{other}: {text}"),
        }
    }
    assert_eq!((ok, capped), (45, 155));
    assert_eq!(
        db.count("SELECT COUNT(*) FROM gateway_calls WHERE billable = 1")
            .await,
        50
    );
    assert_eq!(c.standin.tally().0, 50);
}

async fn a_key_over_its_rate_is_refused_and_nothing_is_billed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(
        &db,
        &[
            ("FAIRGROUND_GATEWAY_ALLOW_PRIVATE_UPSTREAMS", "true"),
            ("FAIRGROUND_GATEWAY_REQUESTS_PER_KEY", "3"),
        ],
    )
    .await;
    let c = connected(&app, &db, [Behaviour::Fixed, Behaviour::Fixed]).await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..8 {
        let a = call(&app, Some(&c.key), &ask("triage-notes", "Hi", false)).await;
        if a.status == 429 {
            assert_eq!(
                a.error(),
                ("rate_limit_error".into(), "rate_limit_exceeded".into())
            );
            retry_after = Some(a.header("retry-after"));
        }
        statuses.push(a.status);
    }
    let ok = statuses.iter().filter(|s| **s == 200).count() as i64;
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(retry_after.is_some_and(|r| r.parse::<u64>().is_ok_and(|n| n >= 1)));
    assert_eq!(db.count("SELECT COUNT(*) FROM gateway_calls").await, ok);
    assert_eq!(c.standin.tally().0 as i64, ok);
}

async fn prompts_and_answers_are_stored_and_logged_nowhere(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &ENV).await;
    let c = connected(&app, &db, [Behaviour::Fixed, Behaviour::Fixed]).await;
    let canary = "canary-5f2b9e1d7c";
    for stream in [false, true] {
        let a = call(&app, Some(&c.key), &ask("triage-notes", canary, stream)).await;
        assert_eq!(a.status, 200);
        assert!(a.text.contains(canary), "the answer echoes it");
    }
    // A failed call's prompt is not kept either.
    c.standin
        .register("first", &c.secrets[0], Behaviour::ServerError);
    assert_eq!(
        call(&app, Some(&c.key), &ask("triage-notes", canary, false))
            .await
            .status,
        502
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM gateway_calls").await, 3);
    let everything = match backend {
        Backend::Sqlite => {
            let path = db
                .url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .expect("path")
                .to_string();
            let mut bytes = Vec::new();
            for suffix in ["", "-wal", "-shm", "-journal"] {
                if let Ok(b) = std::fs::read(format!("{path}{suffix}")) {
                    bytes.extend(b);
                }
            }
            assert!(bytes.len() > 4096, "the database file was read");
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Backend::Postgres => {
            let out = std::process::Command::new("pg_dump")
                .args(["--data-only", "--no-owner", &db.url])
                .output()
                .expect("pg_dump");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let dump = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                dump.contains("gateway_calls"),
                "the dump holds the gateway's records"
            );
            dump
        }
    };
    assert!(
        !everything.contains(canary),
        "the prompt or answer was stored"
    );
    let logs = app.stderr();
    assert!(
        logs.contains("/gateway/v1/chat/completions"),
        "the calls were logged"
    );
    assert!(!logs.contains(canary), "the prompt or answer was logged");
}

/// Runs `openai_client.py` (the official `openai` package from PyPI, in
/// the tools' virtualenv that `server/scripts/setup.sh` makes) for a phase.
async fn python_client(app: &App, key: &str, phase: &str) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let python = format!("{root}/target/tools-venv/bin/python");
    assert!(
        std::path::Path::new(&python).exists(),
        "{python} is missing: run server/scripts/setup.sh"
    );
    let out = tokio::process::Command::new(&python)
        .arg(format!("{root}/tests/integration/openai_client.py"))
        .arg(phase)
        .env("FG_BASE_URL", app.url("/gateway/v1"))
        .env("FG_KEY", key)
        .env("FG_MODEL", "triage-notes")
        .output()
        .await
        .expect("python");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{phase}: {said}");
    assert!(said.contains("done"), "{said}");
}

async fn the_official_openai_package_works_with_only_base_url_and_key(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &ENV).await;
    let c = connected(&app, &db, [Behaviour::Fixed, Behaviour::Fixed]).await;
    python_client(&app, &c.key, "live").await;
    // The three successful calls were metered; the refused ones were not.
    assert_eq!(
        db.count("SELECT COUNT(*) FROM gateway_calls WHERE billable = 1")
            .await,
        3
    );
    call_ok(&c.m.carol, "/api/fn/cancel_subscription", &[("id", &c.sub)]).await;
    python_client(&app, &c.key, "cancelled").await;
    assert_eq!(db.count("SELECT COUNT(*) FROM gateway_calls").await, 3);
}

async fn in_the_demo_a_new_client_subscribes_and_calls_a_model_at_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    crate::helpers::run_ok(&db, &["seed", "--demo"]).await;
    let app = App::spawn_with(&db, &[("FAIRGROUND_DEMO_UPSTREAM", "true")]).await;
    let erin = Visitor::signed_up(&app, "erin@example.org", "Erin").await;
    call_ok(
        &erin,
        "/api/fn/create_org",
        &[("name", "Quayside Credit Union"), ("kind", "client")],
    )
    .await;
    let hits = call_ok(&erin, "/api/fn/catalogue_search", &[("q", "")]).await;
    let slug = hits["hits"][0]["card"]["slug"]
        .as_str()
        .expect("a demo listing")
        .to_string();
    let listing = call_ok(&erin, "/api/fn/listing_page", &[("slug", &slug)]).await;
    let id = listing["id"].as_i64().expect("id").to_string();
    let o = call_ok(&erin, "/api/fn/subscribe_options", &[("listing_id", &id)]).await;
    let first = |k: &str| o[k][0]["value"].as_str().expect("choice").to_string();
    call_ok(
        &erin,
        "/api/fn/subscribe",
        &[
            ("listing_id", &id),
            ("plan_id", &first("plans")),
            ("deployment_id", &first("deployments")),
        ],
    )
    .await;
    let key = new_key(&erin, "first try").await;
    for stream in [false, true] {
        let a = call(&app, Some(&key), &ask(&slug, "Hello from the demo", stream)).await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert!(
            a.text.contains("Echo: Hello from the demo")
                || a.streamed_text() == "Echo: Hello from the demo",
            "{}",
            a.text
        );
    }
    assert_eq!(
        db.count("SELECT COUNT(*) FROM gateway_calls WHERE billable = 1")
            .await,
        2
    );
    assert!(db.count("SELECT COUNT(*) FROM deployment_upstreams").await >= 20);
}

async fn every_call_seen_complete_survives_repeated_sigkill_once_and_failures_are_never_billed(
    backend: Backend,
) {
    const ROUNDS: usize = 5;
    const SENDERS: usize = 6;
    let db = TestDb::new(backend).await;
    let mut app = App::spawn_with(&db, &ENV).await;
    let c = connected(&app, &db, [Behaviour::Fixed, Behaviour::ServerError]).await;
    // The market's visitors borrow the first server, which is killed.
    let Connected {
        m, o, key, standin, ..
    } = c;
    drop(m);
    let failing = models(&app, &key)
        .await
        .into_iter()
        .filter(|m| m.contains('@'))
        .nth(1)
        .expect("the second base model");
    // Request ids of calls the client saw complete (a plain answer read
    // whole, or a stream up to [DONE]).
    let mut completed: Vec<String> = Vec::new();
    let mut sent = 0usize;
    for round in 0..ROUNDS {
        let mut senders = Vec::new();
        for n in 0..SENDERS {
            let client = app.client.clone();
            let url = app.url("/gateway/v1/chat/completions");
            let key = key.clone();
            let failing = failing.clone();
            senders.push(tokio::spawn(async move {
                let mut done = Vec::new();
                let mut tried = 0usize;
                for i in 0usize.. {
                    // Mixed: plain and streamed calls that succeed, and calls
                    // pinned to the deployment that fails.
                    let model = if (i + n) % 5 == 4 {
                        failing.as_str()
                    } else {
                        "triage-notes"
                    };
                    let body = ask(model, "Keep going", (i + n) % 2 == 0);
                    tried += 1;
                    let Ok(res) = client.post(&url).bearer_auth(&key).json(&body).send().await
                    else {
                        break;
                    };
                    let ok = res.status() == 200;
                    let id = res
                        .headers()
                        .get("fairground-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let Ok(text) = res.text().await else { break };
                    let finished = if body["stream"] == json!(true) {
                        text.contains("data: [DONE]")
                    } else {
                        serde_json::from_str::<Value>(&text)
                            .is_ok_and(|v| v["choices"][0]["message"]["content"].is_string())
                    };
                    if ok && finished {
                        done.push(id);
                    }
                }
                (done, tried)
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(500 + 150 * round as u64)).await;
        app.signal(libc::SIGKILL);
        app.wait_exit(std::time::Duration::from_secs(20)).await;
        for s in senders {
            let (done, tried) = s.await.expect("sender");
            completed.extend(done);
            sent += tried;
        }
        app = App::spawn_with(&db, &ENV).await;
    }
    assert!(completed.len() > 20, "calls completed: {}", completed.len());
    let mut conn = db.connect().await;
    let rows =
        sqlx::query("SELECT request_id, billable, outcome, deployment_id FROM gateway_calls")
            .fetch_all(&mut conn)
            .await
            .expect("records");
    let mut count: std::collections::HashMap<String, usize> = Default::default();
    let mut billed = std::collections::HashSet::new();
    let mut billed_but_failed = 0;
    let admitted = standin.admitted();
    let good = o.deployments[0].parse::<i64>().ok();
    for r in &rows {
        let id: String = r.get(0);
        *count.entry(id.clone()).or_default() += 1;
        if r.get::<i64, _>(1) == 1 {
            billed.insert(id.clone());
            let failed = r.get::<String, _>(2) != "ok"
                || r.get::<Option<i64>, _>(3) != good
                || !admitted.contains(&id);
            billed_but_failed += usize::from(failed);
        }
    }
    let lost = completed.iter().filter(|id| !billed.contains(*id)).count();
    let twice = count.values().filter(|n| **n > 1).count();
    eprintln!(
        "gateway kill loop ({backend:?}): {ROUNDS} SIGKILLs, {sent} calls sent, {} completed, {} records ({} billable), lost {lost}, recorded twice {twice}, billed but failed {billed_but_failed}",
        completed.len(),
        rows.len(),
        billed.len()
    );
    assert_eq!(lost, 0);
    assert_eq!(twice, 0);
    assert_eq!(billed_but_failed, 0);
    assert!(
        rows.iter()
            .any(|r| r.get::<String, _>(2) == "upstream_error"),
        "failing calls were recorded at zero"
    );
}

async fn partners_see_health_and_test_calls_referees_read_on_the_record_players_never(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &ENV).await;
    let c = connected(&app, &db, [Behaviour::Fixed, Behaviour::ServerError]).await;
    let failing = models(&app, &c.key)
        .await
        .into_iter()
        .filter(|m| m.contains('@'))
        .nth(1)
        .expect("second");
    for _ in 0..3 {
        assert_eq!(
            call(&app, Some(&c.key), &ask("triage-notes", "Hi", false))
                .await
                .status,
            200
        );
    }
    assert_eq!(
        call(&app, Some(&c.key), &ask(&failing, "Hi", false))
            .await
            .status,
        502
    );

    // The partner's editor: health per deployment.
    let editor = call_ok(
        &c.m.alice,
        "/api/fn/listing_editor",
        &[("id", &c.o.listing)],
    )
    .await;
    let health = editor["health"].as_array().expect("health");
    let of = |i: usize| {
        health
            .iter()
            .find(|h| h["deployment_id"].as_i64() == c.o.deployments[i].parse::<i64>().ok())
            .cloned()
            .expect("deployment's health")
    };
    assert_eq!(
        (of(0)["calls"].as_i64(), of(0)["errors"].as_i64()),
        (Some(3), Some(0))
    );
    assert_eq!(
        (of(1)["calls"].as_i64(), of(1)["errors"].as_i64()),
        (Some(1), Some(1))
    );
    assert!(of(0)["p50_ms"].is_i64() && of(0)["p99_ms"].is_i64() && of(0)["last_call"].is_i64());
    assert!(of(1)["label"].as_str() == Some(failing.as_str()));

    // Test calls: signed, not metered; the answer says how it went.
    let ok = call_ok(
        &c.m.alice,
        "/api/fn/test_endpoint",
        &[
            ("listing_id", &c.o.listing),
            ("deployment_id", &c.o.deployments[0]),
        ],
    )
    .await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert!(
        ok["message"]
            .as_str()
            .unwrap_or("")
            .contains("answered 200"),
        "{ok}"
    );
    let bad = call_ok(
        &c.m.alice,
        "/api/fn/test_endpoint",
        &[
            ("listing_id", &c.o.listing),
            ("deployment_id", &c.o.deployments[1]),
        ],
    )
    .await;
    assert_eq!(bad["ok"], false, "{bad}");
    assert!(
        bad["message"]
            .as_str()
            .unwrap_or("")
            .contains("answered 500"),
        "{bad}"
    );
    // Without JavaScript the editor shows the result once.
    let editor_path = format!("/my/listings/{}", c.o.listing);
    let res =
        c.m.alice
            .form(
                "/api/fn/test_endpoint",
                &editor_path,
                &[
                    ("listing_id", &c.o.listing),
                    ("deployment_id", &c.o.deployments[0]),
                ],
            )
            .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let page = c.m.alice.page(&editor_path).await;
    assert!(
        page.contains("Test call to") && page.contains("answered 200"),
        "{page}"
    );
    assert!(
        !c.m.alice.page(&editor_path).await.contains("Test call to"),
        "shown once"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM gateway_calls").await,
        4,
        "test calls are not metered"
    );
    // Another partner cannot test (or reach) Alice's endpoints.
    let (s, _) =
        c.m.bob
            .call(
                "/api/fn/test_endpoint",
                &[
                    ("listing_id", &c.o.listing),
                    ("deployment_id", &c.o.deployments[0]),
                ],
            )
            .await;
    assert_eq!(s, 404);
    let served = c.standin.tally().0;

    // Gateway traffic is partner data: a referee reads it on the record,
    // shown to Alice; a player is refused, on the record too.
    let alice_org = db
        .count("SELECT id FROM organisations WHERE name = 'Meridian Health'")
        .await
        .to_string();
    let r = call_ok(
        &c.m.referee,
        "/api/fn/publisher_revenue",
        &[("org", &alice_org)],
    )
    .await;
    assert_eq!(r["health"].as_array().map(Vec::len), Some(2), "{r}");
    let log = call_ok(&c.m.alice, "/api/fn/data_access_log", &[]).await;
    assert!(log.to_string().contains("gateway traffic"), "{log}");
    let (s, _) =
        c.m.player
            .call("/api/fn/publisher_revenue", &[("org", &alice_org)])
            .await;
    assert_eq!(s, 404);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM data_access_log WHERE outcome = 'refused'")
            .await,
        1
    );
    assert_eq!(c.standin.tally().0, served, "reading health calls nothing");

    // The exposure dashboard shows the gateway's overhead for partner and
    // first-party deployments; counts to referees only.
    let public = call_ok(
        &Visitor::new(&app),
        "/api/fn/exposure_report",
        &[("industry", "")],
    )
    .await;
    let week = &public["overhead"][0];
    assert!(
        week["partner"][0].as_i64().is_some_and(|p50| p50 > 0),
        "{public}"
    );
    assert!(week["first_party"].is_null(), "{public}");
    assert!(week["partner_calls"].is_null(), "{public}");
    let refs = call_ok(&c.m.referee, "/api/fn/exposure_report", &[("industry", "")]).await;
    assert_eq!(refs["overhead"][0]["partner_calls"], 4, "{refs}");
    assert!(Visitor::new(&app)
        .page("/exposure")
        .await
        .contains("Gateway overhead"));
}

async fn the_playground_sends_one_prompt_metered_like_any_call(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &ENV).await;
    let c = connected(&app, &db, [Behaviour::Fixed, Behaviour::Fixed]).await;
    // With JavaScript: the answer comes back in the action's answer.
    let a = call_ok(
        &c.m.carol,
        "/api/fn/try_model",
        &[("id", &c.sub), ("prompt", "What is <b>triage</b>?")],
    )
    .await;
    assert_eq!(a["ok"], true, "{a}");
    assert_eq!(a["text"], "Echo: What is <b>triage</b>?");
    assert!(a["served_by"]
        .as_str()
        .unwrap_or("")
        .starts_with("triage-notes@"));
    // An empty prompt is named; another organisation's subscription is not found.
    let (s, body) =
        c.m.carol
            .call("/api/fn/try_model", &[("id", &c.sub), ("prompt", "  ")])
            .await;
    assert_eq!(s, 422, "{body}");
    assert!(body["fields"]["prompt"].is_array(), "{body}");
    assert_eq!(
        c.m.alice
            .call("/api/fn/try_model", &[("id", &c.sub), ("prompt", "hi")])
            .await
            .0,
        404
    );
    // Without JavaScript: the page it returns to shows the answer once,
    // escaped.
    let path = format!("/subscriptions/{}", c.sub);
    let res =
        c.m.carol
            .form(
                "/api/fn/try_model",
                &path,
                &[("id", &c.sub), ("prompt", "Second <i>go</i>")],
            )
            .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let page = c.m.carol.page(&path).await;
    assert!(
        page.contains("Echo: Second &lt;i&gt;go&lt;/i&gt;"),
        "{page}"
    );
    assert!(!page.contains("<i>go</i>"));
    assert!(
        !c.m.carol.page(&path).await.contains("Echo: Second"),
        "shown once"
    );
    // Metered like any call, and on the invoice.
    assert_eq!(
        db.count("SELECT COUNT(*) FROM gateway_calls WHERE billable = 1 AND api_key_id IS NULL")
            .await,
        2
    );
    let detail = call_ok(&c.m.carol, "/api/fn/subscription_detail", &[("id", &c.sub)]).await;
    assert_eq!(detail["invoices"][0]["gateway_calls"], 2);
    let day = detail["usage"]
        .as_array()
        .and_then(|d| d.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(day["gateway_calls"], 2, "{day}");
}

async fn a_call_the_client_walks_away_from_is_still_recorded_once_and_its_cap_given_back(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &ENV).await;
    let c = connected(&app, &db, [Behaviour::Hang, Behaviour::Fixed]).await;
    call_ok(
        &c.m.carol,
        "/api/fn/set_call_options",
        &[("id", &c.sub), ("monthly_call_cap", "1")],
    )
    .await;
    // The client gives up long before the upstream's first-byte timeout.
    let gone = app
        .client
        .post(app.url("/gateway/v1/chat/completions"))
        .bearer_auth(&c.key)
        .timeout(std::time::Duration::from_millis(200))
        .json(&ask("triage-notes", "Anyone?", false))
        .send()
        .await;
    assert!(gone.is_err(), "the client stopped waiting");
    // The call still ends (at the timeout), is recorded once at zero, and
    // its reservation is given back: the one call of the cap is still free.
    let mut recorded = 0;
    for _ in 0..50 {
        recorded = db.count("SELECT COUNT(*) FROM gateway_calls").await;
        if recorded > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(recorded, 1);
    assert_eq!(records(&db).await[0].0, "timeout");
    c.standin.register("first", &c.secrets[0], Behaviour::Fixed);
    let a = call(&app, Some(&c.key), &ask("triage-notes", "Now?", false)).await;
    assert_eq!(a.status, 200, "{}", a.text);
}

/// A client that accepts compressed answers (the `openai` package asks for
/// gzip) gets the model's answer as the model's server gave it: the
/// gateway compresses nothing it relays, answers or errors. The model list,
/// which the gateway writes itself, is compressed as any API answer, which
/// shows the request did ask for it.
async fn answers_leave_as_the_model_gave_them_never_compressed_on_the_way(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &ENV).await;
    let c = connected(&app, &db, [Behaviour::Fixed, Behaviour::Fixed]).await;
    // A client that decodes nothing, so the encoding is seen as sent.
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .expect("client");
    let asked = |body: Value| {
        raw.post(app.url("/gateway/v1/chat/completions"))
            .bearer_auth(&c.key)
            .header("accept-encoding", "br, gzip")
            .json(&body)
    };
    let long = "Is this urgent? ".repeat(200);
    for body in [
        ask("triage-notes", &long, false),
        ask("no-such-model", &long, false),
    ] {
        let res = asked(body).send().await.expect("call");
        let status = res.status().as_u16();
        assert_eq!(
            res.headers().get("content-encoding"),
            None,
            "status {status}"
        );
        let v: Value = res.json().await.expect("plain JSON");
        assert!(
            v["choices"][0]["message"]["content"]
                .as_str()
                .is_some_and(|t| t.starts_with("Echo: Is this urgent?"))
                || v["error"]["code"].is_string(),
            "{v}"
        );
    }
    let list = raw
        .get(app.url("/gateway/v1/models"))
        .bearer_auth(&c.key)
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .expect("models");
    assert!(
        list.headers().get("content-encoding").is_some(),
        "the model list is compressed like any API answer"
    );
}
