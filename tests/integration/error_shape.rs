//! One error shape everywhere a client can get JSON back: server functions
//! (bad arguments, validation, sign-in), the same-origin layer, the edge's
//! body limits, the metering API and the CSV exports all answer
//! `{"code", "message", "fields"}` with the error's own status.

use crate::helpers::{api_post, App, Backend, TestDb, Visitor};
use serde_json::Value;

crate::on_both_backends!(every_json_error_has_code_message_and_fields_and_its_own_status);

/// The body has exactly code, message and fields (fields an object), plus
/// `extra` keys.
fn one_shape(what: &str, body: &Value, code: &str, extra: &[&str]) {
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not a JSON object: {body}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = vec!["code", "fields", "message"];
    want.extend_from_slice(extra);
    want.sort_unstable();
    assert_eq!(keys, want, "{what}: {body}");
    assert_eq!(body["code"], code, "{what}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
    assert!(body["fields"].is_object(), "{what}: {body}");
}

async fn json_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("application/json"), "content type {ct:?}");
    (status, res.json().await.expect("json"))
}

async fn every_json_error_has_code_message_and_fields_and_its_own_status(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;

    // A server function called without its argument: the caller's mistake,
    // 400 from the error itself (the framework alone would answer 500).
    let (status, body, _) = api_post(&app, "/api/fn/listing_page", &[]).await;
    assert_eq!(status, 400, "{body}");
    one_shape("missing argument", &body, "bad_request", &[]);

    // Validation: 422 with the field's message.
    let (status, body, _) = api_post(
        &app,
        "/api/fn/sign_up",
        &[
            ("email", "not an email"),
            ("display_name", "A"),
            ("password", "x"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    one_shape("validation", &body, "validation", &[]);
    assert!(body["fields"]["email"][0].is_string(), "{body}");

    // Sign-in needed.
    let (status, body, _) = api_post(&app, "/api/fn/my_listings", &[]).await;
    assert_eq!(status, 401, "{body}");
    one_shape("signed out", &body, "unauthorized", &[]);

    // The same-origin layer.
    let res = app
        .client
        .post(app.url("/api/fn/sign_out"))
        .header("origin", "https://evil.example")
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .expect("post");
    let (status, body) = json_of(res).await;
    assert_eq!(status, 403, "{body}");
    one_shape("cross-site", &body, "forbidden", &[]);

    // A body over the limit, outside the metering API (on a connection of
    // its own: the server closes it without reading the rest).
    let res = crate::helpers::client()
        .post(app.url("/api/fn/sign_in"))
        .header("origin", &app.base_url)
        .header(reqwest::header::ACCEPT, "application/json")
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(format!("email={}", "a".repeat(3 * 1024 * 1024)))
        .send()
        .await
        .expect("post");
    let (status, body) = json_of(res).await;
    assert_eq!(status, 413, "{body}");
    one_shape("too large", &body, "payload_too_large", &[]);

    // The metering API without a key.
    let res = app
        .client
        .post(app.url("/api/v1/usage"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        .expect("post");
    let (status, body) = json_of(res).await;
    assert_eq!(status, 401, "{body}");
    one_shape("metering", &body, "unauthorized", &[]);

    // An export asked for without signing in (it answered plain text).
    let (status, body) = json_of(Visitor::new(&app).get("/exports/invoices.csv").await).await;
    assert_eq!(status, 401, "{body}");
    one_shape("export", &body, "unauthorized", &[]);

    // Rate limited: the wait travels in the body and the header.
    let mut limited = None;
    for _ in 0..60 {
        let (status, body, headers) = api_post(
            &app,
            "/api/fn/sign_in",
            &[
                ("email", "nobody@example.org"),
                ("password", "wrong password 1"),
            ],
        )
        .await;
        if status == 429 {
            limited = Some((body, headers));
            break;
        }
    }
    let (body, headers) = limited.expect("sign-in attempts are limited");
    one_shape("rate limited", &body, "rate_limited", &["retry_after_secs"]);
    assert_eq!(
        headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body["retry_after_secs"].as_u64().map(|n| n.to_string()),
        "{body}"
    );
}
