//! Catalogue workflows: search, the base-model catalogue (referees add,
//! deprecate and reactivate; a deprecation notifies every organisation with
//! a listing deployed on the model) and reading notifications.

use super::db::{self, NewBaseModel};
use super::index::{parse_query, search as search_index};
use super::{BaseModelsData, CatalogueQuery, NotificationView, SearchResults};
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{resolve, resolve_in, Permission};
use crate::auth::db::violates_unique;
use crate::auth::session::from_request;
use crate::error::{AppError, FieldErrors};
use crate::state::app_state;

/// Searches the published catalogue (public).
pub async fn search(query: &CatalogueQuery, page_size: usize) -> Result<SearchResults, AppError> {
    let state = app_state()?;
    let parsed = parse_query(query)?;
    let index = state.catalogue.get(&state.db).await?;
    Ok(search_index(
        &index,
        &parsed,
        state.clock.now_ms(),
        page_size,
    ))
}

pub async fn base_models_page() -> Result<BaseModelsData, AppError> {
    let state = app_state()?;
    // Public; referees additionally get the management forms.
    let session = from_request().await?;
    let can_manage = resolve_in(&state, &session)
        .await?
        .is_some_and(|a| a.require(Permission::Referee).is_ok());
    let index = state.catalogue.get(&state.db).await?;
    let mut models = db::base_models(&state.db).await?;
    for m in &mut models {
        m.listings = index.deploying_on(&m.slug);
    }
    Ok(BaseModelsData { models, can_manage })
}

fn text_field(fields: &mut FieldErrors, name: &str, value: &str, max: usize, what: &str) -> String {
    let v = value.trim();
    let mut fail = |m: String| fields.entry(name.to_string()).or_default().push(m);
    if v.is_empty() {
        fail(format!("Enter the {what}."));
    } else if v.chars().count() > max {
        fail(format!("Use at most {max} characters."));
    } else if v.chars().any(char::is_control) {
        fail("Use letters, digits, spaces and punctuation only.".into());
    }
    v.to_string()
}

/// A URL-safe slug from free text: lower-case letters, digits and dashes.
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-')
        .chars()
        .take(60)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

pub async fn add_base_model(
    provider: &str,
    name: &str,
    version: &str,
    modality: &str,
    context_length: &str,
    licence: &str,
) -> Result<i64, AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.require(Permission::Referee)?;
    let mut fields = FieldErrors::new();
    let provider = text_field(&mut fields, "provider", provider, 60, "provider");
    let name = text_field(&mut fields, "name", name, 80, "model name");
    let version = text_field(&mut fields, "version", version, 40, "version or revision");
    let modality = text_field(&mut fields, "modality", modality, 40, "modality");
    let licence = text_field(&mut fields, "licence", licence, 80, "licence");
    let context_length = match context_length.trim().parse::<i64>() {
        Ok(n) if (1..=100_000_000).contains(&n) => n,
        _ => {
            fields.entry("context_length".into()).or_default().push(
                "Enter the context length in tokens, a whole number from 1 to 100,000,000.".into(),
            );
            0
        }
    };
    if !fields.is_empty() {
        return Err(AppError::Validation { fields });
    }
    let slug = slugify(&format!("{provider} {name} {version}"));
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let new = NewBaseModel {
        slug: &slug,
        provider: &provider,
        name: &name,
        version: &version,
        modality: &modality,
        context_length,
        licence: &licence,
    };
    let id = match db::insert_base_model(&mut tx, &new, now).await {
        Ok(id) => id,
        Err(e)
            if violates_unique(&e, "base_models_slug_key", "base_models.slug")
                || violates_unique(
                    &e,
                    "base_models_provider_name_version_key",
                    "base_models.version",
                ) =>
        {
            return Err(AppError::field(
                "version",
                "This provider, model and version is already in the catalogue.",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    append(
        &mut tx,
        &NewEntry::now(
            "base_model.added",
            Some(actor.user_id),
            Some(m.org_id),
            format!("base_model:{id}"),
            serde_json::json!({ "provider": provider, "name": name, "version": version }),
        ),
        now,
    )
    .await?;
    db::bump_version(&mut tx).await?;
    tx.commit().await?;
    Ok(id)
}

/// Deprecates (`deprecated = true`) or reactivates a base model. A
/// deprecation notifies, in the same transaction, every organisation with a
/// listing deployed on it.
pub async fn set_base_model_status(id: i64, deprecated: bool) -> Result<(), AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.require(Permission::Referee)?;
    let status = if deprecated { "deprecated" } else { "active" };
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let (label, before) = db::set_base_model_status(&mut tx, id, status)
        .await?
        .ok_or(AppError::NotFound)?;
    if before == status {
        return Err(AppError::Conflict(format!("{label} is already {status}.")));
    }
    let mut notified = 0;
    if deprecated {
        for (org, names) in db::orgs_deploying_on(&mut tx, id).await? {
            let message = format!(
                "Base model {label} has been deprecated. Your listings deployed on it: {}. \
                 Add a deployment on another base model and make it the default.",
                names.join(", ")
            );
            db::notify(
                &mut tx,
                org,
                "base_model.deprecated",
                &message,
                "/my/listings",
                now,
            )
            .await?;
            notified += 1;
        }
    }
    append(
        &mut tx,
        &NewEntry::now(
            if deprecated {
                "base_model.deprecated"
            } else {
                "base_model.reactivated"
            },
            Some(actor.user_id),
            Some(m.org_id),
            format!("base_model:{id}"),
            serde_json::json!({ "model": label, "organisations_notified": notified }),
        ),
        now,
    )
    .await?;
    db::bump_version(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The current organisation's notifications.
pub async fn notifications() -> Result<Vec<NotificationView>, AppError> {
    let state = app_state()?;
    let (actor, _) = resolve(&state).await?;
    let m = actor.require(Permission::ViewMembers)?;
    db::notifications(&state.db, m.org_id).await
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slugify("  Chest X-Ray Triage!! "), "chest-x-ray-triage");
        assert_eq!(slugify("Ünïcode — only"), "n-code-only");
        assert_eq!(slugify("***"), "");
        assert!(slugify(&"a".repeat(100)).len() <= 60);
    }
}
