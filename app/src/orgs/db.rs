//! SQL for organisations.

use super::OrgKind;
use sqlx::{Any, Row, Transaction};

/// Creates the organisation unless one with this slug exists, and returns its
/// id either way. Used by seeding; sign-up flows create organisations
/// through their own checks.
pub async fn ensure_org(
    tx: &mut Transaction<'_, Any>,
    slug: &str,
    name: &str,
    kind: OrgKind,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO organisations (slug, name, kind, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (slug) DO NOTHING",
    )
    .bind(slug)
    .bind(name)
    .bind(kind.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query("SELECT id FROM organisations WHERE slug = $1")
        .bind(slug)
        .fetch_one(&mut **tx)
        .await?;
    row.try_get("id")
}

/// Every organisation's name, read in a write transaction that new names
/// wait on: on PostgreSQL a transaction-scoped advisory lock makes two
/// sign-ups with look-alike names take turns (SQLite writers already do).
pub async fn names_for_new_org(
    tx: &mut Transaction<'_, Any>,
    backend: crate::db::Backend,
) -> Result<Vec<String>, sqlx::Error> {
    if backend == crate::db::Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7061726) AS locked")
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query_scalar("SELECT name FROM organisations")
        .fetch_all(&mut **tx)
        .await
}

/// The platform organisation's id, if it has been created.
pub async fn platform_org_id(tx: &mut Transaction<'_, Any>) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query("SELECT id FROM organisations WHERE kind = 'platform'")
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| r.try_get("id")).transpose()
}

use super::{InvitationView, MemberView, OrgSummary, Role, StaffRole};
use crate::db::{on_unique, Db, UniqueKey};
use crate::error::AppError;

/// A person's membership of one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub org_id: i64,
    pub org_name: String,
    pub kind: OrgKind,
    pub role: Role,
    pub staff_role: Option<StaffRole>,
}

/// The `role` and `staff_role` columns of a row.
fn roles(row: &sqlx::any::AnyRow) -> Result<(Role, Option<StaffRole>), AppError> {
    let role: String = row.try_get("role")?;
    let staff: Option<String> = row.try_get("staff_role")?;
    Ok((
        Role::parse(&role).ok_or_else(|| AppError::internal("role", &role))?,
        staff.as_deref().and_then(StaffRole::parse),
    ))
}

/// The `kind` column of a row.
fn kind(row: &sqlx::any::AnyRow) -> Result<OrgKind, AppError> {
    let kind: String = row.try_get("kind")?;
    OrgKind::parse(&kind).ok_or_else(|| AppError::internal("org kind", &kind))
}

pub(crate) fn membership_from(row: &sqlx::any::AnyRow) -> Result<Membership, AppError> {
    let (role, staff_role) = roles(row)?;
    Ok(Membership {
        org_id: row.try_get("org_id")?,
        org_name: row.try_get("name")?,
        kind: kind(row)?,
        role,
        staff_role,
    })
}

const MEMBERSHIP_SELECT: &str = "SELECT m.org_id, o.name, o.kind, m.role, m.staff_role \
     FROM memberships m JOIN organisations o ON o.id = m.org_id";

