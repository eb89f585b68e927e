//! Conflict cases: each trigger opens exactly one case with the right
//! parties; the sign-off a first-party listing needs while the non-compete
//! flag is on (and not when it is off); notifications; complaints; who sees
//! which case.

use crate::builders::{
    alice_publishes, call_ok, carol_subscribes_to, case_of, market, platform_publishes,
    ready_draft, Market,
};
use crate::helpers::{audit_actions, App, Backend, TestDb, Visitor};

crate::on_both_backends!(
    a_first_party_listing_in_a_partners_industry_needs_a_signed_off_case,
    with_the_flag_off_no_sign_off_is_needed_but_the_case_is_opened,
    a_partner_publishing_beside_the_platform_opens_a_case,
    a_players_refused_read_and_a_flag_change_open_cases,
    partners_complain_and_see_only_their_cases,
    featuring_follows_the_policy_and_never_reorders_results,
    every_surface_showing_a_listing_labels_the_first_party_one,
    a_published_listing_moved_to_another_industry_enters_it_anew,
    a_refused_approval_leaves_nothing_behind,
);

async fn cases(v: &Visitor<'_>) -> Vec<serde_json::Value> {
    call_ok(v, "/api/fn/cases_list", &[]).await["cases"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn notes(v: &Visitor<'_>) -> Vec<String> {
    call_ok(v, "/api/fn/notifications", &[])
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|n| n["message"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn a_first_party_listing_in_a_partners_industry_needs_a_signed_off_case(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    alice_publishes(&m).await;
    // Bob publishes in another industry; he is not a party.
    let fp = ready_draft(&m.player, "Platform Triage", &m.models[0]).await;
    call_ok(&m.player, "/api/fn/submit_listing", &[("id", &fp)]).await;
    let all = cases(&m.referee).await;
    let overlap: Vec<_> = all
        .iter()
        .filter(|c| c["kind"] == "first_party_overlap")
        .collect();
    assert_eq!(overlap.len(), 1, "created and submitted: one case, {all:?}");
    let case = overlap[0]["id"].as_i64().expect("id").to_string();
    assert_eq!(
        overlap[0]["severity"], "high",
        "same tags as Alice's listing"
    );
    let detail = call_ok(&m.referee, "/api/fn/case_page", &[("id", &case)]).await;
    assert_eq!(detail["parties"], serde_json::json!(["Meridian Health"]));
    let names: Vec<&str> = detail["listings"]
        .as_array()
        .expect("listings")
        .iter()
        .map(|l| l["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        vec!["Platform Triage", "Triage Notes"],
        "the first-party listing beside the partner's"
    );
    assert!(
        notes(&m.alice)
            .await
            .iter()
            .any(|n| n.contains("Platform Triage")),
        "Alice is told"
    );
    assert!(notes(&m.bob).await.is_empty(), "Bob is not concerned");
    assert_eq!(cases(&m.bob).await.len(), 0);
    assert_eq!(
        m.bob.call("/api/fn/case_page", &[("id", &case)]).await.0,
        404
    );

    // Without a sign-off the listing cannot go live; a bare note is not one.
    let (status, body) = m
        .referee
        .call("/api/fn/approve_listing", &[("id", &fp)])
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains(&format!("case {case}")), "{body}");
    let (status, _) = m
        .referee
        .call(
            "/api/fn/decide_case",
            &[("id", &case), ("action", "sign_off"), ("words", "ok")],
        )
        .await;
    assert_eq!(status, 422, "a justification is required");
    // Without JavaScript, the message comes back under the sign-off's own
    // text box, marked invalid and named by it; the other boxes are not
    // marked and the page's alert does not repeat it.
    let res = m
        .referee
        .form(
            "/api/fn/decide_case",
            &format!("/cases/{case}"),
            &[("id", &case), ("action", "sign_off"), ("words", "ok")],
        )
        .await;
    let back = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let page = m
        .referee
        .page(back.strip_prefix(&app.base_url).unwrap_or(&back))
        .await;
    let doc = scraper::Html::parse_document(&page);
    let attrs = |css: &str| {
        let sel = scraper::Selector::parse(css).expect("selector");
        let el = doc
            .select(&sel)
            .next()
            .unwrap_or_else(|| panic!("{css} in the page"));
        (
            el.value().attr("aria-invalid").unwrap_or("").to_string(),
            el.value()
                .attr("aria-describedby")
                .unwrap_or("")
                .to_string(),
        )
    };
    assert_eq!(
        attrs("textarea#justification"),
        ("true".into(), "justification-error".into())
    );
    assert_eq!(attrs("textarea#outcome").0, "false");
    assert_eq!(attrs("textarea#dismissal").0, "false");
    let text_of = |css: &str| {
        let sel = scraper::Selector::parse(css).expect("selector");
        doc.select(&sel)
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        text_of("#justification-error"),
        "Write the justification in 10 to 2,000 characters."
    );
    assert_eq!(text_of("#outcome-error").trim(), "");
    assert!(
        !text_of(".form-alert").contains("justification"),
        "the alert does not repeat it"
    );
    assert_eq!(
        m.player
            .call(
                "/api/fn/decide_case",
                &[
                    ("id", &case),
                    ("action", "sign_off"),
                    ("words", "I approve of myself.")
                ]
            )
            .await
            .0,
        403
    );
    call_ok(
        &m.referee,
        "/api/fn/decide_case",
        &[
            ("id", &case),
            ("action", "sign_off"),
            ("words", "Serves rural clinics no partner serves."),
        ],
    )
    .await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &fp)]).await;
    let page = call_ok(
        &Visitor::new(&app),
        "/api/fn/listing_page",
        &[("slug", "platform-triage")],
    )
    .await;
    assert_eq!(page["platform_owned"], true, "live, labelled");
    let alice_view = call_ok(&m.alice, "/api/fn/case_page", &[("id", &case)]).await;
    assert_eq!(
        alice_view["sign_off"],
        "Serves rural clinics no partner serves."
    );
    assert!(
        notes(&m.alice)
            .await
            .iter()
            .any(|n| n.contains("Signed off")),
        "Alice is told of the sign-off"
    );
    assert!(audit_actions(&db)
        .await
        .iter()
        .any(|a| a == "case.sign_off"));
}

async fn with_the_flag_off_no_sign_off_is_needed_but_the_case_is_opened(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    alice_publishes(&m).await;
    policy(&m, "off", "off", "Testing the flag off.").await;
    let fp = ready_draft(&m.player, "Platform Scribe", &m.models[0]).await;
    call_ok(&m.player, "/api/fn/submit_listing", &[("id", &fp)]).await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &fp)]).await;
    assert_eq!(
        cases(&m.referee)
            .await
            .iter()
            .filter(|c| c["kind"] == "first_party_overlap")
            .count(),
        1
    );
    // A first-party listing where no partner publishes opens nothing.
    let lonely = call_ok(
        &m.player,
        "/api/fn/create_listing",
        &[
            ("name", "Platform Tutor"),
            ("tagline", "t"),
            ("industry", "education"),
            ("base_model_id", &m.models[0]),
        ],
    )
    .await;
    assert!(lonely.is_i64());
    assert_eq!(
        cases(&m.referee)
            .await
            .iter()
            .filter(|c| c["kind"] == "first_party_overlap")
            .count(),
        1
    );
}

