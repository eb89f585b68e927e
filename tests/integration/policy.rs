//! The marketplace policy (referees change it; every change is public with
//! its before and after values and audited) and the audit chain's check,
//! export and published head.

use crate::builders::{call_ok, market, ready_draft};
use crate::helpers::{audit_actions, run_cli, run_ok, App, Backend, TestDb, Visitor};

crate::on_both_backends!(
    only_referees_change_the_policy_and_every_change_is_public_and_audited,
    the_audit_chain_is_checked_exported_and_its_head_published,
    reads_of_partner_data_are_recorded_and_shown_to_that_partner_only,
    a_link_from_another_site_records_a_players_attempt_but_opens_no_case,
);

fn fields<'a>(
    nc: &'a str,
    rate: &'a str,
    featured: &'a str,
    reason: &'a str,
) -> [(&'a str, &'a str); 4] {
    [
        ("non_compete", nc),
        ("take_rate", rate),
        ("featured_slots", featured),
        ("reason", reason),
    ]
}

async fn only_referees_change_the_policy_and_every_change_is_public_and_audited(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let anon = Visitor::new(&app);
    let p = call_ok(&anon, "/api/fn/marketplace_policy", &[]).await;
    assert_eq!(
        p["policy"],
        serde_json::json!({"non_compete": true, "take_rate_bp": 2000, "featured_slots": false, "ranking_notice_days": 15, "anomaly_ratio_pct": 150})
    );
    assert_eq!(p["changes"].as_array().map(Vec::len), Some(0));
    assert_eq!(p["can_manage"], false);

    let change = fields("on", "12.5", "on", "Lower fees for the first year.");
    for (v, status) in [
        (&anon, 401),
        (&m.alice, 403),
        (&m.player, 403),
        (&m.carol, 403),
    ] {
        assert_eq!(v.call("/api/fn/update_policy", &change).await.0, status);
    }
    // Refused input: field errors, nothing written.
    let (status, body) = m
        .referee
        .call("/api/fn/update_policy", &fields("maybe", "120", "on", ""))
        .await;
    assert_eq!(status, 422, "{body}");
    for f in ["non_compete", "take_rate", "reason"] {
        assert!(body["fields"][f].is_array(), "{f}: {body}");
    }
    let (status, _) = m
        .referee
        .call(
            "/api/fn/update_policy",
            &fields("on", "20", "off", "No change at all."),
        )
        .await;
    assert_eq!(status, 409, "nothing changed");
    assert_eq!(db.count("SELECT COUNT(*) FROM policy_changes").await, 0);

    call_ok(&m.referee, "/api/fn/update_policy", &change).await;
    call_ok(
        &m.referee,
        "/api/fn/update_policy",
        &fields("off", "12.5", "on", "Trial of promoted slots."),
    )
    .await;
    // The ranking's notice period: at least 15 days; left out, unchanged.
    let notice = |days: &'static str| {
        let mut f = fields("off", "12.5", "on", "A longer notice for ranking changes.").to_vec();
        f.push(("ranking_notice_days", days));
        f
    };
    let (status, body) = m.referee.call("/api/fn/update_policy", &notice("14")).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["ranking_notice_days"].is_array(), "{body}");
    call_ok(&m.referee, "/api/fn/update_policy", &notice("30")).await;
    let p = call_ok(&anon, "/api/fn/marketplace_policy", &[]).await;
    assert_eq!(
        p["policy"],
        serde_json::json!({"non_compete": false, "take_rate_bp": 1250, "featured_slots": true, "ranking_notice_days": 30, "anomaly_ratio_pct": 150})
    );
    let changes: Vec<(String, String, String)> = p["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["setting"].as_str().unwrap_or("").into(),
                c["before"].as_str().unwrap_or("").into(),
                c["after"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(changes.len(), 4, "{changes:?}");
    assert!(changes.contains(&("ranking_notice_days".into(), "15".into(), "30".into())));
    assert!(changes.contains(&("take_rate_bp".into(), "2000".into(), "1250".into())));
    assert!(changes.contains(&("featured_slots".into(), "off".into(), "on".into())));
    assert!(changes.contains(&("non_compete".into(), "on".into(), "off".into())));
    let html = app.get_text("/policy").await.1;
    for text in [
        "12.5 %",
        "Trial of promoted slots.",
        "Lower fees for the first year.",
        "20 %",
    ] {
        assert!(html.contains(text), "the public page shows {text}");
    }
    assert_eq!(
        audit_actions(&db)
            .await
            .iter()
            .filter(|a| *a == "policy.changed")
            .count(),
        3
    );
    let mut conn = db.connect().await;
    let details: String = sqlx::query_scalar::<_, String>(
        "SELECT details FROM audit_log WHERE action = 'policy.changed' ORDER BY seq LIMIT 1",
    )
    .fetch_one(&mut conn)
    .await
    .expect("details");
    let details: serde_json::Value = serde_json::from_str(&details).expect("json");
    assert_eq!(
        details["take_rate_bp"],
        serde_json::json!({"before": "2000", "after": "1250"})
    );
    assert_eq!(details["reason"], "Lower fees for the first year.");
}

async fn the_audit_chain_is_checked_exported_and_its_head_published(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let report = call_ok(&m.referee, "/api/fn/audit_check", &[]).await;
    assert_eq!(report["broken"], serde_json::Value::Null, "{report}");
    let entries = db.count("SELECT COUNT(*) FROM audit_log").await;
    assert!(entries > 5);
    assert_eq!(report["entries"].as_i64(), Some(entries));
    assert_eq!(m.alice.call("/api/fn/audit_check", &[]).await.0, 403);

    // The export is every entry, in order, with its hashes; its last hash
    // is the head the public policy page shows.
    let out = run_ok(&db, &["audit", "export"]).await;
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len() as i64, entries);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["seq"].as_i64(), Some(i as i64 + 1));
        if i > 0 {
            assert_eq!(
                l["prev_hash"],
                lines[i - 1]["hash"],
                "entry {} links to the one before",
                i + 1
            );
        }
    }
    let policy = call_ok(&Visitor::new(&app), "/api/fn/marketplace_policy", &[]).await;
    assert_eq!(policy["audit_head"], lines[lines.len() - 1]["hash"]);
    assert_eq!(policy["audit_entries"].as_i64(), Some(entries));

    // Rewriting an entry in the database is found, at that entry, by the
    // page and by the command.
    let mut conn = db.connect().await;
    sqlx::raw_sql("UPDATE audit_log SET target = 'listing:999' WHERE seq = 3")
        .execute(&mut conn)
        .await
        .expect("tamper");
    let report = call_ok(&m.referee, "/api/fn/audit_check", &[]).await;
    assert_eq!(report["broken"][0].as_i64(), Some(3), "{report}");
    let html = m.referee.get("/audit").await.text().await.expect("page");
    assert!(html.contains("BROKEN at entry 3"), "the page says where");
    let out = run_cli(&db, &["audit", "verify"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("entry 3"));
}

