//! SQL for conflict cases. Opening runs inside the transaction of whatever
//! triggered the case, so a case exists exactly when its trigger committed.

use super::{CaseEvent, CaseListing, CaseRow};
use crate::db::Db;
use crate::error::AppError;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

pub struct NewCase {
    pub kind: &'static str,
    pub severity: &'static str,
    pub title: String,
    pub industry: Option<String>,
    pub listing_id: Option<i64>,
    pub opened_by: Option<i64>,
    /// One case per key: a second trigger with the same key adds its
    /// parties and listings to the existing case.
    pub dedupe_key: Option<String>,
    pub parties: Vec<i64>,
    pub listings: Vec<i64>,
}

/// Opens the case (or finds the one with its dedupe key); returns its id and
/// the parties that are new to it.
pub async fn open(
    tx: &mut Transaction<'_, Any>,
    c: &NewCase,
    now_ms: i64,
) -> Result<(i64, Vec<i64>), sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO conflict_cases (kind, severity, title, industry, listing_id, opened_by_user_id, opened_at, dedupe_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(c.kind)
    .bind(c.severity)
    .bind(&c.title)
    .bind(c.industry.as_deref())
    .bind(c.listing_id)
    .bind(c.opened_by)
    .bind(now_ms)
    .bind(c.dedupe_key.as_deref())
    .fetch_optional(&mut **tx)
    .await?;
    let (id, fresh) = match inserted {
        Some(row) => (row.try_get::<i64, _>("id")?, true),
        None => (
            sqlx::query("SELECT id FROM conflict_cases WHERE dedupe_key = $1")
                .bind(c.dedupe_key.as_deref())
                .fetch_one(&mut **tx)
                .await?
                .try_get("id")?,
            false,
        ),
    };
    if fresh {
        event(tx, id, c.opened_by, &format!("Opened: {}", c.title), now_ms).await?;
    } else {
        // A later trigger (e.g. submission, with tags now known) re-rates it.
        sqlx::query("UPDATE conflict_cases SET severity = $1 WHERE id = $2")
            .bind(c.severity)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    let mut new_parties = Vec::new();
    for org in &c.parties {
        let done = sqlx::query(
            "INSERT INTO case_parties (case_id, org_id) VALUES ($1, $2) ON CONFLICT (case_id, org_id) DO NOTHING",
        )
        .bind(id)
        .bind(org)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 1 {
            new_parties.push(*org);
        }
    }
    for l in &c.listings {
        sqlx::query(
            "INSERT INTO case_listings (case_id, listing_id) VALUES ($1, $2) ON CONFLICT (case_id, listing_id) DO NOTHING",
        )
        .bind(id)
        .bind(l)
        .execute(&mut **tx)
        .await?;
    }
    Ok((id, new_parties))
}

pub async fn event(
    tx: &mut Transaction<'_, Any>,
    case_id: i64,
    actor: Option<i64>,
    what: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_events (case_id, actor_user_id, what, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(case_id)
    .bind(actor)
    .bind(what)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Published partner listings in an industry: (listing id, org id).
pub async fn partner_listings_in(
    tx: &mut Transaction<'_, Any>,
    industry: &str,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    kind_listings_in(tx, industry, false).await
}

/// Published first-party listings in an industry: (listing id, org id).
pub async fn first_party_listings_in(
    tx: &mut Transaction<'_, Any>,
    industry: &str,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    kind_listings_in(tx, industry, true).await
}

/// Published listings in an industry whose publisher is first party (the
/// platform or an affiliated partner) or not.
async fn kind_listings_in(
    tx: &mut Transaction<'_, Any>,
    industry: &str,
    first_party: bool,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT l.id, l.org_id FROM listings l JOIN organisations o ON o.id = l.org_id \
         WHERE l.industry = $1 AND l.status = 'published' AND {}{} ORDER BY l.id",
        if first_party { "" } else { "NOT " },
        crate::orgs::FIRST_PARTY
    ))
    .bind(industry)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("org_id")?)))
    .collect()
}

