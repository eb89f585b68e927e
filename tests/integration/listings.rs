//! Listings: drafts, deployments, plans, the review lifecycle by role,
//! tenant isolation, public change history, base-model deprecation notices
//! and inert Markdown.

use crate::builders::{
    alice_publishes, basic_plan, call_ok, catalogue_slugs, market, ready_draft, status_of,
};
use crate::helpers::{audit_actions, App, Backend, TestDb, Visitor};

crate::on_both_backends!(
    a_listing_is_reviewed_and_only_published_listings_are_public,
    each_role_may_make_only_its_own_transitions,
    another_partners_listing_is_not_found_and_cannot_be_changed,
    changes_to_a_published_listing_are_kept_as_public_history,
    deprecating_a_base_model_notifies_every_organisation_deploying_on_it,
    markdown_descriptions_render_inert,
    bad_listing_input_is_refused_with_field_errors_and_nothing_is_written,
    plans_and_deployments_are_frozen_while_under_review,
    only_the_platform_names_a_listing_after_itself,
    selects_and_textareas_with_an_error_say_so_and_name_their_message,
    a_partner_sets_endpoints_on_the_editor_and_sees_each_secret_once,
    a_draft_claims_no_slug_another_organisation_could_detect,
);

/// Adds an active deployment of `listing` on `model`.
async fn add_active_deployment(v: &Visitor<'_>, listing: &str, model: &str, revision: &str) {
    call_ok(
        v,
        "/api/fn/add_deployment",
        &[
            ("listing_id", listing),
            ("base_model_id", model),
            ("revision", revision),
            ("status", "active"),
        ],
    )
    .await;
}

async fn a_listing_is_reviewed_and_only_published_listings_are_public(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let anon = Visitor::new(&app);
    let id = ready_draft(&m.alice, "Radiology Notes", &m.models[0]).await;
    // A second deployment, on the other base model.
    call_ok(
        &m.alice,
        "/api/fn/add_deployment",
        &[
            ("listing_id", &id),
            ("base_model_id", &m.models[1]),
            ("revision", "lora-7"),
            ("status", "active"),
            ("eval_score", "88"),
        ],
    )
    .await;

    // A draft is nobody's business but its publisher's (and referees',
    // at the address that names the publisher).
    assert!(catalogue_slugs(&anon, "radiology").await.is_empty());
    for (who, short, full) in [
        (&anon, 404, 404),
        (&m.bob, 404, 404),
        (&m.carol, 404, 404),
        (&m.player, 404, 404),
        (&m.alice, 200, 200),
        (&m.referee, 404, 200),
    ] {
        let (got, _) = who
            .call("/api/fn/listing_page", &[("slug", "radiology-notes")])
            .await;
        assert_eq!(got, short);
        let (got, _) = who
            .call(
                "/api/fn/listing_page",
                &[
                    ("slug", "radiology-notes"),
                    ("publisher", "meridian-health"),
                ],
            )
            .await;
        assert_eq!(got, full);
    }

    call_ok(&m.alice, "/api/fn/submit_listing", &[("id", &id)]).await;
    let queue = call_ok(&m.referee, "/api/fn/review_queue", &[]).await;
    assert_eq!(queue["submitted"][0]["slug"], "radiology-notes");
    assert!(
        catalogue_slugs(&anon, "radiology").await.is_empty(),
        "submitted is not public"
    );

    // Rejected with a reason the partner sees.
    call_ok(
        &m.referee,
        "/api/fn/reject_listing",
        &[("id", &id), ("reason", "Add the evaluation method.")],
    )
    .await;
    let mine = call_ok(&m.alice, "/api/fn/my_listings", &[]).await;
    assert_eq!(mine["rows"][0]["status"], "Rejected");
    assert_eq!(
        mine["rows"][0]["review_reason"],
        "Add the evaluation method."
    );
    let (status, _) = anon
        .call("/api/fn/listing_page", &[("slug", "radiology-notes")])
        .await;
    assert_eq!(status, 404, "rejected is not public");

    call_ok(&m.alice, "/api/fn/submit_listing", &[("id", &id)]).await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &id)]).await;
    assert_eq!(
        catalogue_slugs(&anon, "radiology").await,
        vec!["radiology-notes"]
    );
    let page = call_ok(
        &anon,
        "/api/fn/listing_page",
        &[("slug", "radiology-notes")],
    )
    .await;
    assert_eq!(page["platform_owned"], false);
    assert_eq!(page["deployments"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        page["review_reason"],
        serde_json::Value::Null,
        "reasons are not public"
    );
    assert_eq!(page["plans"][0]["monthly_fee_minor"], 4900);

    // A first-party listing by a player carries the badge everywhere.
    let fp = ready_draft(&m.player, "Radiology Companion", &m.models[1]).await;
    call_ok(&m.player, "/api/fn/submit_listing", &[("id", &fp)]).await;
    // It enters healthcare, where Alice publishes: a signed-off case first.
    let (status, _) = m
        .referee
        .call("/api/fn/approve_listing", &[("id", &fp)])
        .await;
    assert_eq!(status, 409);
    let case = crate::builders::case_of(&m.referee, "first_party_overlap").await;
    call_ok(
        &m.referee,
        "/api/fn/decide_case",
        &[
            ("id", &case),
            ("action", "sign_off"),
            ("words", "Different scope: companion app, not reports."),
        ],
    )
    .await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &fp)]).await;
    let found = call_ok(&anon, "/api/fn/catalogue_search", &[("q", "radiology")]).await;
    let owned: Vec<(String, bool)> = found["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| {
            (
                h["card"]["slug"].as_str().unwrap_or("").to_string(),
                h["card"]["platform_owned"] == true,
            )
        })
        .collect();
    assert!(
        owned.contains(&("radiology-companion".into(), true)),
        "{owned:?}"
    );
    assert!(
        owned.contains(&("radiology-notes".into(), false)),
        "{owned:?}"
    );
    let html = app.get_text("/catalogue?q=radiology").await.1;
    assert_eq!(
        html.matches("Platform-owned</span>").count(),
        1,
        "one badge, on the first-party card"
    );

    // Suspended listings leave the catalogue; reinstated ones return.
    call_ok(
        &m.referee,
        "/api/fn/suspend_listing",
        &[("id", &id), ("reason", "Complaint under review.")],
    )
    .await;
    assert_eq!(
        catalogue_slugs(&anon, "radiology").await,
        vec!["radiology-companion"]
    );
    call_ok(&m.referee, "/api/fn/reinstate_listing", &[("id", &id)]).await;
    assert!(catalogue_slugs(&anon, "radiology")
        .await
        .contains(&"radiology-notes".to_string()));
    call_ok(&m.alice, "/api/fn/retire_listing", &[("id", &id)]).await;
    assert_eq!(
        catalogue_slugs(&anon, "radiology").await,
        vec!["radiology-companion"]
    );

    let actions = audit_actions(&db).await;
    for a in [
        "listing.created",
        "listing.updated",
        "listing.plan_added",
        "listing.deployment_added",
        "listing.submitted",
        "listing.rejected",
        "listing.approved",
        "listing.suspended",
        "listing.reinstated",
        "listing.retired",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
}

