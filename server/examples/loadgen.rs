//! Open-loop load at a fixed rate (what wrk cannot do): sends `--rate`
//! requests a second for `--seconds`, cycling through the given URLs, and
//! reports latency percentiles measured from each request's *scheduled*
//! time, so a slow server cannot hide its queueing (no coordinated
//! omission). Used by `server/benches/load.sh`; targets 127.0.0.1 only.
//!
//!   cargo run --release -p server --example loadgen -- --rate 2000 --seconds 10 URL...

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut rate = 1000.0f64;
    let mut seconds = 10.0f64;
    let mut urls = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rate" => rate = args.next().unwrap_or_default().parse()?,
            "--seconds" => seconds = args.next().unwrap_or_default().parse()?,
            url => urls.push(url.to_string()),
        }
    }
    anyhow::ensure!(!urls.is_empty(), "give at least one URL");
    for u in &urls {
        anyhow::ensure!(
            u.starts_with("http://127.0.0.1:"),
            "only 127.0.0.1 is a target: {u}"
        );
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(10))
        .build()?;
    let total = (rate * seconds) as usize;
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let errors = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // Bounds sockets; a request waiting for a slot still counts its wait.
    let slots = Arc::new(Semaphore::new(1024));
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = 0usize;
    let mut tasks = Vec::with_capacity(total);
    while sent < total {
        tick.tick().await;
        let due = ((start.elapsed().as_secs_f64() * rate) as usize).min(total);
        while sent < due {
            let scheduled = start + Duration::from_secs_f64(sent as f64 / rate);
            let url = urls[sent % urls.len()].clone();
            let (client, latencies, errors, slots) = (
                client.clone(),
                latencies.clone(),
                errors.clone(),
                slots.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let _slot = slots.acquire().await;
                let ok = match client
                    .get(&url)
                    .header("accept-encoding", "br")
                    .send()
                    .await
                {
                    Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if !ok {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                latencies.lock().await.push(scheduled.elapsed());
            }));
            sent += 1;
        }
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut l = latencies.lock().await.clone();
    l.sort();
    let pct = |p: f64| {
        let i = ((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1;
        l[i].as_secs_f64() * 1000.0
    };
    println!(
        "rate={rate:.0}/s sent={} achieved={:.0}/s p50={:.2}ms p99={:.2}ms max={:.2}ms errors={}",
        l.len(),
        l.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(1.0),
        errors.load(std::sync::atomic::Ordering::Relaxed)
    );
    Ok(())
}