async fn access_log(v: &Visitor<'_>) -> Vec<serde_json::Value> {
    call_ok(v, "/api/fn/data_access_log", &[])
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn reads_of_partner_data_are_recorded_and_shown_to_that_partner_only(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let draft = ready_draft(&m.alice, "Secret Scribe", &m.models[0]).await;
    let published = ready_draft(&m.alice, "Open Scribe", &m.models[0]).await;
    for id in [&draft, &published] {
        call_ok(&m.alice, "/api/fn/submit_listing", &[("id", id)]).await;
    }
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &published)]).await;
    // The publisher's own reads and reads of public listings are nobody's business.
    call_ok(
        &m.alice,
        "/api/fn/listing_page",
        &[("slug", "secret-scribe")],
    )
    .await;
    call_ok(&m.bob, "/api/fn/listing_page", &[("slug", "open-scribe")]).await;
    call_ok(
        &m.referee,
        "/api/fn/listing_page",
        &[("slug", "open-scribe")],
    )
    .await;
    assert!(access_log(&m.alice).await.is_empty());

    // A referee reads the submitted listing (at its address, which names
    // the publisher): allowed, recorded.
    call_ok(
        &m.referee,
        "/api/fn/listing_page",
        &[("slug", "secret-scribe"), ("publisher", "meridian-health")],
    )
    .await;
    // A player tries: refused (as if it did not exist), recorded.
    let (status, _) = m
        .player
        .call("/api/fn/listing_page", &[("slug", "secret-scribe")])
        .await;
    assert_eq!(status, 404);
    // Another partner and a client: 404, and not platform staff, so nothing to record.
    assert_eq!(
        m.bob
            .call("/api/fn/listing_page", &[("slug", "secret-scribe")])
            .await
            .0,
        404
    );
    assert_eq!(
        m.carol
            .call("/api/fn/listing_page", &[("slug", "secret-scribe")])
            .await
            .0,
        404
    );
    // The review queue shows it too: another read, once however often the
    // referee comes back to the queue that day.
    call_ok(&m.referee, "/api/fn/review_queue", &[]).await;
    call_ok(&m.referee, "/api/fn/review_queue", &[]).await;

    let log = access_log(&m.alice).await;
    let rows: Vec<(String, bool, String)> = log
        .iter()
        .map(|r| {
            (
                r["who"].as_str().unwrap_or("").into(),
                r["refused"] == true,
                r["what"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows.iter().all(|r| r.2.contains("Secret Scribe")),
        "{rows:?}"
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.0.contains("referee@example.org") && !r.1)
            .count(),
        2,
        "{rows:?}"
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.0.contains("player@example.org") && r.1)
            .count(),
        1,
        "{rows:?}"
    );
    assert!(
        log.iter().all(|r| r["their_org"] == "Fairground"),
        "{log:?}"
    );
    // Only that partner sees it.
    assert!(access_log(&m.bob).await.is_empty());
    assert!(access_log(&m.carol).await.is_empty());
    assert!(
        access_log(&m.referee).await.is_empty(),
        "the platform's own log has no partner reads"
    );
    let html = m
        .alice
        .get("/org/data-access")
        .await
        .text()
        .await
        .expect("page");
    assert!(
        html.contains("Refused") && html.contains("Rita Referee"),
        "the page lists them"
    );
    let actions = audit_actions(&db).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "partner_data.read").count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "partner_data.refused")
            .count(),
        1
    );

    // The player's tries through the editor's address and the compare
    // page: refused as "not found", and on Alice's record too.
    assert_eq!(
        m.player
            .call("/api/fn/listing_editor", &[("id", &draft)])
            .await
            .0,
        404
    );
    assert_eq!(
        m.player
            .call(
                "/api/fn/compare_listings",
                &[("slugs", "open-scribe,secret-scribe")]
            )
            .await
            .0,
        404
    );
    let log = access_log(&m.alice).await;
    assert_eq!(log.len(), 5, "{log:?}");
    for (row, place) in log
        .iter()
        .take(2)
        .zip(["on the compare page", "in the listing editor"])
    {
        assert_eq!(row["refused"], true, "{row}");
        assert!(
            row["who"]
                .as_str()
                .unwrap_or("")
                .contains("player@example.org"),
            "{row}"
        );
        assert!(row["what"].as_str().unwrap_or("").ends_with(place), "{row}");
    }
    // Nothing else's business: Bob trying the same gets 404, unrecorded.
    assert_eq!(
        m.bob
            .call("/api/fn/listing_editor", &[("id", &draft)])
            .await
            .0,
        404
    );
    assert_eq!(access_log(&m.alice).await.len(), 5);
}

