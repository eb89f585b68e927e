//! "Send a test call": a publisher checks one of its deployments' upstream
//! from the platform, signed as every gateway call is. Not metered (no
//! subscription is involved) and nothing of the answer is kept beyond the
//! short excerpt shown to the publisher.

use super::{editor, own_listing};
use crate::auth::actor::Actor;
use crate::auth::visit::Visit;
use crate::error::AppError;
use crate::gateway::signing::{sign, REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::gateway::upstream::refused_host;
use crate::gateway::TestCall;
use crate::state::AppState;
use sqlx::Row;
use std::time::Instant;

/// Session key holding a test call's result for the editor a plain form
/// post returns to.
const TEST_CALL_KEY: &str = "test_call";
/// Characters of the answer shown.
const EXCERPT: usize = 120;

/// Sends one short signed chat completion to the deployment's upstream.
pub async fn test_call(
    state: &AppState,
    actor: &Actor,
    listing_id: i64,
    deployment_id: i64,
) -> Result<TestCall, AppError> {
    let m = editor(actor)?;
    own_listing(state, m, listing_id).await?;
    // Test calls reach out from the platform: counted per person, with the
    // gateway's calls a second (so a partner cannot aim a flood of them at
    // someone else's server).
    if let Err(wait_ms) = state.gateway.check_rate(-actor.user_id).await {
        return Err(AppError::RateLimited {
            retry_after_secs: wait_ms.div_ceil(1000).max(1),
        });
    }
    let row = sqlx::query(
        "SELECT u.base_url, u.upstream_model, u.signing_secret FROM deployment_upstreams u \
         JOIN deployments d ON d.id = u.deployment_id WHERE d.id = $1 AND d.listing_id = $2",
    )
    .bind(deployment_id)
    .bind(listing_id)
    .fetch_optional(state.db.pool())
    .await?
    .ok_or_else(|| AppError::field("deployment_id", "Set this deployment's endpoint first."))?;
    let base: String = row.try_get("base_url")?;
    let model: String = row.try_get("upstream_model")?;
    let secret: String = row.try_get("signing_secret")?;
    let result = |ok: bool, message: String| TestCall {
        listing_id,
        deployment_id,
        ok,
        message,
    };
    let url = format!("{}/chat/completions", base.trim_end_matches('/'));
    let gw = &state.gateway;
    let allowed = reqwest::Url::parse(&url)
        .ok()
        .map(|u| refused_host(&u, gw.settings.allow_private_upstreams));
    if !matches!(allowed, Some(None)) {
        return Ok(result(
            false,
            "The base URL is on an address the platform does not call (private, loopback or link-local).".into(),
        ));
    }
    let body = serde_json::to_vec(&serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": "This is a test call from Fairground."}],
        "max_tokens": 16,
    }))
    .unwrap_or_default();
    let id = uuid::Uuid::new_v4().to_string();
    let ts = state.clock.now_ms() / 1000;
    let started = Instant::now();
    let sent = gw
        .client
        .post(&url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(REQUEST_ID_HEADER, &id)
        .header(TIMESTAMP_HEADER, ts.to_string())
        .header(SIGNATURE_HEADER, sign(&secret, ts, &id, &body))
        .body(body)
        .send();
    let res = match tokio::time::timeout(gw.settings.first_byte_timeout, sent).await {
        Err(_) => {
            return Ok(result(
                false,
                format!(
                    "No answer within {} s.",
                    gw.settings.first_byte_timeout.as_secs().max(1)
                ),
            ))
        }
        Ok(Err(_)) => {
            return Ok(result(
                false,
                "The model server could not be reached.".into(),
            ))
        }
        Ok(Ok(res)) => res,
    };
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let ms = started.elapsed().as_millis();
    if !(200..300).contains(&status) {
        let hint = if matches!(status, 401 | 403) {
            " Does it check the signature with this deployment's current secret?"
        } else {
            ""
        };
        return Ok(result(
            false,
            format!("It answered {status} in {ms} ms.{hint}"),
        ));
    }
    let said = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v["choices"][0]["message"]["content"]
                .as_str()
                .map(str::to_string)
        });
    Ok(match said {
        Some(s) => {
            let excerpt: String = s.chars().take(EXCERPT).collect();
            result(
                true,
                format!("It answered {status} in {ms} ms: “{excerpt}”"),
            )
        }
        None => result(
            false,
            format!("It answered {status} in {ms} ms, but not with a chat completion."),
        ),
    })
}

/// Keeps a result for the page a plain form post returns to.
pub async fn keep_test_call(visit: &Visit, call: &TestCall) -> Result<(), AppError> {
    if visit.origin.plain_form {
        visit
            .session
            .insert(TEST_CALL_KEY, call)
            .await
            .map_err(|e| AppError::internal("session store", e))?;
    }
    Ok(())
}

/// The result a plain form post kept for this listing's editor (once).
pub async fn take_test_call(visit: &Visit, listing_id: i64) -> Result<Option<TestCall>, AppError> {
    let err = |e| AppError::internal("session store", e);
    match visit
        .session
        .get::<TestCall>(TEST_CALL_KEY)
        .await
        .map_err(err)?
    {
        Some(c) if c.listing_id == listing_id => {
            visit
                .session
                .remove::<TestCall>(TEST_CALL_KEY)
                .await
                .map_err(err)?;
            Ok(Some(c))
        }
        _ => Ok(None),
    }
}
