//! Catalogue workflows: search, the base-model catalogue (referees add,
//! deprecate and reactivate; a deprecation notifies every organisation with
//! a listing deployed on the model).

use super::cache::VersionRead;
use super::db::{self, NewBaseModel};
use super::index::{parse_query, search as search_index};
use super::{BaseModelsData, CatalogueQuery, SearchResults};
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{Actor, Permission};
use crate::db::{on_unique, UniqueKey};
use crate::error::AppError;
use crate::form::Form;
use crate::state::AppState;

const BASE_MODEL_KEYS: [UniqueKey; 2] = [
    UniqueKey::new("base_models_slug_key", "base_models.slug"),
    UniqueKey::new(
        "base_models_provider_name_version_key",
        "base_models.version",
    ),
];

/// Searches the published catalogue (public). The results shown count as
/// impressions; in the ranking's own order, the first page's first three
/// also count as top-position impressions (the outcome audit's measure).
/// `read`: the catalogue version the request already read, if any.
pub async fn search(
    state: &AppState,
    query: &CatalogueQuery,
    page_size: usize,
    read: Option<VersionRead>,
) -> Result<SearchResults, AppError> {
    let parsed = parse_query(query)?;
    let index = state
        .catalogue
        .get_as_of(&state.db, state.clock.now_ms(), read)
        .await?;
    let results = search_index(&index, &parsed, state.clock.now_ms(), page_size);
    let ids = results.hits.iter().map(|h| h.card.id);
    if parsed.sort == super::SortOrder::Relevance {
        crate::exposure::record::ranked(state, ids, parsed.page == 1);
    } else {
        crate::exposure::record::impressions(state, ids);
    }
    Ok(results)
}

/// The base-model catalogue (public); referees additionally get the
/// management forms.
pub async fn base_models_page(
    state: &AppState,
    viewer: Option<&Actor>,
) -> Result<BaseModelsData, AppError> {
    let can_manage = viewer.is_some_and(|a| a.require(Permission::Referee).is_ok());
    let index = state.catalogue.get(&state.db, state.clock.now_ms()).await?;
    let mut models = db::base_models(&state.db).await?;
    for m in &mut models {
        m.listings = index.deploying_on(&m.slug);
    }
    Ok(BaseModelsData { models, can_manage })
}

/// A base model as a referee types it.
#[derive(Debug, Clone, Default)]
pub struct BaseModelForm {
    pub provider: String,
    pub name: String,
    pub version: String,
    pub modality: String,
    pub context_length: String,
    pub licence: String,
}

/// Required text of at most `max` characters.
fn required(f: &mut Form, field: &str, value: &str, max: usize, what: &str) -> String {
    if value.trim().is_empty() {
        f.fail(field, format!("Enter the {what}."));
        return String::new();
    }
    f.text(field, value, 1, max, false)
}

/// Adds a base model to the catalogue (referees).
pub async fn add_base_model(
    state: &AppState,
    actor: &Actor,
    form: &BaseModelForm,
) -> Result<i64, AppError> {
    let m = actor.require(Permission::Referee)?;
    let mut f = Form::new();
    let provider = required(&mut f, "provider", &form.provider, 60, "provider");
    let name = required(&mut f, "name", &form.name, 80, "model name");
    let version = required(&mut f, "version", &form.version, 40, "version or revision");
    let modality = required(&mut f, "modality", &form.modality, 40, "modality");
    let licence = required(&mut f, "licence", &form.licence, 80, "licence");
    let context_length = match form.context_length.trim().parse::<i64>() {
        Ok(n) if (1..=100_000_000).contains(&n) => n,
        _ => {
            f.fail(
                "context_length",
                "Enter the context length in tokens, a whole number from 1 to 100,000,000.",
            );
            0
        }
    };
    f.done()?;
    let slug = crate::domain::slugify(&format!("{provider} {name} {version}"));
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
    let id = db::insert_base_model(&mut tx, &new, now)
        .await
        .map_err(on_unique(&BASE_MODEL_KEYS, || {
            AppError::field(
                "version",
                "This provider, model and version is already in the catalogue.",
            )
        }))?;
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "base_model.added",
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
pub async fn set_base_model_status(
    state: &AppState,
    actor: &Actor,
    id: i64,
    deprecated: bool,
) -> Result<(), AppError> {
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
            crate::notifications::db::notify(
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
        &NewEntry::by(
            actor,
            if deprecated {
                "base_model.deprecated"
            } else {
                "base_model.reactivated"
            },
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
