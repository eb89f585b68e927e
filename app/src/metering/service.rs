//! Keys: metering keys, created by a publisher's owner or admin (a
//! partner's, or a platform player for first-party listings), and gateway
//! keys, created by a client organisation's owner or admin. Shown once,
//! stored hashed with a visible prefix, revocable; every change audited.

use super::ingest::{hash_key, PREFIX_LEN};
use super::{ApiKeysData, CreatedKey, KeyPurpose};
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{Actor, Permission};
use crate::auth::visit::Visit;
use crate::db::UniqueKey;
use crate::error::{AppError, FieldErrors};
use crate::orgs::db::Membership;
use crate::orgs::{OrgKind, StaffRole};
use crate::state::AppState;
use base64::Engine as _;
use rand::RngCore as _;

const KEY_PREFIX: UniqueKey = UniqueKey::new("api_keys_prefix_key", "api_keys.prefix");

/// The keys an organisation holds, and whether the actor may also create
/// and revoke them: every member of a publisher (metering) or of a client
/// (gateway) sees them; owners and admins (and players, for first-party
/// listings) manage them. Referees hold none.
fn key_holder(actor: &Actor) -> Result<(&Membership, bool, KeyPurpose), AppError> {
    let m = actor.membership.as_ref().ok_or(AppError::Forbidden)?;
    match m.kind {
        OrgKind::Partner => Ok((
            m,
            actor.require(Permission::ManageApiKeys).is_ok(),
            KeyPurpose::Metering,
        )),
        OrgKind::Platform if m.staff_role == Some(StaffRole::Player) => {
            Ok((m, true, KeyPurpose::Metering))
        }
        OrgKind::Client => Ok((
            m,
            actor.require(Permission::Subscribe).is_ok(),
            KeyPurpose::Gateway,
        )),
        OrgKind::Platform => Err(AppError::Forbidden),
    }
}

/// Session key holding the key just created, shown once on the keys page.
const NEW_KEY: &str = "new_api_key";

/// The organisation's keys, and the key just created by a plain form post
/// (taken out of the session: it is shown once).
pub async fn list(visit: &Visit, actor: &Actor) -> Result<ApiKeysData, AppError> {
    let state = &visit.state;
    let (m, can_manage, purpose) = key_holder(actor)?;
    let new_key = visit
        .session
        .remove::<CreatedKey>(NEW_KEY)
        .await
        .map_err(|e| AppError::internal("session store", e))?;
    Ok(ApiKeysData {
        purpose,
        keys: super::db::keys_of(&state.db, m.org_id, purpose).await?,
        can_manage,
        new_key: new_key.filter(|_| can_manage),
    })
}

fn new_key(purpose: KeyPurpose) -> String {
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut id);
    rand::rng().fill_bytes(&mut secret);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // 6 bytes → 8 base64url characters: the prefix after `fgk_`.
    format!(
        "{}{}_{}",
        purpose.marker(),
        b64.encode(id),
        b64.encode(secret)
    )
}

pub async fn create(visit: &Visit, actor: &Actor, name: &str) -> Result<CreatedKey, AppError> {
    let state = &visit.state;
    let (m, can_manage, purpose) = key_holder(actor)?;
    if !can_manage {
        return Err(AppError::Forbidden);
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        let mut f = FieldErrors::new();
        f.insert(
            "name".into(),
            vec!["Name the key (1 to 60 characters), e.g. after the system that uses it.".into()],
        );
        return Err(AppError::Validation { fields: f });
    }
    let org = m.org_id;
    let now = state.clock.now_ms();
    let (id, key) = issue(&state.db, org, purpose, name, Some(actor), now).await?;
    let created = CreatedKey {
        id,
        name: name.to_string(),
        key,
    };
    // A script, or the page with JavaScript, gets the key in the answer. A
    // plain form post is redirected back to the page, which can only show
    // the key if it is kept for it: then, and only then, it waits in the
    // session until that page is shown (at once).
    if actor.origin.plain_form {
        visit
            .session
            .insert(NEW_KEY, created.clone())
            .await
            .map_err(|e| AppError::internal("session store", e))?;
    }
    Ok(created)
}

/// Makes and stores a key for `org` (audited, by `by` or, with None, by the
/// operator from the command line); returns its id and the key itself.
pub async fn issue(
    db: &crate::db::Db,
    org: i64,
    purpose: KeyPurpose,
    name: &str,
    by: Option<&Actor>,
    now: i64,
) -> Result<(i64, String), AppError> {
    for _ in 0..3 {
        let key = new_key(purpose);
        let prefix = &key[..PREFIX_LEN];
        let mut tx = db.begin_write().await?;
        let new = super::db::NewKey {
            org,
            purpose,
            name,
            prefix,
            hash: &hash_key(&key),
            by: by.map(|a| a.user_id),
        };
        let id = match super::db::insert_key(&mut tx, &new, now).await {
            Ok(id) => id,
            Err(e) if KEY_PREFIX.violated_by(&e) => continue,
            Err(e) => return Err(e.into()),
        };
        let details =
            serde_json::json!({ "name": name, "prefix": prefix, "purpose": purpose.as_str() });
        let target = format!("api_key:{id}");
        let entry = match by {
            Some(actor) => NewEntry::by(actor, "api_key.created", Some(org), target, details),
            None => NewEntry {
                org_id: Some(org),
                action: "api_key.created".into(),
                target,
                details,
                ..NewEntry::default()
            },
        };
        append(&mut tx, &entry, now).await?;
        tx.commit().await?;
        return Ok((id, key));
    }
    Err(AppError::Conflict(
        "Could not make a unique key; please try again.".into(),
    ))
}

pub async fn revoke(state: &AppState, actor: &Actor, id: i64) -> Result<(), AppError> {
    let (m, can_manage, _) = key_holder(actor)?;
    if !can_manage {
        return Err(AppError::Forbidden);
    }
    let org = m.org_id;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    if !super::db::revoke(&mut tx, org, id, now).await? {
        return Err(AppError::NotFound);
    }
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "api_key.revoked",
            Some(org),
            format!("api_key:{id}"),
            serde_json::json!({}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_have_a_fixed_prefix_and_256_random_bits() {
        let a = super::new_key(super::KeyPurpose::Metering);
        let b = super::new_key(super::KeyPurpose::Metering);
        assert_ne!(a, b);
        assert!(a.starts_with("fgk_"));
        let c = super::new_key(super::KeyPurpose::Gateway);
        assert!(c.starts_with("fgc_"));
        assert_eq!(c.len(), a.len());
        assert_eq!(&a[super::PREFIX_LEN..super::PREFIX_LEN + 1], "_");
        assert_eq!(a.len(), 4 + 8 + 1 + 43);
    }
}
