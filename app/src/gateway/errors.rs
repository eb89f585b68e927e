//! The gateway's errors, in OpenAI's shape so its clients understand them:
//! `{"error": {"message", "type", "code"}}` with the matching status.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{header, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub message: String,
    /// invalid_request_error, authentication_error, permission_error,
    /// not_found_error, rate_limit_error, api_error or server_error.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub code: &'static str,
    /// Always null: the field a parameter error would name.
    pub param: Option<String>,
}

/// Why a call was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayError {
    /// 401: no key, or not a live gateway key.
    BadKey,
    /// 429: the key's rate.
    RateLimited { wait_ms: u64, per_second: u32 },
    /// 429: the subscription's monthly cap.
    CapReached { cap: i64 },
    /// 400: the body is not a chat completion request.
    BadRequest(String),
    /// 413
    TooLarge,
    /// 404: no such model (listing, or base model of it).
    UnknownModel(String),
    /// 403: the listing exists but the client has no active subscription.
    NotSubscribed(String),
    /// 503: no deployment can take the call (paused, or not connected).
    Unavailable(String),
    /// 502: the upstream could not be reached, failed or answered nonsense.
    BadGateway(String),
    /// 504: the upstream did not start answering in time.
    Timeout,
    /// 500: the call could not be metered (nothing is charged).
    NotMetered,
    /// 503: the database is out of reach, so no call could be metered:
    /// none is forwarded.
    NoDatabase,
}

impl GatewayError {
    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::BadKey => StatusCode::UNAUTHORIZED,
            GatewayError::RateLimited { .. } | GatewayError::CapReached { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            GatewayError::BadRequest(_) => StatusCode::BAD_REQUEST,
            GatewayError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::UnknownModel(_) => StatusCode::NOT_FOUND,
            GatewayError::NotSubscribed(_) => StatusCode::FORBIDDEN,
            GatewayError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            GatewayError::Timeout => StatusCode::GATEWAY_TIMEOUT,
            GatewayError::NotMetered => StatusCode::INTERNAL_SERVER_ERROR,
            GatewayError::NoDatabase => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (kind, code, message) = match self {
            GatewayError::BadKey => (
                "authentication_error",
                "invalid_api_key",
                "Send a live gateway key as `Authorization: Bearer fgc_…` (an organisation's owner or admin makes one on its API keys page).".to_string(),
            ),
            GatewayError::RateLimited { wait_ms, per_second } => (
                "rate_limit_error",
                "rate_limit_exceeded",
                format!("This key may make {per_second} calls a second; this one was not forwarded or billed. Try again after {wait_ms} ms."),
            ),
            GatewayError::CapReached { cap } => (
                "rate_limit_error",
                "monthly_cap_reached",
                format!("This subscription's monthly cap of {cap} calls is reached; this call was not forwarded or billed. An owner or admin can raise the cap on the subscription's page."),
            ),
            GatewayError::BadRequest(m) => ("invalid_request_error", "invalid_request", m.clone()),
            GatewayError::TooLarge => (
                "invalid_request_error",
                "request_too_large",
                format!("The body must be at most {} bytes.", super::MAX_REQUEST),
            ),
            GatewayError::UnknownModel(m) => ("not_found_error", "model_not_found", m.clone()),
            GatewayError::NotSubscribed(m) => ("permission_error", "no_active_subscription", m.clone()),
            GatewayError::Unavailable(m) => ("server_error", "deployment_unavailable", m.clone()),
            GatewayError::BadGateway(m) => ("api_error", "upstream_failed", m.clone()),
            GatewayError::Timeout => (
                "api_error",
                "upstream_timeout",
                "The model's server did not start answering in time; the call is not billed.".to_string(),
            ),
            GatewayError::NotMetered => (
                "server_error",
                "not_metered",
                "The call could not be recorded, so its answer is withheld and it is not billed. Try again.".to_string(),
            ),
            GatewayError::NoDatabase => (
                "server_error",
                "metering_unavailable",
                "Fairground cannot reach its database, so it could not meter this call: it was not forwarded or billed. Try again shortly.".to_string(),
            ),
        };
        ErrorBody {
            error: ErrorDetail {
                message,
                kind,
                code,
                param: None,
            },
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let mut res = (self.status(), Json(self.body())).into_response();
        if let GatewayError::RateLimited { wait_ms, .. } = self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, wait_ms.div_ceil(1000).max(1).into());
        }
        if self == GatewayError::NoDatabase {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                crate::error::UNAVAILABLE_RETRY_SECS.into(),
            );
        }
        res
    }
}