async fn code(v: &Visitor<'_>, path: &str, fields: &[(&str, &str)]) -> u16 {
    v.call(path, fields).await.0
}

async fn each_role_may_make_only_its_own_transitions(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let id = ready_draft(&m.alice, "Claims Triage", &m.models[0]).await;
    let idf = [("id", id.as_str())];
    let with_reason = [("id", id.as_str()), ("reason", "Not convincing yet.")];
    // The menu offers each person only what their role allows.
    for (v, edits, referee) in [
        (&m.alice, true, false),
        (&m.player, true, false),
        (&m.referee, false, true),
        (&m.carol, false, false),
    ] {
        let me = call_ok(v, "/api/fn/current_user", &[]).await;
        assert_eq!(me["edits_listings"], edits, "{me}");
        assert_eq!(me["referee"], referee, "{me}");
        let html = v.get("/catalogue").await.text().await.expect("page");
        assert_eq!(
            html.contains("href=\"/my/listings\""),
            edits,
            "{}",
            me["email"]
        );
        assert_eq!(
            html.contains("href=\"/review\""),
            referee,
            "{}",
            me["email"]
        );
    }
    // Review actions belong to referees: partners, players and clients are refused.
    for v in [&m.alice, &m.bob, &m.player, &m.carol] {
        assert_eq!(code(v, "/api/fn/approve_listing", &idf).await, 403);
        assert_eq!(code(v, "/api/fn/reject_listing", &with_reason).await, 403);
        assert_eq!(code(v, "/api/fn/suspend_listing", &with_reason).await, 403);
        assert_eq!(code(v, "/api/fn/reinstate_listing", &idf).await, 403);
    }
    // Publisher actions belong to the publisher's organisation.
    assert_eq!(code(&m.referee, "/api/fn/submit_listing", &idf).await, 403);
    assert_eq!(code(&m.carol, "/api/fn/submit_listing", &idf).await, 403);
    assert_eq!(code(&m.bob, "/api/fn/submit_listing", &idf).await, 404);
    // Clients and referees cannot create listings.
    let create = [
        ("name", "Nope"),
        ("tagline", "x"),
        ("industry", "legal"),
        ("base_model_id", m.models[0].as_str()),
    ];
    assert_eq!(code(&m.carol, "/api/fn/create_listing", &create).await, 403);
    assert_eq!(
        code(&m.referee, "/api/fn/create_listing", &create).await,
        403
    );

    // From draft: no review decision applies.
    for path in ["/api/fn/approve_listing", "/api/fn/reinstate_listing"] {
        assert_eq!(code(&m.referee, path, &idf).await, 409, "{path} on a draft");
    }
    for path in ["/api/fn/reject_listing", "/api/fn/suspend_listing"] {
        assert_eq!(
            code(&m.referee, path, &with_reason).await,
            409,
            "{path} on a draft"
        );
    }
    // A reason is required to reject.
    call_ok(&m.alice, "/api/fn/submit_listing", &idf).await;
    assert_eq!(
        code(&m.alice, "/api/fn/submit_listing", &idf).await,
        409,
        "twice"
    );
    assert_eq!(
        code(
            &m.referee,
            "/api/fn/reject_listing",
            &[("id", id.as_str()), ("reason", " ")]
        )
        .await,
        422
    );
    assert_eq!(
        code(&m.referee, "/api/fn/suspend_listing", &with_reason).await,
        409,
        "not published"
    );
    // Under review, the details are frozen.
    let upd = [
        ("id", id.as_str()),
        ("name", "Claims Triage"),
        ("tagline", "x"),
        ("industry", "insurance"),
    ];
    assert_eq!(code(&m.alice, "/api/fn/update_listing", &upd).await, 409);
    call_ok(&m.referee, "/api/fn/approve_listing", &idf).await;
    assert_eq!(
        code(&m.referee, "/api/fn/approve_listing", &idf).await,
        409,
        "already published"
    );
    assert_eq!(
        code(&m.referee, "/api/fn/reinstate_listing", &idf).await,
        409,
        "not suspended"
    );
    assert_eq!(
        code(&m.alice, "/api/fn/submit_listing", &idf).await,
        409,
        "published"
    );
    call_ok(&m.referee, "/api/fn/suspend_listing", &with_reason).await;
    assert_eq!(
        code(&m.referee, "/api/fn/approve_listing", &idf).await,
        409,
        "suspended is reinstated, not approved"
    );
    call_ok(&m.alice, "/api/fn/retire_listing", &idf).await;
    for (v, path) in [
        (&m.alice, "/api/fn/retire_listing"),
        (&m.alice, "/api/fn/submit_listing"),
        (&m.referee, "/api/fn/reinstate_listing"),
        (&m.referee, "/api/fn/approve_listing"),
    ] {
        assert_eq!(
            code(v, path, &idf).await,
            409,
            "{path} on a retired listing"
        );
    }
    let state = db
        .count(&format!(
            "SELECT COUNT(*) FROM listings WHERE id = {id} AND status = 'retired'"
        ))
        .await;
    assert_eq!(state, 1);
}

