//! Platform affiliation: a partner organisation with a member on the
//! platform's staff, or declared affiliated by a referee, is labelled
//! "Platform-affiliated" and bound by every non-compete rule as if it were
//! the platform: conflict cases, sign-off before approval under the flag,
//! the featuring ban, the exposure shares. The flag follows membership the
//! moment it changes, and `/policy` keeps the history.

use crate::builders::{
    alice_publishes, call_ok, case_of, invite_player, market, ready_draft, slug_of, Market,
};
use crate::helpers::{audit_actions, App, Backend, TestDb, Visitor};
use serde_json::Value;
use sqlx::Row;

crate::on_both_backends!(
    a_player_publishing_through_a_partner_organisation_is_labelled_and_bound_as_first_party,
    a_partner_whose_member_becomes_staff_is_affiliated_until_they_leave,
    a_referee_declares_an_affiliation_with_a_published_reason,
);

async fn affiliated(db: &TestDb, org: &str) -> i64 {
    let mut conn = db.connect().await;
    sqlx::query("SELECT affiliated FROM organisations WHERE name = $1")
        .bind(org)
        .fetch_one(&mut conn)
        .await
        .expect("org")
        .get(0)
}

async fn org_id(db: &TestDb, org: &str) -> String {
    let mut conn = db.connect().await;
    sqlx::query("SELECT id FROM organisations WHERE name = $1")
        .bind(org)
        .fetch_one(&mut conn)
        .await
        .map(|r| r.get::<i64, _>(0))
        .expect("org")
        .to_string()
}

