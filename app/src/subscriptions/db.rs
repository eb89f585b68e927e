//! SQL for subscriptions, their deployment moves, usage sums and the inputs
//! of statements.

use super::{DayUsage, SubscriptionView, SwitchView};
use crate::db::Db;
use crate::orgs::OrgKind;
use crate::ui::format::{format_money, group_digits};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row, Transaction};

/// Which subscriptions a query covers: always scoped by organisation (or a
/// referee's view of all).
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// A client's own subscriptions.
    Client(i64),
    /// Subscriptions to a partner's (or the platform's) listings.
    Publisher(i64),
    /// Every subscription (referees' totals).
    All,
}

impl Scope {
    fn clause(self) -> (&'static str, i64) {
        match self {
            Scope::Client(org) => ("s.client_org_id = $1", org),
            Scope::Publisher(org) => ("l.org_id = $1", org),
            Scope::All => ("$1 = $1", 0),
        }
    }
}

/// What the write rules need of a subscription.
pub struct SubRow {
    pub client_org_id: i64,
    pub listing_id: i64,
    pub deployment_id: i64,
    pub active: bool,
}

pub async fn row<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: i64,
) -> Result<Option<SubRow>, sqlx::Error> {
    sqlx::query(
        "SELECT client_org_id, listing_id, deployment_id, status FROM subscriptions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await?
    .map(|r| {
        let status: String = r.try_get("status")?;
        Ok(SubRow {
            client_org_id: r.try_get("client_org_id")?,
            listing_id: r.try_get("listing_id")?,
            deployment_id: r.try_get("deployment_id")?,
            active: status == "active",
        })
    })
    .transpose()
}

/// The client's active subscription to a listing: (id, plan, deployment).
pub async fn active_for(
    tx: &mut Transaction<'_, Any>,
    client_org: i64,
    listing: i64,
) -> Result<Option<(i64, i64, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT id, plan_id, deployment_id FROM subscriptions \
         WHERE client_org_id = $1 AND listing_id = $2 AND status = 'active'",
    )
    .bind(client_org)
    .bind(listing)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| {
        Ok((
            r.try_get("id")?,
            r.try_get("plan_id")?,
            r.try_get("deployment_id")?,
        ))
    })
    .transpose()
}

/// The client's active subscription to a listing, read through the pool.
pub async fn active_id(db: &Db, client_org: i64, listing: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query(
        "SELECT id FROM subscriptions WHERE client_org_id = $1 AND listing_id = $2 AND status = 'active'",
    )
    .bind(client_org)
    .bind(listing)
    .fetch_optional(db.pool())
    .await?
    .map(|r| r.try_get("id"))
    .transpose()
}

pub struct NewSubscription {
    pub client_org_id: i64,
    pub listing_id: i64,
    pub plan_id: i64,
    pub deployment_id: i64,
    pub by_user_id: i64,
}

pub async fn insert(
    tx: &mut Transaction<'_, Any>,
    s: &NewSubscription,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO subscriptions (client_org_id, listing_id, plan_id, deployment_id, status, started_at, created_by_user_id) \
         VALUES ($1, $2, $3, $4, 'active', $5, $6) RETURNING id",
    )
    .bind(s.client_org_id)
    .bind(s.listing_id)
    .bind(s.plan_id)
    .bind(s.deployment_id)
    .bind(now)
    .bind(s.by_user_id)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")
}

/// Ends an active subscription now; false if it was not active.
pub async fn cancel(tx: &mut Transaction<'_, Any>, id: i64, now: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE subscriptions SET status = 'cancelled', ended_at = $2 WHERE id = $1 AND status = 'active'",
    )
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

