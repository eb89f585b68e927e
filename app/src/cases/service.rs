//! Case workflows: the triggers (called inside the transaction of what
//! triggers them), the sign-off a first-party listing needs, and the
//! referees' and partners' pages and actions.

use super::db::{self, NewCase};
use super::{CaseDetail, CasesData, STATUSES};
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{Actor, Permission};
use crate::error::AppError;
use crate::notifications::db::notify;
use crate::orgs::OrgKind;
use crate::policy::firewall;
use crate::state::AppState;
use sqlx::{Any, Transaction};

/// Severity from the overlap of capability tags (Jaccard index of the
/// first-party listing's tags with the closest partner listing's).
pub fn severity(ours: &[String], theirs: &[Vec<String>]) -> &'static str {
    let best = theirs
        .iter()
        .map(|t| {
            let inter = ours.iter().filter(|x| t.contains(x)).count();
            let union = ours.len() + t.len() - inter;
            if union == 0 {
                0.0
            } else {
                inter as f64 / union as f64
            }
        })
        .fold(0.0, f64::max);
    if best >= 0.5 {
        "high"
    } else if best > 0.0 {
        "medium"
    } else {
        "low"
    }
}

pub(crate) async fn notify_parties(
    tx: &mut Transaction<'_, Any>,
    orgs: &[i64],
    case_id: i64,
    message: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    for org in orgs {
        notify(
            tx,
            *org,
            "conflict_case",
            message,
            &format!("/cases/{case_id}"),
            now,
        )
        .await?;
    }
    Ok(())
}

/// A first-party listing created, submitted or moved into an industry where
/// partner listings are published: one case per listing and industry, the
/// partners as parties (notified when they join it).
pub async fn first_party_entered(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    name: &str,
    industry: &str,
    actor: Option<i64>,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let partners = db::partner_listings_in(tx, industry).await?;
    if partners.is_empty() {
        return Ok(None);
    }
    let ours = db::tags_in(tx, listing_id).await?;
    let mut theirs = Vec::new();
    for (l, _) in &partners {
        theirs.push(db::tags_in(tx, *l).await?);
    }
    let mut orgs: Vec<i64> = partners.iter().map(|(_, o)| *o).collect();
    orgs.sort_unstable();
    orgs.dedup();
    let case = NewCase {
        kind: "first_party_overlap",
        severity: severity(&ours, &theirs),
        title: format!("First-party listing “{name}” enters {industry}, where partners publish"),
        industry: Some(industry.into()),
        listing_id: Some(listing_id),
        opened_by: actor,
        dedupe_key: Some(first_party_key(listing_id, industry)),
        parties: orgs,
        listings: partners.iter().map(|(l, _)| *l).collect(),
    };
    let (id, new_parties) = db::open(tx, &case, now).await?;
    let message = match db::affiliated_publisher(tx, listing_id).await? {
        Some(org) => format!("“{org}”, a platform-affiliated partner, is preparing a listing “{name}” in {industry}, where you publish. A referee reviews it as a conflict case."),
        None => format!("The platform is preparing its own listing “{name}” in {industry}, where you publish. A referee reviews it as a conflict case."),
    };
    notify_parties(tx, &new_parties, id, &message, now).await?;
    Ok(Some(id))
}

/// A sign-off is for one industry: a listing that moves enters anew.
pub fn first_party_key(listing_id: i64, industry: &str) -> String {
    format!("first_party_overlap:{listing_id}:{industry}")
}

/// A partner listing published (or, published, moved) where first-party
/// listings are published: one case per listing and industry.
pub async fn partner_entered(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    partner_org: i64,
    name: &str,
    industry: &str,
    actor: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let ours = db::first_party_listings_in(tx, industry).await?;
    if ours.is_empty() {
        return Ok(());
    }
    let theirs = db::tags_in(tx, listing_id).await?;
    let mut first_party_tags = Vec::new();
    for (l, _) in &ours {
        first_party_tags.push(db::tags_in(tx, *l).await?);
    }
    let case = NewCase {
        kind: "partner_overlap",
        severity: severity(&theirs, &first_party_tags),
        title: format!(
            "Partner listing “{name}” published in {industry}, where the platform publishes"
        ),
        industry: Some(industry.into()),
        listing_id: Some(listing_id),
        opened_by: actor,
        dedupe_key: Some(format!("partner_overlap:{listing_id}:{industry}")),
        parties: vec![partner_org],
        listings: ours.iter().map(|(l, _)| *l).collect(),
    };
    db::open(tx, &case, now).await?;
    Ok(())
}

