//! `/gateway/v1`: the OpenAI-compatible API clients call with a gateway key.
//!
//! A call names a model (a listing's slug, or `slug@base-model` for one of
//! its deployments); the client's organisation must hold an active
//! subscription to it. The call goes to the subscription's deployment (or
//! the pinned one); when that one is paused or fails before answering and
//! the client allowed fallback, to the listing's other active deployments
//! in the publisher's order. Every forwarded call gets one record,
//! committed before the client sees the end of the answer.

use super::db::{self, CallRecord, Candidate, Subscribed};
use super::errors::GatewayError;
use super::signing::{sign, REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use super::sse::{rename_model, usage_of, Relay};
use super::upstream::refused_host;
use super::{MAX_ANSWER, MAX_REQUEST};
use crate::calendar::civil_from_days;
use crate::metering::ingest::{hash_key, same};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Names the deployment that served a call: `slug@base-model`.
pub const DEPLOYMENT_HEADER: &str = "fairground-deployment";
/// Names the deployment a call fell back from, when it did.
pub const FALLBACK_HEADER: &str = "fairground-fallback-from";
/// Characters of a key that identify it (`fgc_` and eight more).
const PREFIX_LEN: usize = 12;
/// The longest model name taken.
const MAX_MODEL: usize = 200;

/// The key's id and its (client) organisation.
/// The bearer key of a request, when it has a gateway key's form.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| k.len() > PREFIX_LEN && k.starts_with("fgc_") && k.is_ascii())
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<(i64, i64), GatewayError> {
    let key = bearer(headers).ok_or(GatewayError::BadKey)?;
    let found = crate::metering::db::live_key(
        &state.db,
        &key[..PREFIX_LEN],
        crate::metering::KeyPurpose::Gateway,
    )
    .await
    .map_err(internal)?;
    match found {
        Some((id, org, hash)) if same(&hash, &hash_key(key)) => Ok((id, org)),
        _ => Err(GatewayError::BadKey),
    }
}

fn internal(e: sqlx::Error) -> GatewayError {
    if crate::db::out_of_reach(&e) {
        tracing::warn!(error = %e, "the database is out of reach: gateway call refused");
        return GatewayError::NoDatabase;
    }
    tracing::error!(error = %e, "gateway database read failed");
    GatewayError::NotMetered
}

/// `GET /gateway/v1/models`: the models the key's organisation may call.
#[utoipa::path(
    get,
    path = "/gateway/v1/models",
    tag = "gateway",
    security(("gateway_key" = [])),
    responses(
        (status = 200, description = "The models of the organisation's active subscriptions: each listing's slug, and `slug@base-model` for each of its deployments", body = Value),
        (status = 401, description = "No live gateway key", body = super::errors::ErrorBody),
        (status = 429, description = "The key made more calls this second than allowed", body = super::errors::ErrorBody),
        (status = 503, description = "The database is out of reach", body = super::errors::ErrorBody),
    )
)]
pub async fn models(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match list_models(&state, &headers).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn list_models(state: &AppState, headers: &HeaderMap) -> Result<Value, GatewayError> {
    let (key, org) = authenticate(state, headers).await?;
    state
        .gateway
        .check_rate(key)
        .await
        .map_err(|wait_ms| GatewayError::RateLimited {
            wait_ms,
            per_second: state.gateway.settings.requests_per_key,
        })?;
    let rows = db::subscribed_models(&state.db, org)
        .await
        .map_err(internal)?;
    let mut data = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in rows {
        let entry = |id: String| {
            json!({
                "id": id, "object": "model", "created": m.started_at / 1000, "owned_by": m.publisher,
                "platform_owned": m.platform_owned, "platform_affiliated": m.affiliated,
            })
        };
        let (slug, base) = (&m.slug, &m.base);
        if seen.insert(slug.clone()) {
            data.push(entry(slug.clone()));
        }
        let pinned = format!("{slug}@{base}");
        if seen.insert(pinned.clone()) {
            data.push(entry(pinned));
        }
    }
    Ok(json!({"object": "list", "data": data}))
}

/// A chat completion request as OpenAI's API takes it (described for the
/// OpenAPI document; the gateway passes every other field on untouched).
#[derive(Debug, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct ChatRequest {
    /// A listing's slug, or `slug@base-model`.
    #[schema(example = "triage-notes", max_length = 200)]
    pub model: String,
    pub messages: Vec<ChatMessage>,
    /// Answer with server-sent events.
    pub stream: Option<bool>,
}

