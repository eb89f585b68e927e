//! Open-loop load at a fixed rate (what wrk cannot do): sends `--rate`
//! requests a second for `--seconds`, cycling through the given URLs, and
//! reports latency percentiles measured from each request's *scheduled*
//! time, so a slow server cannot hide its queueing (no coordinated
//! omission). Used by `server/benches/load.sh`; targets 127.0.0.1 only.
//!
//! It is meant to cost little beside the server it measures (both share
//! this machine's two cores): one thread, `--connections` kept-alive HTTP/1.1
//! connections (64 unless told), requests written as prepared bytes and
//! responses read just far enough to know their status and where they end.
//! Each connection takes the next request due, waits for its time, sends it
//! and reads the answer; when every connection is busy, a due request waits
//! for one, and that wait counts in its latency. Requests go out on a
//! timer of about a millisecond, so up to a millisecond of a latency can be
//! the generator's own.
//!
//! `--header 'Name: value'` adds a header to every request (say, a session
//! cookie, to measure pages for a signed-in person); it may be repeated.
//!
//! `--post FILE` sends each request as a POST with FILE's bytes as a JSON
//! body (say, a gateway call, with `--header 'Authorization: Bearer …'`).
//!
//! URLs may name several servers (say, two nodes of one deployment): each
//! connection keeps to one of them, in turn, and takes that server's
//! requests; a due request goes to whichever connection is free first, as
//! a least-busy balancer would send it.
//!
//! `--windows MS` also prints each window of MS milliseconds (by scheduled
//! time) whose slowest request took over 10 ms, to tell a stall (a few
//! windows, all slow at once) from queueing spread over the run.
//!
//!   cargo run --release -p server --example loadgen -- --rate 2000 --seconds 10 URL...

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest a request may take before it counts as an error.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One server's address and the requests for it.
struct Server {
    address: String,
    requests: Vec<Vec<u8>>,
}

/// What every connection shares: the schedule and the requests.
struct Plan {
    servers: Vec<Server>,
    start: Instant,
    rate: f64,
    total: usize,
    next: AtomicUsize,
}

impl Plan {
    /// The next request due: its number and when it is due.
    fn claim(&self) -> Option<(usize, Instant)> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        (i < self.total).then(|| {
            (
                i,
                self.start + Duration::from_secs_f64(i as f64 / self.rate),
            )
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut rate = 1000.0f64;
    let mut seconds = 10.0f64;
    let mut window_ms = 0u64;
    let mut connections = 64usize;
    let mut headers = String::new();
    let mut body: Option<Vec<u8>> = None;
    let mut urls = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rate" => rate = args.next().unwrap_or_default().parse()?,
            "--seconds" => seconds = args.next().unwrap_or_default().parse()?,
            "--windows" => window_ms = args.next().unwrap_or_default().parse()?,
            "--connections" => connections = args.next().unwrap_or_default().parse()?,
            "--post" => body = Some(std::fs::read(args.next().unwrap_or_default())?),
            "--header" => {
                let h = args.next().unwrap_or_default();
                anyhow::ensure!(
                    h.contains(':') && !h.contains(['\r', '\n']),
                    "a header is one line, 'Name: value'"
                );
                headers.push_str(&h);
                headers.push_str("\r\n");
            }
            url => urls.push(url.to_string()),
        }
    }
    anyhow::ensure!(!urls.is_empty(), "give at least one URL");
    anyhow::ensure!(
        rate > 0.0 && seconds > 0.0 && connections > 0,
        "rate, seconds and connections must be positive"
    );
    let mut servers: Vec<Server> = Vec::new();
    for url in &urls {
        let (authority, path) = split_url(url)?;
        anyhow::ensure!(
            authority.starts_with("127.0.0.1:"),
            "only 127.0.0.1 is a target: {url}"
        );
        let mut request = match &body {
            None => format!(
                "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAccept-Encoding: br\r\n{headers}\r\n"
            )
            .into_bytes(),
            Some(b) => format!(
                "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n",
                b.len()
            )
            .into_bytes(),
        };
        request.extend_from_slice(body.as_deref().unwrap_or_default());
        match servers.iter_mut().find(|s| s.address == authority) {
            Some(s) => s.requests.push(request),
            None => servers.push(Server {
                address: authority.to_string(),
                requests: vec![request],
            }),
        }
    }
    let plan = Arc::new(Plan {
        servers,
        start: Instant::now(),
        rate,
        total: (rate * seconds) as usize,
        next: AtomicUsize::new(0),
    });
    let tasks: Vec<_> = (0..connections)
        .map(|k| tokio::spawn(connection(plan.clone(), k)))
        .collect();
    let (mut timed, mut errors) = (Vec::with_capacity(plan.total), 0usize);
    for t in tasks {
        let (done, failed) = t.await?;
        timed.extend(done);
        errors += failed;
    }
    let elapsed = plan.start.elapsed().as_secs_f64();
    if window_ms > 0 {
        print_slow_windows(&timed, window_ms);
    }
    let mut l: Vec<Duration> = timed.iter().map(|&(took, _)| took).collect();
    anyhow::ensure!(!l.is_empty(), "no request was sent");
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
        errors
    );
    Ok(())
}

