//! The one error type of the application.
//!
//! Every server function, handler and db function returns `AppError`. It knows
//! its HTTP status and what may be shown to a user; an internal cause is logged
//! where it happens (with the request id) and only a reference reaches the
//! browser.
//!
//! Every error a client receives as JSON has one shape, [`ApiErrorBody`]:
//! `{"code", "message", "fields"}` (plus `retry_after_secs` when rate limited
//! and `reference` for an internal error). Server functions, the same-origin
//! layer, the metering API and the exports all answer with it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Field name → messages, for errors shown next to form fields.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(into = "ApiErrorBody", try_from = "ApiErrorBody")]
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
    /// The database cannot be reached: nothing was done; try again later.
    #[error("Fairground cannot reach its database at the moment, so nothing was done. Try again in {retry_after_secs} seconds.")]
    Unavailable { retry_after_secs: u64 },
    /// Carries only a reference for support; the cause stays in the server log.
    #[error("Something went wrong on our side. Reference: {reference}.")]
    Internal { reference: String },
}

/// Seconds a caller is asked to wait while the database is unreachable.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

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
            AppError::Unavailable { .. } => S::SERVICE_UNAVAILABLE,
            AppError::Internal { .. } => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// A validation error on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_string(), vec![message.into()]);
        AppError::Validation { fields }
    }

    /// Seconds to wait before trying again (rate limited, or the database
    /// unreachable): the `Retry-After` header.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after_secs }
            | AppError::Unavailable { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
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
            // The database is out of reach (down, cut off, or every
            // connection busy past the wait): the caller may try again.
            e if crate::db::out_of_reach(e) => {
                tracing::warn!(error = %err, "the database is out of reach: answered 503");
                AppError::Unavailable {
                    retry_after_secs: UNAVAILABLE_RETRY_SECS,
                }
            }
            _ => AppError::internal("database", &err),
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            // Fields that cannot be read are the caller's mistake: on the
            // server the answer carries the error's own status (400), not the
            // framework's 500.
            E::Args(msg) | E::Deserialization(msg) | E::MissingArg(msg) => {
                let err = AppError::BadRequest(msg);
                #[cfg(feature = "ssr")]
                mark_status(&err);
                err
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

/// Gives the response of the server function being answered the status of
/// `err` (and Retry-After when rate limited). A plain HTML form post is left
/// alone: it is redirected back with the error in the URL, which only works
/// with a 3xx status.
#[cfg(feature = "ssr")]
pub fn mark_status(err: &AppError) {
    let parts = leptos::prelude::use_context::<http::request::Parts>();
    let html_form = parts
        .as_ref()
        .and_then(|p| p.headers.get(http::header::ACCEPT))
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if let (false, Some(res)) = (
        html_form,
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
    ) {
        res.set_status(err.status());
        if let Some(retry_after_secs) = err.retry_after_secs() {
            if let Ok(v) = http::HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.insert_header(http::header::RETRY_AFTER, v);
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = self.status();
        let mut res = (status, axum::Json(ApiErrorBody::from(&self))).into_response();
        if let Some(retry_after_secs) = self.retry_after_secs() {
            if let Ok(v) = http::HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(http::header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// The JSON body of every error: a stable code, a message for people, and
/// per-field messages (empty unless the code is `validation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiErrorBody {
    /// unauthorized, forbidden, second_factor_required, not_found,
    /// validation, bad_request, conflict, rate_limited, unavailable,
    /// internal; the
    /// metering API adds unsupported_media_type, payload_too_large,
    /// malformed_json, invalid_request and request_timeout.
    pub code: String,
    pub message: String,
    /// Field name → messages, for errors shown next to form fields.
    #[serde(default)]
    pub fields: FieldErrors,
    /// Seconds to wait (`rate_limited` and `unavailable`; also the
    /// Retry-After header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// The reference to quote to support (`internal` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl ApiErrorBody {
    /// A body with no field messages.
    pub fn new(code: &str, message: impl Into<String>) -> ApiErrorBody {
        ApiErrorBody {
            code: code.to_string(),
            message: message.into(),
            fields: FieldErrors::new(),
            retry_after_secs: None,
            reference: None,
        }
    }
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
            AppError::Unavailable { .. } => "unavailable",
            AppError::Internal { .. } => "internal",
        };
        let mut body = ApiErrorBody::new(code, err.to_string());
        match err {
            AppError::Validation { fields } => body.fields = fields.clone(),
            AppError::RateLimited { retry_after_secs }
            | AppError::Unavailable { retry_after_secs } => {
                body.retry_after_secs = Some(*retry_after_secs)
            }
            AppError::Internal { reference } => body.reference = Some(reference.clone()),
            _ => {}
        }
        body
    }
}

impl From<AppError> for ApiErrorBody {
    fn from(err: AppError) -> Self {
        ApiErrorBody::from(&err)
    }
}

/// The error a body describes (what a page reads back from a server
/// function's answer or from a form's error link).
impl TryFrom<ApiErrorBody> for AppError {
    type Error = String;

    fn try_from(body: ApiErrorBody) -> Result<Self, Self::Error> {
        Ok(match body.code.as_str() {
            "unauthorized" => AppError::Unauthorized,
            "forbidden" => AppError::Forbidden,
            "second_factor_required" => AppError::SecondFactorRequired,
            "not_found" => AppError::NotFound,
            "validation" => AppError::Validation {
                fields: body.fields,
            },
            "bad_request" => AppError::BadRequest(
                body.message
                    .strip_prefix("The request could not be understood: ")
                    .unwrap_or(&body.message)
                    .to_string(),
            ),
            "conflict" => AppError::Conflict(body.message),
            "rate_limited" => AppError::RateLimited {
                retry_after_secs: body.retry_after_secs.unwrap_or(1),
            },
            "unavailable" => AppError::Unavailable {
                retry_after_secs: body.retry_after_secs.unwrap_or(UNAVAILABLE_RETRY_SECS),
            },
            "internal" => AppError::Internal {
                reference: body.reference.unwrap_or_default(),
            },
            other => return Err(format!("unknown error code {other:?}")),
        })
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
    fn every_error_travels_as_code_message_and_fields_and_comes_back_whole() {
        let errors = [
            AppError::Unauthorized,
            AppError::Forbidden,
            AppError::SecondFactorRequired,
            AppError::NotFound,
            AppError::field("email", "Enter an email address."),
            AppError::BadRequest("missing field `id`".into()),
            AppError::Conflict("Already subscribed.".into()),
            AppError::RateLimited {
                retry_after_secs: 42,
            },
            AppError::Unavailable {
                retry_after_secs: 5,
            },
            AppError::Internal {
                reference: "req-9".into(),
            },
        ];
        for err in errors {
            let json = serde_json::to_value(&err).expect("serialises");
            let keys: Vec<&str> = json
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .collect();
            assert!(
                ["code", "fields", "message"]
                    .iter()
                    .all(|k| keys.contains(k)),
                "{json}"
            );
            assert_eq!(json["message"], err.to_string());
            let back: AppError = serde_json::from_value(json).expect("deserialises");
            assert_eq!(back, err);
        }
        let v = serde_json::to_value(AppError::field("email", "Enter one.")).expect("json");
        assert_eq!(v["code"], "validation");
        assert_eq!(v["fields"]["email"][0], "Enter one.");
        assert!(serde_json::from_str::<AppError>(r#"{"code":"nope","message":"x"}"#).is_err());
    }

    #[test]
    fn field_error_lists_messages_for_that_field_only() {
        let err = AppError::field("email", "Enter an email address.");
        assert_eq!(err.messages_for("email"), ["Enter an email address."]);
        assert!(err.messages_for("password").is_empty());
        assert_eq!(err.status(), http::StatusCode::UNPROCESSABLE_ENTITY);
    }
}