#[derive(Debug, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct ChatMessage {
    #[schema(example = "user")]
    pub role: String,
    #[schema(example = "Is this urgent?")]
    pub content: String,
}

/// What the client asked for, as far as the gateway reads it.
struct Asked {
    body: Value,
    model: String,
    stream: bool,
    wants_usage: bool,
}

fn read_request(bytes: &[u8]) -> Result<Asked, GatewayError> {
    let body: Value = serde_json::from_slice(bytes)
        .map_err(|e| GatewayError::BadRequest(format!("The body is not valid JSON: {e}.")))?;
    let obj = body
        .as_object()
        .ok_or_else(|| GatewayError::BadRequest("The body must be a JSON object.".into()))?;
    let model = obj
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty() && m.len() <= MAX_MODEL)
        .ok_or_else(|| {
            GatewayError::BadRequest(
                "`model` must be a model name (a listing's slug, or slug@base-model), \
                 at most 200 characters."
                    .into(),
            )
        })?
        .trim()
        .to_string();
    if !obj.get("messages").is_some_and(Value::is_array) {
        return Err(GatewayError::BadRequest(
            "`messages` must be an array of messages.".into(),
        ));
    }
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(GatewayError::BadRequest(
                "`stream` must be true or false.".into(),
            ))
        }
    };
    let wants_usage = stream
        && obj
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            == Some(true);
    Ok(Asked {
        body,
        model,
        stream,
        wants_usage,
    })
}

/// The subscription a model name names and the deployments to try, in order.
/// `slug` and the pinned base model, if any, of a model name.
fn split_model(model: &str) -> (&str, Option<&str>) {
    match model.split_once('@') {
        Some((s, b)) => (s, Some(b)),
        None => (model, None),
    }
}

fn unknown(model: &str) -> GatewayError {
    GatewayError::UnknownModel(format!(
        "There is no model {model:?}. GET /gateway/v1/models lists the models this key may call."
    ))
}

/// The subscription a model name names and the deployments to try, in
/// order, from what the database holds for it.
fn choose(
    model: &str,
    named: Option<db::Named>,
    all: Vec<Candidate>,
) -> Result<(Subscribed, Vec<Candidate>, String), GatewayError> {
    let (slug, pin) = split_model(model);
    let named = named.ok_or_else(|| unknown(model))?;
    let sub = match named.subscription {
        Some(s) => s,
        None if named.published => {
            return Err(GatewayError::NotSubscribed(format!(
                "Your organisation has no active subscription to {slug:?}; subscribe on its page first."
            )))
        }
        None => return Err(unknown(model)),
    };
    let first = match pin {
        Some(base) => all
            .iter()
            .filter(|c| c.base == base)
            .min_by_key(|c| c.id != sub.deployment_id)
            .ok_or_else(|| {
                GatewayError::UnknownModel(format!(
                    "{slug:?} has no deployment on base model {base:?}. \
                     GET /gateway/v1/models lists the ones it has."
                ))
            })?,
        None => all
            .iter()
            .find(|c| c.id == sub.deployment_id)
            .ok_or_else(|| {
                GatewayError::Unavailable("The subscription's deployment is gone.".into())
            })?,
    }
    .clone();
    let mut order = vec![first.clone()];
    if sub.allow_fallback {
        order.extend(all.into_iter().filter(|c| c.id != first.id && c.active));
    }
    Ok((sub, order, slug.to_string()))
}

/// The same, read in two queries (for the playground, which has no key).
async fn route(
    state: &AppState,
    org: i64,
    model: &str,
) -> Result<(Subscribed, Vec<Candidate>, String), GatewayError> {
    let (slug, _) = split_model(model);
    let named = db::named(&state.db, org, slug).await.map_err(internal)?;
    let all = match &named {
        Some(n) if n.subscription.is_some() => db::candidates(&state.db, n.listing_id)
            .await
            .map_err(internal)?,
        _ => Vec::new(),
    };
    choose(model, named, all)
}