/// `http://host:port/path?query` as (`host:port`, `/path?query`).
fn split_url(url: &str) -> anyhow::Result<(&str, &str)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("only http:// URLs: {url}"))?;
    Ok(match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    })
}

/// One connection's share of the run: (latency from the scheduled time,
/// scheduled time from the start) for each request it sent, and how many
/// failed (no answer, an answer other than 2xx, or over the timeout).
async fn connection(plan: Arc<Plan>, k: usize) -> (Vec<(Duration, Duration)>, usize) {
    let mut timed = Vec::new();
    let mut failed = 0;
    let mut open: Option<Connection> = None;
    let server = &plan.servers[k % plan.servers.len()];
    while let Some((i, due)) = plan.claim() {
        tokio::time::sleep_until(due.into()).await;
        let request = &server.requests[i % server.requests.len()];
        let answer =
            tokio::time::timeout(TIMEOUT, exchange(&mut open, &server.address, request)).await;
        if !matches!(answer, Ok(Ok(true))) {
            failed += 1;
        }
        if !matches!(answer, Ok(Ok(_))) {
            // A connection left mid-answer is not reused.
            open = None;
        }
        timed.push((due.elapsed(), due - plan.start));
    }
    (timed, failed)
}

struct Connection {
    stream: TcpStream,
    /// What has been read and not yet used.
    read: Vec<u8>,
    /// The server said it closes the connection after this answer.
    closing: bool,
}

impl Connection {
    /// Reads more of the answer.
    async fn fill(&mut self) -> anyhow::Result<()> {
        self.read.reserve(16 * 1024);
        let n = self.stream.read_buf(&mut self.read).await?;
        anyhow::ensure!(n > 0, "the server closed the connection mid-answer");
        Ok(())
    }

    /// Reads until `read` holds `pattern`; where it starts.
    async fn until(&mut self, pattern: &[u8]) -> anyhow::Result<usize> {
        let mut from = 0;
        loop {
            if let Some(i) = self.read[from..]
                .windows(pattern.len())
                .position(|w| w == pattern)
            {
                return Ok(from + i);
            }
            from = self.read.len().saturating_sub(pattern.len() - 1);
            self.fill().await?;
        }
    }

    /// Reads and drops the next `n` bytes.
    async fn skip(&mut self, n: usize) -> anyhow::Result<()> {
        while self.read.len() < n {
            self.fill().await?;
        }
        self.read.drain(..n);
        Ok(())
    }
}

/// Sends `request` on the open connection (opening one if there is none)
/// and reads its answer whole; whether it was a 2xx.
async fn exchange(
    open: &mut Option<Connection>,
    address: &str,
    request: &[u8],
) -> anyhow::Result<bool> {
    if open.as_ref().is_none_or(|c| c.closing) {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        *open = Some(Connection {
            stream,
            read: Vec::with_capacity(64 * 1024),
            closing: false,
        });
    }
    let Some(c) = open.as_mut() else {
        unreachable!("opened above")
    };
    c.stream.write_all(request).await?;
    let head_end = c.until(b"\r\n\r\n").await? + 4;
    let head = std::str::from_utf8(&c.read[..head_end])?.to_ascii_lowercase();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("not an HTTP answer"))?;
    let (mut length, mut chunked) = (0usize, false);
    for line in lines {
        match line.split_once(':') {
            Some(("content-length", v)) => length = v.trim().parse()?,
            Some(("transfer-encoding", v)) => chunked = v.contains("chunked"),
            Some(("connection", v)) => c.closing = v.contains("close"),
            _ => {}
        }
    }
    c.read.drain(..head_end);
    if chunked {
        loop {
            let line_end = c.until(b"\r\n").await?;
            let size = std::str::from_utf8(&c.read[..line_end])?;
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)?;
            c.read.drain(..line_end + 2);
            // The chunk and its CRLF; after the last (empty) chunk, the
            // CRLF that ends the (absent) trailers.
            c.skip(size + 2).await?;
            if size == 0 {
                break;
            }
        }
    } else {
        c.skip(length).await?;
    }
    Ok((200..300).contains(&status))
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
