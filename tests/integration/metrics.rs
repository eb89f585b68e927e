//! `GET /metrics`: closed unless configured; behind its bearer token on the
//! main address and alone on an address of its own; requests counted by
//! route pattern (never by the path as sent), kept pages, usage records by
//! outcome, the pool and the outbox.

use crate::builders::{carol_subscribes, market, new_key, now_ms, offer, post_usage, record};
use crate::helpers::{run_cli_with, App, Backend, TestDb};
use serde_json::json;

crate::on_both_backends!(
    metrics_are_closed_unless_configured_and_ask_for_their_token,
    metrics_count_by_route_pattern_and_outcome_and_name_no_path_or_key,
);

const TOKEN: &str = "m3tr1cs-t0ken-for-the-test-0123456789";

/// Scrapes `url` with `token`: (status, body).
async fn scrape(app: &App, url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = app.client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("scrape");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

/// The value of the sample line that starts with `series` followed by a
/// space (0 when there is none).
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().expect("number"))
        .unwrap_or(0.0)
}

async fn metrics_are_closed_unless_configured_and_ask_for_their_token(backend: Backend) {
    let db = TestDb::new(backend).await;
    // Nothing configured: no metrics anywhere.
    let plain = App::spawn(&db).await;
    assert_eq!(plain.get("/metrics").await.status(), 404);
    drop(plain);

    // A token too short to be safe stops the start.
    let out = run_cli_with(
        &db,
        &["serve"],
        &[("FAIRGROUND_METRICS_TOKEN", "short-token")],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("FAIRGROUND_METRICS_TOKEN must be at least 32"),
        "{stderr}"
    );

    let app = App::spawn_with(
        &db,
        &[
            ("FAIRGROUND_METRICS_TOKEN", TOKEN),
            ("FAIRGROUND_METRICS_ADDR", "127.0.0.1:0"),
        ],
    )
    .await;
    let main = app.url("/metrics");
    for token in [None, Some("wrong"), Some(&TOKEN[..TOKEN.len() - 1])] {
        let res = match token {
            Some(t) => app.client.get(&main).bearer_auth(t).send().await,
            None => app.client.get(&main).send().await,
        }
        .expect("scrape");
        assert_eq!(res.status(), 401, "{token:?}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        let body: serde_json::Value = res.json().await.expect("the API's error shape");
        assert_eq!(body["code"], "unauthorized", "{body}");
    }
    let (status, text) = scrape(&app, &main, Some(TOKEN)).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("# TYPE fairground_http_requests_total counter"),
        "{text}"
    );

    // The metrics' own address: only /metrics, and it asks for the token too.
    let own = app
        .announced
        .iter()
        .find_map(|l| l.strip_prefix("fairground metrics on "))
        .expect("the metrics address is announced")
        .trim()
        .to_string();
    assert!(
        own.starts_with("http://127.0.0.1:") && own.ends_with("/metrics"),
        "{own}"
    );
    assert_ne!(own, main);
    assert_eq!(scrape(&app, &own, None).await.0, 401);
    let (status, text) = scrape(&app, &own, Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert!(
        text.contains("fairground_db_pool_max_connections "),
        "{text}"
    );
    let elsewhere = own.replace("/metrics", "/catalogue");
    assert_eq!(
        app.client
            .get(&elsewhere)
            .send()
            .await
            .expect("get")
            .status(),
        404
    );
}

async fn metrics_count_by_route_pattern_and_outcome_and_name_no_path_or_key(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, &[("FAIRGROUND_METRICS_TOKEN", TOKEN)]).await;
    let m = market(&app, &db).await;
    let o = offer(&m).await;
    let sub = carol_subscribes(&m, &o).await;
    let key = new_key(&m.alice, "alice").await;
    let slug: String = sqlx::query_scalar("SELECT slug FROM listings WHERE id = $1")
        .bind(o.listing.parse::<i64>().expect("id"))
        .fetch_one(&mut db.connect().await)
        .await
        .expect("slug");

    let main = app.url("/metrics");
    let (_, before) = scrape(&app, &main, Some(TOKEN)).await;
    let listing_ok =
        "fairground_http_requests_total{route=\"/listings/{slug}\",method=\"GET\",status=\"200\"}";
    let unmatched =
        "fairground_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}";
    let hits = "fairground_page_cache_requests_total{outcome=\"hit\"}";
    let rendered = "fairground_page_cache_requests_total{outcome=\"rendered\"}";

    // Two reads of the listing, a path nobody declared (holding a key),
    // the catalogue rendered once and then copied.
    for _ in 0..2 {
        assert_eq!(app.get(&format!("/listings/{slug}")).await.status(), 200);
    }
    let secret_path = format!("/no-such-page/{key}");
    assert_eq!(app.get(&secret_path).await.status(), 404);
    let q = format!("/catalogue?q=metrics{}", now_ms());
    for _ in 0..3 {
        assert_eq!(app.get(&q).await.status(), 200);
    }
    // A batch: two new records, one sent twice, one for no subscription.
    let at = now_ms();
    let batch = json!({ "records": [
        record("m-1", &sub, 3, at),
        record("m-2", &sub, 4, at),
        record("m-2", &sub, 4, at),
        record("m-3", "999999", 1, at),
    ]});
    let (status, body) = post_usage(&app, Some(&key), &batch).await;
    assert_eq!(status, 200, "{body}");

    let (status, text) = scrape(&app, &main, Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(
        value(&text, listing_ok) - value(&before, listing_ok),
        2.0,
        "{text}"
    );
    assert!(value(&text, unmatched) >= 1.0, "{text}");
    // Rendered once and copied twice (twice rendered if a minute turned
    // in between: kept pages go stale with the minute).
    let (rendered, hits) = (
        value(&text, rendered) - value(&before, rendered),
        value(&text, hits) - value(&before, hits),
    );
    assert!(
        rendered >= 1.0 && hits >= 1.0 && rendered + hits == 3.0,
        "{text}"
    );
    for (outcome, n) in [("accepted", 2.0), ("duplicate", 1.0), ("rejected", 1.0)] {
        let series = format!("fairground_usage_records_total{{outcome=\"{outcome}\"}}");
        assert_eq!(
            value(&text, &series) - value(&before, &series),
            n,
            "{outcome}: {text}"
        );
    }
    let usage =
        "fairground_http_requests_total{route=\"/api/v1/usage\",method=\"POST\",status=\"200\"}";
    assert_eq!(value(&text, usage), 1.0, "{text}");
    // Latency: the listing's two reads are in its histogram, buckets cumulative.
    let count = "fairground_http_request_duration_seconds_count{route=\"/listings/{slug}\"}";
    let inf =
        "fairground_http_request_duration_seconds_bucket{route=\"/listings/{slug}\",le=\"+Inf\"}";
    assert_eq!(value(&text, count), value(&text, inf));
    assert!(value(&text, count) >= 2.0, "{text}");
    // The pool and the outbox, as they stand; the pool's wait as the
    // node's once-a-second probe found it.
    assert!(
        value(&text, "fairground_db_pool_max_connections") >= 2.0,
        "{text}"
    );
    let probes = value(&text, "fairground_db_pool_acquire_probe_seconds_count{}");
    assert!(probes >= 1.0, "the probe has run: {text}");
    assert_eq!(
        probes,
        value(
            &text,
            "fairground_db_pool_acquire_probe_seconds_bucket{le=\"+Inf\"}"
        )
    );
    let outbox = db.count("SELECT COUNT(*) FROM outbox").await;
    assert!(outbox > 0, "the market's sign-ups sent confirmation links");
    assert_eq!(
        value(&text, "fairground_outbox_messages"),
        outbox as f64,
        "{text}"
    );

    // No path as sent, no slug, no key, no search: only patterns.
    for leak in [
        slug.as_str(),
        key.as_str(),
        &key[..12],
        "no-such-page",
        "metrics1",
        "q=",
    ] {
        assert!(!text.contains(leak), "{leak} in the metrics");
    }
}