/// The calendar month of `ms` (year * 100 + month) and its first instant.
fn month_of(ms: i64) -> (i64, i64) {
    let days = ms.div_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    (
        y * 100 + i64::from(m),
        (days - i64::from(d) + 1) * 86_400_000,
    )
}

/// How one attempt went, when it did not give an answer to pass on.
struct Failed {
    deployment: Option<i64>,
    outcome: &'static str,
    error: GatewayError,
}

#[utoipa::path(
    post,
    path = "/gateway/v1/chat/completions",
    tag = "gateway",
    security(("gateway_key" = [])),
    request_body(content = ChatRequest, description = "An OpenAI chat completion request; `model` is a listing's slug or slug@base-model"),
    responses(
        (status = 200, description = "The model's answer (JSON, or server-sent events with `stream: true`); the Fairground-Deployment header names the deployment that served it", body = Value),
        (status = 400, description = "Not a chat completion request", body = super::errors::ErrorBody),
        (status = 401, description = "No live gateway key", body = super::errors::ErrorBody),
        (status = 403, description = "No active subscription to this model", body = super::errors::ErrorBody),
        (status = 404, description = "No such model", body = super::errors::ErrorBody),
        (status = 413, description = "The body is too large", body = super::errors::ErrorBody),
        (status = 429, description = "The key's rate or the subscription's monthly cap; nothing was forwarded or billed", body = super::errors::ErrorBody),
        (status = 502, description = "The model's server failed or could not be reached; not billed", body = super::errors::ErrorBody),
        (status = 503, description = "No deployment can take the call (paused or not connected), or the database is out of reach so the call could not be metered; nothing was forwarded or billed", body = super::errors::ErrorBody),
        (status = 504, description = "The model's server did not start answering in time; not billed", body = super::errors::ErrorBody),
    )
)]
pub async fn chat_completions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut res = match complete(state, headers, body).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    };
    res.extensions_mut().insert(super::Relayed);
    res
}

