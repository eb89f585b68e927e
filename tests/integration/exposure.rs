//! The exposure dashboard: impressions and detail views counted per
//! publisher kind (pages served from the page cache included), public
//! shares, referees' counts, and several nodes adding up.

use crate::builders::{alice_publishes, call_ok, market, platform_publishes};
use crate::helpers::{App, Backend, TestDb, Visitor};
use serde_json::Value;

crate::on_both_backends!(
    what_visitors_are_shown_is_counted_per_publisher_kind,
    counts_from_several_nodes_add_up,
);

/// (first-party, partner) totals of a measure over the whole period.
fn totals(report: &Value, measure: &str) -> (i64, i64) {
    let series = report["series"].as_array().expect("series");
    series.iter().fold((0, 0), |acc, week| {
        (
            acc.0 + week[measure]["first_party"].as_i64().unwrap_or(0),
            acc.1 + week[measure]["partner"].as_i64().unwrap_or(0),
        )
    })
}

async fn what_visitors_are_shown_is_counted_per_publisher_kind(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    alice_publishes(&m).await;
    platform_publishes(&m).await;
    let anon = Visitor::new(&app);

    // Impressions: each of these shows both listings once.
    for _ in 0..2 {
        // Without a cookie: the second one comes from the page cache, and
        // counts all the same.
        let (status, _) = app.get_text("/catalogue?industry=healthcare").await;
        assert_eq!(status, 200);
    }
    assert_eq!(app.get_text("/").await.0, 200);
    call_ok(&anon, "/api/fn/catalogue_search", &[("q", "triage")]).await;
    // A search that finds nothing shows nothing.
    call_ok(&anon, "/api/fn/catalogue_search", &[("q", "zzzz")]).await;

    // Detail views: the publisher's own visits do not count, and a visitor
    // (a signed-in person, else an address) counts once per listing a day,
    // however often the page is reloaded.
    for _ in 0..5 {
        anon.page("/listings/triage-notes").await;
        anon.page("/listings/platform-triage").await;
    }
    call_ok(
        &m.carol,
        "/api/fn/listing_page",
        &[("slug", "platform-triage")],
    )
    .await;
    call_ok(
        &m.alice,
        "/api/fn/listing_page",
        &[("slug", "triage-notes")],
    )
    .await;
    m.carol
        .page("/compare?l=triage-notes&l=platform-triage")
        .await;
    call_ok(
        &m.alice,
        "/api/fn/compare_listings",
        &[("slugs", "triage-notes,platform-triage")],
    )
    .await;

    let report = call_ok(
        &m.referee,
        "/api/fn/exposure_report",
        &[("industry", "healthcare")],
    )
    .await;
    assert_eq!(report["detailed"], true);
    assert_eq!(totals(&report, "impressions"), (4, 4), "{report}");
    // First-party: the address, Carol (her compare opens it again: not
    // counted twice) and Alice's compare; partner: the address and Carol.
    assert_eq!(totals(&report, "views"), (3, 2), "{report}");
    assert_eq!(report["listing_share_bp"], 5000);
    let rows = report["rows"].as_array().expect("rows");
    assert!(
        rows.iter().all(|r| r["industry"] == "healthcare"),
        "{report}"
    );
    assert_eq!(
        db.count("SELECT CAST(COALESCE(SUM(impressions), 0) AS BIGINT) FROM exposure_daily")
            .await,
        8
    );

    // Another industry has nothing to show.
    let finance = call_ok(
        &m.referee,
        "/api/fn/exposure_report",
        &[("industry", "finance")],
    )
    .await;
    assert_eq!(totals(&finance, "impressions"), (0, 0));
    assert_eq!(finance["rows"].as_array().map(Vec::len), Some(0));

    // The public summary: no counts, and no share from so few events
    // (with the platform's own counts it would give away the partners').
    let public = call_ok(&anon, "/api/fn/exposure_report", &[]).await;
    assert_eq!(public["detailed"], false);
    let week = public["series"]
        .as_array()
        .expect("series")
        .iter()
        .rev()
        .find(|w| w["impressions"]["suppressed"] == true)
        .cloned()
        .expect("a week with impressions");
    assert!(week["impressions"]["share_bp"].is_null(), "{week}");
    assert!(week["impressions"]["first_party"].is_null(), "{week}");
    assert!(week["views"]["partner"].is_null(), "{week}");
    for v in [&m.carol, &m.alice, &m.player] {
        let r = call_ok(v, "/api/fn/exposure_report", &[]).await;
        assert_eq!(r["detailed"], false);
    }

    // The page, with and without counts.
    let page = anon.page("/exposure?industry=healthcare").await;
    assert!(page.contains("<svg"), "a chart");
    assert!(page.contains("Healthcare"));
    assert!(page.contains("fewer than 50"), "the reason, not a share");
    assert!(!page.contains("4 of 8"), "no counts in public");
    let page = m.referee.page("/exposure?industry=healthcare").await;
    assert!(page.contains("4 of 8"), "referees see counts");
    assert!(page.contains("3 of 5"));

    // An industry that does not exist is a field error.
    let (status, body) = anon
        .call("/api/fn/exposure_report", &[("industry", "alchemy")])
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["industry"].is_array(), "{body}");
}

async fn counts_from_several_nodes_add_up(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    alice_publishes(&m).await;
    let mut second = App::spawn(&db).await;
    let anon = Visitor::new(&second);
    for _ in 0..3 {
        anon.page("/listings/triage-notes").await;
    }
    // Carol's session is in the shared database: the second node knows her.
    let carol = Visitor::with_cookie(&second, &m.carol.cookie().expect("carol's cookie"));
    carol.page("/listings/triage-notes").await;
    // A node stopping writes what it counted.
    second.signal(libc::SIGTERM);
    let status = second.wait_exit(std::time::Duration::from_secs(20)).await;
    assert!(status.success(), "{status:?}");
    // Each node remembers its own visitors: the same address on the first
    // node is one more view (documented; per-node like the rate limits).
    Visitor::new(&app).page("/listings/triage-notes").await;
    let report = call_ok(&m.referee, "/api/fn/exposure_report", &[]).await;
    assert_eq!(totals(&report, "views"), (0, 3), "{report}");
}
