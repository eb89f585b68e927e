//! The API's OpenAPI 3 description, generated from the handler and types.

use super::ingest::{BatchResult, Outcome, RecordResult, UsageBatch, UsageRecord};
use crate::error::ApiErrorBody;
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "api_key",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("fgk_…")
                        .description(Some(
                            "An API key of the publisher's organisation (API keys page).",
                        ))
                        .build(),
                ),
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fairground metering API",
        version = "1",
        description = "Publishers report their subscribers' usage; every record is accepted once, reported as a duplicate, or rejected with a reason."
    ),
    paths(super::ingest::usage),
    components(schemas(UsageBatch, UsageRecord, BatchResult, RecordResult, Outcome, ApiErrorBody)),
    modifiers(&BearerKey),
    tags((name = "metering", description = "Usage reporting"))
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
