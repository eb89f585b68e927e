//! This node's counters and histograms, written out in the Prometheus text
//! format at `/metrics` (`server::http`). One registry per process, so any
//! part of the code counts without the state being threaded through; the
//! figures are this node's since it started (Prometheus adds nodes up).
//!
//! Labels only ever come from fixed sets: route patterns as the router
//! declares them (`/listings/{slug}`, never a path as requested), HTTP
//! methods out of a short list, status codes, and the gateway's outcome
//! names. Nothing a caller sends (a path, an id, a key) becomes a label, so
//! neither the output nor its size depends on what callers send.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BOUNDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram: counts per bucket (not cumulative; summed when
/// written), the sum in microseconds, and the count.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BOUNDS.len()],
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        if let Some(i) = BOUNDS.iter().position(|&b| secs <= b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_us.fetch_add(
            took.as_micros().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// `name_bucket`, `name_sum` and `name_count` lines; `labels` are
    /// written before `le` (already formatted: `a="b",` or empty).
    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let mut seen = 0u64;
        for (bound, bucket) in BOUNDS.iter().zip(&self.buckets) {
            seen += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}le=\"{bound}\"}} {seen}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {count}");
        let bare = labels.trim_end_matches(',');
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{{bare}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{bare}}} {count}");
    }
}

/// What one route pattern answered.
#[derive(Default)]
struct RouteStats {
    /// (method, status) → responses.
    responses: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Histogram,
}

/// How a request to a page that may be kept was answered.
#[derive(Debug, Clone, Copy)]
pub enum PageCacheOutcome {
    /// A copy of a kept page.
    Hit,
    /// Rendered (and kept, if it could be).
    Rendered,
    /// Waited for another request's rendering of the same page.
    Waited,
}

/// Every figure this node keeps.
#[derive(Default)]
pub struct Metrics {
    routes: RwLock<HashMap<String, Arc<RouteStats>>>,
    page_cache: [AtomicU64; 3],
    usage_records: [AtomicU64; 3],
    gateway: Mutex<BTreeMap<&'static str, Arc<GatewayStats>>>,
    sqlite_writer_wait: Histogram,
    /// How long the node's once-a-second probe waited for a connection.
    pool_acquire: Histogram,
    /// Messages handed to the SMTP server, and tries that failed.
    mail: [AtomicU64; 2],
    /// Limit name → checks counted on this node because Redis failed.
    limits_counted_locally: Mutex<BTreeMap<&'static str, u64>>,
}

#[derive(Default)]
struct GatewayStats {
    upstream: Histogram,
    overhead: Histogram,
}

