//! Publishing evaluation sets and running them. A run calls the
//! deployment's model server as the gateway does (signed, from the
//! platform, the same client and address rules) but outside any
//! subscription: no usage record is written, so a run is never billed;
//! its token counts stay with the run.

use super::{
    parse_items, passes, score, to_jsonl, EvaluationSet, EvaluationsPage, Item, ItemOutcome, Rule,
    RunDetail, RunView, SetVersion, STALE,
};
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{Actor, Permission};
use crate::catalogue::db::bump_version;
use crate::error::AppError;
use crate::form::Form;
use crate::gateway::signing::{sign, REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::gateway::upstream::refused_host;
use crate::state::AppState;
use crate::ui::fields::Choice;
use futures_util::StreamExt;
use sqlx::Row;
use std::time::Duration;

/// How long one item may take to be answered.
pub const ITEM_TIMEOUT: Duration = Duration::from_secs(30);
/// Items of a run in flight at once.
const IN_FLIGHT: usize = 4;

/// A referee publishes a new version of an industry's evaluation set (the
/// first version creates the set). Every earlier run in the industry is
/// stale from now on: the same set runs on every deployment alike.
#[allow(clippy::too_many_arguments)]
pub async fn publish_set(
    state: &AppState,
    actor: &Actor,
    industry: &str,
    name: &str,
    rule: &str,
    tolerance: &str,
    items: &str,
    reason: &str,
) -> Result<i64, AppError> {
    let m = actor.require(Permission::Referee)?;
    let mut f = Form::new();
    let name = f.text("name", name, 3, 80, false);
    let reason = f.text("reason", reason, 3, 500, false);
    let rule = f.take(
        "rule",
        Rule::parse(rule).ok_or_else(|| "Choose exact, contains or numeric.".to_string()),
    );
    let tolerance_milli = match (rule, super::parse_milli(tolerance)) {
        (_, None) => {
            f.fail(
                "tolerance",
                "Give a number from 0 with at most three decimals.",
            );
            0
        }
        (Some(Rule::Numeric), Some(t)) => t,
        (_, Some(0)) => 0,
        (_, Some(_)) => {
            f.fail("tolerance", "Only a numeric set has a tolerance.");
            0
        }
    };
    let parsed = match rule {
        Some(r) => f.take("items", parse_items(items, r)),
        None => None,
    };
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let known = sqlx::query("SELECT 1 FROM industries WHERE slug = $1")
        .bind(industry)
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if !known {
        f.fail("industry", "Choose an industry from the list.");
    }
    f.done()?;
    let (Some(rule), Some(parsed)) = (rule, parsed) else {
        return Err(AppError::field("items", "Give at least one item."));
    };
    let set_id: i64 = match sqlx::query("SELECT id FROM evaluation_sets WHERE industry = $1")
        .bind(industry)
        .fetch_optional(&mut **tx)
        .await?
    {
        Some(r) => {
            let id: i64 = r.try_get("id")?;
            sqlx::query("UPDATE evaluation_sets SET name = $2 WHERE id = $1")
                .bind(id)
                .bind(&name)
                .execute(&mut **tx)
                .await?;
            id
        }
        None => sqlx::query(
            "INSERT INTO evaluation_sets (industry, name, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(industry)
        .bind(&name)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?
        .try_get("id")?,
    };
    let version: i64 = sqlx::query(
        "SELECT COALESCE(MAX(version), 0) + 1 AS next FROM evaluation_set_versions WHERE set_id = $1",
    )
    .bind(set_id)
    .fetch_one(&mut **tx)
    .await?
    .try_get("next")?;
    sqlx::query(
        "INSERT INTO evaluation_set_versions \
         (set_id, version, rule, tolerance_milli, items, item_count, reason, published_by, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(set_id)
    .bind(version)
    .bind(rule.as_str())
    .bind(tolerance_milli)
    .bind(to_jsonl(&parsed))
    .bind(parsed.len() as i64)
    .bind(&reason)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "evaluation.set_published",
            Some(m.org_id),
            format!("evaluation_set:{set_id}"),
            serde_json::json!({
                "industry": industry, "version": version, "rule": rule.as_str(),
                "items": parsed.len(), "reason": reason,
            }),
        ),
        now,
    )
    .await?;
    // Earlier runs stop counting: the ranking changes.
    bump_version(&mut tx).await?;
    tx.commit().await?;
    Ok(version)
}

struct Target {
    listing_id: i64,
    listing_org: i64,
    industry: String,
    label: String,
    revision: String,
    base_url: String,
    upstream_model: String,
    secret: String,
}

async fn target(state: &AppState, deployment_id: i64) -> Result<Target, AppError> {
    let row = sqlx::query(
        "SELECT l.id AS listing_id, l.org_id, l.industry, l.slug, l.status AS listing_status, \
                d.status, d.revision, b.slug AS base, u.base_url, u.upstream_model, u.signing_secret \
         FROM deployments d JOIN listings l ON l.id = d.listing_id \
         JOIN base_models b ON b.id = d.base_model_id \
         LEFT JOIN deployment_upstreams u ON u.deployment_id = d.id WHERE d.id = $1",
    )
    .bind(deployment_id)
    .fetch_optional(state.db.pool())
    .await?;
    let choose = || AppError::field("deployment_id", "Choose a deployment from the list.");
    let row = row.ok_or_else(choose)?;
    let listing_status: String = row.try_get("listing_status")?;
    if listing_status != "published" {
        return Err(choose());
    }
    let status: String = row.try_get("status")?;
    if status != "active" {
        return Err(AppError::field(
            "deployment_id",
            format!("This deployment is {status}: only active deployments are evaluated."),
        ));
    }
    let base_url: Option<String> = row.try_get("base_url")?;
    let Some(base_url) = base_url else {
        return Err(AppError::field(
            "deployment_id",
            "This deployment is not connected to a model server yet.",
        ));
    };
    let slug: String = row.try_get("slug")?;
    let base: String = row.try_get("base")?;
    Ok(Target {
        listing_id: row.try_get("listing_id")?,
        listing_org: row.try_get("org_id")?,
        industry: row.try_get("industry")?,
        label: format!("{slug}@{base}"),
        revision: row.try_get("revision")?,
        base_url,
        upstream_model: row.try_get("upstream_model")?,
        secret: row.try_get("signing_secret")?,
    })
}

/// What one item's call gave: the outcome and the usage reported.
struct Answered {
    outcome: &'static str,
    prompt_tokens: i64,
    completion_tokens: i64,
}

async fn ask(
    state: &AppState,
    t: &Target,
    url: &str,
    item: Item,
    rule: Rule,
    tol: i64,
) -> Answered {
    let failed = Answered {
        outcome: "error",
        prompt_tokens: 0,
        completion_tokens: 0,
    };
    let body = serde_json::to_vec(&serde_json::json!({
        "model": t.upstream_model,
        "messages": [{"role": "user", "content": item.prompt}],
    }))
    .unwrap_or_default();
    let id = uuid::Uuid::new_v4().to_string();
    let ts = state.clock.now_ms() / 1000;
    let sent = state
        .gateway
        .client
        .post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(REQUEST_ID_HEADER, &id)
        .header(TIMESTAMP_HEADER, ts.to_string())
        .header(SIGNATURE_HEADER, sign(&t.secret, ts, &id, &body))
        .body(body)
        .send();
    let answer = async {
        let res = sent.await.ok()?;
        if !res.status().is_success() {
            return None;
        }
        res.json::<serde_json::Value>().await.ok()
    };
    let Ok(Some(v)) = tokio::time::timeout(ITEM_TIMEOUT, answer).await else {
        return failed;
    };
    let Some(text) = v["choices"][0]["message"]["content"].as_str() else {
        return failed;
    };
    Answered {
        outcome: if passes(rule, tol, &item.expected, text) {
            "pass"
        } else {
            "fail"
        },
        prompt_tokens: v["usage"]["prompt_tokens"].as_i64().unwrap_or(0).max(0),
        completion_tokens: v["usage"]["completion_tokens"].as_i64().unwrap_or(0).max(0),
    }
}

/// A referee runs the industry's current set on a deployment of a
/// published listing. A referee who belongs to the listing's publisher is
/// refused (recusal). The score replaces the deployment's verified score
/// and enters the listing's public history and the audit log.
pub async fn run(state: &AppState, actor: &Actor, deployment_id: i64) -> Result<i64, AppError> {
    let m = actor.require(Permission::Referee)?;
    let t = target(state, deployment_id).await?;
    crate::policy::recusal::refuse_if_party(
        state,
        actor,
        m.org_id,
        &[t.listing_org],
        &format!("listing:{}", t.listing_id),
        "evaluation_run",
    )
    .await?;
    let set = sqlx::query(
        "SELECT v.id, v.version, v.rule, v.tolerance_milli, v.items, s.name FROM evaluation_set_versions v \
         JOIN evaluation_sets s ON s.id = v.set_id WHERE s.industry = $1 ORDER BY v.version DESC LIMIT 1",
    )
    .bind(&t.industry)
    .fetch_optional(state.db.pool())
    .await?
    .ok_or_else(|| {
        AppError::field(
            "deployment_id",
            "This listing's industry has no evaluation set yet: publish one first.",
        )
    })?;
    let set_version_id: i64 = set.try_get("id")?;
    let version: i64 = set.try_get("version")?;
    let set_name: String = set.try_get("name")?;
    let tol: i64 = set.try_get("tolerance_milli")?;
    let rule = Rule::parse(&set.try_get::<String, _>("rule")?).unwrap_or(Rule::Exact);
    let items = parse_items(&set.try_get::<String, _>("items")?, rule)
        .map_err(|e| AppError::Conflict(format!("The stored set cannot be read: {e}")))?;
    let url = format!("{}/chat/completions", t.base_url.trim_end_matches('/'));
    let allowed = reqwest::Url::parse(&url)
        .ok()
        .map(|u| refused_host(&u, state.gateway.settings.allow_private_upstreams));
    if !matches!(allowed, Some(None)) {
        return Err(AppError::field(
            "deployment_id",
            "This deployment's model server is on an address the platform does not call.",
        ));
    }
    if let Err(wait_ms) = state.gateway.check_rate(-actor.user_id).await {
        return Err(AppError::RateLimited {
            retry_after_secs: wait_ms.div_ceil(1000).max(1),
        });
    }
    let started = state.clock.now_ms();
    let answers: Vec<Answered> = futures_util::stream::iter(items)
        .map(|item| ask(state, &t, &url, item, rule, tol))
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    let total = answers.len() as i64;
    let passed = answers.iter().filter(|a| a.outcome == "pass").count() as i64;
    let errors = answers.iter().filter(|a| a.outcome == "error").count() as i64;
    let score = score(passed, total);
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    // The deployment may have changed while the run was out: a run counts
    // only for the revision it asked.
    let still: Option<String> = sqlx::query("SELECT revision FROM deployments WHERE id = $1")
        .bind(deployment_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get("revision"))
        .transpose()?;
    if still.as_deref() != Some(t.revision.as_str()) {
        return Err(AppError::Conflict(
            "The deployment changed while it was evaluated: run it again.".into(),
        ));
    }
    let run_id: i64 = sqlx::query(
        "INSERT INTO evaluation_runs (deployment_id, set_version_id, revision, passed, total, errors, score, \
         prompt_tokens, completion_tokens, started_by, started_at, finished_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(deployment_id)
    .bind(set_version_id)
    .bind(&t.revision)
    .bind(passed)
    .bind(total)
    .bind(errors)
    .bind(score)
    .bind(answers.iter().map(|a| a.prompt_tokens).sum::<i64>())
    .bind(answers.iter().map(|a| a.completion_tokens).sum::<i64>())
    .bind(actor.user_id)
    .bind(started)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?;
    for (i, a) in answers.iter().enumerate() {
        sqlx::query(
            "INSERT INTO evaluation_run_items (run_id, item_no, outcome) VALUES ($1, $2, $3)",
        )
        .bind(run_id)
        .bind(i as i64 + 1)
        .bind(a.outcome)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query("UPDATE deployments SET verified_run_id = $2, verified_stale = 0 WHERE id = $1")
        .bind(deployment_id)
        .bind(run_id)
        .execute(&mut **tx)
        .await?;
    crate::listings::db::add_change(
        &mut tx,
        t.listing_id,
        actor.user_id,
        "deployment",
        &format!(
            "Verified evaluation of {}: {score} / 100 ({set_name} v{version}, {passed} of {total} items passed)",
            t.label
        ),
        now,
    )
    .await?;
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "evaluation.run",
            Some(t.listing_org),
            format!("listing:{}", t.listing_id),
            serde_json::json!({
                "run": run_id, "deployment": deployment_id, "set_version": set_version_id,
                "score": score, "passed": passed, "total": total, "errors": errors,
            }),
        ),
        now,
    )
    .await?;
    bump_version(&mut tx).await?;
    tx.commit().await?;
    Ok(run_id)
}

fn run_view(r: &sqlx::any::AnyRow) -> Result<RunView, sqlx::Error> {
    let slug: String = r.try_get("slug")?;
    let base: String = r.try_get("base")?;
    Ok(RunView {
        id: r.try_get("id")?,
        listing_name: r.try_get("name")?,
        deployment: format!("{slug}@{base}"),
        listing_slug: slug,
        revision: r.try_get("revision")?,
        set_name: r.try_get("set_name")?,
        set_version: r.try_get("version")?,
        passed: r.try_get("passed")?,
        total: r.try_get("total")?,
        errors: r.try_get("errors")?,
        score: r.try_get("score")?,
        finished_at: r.try_get("finished_at")?,
        stale: r.try_get::<i64, _>("stale")? == 1,
        current: r.try_get::<i64, _>("current")? == 1,
    })
}

fn runs_sql(filter: &str) -> String {
    format!(
        "SELECT r.id, l.name, l.slug, b.slug AS base, r.revision, s.name AS set_name, v.version, \
                r.passed, r.total, r.errors, r.score, r.finished_at, \
                CASE WHEN d.verified_run_id = r.id THEN 1 ELSE 0 END AS current, \
                CASE WHEN d.verified_run_id = r.id AND NOT {STALE} THEN 0 ELSE 1 END AS stale \
         FROM evaluation_runs r JOIN deployments d ON d.id = r.deployment_id \
         JOIN listings l ON l.id = d.listing_id JOIN base_models b ON b.id = d.base_model_id \
         JOIN evaluation_set_versions v ON v.id = r.set_version_id JOIN evaluation_sets s ON s.id = v.set_id \
         WHERE l.status = 'published' {filter}"
    )
}

/// The public page: every set with its versions, the latest runs.
pub async fn page(state: &AppState, viewer: Option<&Actor>) -> Result<EvaluationsPage, AppError> {
    let pool = state.db.pool();
    let mut sets: Vec<EvaluationSet> = Vec::new();
    for r in sqlx::query(
        "SELECT s.id, s.industry, i.name AS industry_name, s.name, v.version, v.rule, v.tolerance_milli, \
                v.item_count, v.reason, v.published_at \
         FROM evaluation_sets s JOIN industries i ON i.slug = s.industry \
         JOIN evaluation_set_versions v ON v.set_id = s.id ORDER BY i.name, s.id, v.version DESC",
    )
    .fetch_all(pool)
    .await?
    {
        let id: i64 = r.try_get("id")?;
        let rule = Rule::parse(&r.try_get::<String, _>("rule")?).unwrap_or(Rule::Exact);
        let version = SetVersion {
            version: r.try_get("version")?,
            rule: rule.describe(r.try_get("tolerance_milli")?),
            item_count: r.try_get("item_count")?,
            reason: r.try_get("reason")?,
            published_at: r.try_get("published_at")?,
        };
        match sets.last_mut() {
            Some(s) if s.id == id => s.versions.push(version),
            _ => sets.push(EvaluationSet {
                id,
                industry: r.try_get("industry")?,
                industry_name: r.try_get("industry_name")?,
                name: r.try_get("name")?,
                versions: vec![version],
            }),
        }
    }
    let runs = sqlx::query(&runs_sql("ORDER BY r.id DESC LIMIT 100"))
        .fetch_all(pool)
        .await?
        .iter()
        .map(run_view)
        .collect::<Result<Vec<_>, _>>()?;
    let referee = viewer.is_some_and(|a| a.require(Permission::Referee).is_ok());
    let (mut industries, mut deployments) = (Vec::new(), Vec::new());
    if referee {
        for r in sqlx::query("SELECT slug, name FROM industries ORDER BY name")
            .fetch_all(pool)
            .await?
        {
            industries.push(Choice {
                value: r.try_get("slug")?,
                label: r.try_get("name")?,
            });
        }
        for r in sqlx::query(
            "SELECT d.id, l.slug, b.slug AS base, d.revision FROM deployments d \
             JOIN listings l ON l.id = d.listing_id JOIN base_models b ON b.id = d.base_model_id \
             JOIN deployment_upstreams u ON u.deployment_id = d.id \
             WHERE l.status = 'published' AND d.status = 'active' ORDER BY l.slug, b.slug, d.revision",
        )
        .fetch_all(pool)
        .await?
        {
            let id: i64 = r.try_get("id")?;
            deployments.push(Choice {
                value: id.to_string(),
                label: format!(
                    "{}@{} (revision {})",
                    r.try_get::<String, _>("slug")?,
                    r.try_get::<String, _>("base")?,
                    r.try_get::<String, _>("revision")?
                ),
            });
        }
    }
    Ok(EvaluationsPage {
        sets,
        runs,
        referee,
        industries,
        deployments,
    })
}

/// One run of a published listing's deployment, item by item.
pub async fn run_detail(state: &AppState, id: i64) -> Result<RunDetail, AppError> {
    let pool = state.db.pool();
    let row = sqlx::query(&runs_sql("AND r.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let run = run_view(&row)?;
    let set = sqlx::query(
        "SELECT v.rule, v.tolerance_milli, v.items FROM evaluation_runs r \
         JOIN evaluation_set_versions v ON v.id = r.set_version_id WHERE r.id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await?;
    let rule = Rule::parse(&set.try_get::<String, _>("rule")?).unwrap_or(Rule::Exact);
    let items = parse_items(&set.try_get::<String, _>("items")?, rule).unwrap_or_default();
    let mut outcomes = Vec::new();
    for r in sqlx::query(
        "SELECT item_no, outcome FROM evaluation_run_items WHERE run_id = $1 ORDER BY item_no",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    {
        let no: i64 = r.try_get("item_no")?;
        let item = items.get((no - 1).max(0) as usize);
        outcomes.push(ItemOutcome {
            no,
            prompt: item.map(|i| i.prompt.clone()).unwrap_or_default(),
            expected: item.map(|i| i.expected.clone()).unwrap_or_default(),
            outcome: r.try_get("outcome")?,
        });
    }
    Ok(RunDetail {
        run,
        rule: rule.describe(set.try_get("tolerance_milli")?),
        items: outcomes,
    })
}

/// A set version's items as JSON Lines (public).
pub async fn set_items(state: &AppState, industry: &str, version: i64) -> Result<String, AppError> {
    let row = sqlx::query(
        "SELECT v.items FROM evaluation_set_versions v JOIN evaluation_sets s ON s.id = v.set_id \
         WHERE s.industry = $1 AND v.version = $2",
    )
    .bind(industry)
    .bind(version)
    .fetch_optional(state.db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(row.try_get("items")?)
}