async fn another_partners_listing_is_not_found_and_cannot_be_changed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let id = ready_draft(&m.alice, "Coding Assist", &m.models[0]).await;
    let dep = db
        .count(&format!(
            "SELECT id FROM deployments WHERE listing_id = {id}"
        ))
        .await
        .to_string();
    let plan = db
        .count(&format!("SELECT id FROM plans WHERE listing_id = {id}"))
        .await
        .to_string();
    let before = db.count("SELECT COUNT(*) FROM audit_log").await;
    for (path, fields) in [
        ("/api/fn/listing_editor", vec![("id", id.as_str())]),
        (
            "/api/fn/update_listing",
            vec![
                ("id", &id),
                ("name", "Stolen"),
                ("tagline", "x"),
                ("industry", "legal"),
            ],
        ),
        (
            "/api/fn/add_deployment",
            vec![
                ("listing_id", &id),
                ("base_model_id", &m.models[1]),
                ("revision", "x"),
                ("status", "active"),
            ],
        ),
        (
            "/api/fn/set_default_deployment",
            vec![("listing_id", &id), ("deployment_id", &dep)],
        ),
        (
            "/api/fn/remove_deployment",
            vec![("listing_id", &id), ("deployment_id", &dep)],
        ),
        (
            "/api/fn/add_plan",
            vec![
                ("listing_id", &id),
                ("plan_name", "X"),
                ("monthly_fee", "1"),
                ("currency", "EUR"),
                ("included_calls", "1"),
                ("overage_per_1000", "1"),
            ],
        ),
        (
            "/api/fn/deactivate_plan",
            vec![("listing_id", &id), ("plan_id", &plan)],
        ),
        ("/api/fn/submit_listing", vec![("id", &id)]),
        ("/api/fn/retire_listing", vec![("id", &id)]),
    ] {
        let (status, body) = m.bob.call(path, &fields).await;
        assert_eq!(status, 404, "{path}: {body}");
        // The player (platform staff) has no more right to it than Bob.
        let (status, _) = m.player.call(path, &fields).await;
        assert_eq!(status, 404, "{path} as player");
    }
    // Nothing was written but the record of the player's try through the
    // editor's address (refused, on the partner's access log).
    assert_eq!(
        db.count("SELECT COUNT(*) FROM audit_log").await,
        before + 1,
        "nothing else was written"
    );
    assert_eq!(
        audit_actions(&db).await.last().map(String::as_str),
        Some("partner_data.refused")
    );
    let mine = call_ok(&m.bob, "/api/fn/my_listings", &[]).await;
    assert_eq!(mine["rows"].as_array().map(Vec::len), Some(0));
    let page = app.get(&format!("/my/listings/{id}")).await;
    assert_eq!(page.status(), 401);
    let res = m.bob.get(&format!("/my/listings/{id}")).await;
    assert_eq!(res.status(), 404);
}

async fn changes_to_a_published_listing_are_kept_as_public_history(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let id = ready_draft(&m.alice, "Tariff Explainer", &m.models[0]).await;
    // Changes while a draft are not history.
    call_ok(
        &m.alice,
        "/api/fn/add_plan",
        &[
            ("listing_id", &id),
            ("plan_name", "Free"),
            ("monthly_fee", "0"),
            ("currency", "EUR"),
            ("included_calls", "100"),
            ("overage_per_1000", "0"),
        ],
    )
    .await;
    call_ok(&m.alice, "/api/fn/submit_listing", &[("id", &id)]).await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &id)]).await;
    let anon = Visitor::new(&app);
    let page = call_ok(
        &anon,
        "/api/fn/listing_page",
        &[("slug", "tariff-explainer")],
    )
    .await;
    assert_eq!(page["changes"].as_array().map(Vec::len), Some(0));

    call_ok(
        &m.alice,
        "/api/fn/add_plan",
        &[
            ("listing_id", &id),
            ("plan_name", "Pro"),
            ("monthly_fee", "1,250.00"),
            ("currency", "USD"),
            ("included_calls", "50000"),
            ("overage_per_1000", "3"),
        ],
    )
    .await;
    let dep = call_ok(
        &m.alice,
        "/api/fn/add_deployment",
        &[
            ("listing_id", &id),
            ("base_model_id", &m.models[1]),
            ("revision", "r2"),
            ("status", "preview"),
            ("make_default", "on"),
        ],
    )
    .await;
    let plan = db
        .count(&format!(
            "SELECT id FROM plans WHERE listing_id = {id} AND name = 'Free'"
        ))
        .await
        .to_string();
    call_ok(
        &m.alice,
        "/api/fn/deactivate_plan",
        &[("listing_id", &id), ("plan_id", &plan)],
    )
    .await;
    let page = call_ok(
        &anon,
        "/api/fn/listing_page",
        &[("slug", "tariff-explainer")],
    )
    .await;
    let changes: Vec<String> = page["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["summary"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(
        changes
            .iter()
            .any(|c| c.contains("Plan added: Pro, USD 1,250.00 a month")),
        "{changes:?}"
    );
    assert!(changes.iter().any(|c| c.contains("Deployment added: Lumen 3, revision r2, preview, now the default")), "{changes:?}");
    assert!(
        changes.iter().any(|c| c == "Plan withdrawn: Free"),
        "{changes:?}"
    );
    // The new default shows on the card; the old one cannot be removed while default, the new one can't either.
    let default = page["deployments"]
        .as_array()
        .expect("deps")
        .iter()
        .find(|d| d["is_default"] == true)
        .cloned()
        .expect("default");
    assert_eq!(default["id"].as_i64(), dep.as_i64());
    let (status, _) = m
        .alice
        .call(
            "/api/fn/remove_deployment",
            &[("listing_id", &id), ("deployment_id", &dep.to_string())],
        )
        .await;
    assert_eq!(status, 409);
    // The last active plan of a published listing stays.
    let basic = db
        .count(&format!(
            "SELECT id FROM plans WHERE listing_id = {id} AND name = 'Basic'"
        ))
        .await
        .to_string();
    let pro = db
        .count(&format!(
            "SELECT id FROM plans WHERE listing_id = {id} AND name = 'Pro'"
        ))
        .await
        .to_string();
    call_ok(
        &m.alice,
        "/api/fn/deactivate_plan",
        &[("listing_id", &id), ("plan_id", &basic)],
    )
    .await;
    let (status, body) = m
        .alice
        .call(
            "/api/fn/deactivate_plan",
            &[("listing_id", &id), ("plan_id", &pro)],
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM plans WHERE id = {pro} AND active = 1"
        ))
        .await,
        1,
        "rolled back"
    );
    let html = app.get_text("/listings/tariff-explainer").await.1;
    assert!(html.contains("Change history") && html.contains("Plan withdrawn: Free"));
}