pub async fn switch(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    from: i64,
    to: i64,
    by_user_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE subscriptions SET deployment_id = $2 WHERE id = $1")
        .bind(id)
        .bind(to)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO subscription_switches (subscription_id, from_deployment_id, to_deployment_id, by_user_id, at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(by_user_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A listing's deployment that a subscription may run on (not paused):
/// its label, or None.
pub async fn usable_deployment(
    tx: &mut Transaction<'_, Any>,
    listing: i64,
    deployment: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query(
        "SELECT b.name, b.version, b.provider, d.revision FROM deployments d \
         JOIN base_models b ON b.id = d.base_model_id \
         WHERE d.id = $1 AND d.listing_id = $2 AND d.status <> 'paused'",
    )
    .bind(deployment)
    .bind(listing)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| deployment_label(&r))
    .transpose()
}

fn deployment_label(r: &AnyRow) -> Result<String, sqlx::Error> {
    let name: String = r.try_get("name")?;
    let version: String = r.try_get("version")?;
    let provider: String = r.try_get("provider")?;
    let revision: String = r.try_get("revision")?;
    Ok(format!("{name} {version} ({provider}), {revision}"))
}

/// Whether a plan is one of the listing's active plans.
pub async fn active_plan(
    tx: &mut Transaction<'_, Any>,
    listing: i64,
    plan: i64,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 AS one FROM plans WHERE id = $1 AND listing_id = $2 AND active = 1")
            .bind(plan)
            .bind(listing)
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
    )
}

const VIEW_SELECT: &str = "SELECT s.id, s.client_org_id, s.listing_id, c.name AS client, l.slug, l.name AS listing_name, \
        o.id AS publisher_org_id, o.name AS publisher, o.kind AS publisher_kind, o.affiliated AS publisher_affiliated, p.name AS plan, p.monthly_fee_minor, p.currency, \
        p.included_calls, p.overage_per_1000_minor, s.deployment_id, b.name, b.version, b.provider, \
        d.revision, s.status, s.started_at, s.ended_at, l.industry \
     FROM subscriptions s \
     JOIN organisations c ON c.id = s.client_org_id \
     JOIN listings l ON l.id = s.listing_id \
     JOIN organisations o ON o.id = l.org_id \
     JOIN plans p ON p.id = s.plan_id \
     JOIN deployments d ON d.id = s.deployment_id \
     JOIN base_models b ON b.id = d.base_model_id";

/// A subscription with what its statements need.
pub struct Priced {
    pub view: SubscriptionView,
    pub client_org_id: i64,
    pub listing_id: i64,
    pub publisher_org_id: i64,
    pub industry: String,
    pub currency: String,
    pub monthly_fee_minor: i64,
    pub included_calls: i64,
    pub overage_per_1000_minor: i64,
}

fn priced(r: &AnyRow) -> Result<Priced, sqlx::Error> {
    let fee: i64 = r.try_get("monthly_fee_minor")?;
    let currency: String = r.try_get("currency")?;
    let included: i64 = r.try_get("included_calls")?;
    let over: i64 = r.try_get("overage_per_1000_minor")?;
    let kind: String = r.try_get("publisher_kind")?;
    let status: String = r.try_get("status")?;
    let terms = format!(
        "{} a month, {} calls included, {} per 1,000 more",
        format_money(fee, &currency),
        group_digits(included.max(0) as u64),
        format_money(over, &currency)
    );
    Ok(Priced {
        view: SubscriptionView {
            id: r.try_get("id")?,
            client: r.try_get("client")?,
            listing_slug: r.try_get("slug")?,
            listing_name: r.try_get("listing_name")?,
            publisher: r.try_get("publisher")?,
            platform_owned: kind == OrgKind::Platform.as_str(),
            affiliated: r.try_get::<i64, _>("publisher_affiliated")? == 1,
            plan: r.try_get("plan")?,
            terms,
            deployment_id: r.try_get("deployment_id")?,
            base_model: deployment_label(r)?,
            active: status == "active",
            started_at: r.try_get("started_at")?,
            ended_at: r.try_get("ended_at")?,
        },
        client_org_id: r.try_get("client_org_id")?,
        listing_id: r.try_get("listing_id")?,
        publisher_org_id: r.try_get("publisher_org_id")?,
        industry: r.try_get("industry")?,
        currency,
        monthly_fee_minor: fee,
        included_calls: included,
        overage_per_1000_minor: over,
    })
}

/// Subscriptions in scope, newest first.
pub async fn list(db: &Db, scope: Scope) -> Result<Vec<Priced>, sqlx::Error> {
    let (clause, org) = scope.clause();
    sqlx::query(&format!(
        "{VIEW_SELECT} WHERE {clause} ORDER BY s.started_at DESC, s.id DESC"
    ))
    .bind(org)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(priced)
    .collect()
}

pub async fn one(db: &Db, id: i64) -> Result<Option<Priced>, sqlx::Error> {
    sqlx::query(&format!("{VIEW_SELECT} WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(priced)
        .transpose()
}

pub async fn switches(db: &Db, id: i64) -> Result<Vec<SwitchView>, sqlx::Error> {
    sqlx::query(
        "SELECT w.at, fb.name AS f_name, fb.version AS f_version, tb.name AS t_name, tb.version AS t_version, \
                COALESCE(u.display_name, 'a former member') AS by_name \
         FROM subscription_switches w \
         JOIN deployments f ON f.id = w.from_deployment_id JOIN base_models fb ON fb.id = f.base_model_id \
         JOIN deployments t ON t.id = w.to_deployment_id JOIN base_models tb ON tb.id = t.base_model_id \
         LEFT JOIN users u ON u.id = w.by_user_id \
         WHERE w.subscription_id = $1 ORDER BY w.at DESC, w.id DESC",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        let (fname, fver): (String, String) = (r.try_get("f_name")?, r.try_get("f_version")?);
        let (tname, tver): (String, String) = (r.try_get("t_name")?, r.try_get("t_version")?);
        Ok(SwitchView {
            at: r.try_get("at")?,
            from: format!("{fname} {fver}"),
            to: format!("{tname} {tver}"),
            by: r.try_get("by_name")?,
        })
    })
    .collect()
}

/// Deployments of a listing a subscription may move to: (id, label).
pub async fn deployment_choices(db: &Db, listing: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT d.id, b.name, b.version, b.provider, d.revision FROM deployments d \
         JOIN base_models b ON b.id = d.base_model_id \
         WHERE d.listing_id = $1 AND d.status <> 'paused' \
         ORDER BY d.is_default DESC, b.name, b.version, d.revision",
    )
    .bind(listing)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, deployment_label(r)?)))
    .collect()
}

