//! Subscriptions: subscribe (one active per client and listing, whatever
//! the concurrency), switch base model with history, cancel, resubscribe;
//! the partner-data firewall over subscribers, usage and revenue.

use crate::builders::{call_ok, carol_subscribes, market, offer, status_of};
use crate::helpers::{audit_actions, App, Backend, TestDb, Visitor};

crate::on_both_backends!(
    a_client_subscribes_switches_base_model_cancels_and_resubscribes,
    fifty_parallel_subscribes_make_one_subscription,
    subscribers_usage_and_revenue_are_behind_the_firewall,
);

async fn a_client_subscribes_switches_base_model_cancels_and_resubscribes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let o = offer(&m).await;
    // Only a client's owner or admin subscribes.
    for v in [&m.alice, &m.bob, &m.referee, &m.player] {
        let (status, body) = v
            .call(
                "/api/fn/subscribe",
                &[
                    ("listing_id", &o.listing),
                    ("plan_id", &o.plan),
                    ("deployment_id", &o.deployments[0]),
                ],
            )
            .await;
        assert_eq!(status, 403, "{body}");
    }
    let anon = Visitor::new(&app);
    assert_eq!(
        status_of(
            &anon,
            "/api/fn/subscribe",
            &[
                ("listing_id", &o.listing),
                ("plan_id", &o.plan),
                ("deployment_id", &o.deployments[0]),
            ],
        )
        .await,
        401
    );
    // Bad choices: field errors, nothing written.
    let (status, body) = m
        .carol
        .call(
            "/api/fn/subscribe",
            &[
                ("listing_id", &o.listing),
                ("plan_id", ""),
                ("deployment_id", "x"),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["plan_id"].is_array(), "{body}");
    assert!(body["fields"]["deployment_id"].is_array(), "{body}");
    let (status, body) = m
        .carol
        .call(
            "/api/fn/subscribe",
            &[
                ("listing_id", &o.listing),
                ("plan_id", "999999"),
                ("deployment_id", &o.deployments[0]),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(db.count("SELECT COUNT(*) FROM subscriptions").await, 0);

    let adoption = || async {
        let r = call_ok(&anon, "/api/fn/catalogue_search", &[("q", "triage")]).await;
        r["hits"][0]["score"]["adoption"]
            .as_f64()
            .expect("adoption")
    };
    assert_eq!(adoption().await, 0.0, "no subscriber yet");
    let id = carol_subscribes(&m, &o).await;
    // Subscribed but not yet used: not adoption (`adoption::` tests the
    // rest).
    assert_eq!(adoption().await, 0.0, "no billable call yet");
    // A double submit answers with the same subscription.
    assert_eq!(carol_subscribes(&m, &o).await, id);
    // A different choice while active: switch or cancel first.
    let (status, body) = m
        .carol
        .call(
            "/api/fn/subscribe",
            &[
                ("listing_id", &o.listing),
                ("plan_id", &o.plan),
                ("deployment_id", &o.deployments[1]),
            ],
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let mine = call_ok(&m.carol, "/api/fn/my_subscriptions", &[]).await;
    let subs = mine["subscriptions"].as_array().expect("subs");
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0]["listing_name"], "Triage Notes");
    assert_eq!(subs[0]["platform_owned"], false);
    assert_eq!(subs[0]["active"], true);
    let before = subs[0]["base_model"].as_str().unwrap_or("").to_string();

    // Switch base model: same subscription, history kept.
    call_ok(
        &m.carol,
        "/api/fn/switch_deployment",
        &[("id", &id), ("deployment_id", &o.deployments[1])],
    )
    .await;
    let page = call_ok(&m.carol, "/api/fn/subscription_detail", &[("id", &id)]).await;
    assert_eq!(
        page["subscription"]["id"].as_i64().map(|i| i.to_string()),
        Some(id.clone())
    );
    assert_ne!(
        page["subscription"]["base_model"].as_str().unwrap_or(""),
        before
    );
    assert!(
        page["subscription"]["base_model"]
            .as_str()
            .unwrap_or("")
            .contains("lora-2"),
        "{page}"
    );
    let switches = page["switches"].as_array().expect("switches");
    assert_eq!(switches.len(), 1, "{page}");
    assert!(switches[0]["at"].as_i64().unwrap_or(0) > 0);
    assert_eq!(switches[0]["by"], "Carol");
    // To where it already runs, or to another listing's deployment: refused.
    let (status, _) = m
        .carol
        .call(
            "/api/fn/switch_deployment",
            &[("id", &id), ("deployment_id", &o.deployments[1])],
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = m
        .carol
        .call(
            "/api/fn/switch_deployment",
            &[("id", &id), ("deployment_id", "999999")],
        )
        .await;
    assert_eq!(status, 422);
    // Nobody else switches or cancels it: partners may not act on
    // subscriptions at all, and the owner of another client organisation
    // (who may on its own) does not find this one.
    for v in [&m.alice, &m.bob] {
        assert_eq!(
            status_of(v, "/api/fn/cancel_subscription", &[("id", &id)]).await,
            403
        );
    }
    let dora = Visitor::signed_up(m.carol.app, "dora@example.org", "Dora").await;
    call_ok(
        &dora,
        "/api/fn/create_org",
        &[("name", "Harbour Clinic"), ("kind", "client")],
    )
    .await;
    assert_eq!(
        status_of(&dora, "/api/fn/cancel_subscription", &[("id", &id)]).await,
        404
    );
    assert_eq!(
        status_of(
            &dora,
            "/api/fn/switch_deployment",
            &[("id", &id), ("deployment_id", &o.deployments[0])],
        )
        .await,
        404
    );
    // The deployment it runs on cannot be removed from under it.
    let (status, body) = m
        .alice
        .call(
            "/api/fn/remove_deployment",
            &[
                ("listing_id", &o.listing),
                ("deployment_id", &o.deployments[1]),
            ],
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("paused"), "{body}");
    // The page shows it, with the switch.
    let html = m.carol.page(&format!("/subscriptions/{id}")).await;
    assert!(html.contains("Base model history"), "switch history shown");
    assert!(html.contains("lora-2"));

    call_ok(&m.carol, "/api/fn/cancel_subscription", &[("id", &id)]).await;
    let (status, _) = m
        .carol
        .call("/api/fn/cancel_subscription", &[("id", &id)])
        .await;
    assert_eq!(status, 409, "already ended");
    let (status, _) = m
        .carol
        .call(
            "/api/fn/switch_deployment",
            &[("id", &id), ("deployment_id", &o.deployments[0])],
        )
        .await;
    assert_eq!(status, 409);
    let page = call_ok(&m.carol, "/api/fn/subscription_detail", &[("id", &id)]).await;
    assert_eq!(page["subscription"]["active"], false);
    assert!(page["subscription"]["ended_at"].as_i64().is_some());
    assert_eq!(page["can_manage"], false);

    assert_eq!(adoption().await, 0.0, "cancelled: no longer counted");
    // Resubscribe: a new subscription.
    let again = carol_subscribes(&m, &o).await;
    assert_ne!(again, id);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM subscriptions WHERE status = 'active'")
            .await,
        1
    );
    let actions = audit_actions(&db).await;
    for a in [
        "subscription.created",
        "subscription.switched",
        "subscription.cancelled",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
    // A new subscription shows on the exposure dashboard, as a partner's.
    let report = call_ok(
        &m.referee,
        "/api/fn/exposure_report",
        &[("industry", "healthcare")],
    )
    .await;
    let subs: i64 = report["series"]
        .as_array()
        .expect("series")
        .iter()
        .map(|w| w["subscriptions"]["partner"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(subs, 2, "{report}");
}

async fn fifty_parallel_subscribes_make_one_subscription(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let o = offer(&m).await;
    let cookie = m.carol.cookie().expect("cookie");
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let url = app.url("/api/fn/subscribe");
        let client = app.client.clone();
        let origin = app.base_url.clone();
        let cookie = cookie.clone();
        let fields = [
            ("listing_id", o.listing.clone()),
            ("plan_id", o.plan.clone()),
            ("deployment_id", o.deployments[0].clone()),
        ];
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .header("cookie", cookie)
                .header("origin", origin)
                .header("accept", "application/json")
                .form(&fields)
                .send()
                .await
                .expect("post");
            let status = res.status().as_u16();
            (status, res.text().await.unwrap_or_default())
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, body) = t.await.expect("task");
        assert_eq!(status, 200, "{body}");
        ids.insert(body);
    }
    assert_eq!(
        ids.len(),
        1,
        "every answer names the one subscription: {ids:?}"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM subscriptions").await, 1);
    let created = audit_actions(&db)
        .await
        .iter()
        .filter(|a| *a == "subscription.created")
        .count();
    assert_eq!(created, 1);
}

async fn subscribers_usage_and_revenue_are_behind_the_firewall(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let o = offer(&m).await;
    let sub = carol_subscribes(&m, &o).await;
    let alice_org = db
        .count("SELECT id FROM organisations WHERE name = 'Meridian Health'")
        .await
        .to_string();
    let reads = || async {
        db.count("SELECT COUNT(*) FROM data_access_log WHERE outcome = 'read'")
            .await
    };
    let refused = || async {
        db.count("SELECT COUNT(*) FROM data_access_log WHERE outcome = 'refused'")
            .await
    };
    let player_cases = || async {
        db.count("SELECT COUNT(*) FROM conflict_cases WHERE kind = 'player_data_access'")
            .await
    };

    // Alice's own: her subscribers, usage and statements.
    let own = call_ok(&m.alice, "/api/fn/publisher_revenue", &[]).await;
    assert_eq!(
        own["subscribers"].as_array().map(Vec::len),
        Some(1),
        "{own}"
    );
    assert_eq!(own["subscribers"][0]["client"], "St Brigid Hospital");
    assert!(own["statements"].as_array().is_some_and(|s| !s.is_empty()));
    call_ok(&m.alice, "/api/fn/subscription_detail", &[("id", &sub)]).await;
    // The client sees its own subscription.
    call_ok(&m.carol, "/api/fn/subscription_detail", &[("id", &sub)]).await;
    assert_eq!(
        (reads().await, refused().await),
        (0, 0),
        "no outsider read yet"
    );

    // Another partner and the client: it does not exist for them.
    for v in [&m.bob, &m.carol] {
        assert_eq!(
            status_of(v, "/api/fn/publisher_revenue", &[("org", &alice_org)]).await,
            404
        );
    }
    let (status, _) = m
        .bob
        .call("/api/fn/subscription_detail", &[("id", &sub)])
        .await;
    assert_eq!(status, 404);
    let status = m
        .bob
        .get(&format!("/exports/statements.csv?org={alice_org}"))
        .await
        .status();
    assert_eq!(status, 404);
    // Bob's own page does not list Alice's subscriber.
    let bobs = call_ok(&m.bob, "/api/fn/publisher_revenue", &[]).await;
    assert_eq!(bobs["subscribers"].as_array().map(Vec::len), Some(0));
    // A client has no revenue page.
    assert_eq!(
        status_of(&m.carol, "/api/fn/publisher_revenue", &[]).await,
        403
    );

    // A referee reads on the record: each read logged for Alice to see.
    let r = call_ok(
        &m.referee,
        "/api/fn/publisher_revenue",
        &[("org", &alice_org)],
    )
    .await;
    assert_eq!(r["subscribers"].as_array().map(Vec::len), Some(1));
    call_ok(&m.referee, "/api/fn/subscription_detail", &[("id", &sub)]).await;
    let res = m
        .referee
        .get(&format!("/exports/statements.csv?org={alice_org}"))
        .await;
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap_or_default()
        .contains("Triage Notes"));
    assert_eq!(reads().await, 3);
    let log = call_ok(&m.alice, "/api/fn/data_access_log", &[]).await;
    assert_eq!(
        log.as_array()
            .map(|l| l.iter().filter(|e| e["refused"] == false).count()),
        Some(3),
        "{log}"
    );
    assert!(
        log.to_string()
            .contains("subscribers, usage, revenue and gateway traffic"),
        "{log}"
    );

    // A complaint is the partner's too: a referee opening it is on record.
    let complaint = call_ok(
        &m.alice,
        "/api/fn/open_complaint",
        &[
            ("about", "data_use"),
            ("text", "Our usage figures were shown to a competitor."),
        ],
    )
    .await
    .as_i64()
    .expect("case")
    .to_string();
    call_ok(&m.referee, "/api/fn/case_page", &[("id", &complaint)]).await;
    assert_eq!(reads().await, 4);
    assert_eq!(
        status_of(&m.bob, "/api/fn/case_page", &[("id", &complaint)]).await,
        404
    );
    let (status, _) = m
        .carol
        .call("/api/fn/case_page", &[("id", &complaint)])
        .await;
    assert_eq!(status, 404);
    let (status, _) = m
        .player
        .call("/api/fn/case_page", &[("id", &complaint)])
        .await;
    assert_eq!(status, 403);

    // A player is refused, on the record, and a case is opened each time.
    let (status, _) = m
        .player
        .call("/api/fn/publisher_revenue", &[("org", &alice_org)])
        .await;
    assert_eq!(status, 404);
    let (status, _) = m
        .player
        .call("/api/fn/subscription_detail", &[("id", &sub)])
        .await;
    assert_eq!(status, 404);
    assert_eq!(refused().await, 2);
    assert_eq!(player_cases().await, 2);
    // Bob sees none of Alice's access log.
    let bob_log = call_ok(&m.bob, "/api/fn/data_access_log", &[]).await;
    assert_eq!(bob_log.as_array().map(Vec::len), Some(0));
}