async fn deprecating_a_base_model_notifies_every_organisation_deploying_on_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let a = ready_draft(&m.alice, "Outage Desk", &m.models[0]).await;
    let b = ready_draft(&m.bob, "Fraud Signals", &m.models[1]).await;
    // Bob also runs on model 0, as a second deployment.
    add_active_deployment(&m.bob, &b, &m.models[0], "v2").await;
    let _ = a;
    let (status, _) = m
        .alice
        .call("/api/fn/deprecate_base_model", &[("id", &m.models[0])])
        .await;
    assert_eq!(status, 403, "partners do not manage base models");
    call_ok(
        &m.referee,
        "/api/fn/deprecate_base_model",
        &[("id", &m.models[0])],
    )
    .await;
    for (v, listing) in [(&m.alice, "Outage Desk"), (&m.bob, "Fraud Signals")] {
        let notes = call_ok(v, "/api/fn/notifications", &[]).await;
        let notes = notes.as_array().expect("list");
        assert_eq!(notes.len(), 1, "{notes:?}");
        let msg = notes[0]["message"].as_str().unwrap_or("");
        assert!(msg.contains("Aurora 2") && msg.contains(listing), "{msg}");
    }
    // The page dates each notice and says where its link leads.
    let html = m.alice.page("/notifications").await;
    let doc = scraper::Html::parse_document(&html);
    let item = scraper::Selector::parse("ul.notifications li").expect("selector");
    let item = doc.select(&item).next().expect("a notice");
    let time = scraper::Selector::parse("time[datetime]").expect("selector");
    let time = item.select(&time).next().expect("a date");
    assert!(
        time.value()
            .attr("datetime")
            .unwrap_or("")
            .starts_with("20")
            && time.text().collect::<String>().ends_with(" UTC"),
        "{html}"
    );
    let link = scraper::Selector::parse("a[href='/my/listings']").expect("selector");
    let link = item.select(&link).next().expect("a link to the listings");
    assert_eq!(link.text().collect::<String>(), "Review your listings");
    let notes = call_ok(&m.carol, "/api/fn/notifications", &[]).await;
    assert_eq!(
        notes.as_array().map(Vec::len),
        Some(0),
        "the client has no listing on it"
    );
    // A deprecated model takes no new deployments or drafts.
    let (status, body) = m
        .alice
        .call(
            "/api/fn/create_listing",
            &[
                ("name", "New One"),
                ("tagline", "x"),
                ("industry", "energy"),
                ("base_model_id", &m.models[0]),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("active base model"), "{body}");
    let (status, _) = m
        .referee
        .call("/api/fn/deprecate_base_model", &[("id", &m.models[0])])
        .await;
    assert_eq!(status, 409, "already deprecated");
    call_ok(
        &m.referee,
        "/api/fn/reactivate_base_model",
        &[("id", &m.models[0])],
    )
    .await;
    assert!(audit_actions(&db)
        .await
        .iter()
        .any(|a| a == "base_model.deprecated"));
}

