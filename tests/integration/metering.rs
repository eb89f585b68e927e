//! The metering API: keys, every outcome of a record, duplicates across
//! batches and restarts, whole-request refusals, durability under SIGKILL,
//! and the statements the usage feeds.

use crate::builders::{
    call_ok, carol_subscribes, market, new_key, now_ms, offer, post_usage, record, status_of,
    Market,
};
use crate::helpers::{App, Backend, TestDb, Visitor};
use serde_json::{json, Value};
use std::time::Duration;

crate::on_both_backends!(
    keys_are_shown_once_hashed_scoped_and_revocable,
    every_record_is_accepted_once_duplicated_or_rejected_with_its_reason,
    whole_requests_are_refused_with_a_precise_status,
    acknowledged_records_survive_repeated_sigkill,
    statements_split_usage_at_the_take_rate_in_force,
    the_same_batch_sent_ten_times_at_once_is_counted_once,
    a_key_over_its_request_limit_is_told_to_wait_and_nothing_is_stored,
    quantities_are_bounded_and_the_largest_break_no_page,
);

/// The market, Carol's subscription to Alice's listing, and a key of Alice's.
async fn metered<'a>(app: &'a App, db: &TestDb) -> (Market<'a>, String, String) {
    let m = market(app, db).await;
    let o = offer(&m).await;
    let sub = carol_subscribes(&m, &o).await;
    let key = new_key(&m.alice, "alice").await;
    (m, sub, key)
}

/// Posts a batch on its own task, so that several are in flight at once.
fn send_now(app: &App, key: &str, batch: &Value) -> tokio::task::JoinHandle<reqwest::Response> {
    let request = app
        .client
        .post(app.url("/api/v1/usage"))
        .bearer_auth(key)
        .json(batch);
    tokio::spawn(async move { request.send().await.expect("post") })
}

fn statuses(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| match r["reason"].as_str() {
            Some(reason) => format!("rejected:{reason}"),
            None => r["status"].as_str().unwrap_or("?").to_string(),
        })
        .collect()
}