/// The name of a listing's publisher when it is a platform-affiliated
/// partner (not the platform itself).
pub async fn affiliated_publisher(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query(
        "SELECT o.name FROM listings l JOIN organisations o ON o.id = l.org_id \
         WHERE l.id = $1 AND o.kind = 'partner' AND o.affiliated = 1",
    )
    .bind(listing_id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.try_get("name"))
    .transpose()
}

/// A listing's tags, inside the trigger's transaction.
pub async fn tags_in(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    crate::listings::db::labels(&mut **tx, crate::listings::db::Labels::Tags, listing_id).await
}

/// The sign-off of the first-party overlap case of a listing, if any case.
pub async fn sign_off_of(
    tx: &mut Transaction<'_, Any>,
    dedupe_key: &str,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query("SELECT id, sign_off FROM conflict_cases WHERE dedupe_key = $1")
        .bind(dedupe_key)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| Ok((r.try_get("id")?, r.try_get("sign_off")?)))
        .transpose()
}

pub async fn all_partner_orgs(tx: &mut Transaction<'_, Any>) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query("SELECT id FROM organisations WHERE kind = 'partner' ORDER BY id")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect()
}

const ROW: &str = "SELECT c.id, c.kind, c.severity, c.status, c.title, c.opened_at, c.sign_off, c.industry, c.note, c.listing_id FROM conflict_cases c";

fn row_from(r: &AnyRow) -> Result<CaseRow, sqlx::Error> {
    let sign_off: String = r.try_get("sign_off")?;
    Ok(CaseRow {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        severity: r.try_get("severity")?,
        status: r.try_get("status")?,
        title: r.try_get("title")?,
        opened_at: r.try_get("opened_at")?,
        signed_off: !sign_off.is_empty(),
    })
}

/// Cases, newest first: all (org None) or those concerning an organisation.
pub async fn list(
    db: &Db,
    org: Option<i64>,
    status: Option<&str>,
) -> Result<Vec<CaseRow>, AppError> {
    let sql = format!(
        "{ROW} WHERE ($1 = 0 OR EXISTS (SELECT 1 FROM case_parties p WHERE p.case_id = c.id AND p.org_id = $1)) \
         AND ($2 = '' OR c.status = $2) ORDER BY c.opened_at DESC, c.id DESC LIMIT 500"
    );
    Ok(sqlx::query(&sql)
        .bind(org.unwrap_or(0))
        .bind(status.unwrap_or(""))
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(row_from)
        .collect::<Result<_, _>>()?)
}

pub struct CaseRecord {
    pub row: CaseRow,
    pub industry: Option<String>,
    pub note: String,
    pub sign_off: String,
    pub listing_id: Option<i64>,
}

pub async fn get(db: &Db, id: i64) -> Result<Option<CaseRecord>, AppError> {
    let r = sqlx::query(&format!("{ROW} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(match r {
        None => None,
        Some(r) => Some(CaseRecord {
            row: row_from(&r)?,
            industry: r.try_get("industry")?,
            note: r.try_get("note")?,
            sign_off: r.try_get("sign_off")?,
            listing_id: r.try_get("listing_id")?,
        }),
    })
}

pub async fn is_party(db: &Db, case_id: i64, org: i64) -> Result<bool, AppError> {
    Ok(
        sqlx::query("SELECT 1 AS x FROM case_parties WHERE case_id = $1 AND org_id = $2")
            .bind(case_id)
            .bind(org)
            .fetch_optional(db.pool())
            .await?
            .is_some(),
    )
}

pub async fn parties(db: &Db, case_id: i64) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query(
        "SELECT o.name FROM case_parties p JOIN organisations o ON o.id = p.org_id WHERE p.case_id = $1 ORDER BY o.name",
    )
    .bind(case_id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| r.try_get("name"))
    .collect::<Result<_, _>>()?)
}

