//! Text a user typed stays text wherever a page shows it: in the document's
//! `<title>`, in a `<textarea>`, in form fields' values, in the page body.
//! (The Markdown description's own rendering is `listings::markdown_descriptions_render_inert`.)

use crate::helpers::{App, Backend, TestDb, Visitor};
use crate::listings::{call_ok, market};

crate::on_both_backends!(markup_a_publisher_types_is_shown_as_text_on_every_page);

/// A name that would end the `<title>` and send every visitor elsewhere.
const NAME: &str = r#"</title><meta http-equiv="refresh" content="0;url=/x"><form action="/x">"#;
/// A description that would end the `<textarea>` and plant a form that
/// promotes its author when an owner clicks it.
const DESCRIPTION: &str = "</textarea><form action=\"/api/fn/change_role\" method=\"post\">\
<input name=\"role\" value=\"owner\"><button>Save</button></form><textarea>";
/// A plan name that would open a form around the page's plans.
const PLAN: &str = r#"<form action="/x">Basic"#;
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
}
