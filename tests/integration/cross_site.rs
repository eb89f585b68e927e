//! Cross-site request protection on every state-changing route (the
//! key-authenticated metering API aside: no cookie acts on it).

use crate::helpers::{run_ok, App, Backend, TestDb};

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
        if path.starts_with("/api/v1/") {
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
