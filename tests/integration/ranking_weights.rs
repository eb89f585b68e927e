//! The ranking's weights are policy: a referee announces new weights with a
//! reason, they are public at once, and they apply from the first UTC
//! midnight after the notice period (15 days by default), not before.
//! Later days are seen by nodes whose clock runs ahead
//! (`FAIRGROUND_TEST_CLOCK_OFFSET_MS`, refused by release builds).

use crate::builders::{
    call_ok, echo_upstream, market, offer, publish_echo_set, ready_draft, run_set,
};
use crate::helpers::{App, Backend, TestDb, Visitor};
use serde_json::Value;

crate::on_both_backends!(a_weight_change_is_announced_then_applies_after_its_notice,);

const DAY_MS: i64 = 86_400_000;

/// The hits for "triage" as a node `days` ahead answers them.
async fn hits_on(db: &TestDb, days: i64) -> Vec<Value> {
    let offset = (days * DAY_MS).to_string();
    let node = App::spawn_with(db, &[("FAIRGROUND_TEST_CLOCK_OFFSET_MS", offset.as_str())]).await;
    let page = call_ok(
        &Visitor::new(&node),
        "/api/fn/catalogue_search",
        &[("q", "triage")],
    )
    .await;
    page["hits"].as_array().cloned().expect("hits")
}

fn points(hit: &Value, part: &str) -> f64 {
    hit["score"][part].as_f64().expect("points")
}

async fn a_weight_change_is_announced_then_applies_after_its_notice(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(
        &db,
        &[("FAIRGROUND_GATEWAY_ALLOW_PRIVATE_UPSTREAMS", "true")],
    )
    .await;
    let m = market(&app, &db).await;
    // Alice's listing has a verified evaluation (80: four of five items of
    // the industry's set); Bob's has none.
    let o = offer(&m).await;
    let _upstream = echo_upstream(&m.alice, &o.listing, &o.deployments[0]).await;
    publish_echo_set(&m.referee, 4, 5).await;
    run_set(&m.referee, &o.deployments[0]).await;
    let bobs = ready_draft(&m.bob, "Triage Desk", &m.models[0]).await;
    call_ok(&m.bob, "/api/fn/submit_listing", &[("id", &bobs)]).await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &bobs)]).await;

    let weights = |r: &'static str, a: &'static str, e: &'static str, f: &'static str| {
        vec![
            ("relevance", r),
            ("adoption", a),
            ("evaluation", e),
            ("freshness", f),
            (
                "reason",
                "Relevance and freshness first while few sets exist.",
            ),
        ]
    };
    // Referees only; the form says what is wrong, field by field.
    let (status, _) = m
        .player
        .call(
            "/api/fn/propose_ranking_weights",
            &weights("50", "10", "0", "40"),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = m
        .referee
        .call(
            "/api/fn/propose_ranking_weights",
            &weights("50", "10", "0", "30"),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["fields"]["weights"].is_array(),
        "they must add up to 100: {body}"
    );
    let (status, body) = m
        .referee
        .call(
            "/api/fn/propose_ranking_weights",
            &weights("fifty", "10", "0", "40"),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["relevance"].is_array(), "{body}");

    let before = hits_on(&db, 0).await;
    call_ok(
        &m.referee,
        "/api/fn/propose_ranking_weights",
        &weights("50", "10", "0", "40"),
    )
    .await;

    // Public at once, with its date: the first midnight 15 days on.
    let formula = call_ok(&Visitor::new(&app), "/api/fn/ranking_formula", &[]).await;
    let announced = &formula["announced"][0];
    assert_eq!(announced["weights"]["evaluation_bp"], 0, "{formula}");
    let effective = announced["effective_at"].as_i64().expect("date");
    let now = crate::builders::now_ms();
    assert_eq!(effective % DAY_MS, 0, "a midnight");
    assert!(
        effective >= now + 15 * DAY_MS && effective < now + 16 * DAY_MS + 60_000,
        "{effective} vs {now}"
    );
    assert_eq!(formula["in_force"]["weights"]["evaluation_bp"], 1500);
    let page = Visitor::new(&app).page("/how-ranking-works").await;
    assert!(page.contains("Announced, not yet in force"));
    assert!(page.contains("Relevance and freshness first while few sets exist."));
    let policy = Visitor::new(&app).page("/policy").await;
    assert!(
        policy.contains("Ranking weights"),
        "in the policy's history"
    );

    // Not applied before its date: now, and 14 days on.
    for days in [0, 14] {
        let hits = hits_on(&db, days).await;
        let alices = hits
            .iter()
            .find(|h| h["card"]["slug"] == "triage-notes")
            .expect("Alice's");
        assert!(
            (points(alices, "evaluation") - 150.0 * 0.80).abs() < 1e-9,
            "day {days}: the old weights: {alices}"
        );
    }

    // Applied after it: every order is the formula with the new weights.
    let after = hits_on(&db, 17).await;
    assert_eq!(after.len(), before.len());
    for hit in &after {
        let was = before
            .iter()
            .find(|h| h["card"]["id"] == hit["card"]["id"])
            .expect("the same listing");
        let relevance = points(was, "relevance") / 550.0;
        assert!(
            (points(hit, "relevance") - 500.0 * relevance).abs() < 1e-9,
            "{hit}"
        );
        assert_eq!(points(hit, "evaluation"), 0.0, "{hit}");
        assert_eq!(points(hit, "adoption"), 0.0, "{hit}");
        // Published moments ago, seen 17 days on: 40 % × 0.5^(17/90).
        let fresh = points(hit, "freshness");
        assert!(
            (fresh - 400.0 * 0.5_f64.powf(17.0 / 90.0)).abs() < 0.01,
            "{hit}"
        );
        let total = points(hit, "total");
        let sum =
            points(hit, "relevance") + points(hit, "adoption") + points(hit, "evaluation") + fresh;
        assert!((total - sum).abs() < 1e-9, "{hit}");
    }
    let totals: Vec<f64> = after.iter().map(|h| points(h, "total")).collect();
    assert!(
        totals.windows(2).all(|w| w[0] >= w[1]),
        "ordered by the new scores: {totals:?}"
    );
    let formula = call_ok(&Visitor::new(&app), "/api/fn/ranking_formula", &[]).await;
    assert_eq!(
        formula["announced"].as_array().map(Vec::len),
        Some(1),
        "still announced today"
    );
}
