//! Permanent actions (retire a listing, withdraw a plan, revoke a key,
//! cancel a subscription) ask once more before they are done, without
//! JavaScript too: the first button only opens a disclosure that says what
//! will happen; the form's one submit button is inside it. Submitting that
//! form as a browser without JavaScript would still does the action. Pages
//! are the same on both backends: SQLite only.

use crate::builders::{call_ok, carol_subscribes, market, new_key, offer};
use crate::helpers::{App, Backend, TestDb, Visitor};
use scraper::{ElementRef, Html, Selector};

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("selector")
}

/// The forms of `html` that post to server function `action`, as
/// (hidden fields, the text of each submit button, whether each sits in a
/// closed confirmation disclosure, that disclosure's summary).
struct Guarded {
    fields: Vec<(String, String)>,
    confirm: String,
    summary: String,
}

fn guarded_forms(html: &str, action: &str) -> Vec<Guarded> {
    let doc = Html::parse_document(html);
    let path = format!("/api/fn/{action}");
    let mut out = Vec::new();
    for form in doc.select(&sel("form")) {
        if form.value().attr("action") != Some(path.as_str()) {
            continue;
        }
        let buttons: Vec<ElementRef> = form
            .select(&sel("button"))
            .filter(|b| b.value().attr("type").unwrap_or("submit") == "submit")
            .collect();
        assert_eq!(buttons.len(), 1, "{action}: one submit button");
        let button = buttons[0];
        let details = button
            .ancestors()
            .filter_map(ElementRef::wrap)
            .find(|e| e.value().name() == "details")
            .unwrap_or_else(|| panic!("{action}: the submit button is inside a disclosure"));
        assert!(
            details.value().classes().any(|c| c == "confirm"),
            "{action}: a confirmation disclosure"
        );
        assert!(
            details.value().attr("open").is_none(),
            "{action}: closed until asked for"
        );
        let summary = details
            .select(&sel("summary"))
            .next()
            .unwrap_or_else(|| panic!("{action}: a summary"));
        let says = details.text().collect::<String>();
        assert!(says.len() > 60, "{action}: says what will happen: {says}");
        let fields = form
            .select(&sel("input[type=hidden]"))
            .map(|i| {
                (
                    i.value().attr("name").unwrap_or("").to_string(),
                    i.value().attr("value").unwrap_or("").to_string(),
                )
            })
            .collect();
        out.push(Guarded {
            fields,
            confirm: button.text().collect::<String>().trim().to_string(),
            summary: summary.text().collect::<String>().trim().to_string(),
        });
    }
    out
}

/// Submits a guarded form as a browser without JavaScript: its hidden
/// fields, from the page it is on.
async fn submit(v: &Visitor<'_>, page: &str, action: &str, g: &Guarded) {
    let fields: Vec<(&str, &str)> = g
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = v.form(&format!("/api/fn/{action}"), page, &fields).await;
    assert!(
        res.status().is_redirection() || res.status().is_success(),
        "{action}: {}",
        res.status()
    );
}

#[tokio::test]
async fn permanent_actions_ask_once_more_and_then_work_without_javascript() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let o = offer(&m).await;
    // A second plan, so one can be withdrawn from a published listing.
    call_ok(
        &m.alice,
        "/api/fn/add_plan",
        &[
            ("listing_id", &o.listing),
            ("plan_name", "Spare"),
            ("monthly_fee", "10.00"),
            ("currency", "EUR"),
            ("included_calls", "100"),
            ("overage_per_1000", "1.00"),
        ],
    )
    .await;
    let sub = carol_subscribes(&m, &o).await;
    new_key(&m.carol, "ci-runner").await;

    // The client's key: revoke.
    let keys = "/org/api-keys";
    let forms = guarded_forms(&m.carol.page(keys).await, "revoke_api_key");
    assert_eq!(forms.len(), 1, "one live key");
    assert_eq!(forms[0].summary, "Revoke");
    assert_eq!(forms[0].confirm, "Yes, revoke ci-runner");
    submit(&m.carol, keys, "revoke_api_key", &forms[0]).await;
    let after = m.carol.page(keys).await;
    assert!(guarded_forms(&after, "revoke_api_key").is_empty());
    assert!(after.contains("Revoked"), "the key shows as revoked");

    // The client's subscription: cancel.
    let page = format!("/subscriptions/{sub}");
    let forms = guarded_forms(&m.carol.page(&page).await, "cancel_subscription");
    assert_eq!(forms.len(), 1);
    assert_eq!(forms[0].confirm, "Yes, cancel the subscription");
    submit(&m.carol, &page, "cancel_subscription", &forms[0]).await;
    let detail = call_ok(&m.carol, "/api/fn/subscription_detail", &[("id", &sub)]).await;
    assert_eq!(detail["subscription"]["active"], false, "{detail}");
    assert!(guarded_forms(&m.carol.page(&page).await, "cancel_subscription").is_empty());

    // The publisher's plan and listing: withdraw, retire.
    let editor = format!("/my/listings/{}", o.listing);
    let html = m.alice.page(&editor).await;
    let plans = guarded_forms(&html, "deactivate_plan");
    assert_eq!(plans.len(), 2, "each active plan");
    let spare = plans
        .iter()
        .find(|g| g.confirm == "Yes, withdraw plan Spare")
        .expect("the spare plan's confirmation");
    submit(&m.alice, &editor, "deactivate_plan", spare).await;
    let html = m.alice.page(&editor).await;
    assert_eq!(guarded_forms(&html, "deactivate_plan").len(), 1);
    let retire = guarded_forms(&html, "retire_listing");
    assert_eq!(retire.len(), 1);
    assert_eq!(retire[0].summary, "Retire listing");
    assert_eq!(retire[0].confirm, "Yes, retire this listing");
    submit(&m.alice, &editor, "retire_listing", &retire[0]).await;
    let html = m.alice.page(&editor).await;
    assert!(guarded_forms(&html, "retire_listing").is_empty(), "retired");
}