/// The case's own listing first, then the ones set beside it.
pub async fn listings(
    db: &Db,
    case_id: i64,
    own: Option<i64>,
) -> Result<Vec<CaseListing>, AppError> {
    let rows = sqlx::query(
        "SELECT l.id, l.slug, l.name, l.status, l.published_at, o.name AS publisher, o.slug AS publisher_slug, \
                o.kind, o.affiliated FROM listings l \
         JOIN organisations o ON o.id = l.org_id \
         WHERE l.id = $2 OR l.id IN (SELECT listing_id FROM case_listings WHERE case_id = $1) \
         ORDER BY CASE WHEN l.id = $2 THEN 0 ELSE 1 END, l.id",
    )
    .bind(case_id)
    .bind(own.unwrap_or(0))
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let kind: String = r.try_get("kind")?;
        let slug: String = r.try_get("slug")?;
        let published: Option<i64> = r.try_get("published_at")?;
        let publisher_slug: String = r.try_get("publisher_slug")?;
        out.push(CaseListing {
            href: crate::listings::href(&publisher_slug, &slug, published.is_some()),
            slug,
            name: r.try_get("name")?,
            publisher: r.try_get("publisher")?,
            platform_owned: kind == "platform",
            affiliated: r.try_get::<i64, _>("affiliated")? == 1,
            status: r.try_get("status")?,
            tags: crate::listings::db::labels(db.pool(), crate::listings::db::Labels::Tags, id)
                .await?,
        });
    }
    Ok(out)
}

pub async fn timeline(db: &Db, case_id: i64) -> Result<Vec<CaseEvent>, AppError> {
    Ok(
        sqlx::query("SELECT what, at FROM case_events WHERE case_id = $1 ORDER BY at, id")
            .bind(case_id)
            .fetch_all(db.pool())
            .await?
            .iter()
            .map(|r| -> Result<CaseEvent, sqlx::Error> {
                Ok(CaseEvent {
                    at: r.try_get("at")?,
                    what: r.try_get("what")?,
                })
            })
            .collect::<Result<_, _>>()?,
    )
}

/// Sets a case's status (and note / sign-off); the previous status, or
/// None when there is no such case.
pub async fn update(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    status: &str,
    note: Option<&str>,
    sign_off: Option<&str>,
    now_ms: i64,
) -> Result<Option<String>, sqlx::Error> {
    let Some(before) = sqlx::query("SELECT status FROM conflict_cases WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE conflict_cases SET status = $1, note = COALESCE($2, note), sign_off = COALESCE($3, sign_off), \
         signed_off_at = CASE WHEN $3 IS NULL THEN signed_off_at ELSE $4 END WHERE id = $5",
    )
    .bind(status)
    .bind(note)
    .bind(sign_off)
    .bind(now_ms)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(Some(before.try_get("status")?))
}

pub async fn party_orgs<'e, E: sqlx::Executor<'e, Database = Any>>(
    ex: E,
    case_id: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query("SELECT org_id FROM case_parties WHERE case_id = $1")
        .bind(case_id)
        .fetch_all(ex)
        .await?
        .iter()
        .map(|r| r.try_get("org_id"))
        .collect()
}

/// The organisations a referee's decision on a case touches: its parties
/// and the publisher of the listing it is about.
pub async fn parties_and_publisher<'e, E: sqlx::Executor<'e, Database = Any>>(
    ex: E,
    case_id: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query(
        "SELECT org_id FROM case_parties WHERE case_id = $1 \
         UNION SELECT l.org_id FROM conflict_cases c JOIN listings l ON l.id = c.listing_id \
         WHERE c.id = $1",
    )
    .bind(case_id)
    .fetch_all(ex)
    .await?
    .iter()
    .map(|r| r.try_get("org_id"))
    .collect()
}