/// Active plans of a listing: (id, label).
pub async fn plan_choices(db: &Db, listing: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT id, name, monthly_fee_minor, currency FROM plans \
         WHERE listing_id = $1 AND active = 1 ORDER BY monthly_fee_minor, name",
    )
    .bind(listing)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        let name: String = r.try_get("name")?;
        let fee: i64 = r.try_get("monthly_fee_minor")?;
        let currency: String = r.try_get("currency")?;
        Ok((
            r.try_get("id")?,
            format!("{name} — {} a month", format_money(fee, &currency)),
        ))
    })
    .collect()
}

/// (allow fallback, monthly cap) of a subscription.
pub async fn call_options(db: &Db, id: i64) -> Result<(bool, Option<i64>), sqlx::Error> {
    let r = sqlx::query("SELECT allow_fallback, monthly_call_cap FROM subscriptions WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    Ok((
        r.try_get::<i64, _>("allow_fallback")? == 1,
        r.try_get("monthly_call_cap")?,
    ))
}

/// The base models' slugs of a listing's deployments, in the publisher's
/// order, each once.
pub async fn deployment_bases(db: &Db, listing: i64) -> Result<Vec<String>, sqlx::Error> {
    let mut bases: Vec<String> = sqlx::query(
        "SELECT b.slug FROM deployments d JOIN base_models b ON b.id = d.base_model_id \
         WHERE d.listing_id = $1 ORDER BY d.is_default DESC, b.provider, b.name, b.version, d.revision",
    )
    .bind(listing)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| r.try_get("slug"))
    .collect::<Result<_, _>>()?;
    let mut seen = std::collections::HashSet::new();
    bases.retain(|b| seen.insert(b.clone()));
    Ok(bases)
}