async fn keys_are_shown_once_hashed_scoped_and_revocable(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    assert_eq!(
        status_of(&m.referee, "/api/fn/create_api_key", &[("name", "x")]).await,
        403
    );
    let (status, body) = m
        .alice
        .call("/api/fn/create_api_key", &[("name", " ")])
        .await;
    assert_eq!(status, 422, "{body}");
    let key = new_key(&m.alice, "Billing node").await;
    assert!(key.starts_with("fgk_") && key.len() > 40, "{key}");
    // A script gets the key in the answer, and it is kept nowhere else.
    let page = m.alice.page("/org/api-keys").await;
    assert!(!page.contains(&key), "not kept for the page");
    assert!(page.contains(&key[..12]), "its prefix is visible");
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE data LIKE '%{}%'",
            &key[13..]
        ))
        .await,
        0
    );
    // A form posted without JavaScript: the page shows the key once.
    let res = m
        .alice
        .form(
            "/api/fn/create_api_key",
            "/org/api-keys",
            &[("name", "From the form")],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let once = |html: &str| {
        let doc = scraper::Html::parse_document(html);
        let sel = scraper::Selector::parse("code.new-key").expect("selector");
        doc.select(&sel)
            .next()
            .map(|c| c.text().collect::<String>())
    };
    let page = m.alice.page("/org/api-keys").await;
    let shown = once(&page).expect("the new key is shown");
    assert!(shown.starts_with("fgk_"), "{shown}");
    let page = m.alice.page("/org/api-keys").await;
    assert_eq!(once(&page), None, "and only once");
    assert!(page.contains(&shown[..12]), "its prefix stays visible");
    // Stored hashed: the key is nowhere in the database.
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM api_keys WHERE key_hash = '{key}' OR prefix = '{key}'"
        ))
        .await,
        0
    );
    let keys = call_ok(&m.alice, "/api/fn/api_keys", &[]).await;
    assert!(!keys.to_string().contains(&key));
    // Newest first: the form's key, then the script's.
    let keys_of = |k: &Value| k["keys"].as_array().cloned().unwrap_or_default();
    let listed = keys_of(&keys);
    assert_eq!(listed.len(), 2, "{keys}");
    assert_eq!(listed[1]["name"], "Billing node");
    assert_eq!(listed[1]["last_used_at"], Value::Null);
    // Bob sees none of Alice's keys and cannot revoke them.
    let bobs = call_ok(&m.bob, "/api/fn/api_keys", &[]).await;
    assert_eq!(bobs["keys"].as_array().map(Vec::len), Some(0));
    let id = listed[1]["id"].as_i64().expect("id").to_string();
    assert_eq!(
        status_of(&m.bob, "/api/fn/revoke_api_key", &[("id", &id)]).await,
        404
    );
    // Using it sets "last used".
    let (status, _) = post_usage(
        &app,
        Some(&key),
        &json!({"records": [record("k1", "999999", 1, now_ms())]}),
    )
    .await;
    assert_eq!(status, 200);
    let keys = call_ok(&m.alice, "/api/fn/api_keys", &[]).await;
    assert!(
        keys_of(&keys)[1]["last_used_at"].as_i64().is_some(),
        "{keys}"
    );
    // Revoked: refused from then on.
    call_ok(&m.alice, "/api/fn/revoke_api_key", &[("id", &id)]).await;
    let (status, body) = post_usage(
        &app,
        Some(&key),
        &json!({"records": [record("k2", "1", 1, now_ms())]}),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthorized");
    // A key with the right prefix and a wrong secret is refused too.
    let forged = format!("{}{}", &key[..13], "A".repeat(key.len() - 13));
    let (status, _) = post_usage(&app, Some(&forged), &json!({"records": []})).await;
    assert_eq!(status, 401);
    // A client's owner makes gateway keys (for calling models), which the
    // publishers never see and which report no usage.
    let gateway = new_key(&m.carol, "Ward system").await;
    assert!(
        gateway.starts_with("fgc_") && gateway.len() == key.len(),
        "{gateway}"
    );
    let carols = call_ok(&m.carol, "/api/fn/api_keys", &[]).await;
    assert_eq!(carols["purpose"], "gateway");
    assert_eq!(keys_of(&carols).len(), 1, "{carols}");
    assert_eq!(keys_of(&carols)[0]["name"], "Ward system");
    let alices = call_ok(&m.alice, "/api/fn/api_keys", &[]).await;
    assert_eq!(alices["purpose"], "metering");
    assert!(!alices.to_string().contains(&gateway[..12]), "{alices}");
    let (status, body) = post_usage(
        &app,
        Some(&gateway),
        &json!({"records": [record("k3", "1", 1, now_ms())]}),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    // Even a partner's key turned into a gateway key stops reporting.
    let other = new_key(&m.alice, "Calls models").await;
    let mut conn = db.connect().await;
    sqlx::query("UPDATE api_keys SET purpose = 'gateway' WHERE prefix = $1")
        .bind(&other[..12])
        .execute(&mut conn)
        .await
        .expect("purpose");
    let (status, body) = post_usage(
        &app,
        Some(&other),
        &json!({"records": [record("k4", "1", 1, now_ms())]}),
    )
    .await;
    assert_eq!(status, 401, "{body}");
}

async fn every_record_is_accepted_once_duplicated_or_rejected_with_its_reason(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let o = offer(&m).await;
    let sub = carol_subscribes(&m, &o).await;
    let alice = new_key(&m.alice, "alice").await;
    let bob = new_key(&m.bob, "bob").await;
    let now = now_ms();
    let batch = json!({"records": [
        record("a", &sub, 10, now),
        record("a", &sub, 10, now),                         // same key, same content: duplicate
        record("a", &sub, 11, now),                         // same key, other content
        record("b", "999999", 1, now),                      // no such subscription
        record("c", &sub, 1, now - 7 * 3_600_000),          // more than 6 h old
        record("d", &sub, 1, now + 10 * 60_000),            // more than 5 min ahead
        record("e", &sub, 0, now),
        record("f", &sub, -3, now),
        {"idempotency_key": "g", "subscription_id": sub.parse::<i64>().unwrap(), "dimension": "tokens", "quantity": 1, "occurred_at": app::calendar::rfc3339(now)},
        record("", &sub, 1, now),
        record(&"x".repeat(129), &sub, 1, now),
        record("h", &sub, 1, now - 3_600_000),              // before the subscription began
        record("i", &sub, 5, now + 60_000),                 // a little ahead: fine
    ]});
    let (status, body) = post_usage(&app, Some(&alice), &batch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        statuses(&body),
        [
            "accepted",
            "duplicate",
            "rejected:key_reused",
            "rejected:unknown_subscription",
            "rejected:too_old",
            "rejected:in_future",
            "rejected:non_positive_quantity",
            "rejected:non_positive_quantity",
            "rejected:unknown_dimension",
            "rejected:invalid_key",
            "rejected:invalid_key",
            "rejected:not_active",
            "accepted",
        ]
    );
    assert_eq!(
        (
            body["accepted"].as_i64(),
            body["duplicates"].as_i64(),
            body["rejected"].as_i64()
        ),
        (Some(2), Some(1), Some(10))
    );
    assert!(body["results"][3]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert_eq!(db.count("SELECT COUNT(*) FROM usage_records").await, 2);
    assert_eq!(
        db.count("SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM usage_records")
            .await,
        15
    );

    // Another partner's key cannot meter Alice's subscription.
    let (status, body) = post_usage(
        &app,
        Some(&bob),
        &json!({"records": [record("z", &sub, 1, now)]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(statuses(&body), ["rejected:unknown_subscription"]);
    // Keys are per organisation: Bob's "a" is not Alice's "a".
    let (_, body) = post_usage(
        &app,
        Some(&bob),
        &json!({"records": [record("a", &sub, 10, now)]}),
    )
    .await;
    assert_eq!(statuses(&body), ["rejected:unknown_subscription"]);

    // A later batch, then a restarted server: still counted once.
    let (_, body) = post_usage(
        &app,
        Some(&alice),
        &json!({"records": [record("a", &sub, 10, now), record("j", &sub, 2, now)]}),
    )
    .await;
    assert_eq!(statuses(&body), ["duplicate", "accepted"]);
    let carol = m.carol.cookie().expect("cookie");
    drop(m);
    let mut app = app;
    app.signal(libc::SIGTERM);
    app.wait_exit(Duration::from_secs(20)).await;
    let app = App::spawn(&db).await;
    let (_, body) = post_usage(&app, Some(&alice), &json!({"records": [record("a", &sub, 10, now), record("j", &sub, 2, now), record("a", &sub, 99, now)]})).await;
    assert_eq!(
        statuses(&body),
        ["duplicate", "duplicate", "rejected:key_reused"]
    );
    assert_eq!(
        db.count("SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM usage_records")
            .await,
        17
    );

    // 1,000 records: accepted; 1,001: refused as a whole.
    let big: Vec<Value> = (0..1000)
        .map(|i| record(&format!("big-{i}"), &sub, 1, now))
        .collect();
    let (status, body) = post_usage(&app, Some(&alice), &json!({ "records": big })).await;
    assert_eq!(status, 200);
    assert_eq!(body["accepted"], 1000);
    let too_big: Vec<Value> = (0..1001)
        .map(|i| record(&format!("huge-{i}"), &sub, 1, now))
        .collect();
    let (status, body) = post_usage(&app, Some(&alice), &json!({ "records": too_big })).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("1,000")
            || body["message"].as_str().unwrap_or("").contains("1000"),
        "{body}"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM usage_records WHERE idempotency_key LIKE 'huge-%'")
            .await,
        0
    );

    // After a cancellation, usage is refused.
    // (Carol's session lives in the database: it outlasts the restart.)
    let carol = Visitor::with_cookie(&app, &carol);
    call_ok(&carol, "/api/fn/cancel_subscription", &[("id", &sub)]).await;
    let (_, body) = post_usage(
        &app,
        Some(&alice),
        &json!({"records": [record("after", &sub, 1, now_ms() + 1_000)]}),
    )
    .await;
    assert_eq!(statuses(&body), ["rejected:not_active"]);
}

async fn whole_requests_are_refused_with_a_precise_status(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let key = new_key(&m.alice, "alice").await;
    let ok = json!({"records": [record("a", "1", 1, now_ms())]});
    // No key, a session cookie instead of a key: 401.
    let (status, body) = post_usage(&app, None, &ok).await;
    assert_eq!(status, 401, "{body}");
    let res = app
        .client
        .post(app.url("/api/v1/usage"))
        .header("cookie", m.alice.cookie().unwrap_or_default())
        .header("origin", app.base_url.clone())
        .json(&ok)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 401, "a session does not authenticate the API");
    let send = |ct: &'static str, body: Vec<u8>| {
        app.client
            .post(app.url("/api/v1/usage"))
            .bearer_auth(&key)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let res = send("text/plain", b"{}".to_vec()).await.expect("post");
    assert_eq!(res.status(), 415);
    let res = send("application/json", b"{\"records\": [".to_vec())
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "malformed_json");
    let res = send("application/json", br#"{"records": [{"idempotency_key": "a", "subscription_id": 1, "dimension": "calls", "quantity": "many", "occurred_at": "2026-11-28T10:00:00Z"}]}"#.to_vec()).await.expect("post");
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        body["message"],
        "records[0].quantity must be a whole number (64-bit)."
    );
    let res = send("application/json", br#"{"records": [{"idempotency_key": "a", "subscription_id": 1, "dimension": "calls", "quantity": 1, "occurred_at": "yesterday"}]}"#.to_vec()).await.expect("post");
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("records[0].occurred_at"),
        "{body}"
    );
    // (On a connection of its own: the server answers before reading the
    // whole body, then closes the connection.)
    let res = crate::helpers::client()
        .post(app.url("/api/v1/usage"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 413);
    let res = send("application/json", b"{\"records\": []}".to_vec())
        .await
        .expect("post");
    assert_eq!(res.status(), 422);
    // The description of it all.
    let doc: Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("openapi");
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3."),
        "{doc}"
    );
    assert!(doc["paths"]["/api/v1/usage"]["post"].is_object(), "{doc}");
    assert!(doc["components"]["schemas"]["UsageRecord"].is_object());
    let responses = &doc["paths"]["/api/v1/usage"]["post"]["responses"];
    for status in ["200", "400", "401", "413", "415", "422", "429"] {
        assert!(
            responses[status].is_object(),
            "{status} is described: {responses}"
        );
    }
    assert!(
        responses["429"]["headers"]["Retry-After"].is_object(),
        "{responses}"
    );
    let (status, page) = app.get_text("/api").await;
    assert_eq!(status, 200);
    assert!(page.contains("not_active") && page.contains("/api/v1/openapi.json"));
    assert_eq!(db.count("SELECT COUNT(*) FROM usage_records").await, 0);
}

async fn acknowledged_records_survive_repeated_sigkill(backend: Backend) {
    const ROUNDS: usize = 5;
    let db = TestDb::new(backend).await;
    // The sender goes as fast as it can: the per-key limit is not what is tested.
    let unlimited = [("FAIRGROUND_API_REQUESTS_PER_KEY", "1000000")];
    let mut app = App::spawn_with(&db, &unlimited).await;
    let (m, sub, key) = metered(&app, &db).await;
    drop(m);
    // Every record acknowledged as accepted, as it was sent.
    let mut acknowledged: Vec<(String, Value)> = Vec::new();
    let mut sent = 0usize;
    for round in 0..ROUNDS {
        // A sender records every record acknowledged as accepted, while the
        // server is killed under it.
        let client = app.client.clone();
        let url = app.url("/api/v1/usage");
        let key2 = key.clone();
        let sub2 = sub.clone();
        let sender = tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut attempted = 0usize;
            for batch in 0.. {
                let records: Vec<Value> = (0..50)
                    .map(|i| record(&format!("r{round}-b{batch}-{i}"), &sub2, 1, now_ms()))
                    .collect();
                attempted += records.len();
                let res = client
                    .post(&url)
                    .bearer_auth(&key2)
                    .json(&json!({ "records": records }))
                    .send()
                    .await;
                let Ok(res) = res else { break };
                let Ok(body) = res.json::<Value>().await else {
                    break;
                };
                for r in body["results"].as_array().into_iter().flatten() {
                    if r["status"] == "accepted" {
                        let i = r["index"].as_u64().unwrap_or(0) as usize;
                        acked.push((
                            r["idempotency_key"].as_str().unwrap_or("").to_string(),
                            records[i].clone(),
                        ));
                    }
                }
            }
            (acked, attempted)
        });
        tokio::time::sleep(Duration::from_millis(400 + 150 * round as u64)).await;
        app.signal(libc::SIGKILL);
        app.wait_exit(Duration::from_secs(20)).await;
        let (acked, attempted) = sender.await.expect("sender");
        assert!(
            !acked.is_empty(),
            "round {round}: some records were acknowledged"
        );
        acknowledged.extend(acked);
        sent += attempted;
        app = App::spawn_with(&db, &unlimited).await;
    }
    // Every acknowledged record is there, exactly once.
    let mut conn = db.connect().await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT idempotency_key FROM usage_records")
        .fetch_all(&mut conn)
        .await
        .expect("keys");
    let stored: std::collections::HashMap<String, usize> =
        stored.into_iter().fold(Default::default(), |mut m, k| {
            *m.entry(k).or_default() += 1;
            m
        });
    let lost = acknowledged
        .iter()
        .filter(|(k, _)| !stored.contains_key(k))
        .count();
    let doubled = stored.values().filter(|n| **n > 1).count();
    eprintln!(
        "kill loop ({backend:?}): {ROUNDS} SIGKILLs, {sent} records sent, {} acknowledged, {} stored, lost {lost}, counted twice {doubled}",
        acknowledged.len(),
        stored.len()
    );
    assert_eq!(lost, 0);
    assert_eq!(doubled, 0);
    // Sent again after all that: every one a duplicate.
    let again: Vec<Value> = acknowledged
        .iter()
        .take(1000)
        .map(|(_, r)| r.clone())
        .collect();
    let (status, body) = post_usage(&app, Some(&key), &json!({ "records": again })).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["duplicates"].as_u64(),
        Some(acknowledged.len().min(1000) as u64),
        "{}",
        body["accepted"]
    );
}