async fn complete(
    state: AppState,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, GatewayError> {
    let arrived = Instant::now();
    let key_text = bearer(&headers).ok_or(GatewayError::BadKey)?.to_string();
    let bytes = axum::body::to_bytes(body, MAX_REQUEST)
        .await
        .map_err(|_| GatewayError::TooLarge)?;
    let asked = read_request(&bytes)?;
    // The key, the subscription and its deployments in one query.
    let (slug, _) = split_model(&asked.model);
    let found = db::call_context(&state.db, &key_text[..PREFIX_LEN], slug)
        .await
        .map_err(internal)?
        .ok_or(GatewayError::BadKey)?;
    if !same(&found.key_hash, &hash_key(&key_text)) {
        return Err(GatewayError::BadKey);
    }
    let gw = state.gateway.clone();
    gw.check_rate(found.key_id)
        .await
        .map_err(|wait_ms| GatewayError::RateLimited {
            wait_ms,
            per_second: gw.settings.requests_per_key,
        })?;
    let routed = choose(&asked.model, found.named, found.candidates)?;
    to_the_end(forward(state, Some(found.key_id), routed, asked, arrived)).await
}

/// Runs a call to its end on its own task: a client that goes away while
/// the upstream works does not cancel it half-way, so the call is still
/// recorded once (and a reservation under the cap given back if it is
/// not billable).
async fn to_the_end(
    call: impl std::future::Future<Output = Result<Response, GatewayError>> + Send + 'static,
) -> Result<Response, GatewayError> {
    tokio::spawn(call)
        .await
        .unwrap_or(Err(GatewayError::NotMetered))
}

/// A chat completion for the client's playground page: the same path as a
/// call with a key (routing, cap, record), without a key. The caller has
/// checked that the person belongs to `org`.
pub async fn from_playground(
    state: AppState,
    org: i64,
    model: &str,
    prompt: &str,
) -> Result<Response, GatewayError> {
    let arrived = Instant::now();
    let body = json!({"model": model, "messages": [{"role": "user", "content": prompt}]});
    let asked = read_request(body.to_string().as_bytes())?;
    let routed = route(&state, org, &asked.model).await?;
    to_the_end(forward(state, None, routed, asked, arrived)).await
}

async fn forward(
    state: AppState,
    key: Option<i64>,
    (sub, order, slug): (Subscribed, Vec<Candidate>, String),
    asked: Asked,
    arrived: Instant,
) -> Result<Response, GatewayError> {
    let gw = state.gateway.clone();
    let now = state.clock.now_ms();
    let reserved_month = match sub.monthly_call_cap {
        Some(cap) => {
            let (month, start) = month_of(now);
            if !db::reserve(&state.db, sub.id, month, cap, start)
                .await
                .map_err(internal)?
            {
                return Err(GatewayError::CapReached { cap });
            }
            Some(month)
        }
        None => None,
    };
    let label = |c: &Candidate| format!("{slug}@{}", c.base);
    let record = |c: Option<i64>, request_id: String| CallRecord {
        request_id,
        subscription: sub.id,
        api_key: key,
        deployment: c,
        fallback_from: None,
        status: 200,
        outcome: "ok",
        streamed: asked.stream,
        billable: false,
        prompt_tokens: None,
        completion_tokens: None,
        upstream_ms: 0,
        overhead_us: 0,
        occurred_at: now,
        reserved_month,
    };
    let mut failed: Option<Failed> = None;
    for (i, c) in order.iter().enumerate() {
        let fallback_from = (i > 0).then(|| order[0].id);
        let Some((base_url, upstream_model, secret)) = c.upstream.as_ref().filter(|_| c.active)
        else {
            failed = Some(Failed {
                deployment: Some(c.id),
                outcome: "unavailable",
                error: GatewayError::Unavailable(format!(
                    "{} is {}; the call was not forwarded.",
                    label(c),
                    if c.active {
                        "not connected to a model server yet"
                    } else {
                        "paused"
                    }
                )),
            });
            continue;
        };
        let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
        let refused = reqwest::Url::parse(&url)
            .ok()
            .map(|u| refused_host(&u, gw.settings.allow_private_upstreams));
        if !matches!(refused, Some(None)) {
            failed = Some(Failed {
                deployment: Some(c.id),
                outcome: "unreachable",
                error: GatewayError::BadGateway(format!(
                    "{}'s model server is on an address the platform does not call.",
                    label(c)
                )),
            });
            continue;
        }
        let mut upstream_body = asked.body.clone();
        upstream_body["model"] = Value::String(upstream_model.clone());
        if asked.stream {
            upstream_body["stream_options"] = json!({"include_usage": true});
        }
        let raw = serde_json::to_vec(&upstream_body).unwrap_or_default();
        let request_id = uuid::Uuid::new_v4().to_string();
        let ts = state.clock.now_ms() / 1000;
        let signature = sign(secret, ts, &request_id, &raw);
        let sent = Instant::now();
        let attempt = gw
            .client
            .post(&url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(REQUEST_ID_HEADER, &request_id)
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(raw)
            .send();
        let answer = match tokio::time::timeout(gw.settings.first_byte_timeout, attempt).await {
            Err(_) => Err(("timeout", GatewayError::Timeout)),
            Ok(Err(e)) if e.is_timeout() => Err(("timeout", GatewayError::Timeout)),
            Ok(Err(_)) => Err((
                "unreachable",
                GatewayError::BadGateway(format!("{}'s model server could not be reached; the call is not billed.", label(c))),
            )),
            Ok(Ok(res)) if res.status().is_server_error() => Err((
                "upstream_error",
                GatewayError::BadGateway(format!(
                    "{}'s model server answered {}; the call is not billed.",
                    label(c),
                    res.status().as_u16()
                )),
            )),
            // The upstream does not take the platform's signature (a
            // rotated secret not yet installed there, say): a failure of
            // this deployment, not the client's.
            Ok(Ok(res)) if matches!(res.status().as_u16(), 401 | 403) => Err((
                "upstream_refused",
                GatewayError::BadGateway(format!(
                    "{}'s model server refused the platform's signed call ({}); the call is not billed.",
                    label(c),
                    res.status().as_u16()
                )),
            )),
            Ok(Ok(res)) => Ok(res),
        };
        let res = match answer {
            Ok(res) => res,
            Err((outcome, error)) => {
                failed = Some(Failed {
                    deployment: Some(c.id),
                    outcome,
                    error,
                });
                continue;
            }
        };
        let mut rec = record(Some(c.id), request_id.clone());
        rec.fallback_from = fallback_from;
        let mut names = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&label(c)) {
            names.insert(DEPLOYMENT_HEADER, v);
        }
        if let Some(from) =
            fallback_from.and_then(|_| HeaderValue::from_str(&label(&order[0])).ok())
        {
            names.insert(FALLBACK_HEADER, from);
        }
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            names.insert(REQUEST_ID_HEADER, v);
        }
        let pre = sent.duration_since(arrived);
        return if res.status().is_success() && asked.stream {
            Ok(stream_answer(
                state.clone(),
                res,
                rec,
                names,
                asked.model.clone(),
                asked.wants_usage,
                sent,
                pre,
            ))
        } else {
            whole_answer(&state, res, rec, names, &asked.model, sent, pre).await
        };
    }
    // Nothing answered: one record at zero for the call, naming the last
    // deployment tried.
    let f = failed.unwrap_or(Failed {
        deployment: None,
        outcome: "unavailable",
        error: GatewayError::Unavailable("No deployment can take this call.".into()),
    });
    let mut rec = record(f.deployment, uuid::Uuid::new_v4().to_string());
    rec.status = f.error.status().as_u16();
    rec.outcome = f.outcome;
    rec.fallback_from = (order.len() > 1 && f.deployment != Some(order[0].id)).then(|| order[0].id);
    rec.overhead_us = arrived.elapsed().as_micros() as i64;
    store(&state, rec).await?;
    Err(f.error)
}

