//! The public "Marketplace policy" page (settings, their history, the
//! audit chain's head; referees also get the form) and the data-access log.

use super::api::{data_access_log, marketplace_policy, UpdatePolicy};
use super::{format_rate, PolicyChange};
use crate::error::AppError;
use crate::ui::fields::{page_action, FormAlert};
use crate::ui::format::date;
use crate::ui::status::loaded;
use leptos::prelude::*;
use leptos_meta::Title;

fn setting_label(setting: &str) -> &'static str {
    match setting {
        "non_compete" => "Non-compete",
        "take_rate_bp" => "Take rate",
        "featured_slots" => "Featured slots",
        _ => "Setting",
    }
}

fn value_label(setting: &str, value: &str) -> String {
    match (setting, value.parse::<i64>()) {
        ("take_rate_bp", Ok(bp)) => format_rate(bp),
        _ => value.to_string(),
    }
}

fn history(changes: Vec<PolicyChange>) -> impl IntoView {
    if changes.is_empty() {
        return view! { <p class="muted">"The policy has not changed since the marketplace opened."</p> }.into_any();
    }
    view! {
        <table class="grid">
            <caption>"History"</caption>
            <thead><tr>
                <th scope="col">"Date (UTC)"</th><th scope="col">"Setting"</th>
                <th scope="col">"Before"</th><th scope="col">"After"</th><th scope="col">"Reason"</th>
            </tr></thead>
            <tbody>
                {changes.into_iter().map(|c| view! {
                    <tr>
                        <td>{date(c.at)}</td>
                        <th scope="row">{setting_label(&c.setting)}</th>
                        <td>{value_label(&c.setting, &c.before)}</td>
                        <td>{value_label(&c.setting, &c.after)}</td>
                        <td>{c.reason}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn switch(name: &'static str, legend: &'static str, on: bool) -> impl IntoView {
    view! {
        <fieldset class="field">
            <legend>{legend}</legend>
            <label><input type="radio" name=name value="on" checked=on/>" On"</label>
            <label><input type="radio" name=name value="off" checked=!on/>" Off"</label>
        </fieldset>
    }
}

#[component]
pub fn PolicyPage() -> impl IntoView {
    let update = page_action::<UpdatePolicy>();
    let data = Resource::new(move || update.version().get(), |_| marketplace_policy());
    let error = Signal::derive(move || update.value().get().and_then(Result::err));
    let message = move |field: &'static str| {
        move || {
            error
                .get()
                .map(|e: AppError| e.messages_for(field).join(" "))
                .unwrap_or_default()
        }
    };
    view! {
        <Title text="Marketplace policy · Fairground"/>
        <section class="panel">
            <h1>"Marketplace policy"</h1>
            {loaded(data, move |d| {
                {
                    let p = d.policy;
                    view! {
                        <dl class="facts policy">
                            <dt>"Non-compete"</dt>
                            <dd>{if p.non_compete {
                                "On: the platform's own listings are always shown and labelled “Platform-owned”, and never placed ahead of partners' listings."
                            } else {
                                "Off: the platform may promote its own listings; every promotion is labelled and audited."
                            }}</dd>
                            <dt>"Take rate"</dt>
                            <dd>{format!("{} of each subscription's revenue goes to the platform; the rest to the partner.", format_rate(p.take_rate_bp))}</dd>
                            <dt>"Featured slots"</dt>
                            <dd>{if p.featured_slots { "Exist" } else { "None" }}</dd>
                        </dl>
                        <p>
                            "Whether the platform's own listings get more than their share of attention is measured on the "
                            <a href="/exposure">"exposure dashboard"</a>"."
                        </p>
                        {history(d.changes)}
                        <h2>"Audit log"</h2>
                        <p>
                            {format!("{} entries. Head of the hash chain: ", d.audit_entries)}
                            <code class="audit-head">{d.audit_head}</code>
                        </p>
                        <p class="muted">"Keep a copy of this head: if an earlier entry were ever rewritten, the chain would no longer lead to it."</p>
                        {d.can_manage.then(|| view! {
                            <h2>"Change the policy"</h2>
                            <FormAlert error fields=&["non_compete", "take_rate", "featured_slots", "reason"]/>
                            <ActionForm action=update>
                                {switch("non_compete", "Non-compete", p.non_compete)}
                                <div class="field">
                                    <label for="take_rate">"Take rate (%)"</label>
                                    <input id="take_rate" name="take_rate" type="text" required
                                        value=format_rate(p.take_rate_bp).trim_end_matches(" %").to_string()/>
                                    <p class="field-error" id="take_rate-error">{message("take_rate")}</p>
                                </div>
                                {switch("featured_slots", "Featured slots", p.featured_slots)}
                                <div class="field">
                                    <label for="reason">"Reason (published)"</label>
                                    <input id="reason" name="reason" type="text" required/>
                                    <p class="field-error" id="reason-error">{message("reason")}</p>
                                </div>
                                <button type="submit">"Change the policy"</button>
                            </ActionForm>
                        })}
                    }.into_any()
                }
            })}
        </section>
    }
}

#[component]
pub fn DataAccessPage() -> impl IntoView {
    let log = Resource::new(|| (), |_| data_access_log());
    view! {
        <Title text="Who accessed our data · Fairground"/>
        <section class="panel">
            <h1>"Who accessed our data"</h1>
            <p class="muted">
                "Every time someone outside your organisation reads your non-public data (drafts, listings under review "
                "or suspended), it is listed here and in the audit log. Only the platform's referees may; the platform's "
                "own product staff are refused, and their attempts are listed too."
            </p>
            {loaded(log, move |data| match data {
                rows if rows.is_empty() => view! { <p>"Nobody outside your organisation has read your non-public data."</p> }.into_any(),
                rows => view! {
                    <table class="grid">
                        <caption class="visually-hidden">"Reads of your data"</caption>
                        <thead><tr>
                            <th scope="col">"Date (UTC)"</th><th scope="col">"Who"</th>
                            <th scope="col">"Organisation"</th><th scope="col">"What"</th><th scope="col">"Outcome"</th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|r| view! {
                                <tr>
                                    <td>{date(r.at)}</td>
                                    <td>{r.who}</td>
                                    <td>{r.their_org}</td>
                                    <td>{r.what}</td>
                                    <td>{if r.refused { "Refused" } else { "Read" }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            })}
        </section>
    }
}
