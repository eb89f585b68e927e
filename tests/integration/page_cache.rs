//! The catalogue pages kept once and served to everyone: each signed-in
//! person gets the kept page with their own header menu, exactly as a page
//! rendered for them shows it, and nobody else's.

use crate::builders::{alice_publishes, market, platform_publishes};
use crate::helpers::{sign_up, App, Backend, TestDb, Visitor};

crate::on_both_backends!(
    a_kept_catalogue_page_shows_each_viewer_their_own_menu,
    requests_arriving_together_for_a_page_render_it_once,
);

/// The part of a page between two markers, both included.
fn between<'p>(page: &'p str, open: &str, close: &str) -> &'p str {
    let start = page
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in {page}"));
    let end = start
        + page[start..]
            .find(close)
            .unwrap_or_else(|| panic!("no {close} after {open}"))
        + close.len();
    &page[start..end]
}

fn header(page: &str) -> &str {
    between(page, "<header class=\"site-header\">", "</header>")
}

fn main_part(page: &str) -> &str {
    between(page, "<main", "</main>")
}

async fn a_kept_catalogue_page_shows_each_viewer_their_own_menu(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    alice_publishes(&m).await;
    platform_publishes(&m).await;
    let anon = Visitor::new(&app);
    let hostile = Visitor::signed_up(
        &app,
        "mallory@example.org",
        "<script>alert(1)</script>\"><img src=x onerror=alert(2)>",
    )
    .await;
    let path = "/catalogue?industry=healthcare";

    // A signed-in person first: the page is rendered as an anonymous
    // visitor sees it, kept, and served with the client's menu.
    let carol = m.carol.page(path).await;
    let carol_policy = m.carol.page("/policy").await;
    assert_eq!(header(&carol), header(&carol_policy), "{carol}");
    assert!(header(&carol).contains(">Carol</a>"), "{carol}");
    assert!(
        header(&carol).contains("href=\"/subscriptions\""),
        "{carol}"
    );
    assert!(!header(&carol).contains("href=\"/sign-in\""), "{carol}");
    assert!(main_part(&carol).contains("Triage Notes"), "{carol}");

    // Then someone not signed in, served the page kept for the client:
    // nothing of hers.
    let plain = anon.page(path).await;
    assert_eq!(header(&plain), header(&anon.page("/policy").await));
    assert!(header(&plain).contains("href=\"/sign-in\""), "{plain}");
    for theirs in ["Carol", "Sign out", "/subscriptions", "/notifications"] {
        assert!(!plain.contains(theirs), "{theirs} in {plain}");
    }
    assert_eq!(main_part(&plain), main_part(&carol));

    // Every kind of person, from the kept page: their own menu, the same
    // results.
    for (who, name, theirs, not_theirs) in [
        (&m.alice, "Alice", "/my/listings", "/review"),
        (&m.referee, "Rita Referee", "/review", "/subscriptions"),
        (&m.player, "Pat Player", "/my/listings", "/review"),
        (&m.carol, "Carol", "/subscriptions", "/my/listings"),
    ] {
        let page = who.page(path).await;
        let own = who.page("/policy").await;
        assert_eq!(header(&page), header(&own), "{name}: {page}");
        assert!(header(&page).contains(&format!(">{name}</a>")), "{page}");
        assert!(
            header(&page).contains(&format!("href=\"{theirs}\"")),
            "{name}"
        );
        assert!(
            !header(&page).contains(&format!("href=\"{not_theirs}\"")),
            "{name}"
        );
        assert_eq!(main_part(&page), main_part(&plain), "{name}");
    }

    // A name is text wherever it is put in: escaped as in any rendering.
    for p in ["/", path] {
        let page = hostile.page(p).await;
        assert_eq!(header(&page), header(&hostile.page("/policy").await));
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<img src=x"), "{page}");
        assert!(
            header(&page).contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
    }

    // Who someone is, is read on every request, never kept: working in
    // another organisation changes the menu on the kept page at once, and so
    // does a membership ended behind the person's back (here straight in the
    // database, as another owner's removal would).
    let clinic = crate::builders::call_ok(
        &m.alice,
        "/api/fn/create_org",
        &[("name", "Alice Clinic"), ("kind", "client")],
    )
    .await
    .to_string();
    crate::builders::call_ok(&m.alice, "/api/fn/switch_org", &[("org_id", &clinic)]).await;
    let menu_of = |page: String| header(&page).to_string();
    for (step, theirs, not_theirs) in [
        ("in the clinic", "/subscriptions", "/my/listings"),
        ("removed from the clinic", "/my/listings", "/subscriptions"),
    ] {
        if step == "removed from the clinic" {
            let mut conn = db.connect().await;
            sqlx::query("DELETE FROM memberships WHERE org_id = $1")
                .bind(clinic.parse::<i64>().expect("id"))
                .execute(&mut conn)
                .await
                .expect("remove");
        }
        let page = menu_of(m.alice.page(path).await);
        assert_eq!(page, menu_of(m.alice.page("/policy").await), "{step}");
        assert!(
            page.contains(&format!("href=\"{theirs}\"")),
            "{step}: {page}"
        );
        assert!(
            !page.contains(&format!("href=\"{not_theirs}\"")),
            "{step}: {page}"
        );
    }

    // Signed out: the same cookie gets the anonymous menu.
    let (status, _) = m.carol.call("/api/fn/sign_out", &[]).await;
    assert_eq!(status, 200);
    let after = m.carol.page(path).await;
    assert!(header(&after).contains("href=\"/sign-in\""), "{after}");
    assert!(!after.contains("Carol"), "{after}");
}

/// Every kept page goes stale at once when the minute turns: requests for
/// one page arriving together wait for one rendering of it instead of each
/// rendering it (which is what made the tail latency at that moment).
async fn requests_arriving_together_for_a_page_render_it_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(
        &db,
        &[("FAIRGROUND_LOG", "info,fairground::page_cache=debug")],
    )
    .await;
    let cookie = sign_up(&app, "gus@example.org", "Gus").await;
    for (round, path) in ["/catalogue", "/"].into_iter().enumerate() {
        let url = app.url(&format!("{path}?q=together{round}"));
        // 24 requests at once, on their own connections; every third signed in.
        let pages = futures_util::future::join_all((0..24).map(|i| {
            let client = crate::helpers::client();
            let url = url.clone();
            let cookie = (i % 3 == 0).then(|| cookie.clone());
            async move {
                let mut req = client.get(&url);
                if let Some(c) = cookie {
                    req = req.header(reqwest::header::COOKIE, c);
                }
                let res = req.send().await.expect("get");
                assert_eq!(res.status(), 200);
                (i % 3 == 0, res.text().await.expect("body"))
            }
        }))
        .await;
        for (signed_in, page) in &pages {
            assert_eq!(page.contains(">Gus</a>"), *signed_in, "{page}");
        }
        let of_this = format!("page={path} ");
        let rendered = || -> Vec<String> {
            app.stderr()
                .lines()
                .filter(|l| l.contains("rendering a catalogue page") && l.contains(&of_this))
                .map(str::to_string)
                .collect()
        };
        // The server's log is read from its pipe as it comes.
        for _ in 0..50 {
            if !rendered().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let rendered = rendered();
        assert_eq!(rendered.len(), 1, "{path}: {rendered:#?}");
    }
}