/// The search hit for `slug` in the public catalogue's JSON.
async fn card(v: &Visitor<'_>, slug: &str) -> Value {
    let page = call_ok(v, "/api/fn/catalogue_search", &[("q", "")]).await;
    page["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .find(|h| h["card"]["slug"] == slug)
        .map(|h| h["card"].clone())
        .unwrap_or_else(|| panic!("{slug} in {page}"))
}

/// The first-party share of healthcare's published listings on the public
/// exposure dashboard, in basis points.
async fn healthcare_listing_share(v: &Visitor<'_>) -> Value {
    call_ok(v, "/api/fn/exposure_report", &[("industry", "healthcare")]).await["listing_share_bp"]
        .clone()
}

/// Kinds of the cases `v` can see.
async fn case_kinds(v: &Visitor<'_>) -> Vec<String> {
    call_ok(v, "/api/fn/cases_list", &[]).await["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn switch_to(v: &Visitor<'_>, db: &TestDb, org: &str) {
    let id = org_id(db, org).await;
    call_ok(v, "/api/fn/switch_org", &[("org_id", &id)]).await;
}

/// Submitted, then approved once a referee signs off the case the
/// non-compete flag requires; the refusal before it names the case.
async fn approved_only_after_sign_off(m: &Market<'_>, id: &str) {
    let (status, body) = m
        .referee
        .call("/api/fn/approve_listing", &[("id", id)])
        .await;
    assert_eq!(status, 409, "approval waits for a sign-off: {body}");
    assert!(body.to_string().contains("sign off"), "{body}");
    let case = case_of(&m.referee, "first_party_overlap").await;
    call_ok(
        &m.referee,
        "/api/fn/decide_case",
        &[
            ("id", &case),
            ("action", "sign_off"),
            ("words", "Reviewed: a different audience."),
        ],
    )
    .await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", id)]).await;
}

async fn a_player_publishing_through_a_partner_organisation_is_labelled_and_bound_as_first_party(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    alice_publishes(&m).await;
    assert_eq!(healthcare_listing_share(&m.carol).await, 0);

    // Pat, a player, sets up a company of their own on the marketplace.
    call_ok(
        &m.player,
        "/api/fn/create_org",
        &[("name", "Side Labs"), ("kind", "partner")],
    )
    .await;
    assert_eq!(affiliated(&db, "Side Labs").await, 1, "affiliated at once");
    assert!(case_kinds(&m.referee).await.contains(&"affiliation".into()));
    assert!(audit_actions(&db)
        .await
        .contains(&"org.affiliation_changed".to_string()));

    // Its listing in Alice's industry opens a case she is told about, and
    // approval waits for a referee's sign-off under the flag.
    let id = ready_draft(&m.player, "Side Triage", &m.models[1]).await;
    assert!(
        case_kinds(&m.alice)
            .await
            .contains(&"first_party_overlap".into()),
        "Alice is a party to the case of the affiliated listing"
    );
    call_ok(&m.player, "/api/fn/submit_listing", &[("id", &id)]).await;
    approved_only_after_sign_off(&m, &id).await;

    // Labelled everywhere: search JSON, the listing's page, its API object.
    let slug = slug_of("Side Triage");
    let c = card(&m.carol, &slug).await;
    assert_eq!(
        (c["affiliated"].clone(), c["platform_owned"].clone()),
        (true.into(), false.into())
    );
    let alices = card(&m.carol, &slug_of("Triage Notes")).await;
    assert_eq!(
        alices["affiliated"], false,
        "a partner without staff is not"
    );
    let page = call_ok(&m.carol, "/api/fn/listing_page", &[("slug", &slug)]).await;
    assert_eq!(page["affiliated"], true, "{page}");
    let html = m.carol.page(&format!("/listings/{slug}")).await;
    assert!(
        html.contains("Platform-affiliated"),
        "the page shows the label"
    );
    let html = Visitor::new(&app).page("/catalogue").await;
    assert!(
        html.contains("Platform-affiliated"),
        "the catalogue shows the label"
    );

    // The exposure dashboard counts it with the platform's listings.
    assert_eq!(healthcare_listing_share(&m.carol).await, 5000);

    // The featuring ban applies.
    call_ok(
        &m.referee,
        "/api/fn/update_policy",
        &[
            ("non_compete", "on"),
            ("take_rate", "20"),
            ("featured_slots", "on"),
            ("reason", "Featured slots for the affiliation test."),
        ],
    )
    .await;
    let (status, body) = m
        .referee
        .call("/api/fn/feature_listing", &[("id", &id)])
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(audit_actions(&db)
        .await
        .contains(&"listing.feature_refused".to_string()));

    // /policy lists the organisation and why.
    let policy = Visitor::new(&app).page("/policy").await;
    assert!(policy.contains("Side Labs"), "listed on /policy");
    assert!(policy.contains("A member of this organisation is also platform staff."));
}

async fn a_partner_whose_member_becomes_staff_is_affiliated_until_they_leave(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    alice_publishes(&m).await;
    // Bob's Ledgerline publishes in healthcare too, as a partner.
    let before = ready_draft(&m.bob, "Ledger Health", &m.models[0]).await;
    call_ok(&m.bob, "/api/fn/submit_listing", &[("id", &before)]).await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &before)]).await;
    assert_eq!(affiliated(&db, "Ledgerline").await, 0);

    // Bob joins the platform's staff.
    let token = invite_player(&m.referee, "bob@example.org").await;
    app.confirm_email("bob@example.org").await;
    call_ok(&m.bob, "/api/fn/accept_invitation", &[("token", &token)]).await;
    m.bob.enable_two_step().await;
    assert_eq!(
        affiliated(&db, "Ledgerline").await,
        1,
        "the moment he joins"
    );
    // Alice, who publishes where Ledgerline does, is a party to the case
    // and is told.
    assert!(case_kinds(&m.alice).await.contains(&"affiliation".into()));
    let notes = call_ok(&m.alice, "/api/fn/notifications", &[]).await;
    assert!(
        notes.to_string().contains("Ledgerline"),
        "Alice is told: {notes}"
    );
    assert_eq!(
        card(&m.carol, &slug_of("Ledger Health")).await["affiliated"],
        true,
        "its published listing is labelled at once"
    );

    // Its next listing waits for a sign-off.
    switch_to(&m.bob, &db, "Ledgerline").await;
    let next = ready_draft(&m.bob, "Ledger Triage", &m.models[0]).await;
    call_ok(&m.bob, "/api/fn/submit_listing", &[("id", &next)]).await;
    approved_only_after_sign_off(&m, &next).await;

    // Bob leaves the staff: Ledgerline is a plain partner again, on the
    // record.
    let platform = db
        .count("SELECT id FROM organisations WHERE kind = 'platform'")
        .await;
    call_ok(
        &m.bob,
        "/api/fn/switch_org",
        &[("org_id", &platform.to_string())],
    )
    .await;
    call_ok(&m.bob, "/api/fn/leave_org", &[]).await;
    assert_eq!(affiliated(&db, "Ledgerline").await, 0);
    assert_eq!(
        card(&m.carol, &slug_of("Ledger Health")).await["affiliated"],
        false
    );
    let policy = Visitor::new(&app).page("/policy").await;
    assert!(policy.contains("No member of this organisation is platform staff any more."));
}