/// Commits a call's record; a call that cannot be recorded is not answered.
async fn store(state: &AppState, rec: CallRecord) -> Result<(), GatewayError> {
    state
        .gateway
        .recorder
        .store(rec)
        .await
        .map_err(|_| GatewayError::NotMetered)
}

/// Reads a whole (non-streamed) answer, records the call, then answers.
async fn whole_answer(
    state: &AppState,
    res: reqwest::Response,
    mut rec: CallRecord,
    names: HeaderMap,
    model: &str,
    sent: Instant,
    pre: Duration,
) -> Result<Response, GatewayError> {
    let status = res.status();
    let mut stream = res.bytes_stream();
    let mut body = Vec::new();
    let mut broke = false;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) if body.len() + c.len() <= MAX_ANSWER => body.extend_from_slice(&c),
            _ => {
                broke = true;
                break;
            }
        }
    }
    let upstream = sent.elapsed();
    rec.upstream_ms = upstream.as_millis() as i64;
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let (out_status, out) = match (status.is_success(), broke, parsed) {
        (true, false, Some(mut v)) if v.is_object() => {
            rec.billable = true;
            if let Some((p, c)) = usage_of(&v) {
                rec.prompt_tokens = Some(p);
                rec.completion_tokens = Some(c);
            }
            rename_model(&mut v, model);
            (StatusCode::OK, v)
        }
        (true, _, _) => {
            rec.outcome = "broken";
            let e = GatewayError::BadGateway(
                "The model's server sent an answer that could not be read; the call is not billed."
                    .into(),
            );
            (e.status(), json!(e.body()))
        }
        // The upstream refused the call (4xx): its error is passed on.
        (false, _, parsed) => {
            rec.outcome = "upstream_refused";
            let v = parsed
                .filter(|v| v.get("error").is_some())
                .unwrap_or_else(|| {
                    json!(GatewayError::BadRequest(format!(
                        "The model's server refused the call ({}).",
                        status.as_u16()
                    ))
                    .body())
                });
            (
                StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_REQUEST),
                v,
            )
        }
    };
    rec.status = out_status.as_u16();
    rec.overhead_us = (pre + sent.elapsed().saturating_sub(upstream)).as_micros() as i64;
    store(state, rec).await?;
    let mut response = (out_status, axum::Json(out)).into_response();
    response.headers_mut().extend(names);
    Ok(response)
}

