//! Where the gateway sends a deployment's calls: an OpenAI-compatible base
//! URL, the model name sent to it, and the secret that signs every
//! forwarded call (generated here, shown to the publisher once). Partner
//! data: only the listing's own organisation reads or changes it, and
//! neither the URL nor the secret goes into the audit log or the public
//! change history (which says only "Endpoint changed").

use super::{audit_entry, editor, open_own, public_change};
use crate::audit::db::append;
use crate::auth::actor::Actor;
use crate::auth::visit::Visit;
use crate::error::AppError;
use crate::form::Form;
use crate::listings::{NewSecret, UpstreamView};
use crate::state::AppState;
use base64::Engine as _;
use rand::RngCore as _;
use sqlx::Row;

/// Session key holding a secret just made by a form posted without
/// JavaScript, until the editor shows it (once).
const NEW_SECRET_KEY: &str = "new_signing_secret";

const MAX_URL: usize = 2_048;
const MAX_MODEL: usize = 200;

/// The upstream settings as typed.
#[derive(Debug, Clone, Default)]
pub struct UpstreamForm {
    pub base_url: String,
    pub model: String,
}

/// Checked upstream settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `http(s)://host[:port][/path]`, without a trailing slash.
    pub base_url: String,
    pub model: String,
}

impl UpstreamForm {
    pub fn check(&self, f: &mut Form) -> Upstream {
        let base_url = match base_url(&self.base_url) {
            Ok(u) => u,
            Err(why) => {
                f.fail("base_url", why);
                String::new()
            }
        };
        let model = f.text("model", &self.model, 1, MAX_MODEL, false);
        if model.chars().any(char::is_whitespace) {
            f.fail("model", "A model name has no spaces.");
        }
        Upstream { base_url, model }
    }
}

/// An OpenAI-compatible base URL: http or https, a host, an optional port
/// and path; no user name or password (they would travel with every call
/// and show wherever the URL does), no query or fragment.
fn base_url(input: &str) -> Result<String, &'static str> {
    let url = input.trim();
    let example = "Enter the base URL your OpenAI-compatible server answers on, e.g. https://models.example.com/v1.";
    if url.is_empty() {
        return Err(example);
    }
    if url.chars().count() > MAX_URL {
        return Err("Use at most 2,048 characters.");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A URL has no spaces or control characters.");
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(example);
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err("Use an http or https URL.");
    }
    if rest.contains(['?', '#']) {
        return Err(
            "Leave out the query and fragment: calls go to the base URL's /chat/completions.",
        );
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err("Leave the user name and password out of the URL.");
    }
    let host = match authority.rsplit_once(':') {
        // An IPv6 address in brackets has colons of its own.
        Some((host, port)) if !port.contains(']') => {
            if port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err("The port must be a number from 1 to 65535.");
            }
            host
        }
        _ => authority,
    };
    if host.is_empty() || host == "[]" {
        return Err("The URL needs a host name.");
    }
    Ok(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        rest.trim_end_matches('/')
    ))
}

