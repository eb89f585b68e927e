//! `/evaluations`: the industries' evaluation sets, the latest runs and the
//! referees' forms; `/evaluations/runs/{id}`: one run item by item.

use super::api::{evaluation_run, evaluations, PublishEvaluationSet, RunEvaluation};
use super::{RunView, MAX_ITEMS};
use crate::error::AppError;
use crate::ui::fields::{
    error_id, field_error, invalid, options, page_action, Choice, Field, FormAlert,
};
use crate::ui::format::date;
use crate::ui::status::loaded;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

fn standing(r: &RunView) -> &'static str {
    match (r.current, r.stale) {
        (true, false) => "Counts",
        (true, true) => "Stale",
        _ => "Superseded",
    }
}

/// A required select box with its error next to it.
fn choose(
    label: &'static str,
    name: &'static str,
    choices: Vec<Choice>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <select id=name name=name required aria-invalid=invalid(error, name) aria-describedby=error_id(name)>
                <option value="">"Choose…"</option>
                {options(choices, String::new())}
            </select>
            {field_error(error, name)}
        </div>
    }
}

fn runs_table(runs: Vec<RunView>) -> impl IntoView {
    view! {
        <table class="grid runs">
            <caption>"Latest runs"</caption>
            <thead><tr>
                <th scope="col">"Deployment"</th><th scope="col">"Revision"</th><th scope="col">"Set"</th>
                <th scope="col">"Score"</th><th scope="col">"Date"</th><th scope="col">"Standing"</th>
            </tr></thead>
            <tbody>
                {runs.into_iter().map(|r| {
                    let standing = standing(&r);
                    view! {
                        <tr>
                            <th scope="row"><a href=format!("/evaluations/runs/{}", r.id)>{r.deployment.clone()}</a></th>
                            <td>{r.revision.clone()}</td>
                            <td>{format!("{} v{}", r.set_name, r.set_version)}</td>
                            <td>{format!("{} / 100 ({} of {})", r.score, r.passed, r.total)}</td>
                            <td>{date(r.finished_at)}</td>
                            <td>{standing}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn EvaluationsPage() -> impl IntoView {
    let publish = page_action::<PublishEvaluationSet>();
    let run = page_action::<RunEvaluation>();
    let data = Resource::new(
        move || (publish.version().get(), run.version().get()),
        |_| evaluations(),
    );
    let set_error = Signal::derive(move || publish.value().get().and_then(Result::err));
    let run_error = Signal::derive(move || run.value().get().and_then(Result::err));
    view! {
        <Title text="Evaluations · Fairground"/>
        <article class="panel prose">
            <h1>"Evaluations"</h1>
            <p>
                "A deployment's evaluation score enters the ranking only when it is verified: referees publish one "
                "evaluation set per industry, and a run sends every prompt of the set to the deployment's model "
                "server through the platform and scores each answer with the set's rule. The same set runs on the "
                "platform's own deployments and on partners' alike. A score a publisher reports itself is shown as "
                "“self-reported” and is not an input of the ranking."
            </p>
            <p>
                "A verified score stops counting (it is stale) when the deployment's revision or endpoint changes, "
                "or when its industry's set gets a new version, until the next run. Runs are not billed to anyone: "
                "no subscription is involved and no usage record is written."
            </p>
            {loaded(data, move |p| {
                let referee = p.referee;
                view! {
                    <h2>"Sets"</h2>
                    {if p.sets.is_empty() {
                        view! { <p class="muted">"No evaluation set is published yet."</p> }.into_any()
                    } else {
                        p.sets.iter().map(|s| {
                            let industry = s.industry.clone();
                            view! {
                                <section class="eval-set">
                                    <h3>{format!("{}: {}", s.industry_name, s.name)}</h3>
                                    <ul>
                                        {s.versions.iter().map(|v| view! {
                                            <li>
                                                <a href=format!("/evaluation-sets/{}/v{}.jsonl", industry, v.version)>{format!("Version {}", v.version)}</a>
                                                {format!(" · {} items · {} · published {} · {}", v.item_count, v.rule, date(v.published_at), v.reason)}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                </section>
                            }
                        }).collect_view().into_any()
                    }}
                    <h2>"Runs"</h2>
                    {if p.runs.is_empty() {
                        view! { <p class="muted">"No run yet."</p> }.into_any()
                    } else {
                        runs_table(p.runs.clone()).into_any()
                    }}
                    {referee.then(|| view! {
                        <h2>"Run a set"</h2>
                        <FormAlert error=run_error fields=&["deployment_id"]/>
                        <ActionForm action=run>
                            {choose("Deployment", "deployment_id", p.deployments.clone(), run_error)}
                            <button type="submit">"Run the industry's set"</button>
                        </ActionForm>
                        <h2>"Publish a set version"</h2>
                        <p class="muted">
                            {format!("JSON Lines, one item a line: {{\"prompt\": \"…\", \"expected\": \"…\"}}; at most {MAX_ITEMS} items. \
                                      A new version makes every earlier run in the industry stale.")}
                        </p>
                        <FormAlert error=set_error fields=&["industry", "name", "rule", "tolerance", "items", "reason"]/>
                        <ActionForm action=publish>
                            {choose("Industry", "industry", p.industries.clone(), set_error)}
                            <Field label="Set name" name="name" input_type="text" autocomplete="off" error=set_error/>
                            <div class="field">
                                <label for="rule">"Scoring rule"</label>
                                <select id="rule" name="rule" aria-invalid=invalid(set_error, "rule") aria-describedby=error_id("rule")>
                                    <option value="exact">"Exact"</option>
                                    <option value="contains" selected>"Contains"</option>
                                    <option value="numeric">"Numeric (within a tolerance)"</option>
                                </select>
                                {field_error(set_error, "rule")}
                            </div>
                            <Field label="Tolerance (numeric only)" name="tolerance" input_type="text" autocomplete="off" error=set_error optional=true/>
                            <div class="field">
                                <label for="items">"Items (JSON Lines)"</label>
                                <textarea id="items" name="items" rows="8" required aria-invalid=invalid(set_error, "items") aria-describedby=error_id("items")></textarea>
                                {field_error(set_error, "items")}
                            </div>
                            <Field label="Reason (published)" name="reason" input_type="text" autocomplete="off" error=set_error/>
                            <button type="submit">"Publish"</button>
                        </ActionForm>
                    })}
                }
                .into_any()
            })}
        </article>
    }
}

#[component]
pub fn EvaluationRunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()))
            .unwrap_or(0)
    };
    let data = Resource::new(id, evaluation_run);
    view! {
        <Title text="Evaluation run · Fairground"/>
        <article class="panel">
            {loaded(data, move |d| {
                let r = d.run.clone();
                view! {
                    <h1>{format!("Evaluation of {}", r.deployment)}</h1>
                    <p>
                        <a href=format!("/listings/{}", r.listing_slug)>{r.listing_name.clone()}</a>
                        {format!(" · revision {} · {} v{} · {} · {}", r.revision, r.set_name, r.set_version, date(r.finished_at), standing(&r))}
                    </p>
                    <p class="score">{format!("{} / 100: {} of {} items passed ({} without a usable answer).", r.score, r.passed, r.total, r.errors)}</p>
                    <p class="muted">{format!("Rule: {}.", d.rule)}</p>
                    <table class="grid items">
                        <caption>"Items"</caption>
                        <thead><tr>
                            <th scope="col">"#"</th><th scope="col">"Prompt"</th>
                            <th scope="col">"Expected"</th><th scope="col">"Outcome"</th>
                        </tr></thead>
                        <tbody>
                            {d.items.iter().map(|i| view! {
                                <tr>
                                    <th scope="row">{i.no}</th>
                                    <td>{i.prompt.clone()}</td>
                                    <td>{i.expected.clone()}</td>
                                    <td>{match i.outcome.as_str() {
                                        "pass" => "Passed",
                                        "fail" => "Failed",
                                        _ => "No usable answer",
                                    }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            })}
        </article>
    }
}