async fn statements_split_usage_at_the_take_rate_in_force(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let (m, sub, key) = metered(&app, &db).await;
    let now = now_ms();
    // 3,000 calls on a plan of EUR 49.00 with 1,000 included and EUR 2.50
    // per 1,000 more: 49.00 + 5.00 = 54.00.
    let (_, body) = post_usage(
        &app,
        Some(&key),
        &json!({"records": [record("u1", &sub, 1_000, now), record("u2", &sub, 2_000, now)]}),
    )
    .await;
    assert_eq!(body["accepted"], 2, "{body}");
    let invoice = |page: &Value| page["invoices"][0].clone();
    let page = call_ok(&m.carol, "/api/fn/subscription_detail", &[("id", &sub)]).await;
    let i = invoice(&page);
    assert_eq!(i["calls"], 3000, "{i}");
    assert_eq!(
        (
            i["plan_fee_minor"].as_i64(),
            i["overage_minor"].as_i64(),
            i["total_minor"].as_i64()
        ),
        (Some(4900), Some(500), Some(5400))
    );
    assert_eq!(
        (
            i["take_rate_bp"].as_i64(),
            i["platform_fee_minor"].as_i64(),
            i["payout_minor"].as_i64()
        ),
        (Some(2000), Some(1080), Some(4320))
    );
    assert!(page["usage"].as_array().is_some_and(|d| d
        .iter()
        .map(|x| x["calls"].as_i64().unwrap_or(0))
        .sum::<i64>()
        == 3000));
    // The rate changes: the open month's statement follows the rate in force.
    call_ok(
        &m.referee,
        "/api/fn/update_policy",
        &[
            ("non_compete", "on"),
            ("take_rate", "12.5"),
            ("featured_slots", "off"),
            ("reason", "Lower fees."),
        ],
    )
    .await;
    let page = call_ok(&m.carol, "/api/fn/subscription_detail", &[("id", &sub)]).await;
    let i = invoice(&page);
    // 12.5 % of 54.00 = 6.75.
    assert_eq!(
        (
            i["take_rate_bp"].as_i64(),
            i["platform_fee_minor"].as_i64(),
            i["payout_minor"].as_i64()
        ),
        (Some(1250), Some(675), Some(4725))
    );
    // The partner's statement says the same.
    let rev = call_ok(&m.alice, "/api/fn/publisher_revenue", &[]).await;
    let s = &rev["statements"][0];
    assert_eq!(
        (
            s["total_minor"].as_i64(),
            s["platform_fee_minor"].as_i64(),
            s["payout_minor"].as_i64()
        ),
        (Some(5400), Some(675), Some(4725)),
        "{rev}"
    );
    // The CSV exports carry the same figures.
    let csv = m
        .carol
        .get("/exports/invoices.csv")
        .await
        .text()
        .await
        .expect("csv");
    assert!(csv.starts_with("month,subscription,listing"), "{csv}");
    assert!(csv.contains(",Triage Notes,false,false,St Brigid Hospital,EUR,3000,0,3000,1000,49.00,5.00,54.00,1250,6.75,47.25,true"), "{csv}");
    let csv = m
        .alice
        .get("/exports/statements.csv")
        .await
        .text()
        .await
        .expect("csv");
    assert!(csv.contains(",54.00,1250,6.75,47.25,"), "{csv}");
    assert_eq!(
        m.bob.get("/exports/invoices.csv").await.status(),
        403,
        "a partner has no invoices"
    );
    // Marketplace totals (referees only).
    let totals = call_ok(&m.referee, "/api/fn/marketplace_totals", &[]).await;
    assert_eq!(totals[0]["total_minor"], 5400, "{totals}");
    assert_eq!(totals[0]["platform_fee_minor"], 675);
    assert_eq!(totals[0]["industry"], "healthcare");
    assert_eq!(totals[0]["industry_name"], "Healthcare");
    // Alice sees that a referee read her revenue within the totals.
    let log = call_ok(&m.alice, "/api/fn/data_access_log", &[]).await;
    assert!(log.to_string().contains("marketplace totals"), "{log}");
    for v in [&m.alice, &m.carol, &m.player] {
        assert_eq!(status_of(v, "/api/fn/marketplace_totals", &[]).await, 403);
    }
}

