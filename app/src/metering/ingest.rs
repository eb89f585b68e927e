//! `POST /api/v1/usage`: a publisher's API key reports a batch of usage
//! records. The whole batch is checked and written in one transaction, and
//! committed before the answer is sent, so an acknowledged record survives
//! a crash of the server; the answer gives every record's outcome.

use super::db::{self, Content, NewRecord};
use super::records::{check_shape, judge, Checked};
use super::Reason;
use crate::error::ApiErrorBody;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{header, HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

/// Largest request body (1,000 records fit with room to spare).
pub const MAX_BODY: usize = 1024 * 1024;
/// Characters of a key that identify it (`fgk_` and eight more).
pub const PREFIX_LEN: usize = 12;

/// A batch of usage records.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct UsageBatch {
    /// 1 to 1,000 records.
    #[schema(min_items = 1, max_items = 1000)]
    pub records: Vec<UsageRecord>,
}

/// One measurement of a subscription's use.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct UsageRecord {
    /// Chosen by the sender, unique per record: sending a record again with
    /// the same key and content counts it once.
    #[schema(
        min_length = 1,
        max_length = 128,
        example = "node-7:2026-11-28T10:00:00Z:42"
    )]
    pub idempotency_key: String,
    /// A subscription to one of the key's organisation's listings.
    #[schema(example = 42)]
    pub subscription_id: i64,
    /// What was measured; `calls` is the one billed dimension.
    #[schema(example = "calls")]
    pub dimension: String,
    /// How many: 1 to 1,000,000,000 per record.
    #[schema(minimum = 1, maximum = 1_000_000_000, example = 120)]
    pub quantity: i64,
    /// When it happened (RFC 3339): at most 6 hours before arrival and 5
    /// minutes after.
    #[schema(format = DateTime, example = "2026-11-28T10:00:00Z")]
    pub occurred_at: String,
}

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Accepted,
    Duplicate,
    Rejected,
}

/// One record's outcome, in the order sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordResult {
    pub index: usize,
    pub idempotency_key: String,
    pub status: Outcome,
    /// For a rejected record: unknown_subscription, not_active, too_old,
    /// in_future, non_positive_quantity, quantity_too_large, key_reused,
    /// unknown_dimension or invalid_key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The batch's answer: every record's outcome, and the counts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchResult {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub results: Vec<RecordResult>,
}

/// A request refused as a whole, in the one error shape.
fn refuse(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(ApiErrorBody::new(code, message))).into_response()
}

/// A database failure as the API answers it: 503 `unavailable` with
/// `Retry-After` when the database is out of reach (the sender tries again
/// later with the same keys), else 500 `internal` with `message`.
fn database_failed(err: &sqlx::Error, doing: &str, message: &str) -> Response {
    if crate::db::out_of_reach(err) {
        tracing::warn!(error = %err, doing, "the database is out of reach: answered 503");
        return crate::error::AppError::Unavailable {
            retry_after_secs: crate::error::UNAVAILABLE_RETRY_SECS,
        }
        .into_response();
    }
    tracing::error!(error = %err, doing, "the metering API's database work failed");
    refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
}

/// SHA-256 of a key, hex. Keys are 256 random bits, so a plain hash (not a
/// password hash) is what protects them at rest.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Whether two hashes are equal, in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The organisation and key id of the request's bearer key.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<(i64, i64), Response> {
    let unauthorized = || {
        refuse(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Send a live API key as `Authorization: Bearer fgk_…`.",
        )
    };
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| k.len() > PREFIX_LEN && k.starts_with("fgk_") && k.is_ascii())
        .ok_or_else(unauthorized)?;
    let found = db::live_key(&state.db, &key[..PREFIX_LEN], super::KeyPurpose::Metering)
        .await
        .map_err(|e| database_failed(&e, "looking up an API key", "Try again later."))?;
    match found {
        Some((id, org, hash)) if same(&hash, &hash_key(key)) => Ok((org, id)),
        _ => Err(unauthorized()),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/usage",
    tag = "metering",
    request_body = UsageBatch,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Every record's outcome; accepted records are stored before this answer", body = BatchResult),
        (status = 400, description = "The body is not JSON, or a string in it holds a control character such as NUL (nothing is stored)", body = ApiErrorBody),
        (status = 408, description = "The body did not arrive whole within the server's body timeout", body = ApiErrorBody),
        (status = 401, description = "No live API key", body = ApiErrorBody),
        (status = 413, description = "The body is larger than 1 MiB", body = ApiErrorBody),
        (status = 415, description = "The body is not application/json", body = ApiErrorBody),
        (status = 422, description = "A field is missing or of the wrong type, or the batch has no record or more than 1,000", body = ApiErrorBody),
        (status = 429, description = "The key sent more requests this second than allowed; nothing was stored", body = ApiErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before sending again"))),
        (status = 503, description = "The database is out of reach; nothing was stored", body = ApiErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before sending again"))),
    )
)]
pub async fn usage(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let (org, key_id) = match authenticate(&state, &headers).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    if let Err(wait_ms) = state.rate_limits.check_api_key(key_id).await {
        let mut res = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "This key may send {} requests a second; nothing in this one was stored. \
                 Send it again after {wait_ms} ms, or send fewer, larger batches.",
                state.rate_limits.api_requests_per_second()
            ),
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, wait_ms.div_ceil(1000).into());
        return res;
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the batch as `Content-Type: application/json`.",
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The body must be at most {MAX_BODY} bytes."),
        );
    };
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("The body is not valid JSON: {e}."),
            )
        }
    };
    let records = match check_shape(&value) {
        Ok(r) => r,
        Err(message) => {
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
        }
    };
    match ingest(&state, org, key_id, &records).await {
        Ok(result) => Json(result).into_response(),
        Err(e) => database_failed(
            &e,
            "storing usage",
            "Nothing was stored; send the batch again.",
        ),
    }
}