async fn markdown_descriptions_render_inert(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let id = ready_draft(&m.alice, "Contract Review", &m.models[0]).await;
    let evil = "# Heading\n\n<script>alert('x')</script>\n\n<img src=x onerror=\"alert(1)\">\n\n\
                [click me](javascript:alert(2)) <a href=\"javascript:alert(3)\" onclick=\"alert(4)\">raw link</a>\n\n\
                <div style=\"position:fixed\" onmouseover=\"alert(5)\">overlay</div></section><script>alert(6)</script>";
    call_ok(
        &m.alice,
        "/api/fn/update_listing",
        &[
            ("id", &id),
            ("name", "Contract Review"),
            ("slug", "contract-review"),
            ("tagline", "t"),
            ("description", evil),
            ("industry", "legal"),
        ],
    )
    .await;
    let res = m.alice.get("/listings/contract-review").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("body");
    let doc = scraper::Html::parse_document(&html);
    let section = scraper::Selector::parse("section.description").expect("selector");
    let description = doc.select(&section).next().expect("description section");
    // The author's "# Heading" sits under the page's "Description" (h2):
    // the page keeps one h1, the listing's name.
    assert!(
        description.inner_html().contains("<h3>Heading</h3>"),
        "{}",
        description.inner_html()
    );
    let h1 = scraper::Selector::parse("h1").expect("selector");
    assert_eq!(doc.select(&h1).count(), 1, "one h1 on the page");
    for el in description
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
    {
        let name = el.value().name();
        assert!(
            !["script", "img", "iframe", "style", "div"].contains(&name),
            "<{name}> survived"
        );
        for (attr, value) in el.value().attrs() {
            assert!(!attr.starts_with("on"), "{attr} on <{name}>");
            assert!(attr != "style", "style on <{name}>");
            assert!(
                !value.to_lowercase().contains("javascript:"),
                "{attr}={value}"
            );
        }
    }
    // The only scripts on the page are the server's own, with the nonce.
    // The only scripts on the page are the server's own, with the nonce;
    // the description travels in them as escaped JSON data.
    let scripts = scraper::Selector::parse("script").expect("selector");
    for s in doc.select(&scripts) {
        assert!(
            s.value().attr("nonce").is_some(),
            "a script without the nonce"
        );
        let code = s.inner_html();
        assert!(
            !code.trim_start().starts_with("alert("),
            "an injected script"
        );
        assert!(!code.contains("<script>alert"), "unescaped markup in data");
    }
}

