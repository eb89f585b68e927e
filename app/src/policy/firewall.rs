//! The data firewall's record: every read of a partner's non-public data by
//! someone outside the partner (a referee's read, or a player's refused
//! attempt) is written — with its audit entry, in one transaction — before
//! the data is returned, and listed on the partner's "Who accessed our data"
//! page.
//!
//! A player's refused attempt opens a conflict case against them only when
//! the request came from this site's own pages. Following a link is a GET,
//! and a link on another site is enough to make a signed-in player's
//! browser send one (the session cookie is `SameSite=Lax`): such an attempt
//! is recorded, refused, and not held against the person. What counts as
//! this site's own pages is `request::Origin::of`.

use super::DataAccess;
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::Actor;
use crate::db::Db;
use crate::error::AppError;
use crate::state::AppState;
use sqlx::Row;

pub enum Outcome {
    Read,
    /// Refused, with the conflict case the attempt opens.
    Refused(crate::cases::db::NewCase),
}

impl Outcome {
    fn as_str(&self) -> &'static str {
        match self {
            Outcome::Read => "read",
            Outcome::Refused(_) => "refused",
        }
    }
}

/// Records that `actor` read (or was refused) `what`, belonging to the
/// partner organisation `partner_org`.
pub async fn record(
    state: &AppState,
    actor: &Actor,
    partner_org: i64,
    what: &str,
    outcome: Outcome,
) -> Result<(), AppError> {
    record_all(state, actor, vec![(partner_org, what.to_string(), outcome)]).await
}

/// Records several reads (e.g. every partner listing a page shows) in one
/// transaction.
pub async fn record_all(
    state: &AppState,
    actor: &Actor,
    reads: Vec<(i64, String, Outcome)>,
) -> Result<(), AppError> {
    write(state, actor, reads, false).await
}

/// As `record_all`, for a list the reader comes back to (the review
/// queue): a read the same person already made the same UTC day, of the
/// same thing in the same state, is not written again, so the partner's
/// log holds one row per thing read, not one per page load.
pub async fn record_new(
    state: &AppState,
    actor: &Actor,
    reads: Vec<(i64, String, Outcome)>,
) -> Result<(), AppError> {
    write(state, actor, reads, true).await
}

async fn write(
    state: &AppState,
    actor: &Actor,
    reads: Vec<(i64, String, Outcome)>,
    once_a_day: bool,
) -> Result<(), AppError> {
    if reads.is_empty() {
        return Ok(());
    }
    let now = state.clock.now_ms();
    let actor_org = actor
        .membership
        .as_ref()
        .or(actor.platform_staff())
        .map(|m| m.org_id);
    let from_own_pages = actor.origin.from_own_pages;
    let mut tx = state.db.begin_write().await?;
    let day_start = now - now.rem_euclid(86_400_000);
    for (partner_org, what, outcome) in reads {
        if once_a_day
            && sqlx::query(
                "SELECT 1 AS seen FROM data_access_log WHERE org_id = $1 AND at >= $2 \
                 AND actor_user_id = $3 AND what = $4 AND outcome = $5 LIMIT 1",
            )
            .bind(partner_org)
            .bind(day_start)
            .bind(actor.user_id)
            .bind(&what)
            .bind(outcome.as_str())
            .fetch_optional(&mut **tx)
            .await?
            .is_some()
        {
            continue;
        }
        sqlx::query(
            "INSERT INTO data_access_log (org_id, actor_user_id, actor_org_id, what, outcome, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(partner_org)
        .bind(actor.user_id)
        .bind(actor_org)
        .bind(&what)
        .bind(outcome.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let mut details = serde_json::json!({ "what": what });
        let action = match &outcome {
            Outcome::Read => "partner_data.read",
            Outcome::Refused(case) if from_own_pages => {
                crate::cases::db::open(&mut tx, case, now).await?;
                "partner_data.refused"
            }
            Outcome::Refused(_) => {
                details["from_another_site"] = serde_json::json!(true);
                "partner_data.refused"
            }
        };
        append(
            &mut tx,
            &NewEntry::by(
                actor,
                action,
                actor_org,
                format!("org:{partner_org}"),
                details,
            ),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The organisation's access log, newest first.
pub async fn log_of(db: &Db, org_id: i64) -> Result<Vec<DataAccess>, AppError> {
    Ok(sqlx::query(
        "SELECT a.at, a.what, a.outcome, u.display_name, u.email, o.name AS org_name \
         FROM data_access_log a \
         LEFT JOIN users u ON u.id = a.actor_user_id \
         LEFT JOIN organisations o ON o.id = a.actor_org_id \
         WHERE a.org_id = $1 ORDER BY a.at DESC, a.id DESC LIMIT 500",
    )
    .bind(org_id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| -> Result<DataAccess, sqlx::Error> {
        let name: Option<String> = r.try_get("display_name")?;
        let email: Option<String> = r.try_get("email")?;
        Ok(DataAccess {
            at: r.try_get("at")?,
            who: match (name, email) {
                (Some(n), Some(e)) => format!("{n} <{e}>"),
                _ => "a deleted account".into(),
            },
            their_org: r
                .try_get::<Option<String>, _>("org_name")?
                .unwrap_or_default(),
            what: r.try_get("what")?,
            refused: r.try_get::<String, _>("outcome")? == "refused",
        })
    })
    .collect::<Result<_, _>>()?)
}
