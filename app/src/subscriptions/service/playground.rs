//! The playground: a member of the client organisation sends one prompt to
//! the subscription's model from its page. It goes through the gateway
//! like any call (routing, fallback, cap, one record, billed the same);
//! only the key is missing, and the rate is counted per person.

use crate::auth::actor::Actor;
use crate::auth::visit::Visit;
use crate::error::AppError;
use crate::form::Form;
use crate::gateway::api::{from_playground, DEPLOYMENT_HEADER};
use crate::state::AppState;
use crate::subscriptions::db;
use crate::subscriptions::PlaygroundAnswer;

/// Longest prompt the playground sends.
pub const MAX_PROMPT: usize = 4_000;
const ANSWER_KEY: &str = "playground_answer";

pub async fn playground(
    state: &AppState,
    actor: &Actor,
    id: i64,
    prompt: &str,
) -> Result<PlaygroundAnswer, AppError> {
    let m = actor.membership.as_ref().ok_or(AppError::NotFound)?;
    let row = db::row(state.db.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.client_org_id != m.org_id {
        return Err(AppError::NotFound);
    }
    let mut f = Form::new();
    let prompt = prompt.trim();
    if prompt.is_empty() || prompt.chars().count() > MAX_PROMPT {
        f.fail(
            "prompt",
            format!("Type a prompt of 1 to {MAX_PROMPT} characters."),
        );
    }
    f.done()?;
    if !row.active {
        return Err(AppError::field("prompt", "This subscription is cancelled."));
    }
    // Per person: a negative key id never meets a real key's.
    if let Err(wait_ms) = state.gateway.check_rate(-actor.user_id).await {
        return Err(AppError::RateLimited {
            retry_after_secs: wait_ms.div_ceil(1000).max(1),
        });
    }
    let slug = db::one(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?
        .view
        .listing_slug;
    let answer = |ok: bool, text: String, served_by: String| PlaygroundAnswer {
        subscription_id: id,
        ok,
        text,
        served_by,
    };
    let res = match from_playground(state.clone(), m.org_id, &slug, prompt).await {
        Ok(res) => res,
        Err(e) => return Ok(answer(false, e.body().error.message, String::new())),
    };
    let served_by = res
        .headers()
        .get(DEPLOYMENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let ok = res.status().is_success();
    let bytes = axum::body::to_bytes(res.into_body(), crate::gateway::MAX_ANSWER)
        .await
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    Ok(if ok {
        answer(
            true,
            v["choices"][0]["message"]["content"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            served_by,
        )
    } else {
        answer(
            false,
            v["error"]["message"]
                .as_str()
                .unwrap_or("The model could not answer.")
                .to_string(),
            served_by,
        )
    })
}

/// Keeps an answer for the page a plain form post returns to.
pub async fn keep_answer(visit: &Visit, a: &PlaygroundAnswer) -> Result<(), AppError> {
    if visit.origin.plain_form {
        visit
            .session
            .insert(ANSWER_KEY, a)
            .await
            .map_err(|e| AppError::internal("session store", e))?;
    }
    Ok(())
}

/// The answer a plain form post kept for this subscription's page (once).
pub async fn take_answer(visit: &Visit, id: i64) -> Result<Option<PlaygroundAnswer>, AppError> {
    let err = |e| AppError::internal("session store", e);
    match visit
        .session
        .get::<PlaygroundAnswer>(ANSWER_KEY)
        .await
        .map_err(err)?
    {
        Some(a) if a.subscription_id == id => {
            visit
                .session
                .remove::<PlaygroundAnswer>(ANSWER_KEY)
                .await
                .map_err(err)?;
            Ok(Some(a))
        }
        _ => Ok(None),
    }
}
