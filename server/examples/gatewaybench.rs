//! The gateway benchmark's load generator (`server/benches/gateway.sh`):
//! starts the stand-in model server in this process, points one of the
//! demo client's subscribed deployments at it (writing its upstream in the
//! database the server uses), then in one run measures the same chat
//! completion sent straight to the stand-in (signed here) and through the
//! gateway: closed-loop maximum rate, open-loop latency at a fixed rate
//! (from each request's scheduled time), the same again with direct and
//! gateway calls taking turns a second at a time, and a stream's time to
//! first byte.
//! Finally it counts the billable records against the calls that got an
//! answer. Targets 127.0.0.1 only; stops by itself.
//!
//!   gatewaybench --gateway URL --key fgc_… --db DATABASE_URL [--workers 16] [--seconds 10] [--rate 1000]

use app::gateway::signing::{sign, REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use fairground::standin::{Behaviour, StandIn};
use sqlx::Row;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
struct Target {
    url: String,
    /// Bearer key (gateway) or signing secret (direct).
    key: Option<String>,
    secret: Option<String>,
    model: String,
}

impl Target {
    fn request(&self, client: &reqwest::Client, stream: bool) -> reqwest::RequestBuilder {
        let body = serde_json::to_vec(&serde_json::json!({
            "model": self.model,
            "messages": [{"role": "user", "content": "Is this urgent?"}],
            "stream": stream,
        }))
        .unwrap_or_default();
        let mut req = client
            .post(&self.url)
            .header("content-type", "application/json");
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        if let Some(s) = &self.secret {
            let id = uuid::Uuid::new_v4().to_string();
            let ts = app::db::Clock::system().now_ms() / 1000;
            req = req
                .header(REQUEST_ID_HEADER, &id)
                .header(TIMESTAMP_HEADER, ts.to_string())
                .header(SIGNATURE_HEADER, sign(s, ts, &id, &body));
        }
        req.body(body)
    }
}

async fn once(client: &reqwest::Client, t: &Target) -> bool {
    match t.request(client, false).send().await {
        Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
        Err(_) => false,
    }
}

fn pct(l: &mut [Duration], p: f64) -> f64 {
    if l.is_empty() {
        return f64::NAN;
    }
    l.sort();
    let i = ((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1;
    l[i].as_secs_f64() * 1000.0
}

/// Closed loop: `workers` callers as fast as answers come.
async fn closed(
    client: &reqwest::Client,
    t: &Target,
    workers: usize,
    secs: f64,
) -> (f64, f64, f64, usize) {
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let ok = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    let start = Instant::now();
    for _ in 0..workers {
        let (client, t, ok) = (client.clone(), t.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < until {
                let at = Instant::now();
                if once(&client, &t).await {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
                lat.push(at.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap_or_default());
    }
    let rate = all.len() as f64 / start.elapsed().as_secs_f64();
    let n = ok.load(Ordering::Relaxed);
    (rate, pct(&mut all, 0.5), pct(&mut all, 0.99), n)
}

/// Open loop at `rate` a second; latency from each request's scheduled time.
async fn open(
    client: &reqwest::Client,
    t: &Target,
    rate: f64,
    secs: f64,
) -> (f64, f64, f64, usize, usize) {
    let start = Instant::now();
    let (mut lat, ok) = open_raw(client, t, rate, secs).await;
    let achieved = lat.len() as f64 / start.elapsed().as_secs_f64();
    let errors = lat.len() - ok;
    (
        achieved,
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        ok,
        errors,
    )
}

/// The same, giving every request's latency and how many succeeded.
async fn open_raw(
    client: &reqwest::Client,
    t: &Target,
    rate: f64,
    secs: f64,
) -> (Vec<Duration>, usize) {
    let total = (rate * secs) as usize;
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = 0;
    let mut tasks = Vec::with_capacity(total);
    while sent < total {
        tick.tick().await;
        let due = ((start.elapsed().as_secs_f64() * rate) as usize).min(total);
        while sent < due {
            let scheduled = start + Duration::from_secs_f64(sent as f64 / rate);
            let (client, t) = (client.clone(), t.clone());
            tasks.push(tokio::spawn(async move {
                let ok = once(&client, &t).await;
                (scheduled.elapsed(), ok)
            }));
            sent += 1;
        }
    }
    let mut lat = Vec::new();
    let mut ok = 0;
    for task in tasks {
        if let Ok((l, good)) = task.await {
            lat.push(l);
            ok += usize::from(good);
        }
    }
    (lat, ok)
}

/// Time to the first byte of a streamed answer, one call at a time.
async fn first_bytes(client: &reqwest::Client, t: &Target, calls: usize) -> (f64, f64, usize) {
    let mut lat = Vec::new();
    let mut ok = 0;
    for _ in 0..calls {
        let at = Instant::now();
        if let Ok(mut res) = t.request(client, true).send().await {
            if let Ok(Some(_)) = res.chunk().await {
                lat.push(at.elapsed());
                ok += usize::from(res.status().is_success());
            }
            while let Ok(Some(_)) = res.chunk().await {}
        }
    }
    (pct(&mut lat, 0.5), pct(&mut lat, 0.99), ok)
}

/// The machine's CPU time in clock ticks, all CPUs together, from the
/// first line of `/proc/stat`: busy (user, nice, system, irq, softirq),
/// steal, and the total with idle and I/O wait. Zero where there is no
/// such file.
#[derive(Default)]
struct CpuTicks {
    busy: u64,
    steal: u64,
    total: u64,
}

impl CpuTicks {
    fn now() -> CpuTicks {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let f: Vec<u64> = stat
            .lines()
            .next()
            .filter(|l| l.starts_with("cpu "))
            .map(|l| {
                l.split_whitespace()
                    .skip(1)
                    .filter_map(|n| n.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        if f.len() < 8 {
            return CpuTicks::default();
        }
        CpuTicks {
            busy: f[0] + f[1] + f[2] + f[5] + f[6],
            steal: f[7],
            total: f[..8].iter().sum(),
        }
    }

    /// Adds the ticks between two readings.
    fn add(&mut self, from: &CpuTicks, to: &CpuTicks) {
        self.busy += to.busy.saturating_sub(from.busy);
        self.steal += to.steal.saturating_sub(from.steal);
        self.total += to.total.saturating_sub(from.total);
    }

    fn share(&self, ticks: u64) -> f64 {
        100.0 * ticks as f64 / self.total as f64
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut gateway, mut key, mut db_url) = (String::new(), String::new(), String::new());
    let (mut workers, mut seconds, mut rate) = (16usize, 10.0f64, 1000.0f64);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--gateway" => gateway = v,
            "--key" => key = v,
            "--db" => db_url = v,
            "--workers" => workers = v.parse()?,
            "--seconds" => seconds = v.parse()?,
            "--rate" => rate = v.parse()?,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    anyhow::ensure!(
        gateway.starts_with("http://127.0.0.1:"),
        "only 127.0.0.1 is a target"
    );
    let db = app::db::Db::connect(&db_url, &app::db::DbOptions::default()).await?;
    let row = sqlx::query(
        "SELECT l.slug, s.deployment_id FROM subscriptions s JOIN listings l ON l.id = s.listing_id \
         JOIN organisations o ON o.id = s.client_org_id \
         WHERE o.slug = 'st-brigid-hospital' AND s.status = 'active' ORDER BY s.id LIMIT 1",
    )
    .fetch_one(db.pool())
    .await?;
    let slug: String = row.try_get("slug")?;
    let deployment: i64 = row.try_get("deployment_id")?;
    let standin = StandIn::default();
    let addr = standin.spawn("127.0.0.1:0".parse()?).await?;
    let secret = app::listings::service::new_secret();
    let base = format!("http://{addr}/u/bench");
    {
        let mut tx = db.begin_write().await?;
        sqlx::query(
            "INSERT INTO deployment_upstreams (deployment_id, base_url, upstream_model, signing_secret, updated_at) \
             VALUES ($1, $2, 'stand-in', $3, 0) \
             ON CONFLICT (deployment_id) DO UPDATE SET base_url = excluded.base_url, \
             signing_secret = excluded.signing_secret",
        )
        .bind(deployment)
        .bind(&base)
        .bind(&secret)
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
    }
    standin.register("bench", &secret, Behaviour::Fixed);
    let before: i64 = sqlx::query("SELECT COUNT(*) AS n FROM gateway_calls WHERE billable = 1")
        .fetch_one(db.pool())
        .await?
        .try_get("n")?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(10))
        .build()?;
    let direct = Target {
        url: format!("{base}/chat/completions"),
        key: None,
        secret: Some(secret.clone()),
        model: "stand-in".into(),
    };
    let through = Target {
        url: format!("{gateway}/gateway/v1/chat/completions"),
        key: Some(key.clone()),
        secret: None,
        model: slug.clone(),
    };
    // Warm both paths (connections, caches).
    closed(&client, &direct, workers, 1.0).await;
    closed(&client, &through, workers, 1.0).await;
    let mut answered = 0usize;
    println!("model {slug}, {workers} workers, {seconds}s per phase");
    let (d, d50, d99, _) = closed(&client, &direct, workers, seconds).await;
    let (g, g50, g99, n) = closed(&client, &through, workers, seconds).await;
    answered += n;
    println!("closed loop  direct  {d:>8.0} req/s  p50 {d50:.2} ms  p99 {d99:.2} ms");
    println!(
        "closed loop  gateway {g:>8.0} req/s  p50 {g50:.2} ms  p99 {g99:.2} ms  ({:.0} % of direct)",
        100.0 * g / d
    );
    let (da, d50, d99, _, de) = open(&client, &direct, rate, seconds).await;
    let (ga, g50, g99, n, ge) = open(&client, &through, rate, seconds).await;
    answered += n;
    println!("open loop at {rate:.0}/s  direct  achieved {da:.0}/s  p50 {d50:.2} ms  p99 {d99:.2} ms  errors {de}");
    println!("open loop at {rate:.0}/s  gateway achieved {ga:.0}/s  p50 {g50:.2} ms  p99 {g99:.2} ms  errors {ge}");
    println!(
        "added by the gateway at {rate:.0}/s: p50 {:.2} ms, p99 {:.2} ms",
        g50 - d50,
        g99 - d99
    );
    // The same rate with direct and gateway calls taking turns a second
    // at a time: both see the same moments of the machine (a database
    // checkpoint, another process), so the difference is the gateway's.
    let (mut dl, mut gl, mut errors) = (Vec::new(), Vec::new(), 0);
    let (mut d_cpu, mut g_cpu) = (CpuTicks::default(), CpuTicks::default());
    for _ in 0..(seconds as usize).max(1) {
        let t0 = CpuTicks::now();
        let (l, ok) = open_raw(&client, &direct, rate, 1.0).await;
        let t1 = CpuTicks::now();
        errors += l.len() - ok;
        dl.extend(l);
        let (l, ok) = open_raw(&client, &through, rate, 1.0).await;
        let t2 = CpuTicks::now();
        errors += l.len() - ok;
        answered += ok;
        gl.extend(l);
        d_cpu.add(&t0, &t1);
        g_cpu.add(&t1, &t2);
    }
    let (d50, d99) = (pct(&mut dl, 0.5), pct(&mut dl, 0.99));
    let (g50, g99) = (pct(&mut gl, 0.5), pct(&mut gl, 0.99));
    println!(
        "interleaved second by second at {rate:.0}/s: direct p50 {d50:.2} ms p99 {d99:.2} ms; gateway p50 {g50:.2} ms p99 {g99:.2} ms; added p50 {:.2} ms, p99 {:.2} ms; errors {errors}",
        g50 - d50,
        g99 - d99
    );
    // What the whole machine did meanwhile: every process on it, the
    // database and this generator included, and the time the hypervisor
    // took from it (steal), which no process here can use.
    if d_cpu.total > 0 && g_cpu.total > 0 {
        println!(
            "machine CPU in those seconds: direct busy {:.0} %, steal {:.1} %; gateway busy {:.0} %, steal {:.1} %",
            d_cpu.share(d_cpu.busy),
            d_cpu.share(d_cpu.steal),
            g_cpu.share(g_cpu.busy),
            g_cpu.share(g_cpu.steal)
        );
    }
    let (d50, d99, _) = first_bytes(&client, &direct, 300).await;
    let (g50, g99, n) = first_bytes(&client, &through, 300).await;
    answered += n;
    println!(
        "streamed first byte: direct p50 {d50:.2} ms p99 {d99:.2} ms; gateway p50 {g50:.2} ms p99 {g99:.2} ms; added p50 {:.2} ms",
        g50 - d50
    );
    // Warm-up calls through the gateway were billable too.
    let after: i64 = sqlx::query("SELECT COUNT(*) AS n FROM gateway_calls WHERE billable = 1")
        .fetch_one(db.pool())
        .await?
        .try_get("n")?;
    println!(
        "records: {} billable written during the run; {answered} measured calls answered (plus the warm-up)",
        after - before
    );
    // The gateway's own time per call as it recorded it: from the request
    // arriving to the record being handed to the writer, less the
    // upstream's time (so without the wait for the record's commit).
    let mut own: Vec<Duration> =
        sqlx::query("SELECT overhead_us FROM gateway_calls WHERE billable = 1")
            .fetch_all(db.pool())
            .await?
            .iter()
            .filter_map(|r| r.try_get::<i64, _>("overhead_us").ok())
            .map(|us| Duration::from_micros(us.max(0) as u64))
            .collect();
    println!(
        "recorded gateway overhead (before the commit): p50 {:.2} ms, p99 {:.2} ms",
        pct(&mut own, 0.5),
        pct(&mut own, 0.99)
    );
    Ok(())
}
