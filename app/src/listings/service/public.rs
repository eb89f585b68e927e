//! What the public sees: a listing's page and the compare page. A listing
//! that is not public is partner data: the data firewall decides who reads
//! it, and records each read.

use super::detail;
use crate::auth::actor::{Actor, Permission};
use crate::cases::service as cases;
use crate::catalogue::COMPARE_MAX;
use crate::error::AppError;
use crate::listings::db;
use crate::listings::ListingDetail;
use crate::listings::ListingStatus::*;
use crate::orgs::OrgKind;
use crate::policy::firewall::{self, Outcome};
use crate::state::AppState;

/// The public listing page. A listing that is not published is shown only
/// to its publisher and to referees; to anyone else it does not exist.
///
/// `/listings/{slug}` (no `publisher`) is the address of the listing that
/// published `slug`, and for its members also of their own organisation's
/// listing with that slug. Another organisation's unpublished listing is
/// reached only at `/listings/{publisher}/{slug}`, so the short address says
/// nothing about it.
pub async fn page(
    state: &AppState,
    actor: Option<&Actor>,
    publisher: Option<&str>,
    slug: &str,
) -> Result<ListingDetail, AppError> {
    let slug = slug.trim();
    let member = actor.and_then(|a| a.membership.as_ref());
    let found = match publisher {
        Some(p) => db::by_address(&state.db, p, slug).await?,
        None => match db::by_public_slug(&state.db, slug).await? {
            Some(row) => Some(row),
            None => match member {
                Some(m) => db::own_by_slug(&state.db, m.org_id, slug).await?,
                None => None,
            },
        },
    };
    let Some(row) = found else {
        refuse_player_tries(state, actor, slug, "at its short address").await?;
        return Err(AppError::NotFound);
    };
    let own = member.is_some_and(|m| m.org_id == row.org_id);
    let can_edit = own
        && actor
            .as_ref()
            .is_some_and(|a| a.require(Permission::EditListings).is_ok());
    let is_referee = actor
        .as_ref()
        .is_some_and(|a| a.require(Permission::Referee).is_ok());
    let partner_secret = row.status != Published && !own && row.publisher_kind == OrgKind::Partner;
    if partner_secret {
        // The data firewall: a referee's read is recorded for the partner to
        // see; platform staff who are not referees are refused, on the record.
        let what = format!(
            "listing “{}” ({})",
            row.name,
            row.status.label().to_lowercase()
        );
        match actor {
            Some(a) if is_referee => {
                firewall::record(state, a, row.org_id, &what, Outcome::Read).await?
            }
            Some(a) if a.is_player() => {
                let case = cases::player_read(Some(row.id), row.org_id, &what, a.user_id);
                firewall::record(state, a, row.org_id, &what, Outcome::Refused(case)).await?;
                return Err(AppError::NotFound);
            }
            _ => return Err(AppError::NotFound),
        }
    } else if row.status != Published && !own && !is_referee {
        return Err(AppError::NotFound);
    }
    if row.status == Published && !own {
        crate::exposure::record::views(state, [row.id]);
    }
    detail(state, &row, own || is_referee, can_edit).await
}

/// Up to `COMPARE_MAX` published listings side by side, in the order given.
pub async fn compare(
    state: &AppState,
    viewer: Option<&Actor>,
    slugs: &str,
) -> Result<Vec<ListingDetail>, AppError> {
    let mut wanted: Vec<&str> = Vec::new();
    for s in slugs.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !wanted.contains(&s) {
            wanted.push(s);
        }
    }
    if wanted.len() > COMPARE_MAX {
        return Err(AppError::field(
            "l",
            format!("Compare at most {COMPARE_MAX} listings at a time."),
        ));
    }
    let mut out = Vec::new();
    let mut publishers = Vec::new();
    for slug in wanted {
        match db::by_public_slug(&state.db, slug).await? {
            Some(row) if row.status == Published => {
                publishers.push(row.org_id);
                out.push(detail(state, &row, false, false).await?)
            }
            Some(row) => {
                // Only published listings are compared; a player's try at
                // a partner's unpublished one is on the record.
                if let Some(a) = viewer {
                    super::refuse_player(state, a, &row, "on the compare page").await?;
                }
                return Err(AppError::NotFound);
            }
            None => {
                refuse_player_tries(state, viewer, slug, "on the compare page").await?;
                return Err(AppError::NotFound);
            }
        }
    }
    // A publisher comparing its own listings is not exposure.
    let viewer_org = viewer.and_then(|a| a.membership.as_ref().map(|m| m.org_id));
    crate::exposure::record::views(
        state,
        out.iter()
            .zip(&publishers)
            .filter(|(_, org)| Some(**org) != viewer_org)
            .map(|(d, _)| d.id),
    );
    Ok(out)
}

/// A player's try at a slug no published listing holds: refused, and on
/// the record of every partner whose unpublished listing uses that slug
/// (the try may have been aimed at any of them). Nobody else's miss is
/// recorded: a slug that is not public is simply not found.
async fn refuse_player_tries(
    state: &AppState,
    actor: Option<&Actor>,
    slug: &str,
    place: &str,
) -> Result<(), AppError> {
    let Some(a) = actor.filter(|a| a.is_player()) else {
        return Ok(());
    };
    for row in db::unpublished_by_slug(&state.db, slug).await? {
        super::refuse_player(state, a, &row, place).await?;
    }
    Ok(())
}
