//! Text a user typed stays text wherever a page shows it: in the document's
//! `<title>`, in a `<textarea>`, in form fields' values, in the page body.
//! (The Markdown description's own rendering is `listings::markdown_descriptions_render_inert`.)

use crate::builders::{call_ok, market, new_key, now_ms, post_usage, record};
use crate::helpers::{App, Backend, TestDb, Visitor};
use serde_json::json;

crate::on_both_backends!(
    markup_a_publisher_types_is_shown_as_text_on_every_page,
    control_characters_are_refused_at_the_edge_and_nothing_is_written,
);

/// A name that would end the `<title>` and send every visitor elsewhere.
const NAME: &str = r#"</title><meta http-equiv="refresh" content="0;url=/x"><form action="/x">"#;
/// A description that would end the `<textarea>` and plant a form that
/// promotes its author when an owner clicks it.
const DESCRIPTION: &str = "</textarea><form action=\"/api/fn/change_role\" method=\"post\">\
<input name=\"role\" value=\"owner\"><button>Save</button></form><textarea>";
/// A plan name that would open a form around the page's plans.
const PLAN: &str = r#"<form action="/x">Basic"#;
/// A web address that would end the attribute it is put in.
const EVIDENCE: &str = r#"https://e.example/"><form/action="/y">"#;
/// A tagline that would end an attribute value.
const TAGLINE: &str = r#""><form action="/y"><input value=""#;

fn doc(html: &str) -> scraper::Html {
    scraper::Html::parse_document(html)
}

fn select<'a>(doc: &'a scraper::Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    let sel = scraper::Selector::parse(css).expect("selector");
    doc.select(&sel).collect()
}

