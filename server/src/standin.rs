//! A stand-in for a partner's model server: a small OpenAI-compatible HTTP
//! server that answers deterministically, so the demo and the tests have
//! an upstream to call without a real model.
//!
//! Each upstream it plays is a path prefix, `/u/{name}`, registered with
//! the signing secret of the deployment it serves and a behaviour; a base
//! URL for a deployment is `http://ADDR/u/{name}`. Every request must carry
//! a valid Fairground signature (see `app::gateway::signing`) with a
//! request id it has not seen: a forged, altered, stale or replayed request
//! is refused with 401 and counted.
//!
//! The answer to a chat completion repeats the last user message after
//! "Echo: "; tokens are counted as words. Nothing is stored.

use app::gateway::signing::{
    verify, Forged, REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How an upstream behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Answers at once (streamed when asked, in one go).
    Fixed,
    /// Streams one word every `SLOW_STEP`.
    SlowStream,
    /// Answers 500.
    ServerError,
    /// Never answers.
    Hang,
    /// Streams two words, then drops the connection.
    DropMidStream,
    /// Streams without the final usage chunk, even when asked for it.
    NoUsage,
}

/// The pause between words of a slow stream.
pub const SLOW_STEP: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
struct Upstream {
    secret: String,
    behaviour: Behaviour,
}

#[derive(Default)]
struct Inner {
    upstreams: HashMap<String, Upstream>,
    seen: HashSet<String>,
    served: u64,
    refused: Vec<Forged>,
    replays: u64,
}

/// A running stand-in: register upstreams on it, read what it saw.
#[derive(Clone, Default)]
pub struct StandIn {
    inner: Arc<Mutex<Inner>>,
}