async fn a_partner_publishing_beside_the_platform_opens_a_case(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    // The platform publishes first, where nobody else does: no case.
    let fp = ready_draft(&m.player, "Platform Coder", &m.models[0]).await;
    call_ok(&m.player, "/api/fn/submit_listing", &[("id", &fp)]).await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &fp)]).await;
    assert!(cases(&m.referee).await.is_empty());
    let id = ready_draft(&m.bob, "Bob Coder", &m.models[0]).await;
    call_ok(&m.bob, "/api/fn/submit_listing", &[("id", &id)]).await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &id)]).await;
    let all = cases(&m.referee).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["kind"], "partner_overlap");
    let case = all[0]["id"].as_i64().expect("id").to_string();
    let detail = call_ok(&m.bob, "/api/fn/case_page", &[("id", &case)]).await;
    assert_eq!(detail["parties"], serde_json::json!(["Ledgerline"]));
    assert_eq!(cases(&m.alice).await.len(), 0);
}

async fn a_players_refused_read_and_a_flag_change_open_cases(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    ready_draft(&m.alice, "Hidden Model", &m.models[0]).await;
    assert_eq!(
        m.player
            .call("/api/fn/listing_page", &[("slug", "hidden-model")])
            .await
            .0,
        404
    );
    let all = cases(&m.referee).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["kind"], "player_data_access");
    assert_eq!(cases(&m.alice).await.len(), 1, "Alice sees it");
    assert_eq!(cases(&m.bob).await.len(), 0);
    // A take-rate change alone opens nothing; the flag does, for every partner.
    call_ok(
        &m.referee,
        "/api/fn/update_policy",
        &[
            ("non_compete", "on"),
            ("take_rate", "15"),
            ("featured_slots", "off"),
            ("reason", "Lower fees."),
        ],
    )
    .await;
    assert_eq!(cases(&m.referee).await.len(), 1);
    call_ok(
        &m.referee,
        "/api/fn/update_policy",
        &[
            ("non_compete", "off"),
            ("take_rate", "15"),
            ("featured_slots", "off"),
            ("reason", "Allow promotion."),
        ],
    )
    .await;
    let flag: Vec<_> = cases(&m.referee)
        .await
        .into_iter()
        .filter(|c| c["kind"] == "policy_change")
        .collect();
    assert_eq!(flag.len(), 1);
    let case = flag[0]["id"].as_i64().expect("id").to_string();
    let detail = call_ok(&m.referee, "/api/fn/case_page", &[("id", &case)]).await;
    assert_eq!(
        detail["parties"],
        serde_json::json!(["Ledgerline", "Meridian Health"])
    );
    for v in [&m.alice, &m.bob] {
        assert!(notes(v).await.iter().any(|n| n.contains("switched off")));
    }
    assert!(notes(&m.carol).await.is_empty(), "clients are not parties");
}

