//! Evaluation with provenance: a publisher's own score is shown as
//! self-reported and moves nothing; a referee's run of the industry's
//! published set, through the platform to the deployment, gives a verified
//! score that the ranking uses until the deployment or the set changes.

use crate::builders::{
    alice_publishes, call_ok, echo_items, echo_upstream, market, publish_echo_set, ready_draft,
    run_set, Market,
};
use crate::helpers::{audit_actions, App, Backend, TestDb, Visitor};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

crate::on_both_backends!(
    a_verified_run_moves_rank_and_goes_stale_when_the_model_changes,
    self_reported_scores_never_change_any_order,
    only_referees_publish_and_run_sets,
);

const PRIVATE_UPSTREAMS: &[(&str, &str)] =
    &[("FAIRGROUND_GATEWAY_ALLOW_PRIVATE_UPSTREAMS", "true")];

async fn hits(v: &Visitor<'_>, q: &str) -> Vec<Value> {
    call_ok(v, "/api/fn/catalogue_search", &[("q", q)]).await["hits"]
        .as_array()
        .cloned()
        .expect("hits")
}

fn evaluation_points(hits: &[Value], slug: &str) -> f64 {
    hits.iter()
        .find(|h| h["card"]["slug"] == slug)
        .and_then(|h| h["score"]["evaluation"].as_f64())
        .unwrap_or_else(|| panic!("{slug} in {hits:?}"))
}

/// The listing's deployment ids, default first.
async fn deployments(publisher: &Visitor<'_>, listing: &str) -> Vec<String> {
    call_ok(publisher, "/api/fn/listing_editor", &[("id", listing)]).await["detail"]["deployments"]
        .as_array()
        .expect("deployments")
        .iter()
        .map(|d| d["id"].as_i64().expect("id").to_string())
        .collect()
}

async fn edit(publisher: &Visitor<'_>, listing: &str, dep: &str, revision: &str, score: &str) {
    call_ok(
        publisher,
        "/api/fn/edit_deployment",
        &[
            ("listing_id", listing),
            ("deployment_id", dep),
            ("revision", revision),
            ("eval_score", score),
        ],
    )
    .await;
}

