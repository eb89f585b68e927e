//! Platform affiliation. A partner organisation is *platform-affiliated*
//! while one of its members is also platform staff (referee or player), or
//! while a referee's declaration stands (a subsidiary, a staff-run company),
//! whose reason is published. Its listings are labelled and count as
//! first-party for every non-compete rule: conflict cases, sign-off under
//! the flag, the featuring ban and the exposure shares.
//!
//! The flag is stored on the organisation and recomputed inside the
//! transaction of every membership change, so it changes the moment the
//! membership does; each change is in the public history, the audit log,
//! and opens a case that the partners publishing in the same industries
//! are told about.

use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{Actor, Permission};
use crate::cases::db::NewCase;
use crate::error::AppError;
use crate::form::Form;
use crate::policy::{Affiliation, AffiliationEvent};
use crate::state::AppState;
use sqlx::{Any, Row, Transaction};

pub use super::FIRST_PARTY;

/// Why the flag is what it is after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    StaffMember,
    Declared,
    Withdrawn,
    StaffLeft,
}

impl Cause {
    fn as_str(self) -> &'static str {
        match self {
            Cause::StaffMember => "staff_member",
            Cause::Declared => "declared",
            Cause::Withdrawn => "withdrawn",
            Cause::StaffLeft => "staff_left",
        }
    }
}

/// Whether organisation `org_id` publishes as first party (the platform or
/// an affiliated partner), read through the pool or in a transaction.
pub async fn first_party<'e, E>(ex: E, org_id: i64) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let row = sqlx::query(&format!(
        "SELECT CASE WHEN {FIRST_PARTY} THEN 1 ELSE 0 END AS fp FROM organisations o WHERE o.id = $1"
    ))
    .bind(org_id)
    .fetch_optional(ex)
    .await?;
    Ok(row
        .map(|r| r.try_get::<i64, _>("fp"))
        .transpose()?
        .is_some_and(|v| v == 1))
}

/// After `user_id` joined or left `org_id`: when that is the platform, every
/// partner organisation the person belongs to is looked at again; otherwise
/// that one organisation.
pub async fn after_membership_change(
    tx: &mut Transaction<'_, Any>,
    org_id: i64,
    user_id: i64,
    by: Option<&Actor>,
    now: i64,
) -> Result<(), AppError> {
    let platform: bool = sqlx::query("SELECT kind FROM organisations WHERE id = $1")
        .bind(org_id)
        .fetch_one(&mut **tx)
        .await?
        .try_get::<String, _>("kind")?
        == "platform";
    let orgs: Vec<i64> = if platform {
        sqlx::query(
            "SELECT org_id FROM memberships WHERE user_id = $1 AND org_kind = 'partner' ORDER BY org_id",
        )
        .bind(user_id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("org_id"))
        .collect::<Result<_, _>>()?
    } else {
        vec![org_id]
    };
    for org in orgs {
        refresh(tx, org, None, by, now).await?;
    }
    // Adoption leaves out client organisations sharing a member with the
    // publisher: any membership can change what counts.
    crate::catalogue::db::bump_version(tx).await?;
    Ok(())
}

