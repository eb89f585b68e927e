//! Closed-loop load on the metering API: `--workers` senders post batches of
//! `--batch` fresh usage records (unique idempotency keys) for `--seconds`,
//! and the run reports records accepted per second, requests per second and
//! latency percentiles. With `--healthz` it loads `/healthz` the same way,
//! as the yardstick. Used by `server/benches/metering.sh`; targets
//! 127.0.0.1 only.
//!
//!   cargo run --release -p server --example meterbench -- --url http://127.0.0.1:PORT \
//!       --key fgk_… --subscription 3 --batch 100 --workers 8 --seconds 10

use app::calendar::rfc3339;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut url, mut key, mut sub) = (String::new(), String::new(), 0i64);
    let (mut batch, mut workers, mut seconds, mut healthz) = (100usize, 8usize, 10.0f64, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_default();
        match a.as_str() {
            "--url" => url = val(),
            "--key" => key = val(),
            "--subscription" => sub = val().parse()?,
            "--batch" => batch = val().parse()?,
            "--workers" => workers = val().parse()?,
            "--seconds" => seconds = val().parse()?,
            "--healthz" => healthz = true,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    anyhow::ensure!(
        url.starts_with("http://127.0.0.1:"),
        "only 127.0.0.1 is a target: {url}"
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(workers)
        .timeout(Duration::from_secs(30))
        .build()?;
    let accepted = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let start = Instant::now();
    let stop = start + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (client, url, key) = (client.clone(), url.clone(), key.clone());
        let (accepted, errors) = (accepted.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0usize;
            while Instant::now() < stop {
                let t = Instant::now();
                let ok = if healthz {
                    match client.get(format!("{url}/healthz")).send().await {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    }
                } else {
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_millis() as i64)
                        .unwrap_or(0);
                    let at = rfc3339(now);
                    let records: Vec<serde_json::Value> = (0..batch)
                        .map(|i| {
                            n += 1;
                            serde_json::json!({
                                "idempotency_key": format!("bench-{run}-{w}-{n}-{i}"),
                                "subscription_id": sub,
                                "dimension": "calls",
                                "quantity": 1,
                                "occurred_at": at,
                            })
                        })
                        .collect();
                    match client
                        .post(format!("{url}/api/v1/usage"))
                        .bearer_auth(&key)
                        .json(&serde_json::json!({ "records": records }))
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => {
                            match r.json::<serde_json::Value>().await {
                                Ok(body) => {
                                    let a = body["accepted"].as_u64().unwrap_or(0) as usize;
                                    accepted.fetch_add(a, Ordering::Relaxed);
                                    a == batch
                                }
                                Err(_) => false,
                            }
                        }
                        _ => false,
                    }
                };
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let what = if healthz {
        "/healthz".to_string()
    } else {
        format!("batches of {batch}")
    };
    println!(
        "{what}: {} requests in {elapsed:.1} s = {:.0} req/s; records accepted {:.0}/s; p50 {:.1} ms, p99 {:.1} ms; errors {}",
        all.len(),
        all.len() as f64 / elapsed,
        accepted.load(Ordering::Relaxed) as f64 / elapsed,
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        errors.load(Ordering::Relaxed)
    );
    Ok(())
}