async fn changes(app: &App, slug: &str) -> Vec<String> {
    call_ok(
        &Visitor::new(app),
        "/api/fn/listing_page",
        &[("slug", slug)],
    )
    .await["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["summary"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn a_verified_run_moves_rank_and_goes_stale_when_the_model_changes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, PRIVATE_UPSTREAMS).await;
    let m = market(&app, &db).await;
    let anyone = Visitor::new(&app);
    let listing = alice_publishes(&m).await;
    let dep = deployments(&m.alice, &listing).await.remove(0);
    let echo = echo_upstream(&m.alice, &listing, &dep).await;
    // Alice types 99 for herself: shown as self-reported, moves nothing.
    edit(&m.alice, &listing, &dep, "r1", "99").await;
    assert_eq!(
        evaluation_points(&hits(&anyone, "triage").await, "triage-notes"),
        0.0
    );
    let page = anyone.page("/listings/triage-notes").await;
    assert!(page.contains("99 / 100, self-reported"), "labelled as such");
    assert!(changes(&app, "triage-notes")
        .await
        .iter()
        .any(|c| c.contains("Self-reported evaluation of") && c.contains("none → 99 / 100")));

    // No set for healthcare yet: the run form says so.
    let (status, body) = m
        .referee
        .call("/api/fn/run_evaluation", &[("deployment_id", &dep)])
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["deployment_id"][0]
        .as_str()
        .unwrap_or("")
        .contains("no evaluation set"));
    // A malformed set is refused line by line, and nothing is published.
    let (status, body) = m
        .referee
        .call(
            "/api/fn/publish_evaluation_set",
            &[
                ("industry", "healthcare"),
                ("name", "Triage answers"),
                ("rule", "contains"),
                (
                    "items",
                    "{\"prompt\": \"a\", \"expected\": \"b\"}\n{\"prompt\": 3}",
                ),
                ("reason", "First try."),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["fields"]["items"][0],
        "Line 2 needs a \"prompt\" (text)."
    );
    assert!(!anyone.page("/evaluations").await.contains("Triage answers"));

    // Three of four items pass: 75.
    assert_eq!(publish_echo_set(&m.referee, 3, 4).await, 1);
    let run = run_set(&m.referee, &dep).await;
    let detail = call_ok(&anyone, "/api/fn/evaluation_run", &[("id", &run)]).await;
    assert_eq!(detail["run"]["score"], 75, "{detail}");
    assert_eq!(detail["run"]["stale"], false, "{detail}");
    let outcomes: Vec<&str> = detail["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["outcome"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(outcomes, ["pass", "pass", "pass", "fail"]);
    let weight = 150.0; // 15 % of 1000 points
    let points = evaluation_points(&hits(&anyone, "triage").await, "triage-notes");
    assert!((points - weight * 0.75).abs() < 1e-9, "{points}");
    let history = changes(&app, "triage-notes").await;
    assert!(
        history
            .iter()
            .any(|c| c.contains("Verified evaluation of triage-notes@") && c.contains("75 / 100")),
        "{history:?}"
    );
    assert!(audit_actions(&db)
        .await
        .iter()
        .any(|a| a == "evaluation.run"));
    // Not billed: no subscription, no usage record.
    assert_eq!(db.count("SELECT COUNT(*) FROM usage_records").await, 0);
    // The set is public as JSON Lines.
    let (status, jsonl) = app.get_text("/evaluation-sets/healthcare/v1.jsonl").await;
    assert_eq!(status, 200);
    assert_eq!(jsonl, echo_items(3, 4));

    // A changed self-reported score changes nothing; a new revision makes
    // the verified one stale.
    edit(&m.alice, &listing, &dep, "r1", "10").await;
    let points = evaluation_points(&hits(&anyone, "triage").await, "triage-notes");
    assert!((points - weight * 0.75).abs() < 1e-9, "{points}");
    edit(&m.alice, &listing, &dep, "r2", "10").await;
    assert_eq!(
        evaluation_points(&hits(&anyone, "triage").await, "triage-notes"),
        0.0
    );
    assert!(changes(&app, "triage-notes")
        .await
        .iter()
        .any(|c| c.contains("is now r2") && c.contains("stale until the next run")));
    let detail = call_ok(&anyone, "/api/fn/evaluation_run", &[("id", &run)]).await;
    assert_eq!(detail["run"]["stale"], true, "{detail}");

    // The next run counts again; a changed endpoint makes it stale too.
    run_set(&m.referee, &dep).await;
    let points = evaluation_points(&hits(&anyone, "triage").await, "triage-notes");
    assert!((points - weight * 0.75).abs() < 1e-9, "{points}");
    echo.standin.register(
        "echo-2",
        &echo.secret,
        fairground::standin::Behaviour::Fixed,
    );
    call_ok(
        &m.alice,
        "/api/fn/set_endpoint",
        &[
            ("listing_id", &listing),
            ("deployment_id", &dep),
            ("base_url", &format!("http://{}/u/echo-2", echo.addr)),
            ("model", "echo-2"),
        ],
    )
    .await;
    assert_eq!(
        evaluation_points(&hits(&anyone, "triage").await, "triage-notes"),
        0.0
    );

    // And so does a new version of the industry's set, for everyone alike.
    run_set(&m.referee, &dep).await;
    assert!(evaluation_points(&hits(&anyone, "triage").await, "triage-notes") > 0.0);
    assert_eq!(publish_echo_set(&m.referee, 4, 4).await, 2);
    assert_eq!(
        evaluation_points(&hits(&anyone, "triage").await, "triage-notes"),
        0.0
    );
    let page = anyone.page("/evaluations").await;
    assert!(
        page.contains("Version 2") && page.contains("Stale"),
        "the page shows it"
    );
}

/// Over random catalogues (publishers, base models, self-reported scores
/// before and after), changing self-reported scores never changes any
/// order of the catalogue.
async fn self_reported_scores_never_change_any_order(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let handle = tokio::runtime::Handle::current();
    let case = std::sync::atomic::AtomicUsize::new(0);
    let listing = (any::<bool>(), any::<bool>(), 0..=100_u8, 0..=100_u8);
    let mut runner = TestRunner::new(Config {
        cases: 6,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&proptest::collection::vec(listing, 2..=4), |listings| {
        let n = case.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::task::block_in_place(|| handle.block_on(one_catalogue(&m, n, &listings)))
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

async fn one_catalogue(
    m: &Market<'_>,
    case: usize,
    listings: &[(bool, bool, u8, u8)],
) -> Result<(), TestCaseError> {
    // A word of letters only, new for every case (shrinking runs more).
    let mut word = String::from("probe");
    let mut n = case;
    loop {
        word.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            break;
        }
    }
    let mut made = Vec::new();
    for (i, (by_bob, second_model, before, _)) in listings.iter().enumerate() {
        let publisher = if *by_bob { &m.bob } else { &m.alice };
        let name = format!("{word} Model {}", ["Ash", "Birch", "Cedar", "Dogwood"][i]);
        let id = ready_draft(publisher, &name, &m.models[usize::from(*second_model)]).await;
        call_ok(publisher, "/api/fn/submit_listing", &[("id", &id)]).await;
        call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &id)]).await;
        let dep = deployments(publisher, &id).await.remove(0);
        edit(publisher, &id, &dep, "r1", &before.to_string()).await;
        made.push((publisher, id, dep));
    }
    let order = |hits: &[Value]| -> Vec<String> {
        hits.iter()
            .map(|h| h["card"]["slug"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let before = hits(&m.carol, &word).await;
    prop_assert_eq!(before.len(), listings.len());
    for ((publisher, id, dep), (_, _, _, after)) in made.iter().zip(listings) {
        edit(publisher, id, dep, "r1", &after.to_string()).await;
    }
    let after = hits(&m.carol, &word).await;
    prop_assert_eq!(order(&before), order(&after));
    // Nor any score: the evaluation part stays 0 without a verified run.
    for h in before.iter().chain(&after) {
        prop_assert_eq!(h["score"]["evaluation"].as_f64(), Some(0.0));
    }
    Ok(())
}

/// Only referees publish sets and start runs.
async fn only_referees_publish_and_run_sets(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(&db, PRIVATE_UPSTREAMS).await;
    let m = market(&app, &db).await;
    let listing = alice_publishes(&m).await;
    let dep = deployments(&m.alice, &listing).await.remove(0);
    let _upstream = echo_upstream(&m.alice, &listing, &dep).await;
    for v in [&m.player, &m.alice, &m.carol] {
        let (status, _) = v
            .call(
                "/api/fn/publish_evaluation_set",
                &[
                    ("industry", "healthcare"),
                    ("name", "Mine"),
                    ("rule", "exact"),
                    ("items", &echo_items(1, 1)),
                    ("reason", "Mine."),
                ],
            )
            .await;
        assert_eq!(status, 403);
    }
    publish_echo_set(&m.referee, 2, 2).await;
    for v in [&m.player, &m.alice, &m.carol] {
        let (status, _) = v
            .call("/api/fn/run_evaluation", &[("deployment_id", &dep)])
            .await;
        assert_eq!(status, 403);
    }
    // A referee who belongs to the publisher is refused: see recusal.rs.
    assert_eq!(db.count("SELECT COUNT(*) FROM evaluation_runs").await, 0);
    run_set(&m.referee, &dep).await;
    assert_eq!(db.count("SELECT COUNT(*) FROM evaluation_runs").await, 1);
}