/// The client's choices for calls through the gateway.
pub async fn set_call_options(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    allow_fallback: bool,
    monthly_call_cap: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE subscriptions SET allow_fallback = $2, monthly_call_cap = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(i64::from(allow_fallback))
    .bind(monthly_call_cap)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Billable calls of one subscription on one UTC day, by source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCalls {
    pub subscription: i64,
    /// Days since the epoch.
    pub day: i64,
    /// Reported by the publisher through the usage API.
    pub reported: i64,
    /// Metered by the gateway (billable calls only).
    pub gateway: i64,
    /// Tokens of the gateway's calls, as their upstreams reported them.
    pub tokens: i64,
}

impl DayCalls {
    pub fn calls(&self) -> i64 {
        self.reported.saturating_add(self.gateway)
    }
}

/// Billable calls per subscription and UTC day, for subscriptions in
/// scope, from `from` (ms) on: the publisher's reported records and the
/// gateway's billable calls.
pub async fn calls_per_day(
    db: &Db,
    scope: Scope,
    subscription: Option<i64>,
    from: i64,
) -> Result<Vec<DayCalls>, sqlx::Error> {
    let (clause, org) = scope.clause();
    sqlx::query(&format!(
        "SELECT x.subscription_id, x.day, CAST(SUM(x.reported) AS BIGINT) AS reported, \
                CAST(SUM(x.gateway) AS BIGINT) AS gateway, CAST(SUM(x.tokens) AS BIGINT) AS tokens \
         FROM ( \
           SELECT u.subscription_id, u.occurred_at / 86400000 AS day, u.quantity AS reported, \
                  0 AS gateway, 0 AS tokens \
           FROM usage_records u \
           WHERE u.dimension = 'calls' AND u.occurred_at >= $2 AND ($3 = 0 OR u.subscription_id = $3) \
           UNION ALL \
           SELECT g.subscription_id, g.occurred_at / 86400000 AS day, 0 AS reported, 1 AS gateway, \
                  COALESCE(g.prompt_tokens, 0) + COALESCE(g.completion_tokens, 0) AS tokens \
           FROM gateway_calls g \
           WHERE g.billable = 1 AND g.occurred_at >= $2 AND ($3 = 0 OR g.subscription_id = $3) \
         ) x JOIN subscriptions s ON s.id = x.subscription_id \
         JOIN listings l ON l.id = s.listing_id \
         WHERE {clause} \
         GROUP BY x.subscription_id, x.day"
    ))
    .bind(org)
    .bind(from)
    .bind(subscription.unwrap_or(0))
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(DayCalls {
            subscription: r.try_get("subscription_id")?,
            day: r.try_get("day")?,
            reported: r.try_get("reported")?,
            gateway: r.try_get("gateway")?,
            tokens: r.try_get("tokens")?,
        })
    })
    .collect()
}

/// Calls per day summed over subscriptions, the last `days` days to
/// `today` (a day number), every day present.
pub fn daily_series(rows: &[DayCalls], today: i64, days: i64) -> Vec<DayUsage> {
    let first = today - days + 1;
    let mut out: Vec<DayUsage> = (0..days.max(0))
        .map(|i| DayUsage {
            day: (first + i) * 86_400_000,
            calls: 0,
            gateway_calls: 0,
            tokens: 0,
        })
        .collect();
    for r in rows {
        if (first..=today).contains(&r.day) {
            let d = &mut out[(r.day - first) as usize];
            d.calls = d.calls.saturating_add(r.calls());
            d.gateway_calls = d.gateway_calls.saturating_add(r.gateway);
            d.tokens = d.tokens.saturating_add(r.tokens);
        }
    }
    out
}

/// Whether the listing is published (through the pool or a transaction).
pub async fn published<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    listing: i64,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 AS one FROM listings WHERE id = $1 AND status = 'published'")
            .bind(listing)
            .fetch_optional(ex)
            .await?
            .is_some(),
    )
}

/// Whether any subscription runs, or ran, on a deployment (its history
/// needs it, so it cannot be removed).
pub async fn deployment_used(
    tx: &mut Transaction<'_, Any>,
    deployment: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "SELECT 1 AS one FROM subscriptions WHERE deployment_id = $1 \
         UNION ALL SELECT 1 AS one FROM subscription_switches WHERE from_deployment_id = $1 OR to_deployment_id = $1",
    )
    .bind(deployment)
    .fetch_optional(&mut **tx)
    .await?
    .is_some())
}
