//! Server function for the exposure dashboard.

use super::ExposureData;
use crate::error::AppError;
use leptos::prelude::*;

/// Public: shares per industry and week; referees also get the counts.
#[server(prefix = "/api/fn", endpoint = "exposure_report")]
pub async fn exposure_report(
    #[server(default)] industry: String,
) -> Result<ExposureData, AppError> {
    crate::state::respond(
        async {
            let (state, actor) = crate::auth::visit::viewer().await?;
            super::service::report(&state, actor.as_ref(), &industry).await
        }
        .await,
    )
}
