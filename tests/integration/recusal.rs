//! Recusal: a referee who also belongs to a partner organisation cannot
//! decide that organisation's listings or the cases it is a party to; the
//! refusal names the conflict and is on the audit record, the review queue
//! tells the referee which items to leave, and another referee decides.

use crate::builders::{
    alice_publishes, call_ok, case_of, echo_upstream, invite, market, publish_echo_set,
    ready_draft, run_set, Market,
};
use crate::helpers::{audit_actions, App, Backend, TestDb, Visitor};
use sqlx::Row;

crate::on_both_backends!(a_referee_who_is_a_member_of_a_party_is_refused_every_decision_on_it,);

/// Rex: a second referee of the platform who is also a member of Alice's
/// organisation (Meridian Health), working in the platform.
async fn referee_with_a_side_job<'a>(app: &'a App, db: &TestDb, m: &Market<'a>) -> Visitor<'a> {
    let staff_token = invite(
        &m.referee,
        &[
            ("email", "rex@example.org"),
            ("role", "member"),
            ("staff_role", "referee"),
        ],
    )
    .await;
    let rex = Visitor::signed_up(app, "rex@example.org", "Rex Referee").await;
    app.confirm_email("rex@example.org").await;
    call_ok(
        &rex,
        "/api/fn/accept_invitation",
        &[("token", &staff_token)],
    )
    .await;
    rex.enable_two_step().await;
    let partner_token = invite(
        &m.alice,
        &[("email", "rex@example.org"), ("role", "member")],
    )
    .await;
    call_ok(
        &rex,
        "/api/fn/accept_invitation",
        &[("token", &partner_token)],
    )
    .await;
    let platform = db
        .count("SELECT id FROM organisations WHERE kind = 'platform'")
        .await;
    call_ok(
        &rex,
        "/api/fn/switch_org",
        &[("org_id", &platform.to_string())],
    )
    .await;
    rex
}

/// Rex's attempt is refused with 409 and a message naming Meridian Health.
async fn refused(rex: &Visitor<'_>, path: &str, fields: &[(&str, &str)]) {
    let (status, body) = rex.call(path, fields).await;
    assert_eq!(status, 409, "{path}: {body}");
    assert!(
        body.to_string().contains("Meridian Health"),
        "{path}: the conflict is named: {body}"
    );
}

async fn status_of_listing(db: &TestDb, id: &str) -> String {
    let mut conn = db.connect().await;
    sqlx::query("SELECT status FROM listings WHERE id = $1")
        .bind(id.parse::<i64>().expect("id"))
        .fetch_one(&mut conn)
        .await
        .expect("listing")
        .get(0)
}