/// A player tried to read a partner's non-public data.
pub fn player_read(listing_id: Option<i64>, partner_org: i64, what: &str, actor: i64) -> NewCase {
    NewCase {
        kind: "player_data_access",
        severity: "high",
        title: format!("A platform player tried to read {what}"),
        industry: None,
        listing_id,
        opened_by: Some(actor),
        dedupe_key: None,
        parties: vec![partner_org],
        listings: vec![],
    }
}

/// The non-compete flag changed: every partner is a party.
pub async fn policy_flag_changed(
    tx: &mut Transaction<'_, Any>,
    on: bool,
    actor: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let parties = db::all_partner_orgs(tx).await?;
    let state = if on { "on" } else { "off" };
    let case = NewCase {
        kind: "policy_change",
        severity: if on { "low" } else { "high" },
        title: format!("The non-compete flag was switched {state}"),
        industry: None,
        listing_id: None,
        opened_by: Some(actor),
        dedupe_key: None,
        parties: parties.clone(),
        listings: vec![],
    };
    let (id, _) = db::open(tx, &case, now).await?;
    notify_parties(
        tx,
        &parties,
        id,
        &format!("The marketplace's non-compete flag was switched {state}."),
        now,
    )
    .await
}

/// Opens (or finds) the case of a first-party listing entering `industry`:
/// its id when partners publish there and no referee has signed it off.
pub async fn sign_off_missing(
    tx: &mut Transaction<'_, Any>,
    listing_id: i64,
    name: &str,
    industry: &str,
    actor: i64,
    now: i64,
) -> Result<Option<i64>, AppError> {
    let Some(case) = first_party_entered(tx, listing_id, name, industry, Some(actor), now).await?
    else {
        return Ok(None);
    };
    let signed = db::sign_off_of(tx, &first_party_key(listing_id, industry))
        .await?
        .is_some_and(|(_, words)| !words.is_empty());
    Ok((!signed).then_some(case))
}

/// The refusal while case `case` waits for a referee's sign-off.
pub fn needs_sign_off(case: i64) -> AppError {
    AppError::Conflict(format!(
        "This first-party listing enters an industry where partners publish: a referee must sign off conflict case {case} with a written justification first."
    ))
}

fn viewer(actor: &Actor) -> Result<(bool, Option<i64>), AppError> {
    if actor.require(Permission::Referee).is_ok() {
        return Ok((true, None));
    }
    let m = actor.require(Permission::ViewMembers)?;
    match m.kind {
        // Players build first-party listings: the cases about them are the
        // referees' business.
        OrgKind::Platform => Err(AppError::Forbidden),
        _ => Ok((false, Some(m.org_id))),
    }
}

pub async fn list(state: &AppState, actor: &Actor, status: &str) -> Result<CasesData, AppError> {
    let (referee, org) = viewer(actor)?;
    let status = status.trim();
    if !status.is_empty() && !STATUSES.contains(&status) {
        return Err(AppError::field(
            "status",
            "Choose open, acknowledged, resolved or dismissed.",
        ));
    }
    let can_complain = actor
        .membership
        .as_ref()
        .is_some_and(|m| m.kind == OrgKind::Partner);
    Ok(CasesData {
        cases: db::list(&state.db, org, (!status.is_empty()).then_some(status)).await?,
        referee,
        can_complain,
    })
}

pub async fn detail(state: &AppState, actor: &Actor, id: i64) -> Result<CaseDetail, AppError> {
    let (referee, org) = viewer(actor)?;
    let record = db::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if let Some(org) = org {
        if !db::is_party(&state.db, id, org).await? {
            return Err(AppError::NotFound);
        }
    }
    // A complaint is its partner's non-public data: a referee's read is on
    // the partner's record like any other.
    if referee && record.row.kind == "complaint" {
        let what = format!("complaint case #{id}");
        let reads = db::party_orgs(state.db.pool(), id)
            .await?
            .into_iter()
            .map(|org| (org, what.clone(), firewall::Outcome::Read))
            .collect();
        firewall::record_all(state, actor, reads).await?;
    }
    Ok(CaseDetail {
        industry: record.industry,
        parties: db::parties(&state.db, id).await?,
        listings: db::listings(&state.db, id, record.listing_id).await?,
        sign_off: record.sign_off,
        note: record.note,
        timeline: db::timeline(&state.db, id).await?,
        referee,
        row: record.row,
    })
}