/// Nothing the hostile text carries became markup on this page.
fn assert_inert(path: &str, html: &str) {
    let d = doc(html);
    assert!(
        select(&d, "meta[http-equiv]").is_empty(),
        "{path}: an injected <meta http-equiv>"
    );
    for action in ["/x", "/y", "/api/fn/change_role"] {
        assert!(
            select(&d, &format!(r#"form[action="{action}"]"#)).is_empty(),
            "{path}: an injected <form action={action}>"
        );
    }
    assert_eq!(select(&d, "title").len(), 1, "{path}: one <title>");
}

async fn markup_a_publisher_types_is_shown_as_text_on_every_page(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let id = call_ok(
        &m.alice,
        "/api/fn/create_listing",
        &[
            ("name", NAME),
            ("tagline", TAGLINE),
            ("industry", "healthcare"),
            ("base_model_id", &m.models[0]),
        ],
    )
    .await
    .as_i64()
    .expect("id")
    .to_string();
    call_ok(
        &m.alice,
        "/api/fn/update_listing",
        &[
            ("id", &id),
            ("name", NAME),
            ("slug", "hostile-notes"),
            ("tagline", TAGLINE),
            ("description", DESCRIPTION),
            ("industry", "healthcare"),
            ("data_residency", TAGLINE),
        ],
    )
    .await;
    call_ok(
        &m.alice,
        "/api/fn/add_plan",
        &[
            ("listing_id", &id),
            ("plan_name", PLAN),
            ("monthly_fee", "49"),
            ("currency", "EUR"),
            ("included_calls", "1000"),
            ("overage_per_1000", "2.50"),
        ],
    )
    .await;

    // The editor: the description is the textarea's text, every field's
    // value is what was typed, and no planted form exists.
    let editor = format!("/my/listings/{id}");
    let html = m.alice.page(&editor).await;
    assert_inert(&editor, &html);
    let d = doc(&html);
    let textarea = select(&d, "textarea#description");
    assert_eq!(textarea.len(), 1, "one description field");
    assert_eq!(textarea[0].text().collect::<String>(), DESCRIPTION);
    for (field, typed) in [
        ("name", NAME),
        ("tagline", TAGLINE),
        ("data_residency", TAGLINE),
    ] {
        let input = select(&d, &format!(r#"input[name="{field}"]"#));
        assert_eq!(input.len(), 1, "{field}");
        assert_eq!(input[0].value().attr("value"), Some(typed), "{field}");
    }

    call_ok(&m.alice, "/api/fn/submit_listing", &[("id", &id)]).await;
    let html = m.referee.page("/review").await;
    assert_inert("/review", &html);
    call_ok(&m.referee, "/api/fn/approve_listing", &[("id", &id)]).await;

    // The public pages: the title is the name as text, and so is the heading.
    let anon = Visitor::new(&app);
    let page = "/listings/hostile-notes";
    let html = anon.page(page).await;
    assert_inert(page, &html);
    let d = doc(&html);
    assert_eq!(
        select(&d, "title")[0].text().collect::<String>(),
        format!("{NAME} · Fairground")
    );
    assert_eq!(select(&d, "h1")[0].text().collect::<String>().trim(), NAME);
    for path in [
        "/catalogue?q=hostile",
        "/compare?l=hostile-notes",
        "/",
        "/catalogue",
    ] {
        assert_inert(path, &anon.page(path).await);
    }
    for path in ["/my/listings", &editor, page] {
        assert_inert(path, &m.alice.page(path).await);
    }

    // An evidence link that would end its attribute, and an evaluation set
    // whose name, reason and prompts carry markup.
    let dep = call_ok(&m.alice, "/api/fn/listing_editor", &[("id", &id)]).await["detail"]
        ["deployments"][0]["id"]
        .to_string();
    call_ok(
        &m.alice,
        "/api/fn/edit_deployment",
        &[
            ("listing_id", &id),
            ("deployment_id", &dep),
            ("revision", PLAN),
            ("eval_score", "90"),
            ("evidence_url", EVIDENCE),
        ],
    )
    .await;
    let html = anon.page(page).await;
    assert_inert(page, &html);
    let d = doc(&html);
    let evidence = select(&d, "table.deployments a[rel]");
    assert_eq!(evidence.len(), 1, "the evidence link");
    assert_eq!(evidence[0].value().attr("href"), Some(EVIDENCE));
    assert_inert(&editor, &m.alice.page(&editor).await);
    call_ok(
        &m.referee,
        "/api/fn/publish_evaluation_set",
        &[
            ("industry", "healthcare"),
            ("name", NAME),
            ("rule", "exact"),
            (
                "items",
                &format!("{}\n", json!({"prompt": DESCRIPTION, "expected": PLAN})),
            ),
            ("reason", TAGLINE),
        ],
    )
    .await;
    let html = anon.page("/evaluations").await;
    assert_inert("/evaluations", &html);
    assert!(doc(&html)
        .root_element()
        .text()
        .collect::<String>()
        .contains(&format!("Healthcare: {NAME}")));
    let (_, jsonl) = app.get_text("/evaluation-sets/healthcare/v1.jsonl").await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(jsonl.trim()).expect("json")["prompt"],
        DESCRIPTION
    );
}

/// A NUL (or another control character) anywhere a person can put text —
/// a path, a query, a form field, a JSON string of the metering API — is
/// answered 400 with the same message on both backends (PostgreSQL cannot
/// store NUL and answered 500), and nothing is written. Line breaks and
/// tabs in multi-line text still pass.
async fn control_characters_are_refused_at_the_edge_and_nothing_is_written(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let says = "control characters";
    for path in [
        "/listings/%00",
        "/catalogue?q=a%00b",
        "/listings/a%1Bb",
        "/catalogue?q=%C2%85",
    ] {
        let (status, body) = app.get_text(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
    }
    let tables = "SELECT (SELECT COUNT(*) FROM organisations) + (SELECT COUNT(*) FROM api_keys) \
                  + (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM audit_log)";
    let before = db.count(tables).await;
    let newcomer = Visitor::new(&app);
    for (v, path, fields) in [
        (
            &m.alice,
            "/api/fn/create_org",
            vec![("name", "Acme\0 Labs"), ("kind", "partner")],
        ),
        (
            &m.alice,
            "/api/fn/create_api_key",
            vec![("name", "key\u{1}")],
        ),
        (
            &m.alice,
            "/api/fn/create_api_key",
            vec![("name", "key\u{7f}")],
        ),
        (
            &newcomer,
            "/api/fn/sign_up",
            vec![
                ("email", "nul\0@example.org"),
                ("display_name", "Nul"),
                ("password", "a long enough passphrase 42"),
            ],
        ),
    ] {
        let (status, body) = v.call(path, &fields).await;
        assert_eq!(status, 400, "{path} {fields:?}: {body}");
        assert!(body.to_string().contains(says), "{path}: {body}");
    }
    assert_eq!(db.count(tables).await, before, "nothing written");

    // The metering API: a NUL in an idempotency key refuses the batch (it
    // used to fail the whole batch with a 500 on PostgreSQL), in the API's
    // own error shape; the same batch without it is accepted.
    let key = new_key(&m.alice, "metering").await;
    let o = crate::builders::offer(&m).await;
    let sub = crate::builders::carol_subscribes(&m, &o).await;
    let now = now_ms();
    let bad = json!({"records": [record("ok", &sub, 1, now), record("a\u{0}b", &sub, 1, now)]});
    let (status, body) = post_usage(&app, Some(&key), &bad).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_request", "{body}");
    assert!(
        body["message"].as_str().is_some_and(|t| t.contains(says)),
        "{body}"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM usage_records").await, 0);
    let good = json!({"records": [record("ok", &sub, 1, now), record("a-b", &sub, 1, now)]});
    let (status, body) = post_usage(&app, Some(&key), &good).await;
    assert_eq!(
        (status, body["accepted"].as_i64()),
        (200, Some(2)),
        "{body}"
    );

    // Multi-line text keeps its line breaks and tabs.
    let id = crate::builders::ready_draft(&m.bob, "Line Breaks", &m.models[0]).await;
    call_ok(
        &m.bob,
        "/api/fn/update_listing",
        &[
            ("id", &id),
            ("name", "Line Breaks"),
            ("slug", "line-breaks"),
            ("tagline", "A model for testing."),
            ("description", "First line\r\nSecond\tline"),
            ("industry", "healthcare"),
        ],
    )
    .await;
    let stored = db
        .count(&format!(
            "SELECT COUNT(*) FROM listings WHERE id = {id} AND description LIKE '%Second%'"
        ))
        .await;
    assert_eq!(stored, 1);
}
