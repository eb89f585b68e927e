//! Test fixtures as builders, shared by every test module: a market with
//! the platform's referee and player, two partners and a client in one
//! call (`market`), a published offer and a subscription to it, conflict
//! cases, and metering keys and records. Test modules use these and never
//! one another.

use crate::helpers::{run_ok, App, TestDb, Visitor};
use app::calendar::rfc3339;
use fairground::standin::{Behaviour, StandIn};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// Accepts an invitation.
async fn join(v: &Visitor<'_>, token: &str) {
    call_ok(v, "/api/fn/accept_invitation", &[("token", token)]).await;
}

/// A marketplace: the platform (a referee and a player), two partners, a
/// client, and two base models added by the referee.
pub struct Market<'a> {
    pub referee: Visitor<'a>,
    pub player: Visitor<'a>,
    pub alice: Visitor<'a>,
    pub bob: Visitor<'a>,
    pub carol: Visitor<'a>,
    pub models: [String; 2],
}

pub async fn call_ok(v: &Visitor<'_>, path: &str, fields: &[(&str, &str)]) -> serde_json::Value {
    let (status, body) = v.call(path, fields).await;
    assert_eq!(status, 200, "{path} {fields:?}: {body}");
    body
}

/// The status a server function answers `v` with.
pub async fn status_of(v: &Visitor<'_>, path: &str, fields: &[(&str, &str)]) -> u16 {
    v.call(path, fields).await.0
}

/// The referee invites `email` to the platform as a player; the token.
pub async fn invite_player(referee: &Visitor<'_>, email: &str) -> String {
    invite(
        referee,
        &[
            ("email", email),
            ("role", "member"),
            ("staff_role", "player"),
        ],
    )
    .await
}

/// The visitor invites someone into its current organisation (`fields` of
/// `invite_member`); the invitation's token.
pub async fn invite(v: &Visitor<'_>, fields: &[(&str, &str)]) -> String {
    let link = call_ok(v, "/api/fn/invite_member", fields).await;
    let link = link.as_str().expect("link");
    link.rsplit('/').next().expect("token").to_string()
}

pub async fn market<'a>(app: &'a App, db: &TestDb) -> Market<'a> {
    let out = run_ok(
        db,
        &["admin", "bootstrap", "--email", "referee@example.org"],
    )
    .await;
    let token = out.trim().rsplit('/').next().expect("token").to_string();
    let referee = Visitor::signed_up(app, "referee@example.org", "Rita Referee").await;
    app.confirm_email("referee@example.org").await;
    join(&referee, &token).await;
    // Staff act only on a sign-in that passed two-step sign-in.
    referee.enable_two_step().await;
    let token = invite_player(&referee, "player@example.org").await;
    let player = Visitor::signed_up(app, "player@example.org", "Pat Player").await;
    app.confirm_email("player@example.org").await;
    join(&player, &token).await;
    player.enable_two_step().await;
    let mut orgs = Vec::new();
    for (email, name, org, kind) in [
        ("alice@example.org", "Alice", "Meridian Health", "partner"),
        ("bob@example.org", "Bob", "Ledgerline", "partner"),
        ("carol@example.org", "Carol", "St Brigid Hospital", "client"),
    ] {
        let v = Visitor::signed_up(app, email, name).await;
        call_ok(&v, "/api/fn/create_org", &[("name", org), ("kind", kind)]).await;
        orgs.push(v);
    }
    let mut models = Vec::new();
    for (name, version) in [("Aurora", "2"), ("Lumen", "3")] {
        let id = call_ok(
            &referee,
            "/api/fn/add_base_model",
            &[
                ("provider", "Labs"),
                ("name", name),
                ("version", version),
                ("modality", "text"),
                ("context_length", "128000"),
                ("licence", "Commercial"),
            ],
        )
        .await;
        models.push(id.as_i64().expect("id").to_string());
    }
    let carol = orgs.pop().expect("client");
    let bob = orgs.pop().expect("partner");
    let alice = orgs.pop().expect("partner");
    Market {
        referee,
        player,
        alice,
        bob,
        carol,
        models: [models[0].clone(), models[1].clone()],
    }
}

/// A draft with a description and a plan, ready to submit; its id.
pub async fn ready_draft(v: &Visitor<'_>, name: &str, model: &str) -> String {
    let id = call_ok(
        v,
        "/api/fn/create_listing",
        &[
            ("name", name),
            ("tagline", "A model for testing."),
            ("industry", "healthcare"),
            ("base_model_id", model),
        ],
    )
    .await
    .as_i64()
    .expect("id")
    .to_string();
    let slug = slug_of(name);
    call_ok(
        v,
        "/api/fn/update_listing",
        &[
            ("id", &id),
            ("name", name),
            ("slug", &slug),
            ("tagline", "A model for testing."),
            ("description", "Reads **notes**."),
            ("industry", "healthcare"),
            ("tags", "triage, notes"),
            ("certifications", "ISO 27001"),
        ],
    )
    .await;
    basic_plan(v, &id).await;
    id
}