/// A new signing secret: `fgs_` and 256 random bits, base64url.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "fgs_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The deployment of the actor's own listing, or NotFound; returns the
/// listing's status and a label for the change history.
async fn own_deployment(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    m: &crate::orgs::db::Membership,
    listing_id: i64,
    deployment_id: i64,
) -> Result<(crate::listings::ListingStatus, String), AppError> {
    let status = open_own(tx, m, listing_id).await?;
    let row = sqlx::query(
        "SELECT b.name, b.version, d.revision FROM deployments d \
         JOIN base_models b ON b.id = d.base_model_id \
         WHERE d.id = $1 AND d.listing_id = $2",
    )
    .bind(deployment_id)
    .bind(listing_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let label = format!(
        "{} {}, revision {}",
        row.try_get::<String, _>("name")?,
        row.try_get::<String, _>("version")?,
        row.try_get::<String, _>("revision")?
    );
    Ok((status, label))
}

/// Sets where a deployment of the actor's listing is served. The first
/// time, a signing secret is made and returned (the only time it is
/// shown); later changes keep the secret and return None. A change of a
/// published listing's endpoint enters its public history, without the URL.
pub async fn set_upstream(
    state: &AppState,
    actor: &Actor,
    listing_id: i64,
    deployment_id: i64,
    form: &UpstreamForm,
) -> Result<Option<String>, AppError> {
    let m = editor(actor)?;
    let mut f = Form::new();
    let Upstream { base_url, model } = form.check(&mut f);
    f.done()?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let (status, label) = own_deployment(&mut tx, m, listing_id, deployment_id).await?;
    let before = sqlx::query(
        "SELECT base_url, upstream_model FROM deployment_upstreams WHERE deployment_id = $1",
    )
    .bind(deployment_id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| {
        Ok::<_, sqlx::Error>((
            r.try_get::<String, _>("base_url")?,
            r.try_get::<String, _>("upstream_model")?,
        ))
    })
    .transpose()?;
    let secret = match before {
        Some((u, md)) if u == base_url && md == model => return Ok(None),
        Some(_) => {
            sqlx::query(
                "UPDATE deployment_upstreams SET base_url = $2, upstream_model = $3, updated_at = $4 \
                 WHERE deployment_id = $1",
            )
            .bind(deployment_id)
            .bind(&base_url)
            .bind(&model)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            None
        }
        None => {
            let secret = new_secret();
            sqlx::query(
                "INSERT INTO deployment_upstreams \
                 (deployment_id, base_url, upstream_model, signing_secret, updated_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(deployment_id)
            .bind(&base_url)
            .bind(&model)
            .bind(&secret)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            Some(secret)
        }
    };
    // The model behind the endpoint may be another one now: its verified
    // evaluation no longer counts until it is run again.
    let staled = sqlx::query(
        "UPDATE deployments SET verified_stale = 1 \
         WHERE id = $1 AND verified_run_id IS NOT NULL AND verified_stale = 0",
    )
    .bind(deployment_id)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        > 0;
    public_change(
        &mut tx,
        status,
        listing_id,
        actor,
        "deployment",
        &format!(
            "Endpoint changed: {label}{}",
            if staled {
                "; its verified evaluation is stale until the next run"
            } else {
                ""
            }
        ),
        now,
    )
    .await?;
    append(
        &mut tx,
        &audit_entry(
            "listing.upstream_set",
            actor,
            m.org_id,
            listing_id,
            serde_json::json!({ "deployment": deployment_id, "new_secret": secret.is_some() }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Replaces a deployment's signing secret (say, after it leaked) and
/// returns the new one, shown this once. Calls are signed with it at once.
pub async fn rotate_secret(
    state: &AppState,
    actor: &Actor,
    listing_id: i64,
    deployment_id: i64,
) -> Result<String, AppError> {
    let m = editor(actor)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    own_deployment(&mut tx, m, listing_id, deployment_id).await?;
    let secret = new_secret();
    let n = sqlx::query(
        "UPDATE deployment_upstreams SET signing_secret = $2, updated_at = $3 WHERE deployment_id = $1",
    )
    .bind(deployment_id)
    .bind(&secret)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(AppError::Conflict(
            "Set the deployment's endpoint first; its secret is made then.".into(),
        ));
    }
    append(
        &mut tx,
        &audit_entry(
            "listing.upstream_secret_replaced",
            actor,
            m.org_id,
            listing_id,
            serde_json::json!({ "deployment": deployment_id }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// The upstreams of the actor's listing, by deployment (secrets left out).
pub async fn upstreams(
    state: &AppState,
    actor: &Actor,
    listing_id: i64,
) -> Result<Vec<UpstreamView>, AppError> {
    let m = editor(actor)?;
    super::own_listing(state, m, listing_id).await?;
    sqlx::query(
        "SELECT u.deployment_id, u.base_url, u.upstream_model, u.updated_at \
         FROM deployment_upstreams u JOIN deployments d ON d.id = u.deployment_id \
         WHERE d.listing_id = $1 ORDER BY u.deployment_id",
    )
    .bind(listing_id)
    .fetch_all(state.db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(UpstreamView {
            deployment_id: r.try_get("deployment_id")?,
            base_url: r.try_get("base_url")?,
            model: r.try_get("upstream_model")?,
            updated_at: r.try_get("updated_at")?,
        })
    })
    .collect()
}

/// Keeps a secret just made for the page a plain form post returns to; a
/// script (or the page with JavaScript) has it in the answer already.
pub async fn keep_for_page(visit: &Visit, new: &NewSecret) -> Result<(), AppError> {
    if visit.origin.plain_form {
        visit
            .session
            .insert(NEW_SECRET_KEY, new)
            .await
            .map_err(|e| AppError::internal("session store", e))?;
    }
    Ok(())
}

/// The secret a plain form post kept for this listing's editor, taken out
/// of the session (it is shown once). Called by the editor's one data
/// request, after the listing was found to be the actor's.
pub async fn take_new_secret(
    visit: &Visit,
    listing_id: i64,
) -> Result<Option<NewSecret>, AppError> {
    let err = |e| AppError::internal("session store", e);
    match visit
        .session
        .get::<NewSecret>(NEW_SECRET_KEY)
        .await
        .map_err(err)?
    {
        Some(s) if s.listing_id == listing_id => {
            visit
                .session
                .remove::<NewSecret>(NEW_SECRET_KEY)
                .await
                .map_err(err)?;
            Ok(Some(s))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(url: &str, model: &str) -> Vec<(String, Vec<String>)> {
        let mut f = Form::new();
        UpstreamForm {
            base_url: url.into(),
            model: model.into(),
        }
        .check(&mut f);
        f.errors()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    #[test]
    fn base_urls_are_http_or_https_with_a_host_and_nothing_secret() {
        assert_eq!(
            base_url(" HTTPS://models.example.com/v1/ "),
            Ok("https://models.example.com/v1".into())
        );
        assert_eq!(
            base_url("http://127.0.0.1:8081"),
            Ok("http://127.0.0.1:8081".into())
        );
        assert_eq!(
            base_url("http://[::1]:9000/v1"),
            Ok("http://[::1]:9000/v1".into())
        );
        for bad in [
            "",
            "models.example.com/v1",
            "ftp://models.example.com",
            "javascript://alert(1)",
            "https://user:pw@models.example.com",
            "https://models.example.com/v1?key=1",
            "https://models.example.com/v1#x",
            "https:///v1",
            "https://models.example.com:0",
            "https://models.example.com:99999",
            "https://models.example .com",
            "https://models.example.com/\u{7}",
        ] {
            assert!(base_url(bad).is_err(), "{bad:?} accepted");
        }
        assert!(base_url(&format!("https://a.example/{}", "x".repeat(MAX_URL))).is_err());
    }

    #[test]
    fn the_form_names_each_bad_field() {
        assert_eq!(errors("https://m.example/v1", "triage-7b"), vec![]);
        let e = errors("m.example", "");
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[0].0, "base_url");
        assert_eq!(e[1].0, "model");
        assert_eq!(
            errors("https://m.example", "two words")[0].1,
            ["A model name has no spaces."]
        );
    }

    #[test]
    fn secrets_are_long_random_and_marked() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("fgs_"));
        assert_eq!(a.len(), 4 + 43);
    }
}
