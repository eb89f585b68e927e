//! Accepting connections with limits: a connection must send a request's
//! headers within the header timeout, and one waiting for its next request
//! is closed after the same time (hyper's header-read timer runs while a
//! connection waits for a request head); at most `max_connections` are
//! served at once, and one more is closed as soon as it is accepted, so a
//! crowd of idle or trickling sockets cannot starve everyone else.
//! (Bodies have their own deadline: see `edge`.)

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};
use tower::ServiceExt as _;

#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
    /// Whose `X-Forwarded-For` names the client (see `proxy`).
    pub trusted_proxies: Arc<crate::proxy::TrustedProxies>,
}

/// Serves `router` on `listener` until `stop` resolves, then lets open
/// connections finish their requests (closing them when idle) and returns
/// once all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (closing_tx, closing_rx) = watch::channel(false);
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
    let mut stop = pin!(stop);
    let mut last_refusal_logged: Option<Instant> = None;
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and the like: wait, don't spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            drop(stream);
            if last_refusal_logged.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                last_refusal_logged = Some(Instant::now());
                tracing::warn!(
                    max = limits.max_connections,
                    "connection limit reached: new connections are closed at once"
                );
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut closing = closing_rx.clone();
        let open = open_tx.clone();
        let proxies = limits.trusted_proxies.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                // The client's address: the peer, or whom a trusted proxy
                // forwards; what every limit and record after this uses.
                let forwarded: Vec<&str> = req
                    .headers()
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                let client = proxies.client(addr, &forwarded);
                req.extensions_mut().insert(ConnectInfo(client));
                router.clone().oneshot(req.map(Body::new))
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let mut conn = pin!(builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades());
            let mut asked = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(err) = result {
                            tracing::debug!(error = %err, "connection ended with an error");
                        }
                        break;
                    }
                    changed = closing.changed(), if !asked => {
                        asked = true;
                        if changed.is_ok() {
                            conn.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
            drop(permit);
            drop(open);
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    drop(open_tx);
    // Every connection task holds a sender; all dropped means all closed.
    let _ = open_rx.recv().await;
}
