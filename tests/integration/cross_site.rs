//! Cross-site request protection on every state-changing route (the
//! key-authenticated metering API aside: no cookie acts on it).

use crate::helpers::{form_post, run_ok, App, Backend, TestDb};
use base64::Engine as _;
use reqwest::header::{LOCATION, REFERER};

crate::on_both_backends!(
    error_links_of_plain_forms_stay_on_this_site_and_carry_only_the_servers_words,
);

/// The routes `fairground routes` reports, as (method, path).
async fn routes(db: &TestDb) -> Vec<(String, String)> {
    run_ok(db, &["routes"])
        .await
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_table_lists_pages_probes_and_server_functions() {
    let db = TestDb::new(Backend::Sqlite).await;
    let table = routes(&db).await;
    for expected in [
        ("GET", "/"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("POST", "/api/fn/home_listings"),
    ] {
        assert!(
            table
                .iter()
                .any(|(m, p)| m == expected.0 && p == expected.1),
            "{expected:?} missing from {table:?}"
        );
    }
}

/// Walks the route table: every route that is not GET/HEAD/OPTIONS refuses a
/// request from another site, and accepts the same request from this one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_state_changing_route_refuses_foreign_origins() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = App::spawn(&db).await;
    let site = app.base_url.clone();
    let unsafe_routes: Vec<_> = routes(&db)
        .await
        .into_iter()
        .filter(|(m, _)| !matches!(m.as_str(), "GET" | "HEAD" | "OPTIONS"))
        .collect();
    assert!(!unsafe_routes.is_empty());
    for (method, path) in &unsafe_routes {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let send = |origin: Option<&str>, referer: Option<&str>| {
            let mut req = app
                .client
                .request(method.clone(), app.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json");
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            if let Some(r) = referer {
                req = req.header("referer", r);
            }
            req.send()
        };
        // The machine API is authenticated by a key a browser never sends
        // on its own (no cookie counts there): a foreign page gets the same
        // 401 as anyone without a key.
        if path.starts_with("/api/v1/") || path.starts_with("/gateway/v1/") {
            let res = send(Some("https://evil.example"), None)
                .await
                .expect("send");
            assert_eq!(res.status(), 401, "{method} {path}");
            continue;
        }
        let refused = [
            (Some("https://evil.example"), None),
            (Some("null"), None),
            (Some("http://127.0.0.1:1"), None),
            (None, Some("https://evil.example/page")),
            (None, None),
        ];
        for (origin, referer) in refused {
            let res = send(origin, referer).await.expect("send");
            assert_eq!(
                res.status(),
                403,
                "{method} {path} origin={origin:?} referer={referer:?}"
            );
            let body: serde_json::Value = res.json().await.expect("json error");
            assert_eq!(body["code"], "forbidden");
        }
        for (origin, referer) in [
            (Some(site.as_str()), None),
            (None, Some(format!("{site}/somewhere"))),
        ] {
            let res = send(origin, referer.as_deref()).await.expect("send");
            assert_ne!(res.status(), 403, "{method} {path} from the site itself");
        }
    }
    // Reads are not affected.
    let res = app
        .client
        .get(app.url("/"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_public_url_is_the_only_accepted_origin() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = App::spawn_with(
        &db,
        &[("FAIRGROUND_PUBLIC_URL", "https://fairground.example")],
    )
    .await;
    let post = |origin: &'static str| {
        app.client
            .post(app.url("/api/fn/home_listings"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", origin)
            .send()
    };
    assert_eq!(
        post("https://fairground.example")
            .await
            .expect("send")
            .status(),
        200
    );
    // Same host as the request, but not the public origin.
    let own = app.base_url.clone();
    let res = app
        .client
        .post(app.url("/api/fn/home_listings"))
        .header("origin", own)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 403);
    assert_eq!(
        post("http://fairground.example")
            .await
            .expect("send")
            .status(),
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_public_url_stops_start_up() {
    let db = TestDb::new(Backend::Sqlite).await;
    let out = crate::helpers::run_cli_with(
        &db,
        &["serve"],
        &[("FAIRGROUND_PUBLIC_URL", "fairground.example")],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("FAIRGROUND_PUBLIC_URL must look like https://host[:port]"),
        "{stderr}"
    );
}

fn location(res: &reqwest::Response) -> String {
    res.headers()[LOCATION].to_str().expect("ascii").to_string()
}

/// A form posted without JavaScript comes back to its page with the error
/// the server wrote, signed; a link carrying an error written by anyone
/// else (or a signed one changed) is sent to the page without it; and a
/// Referer naming another site never becomes the redirect's target.
async fn error_links_of_plain_forms_stay_on_this_site_and_carry_only_the_servers_words(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let wrong = [
        ("email", "nobody@example.org"),
        ("password", "not the password 1"),
    ];
    let res = form_post(
        &app,
        "/api/fn/sign_in",
        "/sign-in?next=%2Forgs",
        None,
        &wrong,
    )
    .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let back = location(&res);
    assert!(back.contains("__err=") && back.contains("__sig="), "{back}");
    assert!(
        back.contains("next=%2Forgs"),
        "the page's own query is kept: {back}"
    );
    let path = back.strip_prefix(&app.base_url).unwrap_or(&back);
    let (status, page) = app.get_text(path).await;
    assert_eq!(status, 200, "{path}");
    assert!(
        page.contains("That email and password do not match an account."),
        "{page}"
    );

    // Someone else's words in the site's voice: refused, whether unsigned,
    // signed for another error, or signed with a made-up signature.
    let forged = base64::engine::general_purpose::URL_SAFE
        .encode(br#"{"code":"conflict","message":"Your account is locked: call +1 555 0100 now.","fields":{}}"#);
    let sig = back.split("__sig=").nth(1).unwrap_or("").to_string();
    for link in [
        format!("/sign-in?__path=/api/fn/sign_in&__err={forged}"),
        format!("/sign-in?__path=/api/fn/sign_in&__err={forged}&__sig={sig}"),
        format!(
            "/sign-in?__path=/api/fn/sign_in&__err={forged}&__sig={}",
            "ab".repeat(32)
        ),
        format!("/sign-in?a=1&__err={forged}&__path=/api/fn/sign_in&b=2"),
    ] {
        let res = app.client.get(app.url(&link)).send().await.expect("get");
        assert_eq!(res.status(), 303, "{link}");
        let to = location(&res);
        assert!(
            to == "/sign-in" || to == "/sign-in?a=1&b=2",
            "{link} -> {to}"
        );
        let (status, page) = app.get_text(&to).await;
        assert_eq!(status, 200);
        assert!(!page.contains("555 0100"), "{to}");
    }

    // Nor does stripping an error lead off the site.
    let res = app
        .client
        .get(app.url(&format!(
            "//elsewhere.example/x?__path=/api/fn/sign_in&__err={forged}"
        )))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/");

    // A Referer on another host (the Origin being this site's) is not
    // where the browser is sent, with or without an error.
    let unreadable = [("email", "x"), ("password", "y")];
    for (referer, fields) in [
        ("https://elsewhere.example/phish?x=1", &wrong[..]),
        ("https://elsewhere.example/phish?x=1", &unreadable[..]),
        ("//elsewhere.example/phish", &wrong[..]),
    ] {
        let res = app
            .client
            .post(app.url("/api/fn/sign_in"))
            .header("origin", &app.base_url)
            .header(REFERER, referer)
            .header(reqwest::header::ACCEPT, "text/html")
            .form(fields)
            .send()
            .await
            .expect("post");
        assert!(res.status().is_redirection(), "{}", res.status());
        let to = location(&res);
        assert!(!to.contains("elsewhere"), "{referer}: {to}");
        assert!(to.starts_with('/') && !to.starts_with("//"), "{to}");
    }
}