/// Adds the "Basic" plan (EUR 49 a month, 1,000 calls, 2.50 per 1,000 over).
pub async fn basic_plan(v: &Visitor<'_>, listing: &str) {
    call_ok(
        v,
        "/api/fn/add_plan",
        &[
            ("listing_id", listing),
            ("plan_name", "Basic"),
            ("monthly_fee", "49"),
            ("currency", "EUR"),
            ("included_calls", "1000"),
            ("overage_per_1000", "2.50"),
        ],
    )
    .await;
}

pub fn slug_of(name: &str) -> String {
    name.to_lowercase().replace(' ', "-")
}

/// Slugs of every published listing the public catalogue finds for `q`.
pub async fn catalogue_slugs(v: &Visitor<'_>, q: &str) -> Vec<String> {
    let body = call_ok(v, "/api/fn/catalogue_search", &[("q", q)]).await;
    body["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["card"]["slug"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Alice's "Triage Notes", published, on both base models; Carol's choices.
pub struct Offer {
    pub listing: String,
    pub plan: String,
    pub deployments: Vec<String>,
}

pub async fn offer(m: &Market<'_>) -> Offer {
    let listing = alice_publishes(m).await;
    call_ok(
        &m.alice,
        "/api/fn/add_deployment",
        &[
            ("listing_id", &listing),
            ("base_model_id", &m.models[1]),
            ("revision", "lora-2"),
            ("status", "active"),
            ("eval_score", "81"),
        ],
    )
    .await;
    let o = call_ok(
        &m.carol,
        "/api/fn/subscribe_options",
        &[("listing_id", &listing)],
    )
    .await;
    assert_eq!(o["can_subscribe"], true, "{o}");
    let values = |k: &str| -> Vec<String> {
        o[k].as_array()
            .expect("choices")
            .iter()
            .map(|c| c["value"].as_str().expect("value").to_string())
            .collect()
    };
    let deployments = values("deployments");
    assert_eq!(deployments.len(), 2, "{o}");
    Offer {
        listing,
        plan: values("plans")[0].clone(),
        deployments,
    }
}

/// Carol's client subscribes to a published listing with its first plan
/// and first base model.
pub async fn carol_subscribes_to(m: &Market<'_>, listing: &str) -> String {
    subscribes_to(&m.carol, listing).await
}

/// The visitor's current (client) organisation subscribes to a published
/// listing with its first plan and first base model; the subscription's id.
pub async fn subscribes_to(v: &Visitor<'_>, listing: &str) -> String {
    let o = call_ok(v, "/api/fn/subscribe_options", &[("listing_id", listing)]).await;
    let first = |k: &str| o[k][0]["value"].as_str().expect("choice").to_string();
    call_ok(
        v,
        "/api/fn/subscribe",
        &[
            ("listing_id", listing),
            ("plan_id", &first("plans")),
            ("deployment_id", &first("deployments")),
        ],
    )
    .await
    .as_i64()
    .expect("id")
    .to_string()
}

/// Carol's client subscribes to the offer on its first base model.
pub async fn carol_subscribes(m: &Market<'_>, o: &Offer) -> String {
    let id = call_ok(
        &m.carol,
        "/api/fn/subscribe",
        &[
            ("listing_id", &o.listing),
            ("plan_id", &o.plan),
            ("deployment_id", &o.deployments[0]),
        ],
    )
    .await;
    id.as_i64().expect("id").to_string()
}

/// The id of the newest case of `kind` the visitor can see.
pub async fn case_of(v: &Visitor<'_>, kind: &str) -> String {
    let list = call_ok(v, "/api/fn/cases_list", &[]).await;
    list["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["kind"] == kind)
        .map(|c| c["id"].as_i64().expect("id").to_string())
        .unwrap_or_else(|| panic!("no {kind} case in {list}"))
}

/// The platform's player publishes "Platform Triage" beside Alice's
/// listing: submitted, signed off by a referee, approved. Returns the
/// listing's and its case's ids.
pub async fn platform_publishes(m: &Market<'_>) -> (String, String) {
    let fp = ready_draft(&m.player, "Platform Triage", &m.models[1]).await;
    call_ok(&m.player, "/api/fn/submit_listing", &[("id", &fp)]).await;
    let case = case_of(&m.referee, "first_party_overlap").await;
    call_ok(
        &m.referee,
        "/api/fn/decide_case",
        &[
            ("id", &case),
            ("action", "sign_off"),
            ("words", "A different audience: triage nurses."),
        ],
    )
    .await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &fp)]).await;
    (fp, case)
}

