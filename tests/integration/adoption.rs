//! Adoption, the ranking's second component, cannot be bought by
//! subscribing to oneself: it counts client organisations with an active
//! subscription and a billable call in the last 30 days, leaving out those
//! that share a member with the publisher (and, for first-party listings,
//! with the platform or an affiliated partner).

use crate::builders::{
    alice_publishes, call_ok, invite, market, new_key, now_ms, platform_publishes, post_usage,
    ready_draft, record, slug_of, subscribes_to,
};
use crate::helpers::{App, Backend, TestDb, Visitor};
use serde_json::json;

crate::on_both_backends!(subscribing_to_oneself_moves_no_listing_and_real_use_does,);

/// (slug, adoption points) of the catalogue's listings matching "triage",
/// in order, as a node answers that has just built its index.
async fn ranked(db: &TestDb) -> Vec<(String, f64)> {
    let node = App::spawn(db).await;
    let page = call_ok(
        &Visitor::new(&node),
        "/api/fn/catalogue_search",
        &[("q", "triage")],
    )
    .await;
    page["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| {
            (
                h["card"]["slug"].as_str().expect("slug").to_string(),
                h["score"]["adoption"].as_f64().expect("adoption"),
            )
        })
        .collect()
}

fn points_of(order: &[(String, f64)], slug: &str) -> f64 {
    order
        .iter()
        .find(|(s, _)| s == slug)
        .map(|(_, p)| *p)
        .unwrap_or_else(|| panic!("{slug} in {order:?}"))
}

/// The publisher reports one call for the subscription.
async fn a_call(app: &App, key: &str, sub: &str) {
    let body = json!({"records": [record(&format!("call-{sub}"), sub, 1, now_ms())]});
    let (status, answer) = post_usage(app, Some(key), &body).await;
    assert_eq!(status, 200, "{answer}");
}

async fn new_client(v: &Visitor<'_>, name: &str) {
    call_ok(
        v,
        "/api/fn/create_org",
        &[("name", name), ("kind", "client")],
    )
    .await;
}

async fn subscribing_to_oneself_moves_no_listing_and_real_use_does(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let alices = alice_publishes(&m).await;
    let alice_key = new_key(&m.alice, "usage").await;
    let bobs = ready_draft(&m.bob, "Triage Desk", &m.models[0]).await;
    call_ok(&m.bob, "/api/fn/submit_listing", &[("id", &bobs)]).await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &bobs)]).await;
    let bob_key = new_key(&m.bob, "usage").await;
    let (platforms, _) = platform_publishes(&m).await;
    let platform_key = new_key(&m.player, "usage").await;
    let before = ranked(&db).await;
    assert!(before.iter().all(|(_, p)| *p == 0.0), "{before:?}");

    // Alice creates three client organisations and subscribes to her own
    // listing from each; she reports a call for each.
    for i in 1..=3 {
        new_client(&m.alice, &format!("Alice Clinic {i}")).await;
        let sub = subscribes_to(&m.alice, &alices).await;
        a_call(&app, &alice_key, &sub).await;
    }
    // Carol's hospital takes Alice in as a member, then subscribes to her
    // listing, with a call: a shared member, so not counted either.
    let token = invite(
        &m.carol,
        &[("email", "alice@example.org"), ("role", "member")],
    )
    .await;
    call_ok(&m.alice, "/api/fn/accept_invitation", &[("token", &token)]).await;
    let sub = subscribes_to(&m.carol, &alices).await;
    a_call(&app, &alice_key, &sub).await;

    // The platform's side: the player's own client organisation subscribes
    // to the platform's listing; so does a client organisation run by
    // someone who works for a platform-affiliated partner (the player's
    // side company).
    new_client(&m.player, "Pat's Clinic").await;
    let sub = subscribes_to(&m.player, &platforms).await;
    a_call(&app, &platform_key, &sub).await;
    call_ok(
        &m.player,
        "/api/fn/create_org",
        &[("name", "Side Labs"), ("kind", "partner")],
    )
    .await;
    let token = invite(
        &m.player,
        &[("email", "sam@example.org"), ("role", "member")],
    )
    .await;
    let sam = Visitor::signed_up(&app, "sam@example.org", "Sam").await;
    call_ok(&sam, "/api/fn/accept_invitation", &[("token", &token)]).await;
    new_client(&sam, "Sam's Surgery").await;
    let sub = subscribes_to(&sam, &platforms).await;
    a_call(&app, &platform_key, &sub).await;

    let after = ranked(&db).await;
    assert_eq!(
        after.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        before.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        "no order moved"
    );
    assert!(after.iter().all(|(_, p)| *p == 0.0), "{after:?}");

    // Real use does count: an unrelated client subscribes to Bob's listing
    // and calls it once. A subscription without a call does not.
    let dana = Visitor::signed_up(&app, "dana@example.org", "Dana").await;
    new_client(&dana, "Harbour Clinic").await;
    let sub = subscribes_to(&dana, &bobs).await;
    let erin = Visitor::signed_up(&app, "erin@example.org", "Erin").await;
    new_client(&erin, "Hillside Clinic").await;
    let erins = subscribes_to(&erin, &bobs).await;
    assert_eq!(
        points_of(&ranked(&db).await, &slug_of("Triage Desk")),
        0.0,
        "no call yet"
    );
    a_call(&app, &bob_key, &sub).await;
    let used = ranked(&db).await;
    assert!(
        (points_of(&used, &slug_of("Triage Desk")) - 200.0 / 51.0).abs() < 1e-9,
        "one adopting client: {used:?}"
    );
    assert_eq!(
        used[0].0,
        slug_of("Triage Desk"),
        "and it moves up: {used:?}"
    );
    // A second client starts using it: what anyone can read (the points,
    // the band) stays the same; 2, the partner's own figure, is not
    // published.
    a_call(&app, &bob_key, &erins).await;
    let node = App::spawn(&db).await;
    let page = call_ok(
        &Visitor::new(&node),
        "/api/fn/catalogue_search",
        &[("q", "triage desk")],
    )
    .await;
    let score = &page["hits"][0]["score"];
    assert_eq!(score["adoption_band"], json!([1, 4]), "{page}");
    let points = score["adoption"].as_f64().expect("points");
    let derived = 50.0 * points / (200.0 - points);
    assert!(
        (derived - 1.0).abs() < 1e-9,
        "an outsider derives the band's floor, not 2: {derived}"
    );
    let html = Visitor::new(&node).page("/catalogue?q=triage+desk").await;
    assert!(
        html.contains("Adoption (client organisations using it: 1–4)"),
        "the band is shown"
    );
    // Cancelled subscriptions no longer count.
    call_ok(&dana, "/api/fn/cancel_subscription", &[("id", &sub)]).await;
    call_ok(&erin, "/api/fn/cancel_subscription", &[("id", &erins)]).await;
    assert_eq!(points_of(&ranked(&db).await, &slug_of("Triage Desk")), 0.0);
}