/// Passes a streamed answer on event by event; the call is recorded when
/// the upstream's stream ends, and only then is the final `[DONE]` sent.
#[allow(clippy::too_many_arguments)]
fn stream_answer(
    state: AppState,
    res: reqwest::Response,
    mut rec: CallRecord,
    names: HeaderMap,
    model: String,
    wants_usage: bool,
    sent: Instant,
    pre: Duration,
) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(32);
    tokio::spawn(async move {
        let mut relay = Relay::new(&model, wants_usage);
        let mut upstream = res.bytes_stream();
        let mut spent = Duration::ZERO;
        rec.outcome = loop {
            match upstream.next().await {
                Some(Ok(bytes)) => {
                    let took = Instant::now();
                    let out = match relay.push(&bytes) {
                        Ok(out) => out,
                        Err(_) => break "broken",
                    };
                    spent += took.elapsed();
                    if !out.is_empty() && tx.send(Ok(Bytes::from(out))).await.is_err() {
                        break "cancelled";
                    }
                }
                Some(Err(_)) => break "broken",
                None if relay.done => break "ok",
                None => break "broken",
            }
        };
        drop(upstream);
        rec.upstream_ms = sent.elapsed().as_millis() as i64;
        rec.billable = rec.outcome == "ok";
        if let Some((p, c)) = relay.usage {
            rec.prompt_tokens = Some(p);
            rec.completion_tokens = Some(c);
        }
        rec.overhead_us = (pre + spent).as_micros() as i64;
        let billable = rec.billable;
        let stored = state.gateway.recorder.store(rec).await.is_ok();
        let last = match (billable, stored) {
            (true, true) => "data: [DONE]\n\n".to_string(),
            (_, false) => format!("data: {}\n\n", json!(GatewayError::NotMetered.body())),
            (false, true) => format!(
                "data: {}\n\n",
                json!({"error": {
                    "message": "The model's server broke off the answer; the call is not billed.",
                    "type": "api_error", "code": "upstream_broken", "param": null}})
            ),
        };
        let _ = tx.send(Ok(Bytes::from(last))).await;
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut response = Response::new(Body::from_stream(body));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.extend(names);
    response
}

struct GatewayKey;

impl utoipa::Modify for GatewayKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "gateway_key",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("fgc_…")
                        .description(Some(
                            "A gateway key of the client's organisation (API keys page).",
                        ))
                        .build(),
                ),
            );
        }
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Fairground model gateway",
        version = "1",
        description = "OpenAI-compatible: clients call the models their organisation subscribes to; every call is metered by the platform."
    ),
    paths(chat_completions, models),
    components(schemas(super::errors::ErrorBody, super::errors::ErrorDetail, ChatRequest, ChatMessage)),
    modifiers(&GatewayKey),
    tags((name = "gateway", description = "Model calls"))
)]
pub struct GatewayDoc;

/// `GET /gateway/v1/openapi.json`.
pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(<GatewayDoc as utoipa::OpenApi>::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read_for_model_and_stream_only() {
        let a = read_request(br#"{"model":" triage@aurora-2 ","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#).unwrap();
        assert_eq!(a.model, "triage@aurora-2");
        assert!(a.stream && a.wants_usage);
        for bad in [
            &br#"[]"#[..],
            br#"{"messages":[]}"#,
            br#"{"model":"m"}"#,
            br#"{"model":"m","messages":[],"stream":"yes"}"#,
            br#"{"model":"","messages":[]}"#,
            b"not json",
        ] {
            assert!(matches!(
                read_request(bad),
                Err(GatewayError::BadRequest(_))
            ));
        }
    }

    #[test]
    fn months_start_on_the_first() {
        // 2026-11-30T18:00:00Z
        let (m, start) = month_of(1_796_061_600_000);
        assert_eq!(m, 202611);
        assert_eq!(crate::calendar::date(start), "2026-11-01");
    }
}