/// Figures read when `/metrics` is asked for, not counted as they happen.
pub struct Sampled {
    pub backend: &'static str,
    pub pool_size: u32,
    pub pool_idle: usize,
    pub pool_max: u32,
    /// Messages waiting in the outbox; None when it could not be read.
    pub outbox: Option<i64>,
    /// With Redis configured for the rate limits: whether it answered the
    /// last check.
    pub redis_up: Option<bool>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

/// The process's registry.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

/// A method as a label: one of the usual ones, or `other`.
fn method_label(method: &http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// A label value as the text format wants it (route patterns only hold
/// what the router declares, but they are escaped all the same).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The `# HELP` and `# TYPE` lines that open a family of samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

impl Metrics {
    /// One response: its route pattern (as the router declares it), method,
    /// status, and the time until its head was ready.
    pub fn request(&self, route: &str, method: &http::Method, status: u16, took: Duration) {
        let known = self.routes.read().ok().and_then(|m| m.get(route).cloned());
        let stats = match known {
            Some(s) => s,
            None => match self.routes.write() {
                Ok(mut m) => m.entry(route.to_string()).or_default().clone(),
                Err(_) => return,
            },
        };
        if let Ok(mut r) = stats.responses.lock() {
            *r.entry((method_label(method), status)).or_default() += 1;
        }
        stats.latency.observe(took);
    }

    pub fn page_cache(&self, outcome: PageCacheOutcome) {
        self.page_cache[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A batch of usage records judged and stored.
    pub fn usage_records(&self, accepted: usize, duplicates: usize, rejected: usize) {
        for (slot, n) in self
            .usage_records
            .iter()
            .zip([accepted, duplicates, rejected])
        {
            slot.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// One call through the gateway, as its record has it: its outcome,
    /// the upstream's time and the gateway's own.
    pub fn gateway_call(&self, outcome: &'static str, upstream_ms: i64, overhead_us: i64) {
        let stats = match self.gateway.lock() {
            Ok(mut m) => m.entry(outcome).or_default().clone(),
            Err(_) => return,
        };
        stats
            .upstream
            .observe(Duration::from_millis(upstream_ms.max(0) as u64));
        stats
            .overhead
            .observe(Duration::from_micros(overhead_us.max(0) as u64));
    }

    /// One try at sending a message from the outbox.
    pub fn mail(&self, sent: bool) {
        self.mail[usize::from(!sent)].fetch_add(1, Ordering::Relaxed);
    }

    /// A rate-limit check counted on this node alone because Redis, where
    /// the limits are shared, failed.
    pub fn rate_limit_counted_locally(&self, limit: &'static str) {
        if let Ok(mut m) = self.limits_counted_locally.lock() {
            *m.entry(limit).or_default() += 1;
        }
    }

    /// How long the node's database watch waited for a pooled connection
    /// (sampled once a second: what a request asking at that moment would
    /// have waited; sqlx has no hook to time every request's wait).
    pub fn pool_acquire(&self, took: Duration) {
        self.pool_acquire.observe(took);
    }

    /// How long a SQLite writer waited for this process's writer turn.
    pub fn sqlite_writer_wait(&self, took: Duration) {
        self.sqlite_writer_wait.observe(took);
    }

    /// Everything, in the Prometheus text format (version 0.0.4).
    pub fn render(&self, sampled: &Sampled) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let routes: Vec<(String, Arc<RouteStats>)> = self
            .routes
            .read()
            .map(|m| {
                let mut v: Vec<_> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                v.sort_by(|a, b| a.0.cmp(&b.0));
                v
            })
            .unwrap_or_default();
        family(
            &mut out,
            "fairground_http_requests_total",
            "counter",
            "Responses by route pattern, method and status.",
        );
        for (route, stats) in &routes {
            let route = escape(route);
            if let Ok(r) = stats.responses.lock() {
                for ((method, status), n) in r.iter() {
                    let _ = writeln!(
                        out,
                        "fairground_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        family(
            &mut out,
            "fairground_http_request_duration_seconds",
            "histogram",
            "Time until a response's head was ready, by route pattern.",
        );
        for (route, stats) in &routes {
            let labels = format!("route=\"{}\",", escape(route));
            stats.latency.write(
                &mut out,
                "fairground_http_request_duration_seconds",
                &labels,
            );
        }

        family(
            &mut out,
            "fairground_page_cache_requests_total",
            "counter",
            "Requests for catalogue pages that may be kept, by how they were answered.",
        );
        for (name, slot) in ["hit", "rendered", "waited"].iter().zip(&self.page_cache) {
            let _ = writeln!(
                out,
                "fairground_page_cache_requests_total{{outcome=\"{name}\"}} {}",
                slot.load(Ordering::Relaxed)
            );
        }

        family(
            &mut out,
            "fairground_usage_records_total",
            "counter",
            "Usage records sent to the metering API, by outcome.",
        );
        for (name, slot) in ["accepted", "duplicate", "rejected"]
            .iter()
            .zip(&self.usage_records)
        {
            let _ = writeln!(
                out,
                "fairground_usage_records_total{{outcome=\"{name}\"}} {}",
                slot.load(Ordering::Relaxed)
            );
        }

        let gateway: Vec<(&'static str, Arc<GatewayStats>)> = self
            .gateway
            .lock()
            .map(|m| m.iter().map(|(k, v)| (*k, v.clone())).collect())
            .unwrap_or_default();
        family(
            &mut out,
            "fairground_gateway_calls_total",
            "counter",
            "Calls through the model gateway that were recorded, by outcome.",
        );
        for (outcome, stats) in &gateway {
            let _ = writeln!(
                out,
                "fairground_gateway_calls_total{{outcome=\"{outcome}\"}} {}",
                stats.upstream.count.load(Ordering::Relaxed)
            );
        }
        family(
            &mut out,
            "fairground_gateway_upstream_seconds",
            "histogram",
            "The upstream's time per gateway call, by outcome.",
        );
        for (outcome, stats) in &gateway {
            let labels = format!("outcome=\"{outcome}\",");
            stats
                .upstream
                .write(&mut out, "fairground_gateway_upstream_seconds", &labels);
        }
        family(
            &mut out,
            "fairground_gateway_overhead_seconds",
            "histogram",
            "The gateway's own time per call (the call's time less the upstream's), by outcome.",
        );
        for (outcome, stats) in &gateway {
            let labels = format!("outcome=\"{outcome}\",");
            stats
                .overhead
                .write(&mut out, "fairground_gateway_overhead_seconds", &labels);
        }

        family(
            &mut out,
            "fairground_db_pool_connections",
            "gauge",
            "Database connections of this node's pool, by state.",
        );
        let in_use = (sampled.pool_size as usize).saturating_sub(sampled.pool_idle);
        let _ = writeln!(
            out,
            "fairground_db_pool_connections{{state=\"idle\"}} {}",
            sampled.pool_idle
        );
        let _ = writeln!(
            out,
            "fairground_db_pool_connections{{state=\"in_use\"}} {in_use}"
        );
        family(
            &mut out,
            "fairground_db_pool_max_connections",
            "gauge",
            "The most connections the pool opens.",
        );
        let _ = writeln!(
            out,
            "fairground_db_pool_max_connections {}",
            sampled.pool_max
        );
        family(
            &mut out,
            "fairground_db_pool_acquire_probe_seconds",
            "histogram",
            "How long the node's once-a-second database probe waited for a pooled connection (what a request asking then would have waited).",
        );
        self.pool_acquire
            .write(&mut out, "fairground_db_pool_acquire_probe_seconds", "");
        if sampled.backend == "sqlite" {
            family(&mut out, "fairground_db_sqlite_writer_wait_seconds", "histogram", "How long a write waited for this node's SQLite writer turn (one writer at a time).");
            self.sqlite_writer_wait
                .write(&mut out, "fairground_db_sqlite_writer_wait_seconds", "");
        }

        family(
            &mut out,
            "fairground_outbox_messages",
            "gauge",
            "Messages in the outbox not sent yet.",
        );
        match sampled.outbox {
            Some(n) => {
                let _ = writeln!(out, "fairground_outbox_messages {n}");
            }
            None => out.push_str("fairground_outbox_messages NaN\n"),
        }
        family(
            &mut out,
            "fairground_mail_total",
            "counter",
            "Tries at sending outbox messages by SMTP, by outcome.",
        );
        for (name, slot) in ["sent", "failed"].iter().zip(&self.mail) {
            let _ = writeln!(
                out,
                "fairground_mail_total{{outcome=\"{name}\"}} {}",
                slot.load(Ordering::Relaxed)
            );
        }

        if let Some(up) = sampled.redis_up {
            family(
                &mut out,
                "fairground_rate_limits_shared",
                "gauge",
                "1 while the rate limits are counted in Redis for every node; 0 while Redis fails and each node counts on its own.",
            );
            let _ = writeln!(out, "fairground_rate_limits_shared {}", u8::from(up));
            family(
                &mut out,
                "fairground_rate_limit_local_checks_total",
                "counter",
                "Rate-limit checks counted on this node alone because Redis failed, by limit.",
            );
            if let Ok(m) = self.limits_counted_locally.lock() {
                for (limit, n) in m.iter() {
                    let _ = writeln!(
                        out,
                        "fairground_rate_limit_local_checks_total{{limit=\"{limit}\"}} {n}"
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampled() -> Sampled {
        Sampled {
            backend: "sqlite",
            pool_size: 3,
            pool_idle: 1,
            pool_max: 10,
            redis_up: None,
            outbox: Some(4),
        }
    }

    #[test]
    fn the_text_format_counts_by_route_pattern_with_cumulative_buckets() {
        let m = Metrics::default();
        let get = http::Method::GET;
        m.request("/listings/{slug}", &get, 200, Duration::from_micros(700));
        m.request("/listings/{slug}", &get, 200, Duration::from_millis(30));
        m.request("/listings/{slug}", &get, 404, Duration::from_secs(20));
        m.request(
            "/x\"y",
            &http::Method::from_bytes(b"BREW").unwrap(),
            418,
            Duration::ZERO,
        );
        m.usage_records(5, 2, 1);
        m.gateway_call("ok", 12, 250);
        m.page_cache(PageCacheOutcome::Hit);
        m.page_cache(PageCacheOutcome::Hit);
        let text = m.render(&sampled());
        let line = |l: &str| text.lines().any(|x| x == l);
        assert!(line("fairground_http_requests_total{route=\"/listings/{slug}\",method=\"GET\",status=\"200\"} 2"), "{text}");
        assert!(line("fairground_http_requests_total{route=\"/listings/{slug}\",method=\"GET\",status=\"404\"} 1"), "{text}");
        assert!(line("fairground_http_requests_total{route=\"/x\\\"y\",method=\"other\",status=\"418\"} 1"), "{text}");
        // Buckets add up: 0.7 ms is under 1 ms, 30 ms under 50 ms, 20 s only under +Inf.
        let b = "fairground_http_request_duration_seconds_bucket{route=\"/listings/{slug}\",";
        assert!(line(&format!("{b}le=\"0.0005\"}} 0")), "{text}");
        assert!(line(&format!("{b}le=\"0.001\"}} 1")), "{text}");
        assert!(line(&format!("{b}le=\"0.05\"}} 2")), "{text}");
        assert!(line(&format!("{b}le=\"10\"}} 2")), "{text}");
        assert!(line(&format!("{b}le=\"+Inf\"}} 3")), "{text}");
        assert!(
            line("fairground_http_request_duration_seconds_count{route=\"/listings/{slug}\"} 3"),
            "{text}"
        );
        assert!(
            line(
                "fairground_http_request_duration_seconds_sum{route=\"/listings/{slug}\"} 20.0307"
            ),
            "{text}"
        );
        assert!(
            line("fairground_usage_records_total{outcome=\"duplicate\"} 2"),
            "{text}"
        );
        assert!(
            line("fairground_gateway_calls_total{outcome=\"ok\"} 1"),
            "{text}"
        );
        assert!(
            line("fairground_gateway_overhead_seconds_bucket{outcome=\"ok\",le=\"0.0005\"} 1"),
            "{text}"
        );
        assert!(
            line("fairground_page_cache_requests_total{outcome=\"hit\"} 2"),
            "{text}"
        );
        assert!(
            line("fairground_db_pool_connections{state=\"in_use\"} 2"),
            "{text}"
        );
        assert!(line("fairground_outbox_messages 4"), "{text}");
        // Every sample line belongs to a declared family.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap_or_default();
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(text.contains(&format!("# TYPE {family} ")), "{l}");
        }
    }
}