async fn a_referee_declares_an_affiliation_with_a_published_reason(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let ledgerline = org_id(&db, "Ledgerline").await;

    // Only a referee may, and the form says what is wrong.
    let reason = "A subsidiary of the platform's parent company.";
    let (status, _) = m
        .player
        .call(
            "/api/fn/declare_affiliation",
            &[("org", &ledgerline), ("reason", reason)],
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = m
        .bob
        .call(
            "/api/fn/declare_affiliation",
            &[("org", &ledgerline), ("reason", reason)],
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = m
        .referee
        .call(
            "/api/fn/declare_affiliation",
            &[("org", ""), ("reason", "")],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let fields = body["fields"].clone();
    assert!(
        fields.get("org").is_some() && fields.get("reason").is_some(),
        "{body}"
    );
    let client = org_id(&db, "St Brigid Hospital").await;
    let (status, body) = m
        .referee
        .call(
            "/api/fn/declare_affiliation",
            &[("org", &client), ("reason", reason)],
        )
        .await;
    assert_eq!(status, 422, "a client organisation cannot be: {body}");
    assert_eq!(affiliated(&db, "Ledgerline").await, 0);

    call_ok(
        &m.referee,
        "/api/fn/declare_affiliation",
        &[("org", &ledgerline), ("reason", reason)],
    )
    .await;
    assert_eq!(affiliated(&db, "Ledgerline").await, 1);
    let policy = Visitor::new(&app).page("/policy").await;
    assert!(policy.contains(reason), "the reason is published");
    let listed = call_ok(&Visitor::new(&app), "/api/fn/marketplace_policy", &[]).await;
    assert_eq!(listed["affiliations"][0]["name"], "Ledgerline", "{listed}");
    assert_eq!(
        listed["partner_choices"],
        serde_json::json!([]),
        "referees only"
    );

    // Bob's listing, submitted now, waits for a sign-off.
    alice_publishes(&m).await;
    let id = ready_draft(&m.bob, "Ledger Triage", &m.models[0]).await;
    call_ok(&m.bob, "/api/fn/submit_listing", &[("id", &id)]).await;
    approved_only_after_sign_off(&m, &id).await;

    // Withdrawn, with a reason: a partner again.
    call_ok(
        &m.referee,
        "/api/fn/withdraw_affiliation",
        &[("org", &ledgerline), ("reason", "The subsidiary was sold.")],
    )
    .await;
    assert_eq!(affiliated(&db, "Ledgerline").await, 0);
    let actions = audit_actions(&db).await;
    for a in ["org.affiliation_declared", "org.affiliation_withdrawn"] {
        assert!(actions.contains(&a.to_string()), "{a}");
    }
    let policy = Visitor::new(&app).page("/policy").await;
    assert!(policy.contains("The subsidiary was sold."));
}
