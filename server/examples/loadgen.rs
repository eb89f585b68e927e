//! Open-loop load at a fixed rate (what wrk cannot do): sends `--rate`
//! requests a second for `--seconds`, cycling through the given URLs, and
//! reports latency percentiles measured from each request's *scheduled*
//! time, so a slow server cannot hide its queueing (no coordinated
//! omission). Used by `server/benches/load.sh`; targets 127.0.0.1 only.
//!
//! `--windows MS` also prints each window of MS milliseconds (by scheduled
//! time) whose slowest request took over 10 ms, to tell a stall (a few
//! windows, all slow at once) from queueing spread over the run.
//!
//!   cargo run --release -p server --example loadgen -- --rate 2000 --seconds 10 URL...

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut rate = 1000.0f64;
    let mut seconds = 10.0f64;
    let mut window_ms = 0u64;
    let mut urls = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rate" => rate = args.next().unwrap_or_default().parse()?,
            "--seconds" => seconds = args.next().unwrap_or_default().parse()?,
            "--windows" => window_ms = args.next().unwrap_or_default().parse()?,
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
                latencies
                    .lock()
                    .await
                    .push((scheduled.elapsed(), scheduled - start));
            }));
            sent += 1;
        }
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let timed = latencies.lock().await.clone();
    if window_ms > 0 {
        print_slow_windows(&timed, window_ms);
    }
    let mut l: Vec<Duration> = timed.iter().map(|&(took, _)| took).collect();
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

/// Per window of scheduled time: requests, p99 and the slowest, for the
/// windows whose slowest request took over 10 ms.
fn print_slow_windows(timed: &[(Duration, Duration)], window_ms: u64) {
    let mut windows: std::collections::BTreeMap<u64, Vec<Duration>> = Default::default();
    for &(took, at) in timed {
        windows
            .entry(at.as_millis() as u64 / window_ms)
            .or_default()
            .push(took);
    }
    for (w, mut l) in windows {
        l.sort();
        let max = l[l.len() - 1];
        if max > Duration::from_millis(10) {
            let p99 = l[((l.len() as f64 * 0.99).ceil() as usize).clamp(1, l.len()) - 1];
            println!(
                "window {:>6} ms: {:>5} requests, p99 {:.1} ms, max {:.1} ms",
                w * window_ms,
                l.len(),
                p99.as_secs_f64() * 1000.0,
                max.as_secs_f64() * 1000.0
            );
        }
    }
}
