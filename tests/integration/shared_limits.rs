//! Rate limits shared across nodes through Redis (the machine's, at
//! 127.0.0.1:6379): two nodes on one database together allow what one
//! does for sign-in, metering and gateway calls; without Redis each node
//! counts on its own (as documented); when Redis fails, each node counts
//! on its own, nothing is refused for it, a log line and a metric say so,
//! and sharing resumes when Redis answers again.

use crate::builders::{carol_subscribes, chat, echo_upstream, market, new_key, offer, one_record};
use crate::helpers::{App, Backend, Relay, TestDb};
use std::time::{Duration, Instant};

crate::on_both_backends!(
    two_nodes_on_one_database_together_allow_what_one_does,
    when_redis_fails_each_node_counts_alone_says_so_and_shares_again,
);

const REDIS: &str = "127.0.0.1:6379";
const METRICS_TOKEN: &str = "shared-limits-metrics-token-0123456789";

/// Fails loudly when the machine's Redis is not there: these tests are
/// never skipped.
async fn redis_is_there() {
    if let Err(e) = tokio::net::TcpStream::connect(REDIS).await {
        panic!("Redis is unreachable at {REDIS}: {e}. The shared-limit tests need it.");
    }
}

fn env(redis: Option<String>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("FAIRGROUND_AUTH_ATTEMPTS_PER_IP", "1000".to_string()),
        ("FAIRGROUND_AUTH_ATTEMPTS_PER_ACCOUNT", "4".to_string()),
        ("FAIRGROUND_GATEWAY_REQUESTS_PER_KEY", "10".to_string()),
        ("FAIRGROUND_API_REQUESTS_PER_KEY", "10".to_string()),
        (
            "FAIRGROUND_GATEWAY_ALLOW_PRIVATE_UPSTREAMS",
            "true".to_string(),
        ),
        ("FAIRGROUND_METRICS_TOKEN", METRICS_TOKEN.to_string()),
    ];
    if let Some(url) = redis {
        env.push(("FAIRGROUND_REDIS_URL", url));
    }
    env
}

