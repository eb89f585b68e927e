//! The one error type of the application.
//!
//! Every server function, handler and db function returns `AppError`. It knows
//! its HTTP status and what may be shown to a user; an internal cause is logged
//! where it happens (with the request id) and only a reference reaches the
//! browser.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Field name → messages, for errors shown next to form fields.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in to continue.")]
    Unauthorized,
    #[error("You do not have permission to do that.")]
    Forbidden,
    /// Platform staff act only on a sign-in that passed two-step sign-in.
    #[error("Platform staff act only after two-step sign-in: turn it on from your account page (or sign in again with your code).")]
    SecondFactorRequired,
    #[error("We could not find what you were looking for.")]
    NotFound,
    #[error("Some fields need attention.")]
    Validation { fields: FieldErrors },
    /// The request itself could not be understood (malformed body, wrong type).
    #[error("The request could not be understood: {0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    /// Carries only a reference for support; the cause stays in the server log.
    #[error("Something went wrong on our side. Reference: {reference}.")]
    Internal { reference: String },
}

impl AppError {
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            AppError::Unauthorized => S::UNAUTHORIZED,
            AppError::Forbidden | AppError::SecondFactorRequired => S::FORBIDDEN,
            AppError::NotFound => S::NOT_FOUND,
            AppError::Validation { .. } => S::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => S::BAD_REQUEST,
            AppError::Conflict(_) => S::CONFLICT,
            AppError::RateLimited { .. } => S::TOO_MANY_REQUESTS,
            AppError::Internal { .. } => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// A validation error on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_string(), vec![message.into()]);
        AppError::Validation { fields }
    }

    /// Messages for one field, empty when that field is fine.
    pub fn messages_for(&self, field: &str) -> &[String] {
        match self {
            AppError::Validation { fields } => fields.get(field).map(Vec::as_slice).unwrap_or(&[]),
            _ => &[],
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Logs `cause` with `context` and the request id, and returns an
    /// `Internal` error that carries only that id.
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        let reference = current_request_id();
        tracing::error!(reference = %reference, context, error = %cause, "internal error");
        AppError::Internal { reference }
    }
}

/// The request id of the request being served (set by the server's request-id
/// layer), or a fresh one when there is no request in context.
#[cfg(feature = "ssr")]
pub fn current_request_id() -> String {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get(crate::REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => AppError::NotFound,
            _ => AppError::internal("database", &err),
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(msg) | E::Deserialization(msg) | E::MissingArg(msg) => {
                AppError::BadRequest(msg)
            }
            E::Registration(_) => AppError::NotFound,
            // Transport and serialization failures: nothing the user can fix,
            // and their text is not for the browser.
            #[cfg(feature = "ssr")]
            other => AppError::internal("server function", other),
            #[cfg(not(feature = "ssr"))]
            other => {
                leptos::logging::error!("server function call failed: {other}");
                AppError::Internal {
                    reference: "browser (see the console)".into(),
                }
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = self.status();
        let mut res = (status, axum::Json(ApiErrorBody::from(&self))).into_response();
        if let AppError::RateLimited { retry_after_secs } = self {
            if let Ok(v) = http::HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(http::header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// The JSON body of an API error: a stable code, a message for people, and
/// per-field messages for validation errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: FieldErrors,
}

impl From<&AppError> for ApiErrorBody {
    fn from(err: &AppError) -> Self {
        let code = match err {
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::SecondFactorRequired => "second_factor_required",
            AppError::NotFound => "not_found",
            AppError::Validation { .. } => "validation",
            AppError::BadRequest(_) => "bad_request",
            AppError::Conflict(_) => "conflict",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Internal { .. } => "internal",
        };
        let fields = match err {
            AppError::Validation { fields } => fields.clone(),
            _ => FieldErrors::new(),
        };
        ApiErrorBody {
            code: code.to_string(),
            message: err.to_string(),
            fields,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_error_shows_reference_only() {
        let err = AppError::Internal {
            reference: "req-123".into(),
        };
        let body = ApiErrorBody::from(&err);
        assert_eq!(body.code, "internal");
        assert_eq!(
            body.message,
            "Something went wrong on our side. Reference: req-123."
        );
        assert_eq!(err.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn field_error_lists_messages_for_that_field_only() {
        let err = AppError::field("email", "Enter an email address.");
        assert_eq!(err.messages_for("email"), ["Enter an email address."]);
        assert!(err.messages_for("password").is_empty());
        assert_eq!(err.status(), http::StatusCode::UNPROCESSABLE_ENTITY);
    }
}
