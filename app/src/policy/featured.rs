//! Featured slots. They exist only when the policy says so, are shown in
//! their own labelled strip and never reorder the ranked results. With the
//! non-compete flag on, the platform's own listing cannot be featured (the
//! attempt is refused and audited); with it off, it can, labelled
//! "Promoted by the platform", audited, and a conflict case is opened.

use super::FeaturedCard;
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{Actor, Permission};
use crate::cases::db::NewCase;
use crate::catalogue::db::bump_version;
use crate::error::AppError;
use crate::listings::ListingStatus;
use crate::state::AppState;
use sqlx::Row;

pub async fn feature(state: &AppState, actor: &Actor, listing_id: i64) -> Result<(), AppError> {
    let m = actor.require(Permission::Referee)?;
    let policy = super::db::current(&state.db).await?;
    if !policy.featured_slots {
        return Err(AppError::Conflict(
            "Featured slots are switched off in the marketplace policy.".into(),
        ));
    }
    // A referee does not feature a listing of an organisation they belong to.
    if let Some(publisher) = crate::listings::db::publisher_in(state.db.pool(), listing_id).await? {
        super::recusal::refuse_if_party(
            state,
            actor,
            m.org_id,
            &[publisher.org_id],
            &format!("listing:{listing_id}"),
            "featured",
        )
        .await?;
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let crate::listings::db::Publisher {
        first_party,
        industry,
        name,
        ..
    } = crate::listings::db::publisher_in(&mut **tx, listing_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (status, _) = crate::listings::db::status_in(&mut tx, listing_id, None)
        .await?
        .ok_or(AppError::NotFound)?;
    if status != ListingStatus::Published {
        return Err(AppError::Conflict(
            "Only a published listing can be featured.".into(),
        ));
    }
    // The platform's own listings and those of affiliated partners alike.
    let entry = |action: &str| {
        NewEntry::by(
            actor,
            action,
            Some(m.org_id),
            format!("listing:{listing_id}"),
            serde_json::json!({ "first_party": first_party, "non_compete": policy.non_compete }),
        )
    };
    if first_party && policy.non_compete {
        // The refusal is on the record even though nothing else changes.
        append(&mut tx, &entry("listing.feature_refused"), now).await?;
        tx.commit().await?;
        return Err(AppError::Conflict(
            "The non-compete policy forbids featuring the platform's own listings, and those of platform-affiliated partners.".into(),
        ));
    }
    let done = sqlx::query(
        "INSERT INTO featured_slots (listing_id, featured_by_user_id, promoted, at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (listing_id) DO NOTHING",
    )
    .bind(listing_id)
    .bind(actor.user_id)
    .bind(i64::from(first_party))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::Conflict(format!("“{name}” is already featured.")));
    }
    if first_party {
        let partners = crate::cases::db::partner_listings_in(&mut tx, &industry).await?;
        let mut parties: Vec<i64> = partners.iter().map(|(_, o)| *o).collect();
        parties.sort_unstable();
        parties.dedup();
        let case = NewCase {
            kind: "featured",
            severity: "high",
            title: format!("First-party listing “{name}” was featured"),
            industry: Some(industry.clone()),
            listing_id: Some(listing_id),
            opened_by: Some(actor.user_id),
            dedupe_key: None,
            parties,
            listings: partners.iter().map(|(l, _)| *l).collect(),
        };
        crate::cases::db::open(&mut tx, &case, now).await?;
    }
    append(&mut tx, &entry("listing.featured"), now).await?;
    bump_version(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn unfeature(state: &AppState, actor: &Actor, listing_id: i64) -> Result<(), AppError> {
    let m = actor.require(Permission::Referee)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let done = sqlx::query("DELETE FROM featured_slots WHERE listing_id = $1")
        .bind(listing_id)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "listing.unfeatured",
            Some(m.org_id),
            format!("listing:{listing_id}"),
            serde_json::json!({}),
        ),
        now,
    )
    .await?;
    bump_version(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The featured strip: published listings in a slot, oldest slot first;
/// empty while the policy has no featured slots.
pub async fn strip(state: &AppState) -> Result<Vec<FeaturedCard>, AppError> {
    if !super::db::current(&state.db).await?.featured_slots {
        return Ok(Vec::new());
    }
    let index = state.catalogue.get(&state.db, state.clock.now_ms()).await?;
    let rows =
        sqlx::query("SELECT listing_id, promoted FROM featured_slots ORDER BY at, listing_id")
            .fetch_all(state.db.pool())
            .await?;
    let mut out = Vec::new();
    for r in rows {
        let id: i64 = r.try_get("listing_id")?;
        let promoted: i64 = r.try_get("promoted")?;
        if let Some(card) = index.card(id) {
            out.push(FeaturedCard {
                card,
                promoted: promoted == 1,
            });
        }
    }
    // A place in the strip is exposure like any other: it is counted.
    crate::exposure::record::impressions(state, out.iter().map(|f| f.card.id));
    Ok(out)
}
