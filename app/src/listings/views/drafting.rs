//! The publisher's pages: "my listings" (with a new draft) and the editor
//! of one listing, its deployments and plans.

use super::super::api::{
    listing_editor, my_listings, AddDeployment, AddPlan, CreateListing, DeactivatePlan,
    EditDeployment, RemoveDeployment, ReplaceSigningSecret, RetireListing, SetDefaultDeployment,
    SetEndpoint, SubmitListing, TestEndpoint, UpdateListing,
};
use super::super::{EditorData, ListingStatus, NewSecret, UpstreamView};
use super::plan_price;
use crate::domain::CURRENCIES;
use crate::error::AppError;
use crate::gateway::{DeploymentHealth, TestCall};
use crate::ui::badge::{AffiliatedBadge, PlatformBadge};
use crate::ui::confirm::Confirm;
use crate::ui::fields::{field_error, invalid, options, page_action, Choice, Field, FormAlert};
use crate::ui::format::{date, format_money};
use crate::ui::status::loaded;
use crate::ui::text::unescaped_slot;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn MyListingsPage() -> impl IntoView {
    let create = page_action::<CreateListing>();
    let data = Resource::new(move || create.version().get(), |_| my_listings());
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <Title text="My listings · Fairground"/>
        <section class="panel">
            {loaded(data, move |d| {
                view! {
                    <h1>{format!("Listings of {}", d.org_name)}</h1>
                    <p>
                        <a href="/org/data-access">"Who accessed our data"</a>
                        " · " <a href="/cases">"Conflict cases and complaints"</a>
                    </p>
                    {if d.rows.is_empty() {
                        view! { <p>"No listings yet. Create a draft below."</p> }.into_any()
                    } else {
                        view! {
                            <table class="grid">
                                <caption class="visually-hidden">"Your listings"</caption>
                                <thead><tr><th scope="col">"Listing"</th><th scope="col">"Status"</th><th scope="col">"Referee's reason"</th><th scope="col">"Updated"</th></tr></thead>
                                <tbody>
                                    {d.rows.into_iter().map(|r| {
                                        let href = format!("/my/listings/{}", r.id);
                                        view! {
                                            <tr>
                                                <th scope="row"><a href=href>{r.name}</a></th>
                                                <td>{r.status.label()}</td>
                                                <td>{r.review_reason.unwrap_or_default()}</td>
                                                <td>{date(r.updated_at)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                    <h2>"Create a draft"</h2>
                    <FormAlert error fields=&["name", "slug", "tagline", "industry", "base_model_id"]/>
                    <ActionForm action=create>
                        <Field label="Name" name="name" input_type="text" autocomplete="off" error/>
                        <Field label="Slug (web address)" name="slug" input_type="text" autocomplete="off" error optional=true
                            hint="Leave empty to derive it from the name. It becomes the listing's public address when it is published; until then other organisations may use the same slug."/>
                        <Field label="Tagline" name="tagline" input_type="text" autocomplete="off" error/>
                        <div class="field">
                            <label for="industry">"Industry"</label>
                            <select id="industry" name="industry" required aria-invalid=invalid(error, "industry") aria-describedby="industry-error">
                                <option value="">"Choose…"</option>
                                {options(d.industries, String::new())}
                            </select>
                            {field_error(error, "industry")}
                        </div>
                        <div class="field">
                            <label for="base_model_id">"Base model"</label>
                            <select id="base_model_id" name="base_model_id" required aria-invalid=invalid(error, "base_model_id") aria-describedby="base_model_id-error">
                                <option value="">"Choose…"</option>
                                {options(d.base_models, String::new())}
                            </select>
                            {field_error(error, "base_model_id")}
                        </div>
                        <button type="submit">"Create draft"</button>
                    </ActionForm>
                }.into_any()
            })}
        </section>
    }
}

#[component]
pub fn ListingEditorPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()))
            .unwrap_or(0)
    };
    let update = page_action::<UpdateListing>();
    let add_dep = page_action::<AddDeployment>();
    let edit_dep = page_action::<EditDeployment>();
    let set_default = page_action::<SetDefaultDeployment>();
    let remove_dep = page_action::<RemoveDeployment>();
    let add_plan = page_action::<AddPlan>();
    let deactivate = page_action::<DeactivatePlan>();
    let submit = page_action::<SubmitListing>();
    let retire = page_action::<RetireListing>();
    let set_endpoint = page_action::<SetEndpoint>();
    let replace_secret = page_action::<ReplaceSigningSecret>();
    let test_endpoint = page_action::<TestEndpoint>();
    let data = Resource::new(
        move || {
            (
                id(),
                update.version().get(),
                add_dep.version().get(),
                edit_dep.version().get(),
                set_default.version().get(),
                remove_dep.version().get(),
                add_plan.version().get(),
                deactivate.version().get(),
                submit.version().get(),
                set_endpoint.version().get(),
                replace_secret.version().get(),
                test_endpoint.version().get(),
            )
        },
        |(id, ..)| listing_editor(id),
    );
    let update_error = Signal::derive(move || update.value().get().and_then(Result::err));
    let dep_error = Signal::derive(move || add_dep.value().get().and_then(Result::err));
    let plan_error = Signal::derive(move || add_plan.value().get().and_then(Result::err));
    let other_error = Signal::derive(move || {
        [
            edit_dep.value().get(),
            set_default.value().get(),
            remove_dep.value().get(),
            deactivate.value().get(),
            submit.value().get(),
            retire.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
    });
    let actions = EditorActions {
        update,
        add_dep,
        edit_dep,
        set_default,
        remove_dep,
        add_plan,
        deactivate,
        submit,
        retire,
        set_endpoint,
        replace_secret,
        test_endpoint,
    };
    view! {
        <Title text="Edit listing · Fairground"/>
        <FormAlert error=other_error fields=&[]/>
        {loaded(data, move |e| {
            editor_view(e, actions, update_error, dep_error, plan_error).into_any()
        })}
    }
}

#[derive(Clone, Copy)]
struct EditorActions {
    update: ServerAction<UpdateListing>,
    add_dep: ServerAction<AddDeployment>,
    edit_dep: ServerAction<EditDeployment>,
    set_default: ServerAction<SetDefaultDeployment>,
    remove_dep: ServerAction<RemoveDeployment>,
    add_plan: ServerAction<AddPlan>,
    deactivate: ServerAction<DeactivatePlan>,
    submit: ServerAction<SubmitListing>,
    retire: ServerAction<RetireListing>,
    set_endpoint: ServerAction<SetEndpoint>,
    replace_secret: ServerAction<ReplaceSigningSecret>,
    test_endpoint: ServerAction<TestEndpoint>,
}

fn editor_view(
    e: EditorData,
    a: EditorActions,
    update_error: Signal<Option<AppError>>,
    dep_error: Signal<Option<AppError>>,
    plan_error: Signal<Option<AppError>>,
) -> impl IntoView {
    let d = e.detail;
    let id = d.id;
    let status = d.status;
    let public_href = d.href.clone();
    let can_submit = matches!(status, ListingStatus::Draft | ListingStatus::Rejected);
    let retired = status == ListingStatus::Retired;
    let deps = d.deployments.clone();
    let endpoint_choices: Vec<(i64, String)> = d
        .deployments
        .iter()
        .map(|dep| (dep.id, format!("{} {}", dep.base_model, dep.revision)))
        .collect();
    let plans = d.plans.clone();
    view! {
        <section class="panel">
            <h1>{format!("Edit “{}”", d.name)}</h1>
            {d.platform_owned.then(|| view! { <PlatformBadge/> })}{d.affiliated.then(|| view! { " " <AffiliatedBadge/> })}
            <p role="status">
                {format!("Status: {}.", status.label())}
                {d.review_reason.clone().map(|r| format!(" Referee's reason: {r}"))}
                " " <a href=public_href>"View the listing page"</a>
            </p>
            {can_submit.then(|| view! {
                <ActionForm action=a.submit attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <button type="submit">"Submit for review"</button>
                </ActionForm>
            })}
            {(!retired).then(|| view! {
                <ActionForm action=a.retire attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <Confirm label="Retire listing"
                        consequence="Retiring is final: the listing leaves the catalogue and can never be submitted or published again."
                        confirm="Yes, retire this listing"/>
                </ActionForm>
            })}

            <h2>"Details"</h2>
            <FormAlert error=update_error fields=&["name", "slug", "tagline", "description", "industry", "tags", "data_residency", "certifications", "documentation_url"]/>
            <ActionForm action=a.update>
                <input type="hidden" name="id" value=id/>
                <Field label="Name" name="name" input_type="text" autocomplete="off" error=update_error value=d.name.clone()/>
                <Field label="Slug (web address)" name="slug" input_type="text" autocomplete="off" error=update_error value=d.slug.clone()/>
                <Field label="Tagline" name="tagline" input_type="text" autocomplete="off" error=update_error value=d.tagline.clone()/>
                <div class="field">
                    <label for="description">"Description (Markdown)"</label>
                    <textarea id="description" name="description" rows="10" aria-invalid=invalid(update_error, "description") aria-describedby="description-error">{unescaped_slot(e.description.clone())}</textarea>
                    {field_error(update_error, "description")}
                </div>
                <div class="field">
                    <label for="industry">"Industry"</label>
                    <select id="industry" name="industry" aria-invalid=invalid(update_error, "industry") aria-describedby="industry-error">{options(e.industries.clone(), e.industry_slug.clone())}</select>
                    {field_error(update_error, "industry")}
                </div>
                <Field label="Capability tags (comma-separated)" name="tags" input_type="text" autocomplete="off" error=update_error optional=true value=d.tags.join(", ")/>
                <Field label="Data residency" name="data_residency" input_type="text" autocomplete="off" error=update_error optional=true value=d.data_residency.clone() hint="e.g. EU (Frankfurt)"/>
                <Field label="Certifications (comma-separated)" name="certifications" input_type="text" autocomplete="off" error=update_error optional=true value=d.certifications.join(", ")/>
                <Field label="Documentation URL" name="documentation_url" input_type="url" autocomplete="off" error=update_error optional=true value=d.documentation_url.clone()/>
                <button type="submit">"Save details"</button>
            </ActionForm>

            <h2>"Deployments"</h2>
            <p class="muted">"The base models this listing runs on. One is the default; clients may choose another."</p>
            <ul class="deployment-list" aria-label="Deployments">
                {deps.into_iter().map(|dep| {
                    let label = format!("{} {}", dep.base_model, dep.revision);
                    let make_default = format!("Make {label} the default");
                    let remove = format!("Remove {label}");
                    view! {
                        <li>
                            <strong>{dep.base_model.clone()}</strong>
                            {format!(" · revision {} · {} · verified evaluation: {} · self-reported: {}", dep.revision, dep.status,
                                super::verified_text(&dep), super::self_reported_text(&dep))}
                            {dep.base_model_deprecated.then(|| view! { " " <span class="badge">"Base model deprecated"</span> })}
                            <details class="edit-deployment">
                                <summary>{format!("Change {label}")}</summary>
                                <ActionForm action=a.edit_dep attr:class="stacked">
                                    <input type="hidden" name="listing_id" value=id/>
                                    <input type="hidden" name="deployment_id" value=dep.id/>
                                    <label for=format!("rev-{}", dep.id)>"Revision label"</label>
                                    <input id=format!("rev-{}", dep.id) name="revision" type="text" required value=dep.revision.clone()/>
                                    <label for=format!("score-{}", dep.id)>"Self-reported evaluation (0–100, not a ranking input)"</label>
                                    <input id=format!("score-{}", dep.id) name="eval_score" type="number" min="0" max="100" value=dep.eval_score.map(|s| s.to_string())/>
                                    <label for=format!("evidence-{}", dep.id)>"Evidence link (optional)"</label>
                                    <input id=format!("evidence-{}", dep.id) name="evidence_url" type="url" value=dep.eval_evidence_url.clone()/>
                                    <button type="submit" class="small">"Save"</button>
                                </ActionForm>
                            </details>
                            {if dep.is_default {
                                view! { " " <span class="badge">"Default"</span> }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=a.set_default attr:class="inline-form">
                                        <input type="hidden" name="listing_id" value=id/>
                                        <input type="hidden" name="deployment_id" value=dep.id/>
                                        <button type="submit" class="small">{make_default}</button>
                                    </ActionForm>
                                    <ActionForm action=a.remove_dep attr:class="inline-form">
                                        <input type="hidden" name="listing_id" value=id/>
                                        <input type="hidden" name="deployment_id" value=dep.id/>
                                        <button type="submit" class="small">{remove}</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <Endpoints
                listing_id=id
                deployments=endpoint_choices
                upstreams=e.upstreams.clone()
                waiting=e.new_secret.clone()
                set=a.set_endpoint
                replace=a.replace_secret
                test=a.test_endpoint
                tested=e.test_call.clone()
                health=e.health.clone()
            />
            <h3>"Add a deployment"</h3>
            <FormAlert error=dep_error fields=&["base_model_id", "revision", "status", "eval_score"]/>
            <ActionForm action=a.add_dep>
                <input type="hidden" name="listing_id" value=id/>
                <div class="field">
                    <label for="dep-base-model">"Base model"</label>
                    <select id="dep-base-model" name="base_model_id" required aria-invalid=invalid(dep_error, "base_model_id") aria-describedby="base_model_id-error">
                        <option value="">"Choose…"</option>
                        {options(e.base_models.clone(), String::new())}
                    </select>
                    {field_error(dep_error, "base_model_id")}
                </div>
                <Field label="Adapter or revision label" name="revision" input_type="text" autocomplete="off" error=dep_error/>
                <div class="field">
                    <label for="dep-status">"Deployment status"</label>
                    <select id="dep-status" name="status" aria-invalid=invalid(dep_error, "status") aria-describedby="status-error">
                        <option value="active" selected>"Active"</option>
                        <option value="preview">"Preview"</option>
                        <option value="paused">"Paused"</option>
                    </select>
                    {field_error(dep_error, "status")}
                </div>
                <Field label="Self-reported evaluation score (0–100, shown as such, not a ranking input)" name="eval_score" input_type="number" autocomplete="off" error=dep_error optional=true/>
                <label class="check"><input type="checkbox" name="make_default" value="on"/>" Make this the default deployment"</label>
                <button type="submit">"Add deployment"</button>
            </ActionForm>

            <h2>"Plans"</h2>
            <ul class="plan-list" aria-label="Plans">
                {plans.into_iter().map(|p| {
                    let text = format!("{} · {} · {} calls included · {} per 1,000 more",
                        p.name, plan_price(&p), p.included_calls, format_money(p.overage_per_1000_minor, &p.currency));
                    let withdraw = format!("Withdraw plan {}", p.name);
                    view! {
                        <li>
                            {text}
                            {if p.active {
                                view! {
                                    <ActionForm action=a.deactivate attr:class="inline-form">
                                        <input type="hidden" name="listing_id" value=id/>
                                        <input type="hidden" name="plan_id" value=p.id/>
                                        <Confirm label="Withdraw" name=withdraw.clone()
                                            consequence="New subscribers can no longer choose this plan, and there is no way to offer it again: add a new plan instead. The withdrawal shows in the listing's public change history."
                                            confirm=format!("Yes, withdraw plan {}", p.name)/>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                view! { " " <span class="badge">"Withdrawn"</span> }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <h3>"Add a plan"</h3>
            <FormAlert error=plan_error fields=&["plan_name", "monthly_fee", "currency", "included_calls", "overage_per_1000"]/>
            <ActionForm action=a.add_plan>
                <input type="hidden" name="listing_id" value=id/>
                <Field label="Plan name" name="plan_name" input_type="text" autocomplete="off" error=plan_error/>
                <Field label="Monthly fee" name="monthly_fee" input_type="text" autocomplete="off" error=plan_error hint="e.g. 490 or 490.00; 0 for free"/>
                <div class="field">
                    <label for="currency">"Currency"</label>
                    <select id="currency" name="currency" aria-invalid=invalid(plan_error, "currency") aria-describedby="currency-error">
                        {CURRENCIES.into_iter().map(|c| view! { <option value=c>{c}</option> }).collect_view()}
                    </select>
                    {field_error(plan_error, "currency")}
                </div>
                <Field label="Included calls a month" name="included_calls" input_type="number" autocomplete="off" error=plan_error/>
                <Field label="Price per 1,000 calls over that" name="overage_per_1000" input_type="text" autocomplete="off" error=plan_error/>
                <button type="submit">"Add plan"</button>
            </ActionForm>
        </section>
    }
}

/// Where the gateway sends each deployment's calls, and the secret that
/// signs them (shown once, when made or replaced). Its data comes with the
/// editor's one request, so the page shows it whole without JavaScript.
#[component]
fn Endpoints(
    listing_id: i64,
    deployments: Vec<(i64, String)>,
    upstreams: Vec<UpstreamView>,
    waiting: Option<NewSecret>,
    set: ServerAction<SetEndpoint>,
    replace: ServerAction<ReplaceSigningSecret>,
    test: ServerAction<TestEndpoint>,
    tested: Option<TestCall>,
    health: Vec<DeploymentHealth>,
) -> impl IntoView {
    let error = Signal::derive(move || set.value().get().and_then(Result::err));
    let test_error = Signal::derive(move || test.value().get().and_then(Result::err));
    let result = test.value().get_untracked().and_then(Result::ok).or(tested);
    let replace_error = Signal::derive(move || replace.value().get().and_then(Result::err));
    let label_of = {
        let deployments = deployments.clone();
        move |id: i64| {
            deployments
                .iter()
                .find(|(d, _)| *d == id)
                .map(|(_, l)| l.clone())
                .unwrap_or_default()
        }
    };
    let choices: Vec<Choice> = deployments
        .iter()
        .map(|(id, label)| Choice {
            value: id.to_string(),
            label: label.clone(),
        })
        .collect();
    // With JavaScript the secret comes in the action's answer; without,
    // the page gets it once from the server.
    let fresh = replace
        .value()
        .get_untracked()
        .and_then(Result::ok)
        .or_else(|| set.value().get_untracked().and_then(Result::ok).flatten())
        .or(waiting);
    let notice_label = label_of.clone();
    view! {
        <h3>"Endpoints"</h3>
        <p class="muted">
            "Where Fairground's gateway sends calls to each deployment: your OpenAI-compatible base URL and the model name to send. "
            "Every call is signed with the deployment's secret (see the README for checking it). Only your organisation sees these settings."
        </p>
        {fresh.map(|n| view! {
            <div class="notice" role="status">
                <p>{format!("Signing secret for {}. Copy it now: it is shown only this once.", notice_label(n.deployment_id))}</p>
                <p><code class="new-secret">{n.secret}</code></p>
            </div>
        })}
        {if upstreams.is_empty() {
            view! { <p class="muted">"No endpoint set yet."</p> }.into_any()
        } else {
            view! {
                <table class="grid" aria-label="Endpoints">
                    <thead><tr>
                        <th scope="col">"Deployment"</th><th scope="col">"Base URL"</th>
                        <th scope="col">"Model"</th><th scope="col">"Changed"</th><th scope="col">"Secret"</th><th scope="col">"Test"</th>
                    </tr></thead>
                    <tbody>
                        {upstreams.into_iter().map(|u| {
                            let label = label_of(u.deployment_id);
                            let replace_label = format!("Replace the signing secret of {label}");
                            let test_label = format!("Send a test call to {label}");
                            view! {
                                <tr>
                                    <th scope="row">{label}</th>
                                    <td><code>{u.base_url}</code></td>
                                    <td><code>{u.model}</code></td>
                                    <td>{date(u.updated_at)}</td>
                                    <td>
                                        <ActionForm action=replace attr:class="inline-form">
                                            <input type="hidden" name="listing_id" value=listing_id/>
                                            <input type="hidden" name="deployment_id" value=u.deployment_id/>
                                            <button type="submit" class="link-button" aria-label=replace_label>"Replace"</button>
                                        </ActionForm>
                                    </td>
                                    <td>
                                        <ActionForm action=test attr:class="inline-form">
                                            <input type="hidden" name="listing_id" value=listing_id/>
                                            <input type="hidden" name="deployment_id" value=u.deployment_id/>
                                            <button type="submit" class="link-button" aria-label=test_label>"Send a test call"</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        {result.map(|r| {
            let label = label_of(r.deployment_id);
            view! {
                <div class=if r.ok { "notice test-call" } else { "notice warning test-call" } role="status">
                    <p>{format!("Test call to {label}: {}", r.message)}</p>
                </div>
            }
        })}
        <FormAlert error=test_error fields=&[]/>
        <h4>{format!("Gateway health, last {} days", crate::gateway::HEALTH_DAYS)}</h4>
        <table class="grid health" aria-label="Gateway health">
            <thead><tr>
                <th scope="col">"Deployment"</th><th scope="col">"Calls"</th><th scope="col">"Error rate"</th>
                <th scope="col">"Latency p50"</th><th scope="col">"Latency p99"</th><th scope="col">"Last call"</th>
            </tr></thead>
            <tbody>
                {health.into_iter().map(|h| view! {
                    <tr>
                        <th scope="row">{h.label}</th>
                        <td>{h.calls}</td>
                        <td>{if h.calls == 0 { "—".to_string() } else { format!("{:.1} %", 100.0 * h.errors as f64 / h.calls as f64) }}</td>
                        <td>{h.p50_ms.map(|v| format!("{v} ms")).unwrap_or_else(|| "—".into())}</td>
                        <td>{h.p99_ms.map(|v| format!("{v} ms")).unwrap_or_else(|| "—".into())}</td>
                        <td>{h.last_call.map(date).unwrap_or_else(|| "—".into())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <FormAlert error=replace_error fields=&[]/>
        <FormAlert error fields=&["deployment_id", "base_url", "model"]/>
        <ActionForm action=set>
            <input type="hidden" name="listing_id" value=listing_id/>
            <div class="field">
                <label for="endpoint-deployment">"Deployment"</label>
                <select id="endpoint-deployment" name="deployment_id" aria-invalid=invalid(error, "deployment_id") aria-describedby="deployment_id-error">
                    {options(choices, String::new())}
                </select>
                {field_error(error, "deployment_id")}
            </div>
            <Field label="Base URL" name="base_url" input_type="url" autocomplete="off" error hint="e.g. https://models.example.com/v1"/>
            <Field label="Model name upstream" name="model" input_type="text" autocomplete="off" error/>
            <button type="submit">"Save endpoint"</button>
        </ActionForm>
    }
}