async fn a_referee_who_is_a_member_of_a_party_is_refused_every_decision_on_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(
        &db,
        &[("FAIRGROUND_GATEWAY_ALLOW_PRIVATE_UPSTREAMS", "true")],
    )
    .await;
    let m = market(&app, &db).await;
    let rex = referee_with_a_side_job(&app, &db, &m).await;
    let published = alice_publishes(&m).await;

    // The review queue tells Rex which items to leave; Bob's are his.
    let bobs = ready_draft(&m.bob, "Ledger Lens", &m.models[0]).await;
    call_ok(&m.bob, "/api/fn/submit_listing", &[("id", &bobs)]).await;
    let draft = ready_draft(&m.alice, "Radiology Notes", &m.models[0]).await;
    call_ok(&m.alice, "/api/fn/submit_listing", &[("id", &draft)]).await;
    let queue = call_ok(&rex, "/api/fn/review_queue", &[]).await;
    let recuse_of = |id: &str| {
        queue["submitted"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(queue["published"].as_array().into_iter().flatten())
            .find(|r| r["id"].as_i64().map(|i| i.to_string()).as_deref() == Some(id))
            .map(|r| r["recuse"].clone())
            .unwrap_or_else(|| panic!("{id} in the queue: {queue}"))
    };
    assert_eq!(recuse_of(&draft), true);
    assert_eq!(recuse_of(&published), true);
    assert_eq!(recuse_of(&bobs), false);
    let rita_queue = call_ok(&m.referee, "/api/fn/review_queue", &[]).await;
    assert!(
        rita_queue["submitted"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["recuse"] == false),
        "{rita_queue}"
    );

    // Every decision on Alice's listings: refused to Rex, nothing changed;
    // Rita decides.
    refused(
        &rex,
        "/api/fn/reject_listing",
        &[("id", &draft), ("reason", "Not clear enough.")],
    )
    .await;
    refused(&rex, "/api/fn/approve_listing", &[("id", &draft)]).await;
    assert_eq!(status_of_listing(&db, &draft).await, "submitted");
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &draft)]).await;
    refused(
        &rex,
        "/api/fn/suspend_listing",
        &[("id", &published), ("reason", "Claims unproven.")],
    )
    .await;
    assert_eq!(status_of_listing(&db, &published).await, "published");
    call_ok(
        &m.referee,
        "/api/fn/suspend_listing",
        &[("id", &published), ("reason", "Claims unproven.")],
    )
    .await;
    refused(&rex, "/api/fn/reinstate_listing", &[("id", &published)]).await;
    assert_eq!(status_of_listing(&db, &published).await, "suspended");
    call_ok(
        &m.referee,
        "/api/fn/reinstate_listing",
        &[("id", &published)],
    )
    .await;
    // Featuring, once the policy allows it: not Rex's for Alice's listing.
    call_ok(
        &m.referee,
        "/api/fn/update_policy",
        &[
            // Meridian Health is platform-affiliated through Rex: with
            // the flag on its listing could not be featured at all.
            ("non_compete", "off"),
            ("take_rate", "20"),
            ("featured_slots", "on"),
            ("reason", "Featured slots for the recusal test."),
        ],
    )
    .await;
    refused(&rex, "/api/fn/feature_listing", &[("id", &published)]).await;
    let mut conn = db.connect().await;
    let featured: i64 = sqlx::query("SELECT COUNT(*) FROM featured_slots")
        .fetch_one(&mut conn)
        .await
        .expect("featured")
        .get(0);
    assert_eq!(featured, 0);
    call_ok(&m.referee, "/api/fn/feature_listing", &[("id", &published)]).await;
    // An evaluation run on Alice's deployment: the score is a decision.
    let dep = call_ok(&m.alice, "/api/fn/listing_editor", &[("id", &published)]).await["detail"]
        ["deployments"][0]["id"]
        .to_string();
    let _upstream = echo_upstream(&m.alice, &published, &dep).await;
    publish_echo_set(&m.referee, 1, 2).await;
    refused(&rex, "/api/fn/run_evaluation", &[("deployment_id", &dep)]).await;
    let mut conn = db.connect().await;
    let runs: i64 = sqlx::query("SELECT COUNT(*) FROM evaluation_runs")
        .fetch_one(&mut conn)
        .await
        .expect("runs")
        .get(0);
    assert_eq!(runs, 0);
    run_set(&m.referee, &dep).await;
    // Bob's listing is Rex's to decide.
    call_ok(&rex, "/api/fn/approve_listing", &[("id", &bobs)]).await;

    // A case Alice's organisation is a party to: its own affiliation, which
    // began when Rex, a referee, joined it.
    let case = case_of(&m.referee, "affiliation").await;
    for action in ["sign_off", "acknowledge", "dismiss"] {
        refused(
            &rex,
            "/api/fn/decide_case",
            &[
                ("id", &case),
                ("action", action),
                (
                    "words",
                    "A referee works there: affiliated as the policy says.",
                ),
            ],
        )
        .await;
    }
    call_ok(
        &m.referee,
        "/api/fn/decide_case",
        &[("id", &case), ("action", "acknowledge"), ("words", "")],
    )
    .await;

    // Each refusal is on the record.
    let refusals = audit_actions(&db)
        .await
        .into_iter()
        .filter(|a| a == "referee.recusal_refused")
        .count();
    assert_eq!(refusals, 9);
}