impl StandIn {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Plays upstream `name` with `secret` (the deployment's signing secret).
    pub fn register(&self, name: &str, secret: &str, behaviour: Behaviour) {
        self.lock().upstreams.insert(
            name.to_string(),
            Upstream {
                secret: secret.to_string(),
                behaviour,
            },
        );
    }

    /// Requests answered (signature good), and requests refused with why
    /// (`None` for a replayed request id).
    pub fn tally(&self) -> (u64, Vec<Option<Forged>>) {
        let i = self.lock();
        let mut refused: Vec<Option<Forged>> = i.refused.iter().copied().map(Some).collect();
        refused.extend((0..i.replays).map(|_| None));
        (i.served, refused)
    }

    /// The request ids of every request it admitted (signed, not replayed).
    pub fn admitted(&self) -> HashSet<String> {
        self.lock().seen.clone()
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/u/{name}/chat/completions", post(chat))
            .route("/u/{name}/models", get(models))
            .with_state(self.clone())
    }

    /// Serves on `addr` (port 0 for any free port) until the process ends;
    /// returns the address it listens on.
    pub async fn spawn(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        use axum::serve::ListenerExt as _;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        // Each event leaves at once (no Nagle delay on small writes).
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let app = self.router();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "the stand-in upstream stopped");
            }
        });
        Ok(local)
    }

    /// Checks the request's signature and id; the upstream it is for.
    fn admit(
        &self,
        name: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Upstream, (StatusCode, &'static str)> {
        let refuse = |status: StatusCode, why: &'static str| (status, why);
        let header = |h: &str| {
            headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let mut i = self.lock();
        let Some(up) = i.upstreams.get(name).cloned() else {
            return Err(refuse(StatusCode::NOT_FOUND, "no such upstream"));
        };
        let id = header(REQUEST_ID_HEADER);
        let now = app::db::Clock::system().now_ms() / 1000;
        if let Err(why) = verify(
            &up.secret,
            &header(TIMESTAMP_HEADER),
            &id,
            &header(SIGNATURE_HEADER),
            body,
            now,
        ) {
            i.refused.push(why);
            return Err(refuse(StatusCode::UNAUTHORIZED, "not signed by Fairground"));
        }
        if !i.seen.insert(id) {
            i.replays += 1;
            return Err(refuse(StatusCode::UNAUTHORIZED, "request id seen before"));
        }
        i.served += 1;
        Ok(up)
    }
}

/// An OpenAI-shaped refusal.
fn refusal((status, why): (StatusCode, &'static str)) -> Response {
    (
        status,
        Json(json!({"error": {"message": why, "type": "invalid_request_error"}})),
    )
        .into_response()
}

fn words(s: &str) -> i64 {
    s.split_whitespace().count() as i64
}

/// The last user message of a chat completion request, and the words of
/// every message (the prompt tokens).
fn prompt_of(req: &Value) -> (String, i64) {
    let messages = req["messages"].as_array().cloned().unwrap_or_default();
    let tokens = messages
        .iter()
        .map(|m| words(m["content"].as_str().unwrap_or("")))
        .sum();
    let last = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    (last, tokens)
}

async fn models(
    State(s): State<StandIn>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    match s.admit(&name, &headers, b"") {
        Ok(_) => Json(json!({"object": "list", "data": [{"id": name, "object": "model", "owned_by": "stand-in"}]}))
            .into_response(),
        Err(r) => refusal(r),
    }
}

async fn chat(
    State(s): State<StandIn>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let up = match s.admit(&name, &headers, &body) {
        Ok(up) => up,
        Err(r) => return refusal(r),
    };
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "the body is not JSON", "type": "invalid_request_error"}})),
        )
            .into_response();
    };
    let model = req["model"].as_str().unwrap_or("").to_string();
    let (prompt, prompt_tokens) = prompt_of(&req);
    let answer = format!("Echo: {prompt}");
    let completion_tokens = words(&answer);
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    });
    match up.behaviour {
        Behaviour::ServerError => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": {"message": "the stand-in failed on purpose", "type": "server_error"}})),
            )
                .into_response()
        }
        Behaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        _ => {}
    }
    if req["stream"] != json!(true) {
        return Json(json!({
            "id": "chatcmpl-standin",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": answer},
                "finish_reason": "stop",
            }],
            "usage": usage,
        }))
        .into_response();
    }
    let with_usage =
        req["stream_options"]["include_usage"] == json!(true) && up.behaviour != Behaviour::NoUsage;
    let chunk = |delta: Value, finish: Value| {
        let c = json!({
            "id": "chatcmpl-standin",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        Bytes::from(format!("data: {c}\n\n"))
    };
    let mut events: Vec<Bytes> = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    let pieces: Vec<String> = answer.split_inclusive(' ').map(str::to_string).collect();
    events.extend(
        pieces
            .iter()
            .map(|p| chunk(json!({"content": p}), Value::Null)),
    );
    events.push(chunk(json!({}), json!("stop")));
    if with_usage {
        let c = json!({
            "id": "chatcmpl-standin",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [],
            "usage": usage,
        });
        events.push(Bytes::from(format!("data: {c}\n\n")));
    }
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    let behaviour = up.behaviour;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        for (n, e) in events.into_iter().enumerate() {
            if behaviour == Behaviour::DropMidStream && n == 3 {
                let _ = tx
                    .send(Err(std::io::Error::other("dropped on purpose")))
                    .await;
                return;
            }
            if behaviour == Behaviour::SlowStream && n > 0 {
                tokio::time::sleep(SLOW_STEP).await;
            }
            if tx.send(Ok(e)).await.is_err() {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// For the demo: starts a stand-in on a free loopback port and points every
/// deployment at it, `/u/d{id}`, answering as `Fixed`; a deployment keeps
/// its signing secret, or gets one. Returns how many it connected.
pub async fn connect_demo(db: &app::db::Db, now: i64) -> anyhow::Result<usize> {
    use sqlx::Row;
    let standin = StandIn::default();
    let addr = standin.spawn("127.0.0.1:0".parse()?).await?;
    let rows = sqlx::query(
        "SELECT d.id, u.signing_secret FROM deployments d \
         LEFT JOIN deployment_upstreams u ON u.deployment_id = d.id",
    )
    .fetch_all(db.pool())
    .await?;
    let mut tx = db.begin_write().await?;
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let secret: String = r
            .try_get::<Option<String>, _>("signing_secret")?
            .unwrap_or_else(app::listings::service::new_secret);
        sqlx::query(
            "INSERT INTO deployment_upstreams (deployment_id, base_url, upstream_model, signing_secret, updated_at) \
             VALUES ($1, $2, 'stand-in', $3, $4) \
             ON CONFLICT (deployment_id) DO UPDATE SET base_url = excluded.base_url, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(format!("http://{addr}/u/d{id}"))
        .bind(&secret)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        standin.register(&format!("d{id}"), &secret, Behaviour::Fixed);
    }
    tx.commit().await?;
    tracing::info!(%addr, deployments = rows.len(), "demo: the stand-in model server answers every deployment");
    Ok(rows.len())
}
