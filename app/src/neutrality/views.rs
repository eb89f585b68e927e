//! The public monthly neutrality reports: the list of months and one
//! month's report, with its JSON and CSV downloads.

use super::api::{neutrality_report, neutrality_reports};
use super::{format_duration, kind_label, IndustryFigures, NeutralityReport};
use crate::exposure::{format_share, format_split};
use crate::ui::format::date;
use crate::ui::status::loaded;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn NeutralityReportsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| neutrality_reports());
    view! {
        <Title text="Neutrality reports · Fairground"/>
        <section class="panel">
            <h1>"Monthly neutrality reports"</h1>
            <p>
                "Each month's report gives, per industry, the share of attention that went to the platform's own and "
                "affiliated listings beside their share of published listings, the weekly exposure audits and their "
                "anomalies, the conflict cases opened and how they stood at the month's end, the median time to a "
                "referee's sign-off, referees' reads of partner data, players' refused tries, and the head of the "
                "audit log's hash chain at the month's end."
            </p>
            <p class="muted">
                "A report is published once its month is over: its JSON download never changes afterwards, and its "
                "SHA-256 is entered in the audit log. Keep a copy to check it later."
            </p>
            {loaded(data, |d| view! {
                <ul class="months">
                    {d.months.into_iter().map(|(month, published)| view! {
                        <li>
                            <a href=format!("/neutrality-report/{month}")>{month.clone()}</a>
                            {if published { " · published" } else { " · provisional" }}
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

fn industry_row(i: &IndustryFigures) -> impl IntoView {
    view! {
        <tr>
            <th scope="row">{i.name.clone()}</th>
            <td>{format_split(&i.impressions)}</td>
            <td>{format_split(&i.top)}</td>
            <td>{format_share(i.listing_share_bp)}</td>
            <td>{format_split(&i.views)}</td>
            <td>{format_split(&i.subscriptions)}</td>
            <td>{i.weeks_audited}</td>
            <td class={if i.anomalies > 0 { "anomaly" } else { "" }}>{i.anomalies}</td>
        </tr>
    }
}

fn report_view(r: &NeutralityReport) -> impl IntoView {
    view! {
        <h2>"Exposure"</h2>
        <table class="grid exposure report">
            <caption>"First-party (platform and affiliated) share per industry"</caption>
            <thead><tr>
                <th scope="col">"Industry"</th>
                <th scope="col">"Impressions"</th>
                <th scope="col">"Top three positions"</th>
                <th scope="col">"Published listings"</th>
                <th scope="col">"Detail views"</th>
                <th scope="col">"New subscriptions"</th>
                <th scope="col">"Weeks audited"</th>
                <th scope="col">"Anomalies"</th>
            </tr></thead>
            <tbody>{r.industries.iter().map(industry_row).collect_view()}</tbody>
        </table>
        <p class="muted">
            {format!("An anomaly is a week whose top-position share was more than {} times the listing share (threshold in force when the report was made). ", r.anomaly_threshold)}
            "Shares on fewer than 50 events are withheld."
        </p>
        <h2>"Conflict cases"</h2>
        {if r.cases.is_empty() {
            view! { <p class="muted">"No case was opened this month."</p> }.into_any()
        } else {
            view! {
                <table class="grid">
                    <caption>"Opened this month, and where they stood at its end"</caption>
                    <thead><tr>
                        <th scope="col">"Kind"</th><th scope="col">"Opened"</th><th scope="col">"Resolved"</th>
                        <th scope="col">"Dismissed"</th><th scope="col">"Still open"</th>
                    </tr></thead>
                    <tbody>
                        {r.cases.iter().map(|c| view! {
                            <tr>
                                <th scope="row">{kind_label(&c.kind)}</th>
                                <td>{c.opened}</td><td>{c.resolved}</td><td>{c.dismissed}</td><td>{c.still_open}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <dl class="facts">
            <dt>"Sign-offs"</dt>
            <dd>{match r.median_sign_off_ms {
                Some(ms) => format!("{}, median time from the case's opening: {}", r.sign_offs, format_duration(ms)),
                None => "None this month".to_string(),
            }}</dd>
            <dt>"Referees' reads of partner data"</dt>
            <dd>{r.referee_reads}</dd>
            <dt>"Players' tries refused by the firewall"</dt>
            <dd>{r.player_refusals}</dd>
            <dt>"Audit log at the month's end"</dt>
            <dd>{format!("{} entries; head ", r.audit_entries)}<code class="audit-head">{r.audit_head.clone()}</code></dd>
        </dl>
    }
}

#[component]
pub fn NeutralityReportPage() -> impl IntoView {
    let params = use_params_map();
    let month = move || params.with(|p| p.get("month").unwrap_or_default());
    let data = Resource::new(month, neutrality_report);
    view! {
        <Title text="Neutrality report · Fairground"/>
        <article class="panel">
            {loaded(data, |d| {
                let m = d.report.month.clone();
                view! {
                    <h1>{format!("Neutrality report, {m}")}</h1>
                    {match d.published.clone() {
                        Some((at, sha)) => view! {
                            <p>
                                {format!("Published {}. SHA-256 of the JSON download (also in the audit log): ", date(at))}
                                <code class="sha">{sha}</code>
                            </p>
                        }.into_any(),
                        None => view! {
                            <p class="notice" role="status">
                                {format!("Provisional: figures as of {}; the report is published once the month is over.", date(d.report.made_at))}
                            </p>
                        }.into_any(),
                    }}
                    <p>
                        <a href=format!("/neutrality-report/{m}/report.json")>"JSON"</a>
                        " · "
                        <a href=format!("/neutrality-report/{m}/report.csv")>"CSV"</a>
                        " · "
                        <a href="/neutrality-report">"All months"</a>
                    </p>
                    {report_view(&d.report)}
                }
            })}
        </article>
    }
}
