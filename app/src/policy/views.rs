//! The public "Marketplace policy" page (settings, their history, the
//! audit chain's head; referees also get the form) and the data-access log.

use super::api::{
    data_access_log, marketplace_policy, DeclareAffiliation, UpdatePolicy, WithdrawAffiliation,
};
use super::{format_rate, Affiliation, PolicyChange};
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
        "ranking_notice_days" => "Notice before a ranking change (days)",
        "anomaly_ratio_pct" => "Exposure anomaly threshold (times the listing share)",
        "ranking_weights" => "Ranking weights (relevance / adoption / evaluation / freshness)",
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

fn cause_label(cause: &str) -> &'static str {
    match cause {
        "staff_member" => "A member is platform staff",
        "staff_left" => "No member is platform staff any more",
        "declared" => "Declared by a referee",
        "withdrawn" => "Declaration withdrawn by a referee",
        _ => "Changed",
    }
}

fn affiliations_table(list: Vec<Affiliation>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No partner organisation is or has been platform-affiliated."</p> }.into_any();
    }
    view! {
        <table class="grid affiliations">
            <caption class="visually-hidden">"Platform-affiliated organisations and their history"</caption>
            <thead><tr>
                <th scope="col">"Organisation"</th><th scope="col">"Now"</th>
                <th scope="col">"Date (UTC)"</th><th scope="col">"What happened"</th><th scope="col">"Reason"</th>
            </tr></thead>
            <tbody>
                {list.into_iter().flat_map(|a| {
                    let rows = a.history.len();
                    let name = a.name.clone();
                    let now = if a.affiliated { "Affiliated" } else { "Not affiliated" };
                    a.history.into_iter().enumerate().map(move |(i, e)| view! {
                        <tr>
                            {(i == 0).then(|| view! {
                                <th scope="row" rowspan=rows.to_string()>{name.clone()}</th>
                                <td rowspan=rows.to_string()>{now}</td>
                            })}
                            <td>{date(e.at)}</td>
                            <td>{cause_label(&e.cause)}{if e.affiliated { " (affiliated)" } else { " (not affiliated)" }}</td>
                            <td>{e.reason}</td>
                        </tr>
                    }).collect::<Vec<_>>()
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
    let declare = page_action::<DeclareAffiliation>();
    let withdraw = page_action::<WithdrawAffiliation>();
    let data = Resource::new(
        move || {
            (
                update.version().get(),
                declare.version().get(),
                withdraw.version().get(),
            )
        },
        |_| marketplace_policy(),
    );
    let declare_error = Signal::derive(move || declare.value().get().and_then(Result::err));
    let withdraw_error = Signal::derive(move || withdraw.value().get().and_then(Result::err));
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
                            <dt>"Ranking changes"</dt>
                            <dd>
                                {format!("Announced at least {} days before they apply, on ", p.ranking_notice_days)}
                                <a href="/how-ranking-works#changes">"How ranking works"</a>"."
                            </dd>
                            <dt>"Exposure anomalies"</dt>
                            <dd>
                                {format!("A week in which the platform's own and affiliated listings take more than {} times their share of published listings in an industry's top three search positions opens a conflict case; see the ", super::format_ratio(p.anomaly_ratio_pct))}
                                <a href="/exposure">"exposure dashboard"</a>" and the "<a href="/neutrality-report">"monthly neutrality reports"</a>"."
                            </dd>
                        </dl>
                        <p>
                            "Whether the platform's own listings get more than their share of attention is measured on the "
                            <a href="/exposure">"exposure dashboard"</a>"."
                        </p>
                        <h2 id="public">"What is public, and what is not"</h2>
                        <p>"Public on purpose, the same for everyone:"</p>
                        <ul>
                            <li>"A published listing: its page, deployments, plans, scores (verified or self-reported, said which) and change history. Its slug is its public address from its first publication on, also once suspended or retired."</li>
                            <li>"A listing's adoption as a band of client organisations (0, 1–4, 5–9, 10–24, 25–49, 50–99, 100–249…), never the exact count."</li>
                            <li>"Exposure shares per industry and week as whole percentages, withheld when fewer than 50 events stand behind them; the weekly outcome audit and the monthly neutrality reports."</li>
                            <li>"This policy, its history, the ranking formula in force and any announced change, and the audit log's head."</li>
                        </ul>
                        <p>
                            "Not public: drafts and listings under review or rejected, including their slugs. A slug belongs to a listing only "
                            "once it is published: until then another organisation may use the same one, and being told a slug is taken says "
                            "only that a listing published it. A draft's address names its publisher ("
                            <code>"/listings/{publisher}/{slug}"</code>
                            ") and answers its own organisation and referees, each referee's read on the partner's record. Also not public: "
                            "subscribers, usage, revenue and gateway traffic of each partner, and every exact count behind a share or band."
                        </p>
                        {history(d.changes)}
                        <h2 id="affiliations">"Platform-affiliated organisations"</h2>
                        <p>
                            "A partner organisation is platform-affiliated while one of its members is also on the platform's staff, "
                            "or while a referee's declaration stands (a subsidiary, a company run by staff). Its listings are labelled "
                            "“Platform-affiliated” and count as the platform's own for every rule above: conflict cases, sign-off "
                            "before approval, the featuring ban and the exposure shares. Who the staff member is is not published."
                        </p>
                        {affiliations_table(d.affiliations)}
                        {(!d.partner_choices.is_empty()).then(|| {
                            let choices = d.partner_choices.clone();
                            let declared: Vec<(i64, String, bool)> = choices.iter().filter(|c| c.2).cloned().collect();
                            view! {
                                <h3>"Declare an affiliation"</h3>
                                <FormAlert error=declare_error fields=&["org", "reason"]/>
                                <ActionForm action=declare>
                                    <div class="field">
                                        <label for="declare-org">"Partner organisation"</label>
                                        <select id="declare-org" name="org" required>
                                            <option value="">"Choose…"</option>
                                            {choices.into_iter().filter(|c| !c.2).map(|(id, name, _)| view! {
                                                <option value=id.to_string()>{name}</option>
                                            }).collect_view()}
                                        </select>
                                        <p class="field-error" id="declare-org-error">{move || declare_error.get().map(|e| e.messages_for("org").join(" ")).unwrap_or_default()}</p>
                                    </div>
                                    <div class="field">
                                        <label for="declare-reason">"Reason (published)"</label>
                                        <input id="declare-reason" name="reason" type="text" required/>
                                        <p class="field-error" id="declare-reason-error">{move || declare_error.get().map(|e| e.messages_for("reason").join(" ")).unwrap_or_default()}</p>
                                    </div>
                                    <button type="submit">"Declare affiliated"</button>
                                </ActionForm>
                                {(!declared.is_empty()).then(|| view! {
                                    <h3>"Withdraw a declaration"</h3>
                                    <FormAlert error=withdraw_error fields=&["org", "reason"]/>
                                    <ActionForm action=withdraw>
                                        <div class="field">
                                            <label for="withdraw-org">"Declared organisation"</label>
                                            <select id="withdraw-org" name="org" required>
                                                <option value="">"Choose…"</option>
                                                {declared.into_iter().map(|(id, name, _)| view! {
                                                    <option value=id.to_string()>{name}</option>
                                                }).collect_view()}
                                            </select>
                                        </div>
                                        <div class="field">
                                            <label for="withdraw-reason">"Reason (published)"</label>
                                            <input id="withdraw-reason" name="reason" type="text" required/>
                                            <p class="field-error" id="withdraw-reason-error">{move || withdraw_error.get().map(|e| e.messages_for("reason").join(" ")).unwrap_or_default()}</p>
                                        </div>
                                        <button type="submit">"Withdraw the declaration"</button>
                                    </ActionForm>
                                })}
                            }
                        })}
                        <h2>"Audit log"</h2>
                        <p>
                            {format!("{} entries. Head of the hash chain: ", d.audit_entries)}
                            <code class="audit-head">{d.audit_head}</code>
                        </p>
                        <p class="muted">"Keep a copy of this head: if an earlier entry were ever rewritten, the chain would no longer lead to it."</p>
                        {d.can_manage.then(|| view! {
                            <h2>"Change the policy"</h2>
                            <FormAlert error fields=&["non_compete", "take_rate", "featured_slots", "ranking_notice_days", "anomaly_ratio", "reason"]/>
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
                                    <label for="ranking_notice_days">"Notice before a ranking change applies (days, 15 to 365)"</label>
                                    <input id="ranking_notice_days" name="ranking_notice_days" type="number" min="15" max="365" required
                                        value=p.ranking_notice_days.to_string()/>
                                    <p class="field-error" id="ranking_notice_days-error">{message("ranking_notice_days")}</p>
                                </div>
                                <div class="field">
                                    <label for="anomaly_ratio">"Exposure anomaly threshold (a ratio above 1, at most 10)"</label>
                                    <input id="anomaly_ratio" name="anomaly_ratio" type="text" inputmode="decimal" required
                                        value=super::format_ratio(p.anomaly_ratio_pct)/>
                                    <p class="field-error" id="anomaly_ratio-error">{message("anomaly_ratio")}</p>
                                </div>
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