/// Recomputes the flag of `org_id`. `declaration` is the referee's change
/// that triggers it (declared or withdrawn, with its reason): such a change
/// is recorded in the history even when the flag stays as it was.
async fn refresh(
    tx: &mut Transaction<'_, Any>,
    org_id: i64,
    declaration: Option<(Cause, &str)>,
    by: Option<&Actor>,
    now: i64,
) -> Result<(), AppError> {
    let row = sqlx::query(
        "SELECT o.kind, o.name, o.affiliated, \
           (SELECT COUNT(*) FROM memberships m JOIN memberships s ON s.user_id = m.user_id \
              AND s.org_kind = 'platform' WHERE m.org_id = o.id) AS staff, \
           (SELECT COUNT(*) FROM affiliation_declarations d WHERE d.org_id = o.id) AS declared \
         FROM organisations o WHERE o.id = $1",
    )
    .bind(org_id)
    .fetch_one(&mut **tx)
    .await?;
    if row.try_get::<String, _>("kind")? != "partner" {
        return Ok(());
    }
    let name: String = row.try_get("name")?;
    let was = row.try_get::<i64, _>("affiliated")? == 1;
    let staff = row.try_get::<i64, _>("staff")? > 0;
    let declared = row.try_get::<i64, _>("declared")? > 0;
    let is = staff || declared;
    let (cause, reason) = match (declaration, is) {
        (Some((cause, reason)), _) => (cause, reason.to_string()),
        (None, _) if is == was => return Ok(()),
        (None, true) => (
            Cause::StaffMember,
            "A member of this organisation is also platform staff.".to_string(),
        ),
        (None, false) => (
            Cause::StaffLeft,
            "No member of this organisation is platform staff any more.".to_string(),
        ),
    };
    sqlx::query("UPDATE organisations SET affiliated = $1 WHERE id = $2")
        .bind(i64::from(is))
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO affiliation_history (org_id, affiliated, cause, reason, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(org_id)
    .bind(i64::from(is))
    .bind(cause.as_str())
    .bind(&reason)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    append(
        tx,
        &NewEntry {
            actor_user_id: by.map(|a| a.user_id),
            org_id: Some(org_id),
            action: "org.affiliation_changed".into(),
            target: format!("org:{org_id}"),
            client_ip: by.map(|a| a.origin.client_ip.clone()).unwrap_or_default(),
            details: serde_json::json!({
                "affiliated": is, "was": was, "cause": cause.as_str(), "staff_member": staff, "declared": declared,
            }),
        },
        now,
    )
    .await?;
    if is != was {
        // Labels, and the publisher's place in the exposure split, change.
        crate::catalogue::db::bump_version(tx).await?;
    }
    if is && !was {
        open_case(tx, org_id, &name, &reason, by.map(|a| a.user_id), now).await?;
    }
    Ok(())
}

/// The case of an organisation becoming affiliated: it is a party, and so
/// are the partners publishing in an industry where it has a listing, who
/// are told.
async fn open_case(
    tx: &mut Transaction<'_, Any>,
    org_id: i64,
    name: &str,
    reason: &str,
    by: Option<i64>,
    now: i64,
) -> Result<(), AppError> {
    let parties: Vec<i64> = sqlx::query(&format!(
        "SELECT DISTINCT l.org_id FROM listings l JOIN organisations o ON o.id = l.org_id \
         WHERE l.status = 'published' AND NOT {FIRST_PARTY} AND l.industry IN \
           (SELECT industry FROM listings WHERE org_id = $1 AND status <> 'retired') \
         ORDER BY l.org_id"
    ))
    .bind(org_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.try_get("org_id"))
    .collect::<Result<_, _>>()?;
    // One case per period of affiliation: the history row just written
    // tells this period from an earlier one.
    let period: i64 =
        sqlx::query("SELECT MAX(id) AS id FROM affiliation_history WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(&mut **tx)
            .await?
            .try_get("id")?;
    let case = NewCase {
        kind: "affiliation",
        severity: "high",
        title: format!("“{name}” is now platform-affiliated: {reason}"),
        industry: None,
        listing_id: None,
        opened_by: by,
        dedupe_key: Some(format!("affiliation:{org_id}:{period}")),
        parties: std::iter::once(org_id)
            .chain(parties.iter().copied())
            .collect(),
        listings: vec![],
    };
    let (id, _) = crate::cases::db::open(tx, &case, now).await?;
    for org in parties {
        crate::notifications::db::notify(
            tx,
            org,
            "conflict_case",
            &format!("“{name}”, which publishes where you do, is now platform-affiliated: its listings count as the platform's own."),
            &format!("/cases/{id}"),
            now,
        )
        .await?;
    }
    Ok(())
}

/// The organisation chosen and the reason given, checked field by field.
fn declaration_form(org: &str, reason: &str) -> Result<(i64, String), AppError> {
    let mut f = Form::new();
    let org = org.trim().parse::<i64>().ok().filter(|id| *id > 0);
    if org.is_none() {
        f.fail("org", "Choose a partner organisation.");
    }
    let r = crate::listings::input::reason(&mut f, reason);
    f.done().map(|()| (org.unwrap_or_default(), r))
}

async fn partner_for_referee(
    state: &AppState,
    actor: &Actor,
    org_id: i64,
    verb: &str,
) -> Result<i64, AppError> {
    let m = actor.require(Permission::Referee)?;
    let kind: Option<String> = sqlx::query("SELECT kind FROM organisations WHERE id = $1")
        .bind(org_id)
        .fetch_optional(state.db.pool())
        .await?
        .map(|r| r.try_get("kind"))
        .transpose()?;
    match kind.as_deref() {
        Some("partner") => {}
        Some(_) => {
            return Err(AppError::field(
                "org",
                "Only a partner organisation can be declared affiliated.",
            ))
        }
        None => return Err(AppError::field("org", "Choose a partner organisation.")),
    }
    crate::policy::recusal::refuse_if_party(
        state,
        actor,
        m.org_id,
        &[org_id],
        &format!("org:{org_id}"),
        verb,
    )
    .await?;
    Ok(m.org_id)
}

/// A referee declares a partner organisation affiliated, with a reason
/// that is published on `/policy`.
pub async fn declare(
    state: &AppState,
    actor: &Actor,
    org: &str,
    reason: &str,
) -> Result<(), AppError> {
    change_declaration(state, actor, org, reason, Cause::Declared).await
}

/// A referee withdraws a declaration (the organisation stays affiliated
/// while a member is staff).
pub async fn withdraw(
    state: &AppState,
    actor: &Actor,
    org: &str,
    reason: &str,
) -> Result<(), AppError> {
    change_declaration(state, actor, org, reason, Cause::Withdrawn).await
}

/// Records (`Declared`) or removes (`Withdrawn`) a referee's declaration,
/// then recomputes the flag and audits the change, in one transaction.
async fn change_declaration(
    state: &AppState,
    actor: &Actor,
    org: &str,
    reason: &str,
    cause: Cause,
) -> Result<(), AppError> {
    actor.require(Permission::Referee)?;
    let declaring = cause == Cause::Declared;
    let (org_id, reason) = declaration_form(org, reason)?;
    let verb = if declaring {
        "declared affiliated"
    } else {
        "affiliation withdrawn"
    };
    let staff_org = partner_for_referee(state, actor, org_id, verb).await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let changed = if declaring {
        sqlx::query(
            "INSERT INTO affiliation_declarations (org_id, reason, declared_by, declared_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id) DO NOTHING",
        )
        .bind(org_id)
        .bind(&reason)
        .bind(actor.user_id)
        .bind(now)
        .execute(&mut **tx)
        .await?
    } else {
        sqlx::query("DELETE FROM affiliation_declarations WHERE org_id = $1")
            .bind(org_id)
            .execute(&mut **tx)
            .await?
    };
    if changed.rows_affected() == 0 {
        return Err(AppError::Conflict(
            if declaring {
                "This organisation is already declared affiliated."
            } else {
                "This organisation has no declaration to withdraw."
            }
            .into(),
        ));
    }
    refresh(&mut tx, org_id, Some((cause, &reason)), Some(actor), now).await?;
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            if declaring {
                "org.affiliation_declared"
            } else {
                "org.affiliation_withdrawn"
            },
            Some(staff_org),
            format!("org:{org_id}"),
            serde_json::json!({ "reason": reason }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every partner organisation that is or was affiliated, with its history
/// (public: names, dates, causes and the referees' published reasons; never
/// which member is staff).
pub async fn public_list(db: &crate::db::Db) -> Result<Vec<Affiliation>, AppError> {
    let rows = sqlx::query(
        "SELECT o.id, o.name, o.affiliated, h.affiliated AS now_affiliated, h.cause, h.reason, h.at \
         FROM affiliation_history h JOIN organisations o ON o.id = h.org_id \
         ORDER BY o.affiliated DESC, o.name, o.id, h.at, h.id",
    )
    .fetch_all(db.pool())
    .await?;
    let mut out: Vec<Affiliation> = Vec::new();
    for r in rows {
        let id: i64 = r.try_get("id")?;
        if out.last().is_none_or(|a| a.org_id != id) {
            out.push(Affiliation {
                org_id: id,
                name: r.try_get("name")?,
                affiliated: r.try_get::<i64, _>("affiliated")? == 1,
                history: Vec::new(),
            });
        }
        if let Some(a) = out.last_mut() {
            a.history.push(AffiliationEvent {
                affiliated: r.try_get::<i64, _>("now_affiliated")? == 1,
                cause: r.try_get("cause")?,
                reason: r.try_get("reason")?,
                at: r.try_get("at")?,
            });
        }
    }
    Ok(out)
}

/// Partner organisations a referee may declare, or withdraw: (id, name,
/// declared).
pub async fn partner_choices(db: &crate::db::Db) -> Result<Vec<(i64, String, bool)>, AppError> {
    sqlx::query(
        "SELECT o.id, o.name, CASE WHEN EXISTS (SELECT 1 FROM affiliation_declarations d WHERE d.org_id = o.id) THEN 1 ELSE 0 END AS declared \
         FROM organisations o WHERE o.kind = 'partner' ORDER BY o.name, o.id LIMIT 1000",
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("id")?,
            r.try_get("name")?,
            r.try_get::<i64, _>("declared")? == 1,
        ))
    })
    .collect()
}