async fn the_same_batch_sent_ten_times_at_once_is_counted_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let (_market, sub, key) = metered(&app, &db).await;
    let now = now_ms();
    let batch = json!({ "records": (0..100).map(|i| record(&format!("same-{i}"), &sub, 2, now)).collect::<Vec<_>>() });
    let tasks: Vec<_> = (0..10).map(|_| send_now(&app, &key, &batch)).collect();
    let (mut accepted, mut duplicates) = (0, 0);
    for t in tasks {
        let res = t.await.expect("task");
        assert_eq!(res.status(), 200);
        let body = res.json::<Value>().await.expect("json");
        assert_eq!(body["rejected"], 0, "{body}");
        accepted += body["accepted"].as_i64().unwrap_or(0);
        duplicates += body["duplicates"].as_i64().unwrap_or(0);
    }
    assert_eq!((accepted, duplicates), (100, 900));
    assert_eq!(db.count("SELECT COUNT(*) FROM usage_records").await, 100);
    assert_eq!(
        db.count("SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM usage_records")
            .await,
        200
    );
}

async fn a_key_over_its_request_limit_is_told_to_wait_and_nothing_is_stored(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &[("FAIRGROUND_API_REQUESTS_PER_KEY", "5")]).await;
    let (m, sub, key) = metered(&app, &db).await;
    let now = now_ms();
    // Twenty batches of three records at once: a burst of five gets in.
    let tasks: Vec<_> = (0..20)
        .map(|b| {
            let batch = json!({ "records": (0..3).map(|i| record(&format!("burst-{b}-{i}"), &sub, 1, now)).collect::<Vec<_>>() });
            send_now(&app, &key, &batch)
        })
        .collect();
    let mut accepted_batches = 0;
    let mut refused = Vec::new();
    for (b, t) in tasks.into_iter().enumerate() {
        let res = t.await.expect("task");
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body = res.json::<Value>().await.expect("json");
        match status {
            200 => {
                assert_eq!(body["accepted"], 3, "{body}");
                accepted_batches += 1;
            }
            429 => {
                refused.push(b);
                assert_eq!(body["code"], "rate_limited", "{body}");
                let message = body["message"].as_str().unwrap_or("");
                assert!(message.contains("5 requests a second"), "{message}");
                assert_eq!(retry_after, Some(1), "Retry-After in whole seconds");
            }
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert!(
        refused.len() >= 10,
        "most of twenty at once are refused ({refused:?})"
    );
    assert!(
        (5..=10).contains(&accepted_batches),
        "a burst of five, and the few a second refills ({accepted_batches})"
    );
    // Only the batches answered 200 were stored.
    assert_eq!(
        db.count("SELECT COUNT(*) FROM usage_records").await,
        3 * accepted_batches
    );
    // Another key of the same partner has its own budget.
    let other = new_key(&m.alice, "second").await;
    let one = json!({ "records": [record("other-key-1", &sub, 1, now)] });
    assert_eq!(post_usage(&app, Some(&other), &one).await.0, 200);
    // After the wait, the first key is let in again, and a refused batch
    // sent then is new: none of it was kept.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let b = refused[0];
    let resend = json!({ "records": (0..3).map(|i| record(&format!("burst-{b}-{i}"), &sub, 1, now)).collect::<Vec<_>>() });
    let (status, body) = post_usage(&app, Some(&key), &resend).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 3, "{body}");
}