async fn bad_listing_input_is_refused_with_field_errors_and_nothing_is_written(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let (status, body) = m
        .alice
        .call(
            "/api/fn/create_listing",
            &[
                ("name", "x"),
                ("slug", "Bad Slug!"),
                ("tagline", ""),
                ("industry", "astrology"),
                ("base_model_id", "999"),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    for field in ["name", "slug", "tagline", "industry", "base_model_id"] {
        assert!(body["fields"][field].is_array(), "{field}: {body}");
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM listings").await, 0);
    let id = ready_draft(&m.alice, "Loan Risk", &m.models[0]).await;
    // The organisation's own slug again: said so (another organisation's
    // draft is never an answer: `a_draft_claims_no_slug_…`).
    let (status, body) = m
        .alice
        .call(
            "/api/fn/create_listing",
            &[
                ("name", "Loan Risk"),
                ("tagline", "mine"),
                ("industry", "finance"),
                ("base_model_id", &m.models[0]),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["fields"]["slug"][0]
            .as_str()
            .unwrap_or("")
            .contains("Another of your organisation's listings"),
        "{body}"
    );
    let (status, body) = m
        .alice
        .call(
            "/api/fn/add_plan",
            &[
                ("listing_id", &id),
                ("plan_name", "Basic"),
                ("monthly_fee", "-5"),
                ("currency", "XYZ"),
                ("included_calls", "lots"),
                ("overage_per_1000", "1.999"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    for field in [
        "monthly_fee",
        "currency",
        "included_calls",
        "overage_per_1000",
    ] {
        assert!(body["fields"][field].is_array(), "{field}: {body}");
    }
    let (status, body) = m
        .alice
        .call(
            "/api/fn/add_plan",
            &[
                ("listing_id", &id),
                ("plan_name", "Basic"),
                ("monthly_fee", "5"),
                ("currency", "EUR"),
                ("included_calls", "1"),
                ("overage_per_1000", "1"),
            ],
        )
        .await;
    assert_eq!(status, 422, "duplicate plan name: {body}");
    let (status, body) = m
        .alice
        .call(
            "/api/fn/add_deployment",
            &[
                ("listing_id", &id),
                ("base_model_id", &m.models[0]),
                ("revision", "v1"),
                ("status", "active"),
                ("eval_score", "101"),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["eval_score"].is_array(), "{body}");
    let (status, body) = m
        .alice
        .call(
            "/api/fn/add_deployment",
            &[
                ("listing_id", &id),
                ("base_model_id", &m.models[0]),
                ("revision", "v1"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(status, 422, "same model and revision twice: {body}");
    let (status, body) = m
        .alice
        .call(
            "/api/fn/update_listing",
            &[
                ("id", &id),
                ("name", "Loan Risk"),
                ("tagline", "t"),
                ("industry", "finance"),
                ("documentation_url", "javascript:alert(1)"),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(db.count("SELECT COUNT(*) FROM plans").await, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM deployments").await, 1);
    // Submitting without what review needs says what is missing.
    let bare = call_ok(
        &m.bob,
        "/api/fn/create_listing",
        &[
            ("name", "Bare One"),
            ("tagline", "t"),
            ("industry", "finance"),
            ("base_model_id", &m.models[0]),
        ],
    )
    .await;
    let (status, body) = m
        .bob
        .call("/api/fn/submit_listing", &[("id", &bare.to_string())])
        .await;
    assert_eq!(status, 409);
    let msg = body.to_string();
    assert!(
        msg.contains("active plan") && msg.contains("description"),
        "{msg}"
    );
}

/// The referee decides on what was submitted: while a listing is under
/// review its publisher can change neither plans nor deployments (nor its
/// details), and nothing of a refused try is written; after the decision
/// they can again.
async fn plans_and_deployments_are_frozen_while_under_review(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let id = ready_draft(&m.alice, "Frozen Notes", &m.models[0]).await;
    add_active_deployment(&m.alice, &id, &m.models[1], "r2").await;
    let deps =
        |extra: &str| format!("SELECT COUNT(*) FROM deployments WHERE listing_id = {id}{extra}");
    let second = db
        .count(&format!(
            "SELECT MAX(id) FROM deployments WHERE listing_id = {id}"
        ))
        .await
        .to_string();
    let plan = db
        .count(&format!("SELECT id FROM plans WHERE listing_id = {id}"))
        .await
        .to_string();
    call_ok(&m.alice, "/api/fn/submit_listing", &[("id", &id)]).await;
    let plans = format!("SELECT COUNT(*) FROM plans WHERE listing_id = {id} AND active = 1");
    let before = (
        db.count(&plans).await,
        db.count(&deps("")).await,
        db.count("SELECT COUNT(*) FROM audit_log").await,
    );
    let add_plan = [
        ("listing_id", id.as_str()),
        ("plan_name", "Pro"),
        ("monthly_fee", "99"),
        ("currency", "EUR"),
        ("included_calls", "5000"),
        ("overage_per_1000", "2"),
    ];
    let add_deployment = [
        ("listing_id", id.as_str()),
        ("base_model_id", m.models[1].as_str()),
        ("revision", "r3"),
        ("status", "active"),
    ];
    let tries: [(&str, &[(&str, &str)]); 5] = [
        ("/api/fn/add_plan", &add_plan),
        (
            "/api/fn/deactivate_plan",
            &[("listing_id", &id), ("plan_id", &plan)],
        ),
        ("/api/fn/add_deployment", &add_deployment),
        (
            "/api/fn/set_default_deployment",
            &[("listing_id", &id), ("deployment_id", &second)],
        ),
        (
            "/api/fn/remove_deployment",
            &[("listing_id", &id), ("deployment_id", &second)],
        ),
    ];
    for (path, fields) in tries {
        let (status, body) = m.alice.call(path, fields).await;
        assert_eq!(status, 409, "{path}: {body}");
        assert!(
            body.to_string().contains("being reviewed"),
            "{path} says why: {body}"
        );
    }
    let after = (
        db.count(&plans).await,
        db.count(&deps("")).await,
        db.count("SELECT COUNT(*) FROM audit_log").await,
    );
    assert_eq!(before, after, "nothing written while frozen");
    assert_eq!(db.count(&deps(" AND revision = 'r3'")).await, 0);
    // Rejected: the publisher may change the offer again.
    call_ok(
        &m.referee,
        "/api/fn/reject_listing",
        &[("id", &id), ("reason", "Price the heavier use.")],
    )
    .await;
    call_ok(&m.alice, "/api/fn/add_plan", &add_plan).await;
    call_ok(&m.alice, "/api/fn/add_deployment", &add_deployment).await;
    assert_eq!(db.count(&plans).await, before.0 + 1);
}

/// A partner cannot make its listing read as the platform's ("Fairgr0und
/// Triage") nor hide characters in its name, on creation or rename; the
/// platform's own listings may carry its name.
async fn only_the_platform_names_a_listing_after_itself(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let before = db.count("SELECT COUNT(*) FROM listings").await;
    for (name, says) in [
        ("Fairground Triage", "platform's own listings"),
        ("Fairgr0und Triage", "platform's own listings"),
        ("FAIR GROUND triage", "platform's own listings"),
        ("Triage\u{202E}seton", "invisible"),
    ] {
        let (status, body) = m
            .alice
            .call(
                "/api/fn/create_listing",
                &[
                    ("name", name),
                    ("tagline", "A model for testing."),
                    ("industry", "healthcare"),
                    ("base_model_id", &m.models[0]),
                ],
            )
            .await;
        assert_eq!(status, 422, "{name:?}: {body}");
        let message = body["fields"]["name"][0].as_str().unwrap_or("");
        assert!(message.contains(says), "{name:?}: {body}");
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM listings").await, before);
    // Nor by renaming a listing it has.
    let id = ready_draft(&m.alice, "Triage Helper", &m.models[0]).await;
    let (status, body) = m
        .alice
        .call(
            "/api/fn/update_listing",
            &[
                ("id", &id),
                ("name", "Fairground Triage"),
                ("slug", "triage-helper"),
                ("tagline", "A model for testing."),
                ("industry", "healthcare"),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM listings WHERE id = {id} AND name = 'Triage Helper'"
        ))
        .await,
        1
    );
    // Nor through its address: a plain name with a slug that reads as the
    // platform's, on creating and on editing.
    for slug in ["fairground-triage", "triage-by-fa1rground"] {
        let (status, body) = m
            .alice
            .call(
                "/api/fn/create_listing",
                &[
                    ("name", "Triage Helper Two"),
                    ("slug", slug),
                    ("tagline", "A model for testing."),
                    ("industry", "healthcare"),
                    ("base_model_id", &m.models[0]),
                ],
            )
            .await;
        assert_eq!(status, 422, "{slug}: {body}");
        let message = body["fields"]["slug"][0].as_str().unwrap_or("");
        assert!(
            message.contains("platform's own listings"),
            "{slug}: {body}"
        );
        let (status, body) = m
            .alice
            .call(
                "/api/fn/update_listing",
                &[
                    ("id", &id),
                    ("name", "Triage Helper"),
                    ("slug", slug),
                    ("tagline", "A model for testing."),
                    ("industry", "healthcare"),
                ],
            )
            .await;
        assert_eq!(status, 422, "{slug}: {body}");
    }
    assert_eq!(
        db.count("SELECT COUNT(*) FROM listings WHERE slug LIKE '%f%ground%'")
            .await,
        0
    );
    // The platform's own listing may.
    ready_draft(&m.player, "Fairground Triage", &m.models[0]).await;
}

/// The attributes of the first element matching `css` in `html`.
fn control(html: &str, css: &str) -> (String, String) {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).expect("selector");
    let el = doc
        .select(&sel)
        .next()
        .unwrap_or_else(|| panic!("{css} in the page"));
    let attr = |a: &str| el.value().attr(a).unwrap_or("").to_string();
    (attr("aria-invalid"), attr("aria-describedby"))
}

/// A refused form shown again without JavaScript: a select or textarea
/// whose value was refused is marked invalid and points at its message,
/// as inputs are; the others are not marked.
async fn selects_and_textareas_with_an_error_say_so_and_name_their_message(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let follow = |res: reqwest::Response| {
        let back = res.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_string();
        back.strip_prefix(&app.base_url)
            .unwrap_or(&back)
            .to_string()
    };
    let res = m
        .alice
        .form(
            "/api/fn/create_listing",
            "/my/listings",
            &[
                ("name", "Triage Helper"),
                ("slug", ""),
                ("tagline", "A model for testing."),
                ("industry", ""),
                ("base_model_id", &m.models[0]),
            ],
        )
        .await;
    let page = m.alice.page(&follow(res)).await;
    assert_eq!(
        control(&page, "select#industry"),
        ("true".into(), "industry-error".into())
    );
    assert!(
        page.contains("Choose an industry from the list."),
        "the message is shown"
    );
    assert_eq!(control(&page, "select#base_model_id").0, "false");

    let id = ready_draft(&m.alice, "Triage Helper", &m.models[0]).await;
    let long = "x".repeat(20_001);
    let res = m
        .alice
        .form(
            "/api/fn/update_listing",
            &format!("/my/listings/{id}"),
            &[
                ("id", &id),
                ("name", "Triage Helper"),
                ("slug", "triage-helper"),
                ("tagline", "A model for testing."),
                ("description", &long),
                ("industry", "healthcare"),
            ],
        )
        .await;
    let page = m.alice.page(&follow(res)).await;
    assert_eq!(
        control(&page, "textarea#description"),
        ("true".into(), "description-error".into())
    );
    assert_eq!(control(&page, "select#industry").0, "false");
}

/// The editor's endpoint section: set through the server function (the
/// answer carries the secret) and through a form posted without JavaScript
/// (the page shows the secret once); every problem is named at its field;
/// nobody else reads or changes it; the public page shows neither the URL
/// nor the secret.
async fn a_partner_sets_endpoints_on_the_editor_and_sees_each_secret_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let id = alice_publishes(&m).await;
    let editor = format!("/my/listings/{id}");
    let page = call_ok(&m.alice, "/api/fn/listing_editor", &[("id", &id)]).await;
    let dep = page["detail"]["deployments"][0]["id"]
        .as_i64()
        .expect("dep")
        .to_string();

    let (status, body) = m
        .alice
        .call(
            "/api/fn/set_endpoint",
            &[
                ("listing_id", &id),
                ("deployment_id", ""),
                ("base_url", "ftp://x"),
                ("model", ""),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    for field in ["deployment_id", "base_url", "model"] {
        assert!(body["fields"][field].is_array(), "{field}: {body}");
    }

    let set = call_ok(
        &m.alice,
        "/api/fn/set_endpoint",
        &[
            ("listing_id", &id),
            ("deployment_id", &dep),
            ("base_url", "https://models.alice.test/v1"),
            ("model", "triage-7b"),
        ],
    )
    .await;
    let secret = set["secret"]
        .as_str()
        .expect("a secret the first time")
        .to_string();
    assert!(secret.starts_with("fgs_"), "{secret}");
    let html = m.alice.page(&editor).await;
    assert!(html.contains("https://models.alice.test/v1") && html.contains("triage-7b"));
    assert!(
        !html.contains(&secret),
        "a script's secret is not kept for the page"
    );

    // Without JavaScript: the page it returns to shows the new secret once.
    let res = m
        .alice
        .form(
            "/api/fn/replace_signing_secret",
            &editor,
            &[("listing_id", &id), ("deployment_id", &dep)],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let shown = |html: &str| {
        let doc = scraper::Html::parse_document(html);
        let sel = scraper::Selector::parse("code.new-secret").expect("selector");
        doc.select(&sel)
            .next()
            .map(|c| c.text().collect::<String>())
    };
    let html = m.alice.page(&editor).await;
    let replaced = shown(&html).expect("the replaced secret is shown");
    assert!(replaced.starts_with("fgs_") && replaced != secret);
    assert_eq!(shown(&m.alice.page(&editor).await), None, "and only once");

    // Nobody else: another partner, a client, a referee, a player.
    for v in [&m.bob, &m.carol, &m.referee, &m.player] {
        let (s, body) = v.call("/api/fn/listing_editor", &[("id", &id)]).await;
        assert!(s == 403 || s == 404, "{s}");
        assert!(!body.to_string().contains("models.alice.test"));
        let s = status_of(
            v,
            "/api/fn/set_endpoint",
            &[
                ("listing_id", &id),
                ("deployment_id", &dep),
                ("base_url", "https://evil.test"),
                ("model", "m"),
            ],
        )
        .await;
        assert!(s == 403 || s == 404, "{s}");
    }
    let public = Visitor::new(&app)
        .page(&format!(
            "/listings/{}",
            page["detail"]["slug"].as_str().expect("slug")
        ))
        .await;
    assert!(public.contains("Endpoint changed"));
    for hidden in ["models.alice.test", "triage-7b", &secret, &replaced] {
        assert!(!public.contains(hidden), "{hidden} on the public page");
    }
}

/// A listing page as `v` gets it: its status and body.
async fn page(v: &Visitor<'_>, fields: &[(&str, &str)]) -> (u16, serde_json::Value) {
    v.call("/api/fn/listing_page", fields).await
}

/// Saves the details of a "Loan Risk" draft under `slug`.
async fn save_details(v: &Visitor<'_>, id: &str, slug: &str) -> (u16, serde_json::Value) {
    let fields = [
        ("id", id),
        ("name", "Loan Risk"),
        ("slug", slug),
        ("tagline", "A model for testing."),
        ("description", "Reads **notes**."),
        ("industry", "healthcare"),
    ];
    v.call("/api/fn/update_listing", &fields).await
}

/// The slug leak: "this slug is taken" once confirmed that another
/// organisation had an unpublished listing with that slug. A slug is now
/// claimed when a listing is first published; before that it is the
/// publisher's own name for its draft, at `/listings/{publisher}/{slug}`.
async fn a_draft_claims_no_slug_another_organisation_could_detect(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let anon = Visitor::new(&app);
    let alices = ready_draft(&m.alice, "Loan Risk", &m.models[0]).await;
    // Bob's organisation drafts the same slug: nothing tells it Alice's
    // draft exists.
    let (status, body) = m
        .bob
        .call(
            "/api/fn/create_listing",
            &[
                ("name", "Loan Risk"),
                ("tagline", "Ours"),
                ("industry", "finance"),
                ("base_model_id", &m.models[0]),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let bobs = body.as_i64().expect("id").to_string();
    // The short address is each organisation's own draft, and nothing to
    // anyone else.
    let short = [("slug", "loan-risk")];
    assert_eq!(
        page(&m.alice, &short).await.1["publisher"],
        "Meridian Health"
    );
    let (_, bob_page) = page(&m.bob, &short).await;
    assert_eq!(bob_page["publisher"], "Ledgerline");
    assert_eq!(bob_page["href"], "/listings/ledgerline/loan-risk");
    for v in [&anon, &m.carol, &m.referee] {
        assert_eq!(page(v, &short).await.0, 404);
    }
    // A referee reads a draft at its full address, on the partner's record.
    let full = [("slug", "loan-risk"), ("publisher", "meridian-health")];
    assert_eq!(page(&m.referee, &full).await.0, 200);
    let log = call_ok(&m.alice, "/api/fn/data_access_log", &[]).await;
    assert!(log.to_string().contains("Loan Risk"), "{log}");
    // A player's try at the short address is refused on the record of both
    // partners it may have been aimed at.
    let refused = "SELECT COUNT(*) FROM data_access_log WHERE outcome = 'refused'";
    assert_eq!(db.count(refused).await, 0);
    assert_eq!(page(&m.player, &short).await.0, 404);
    assert_eq!(db.count(refused).await, 2);
    let (status, _) = m
        .player
        .call("/api/fn/compare_listings", &[("slugs", "loan-risk")])
        .await;
    assert_eq!(status, 404);
    assert_eq!(db.count(refused).await, 4);

    // Bob's draft is ready for review too.
    assert_eq!(save_details(&m.bob, &bobs, "loan-risk").await.0, 200);
    basic_plan(&m.bob, &bobs).await;

    // Published, Alice's listing owns the slug's public address.
    call_ok(&m.alice, "/api/fn/submit_listing", &[("id", &alices)]).await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &alices)]).await;
    let (status, public) = page(&anon, &short).await;
    assert_eq!(status, 200);
    assert_eq!(public["publisher"], "Meridian Health");
    assert_eq!(public["href"], "/listings/loan-risk");
    assert!(anon
        .page("/listings/loan-risk")
        .await
        .contains("Meridian Health"));
    // From now on the slug is the listing's address for good.
    let (status, body) = save_details(&m.alice, &alices, "loan-risk-2").await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["fields"]["slug"][0]
            .as_str()
            .unwrap_or("")
            .contains("keeps its address"),
        "{body}"
    );
    // Bob's draft keeps its full address; the slug is now taken, in public,
    // so that is what Bob is told when submitting or drafting it again.
    let (status, own) = page(
        &m.bob,
        &[("slug", "loan-risk"), ("publisher", "ledgerline")],
    )
    .await;
    assert_eq!((status, own["id"].to_string()), (200, bobs.clone()));
    let (status, body) = m.bob.call("/api/fn/submit_listing", &[("id", &bobs)]).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("now belongs to a published listing"),
        "{body}"
    );
    let (status, body) = m
        .bob
        .call(
            "/api/fn/create_listing",
            &[
                ("name", "Loan Risk"),
                ("tagline", "Again"),
                ("industry", "finance"),
                ("base_model_id", &m.models[0]),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["fields"]["slug"][0],
        "This slug is taken by a published listing. Choose another one."
    );
    // Its details cannot be saved under that slug either.
    let (status, body) = save_details(&m.bob, &bobs, "loan-risk").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["fields"]["slug"][0],
        "This slug is taken by a published listing. Choose another one."
    );
    // Under another slug, Bob's draft goes to review.
    assert_eq!(
        save_details(&m.bob, &bobs, "loan-risk-ledgerline").await.0,
        200
    );
    call_ok(&m.bob, "/api/fn/submit_listing", &[("id", &bobs)]).await;

    // Two drafts with one slug, both under review: the first approved
    // owns it; approving the second is refused and leaves it under review.
    let a2 = ready_draft(&m.alice, "Claims Triage", &m.models[0]).await;
    let b2 = ready_draft(&m.bob, "Claims Triage", &m.models[0]).await;
    for (v, id) in [(&m.alice, &a2), (&m.bob, &b2)] {
        call_ok(v, "/api/fn/submit_listing", &[("id", id)]).await;
    }
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &a2)]).await;
    let (status, body) = m
        .referee
        .call("/api/fn/approve_listing", &[("id", &b2)])
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("slug"),
        "{body}"
    );
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM listings WHERE id = {b2} AND status = 'submitted'"
        ))
        .await,
        1
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM listings WHERE public_slug = 'claims-triage'")
            .await,
        1
    );
}