fn text(field: &str, value: &str, what: &str) -> Result<String, AppError> {
    let v = value.trim();
    if !(10..=2000).contains(&v.chars().count()) {
        return Err(AppError::field(
            field,
            format!("Write {what} in 10 to 2,000 characters."),
        ));
    }
    Ok(v.to_string())
}

/// A referee's decision on a case: acknowledge, sign off (with a written
/// justification, shown to the parties), resolve or dismiss (with a note).
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    id: i64,
    action: &str,
    words: &str,
) -> Result<(), AppError> {
    let m = actor.require(Permission::Referee)?;
    let (status, note, sign_off, event) = match action {
        "acknowledge" => ("acknowledged", None, None, "Acknowledged".to_string()),
        "sign_off" => {
            let j = text("justification", words, "the justification")?;
            (
                "acknowledged",
                None,
                Some(j.clone()),
                format!("Signed off: {j}"),
            )
        }
        "resolve" => {
            let n = text("outcome", words, "the outcome")?;
            ("resolved", Some(n.clone()), None, format!("Resolved: {n}"))
        }
        "dismiss" => {
            let n = text("dismissal", words, "why it is dismissed")?;
            (
                "dismissed",
                Some(n.clone()),
                None,
                format!("Dismissed: {n}"),
            )
        }
        _ => return Err(AppError::BadRequest("unknown case action".into())),
    };
    let parties = db::parties_and_publisher(state.db.pool(), id).await?;
    crate::policy::recusal::refuse_if_party(
        state,
        actor,
        m.org_id,
        &parties,
        &format!("case:{id}"),
        action,
    )
    .await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let before = db::update(
        &mut tx,
        id,
        status,
        note.as_deref(),
        sign_off.as_deref(),
        now,
    )
    .await?
    .ok_or(AppError::NotFound)?;
    if matches!(before.as_str(), "resolved" | "dismissed") {
        return Err(AppError::Conflict(format!("The case is already {before}.")));
    }
    db::event(&mut tx, id, Some(actor.user_id), &event, now).await?;
    let parties = db::party_orgs(&mut **tx, id).await?;
    notify_parties(
        &mut tx,
        &parties,
        id,
        &format!("Conflict case {id}: {event}"),
        now,
    )
    .await?;
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            &format!("case.{action}"),
            Some(m.org_id),
            format!("case:{id}"),
            serde_json::json!({ "from": before, "to": status, "words": words.trim() }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A partner's complaint about a listing, the ranking or data use.
pub async fn complain(
    state: &AppState,
    actor: &Actor,
    about: &str,
    text_in: &str,
) -> Result<i64, AppError> {
    let m = actor.require(Permission::ViewMembers)?;
    if m.kind != OrgKind::Partner {
        return Err(AppError::Forbidden);
    }
    let about = match about.trim() {
        a @ ("listing" | "ranking" | "data_use") => a,
        _ => {
            return Err(AppError::field(
                "about",
                "Choose a listing, the ranking or data use.",
            ))
        }
    };
    let words = text("text", text_in, "the complaint")?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let topic = match about {
        "listing" => "a listing",
        "ranking" => "the ranking",
        _ => "data use",
    };
    let case = NewCase {
        kind: "complaint",
        severity: "medium",
        title: format!("Complaint from {} about {topic}", m.org_name),
        industry: None,
        listing_id: None,
        opened_by: Some(actor.user_id),
        dedupe_key: None,
        parties: vec![m.org_id],
        listings: vec![],
    };
    let (id, _) = db::open(&mut tx, &case, now).await?;
    db::event(
        &mut tx,
        id,
        Some(actor.user_id),
        &format!("Complaint: {words}"),
        now,
    )
    .await?;
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "case.complaint",
            Some(m.org_id),
            format!("case:{id}"),
            serde_json::json!({ "about": about }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::severity;

    #[test]
    fn severity_follows_tag_overlap() {
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            severity(&t(&["triage", "notes"]), &[t(&["triage", "notes"])]),
            "high"
        );
        assert_eq!(
            severity(&t(&["triage", "notes", "x"]), &[t(&["triage", "a", "b"])]),
            "medium"
        );
        assert_eq!(severity(&t(&["triage"]), &[t(&["claims"])]), "low");
        assert_eq!(severity(&[], &[t(&["claims"])]), "low");
    }
}