/// A link on another site makes a signed-in player's browser ask for a
/// partner's draft (a GET; the session cookie is `SameSite=Lax`). The try is
/// refused and recorded for the partner, but no case is opened against the
/// player; the same page opened from this site's own pages still opens one.
async fn a_link_from_another_site_records_a_players_attempt_but_opens_no_case(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    ready_draft(&m.alice, "Secret Scribe", &m.models[0]).await;
    let cookie = m.player.cookie().expect("signed in");
    let page = "/listings/secret-scribe";
    let open_as_player = |headers: Vec<(&'static str, String)>| {
        let mut req = app
            .client
            .get(app.url(page))
            .header(reqwest::header::COOKIE, cookie.clone());
        for (name, value) in headers {
            req = req.header(name, value);
        }
        async move { req.send().await.expect("get").status().as_u16() }
    };
    let cases = || async {
        db.count("SELECT COUNT(*) FROM conflict_cases WHERE kind = 'player_data_access'")
            .await
    };
    let refused_tries = || async {
        access_log(&m.alice)
            .await
            .iter()
            .filter(|r| r["refused"] == true)
            .count()
    };

    // From elsewhere: a cross-site navigation, an older browser's foreign
    // Referer, and a request that says nothing of where it came from.
    for headers in [
        vec![("sec-fetch-site", "cross-site".to_string())],
        vec![("sec-fetch-site", "same-site".to_string())],
        vec![("referer", "https://elsewhere.example/page".to_string())],
        vec![],
    ] {
        assert_eq!(open_as_player(headers.clone()).await, 404, "{headers:?}");
    }
    assert_eq!(cases().await, 0, "no case from a link elsewhere");
    assert_eq!(
        refused_tries().await,
        4,
        "every try is on the partner's record"
    );
    let elsewhere = db
        .count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'partner_data.refused' \
             AND details LIKE '%from_another_site%'",
        )
        .await;
    assert_eq!(elsewhere, 4);

    // From this site's own pages: the case opens, as before.
    assert_eq!(
        open_as_player(vec![("sec-fetch-site", "same-origin".to_string())]).await,
        404
    );
    assert_eq!(cases().await, 1);
    assert_eq!(
        open_as_player(vec![("referer", app.url("/catalogue"))]).await,
        404
    );
    assert_eq!(cases().await, 2);
    // And a script on the site calling the server function (a POST that
    // passed the same-origin check).
    let (status, _) = m
        .player
        .call("/api/fn/listing_page", &[("slug", "secret-scribe")])
        .await;
    assert_eq!(status, 404);
    assert_eq!(cases().await, 3);
    assert_eq!(refused_tries().await, 7);
}