async fn partners_complain_and_see_only_their_cases(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let (status, _) = m
        .alice
        .call(
            "/api/fn/open_complaint",
            &[("about", "ranking"), ("text", "short")],
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        m.carol
            .call(
                "/api/fn/open_complaint",
                &[
                    ("about", "ranking"),
                    ("text", "Clients cannot complain here.")
                ]
            )
            .await
            .0,
        403
    );
    let id = call_ok(
        &m.alice,
        "/api/fn/open_complaint",
        &[
            ("about", "ranking"),
            (
                "text",
                "Our listing dropped below the platform's overnight.",
            ),
        ],
    )
    .await;
    let id = id.as_i64().expect("id").to_string();
    assert_eq!(cases(&m.alice).await.len(), 1);
    assert_eq!(cases(&m.bob).await.len(), 0);
    assert_eq!(m.bob.call("/api/fn/case_page", &[("id", &id)]).await.0, 404);
    assert_eq!(m.player.call("/api/fn/cases_list", &[]).await.0, 403);
    let (status, _) = m
        .referee
        .call("/api/fn/cases_list", &[("status", "bogus")])
        .await;
    assert_eq!(status, 422);
    call_ok(
        &m.referee,
        "/api/fn/decide_case",
        &[
            ("id", &id),
            ("action", "resolve"),
            (
                "words",
                "Freshness decayed; ranking inputs checked, no preference.",
            ),
        ],
    )
    .await;
    let (status, _) = m
        .referee
        .call(
            "/api/fn/decide_case",
            &[
                ("id", &id),
                ("action", "dismiss"),
                ("words", "Already resolved above."),
            ],
        )
        .await;
    assert_eq!(status, 409);
    let resolved = call_ok(&m.referee, "/api/fn/cases_list", &[("status", "resolved")]).await;
    assert_eq!(resolved["cases"].as_array().map(Vec::len), Some(1));
    let detail = call_ok(&m.alice, "/api/fn/case_page", &[("id", &id)]).await;
    assert_eq!(detail["row"]["status"], "resolved");
    assert!(detail["note"]
        .as_str()
        .unwrap_or("")
        .contains("no preference"));
    let timeline: Vec<&str> = detail["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["what"].as_str().unwrap_or(""))
        .collect();
    assert!(
        timeline
            .iter()
            .any(|t| t.starts_with("Complaint: Our listing dropped")),
        "{timeline:?}"
    );
    assert!(
        timeline.iter().any(|t| t.starts_with("Resolved:")),
        "{timeline:?}"
    );
    let html = m
        .alice
        .get(&format!("/cases/{id}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(html.contains("Timeline") && html.contains("resolved"));
}

async fn policy(m: &Market<'_>, nc: &str, featured: &str, reason: &str) {
    call_ok(
        &m.referee,
        "/api/fn/update_policy",
        &[
            ("non_compete", nc),
            ("take_rate", "20"),
            ("featured_slots", featured),
            ("reason", reason),
        ],
    )
    .await;
}

async fn featuring_follows_the_policy_and_never_reorders_results(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let anon = Visitor::new(&app);
    let partner = alice_publishes(&m).await;
    // A first-party listing elsewhere (no partner there, so no sign-off needed).
    let fp = platform_publishes_alone(&m, "Platform Tutor", "platform-tutor", "education").await;
    let order = |v: serde_json::Value| -> Vec<String> {
        v["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .map(|h| h["card"]["slug"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let before = order(call_ok(&anon, "/api/fn/catalogue_search", &[("q", "triage")]).await);
    assert_eq!(before.len(), 2, "{before:?}");

    // No slots: nothing can be featured.
    let (status, body) = m
        .referee
        .call("/api/fn/feature_listing", &[("id", &partner)])
        .await;
    assert_eq!(status, 409, "{body}");
    // The review page says why, without JavaScript too (its buttons for
    // featuring used to fail silently).
    for path in ["/api/fn/feature_listing", "/api/fn/unfeature_listing"] {
        let res = m.referee.form(path, "/review", &[("id", &partner)]).await;
        assert_eq!(res.status(), 302, "{path}");
        let back = res.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_string();
        let page = m
            .referee
            .page(back.strip_prefix(&app.base_url).unwrap_or(&back))
            .await;
        let said = if path.ends_with("/feature_listing") {
            "Featured slots are switched off in the marketplace policy."
        } else {
            "We could not find what you were looking for."
        };
        assert!(page.contains(said), "{path}: {page}");
    }
    policy(&m, "on", "on", "Open featured slots.").await;
    assert_eq!(
        m.alice
            .call("/api/fn/feature_listing", &[("id", &partner)])
            .await
            .0,
        403
    );
    call_ok(&m.referee, "/api/fn/feature_listing", &[("id", &partner)]).await;
    // Flag on: the platform's own listing cannot be featured, and the attempt is on record.
    let (status, body) = m
        .referee
        .call("/api/fn/feature_listing", &[("id", &fp)])
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("non-compete"), "{body}");
    assert!(audit_actions(&db)
        .await
        .iter()
        .any(|a| a == "listing.feature_refused"));
    let strip = call_ok(&anon, "/api/fn/featured_listings", &[]).await;
    assert_eq!(strip.as_array().map(Vec::len), Some(1));
    assert_eq!(strip[0]["promoted"], false);

    // Flag off: it can, labelled, audited, with a case.
    policy(&m, "off", "on", "Trial of promotion.").await;
    call_ok(&m.referee, "/api/fn/feature_listing", &[("id", &fp)]).await;
    let strip = call_ok(&anon, "/api/fn/featured_listings", &[]).await;
    let promoted: Vec<bool> = strip
        .as_array()
        .expect("strip")
        .iter()
        .map(|f| f["promoted"] == true)
        .collect();
    assert_eq!(promoted, vec![false, true]);
    assert!(cases(&m.referee)
        .await
        .iter()
        .any(|c| c["kind"] == "featured"));
    let html = app.get_text("/").await.1;
    assert!(
        html.contains("Promoted by the platform"),
        "the home page labels it"
    );
    // Featuring never reorders the ranked results.
    assert_eq!(
        order(call_ok(&anon, "/api/fn/catalogue_search", &[("q", "triage")]).await),
        before
    );
    call_ok(&m.referee, "/api/fn/unfeature_listing", &[("id", &fp)]).await;
    assert_eq!(
        m.referee
            .call("/api/fn/unfeature_listing", &[("id", &fp)])
            .await
            .0,
        404
    );
    assert_eq!(
        call_ok(&anon, "/api/fn/featured_listings", &[])
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

/// Walks every page and API answer that shows a listing, with one
/// first-party and one partner listing in it: the first-party one is
/// labelled on each, the partner's on none.
async fn every_surface_showing_a_listing_labels_the_first_party_one(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let anon = Visitor::new(&app);
    let partner = alice_publishes(&m).await;
    let (fp, case) = platform_publishes(&m).await;
    policy(&m, "off", "on", "Allow promotion for the walk.").await;
    call_ok(&m.referee, "/api/fn/feature_listing", &[("id", &fp)]).await;
    call_ok(&m.referee, "/api/fn/feature_listing", &[("id", &partner)]).await;
    // Carol subscribes to both, and the platform sees its subscriber.
    let fp_sub = carol_subscribes_to(&m, &fp).await;
    let partner_sub = carol_subscribes_to(&m, &partner).await;

    // API answers: every listing object says who owns it.
    let owned = |v: &serde_json::Value, name: &str| -> Option<bool> {
        fn walk(v: &serde_json::Value, name: &str, out: &mut Vec<bool>) {
            match v {
                serde_json::Value::Object(o) => {
                    // Listings are "name"; subscriptions and statements
                    // name theirs "listing_name".
                    let named = ["name", "listing_name"]
                        .iter()
                        .any(|k| o.get(*k).and_then(|n| n.as_str()) == Some(name));
                    if named {
                        if let Some(b) = o.get("platform_owned").and_then(|b| b.as_bool()) {
                            out.push(b);
                        }
                    }
                    o.values().for_each(|x| walk(x, name, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, name, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(v, name, &mut out);
        assert!(
            out.iter().all(|b| *b == out[0]),
            "{name} labelled both ways"
        );
        out.first().copied()
    };
    let answers = [
        (
            "home_listings",
            call_ok(&anon, "/api/fn/home_listings", &[]).await,
        ),
        (
            "catalogue_search",
            call_ok(&anon, "/api/fn/catalogue_search", &[("q", "triage")]).await,
        ),
        (
            "compare_listings",
            call_ok(
                &anon,
                "/api/fn/compare_listings",
                &[("slugs", "platform-triage,triage-notes")],
            )
            .await,
        ),
        (
            "listing_page (first-party)",
            call_ok(
                &anon,
                "/api/fn/listing_page",
                &[("slug", "platform-triage")],
            )
            .await,
        ),
        (
            "listing_page (partner)",
            call_ok(&anon, "/api/fn/listing_page", &[("slug", "triage-notes")]).await,
        ),
        (
            "featured_listings",
            call_ok(&anon, "/api/fn/featured_listings", &[]).await,
        ),
        (
            "review_queue",
            call_ok(&m.referee, "/api/fn/review_queue", &[]).await,
        ),
        (
            "case_page",
            call_ok(&m.referee, "/api/fn/case_page", &[("id", &case)]).await,
        ),
        (
            "my_subscriptions",
            call_ok(&m.carol, "/api/fn/my_subscriptions", &[]).await,
        ),
        (
            "subscription_detail (first-party)",
            call_ok(&m.carol, "/api/fn/subscription_detail", &[("id", &fp_sub)]).await,
        ),
        (
            "subscription_detail (partner)",
            call_ok(
                &m.carol,
                "/api/fn/subscription_detail",
                &[("id", &partner_sub)],
            )
            .await,
        ),
        (
            "publisher_revenue (platform)",
            call_ok(&m.player, "/api/fn/publisher_revenue", &[]).await,
        ),
        (
            "publisher_revenue (partner)",
            call_ok(&m.alice, "/api/fn/publisher_revenue", &[]).await,
        ),
    ];
    for (what, v) in &answers {
        let fp = owned(v, "Platform Triage");
        let partner = owned(v, "Triage Notes");
        assert!(
            fp.is_some() || partner.is_some(),
            "{what} shows a listing: {v}"
        );
        assert_ne!(
            fp,
            Some(false),
            "{what}: the first-party listing is labelled"
        );
        assert_ne!(partner, Some(true), "{what}: the partner's is not");
    }

    // Pages: the badge sits inside the element that names the listing.
    let pages = [
        "/".to_string(),
        "/catalogue?q=triage".to_string(),
        "/compare?l=platform-triage&l=triage-notes".to_string(),
        "/listings/platform-triage".to_string(),
        "/review".to_string(),
        format!("/cases/{case}"),
    ];
    let pages = pages.into_iter().map(|p| (p, &m.referee)).chain([
        ("/subscriptions".to_string(), &m.carol),
        (format!("/subscriptions/{fp_sub}"), &m.carol),
        ("/revenue".to_string(), &m.player),
    ]);
    for (path, who) in pages {
        let path = &path;
        let html = who.get(path).await.text().await.expect("page");
        let doc = scraper::Html::parse_document(&html);
        let sel = |s: &str| scraper::Selector::parse(s).expect("selector");
        // Cards, compare and case columns, review rows, the listing heading.
        let holders = sel("li, th, article");
        let mut seen_fp = false;
        for el in doc.select(&holders) {
            let text: String = el.text().collect();
            let badged = el.select(&sel(".badge-platform")).next().is_some();
            let names_fp = el
                .select(&sel("h1, h3, a"))
                .any(|n| n.text().collect::<String>().trim() == "Platform Triage");
            let names_partner = el
                .select(&sel("h1, h3, a"))
                .any(|n| n.text().collect::<String>().trim() == "Triage Notes");
            if names_fp && !names_partner {
                seen_fp = true;
                assert!(
                    badged,
                    "{path}: “Platform Triage” without its label in {text}"
                );
            }
            if names_partner && !names_fp && el.value().name() != "article" {
                assert!(!badged, "{path}: the partner's listing labelled in {text}");
            }
        }
        assert!(seen_fp, "{path} shows the first-party listing");
    }
    let home = app.get_text("/").await.1;
    assert!(
        home.contains("Promoted by the platform"),
        "the featured strip says so"
    );
}

/// The player publishes `name` in `industry`, where no partner publishes
/// (no case, no sign-off); returns its id.
async fn platform_publishes_alone(
    m: &Market<'_>,
    name: &str,
    slug: &str,
    industry: &str,
) -> String {
    let id = call_ok(
        &m.player,
        "/api/fn/create_listing",
        &[
            ("name", name),
            ("tagline", "Triage notes for tutors."),
            ("industry", industry),
            ("base_model_id", &m.models[0]),
        ],
    )
    .await
    .to_string();
    call_ok(
        &m.player,
        "/api/fn/update_listing",
        &[
            ("id", &id),
            ("name", name),
            ("slug", slug),
            ("tagline", "Triage notes for tutors."),
            ("description", "Helps."),
            ("industry", industry),
        ],
    )
    .await;
    call_ok(
        &m.player,
        "/api/fn/add_plan",
        &[
            ("listing_id", &id),
            ("plan_name", "Free"),
            ("monthly_fee", "0"),
            ("currency", "EUR"),
            ("included_calls", "10"),
            ("overage_per_1000", "0"),
        ],
    )
    .await;
    call_ok(&m.player, "/api/fn/submit_listing", &[("id", &id)]).await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &id)]).await;
    id
}

/// `id`'s details, moved to `industry`.
fn moved<'a>(
    id: &'a str,
    name: &'a str,
    slug: &'a str,
    industry: &'a str,
) -> [(&'a str, &'a str); 6] {
    [
        ("id", id),
        ("name", name),
        ("slug", slug),
        ("tagline", "Triage notes for tutors."),
        ("description", "Helps."),
        ("industry", industry),
    ]
}

async fn industry_of(app: &App, slug: &str) -> String {
    call_ok(
        &Visitor::new(app),
        "/api/fn/listing_page",
        &[("slug", slug)],
    )
    .await["industry"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

async fn a_published_listing_moved_to_another_industry_enters_it_anew(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    alice_publishes(&m).await;
    let fp = platform_publishes_alone(&m, "Platform Tutor", "platform-tutor", "education").await;
    assert!(cases(&m.referee).await.is_empty(), "alone in education");
    let in_education = industry_of(&app, "platform-tutor").await;

    // Moving the live first-party listing beside Alice's waits for a
    // signed-off case; nothing of the edit is kept meanwhile.
    let to_health = moved(&fp, "Platform Tutor", "platform-tutor", "healthcare");
    let (status, body) = m.player.call("/api/fn/update_listing", &to_health).await;
    assert_eq!(status, 409, "{body}");
    let case = case_of(&m.referee, "first_party_overlap").await;
    assert!(body.to_string().contains(&format!("case {case}")), "{body}");
    assert_eq!(industry_of(&app, "platform-tutor").await, in_education);
    let detail = call_ok(&m.referee, "/api/fn/case_page", &[("id", &case)]).await;
    assert_eq!(detail["industry"], "healthcare");
    assert_eq!(detail["parties"], serde_json::json!(["Meridian Health"]));
    assert!(
        notes(&m.alice)
            .await
            .iter()
            .any(|n| n.contains("Platform Tutor")),
        "Alice is told"
    );
    // Trying again opens nothing new.
    assert_eq!(
        m.player.call("/api/fn/update_listing", &to_health).await.0,
        409
    );
    assert_eq!(cases(&m.referee).await.len(), 1);
    call_ok(
        &m.referee,
        "/api/fn/decide_case",
        &[
            ("id", &case),
            ("action", "sign_off"),
            ("words", "Tutoring nurses is not what Meridian sells."),
        ],
    )
    .await;
    call_ok(&m.player, "/api/fn/update_listing", &to_health).await;
    let in_health = industry_of(&app, "platform-tutor").await;
    assert_ne!(in_health, in_education, "moved once signed off");

    // Bob publishes in finance; the healthcare sign-off does not carry over.
    let bob = ready_draft(&m.bob, "Ledger Notes", &m.models[0]).await;
    call_ok(
        &m.bob,
        "/api/fn/update_listing",
        &[
            ("id", &bob),
            ("name", "Ledger Notes"),
            ("slug", "ledger-notes"),
            ("tagline", "A model for testing."),
            ("description", "Reads ledgers."),
            ("industry", "finance"),
            ("tags", "ledgers"),
        ],
    )
    .await;
    call_ok(&m.bob, "/api/fn/submit_listing", &[("id", &bob)]).await;
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &bob)]).await;
    let to_finance = moved(&fp, "Platform Tutor", "platform-tutor", "finance");
    let (status, body) = m.player.call("/api/fn/update_listing", &to_finance).await;
    assert_eq!(status, 409, "{body}");
    let finance_case = case_of(&m.referee, "first_party_overlap").await;
    assert_ne!(finance_case, case, "a case of its own");
    let detail = call_ok(&m.referee, "/api/fn/case_page", &[("id", &finance_case)]).await;
    assert_eq!(detail["parties"], serde_json::json!(["Ledgerline"]));
    assert_eq!(industry_of(&app, "platform-tutor").await, in_health);

    // With the flag off the move goes through, on the case the refused
    // attempt opened.
    policy(&m, "off", "off", "Testing the flag off.").await;
    call_ok(&m.player, "/api/fn/update_listing", &to_finance).await;
    let in_finance = industry_of(&app, "platform-tutor").await;
    assert_ne!(in_finance, in_health);
    let overlaps = cases(&m.referee)
        .await
        .iter()
        .filter(|c| c["kind"] == "first_party_overlap")
        .count();
    assert_eq!(overlaps, 2, "one per industry entered");

    // A live partner listing moved beside the platform's opens its case.
    let alice_listing = call_ok(
        &Visitor::new(&app),
        "/api/fn/listing_page",
        &[("slug", "triage-notes")],
    )
    .await;
    let alice_id = alice_listing["id"].to_string();
    let alice_to_finance = [
        ("id", alice_id.as_str()),
        ("name", "Triage Notes"),
        ("slug", "triage-notes"),
        ("tagline", "A model for testing."),
        ("description", "Reads **notes**."),
        ("industry", "finance"),
        ("tags", "triage, notes"),
    ];
    assert!(cases(&m.alice)
        .await
        .iter()
        .all(|c| c["kind"] != "partner_overlap"));
    call_ok(&m.alice, "/api/fn/update_listing", &alice_to_finance).await;
    let partner_case = case_of(&m.referee, "partner_overlap").await;
    let detail = call_ok(&m.referee, "/api/fn/case_page", &[("id", &partner_case)]).await;
    assert_eq!(detail["industry"], "finance");
    assert_eq!(detail["parties"], serde_json::json!(["Meridian Health"]));
    assert_eq!(industry_of(&app, "triage-notes").await, in_finance);
}

/// An approval the listing's status does not allow writes nothing: a
/// first-party draft never submitted, in an industry a partner has entered
/// since, gets no case, nobody is told, and no audit entry is made.
async fn a_refused_approval_leaves_nothing_behind(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let fp = ready_draft(&m.player, "Platform Triage", &m.models[0]).await;
    alice_publishes(&m).await;
    let counts = || async {
        (
            db.count("SELECT COUNT(*) FROM conflict_cases").await,
            db.count("SELECT COUNT(*) FROM notifications").await,
            db.count("SELECT COUNT(*) FROM audit_log").await,
        )
    };
    let before = counts().await;
    let (status, body) = m
        .referee
        .call("/api/fn/approve_listing", &[("id", &fp)])
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("cannot be approved"), "{body}");
    assert_eq!(counts().await, before, "nothing written");
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM listings WHERE id = {fp} AND status = 'draft'"
        ))
        .await,
        1
    );
}
