//! Server functions for the marketplace policy and the data-access log.

use super::{DataAccess, FeaturedCard, PolicyData};
use crate::error::AppError;
use leptos::prelude::*;

/// The policy, its history and the audit chain's head (public).
#[server(prefix = "/api/fn", endpoint = "marketplace_policy")]
pub async fn marketplace_policy() -> Result<PolicyData, AppError> {
    crate::state::respond(
        async {
            let (state, actor) = crate::auth::visit::viewer().await?;
            super::service::page(&state, actor.as_ref()).await
        }
        .await,
    )
}

/// `non_compete` and `featured_slots` are "on" or "off", always both given:
/// a forgotten field never switches the flag off.
#[server(prefix = "/api/fn", endpoint = "update_policy")]
pub async fn update_policy(
    non_compete: String,
    take_rate: String,
    featured_slots: String,
    #[server(default)] ranking_notice_days: String,
    #[server(default)] anomaly_ratio: String,
    reason: String,
) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::update(
                &state,
                &actor,
                &super::service::PolicyForm {
                    non_compete: &non_compete,
                    take_rate: &take_rate,
                    featured_slots: &featured_slots,
                    ranking_notice_days: &ranking_notice_days,
                    anomaly_ratio: &anomaly_ratio,
                    reason: &reason,
                },
            )
            .await
        }
        .await,
        "/policy",
    )
}

/// Reads of the current organisation's non-public data by people outside it.
#[server(prefix = "/api/fn", endpoint = "data_access_log")]
pub async fn data_access_log() -> Result<Vec<DataAccess>, AppError> {
    crate::state::respond(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::service::data_access_log(&state, &actor).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "feature_listing")]
pub async fn feature_listing(id: i64) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::featured::feature(&state, &actor, id).await
        }
        .await,
        "/review",
    )
}

#[server(prefix = "/api/fn", endpoint = "unfeature_listing")]
pub async fn unfeature_listing(id: i64) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::featured::unfeature(&state, &actor, id).await
        }
        .await,
        "/review",
    )
}

/// The featured strip (public); empty while featured slots are off.
#[server(prefix = "/api/fn", endpoint = "featured_listings")]
pub async fn featured_listings() -> Result<Vec<FeaturedCard>, AppError> {
    crate::state::respond(
        async {
            let state = crate::state::app_state()?;
            super::featured::strip(&state).await
        }
        .await,
    )
}

/// A referee declares a partner organisation platform-affiliated; `reason`
/// is published on `/policy`.
#[server(prefix = "/api/fn", endpoint = "declare_affiliation")]
pub async fn declare_affiliation(org: String, reason: String) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            crate::orgs::affiliation::declare(&state, &actor, &org, &reason).await
        }
        .await,
        "/policy#affiliations",
    )
}

/// A referee withdraws a declaration, with a published reason.
#[server(prefix = "/api/fn", endpoint = "withdraw_affiliation")]
pub async fn withdraw_affiliation(org: String, reason: String) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            crate::orgs::affiliation::withdraw(&state, &actor, &org, &reason).await
        }
        .await,
        "/policy#affiliations",
    )
}

/// The ranking formula in force and announced changes (public).
#[server(prefix = "/api/fn", endpoint = "ranking_formula")]
pub async fn ranking_formula() -> Result<super::RankingFormula, AppError> {
    crate::state::respond(
        async {
            let (state, actor) = crate::auth::visit::viewer().await?;
            super::weights::formula(&state, actor.as_ref()).await
        }
        .await,
    )
}

/// A referee announces new ranking weights (percentages adding up to 100)
/// with a published reason; they apply after the notice period.
#[server(prefix = "/api/fn", endpoint = "propose_ranking_weights")]
pub async fn propose_ranking_weights(
    relevance: String,
    adoption: String,
    evaluation: String,
    freshness: String,
    reason: String,
) -> Result<(), AppError> {
    crate::state::respond_then(
        async {
            let (state, actor) = crate::auth::visit::current().await?;
            super::weights::propose(
                &state,
                &actor,
                [&relevance, &adoption, &evaluation, &freshness],
                &reason,
            )
            .await
        }
        .await,
        "/how-ranking-works",
    )
}