/// `user_id`'s membership of `org_id`, if any.
pub async fn membership(
    db: &Db,
    user_id: i64,
    org_id: i64,
) -> Result<Option<Membership>, AppError> {
    let row = sqlx::query(&format!(
        "{MEMBERSHIP_SELECT} WHERE m.user_id = $1 AND m.org_id = $2"
    ))
    .bind(user_id)
    .bind(org_id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(membership_from).transpose()
}

/// Every organisation `user_id` belongs to, oldest membership first.
pub async fn memberships_of(db: &Db, user_id: i64) -> Result<Vec<Membership>, AppError> {
    let rows = sqlx::query(&format!(
        "{MEMBERSHIP_SELECT} WHERE m.user_id = $1 ORDER BY m.created_at, m.id"
    ))
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(membership_from).collect()
}

pub fn summaries(memberships: Vec<Membership>, current: Option<i64>) -> Vec<OrgSummary> {
    memberships
        .into_iter()
        .map(|m| OrgSummary {
            id: m.org_id,
            name: m.org_name,
            kind: m.kind,
            role: m.role,
            staff_role: m.staff_role,
            current: Some(m.org_id) == current,
        })
        .collect()
}

/// Creates an organisation with a slug derived from its name (made unique
/// with a number when taken); returns its id.
pub async fn create_org(
    tx: &mut Transaction<'_, Any>,
    name: &str,
    kind: OrgKind,
    now_ms: i64,
) -> Result<i64, AppError> {
    let base: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let base = if base.is_empty() {
        "org".to_string()
    } else {
        base.chars().take(60).collect()
    };
    for n in 1..1000 {
        let slug = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let row = sqlx::query(
            "INSERT INTO organisations (slug, name, kind, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (slug) DO NOTHING RETURNING id",
        )
        .bind(&slug)
        .bind(name)
        .bind(kind.as_str())
        .bind(now_ms)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = row {
            return Ok(row.try_get("id")?);
        }
    }
    Err(AppError::Conflict(
        "Too many organisations share this name.".into(),
    ))
}

/// Serialises membership changes of one organisation (a row lock on
/// PostgreSQL; SQLite write transactions are serial already), so checks such
/// as "is this the last owner" cannot race.
pub async fn lock_org(tx: &mut Transaction<'_, Any>, org_id: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE organisations SET slug = slug WHERE id = $1")
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Adds a member. The caller then looks at affiliation again
/// (`affiliation::after_membership_change`), in the same transaction.
pub async fn add_member(
    tx: &mut Transaction<'_, Any>,
    org_id: i64,
    kind: OrgKind,
    user_id: i64,
    role: Role,
    staff_role: Option<StaffRole>,
    now_ms: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO memberships (org_id, org_kind, user_id, role, staff_role, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org_id)
    .bind(kind.as_str())
    .bind(user_id)
    .bind(role.as_str())
    .bind(staff_role.map(StaffRole::as_str))
    .bind(now_ms)
    .execute(&mut **tx)
    .await
    .map_err(on_unique(&[MEMBERSHIP], || {
        AppError::Conflict("This person is already a member of the organisation.".into())
    }))?;
    Ok(())
}

const MEMBERSHIP: UniqueKey = UniqueKey::new(
    "memberships_org_user_key",
    "memberships.org_id, memberships.user_id",
);

pub async fn members(db: &Db, org_id: i64) -> Result<Vec<MemberView>, AppError> {
    let rows = sqlx::query(
        "SELECT u.id, u.display_name, u.email, m.role, m.staff_role FROM memberships m \
         JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY m.created_at, m.id",
    )
    .bind(org_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let (role, staff_role) = roles(r)?;
            Ok(MemberView {
                user_id: r.try_get("id")?,
                display_name: r.try_get("display_name")?,
                email: r.try_get("email")?,
                role,
                staff_role,
            })
        })
        .collect()
}

/// The member's role in `org_id` (within the transaction), if a member.
pub async fn role_of(
    tx: &mut Transaction<'_, Any>,
    org_id: i64,
    user_id: i64,
) -> Result<Option<Role>, AppError> {
    let row = sqlx::query("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row
        .map(|r| r.try_get::<String, _>("role"))
        .transpose()?
        .as_deref()
        .and_then(Role::parse))
}

pub async fn owner_count(tx: &mut Transaction<'_, Any>, org_id: i64) -> Result<i64, AppError> {
    Ok(
        sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE org_id = $1 AND role = 'owner'")
            .bind(org_id)
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?,
    )
}

pub async fn set_role(
    tx: &mut Transaction<'_, Any>,
    org_id: i64,
    user_id: i64,
    role: Role,
) -> Result<(), AppError> {
    sqlx::query("UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3")
        .bind(role.as_str())
        .bind(org_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Removes a member. The caller then looks at affiliation again
/// (`affiliation::after_membership_change`), in the same transaction.
pub async fn remove_member(
    tx: &mut Transaction<'_, Any>,
    org_id: i64,
    user_id: i64,
) -> Result<(), AppError> {
    sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A stored invitation.
pub struct InvitationRow {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub org_kind: OrgKind,
    pub email: String,
    pub role: Role,
    pub staff_role: Option<StaffRole>,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub struct NewInvitation<'a> {
    pub org_id: i64,
    pub email: &'a str,
    pub role: Role,
    pub staff_role: Option<StaffRole>,
    pub token_hash: &'a str,
    pub invited_by: Option<i64>,
    pub expires_at: i64,
}

pub async fn insert_invitation(
    tx: &mut Transaction<'_, Any>,
    i: &NewInvitation<'_>,
    now_ms: i64,
) -> Result<i64, AppError> {
    Ok(sqlx::query(
        "INSERT INTO invitations (org_id, email, role, staff_role, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(i.org_id)
    .bind(i.email)
    .bind(i.role.as_str())
    .bind(i.staff_role.map(StaffRole::as_str))
    .bind(i.token_hash)
    .bind(i.invited_by)
    .bind(now_ms)
    .bind(i.expires_at)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?)
}

pub async fn invitation_by_token(
    db: &Db,
    token_hash: &str,
) -> Result<Option<InvitationRow>, AppError> {
    let row = sqlx::query(
        "SELECT i.id, i.org_id, o.name, o.kind, i.email, i.role, i.staff_role, i.expires_at, i.accepted_at, i.revoked_at \
         FROM invitations i JOIN organisations o ON o.id = i.org_id WHERE i.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let (role, staff_role) = roles(&r)?;
    Ok(Some(InvitationRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("name")?,
        org_kind: kind(&r)?,
        email: r.try_get("email")?,
        role,
        staff_role,
        expires_at: r.try_get("expires_at")?,
        accepted_at: r.try_get("accepted_at")?,
        revoked_at: r.try_get("revoked_at")?,
    }))
}

/// Marks the invitation used; false when it was already used, revoked or
/// expired (so two accepts of one link cannot both succeed).
pub async fn claim_invitation(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    user_id: i64,
    now_ms: i64,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE invitations SET accepted_at = $1, accepted_by = $2 \
         WHERE id = $3 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now_ms)
    .bind(user_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes a pending invitation of `org_id`; false when there is none.
pub async fn revoke_invitation(
    tx: &mut Transaction<'_, Any>,
    org_id: i64,
    id: i64,
    now_ms: i64,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now_ms)
    .bind(id)
    .bind(org_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn pending_invitations(
    db: &Db,
    org_id: i64,
    now_ms: i64,
) -> Result<Vec<InvitationView>, AppError> {
    let rows = sqlx::query(
        "SELECT id, email, role, staff_role, expires_at FROM invitations \
         WHERE org_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 ORDER BY id",
    )
    .bind(org_id)
    .bind(now_ms)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let (role, staff_role) = roles(r)?;
            Ok(InvitationView {
                id: r.try_get("id")?,
                email: r.try_get("email")?,
                role,
                staff_role,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .collect()
}

pub async fn insert_outbox(
    tx: &mut Transaction<'_, Any>,
    org_id: Option<i64>,
    to: &str,
    subject: &str,
    body: &str,
    now_ms: i64,
) -> Result<(), AppError> {
    sqlx::query("INSERT INTO outbox (org_id, to_email, subject, body, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(org_id)
        .bind(to)
        .bind(subject)
        .bind(body)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The platform organisation's id and name, if it exists.
pub async fn platform_org(db: &Db) -> Result<Option<(i64, String)>, AppError> {
    let row = sqlx::query("SELECT id, name FROM organisations WHERE kind = 'platform'")
        .fetch_optional(db.pool())
        .await?;
    Ok(row
        .map(|r| Ok::<_, sqlx::Error>((r.try_get("id")?, r.try_get("name")?)))
        .transpose()?)
}

/// An organisation's kind, or None if there is no such organisation.
pub async fn kind_of(db: &Db, org_id: i64) -> Result<Option<OrgKind>, AppError> {
    let row = sqlx::query("SELECT kind FROM organisations WHERE id = $1")
        .bind(org_id)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| -> Result<OrgKind, AppError> {
        let kind: String = r.try_get("kind")?;
        OrgKind::parse(&kind).ok_or_else(|| AppError::internal("org kind", &kind))
    })
    .transpose()
}