/// Where a record stands while its batch is judged.
#[derive(Clone, Copy)]
enum Pending {
    /// Valid, offered for insertion.
    Candidate,
    /// Same key as the candidate at that index, earlier in the batch.
    SameAs(usize),
    /// Invalid for this reason, unless the key is already stored.
    Invalid(Reason),
}

/// Judges and stores a batch in one transaction. Valid records are
/// inserted first (`ON CONFLICT DO NOTHING`): a key stored before, even by
/// a batch committing at this moment on another node, is not inserted and
/// is then looked up; so is the key of an invalid record, which may be a
/// resend of one stored earlier. In the usual batch of new keys there is
/// nothing to look up.
async fn ingest(
    state: &AppState,
    org: i64,
    key_id: i64,
    records: &[Checked],
) -> Result<BatchResult, sqlx::Error> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let ids: Vec<i64> = records
        .iter()
        .map(|r| r.subscription)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let subs: HashMap<i64, db::Metered> = db::subscriptions(&mut tx, &ids)
        .await?
        .into_iter()
        .collect();
    let content = |r: &Checked| -> Content {
        (
            r.subscription,
            r.dimension.clone(),
            r.quantity,
            r.occurred_at,
        )
    };
    let mut first_candidate: HashMap<&str, usize> = HashMap::new();
    let mut pending = Vec::with_capacity(records.len());
    let mut offered = Vec::new();
    for (i, r) in records.iter().enumerate() {
        pending.push(match first_candidate.get(r.key.as_str()) {
            Some(&first) => Pending::SameAs(first),
            None => match judge(r, org, now, &subs) {
                Some(reason) => Pending::Invalid(reason),
                None => {
                    first_candidate.insert(&r.key, i);
                    offered.push(NewRecord {
                        key: &r.key,
                        subscription: r.subscription,
                        dimension: &r.dimension,
                        quantity: r.quantity,
                        occurred_at: r.occurred_at,
                    });
                    Pending::Candidate
                }
            },
        });
    }
    let inserted = db::insert_new(&mut tx, org, key_id, &offered, now).await?;
    let to_look_up: Vec<&str> = records
        .iter()
        .zip(&pending)
        .filter(|(r, p)| match p {
            Pending::Candidate => !inserted.contains(&r.key),
            Pending::Invalid(_) => true,
            Pending::SameAs(_) => false,
        })
        .map(|(r, _)| r.key.as_str())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let stored: HashMap<String, Content> = if to_look_up.is_empty() {
        HashMap::new()
    } else {
        db::existing(&mut tx, org, &to_look_up)
            .await?
            .into_iter()
            .collect()
    };
    // A stored record with this key: the same one sent again, or a reuse.
    let against_stored = |r: &Checked| -> Option<(Outcome, Option<Reason>)> {
        stored.get(&r.key).map(|c| {
            if *c == content(r) {
                (Outcome::Duplicate, None)
            } else {
                (Outcome::Rejected, Some(Reason::KeyReused))
            }
        })
    };
    let mut verdicts: Vec<(Outcome, Option<Reason>)> = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let v = match pending[i] {
            Pending::Candidate if inserted.contains(&r.key) => (Outcome::Accepted, None),
            // Not inserted: the key was stored before (or by a batch that
            // committed meanwhile), so it is found; anything else would be
            // a fault, and the whole batch is undone.
            Pending::Candidate => against_stored(r).ok_or(sqlx::Error::RowNotFound)?,
            Pending::Invalid(reason) => {
                against_stored(r).unwrap_or((Outcome::Rejected, Some(reason)))
            }
            Pending::SameAs(first) => {
                if content(r) != content(&records[first]) {
                    (Outcome::Rejected, Some(Reason::KeyReused))
                } else if verdicts[first].1 == Some(Reason::KeyReused) {
                    verdicts[first]
                } else {
                    (Outcome::Duplicate, None)
                }
            }
        };
        verdicts.push(v);
    }
    db::touch_key(&mut tx, key_id, now).await?;
    tx.commit().await?;
    let count = |o: Outcome| verdicts.iter().filter(|(x, _)| *x == o).count();
    let (accepted, duplicates, rejected) = (
        count(Outcome::Accepted),
        count(Outcome::Duplicate),
        count(Outcome::Rejected),
    );
    crate::metrics::metrics().usage_records(accepted, duplicates, rejected);
    Ok(BatchResult {
        accepted,
        duplicates,
        rejected,
        results: records
            .iter()
            .zip(&verdicts)
            .enumerate()
            .map(|(index, (r, (status, reason)))| RecordResult {
                index,
                idempotency_key: r.key.clone(),
                status: *status,
                reason: reason.map(|x| x.code().to_string()),
                message: reason.map(|x| x.message().to_string()),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hashes_compare_whole() {
        assert!(same(&hash_key("fgk_a"), &hash_key("fgk_a")));
        assert!(!same(&hash_key("fgk_a"), &hash_key("fgk_b")));
        assert!(!same("ab", "abc"));
    }
}
