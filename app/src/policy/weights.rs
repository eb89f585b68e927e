//! The ranking's weights as policy. A referee proposes new weights with a
//! reason; the proposal is public at once (on `/how-ranking-works` and in
//! the policy's history) and applies from the first UTC midnight at least
//! the notice period later. Nothing about the change can take effect
//! sooner: each catalogue index is built with the formula in force on its
//! day.

use super::{Formula, PolicyChange, RankingFormula};
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{Actor, Permission};
use crate::catalogue::ranking::Weights;
use crate::error::{AppError, FieldErrors};
use crate::state::AppState;
use sqlx::Row;

const DAY_MS: i64 = 86_400_000;

/// "55 / 20 / 15 / 10": relevance, adoption, evaluation, freshness.
pub fn label(w: &Weights) -> String {
    [
        w.relevance_bp,
        w.adoption_bp,
        w.evaluation_bp,
        w.freshness_bp,
    ]
    .map(super::format_rate)
    .join(" / ")
}

/// The first UTC midnight at least `notice_days` after `now`.
pub fn effective_from(now: i64, notice_days: i64) -> i64 {
    let earliest = now + notice_days * DAY_MS;
    (earliest + DAY_MS - 1).div_euclid(DAY_MS) * DAY_MS
}

async fn all(state: &AppState) -> Result<Vec<Formula>, AppError> {
    sqlx::query(
        "SELECT relevance_bp, adoption_bp, evaluation_bp, freshness_bp, reason, proposed_at, effective_at \
         FROM ranking_weights ORDER BY effective_at DESC, id DESC LIMIT 200",
    )
    .fetch_all(state.db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(Formula {
            weights: crate::catalogue::db::weights_of(r)?,
            reason: r.try_get("reason")?,
            proposed_at: r.try_get("proposed_at")?,
            effective_at: r.try_get("effective_at")?,
        })
    })
    .collect::<Result<_, sqlx::Error>>()
    .map_err(AppError::from)
}

/// The formula in force now, the announced ones, the earlier ones.
pub async fn formula(state: &AppState, viewer: Option<&Actor>) -> Result<RankingFormula, AppError> {
    let now = state.clock.now_ms();
    // In force from a midnight on: the one the day's index ranks with.
    let today = now.div_euclid(DAY_MS) * DAY_MS;
    let rows = all(state).await?;
    let (announced, begun): (Vec<Formula>, Vec<Formula>) =
        rows.into_iter().partition(|f| f.effective_at > today);
    let mut begun = begun.into_iter();
    let in_force = begun.next().unwrap_or(Formula {
        weights: Weights::OPENING,
        reason: String::new(),
        proposed_at: 0,
        effective_at: 0,
    });
    Ok(RankingFormula {
        in_force,
        announced: announced.into_iter().rev().collect(),
        past: begun.collect(),
        notice_days: super::db::current(&state.db).await?.ranking_notice_days,
        can_propose: viewer.is_some_and(|a| a.require(Permission::Referee).is_ok()),
    })
}

/// A referee announces `weights` (percentages: relevance, adoption,
/// evaluation, freshness) with a published `reason`.
pub async fn propose(
    state: &AppState,
    actor: &Actor,
    weights: [&str; 4],
    reason: &str,
) -> Result<(), AppError> {
    let m = actor.require(Permission::Referee)?;
    let mut fields = FieldErrors::new();
    let mut bp = [0_i64; 4];
    for ((name, raw), slot) in ["relevance", "adoption", "evaluation", "freshness"]
        .iter()
        .zip(weights)
        .zip(bp.iter_mut())
    {
        match super::parse_rate(raw) {
            Some(v) => *slot = v,
            None => {
                fields.insert(
                    (*name).into(),
                    vec!["Give a percentage from 0 to 100 with at most two decimals.".into()],
                );
            }
        }
    }
    let proposed = Weights::new(bp[0], bp[1], bp[2], bp[3]);
    if fields.is_empty() && proposed.is_none() {
        fields.insert(
            "weights".into(),
            vec![format!(
                "The four weights must add up to 100 % (these add up to {}).",
                super::format_rate(bp.iter().sum())
            )],
        );
    }
    let reason = reason.trim();
    if !(5..=500).contains(&reason.chars().count()) {
        fields.insert(
            "reason".into(),
            vec![
                "Say why, in 5 to 500 characters: the reason is published with the change.".into(),
            ],
        );
    }
    let Some(proposed) = proposed.filter(|_| fields.is_empty()) else {
        return Err(AppError::Validation { fields });
    };
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let policy = super::db::current_in(&mut tx).await?;
    let effective_at = effective_from(now, policy.ranking_notice_days);
    // The formula that would otherwise be in force then.
    let before = crate::catalogue::db::weights_in_force(&mut **tx, effective_at).await?;
    if before == proposed {
        return Err(AppError::Conflict(
            "Nothing changed: these are the weights that will be in force then.".into(),
        ));
    }
    sqlx::query(
        "INSERT INTO ranking_weights (relevance_bp, adoption_bp, evaluation_bp, freshness_bp, reason, proposed_by, proposed_at, effective_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(proposed.relevance_bp)
    .bind(proposed.adoption_bp)
    .bind(proposed.evaluation_bp)
    .bind(proposed.freshness_bp)
    .bind(reason)
    .bind(actor.user_id)
    .bind(now)
    .bind(effective_at)
    .execute(&mut **tx)
    .await?;
    let after = format!(
        "{} from {}",
        label(&proposed),
        crate::ui::format::date(effective_at)
    );
    super::db::record_change(
        &mut tx,
        actor.user_id,
        &PolicyChange {
            setting: "ranking_weights".into(),
            before: label(&before),
            after: after.clone(),
            reason: reason.into(),
            at: now,
        },
    )
    .await?;
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "ranking.weights_announced",
            Some(m.org_id),
            "policy".into(),
            serde_json::json!({
                "before": label(&before), "after": label(&proposed),
                "effective_at": effective_at, "reason": reason,
            }),
        ),
        now,
    )
    .await?;
    // Anonymous pages cached for this version show the announcement at once.
    crate::catalogue::db::bump_version(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_applies_from_the_first_midnight_after_the_notice() {
        let noon = 20_000 * DAY_MS + DAY_MS / 2;
        assert_eq!(effective_from(noon, 15), 20_016 * DAY_MS);
        let midnight = 20_000 * DAY_MS;
        assert_eq!(effective_from(midnight, 15), 20_015 * DAY_MS);
        assert_eq!(label(&Weights::OPENING), "55 % / 20 % / 15 % / 10 %");
    }
}