async fn spawn(db: &TestDb, env: &[(&'static str, String)]) -> App {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    App::spawn_with(db, &env).await
}

/// A failed sign-in as `email` on `app`: its status (422 wrong, 429 over).
async fn sign_in_as(app: &App, email: &str) -> u16 {
    app.client
        .post(app.url("/api/fn/sign_in"))
        .header("origin", &app.base_url)
        .header("accept", "application/json")
        .form(&[("email", email), ("password", "not the password")])
        .send()
        .await
        .expect("sign in")
        .status()
        .as_u16()
}

async fn gateway_call(app: &App, key: &str) -> u16 {
    chat(app, key).await.status().as_u16()
}

async fn usage_post(app: &App, key: &str, sub: &str, i: usize) -> u16 {
    one_record(app, key, sub, &format!("shared-{i}"))
        .await
        .status()
        .as_u16()
}

/// Sends `n` requests at once, every other one to each node: the statuses
/// per node, and how long it all took.
async fn burst<'a, F, Fut>(nodes: [&'a App; 2], n: usize, send: F) -> ([Vec<u16>; 2], Duration)
where
    F: Fn(&'a App, usize) -> Fut,
    Fut: std::future::Future<Output = u16> + 'a,
{
    let began = Instant::now();
    let sent: Vec<_> = (0..n).map(|i| send(nodes[i % 2], i)).collect();
    let statuses = futures_util::future::join_all(sent).await;
    let took = began.elapsed();
    let mut per_node = [Vec::new(), Vec::new()];
    for (i, s) in statuses.into_iter().enumerate() {
        per_node[i % 2].push(s);
    }
    (per_node, took)
}

fn allowed(per_node: &[Vec<u16>; 2]) -> usize {
    per_node.iter().flatten().filter(|s| **s == 200).count()
}

/// What a limit of `burst` at once and `burst` a second allows in `took`
/// at most, counted in one place.
fn one_budget(burst: usize, took: Duration) -> usize {
    burst + (took.as_secs_f64() * burst as f64).ceil() as usize
}

async fn metrics(app: &App) -> String {
    app.client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn two_nodes_on_one_database_together_allow_what_one_does(backend: Backend) {
    redis_is_there().await;
    let db = TestDb::new(backend).await;
    let shared = env(Some(format!("redis://{REDIS}")));
    let a = spawn(&db, &shared).await;
    let b = spawn(&db, &shared).await;

    // Sign-in: four attempts a minute on one account, wherever they land.
    let mut statuses = Vec::new();
    for i in 0..8 {
        statuses.push(sign_in_as([&a, &b][i % 2], "target@example.org").await);
    }
    assert_eq!(statuses, [422, 422, 422, 422, 429, 429, 429, 429]);
    // Another account has its own budget.
    assert_eq!(sign_in_as(&b, "other@example.org").await, 422);

    let m = market(&a, &db).await;
    let o = offer(&m).await;
    let _echo = echo_upstream(&m.alice, &o.listing, &o.deployments[0]).await;
    let sub = carol_subscribes(&m, &o).await;
    let gateway_key = new_key(&m.carol, "Ward system").await;
    let metering_key = new_key(&m.alice, "Billing").await;

    // Gateway: ten calls a second per key, across both nodes.
    let (per_node, took) = burst([&a, &b], 40, |app, _| gateway_call(app, &gateway_key)).await;
    let ok = allowed(&per_node);
    eprintln!("gateway through Redis: {ok} of 40 allowed across two nodes in {took:?}");
    assert!(ok >= 10, "the burst of ten goes through: {per_node:?}");
    assert!(
        ok <= one_budget(10, took),
        "{ok} allowed in {took:?}: {per_node:?}"
    );
    assert!(
        per_node.iter().all(|n| n.contains(&429)),
        "both nodes refuse once the shared budget is spent: {per_node:?}"
    );

    // Metering: ten requests a second per key, across both nodes.
    let (per_node, took) = burst([&a, &b], 40, |app, i| {
        usage_post(app, &metering_key, &sub, i)
    })
    .await;
    let ok = allowed(&per_node);
    eprintln!("metering through Redis: {ok} of 40 allowed across two nodes in {took:?}");
    assert!(ok >= 10, "{per_node:?}");
    assert!(
        ok <= one_budget(10, took),
        "{ok} allowed in {took:?}: {per_node:?}"
    );
    assert!(per_node.iter().all(|n| n.contains(&429)), "{per_node:?}");
    let m = metrics(&a).await;
    assert_eq!(
        sample(&m, "fairground_rate_limits_shared"),
        Some(1.0),
        "{m}"
    );
    drop(m);

    // Without Redis (the default) each node counts on its own: together
    // they allow twice as much. This is what sharing changes.
    let alone = env(None);
    let c = spawn(&db, &alone).await;
    let d = spawn(&db, &alone).await;
    let (per_node, took) = burst([&c, &d], 40, |app, _| gateway_call(app, &gateway_key)).await;
    let ok = allowed(&per_node);
    eprintln!("gateway without Redis: {ok} of 40 allowed across two nodes in {took:?}");
    assert!(ok >= 20, "each node allows its own ten: {per_node:?}");
    assert!(
        !metrics(&c).await.contains("fairground_rate_limits_shared"),
        "no Redis figures when Redis is not configured"
    );
}

async fn when_redis_fails_each_node_counts_alone_says_so_and_shares_again(backend: Backend) {
    redis_is_there().await;
    let relay = Relay::to(REDIS).await;
    let db = TestDb::new(backend).await;
    let app = spawn(&db, &env(Some(format!("redis://{}", relay.addr)))).await;
    let m = market(&app, &db).await;
    let o = offer(&m).await;
    let _echo = echo_upstream(&m.alice, &o.listing, &o.deployments[0]).await;
    carol_subscribes(&m, &o).await;
    let key = new_key(&m.carol, "Ward system").await;

    // Shared: the budget is Redis's.
    let (per_node, _) = burst([&app, &app], 14, |app, _| gateway_call(app, &key)).await;
    assert!(per_node.iter().flatten().any(|s| *s == 429), "{per_node:?}");
    let shown = metrics(&app).await;
    assert_eq!(
        sample(&shown, "fairground_rate_limits_shared"),
        Some(1.0),
        "{shown}"
    );

    // Redis gone: calls are not refused for it; this node counts alone,
    // still holding the key to its ten a second.
    relay.cut();
    let (per_node, _) = burst([&app, &app], 14, |app, _| gateway_call(app, &key)).await;
    let ok = allowed(&per_node);
    assert!(
        ok >= 10,
        "Redis failing refuses nothing by itself: {per_node:?}"
    );
    assert!(
        per_node.iter().flatten().any(|s| *s == 429),
        "the node's own count still limits: {per_node:?}"
    );
    assert!(
        per_node.iter().flatten().all(|s| *s == 200 || *s == 429),
        "{per_node:?}"
    );
    assert_eq!(
        sign_in_as(&app, "someone@example.org").await,
        422,
        "sign-in still answers"
    );
    let shown = metrics(&app).await;
    assert_eq!(
        sample(&shown, "fairground_rate_limits_shared"),
        Some(0.0),
        "{shown}"
    );
    let local = sample(
        &shown,
        "fairground_rate_limit_local_checks_total{limit=\"gateway_key\"}",
    )
    .unwrap_or(0.0);
    assert!(local >= 13.0, "checks counted locally: {local}\n{shown}");
    assert!(
        app.stderr()
            .contains("Redis is unreachable: rate limits fall back to counting on each node"),
        "{}",
        app.stderr()
    );

    // Redis back: shared again (tried a second after the failure).
    relay.mend();
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        gateway_call(&app, &key).await;
        let shown = metrics(&app).await;
        if sample(&shown, "fairground_rate_limits_shared") == Some(1.0) {
            break;
        }
        assert!(Instant::now() < deadline, "sharing did not resume: {shown}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        app.stderr()
            .contains("Redis answers again: rate limits are shared across nodes"),
        "{}",
        app.stderr()
    );
}
