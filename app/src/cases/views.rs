//! Case pages: the list (referees: all, with a status filter; partners:
//! theirs, with a complaint form) and a case with its listings side by side,
//! its timeline and the referees' decisions.

use super::api::{case_page, cases_list, DecideCase, OpenComplaint};
use super::{CaseDetail, STATUSES};
use crate::ui::badge::{AffiliatedBadge, PlatformBadge};
use crate::ui::fields::{error_id, field_error, invalid, page_action, FormAlert};
use crate::ui::format::date;
use crate::ui::status::loaded;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn CasesPage() -> impl IntoView {
    let complain = page_action::<OpenComplaint>();
    let query = use_query_map();
    let status = move || query.with(|q| q.get("status").unwrap_or_default());
    let data = Resource::new(
        move || (status(), complain.version().get()),
        |(s, _)| cases_list(s),
    );
    let error = Signal::derive(move || complain.value().get().and_then(Result::err));
    view! {
        <Title text="Conflict cases · Fairground"/>
        <section class="panel">
            <h1>"Conflict cases"</h1>
            {loaded(data, move |d| {
                {
                    let current = status();
                    view! {
                        {d.referee.then(|| view! {
                            <form method="get" action="/cases" class="inline-search">
                                <label for="status">"Status"</label>
                                <select id="status" name="status">
                                    <option value="" selected=current.is_empty()>"Any"</option>
                                    {STATUSES.into_iter().map(|s| view! { <option value=s selected=current == s>{s}</option> }).collect_view()}
                                </select>
                                <button type="submit">"Filter"</button>
                            </form>
                        })}
                        {if d.cases.is_empty() {
                            view! { <p>"No cases."</p> }.into_any()
                        } else {
                            view! {
                                <table class="grid">
                                    <caption class="visually-hidden">"Cases"</caption>
                                    <thead><tr>
                                        <th scope="col">"Case"</th><th scope="col">"Kind"</th><th scope="col">"Severity"</th>
                                        <th scope="col">"Status"</th><th scope="col">"Opened"</th>
                                    </tr></thead>
                                    <tbody>
                                        {d.cases.into_iter().map(|c| {
                                            let href = format!("/cases/{}", c.id);
                                            view! {
                                                <tr>
                                                    <th scope="row"><a href=href>{format!("#{} {}", c.id, c.title)}</a></th>
                                                    <td>{c.kind.replace('_', " ")}</td>
                                                    <td>{c.severity}</td>
                                                    <td>{c.status}{c.signed_off.then_some(", signed off")}</td>
                                                    <td>{date(c.opened_at)}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                        {d.can_complain.then(|| view! {
                            <h2>"Open a complaint"</h2>
                            <FormAlert error fields=&[]/>
                            <ActionForm action=complain>
                                <div class="field">
                                    <label for="about">"About"</label>
                                    <select id="about" name="about">
                                        <option value="listing">"A listing"</option>
                                        <option value="ranking">"The ranking"</option>
                                        <option value="data_use">"Use of our data"</option>
                                    </select>
                                </div>
                                <div class="field">
                                    <label for="text">"What happened"</label>
                                    <textarea id="text" name="text" rows="4" required aria-invalid=invalid(error, "text") aria-describedby="text-error"></textarea>
                                    {field_error(error, "text")}
                                </div>
                                <button type="submit">"Open complaint"</button>
                            </ActionForm>
                        })}
                    }.into_any()
                }
            })}
        </section>
    }
}

/// The fields a decision's words are checked as: each form shows its own
/// message under its own text box (the page's alert shows the rest).
const DECISION_FIELDS: &[&str] = &["justification", "outcome", "dismissal"];

/// One decision form. `words`: the label of its text box and the field the
/// service names in its error.
fn decision(
    action: ServerAction<DecideCase>,
    id: i64,
    verb: &'static str,
    label: &'static str,
    words: Option<(&'static str, &'static str)>,
) -> impl IntoView {
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <ActionForm action attr:class="decision">
            <input type="hidden" name="id" value=id/>
            <input type="hidden" name="action" value=verb/>
            {words.map(|(text, field)| view! {
                <label for=field>{text}</label>
                <textarea
                    id=field
                    name="words"
                    rows="2"
                    required
                    aria-invalid=invalid(error, field)
                    aria-describedby=error_id(field)
                ></textarea>
                {field_error(error, field)}
            })}
            <button type="submit" class="small">{label}</button>
        </ActionForm>
    }
}

fn case_view(c: CaseDetail, action: ServerAction<DecideCase>) -> impl IntoView {
    let id = c.row.id;
    let open = matches!(c.row.status.as_str(), "open" | "acknowledged");
    view! {
        <h1>{format!("Case #{id}: {}", c.row.title)}</h1>
        <dl class="facts">
            <dt>"Kind"</dt><dd>{c.row.kind.replace('_', " ")}</dd>
            <dt>"Severity"</dt><dd>{c.row.severity.clone()}</dd>
            <dt>"Status"</dt><dd>{c.row.status.clone()}</dd>
            <dt>"Industry"</dt><dd>{c.industry.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Parties"</dt><dd>{c.parties.join(", ")}</dd>
            <dt>"Sign-off"</dt><dd>{if c.sign_off.is_empty() { "None".to_string() } else { c.sign_off.clone() }}</dd>
            <dt>"Outcome"</dt><dd>{if c.note.is_empty() { "Pending".to_string() } else { c.note.clone() }}</dd>
        </dl>
        {(!c.listings.is_empty()).then(|| view! {
            <div class="scroll">
                <table class="grid compare">
                    <caption>"Listings side by side"</caption>
                    <thead><tr><td></td>
                        {c.listings.iter().map(|l| {
                            let href = l.href.clone();
                            let owned = l.platform_owned;
                            let affiliated = l.affiliated;
                            view! { <th scope="col"><a href=href>{l.name.clone()}</a>{owned.then(|| view! { " " <PlatformBadge/> })}{affiliated.then(|| view! { " " <AffiliatedBadge/> })}</th> }
                        }).collect_view()}
                    </tr></thead>
                    <tbody>
                        <tr><th scope="row">"Publisher"</th>{c.listings.iter().map(|l| view! { <td>{l.publisher.clone()}</td> }).collect_view()}</tr>
                        <tr><th scope="row">"Status"</th>{c.listings.iter().map(|l| view! { <td>{l.status.clone()}</td> }).collect_view()}</tr>
                        <tr><th scope="row">"Tags"</th>{c.listings.iter().map(|l| view! { <td>{l.tags.join(", ")}</td> }).collect_view()}</tr>
                    </tbody>
                </table>
            </div>
        })}
        <h2>"Timeline"</h2>
        <ul class="history" aria-label="Timeline">
            {c.timeline.into_iter().map(|e| view! { <li><time>{date(e.at)}</time>" " {e.what}</li> }).collect_view()}
        </ul>
        {(c.referee && open).then(|| view! {
            <h2>"Decide"</h2>
            {decision(action, id, "acknowledge", "Acknowledge", None)}
            {decision(action, id, "sign_off", "Sign off", Some(("Justification (shown to the parties)", "justification")))}
            {decision(action, id, "resolve", "Resolve", Some(("Outcome", "outcome")))}
            {decision(action, id, "dismiss", "Dismiss", Some(("Why it is dismissed", "dismissal")))}
        })}
    }
}

#[component]
pub fn CasePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()))
            .unwrap_or(0)
    };
    let decide = page_action::<DecideCase>();
    let data = Resource::new(
        move || (id(), decide.version().get()),
        |(id, _)| case_page(id),
    );
    let error = Signal::derive(move || decide.value().get().and_then(Result::err));
    view! {
        <Title text="Conflict case · Fairground"/>
        <section class="panel">
            <FormAlert error fields=DECISION_FIELDS/>
            {loaded(data, move |c| {
                case_view(c, decide).into_any()
            })}
        </section>
    }
}
