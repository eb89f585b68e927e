//! Subscription pages: the subscribe box on a listing page, the client's
//! subscriptions and invoices, a subscription's page (usage chart, switch,
//! cancel), the publisher's subscribers and statements, referees' totals.

use super::api::{
    marketplace_totals, my_subscriptions, publisher_revenue, subscribe_options,
    subscription_detail, CancelSubscription, SetCallOptions, Subscribe, SwitchDeployment, TryModel,
};
use super::{Connect, DayUsage, StatementView, SubscriptionView};
use crate::policy::format_rate;
use crate::ui::badge::{AffiliatedBadge, PlatformBadge};
use crate::ui::confirm::Confirm;
use crate::ui::fields::options;
use crate::ui::fields::{field_error, invalid};
use crate::ui::fields::{page_action, FormAlert};
use crate::ui::format::date;
use crate::ui::format::{format_money, group_digits};
use crate::ui::status::{loaded, loaded_or};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Calls per day as an SVG bar chart, with the numbers in a table (folded
/// under the chart, linked from its caption) for screen readers and anyone
/// who wants them.
pub fn usage_chart(usage: &[DayUsage]) -> impl IntoView {
    const W: f64 = 600.0;
    const H: f64 = 160.0;
    let max = usage.iter().map(|d| d.calls).max().unwrap_or(0).max(1);
    let bar = if usage.is_empty() {
        W
    } else {
        W / usage.len() as f64
    };
    let total = usage.iter().fold(0i64, |t, d| t.saturating_add(d.calls));
    let gateway = usage
        .iter()
        .fold(0i64, |t, d| t.saturating_add(d.gateway_calls));
    let tokens = usage.iter().fold(0i64, |t, d| t.saturating_add(d.tokens));
    let first = usage.first().map(|d| date(d.day)).unwrap_or_default();
    let last = usage.last().map(|d| date(d.day)).unwrap_or_default();
    let label = format!(
        "Calls per day from {first} to {last}: {} in all, at most {} in a day",
        group_digits(total as u64),
        group_digits(max as u64)
    );
    let title = label.clone();
    view! {
        <figure class="usage-chart">
            <svg viewBox="-50 -10 660 200" role="img" aria-label=label.clone()>
                <title>{title}</title>
                <line class="grid-line" x1="0" x2=W y1=H y2=H/>
                <line class="grid-line" x1="0" x2=W y1="0" y2="0"/>
                <text class="axis" x="-6" y="4" text-anchor="end">{group_digits(max as u64)}</text>
                <text class="axis" x="-6" y=H + 4.0 text-anchor="end">"0"</text>
                {usage.iter().enumerate().filter(|(_, d)| d.calls > 0).map(|(i, d)| {
                    let h = H * d.calls as f64 / max as f64;
                    view! {
                        <rect class="bar" x=format!("{:.1}", i as f64 * bar + 1.0) y=format!("{:.1}", H - h)
                            width=format!("{:.1}", (bar - 2.0).max(1.0)) height=format!("{h:.1}")>
                            <title>{format!("{}: {} calls", date(d.day), group_digits(d.calls as u64))}</title>
                        </rect>
                    }
                }).collect_view()}
                <text class="axis" x="0" y=H + 20.0>{first}</text>
                <text class="axis" x=W y=H + 20.0 text-anchor="end">{last}</text>
            </svg>
            <figcaption>{format!(
                "Calls per day (UTC), last {} days: {} in all, {} of them through the gateway ({} tokens).",
                usage.len(),
                group_digits(total as u64),
                group_digits(gateway as u64),
                group_digits(tokens as u64)
            )}" "<a href="#usage-figures">"The figures day by day"</a></figcaption>
            <details id="usage-figures" class="chart-figures">
                <summary>"Calls per day as a table"</summary>
                <table class="grid">
                    <thead><tr>
                        <th scope="col">"Day (UTC)"</th>
                        <th scope="col">"Calls"</th>
                        <th scope="col">"Through the gateway"</th>
                        <th scope="col">"Tokens"</th>
                    </tr></thead>
                    <tbody>
                        {usage.iter().map(|d| view! {
                            <tr>
                                <td>{date(d.day)}</td>
                                <td>{group_digits(d.calls.max(0) as u64)}</td>
                                <td>{group_digits(d.gateway_calls.max(0) as u64)}</td>
                                <td>{group_digits(d.tokens.max(0) as u64)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </figure>
    }
}

fn money(minor: i64, s: &StatementView) -> String {
    format_money(minor, &s.currency)
}

/// Invoices (client) or statements (publisher): one row per subscription
/// and month, the parts adding up to the total.
pub fn statements_table(
    rows: Vec<StatementView>,
    caption: &'static str,
    with_client: bool,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"No statements yet."</p> }.into_any();
    }
    view! {
        <table class="grid statements">
            <caption>{caption}</caption>
            <thead><tr>
                <th scope="col">"Month"</th>
                <th scope="col">"Listing"</th>
                {with_client.then(|| view! { <th scope="col">"Client"</th> })}
                <th scope="col">"Calls"</th>
                <th scope="col">"Plan fee"</th>
                <th scope="col">"Overage"</th>
                <th scope="col">"Total"</th>
                <th scope="col">"Take rate"</th>
                <th scope="col">"Platform fee"</th>
                <th scope="col">"Partner payout"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|s| view! {
                    <tr>
                        <td>{s.month.clone()}{s.open.then_some(" (so far)")}</td>
                        <th scope="row">
                            {s.listing_name.clone()}
                            {s.platform_owned.then(|| view! { " " <PlatformBadge/> <span class="muted">" shadow statement"</span> })}{s.affiliated.then(|| view! { " " <AffiliatedBadge/> })}
                        </th>
                        {with_client.then(|| view! { <td>{s.client.clone()}</td> })}
                        <td>
                            {format!("{} ({} included)", group_digits(s.calls as u64), group_digits(s.included_calls as u64))}
                            <br/><span class="muted">{format!(
                                "{} through the gateway, {} reported by the partner",
                                group_digits(s.gateway_calls as u64),
                                group_digits(s.reported_calls as u64)
                            )}</span>
                        </td>
                        <td class="num">{money(s.plan_fee_minor, &s)}</td>
                        <td class="num">{money(s.overage_minor, &s)}</td>
                        <td class="num"><strong>{money(s.total_minor, &s)}</strong></td>
                        <td class="num">{format_rate(s.take_rate_bp)}</td>
                        <td class="num">{money(s.platform_fee_minor, &s)}</td>
                        <td class="num">{money(s.payout_minor, &s)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn subscriptions_table(subs: Vec<SubscriptionView>, with_client: bool) -> impl IntoView {
    if subs.is_empty() {
        return view! { <p class="muted">"No subscriptions yet."</p> }.into_any();
    }
    view! {
        <table class="grid">
            <thead><tr>
                <th scope="col">"Listing"</th>
                {with_client.then(|| view! { <th scope="col">"Client"</th> })}
                <th scope="col">"Plan"</th>
                <th scope="col">"Base model"</th>
                <th scope="col">"Since"</th>
                <th scope="col">"Status"</th>
            </tr></thead>
            <tbody>
                {subs.into_iter().map(|s| {
                    let href = format!("/subscriptions/{}", s.id);
                    view! {
                        <tr>
                            <th scope="row">
                                <a href=href>{s.listing_name.clone()}</a>
                                {s.platform_owned.then(|| view! { " " <PlatformBadge/> })}{s.affiliated.then(|| view! { " " <AffiliatedBadge/> })}
                                <br/><span class="muted">{s.publisher.clone()}</span>
                            </th>
                            {with_client.then(|| view! { <td>{s.client.clone()}</td> })}
                            <td>{s.plan.clone()}<br/><span class="muted">{s.terms.clone()}</span></td>
                            <td>{s.base_model.clone()}</td>
                            <td>{date(s.started_at)}</td>
                            <td>{match s.ended_at {
                                Some(at) => format!("Cancelled {}", date(at)),
                                None => "Active".to_string(),
                            }}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The subscribe box on a published listing's page.
#[component]
pub fn SubscribeBox(listing_id: i64) -> impl IntoView {
    let subscribe = page_action::<Subscribe>();
    let data = Resource::new(
        move || subscribe.version().get(),
        move |_| subscribe_options(listing_id),
    );
    let error = Signal::derive(move || subscribe.value().get().and_then(Result::err));
    view! {
        <section class="subscribe" aria-labelledby="subscribe-heading">
            <h2 id="subscribe-heading">"Subscribe"</h2>
            {loaded(data, move |o| {
                match (o.current, o.can_subscribe, o.reason) {
                    (Some(id), _, _) => {
                        let href = format!("/subscriptions/{id}");
                        view! { <p>"Your organisation subscribes to this listing. " <a href=href>"See the subscription"</a></p> }.into_any()
                    }
                    (None, true, _) => view! {
                        <FormAlert error fields=&["plan_id", "deployment_id"]/>
                        <ActionForm action=subscribe>
                            <input type="hidden" name="listing_id" value=listing_id.to_string()/>
                            <div class="field">
                                <label for="plan_id">"Plan"</label>
                                <select id="plan_id" name="plan_id" required aria-invalid=invalid(error, "plan_id") aria-describedby="plan_id-error">
                                    <option value="">"Choose…"</option>
                                    {options(o.plans, String::new())}
                                </select>
                                {field_error(error, "plan_id")}
                            </div>
                            <div class="field">
                                <label for="deployment_id">"Base model"</label>
                                <select id="deployment_id" name="deployment_id" required aria-invalid=invalid(error, "deployment_id") aria-describedby="deployment_id-error">
                                    {options(o.deployments, String::new())}
                                </select>
                                {field_error(error, "deployment_id")}
                            </div>
                            <button type="submit">"Subscribe"</button>
                        </ActionForm>
                    }.into_any(),
                    (None, false, Some(reason)) => view! { <p class="muted">{reason}</p> }.into_any(),
                    (None, false, None) => view! {
                        <p><a href="/sign-in">"Sign in"</a>" with a client organisation to subscribe."</p>
                    }.into_any(),
                }
            })}
        </section>
    }
}

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| my_subscriptions());
    view! {
        <Title text="Subscriptions · Fairground"/>
        <section class="panel">
            <h1>"Subscriptions"</h1>
            {loaded_or(data, "Loading…", move |d| {
                view! {
                    {subscriptions_table(d.subscriptions, false)}
                    <p><a href="/exports/invoices.csv" download>"Download all invoices (CSV)"</a></p>
                    {(!d.can_manage).then(|| view! {
                        <p class="muted">"Owners and admins of your organisation subscribe, switch and cancel."</p>
                    })}
                }.into_any()
            })}
        </section>
    }
}

#[component]
pub fn SubscriptionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .with(|p| p.get("id").unwrap_or_default())
            .parse::<i64>()
            .unwrap_or(0)
    };
    let switch = page_action::<SwitchDeployment>();
    let cancel = page_action::<CancelSubscription>();
    let options_set = page_action::<SetCallOptions>();
    let try_model = page_action::<TryModel>();
    let data = Resource::new(
        move || {
            (
                id(),
                switch.version().get(),
                cancel.version().get(),
                options_set.version().get(),
                try_model.version().get(),
            )
        },
        |(id, ..)| subscription_detail(id),
    );
    let try_error = Signal::derive(move || try_model.value().get().and_then(Result::err));
    let options_error = Signal::derive(move || options_set.value().get().and_then(Result::err));
    let switch_error = Signal::derive(move || switch.value().get().and_then(Result::err));
    let cancel_error = Signal::derive(move || cancel.value().get().and_then(Result::err));
    view! {
        <Title text="Subscription · Fairground"/>
        {loaded_or(data, "Loading…", move |d| {
            {
                let s = d.subscription.clone();
                let listing_href = format!("/listings/{}", s.listing_slug);
                view! {
                    <article class="panel">
                        <h1>{s.listing_name.clone()} {s.platform_owned.then(|| view! { " " <PlatformBadge/> })}{s.affiliated.then(|| view! { " " <AffiliatedBadge/> })}</h1>
                        <dl class="facts">
                            <dt>"Client"</dt><dd>{s.client.clone()}</dd>
                            <dt>"Listing"</dt><dd><a href=listing_href>{s.listing_name.clone()}</a>" by "{s.publisher.clone()}</dd>
                            <dt>"Plan"</dt><dd>{format!("{}: {}", s.plan, s.terms)}</dd>
                            <dt>"Base model"</dt><dd class="current-base-model">{s.base_model.clone()}</dd>
                            <dt>"Started"</dt><dd>{date(s.started_at)}</dd>
                            <dt>"Status"</dt><dd>{match s.ended_at {
                                Some(at) => format!("Cancelled on {}", date(at)),
                                None => "Active".to_string(),
                            }}</dd>
                        </dl>
                        {d.connect.clone().map(|c| connect_panel(c, s.id, d.can_manage, options_set, options_error))}
                        {d.connect.is_some().then(|| {
                            let shown = try_model.value().get_untracked().and_then(Result::ok).or(d.playground.clone());
                            playground_panel(s.id, shown, try_model, try_error)
                        })}
                        <h2>"Usage"</h2>
                        {usage_chart(&d.usage)}
                        <h2>"Invoices"</h2>
                        {statements_table(d.invoices.clone(), "Monthly invoices", false)}
                        <h2>"Base model history"</h2>
                        {if d.switches.is_empty() {
                            view! { <p class="muted">"Not switched since it started."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="history switches">
                                    {d.switches.iter().map(|w| view! {
                                        <li><time>{date(w.at)}</time>{format!(" {} → {}, by {}", w.from, w.to, w.by)}</li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        {d.can_manage.then(|| view! {
                            <h2>"Switch base model"</h2>
                            {if d.deployments.is_empty() {
                                view! { <p class="muted">"This listing has no other base model to move to."</p> }.into_any()
                            } else {
                                view! {
                                    <FormAlert error=switch_error fields=&["deployment_id"]/>
                                    <ActionForm action=switch>
                                        <input type="hidden" name="id" value=s.id.to_string()/>
                                        <div class="field">
                                            <label for="deployment_id">"Move to"</label>
                                            <select id="deployment_id" name="deployment_id" required aria-invalid=invalid(switch_error, "deployment_id") aria-describedby="deployment_id-error">
                                                {options(d.deployments.clone(), String::new())}
                                            </select>
                                            {field_error(switch_error, "deployment_id")}
                                        </div>
                                        <button type="submit">"Switch base model"</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                            <h2>"Cancel"</h2>
                            <p class="muted">"Cancelling takes effect at once: usage after it is refused. This month's plan fee stays due."</p>
                            <FormAlert error=cancel_error fields=&[]/>
                            <ActionForm action=cancel>
                                <input type="hidden" name="id" value=s.id.to_string()/>
                                <Confirm label="Cancel the subscription"
                                    consequence="Cancelling cannot be undone: calls after it are refused at once and this month's plan fee stays due. Subscribing again starts a new subscription."
                                    confirm="Yes, cancel the subscription"/>
                            </ActionForm>
                        })}
                    </article>
                }.into_any()
            }
        })}
    }
}

/// Calls, error rate, latency and last call of each deployment's gateway
/// traffic over the last days.
pub fn health_table(rows: Vec<crate::gateway::DeploymentHealth>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"No deployments."</p> }.into_any();
    }
    let ms = |v: Option<i64>| v.map(|v| format!("{v} ms")).unwrap_or_else(|| "—".into());
    view! {
        <table class="grid health">
            <caption>{format!("Calls through the gateway, last {} days", crate::gateway::HEALTH_DAYS)}</caption>
            <thead><tr>
                <th scope="col">"Listing"</th><th scope="col">"Deployment"</th><th scope="col">"Calls"</th>
                <th scope="col">"Error rate"</th><th scope="col">"Latency p50"</th><th scope="col">"Latency p99"</th>
                <th scope="col">"Last call"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|h| view! {
                    <tr>
                        <td>{h.listing_name}</td>
                        <th scope="row">{h.label}</th>
                        <td>{group_digits(h.calls as u64)}</td>
                        <td>{if h.calls == 0 { "—".to_string() } else { format!("{:.1} %", 100.0 * h.errors as f64 / h.calls as f64) }}</td>
                        <td>{ms(h.p50_ms)}</td>
                        <td>{ms(h.p99_ms)}</td>
                        <td>{h.last_call.map(date).unwrap_or_else(|| "—".into())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Send one prompt to the model from the page (metered like any call).
fn playground_panel(
    id: i64,
    shown: Option<super::PlaygroundAnswer>,
    action: ServerAction<TryModel>,
    error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    view! {
        <section class="playground" aria-labelledby="playground-h">
            <h2 id="playground-h">"Playground"</h2>
            <p class="muted">"Send one prompt to this model. It is a call like any other: metered, and counted on the invoice."</p>
            <FormAlert error fields=&["prompt"]/>
            <ActionForm action>
                <input type="hidden" name="id" value=id.to_string()/>
                <div class="field">
                    <label for="prompt">"Prompt"</label>
                    <textarea id="prompt" name="prompt" rows="3" maxlength="4000" required
                        aria-invalid=invalid(error, "prompt") aria-describedby="prompt-error"></textarea>
                    {field_error(error, "prompt")}
                </div>
                <button type="submit">"Send"</button>
            </ActionForm>
            {shown.map(|a| view! {
                <div class=if a.ok { "notice playground-answer" } else { "notice warning playground-answer" } role="status">
                    {(!a.served_by.is_empty()).then(|| view! { <p class="muted">{format!("Answered by {}", a.served_by)}</p> })}
                    <p class="answer">{a.text}</p>
                </div>
            })}
        </section>
    }
}

/// How to call the subscription's model through the gateway, and (for its
/// owners and admins) the fallback and monthly cap settings.
fn connect_panel(
    c: Connect,
    id: i64,
    manage: bool,
    action: ServerAction<SetCallOptions>,
    error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    let curl = format!(
        "curl {}/chat/completions \\\n  -H \"Authorization: Bearer $FAIRGROUND_KEY\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{{\"model\": \"{}\", \"messages\": [{{\"role\": \"user\", \"content\": \"Hello\"}}]}}'",
        c.base_url, c.model
    );
    let python = format!(
        "import os\nfrom openai import OpenAI\n\nclient = OpenAI(base_url=\"{}\", api_key=os.environ[\"FAIRGROUND_KEY\"])\nanswer = client.chat.completions.create(\n    model=\"{}\",\n    messages=[{{\"role\": \"user\", \"content\": \"Hello\"}}],\n)\nprint(answer.choices[0].message.content)",
        c.base_url, c.model
    );
    let cap = c
        .monthly_call_cap
        .map(|n| n.to_string())
        .unwrap_or_default();
    view! {
        <section class="connect" aria-labelledby="connect-h">
            <h2 id="connect-h">"Connect"</h2>
            <p>"Call this model with any OpenAI-compatible client, with a gateway key of your organisation ("<a href="/org/api-keys">"API keys"</a>"). Every call is metered by Fairground and appears below."</p>
            <dl class="facts">
                <dt>"Base URL"</dt><dd><code class="gateway-base-url">{c.base_url.clone()}</code></dd>
                <dt>"Model"</dt><dd><code class="gateway-model">{c.model.clone()}</code></dd>
                <dt>"On one base model"</dt><dd>{c.pinned.iter().map(|p| view! { <code>{p.clone()}</code>" " }).collect_view()}</dd>
                <dt>"Fallback"</dt><dd>{if c.allow_fallback {
                    "On: when the chosen deployment is paused or fails, the listing's other deployments are tried."
                } else {
                    "Off: calls go to the chosen deployment only."
                }}</dd>
                <dt>"Monthly cap"</dt><dd>{match c.monthly_call_cap {
                    Some(n) => format!("{} calls", group_digits(n as u64)),
                    None => "None".to_string(),
                }}</dd>
            </dl>
            <h3>"curl"</h3>
            <pre><code>{curl}</code></pre>
            <h3>"Python (openai)"</h3>
            <pre><code>{python}</code></pre>
            {manage.then(|| view! {
                <h3>"Calls"</h3>
                <FormAlert error=error fields=&["monthly_call_cap"]/>
                <ActionForm action=action>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <div class="field">
                        <label>
                            <input type="checkbox" name="allow_fallback" value="on" checked=c.allow_fallback/>
                            " Fall back to the listing's other deployments when the chosen one is paused or fails"
                        </label>
                    </div>
                    <div class="field">
                        <label for="monthly_call_cap">"Monthly cap of calls (empty: none)"</label>
                        <input id="monthly_call_cap" name="monthly_call_cap" inputmode="numeric" value=cap
                            aria-invalid=invalid(error, "monthly_call_cap") aria-describedby="monthly_call_cap-error"/>
                        {field_error(error, "monthly_call_cap")}
                    </div>
                    <button type="submit">"Save call settings"</button>
                </ActionForm>
            })}
        </section>
    }
}

#[component]
pub fn RevenuePage() -> impl IntoView {
    let q = use_query_map();
    let org = Memo::new(move |_| q.with(|m| m.get("org").unwrap_or_default()));
    let data = Resource::new(move || org.get(), publisher_revenue);
    view! {
        <Title text="Subscribers and revenue · Fairground"/>
        <section class="panel">
            <h1>"Subscribers and revenue"</h1>
            <p class="muted">
                "Usage reaches these figures through the "<a href="/api">"metering API"</a>
                ", with one of your "<a href="/org/api-keys">"API keys"</a>"."
            </p>
            {loaded_or(data, "Loading…", move |d| {
                {
                    let csv = match org.get_untracked() {
                        o if o.is_empty() => "/exports/statements.csv".to_string(),
                        o => format!("/exports/statements.csv?org={o}"),
                    };
                    view! {
                        <h2>"Subscribers"</h2>
                        {subscriptions_table(d.subscribers, true)}
                        <h2>"Usage"</h2>
                        {usage_chart(&d.usage)}
                        <h2>"Gateway health"</h2>
                        {health_table(d.health)}
                        <h2>"Statements"</h2>
                        {statements_table(d.statements, "Revenue statements per subscription and month", true)}
                        <p><a href=csv download>"Download statements (CSV)"</a></p>
                    }.into_any()
                }
            })}
        </section>
    }
}

#[component]
pub fn TotalsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| marketplace_totals());
    view! {
        <Title text="Marketplace totals · Fairground"/>
        <section class="panel">
            <h1>"Marketplace totals"</h1>
            {loaded_or(data, "Loading…", move |data| match data {
                rows if rows.is_empty() => view! { <p class="muted">"No subscriptions yet."</p> }.into_any(),
                rows => view! {
                    <table class="grid">
                        <caption>"Per month and industry (first-party statements are shadow statements at the same rate)"</caption>
                        <thead><tr>
                            <th scope="col">"Month"</th><th scope="col">"Industry"</th>
                            <th scope="col">"Subscriptions"</th><th scope="col">"Total"</th>
                            <th scope="col">"Platform fees"</th><th scope="col">"Partner payouts"</th>
                            <th scope="col">"Of the total, first-party"</th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|r| view! {
                                <tr>
                                    <td>{r.month.clone()}</td>
                                    <th scope="row">{r.industry_name.clone()}</th>
                                    <td>{r.subscriptions}</td>
                                    <td>{format_money(r.total_minor, &r.currency)}</td>
                                    <td>{format_money(r.platform_fee_minor, &r.currency)}</td>
                                    <td>{format_money(r.payout_minor, &r.currency)}</td>
                                    <td>{format_money(r.first_party_total_minor, &r.currency)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            })}
        </section>
    }
}