/// A record may carry at most 1,000,000,000: `i64::MAX` (which used to be
/// stored and then overflowed every sum) is rejected with its own reason,
/// and many records at the maximum leave every page and export that sums
/// usage answering, with the exact figures.
async fn quantities_are_bounded_and_the_largest_break_no_page(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let (m, sub, key) = metered(&app, &db).await;
    let now = now_ms();
    let max = app::metering::MAX_QUANTITY;
    assert_eq!(max, 1_000_000_000);
    let mut records = vec![
        record("huge", &sub, i64::MAX, now),
        record("over", &sub, max + 1, now),
    ];
    records.extend((0..20).map(|i| record(&format!("max-{i}"), &sub, max, now)));
    let (status, body) = post_usage(&app, Some(&key), &json!({ "records": records })).await;
    assert_eq!(status, 200, "{body}");
    let got = statuses(&body);
    assert_eq!(
        &got[..2],
        ["rejected:quantity_too_large", "rejected:quantity_too_large"],
        "{body}"
    );
    assert!(got[2..].iter().all(|s| s == "accepted"), "{body}");
    assert_eq!(
        body["results"][0]["message"],
        "quantity must be at most 1,000,000,000 per record."
    );
    // 20 billion calls: 1,000 included, EUR 2.50 per 1,000 more.
    let page = call_ok(&m.carol, "/api/fn/subscription_detail", &[("id", &sub)]).await;
    let i = &page["invoices"][0];
    assert_eq!(i["calls"], 20_000_000_000i64, "{i}");
    assert_eq!(i["overage_minor"], 4_999_999_750i64, "{i}");
    let id = sub.as_str();
    // The list of subscriptions shows no usage; it must answer all the same.
    assert_eq!(m.carol.get("/subscriptions").await.status(), 200);
    for (v, path) in [
        (&m.carol, format!("/subscriptions/{id}")),
        (&m.carol, "/exports/invoices.csv".to_string()),
        (&m.alice, "/revenue".to_string()),
        (&m.alice, "/exports/statements.csv".to_string()),
        (&m.referee, "/marketplace-totals".to_string()),
    ] {
        let res = v.get(&path).await;
        assert_eq!(res.status(), 200, "{path}");
        let text = res.text().await.expect("body");
        // The calls, or the total they bill (49.00 + 49,999,997.50).
        assert!(
            [
                "20,000,000,000",
                "20000000000",
                "50,000,046.50",
                "50000046.50"
            ]
            .iter()
            .any(|f| text.contains(f)),
            "{path} shows the figures: {text}"
        );
    }
}