/// Alice publishes "Triage Notes" in healthcare.
pub async fn alice_publishes(m: &Market<'_>) -> String {
    let id = ready_draft(&m.alice, "Triage Notes", &m.models[0]).await;
    call_ok(&m.alice, "/api/fn/submit_listing", &[("id", &id)]).await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &id)]).await;
    id
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

pub fn record(key: &str, sub: &str, quantity: i64, at: i64) -> Value {
    json!({
        "idempotency_key": key,
        "subscription_id": sub.parse::<i64>().expect("id"),
        "dimension": "calls",
        "quantity": quantity,
        "occurred_at": rfc3339(at),
    })
}

/// Makes a key as `v` (an owner or admin of a publisher) and returns it.
pub async fn new_key(v: &Visitor<'_>, name: &str) -> String {
    let k = call_ok(v, "/api/fn/create_api_key", &[("name", name)]).await;
    k["key"].as_str().expect("key").to_string()
}

/// Posts a batch: (status, body).
pub async fn post_usage(app: &App, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = app.client.post(app.url("/api/v1/usage")).json(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let res = req.send().await.expect("post");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A stand-in upstream that echoes each prompt back ("Echo: …"), where
/// it listens, and the deployment's signing secret.
pub struct Echo {
    pub standin: StandIn,
    pub addr: std::net::SocketAddr,
    pub secret: String,
}

/// Connects a deployment of the publisher's listing to a new echoing
/// stand-in upstream.
pub async fn echo_upstream(publisher: &Visitor<'_>, listing: &str, deployment: &str) -> Echo {
    let standin = StandIn::default();
    let addr = standin
        .spawn("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("stand-in");
    let set = call_ok(
        publisher,
        "/api/fn/set_endpoint",
        &[
            ("listing_id", listing),
            ("deployment_id", deployment),
            ("base_url", &format!("http://{addr}/u/echo")),
            ("model", "echo-1"),
        ],
    )
    .await;
    let secret = set["secret"].as_str().expect("a new secret").to_string();
    standin.register("echo", &secret, Behaviour::Fixed);
    Echo {
        standin,
        addr,
        secret,
    }
}

/// The JSON Lines of a set of `total` items of which an echoing model
/// passes the first `passing` under the "contains" rule.
pub fn echo_items(passing: usize, total: usize) -> String {
    (0..total)
        .map(|i| {
            if i < passing {
                json!({"prompt": format!("Repeat the code alpha{i}."), "expected": format!("alpha{i}")})
            } else {
                json!({"prompt": "Which code is it?", "expected": format!("omega{i}")})
            }
            .to_string()
                + "\n"
        })
        .collect()
}

/// A referee publishes a new version of healthcare's evaluation set.
pub async fn publish_echo_set(referee: &Visitor<'_>, passing: usize, total: usize) -> Value {
    call_ok(
        referee,
        "/api/fn/publish_evaluation_set",
        &[
            ("industry", "healthcare"),
            ("name", "Triage answers"),
            ("rule", "contains"),
            ("items", &echo_items(passing, total)),
            ("reason", "Codes a triage model must repeat."),
        ],
    )
    .await
}

/// A referee runs the industry's set on a deployment: the run's id.
pub async fn run_set(referee: &Visitor<'_>, deployment: &str) -> String {
    call_ok(
        referee,
        "/api/fn/run_evaluation",
        &[("deployment_id", deployment)],
    )
    .await
    .as_i64()
    .expect("run id")
    .to_string()
}

/// One plain gateway call to the offer's listing ("triage-notes") with
/// `key`, and one record of usage (`tag` makes its key unique) sent with a
/// metering `key`: the answers, for tests that only look at the status.
pub async fn chat(app: &App, key: &str) -> reqwest::Response {
    app.client
        .post(app.url("/gateway/v1/chat/completions"))
        .bearer_auth(key)
        .json(&json!({"model": "triage-notes", "messages": [{"role": "user", "content": "Hi"}]}))
        .send()
        .await
        .expect("gateway call")
}

pub async fn one_record(app: &App, key: &str, sub: &str, tag: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/usage"))
        .bearer_auth(key)
        .json(&json!({"records": [record(&format!("{tag}-{}", now_ms()), sub, 1, now_ms())]}))
        .send()
        .await
        .expect("usage")
}
