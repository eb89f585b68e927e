//! The exposure dashboard: a chart of the first-party share of impressions,
//! detail views and new subscriptions per week, and the table behind it.

use super::api::exposure_report;
use super::{format_share, plot_points, polylines, ExposureData, ExposureRow, Split};
use crate::ui::format::date;
use crate::ui::status::loaded_or;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const PLOT_W: f64 = 560.0;
const PLOT_H: f64 = 200.0;

fn chart(d: &ExposureData) -> impl IntoView {
    let shares = |f: fn(&ExposureRow) -> Split| -> Vec<Option<i64>> {
        d.series.iter().map(|r| f(r).share_bp).collect()
    };
    let baseline = d
        .listing_share_bp
        .map(|bp| PLOT_H - PLOT_H * bp as f64 / 10_000.0);
    let first = d.series.first().map(|r| date(r.week)).unwrap_or_default();
    let last = d.series.last().map(|r| date(r.week)).unwrap_or_default();
    let name = d
        .series
        .first()
        .map(|r| r.industry_name.clone())
        .unwrap_or_default();
    let label = format!(
        "First-party share of impressions, top three positions, detail views and new subscriptions per week, {name}, weeks of {first} to {last}"
    );
    let title = label.clone();
    // Lines between weeks, and a dot on each week (a lone week has no line).
    let dots = |f: fn(&ExposureRow) -> Split, class: &'static str| {
        let values = shares(f);
        let lines = polylines(&values, PLOT_W, PLOT_H)
            .into_iter()
            .map(|points| view! { <polyline class=class points=points/> })
            .collect_view();
        let marks = plot_points(&values, PLOT_W, PLOT_H)
            .into_iter()
            .flatten()
            .map(|(x, y)| view! { <circle class=class cx=format!("{x:.1}") cy=format!("{y:.1}") r="3.5"/> })
            .collect_view();
        view! { {lines} {marks} }
    };
    view! {
        <figure class="exposure-chart">
            <svg viewBox="-40 -10 620 240" role="img" aria-label=label.clone()>
                <title>{title}</title>
                {[0i64, 25, 50, 75, 100].into_iter().map(|pct| {
                    let y = PLOT_H - PLOT_H * pct as f64 / 100.0;
                    view! {
                        <line class="grid-line" x1="0" x2=PLOT_W y1=y y2=y/>
                        <text class="axis" x="-6" y=y + 4.0 text-anchor="end">{format!("{pct} %")}</text>
                    }
                }).collect_view()}
                {baseline.map(|y| view! { <line class="baseline" x1="0" x2=PLOT_W y1=y y2=y/> })}
                {dots(|r| r.impressions, "series impressions")}
                {dots(|r| r.top, "series top")}
                {dots(|r| r.views, "series views")}
                {dots(|r| r.subscriptions, "series subscriptions")}
                <text class="axis" x="0" y=PLOT_H + 20.0>{first}</text>
                <text class="axis" x=PLOT_W y=PLOT_H + 20.0 text-anchor="end">{last}</text>
            </svg>
            <figcaption>
                <span class="key impressions">"Impressions"</span>
                <span class="key top">"Top three positions"</span>
                <span class="key views">"Detail views"</span>
                <span class="key subscriptions">"New subscriptions"</span>
                {d.listing_share_bp.map(|bp| view! {
                    <span class="key baseline">{format!("First-party share of published listings now: {}", format_share(Some(bp)))}</span>
                })}
                {(!d.rows.is_empty()).then(|| view! { <a href="#exposure-figures">"The figures in a table"</a> })}
            </figcaption>
        </figure>
    }
}

fn cell(split: Split, detailed: bool) -> impl IntoView {
    let share = super::format_split(&split);
    match (detailed, split.first_party, split.partner) {
        (true, Some(fp), Some(p)) => view! {
            <td>{share}<br/><span class="muted">{format!("{fp} of {}", fp + p)}</span></td>
        }
        .into_any(),
        _ => view! { <td>{share}</td> }.into_any(),
    }
}

fn table(d: &ExposureData) -> impl IntoView {
    if d.rows.is_empty() {
        return view! { <p class="muted">"Nothing has been shown in this period yet."</p> }
            .into_any();
    }
    let detailed = d.detailed;
    view! {
        <table class="grid exposure" id="exposure-figures">
            <caption>"First-party share per industry and week"</caption>
            <thead><tr>
                <th scope="col">"Week of (UTC)"</th>
                <th scope="col">"Industry"</th>
                <th scope="col">"Impressions"</th>
                <th scope="col">"Top three positions"</th>
                <th scope="col">"Published listings"</th>
                <th scope="col">"Detail views"</th>
                <th scope="col">"New subscriptions"</th>
            </tr></thead>
            <tbody>
                {d.rows.iter().map(|r| view! {
                    <tr>
                        <td>{date(r.week)}</td>
                        <th scope="row">{r.industry_name.clone()}</th>
                        {cell(r.impressions, detailed)}
                        {cell(r.top, detailed)}
                        <td>
                            {format_share(r.listing_share_bp)}
                            {r.anomaly.then(|| view! { <br/><strong class="anomaly">"Anomaly: a case is open"</strong> })}
                        </td>
                        {cell(r.views, detailed)}
                        {cell(r.subscriptions, detailed)}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The gateway's added latency for first-party and partner deployments.
fn overhead_table(d: &super::ExposureData) -> impl IntoView {
    let ms = |v: Option<(i64, i64)>, i: usize| match v {
        Some(p) => format!("{:.1} ms", [p.0, p.1][i] as f64 / 1000.0),
        None => "—".to_string(),
    };
    let detailed = d.detailed;
    view! {
        <h2>"Gateway overhead"</h2>
        <p class="muted">
            "The time the gateway itself adds to a call (routing, metering, relaying; not the model's own time), "
            "for calls to platform-owned and to partner deployments, per week (all industries). "
            "Slower treatment of partners' traffic would show here."
        </p>
        {if d.overhead.is_empty() {
            view! { <p class="muted">"No calls through the gateway in this period."</p> }.into_any()
        } else {
            view! {
                <table class="grid overhead">
                    <thead><tr>
                        <th scope="col">"Week of"</th>
                        <th scope="col">"Platform-owned p50"</th><th scope="col">"p99"</th>
                        <th scope="col">"Partner p50"</th><th scope="col">"p99"</th>
                        {detailed.then(|| view! { <th scope="col">"Calls (platform / partner)"</th> })}
                    </tr></thead>
                    <tbody>
                        {d.overhead.iter().map(|r| view! {
                            <tr>
                                <th scope="row">{crate::ui::format::date(r.week)}</th>
                                <td>{ms(r.first_party, 0)}</td><td>{ms(r.first_party, 1)}</td>
                                <td>{ms(r.partner, 0)}</td><td>{ms(r.partner, 1)}</td>
                                {detailed.then(|| view! { <td>{format!("{} / {}", r.first_party_calls.unwrap_or(0), r.partner_calls.unwrap_or(0))}</td> })}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}

#[component]
pub fn ExposurePage() -> impl IntoView {
    let q = use_query_map();
    let industry = Memo::new(move |_| q.with(|m| m.get("industry").unwrap_or_default()));
    let data = Resource::new(move || industry.get(), exposure_report);
    view! {
        <Title text="Exposure · Fairground"/>
        <section class="panel">
            <h1>"Exposure: platform-owned vs partner listings"</h1>
            <p class="muted">
                "Of every listing shown in catalogue results (impressions) and every listing page opened by "
                "someone outside its publisher (detail views), and of every subscription started, the share "
                "that went to the platform's own listings, per week (Monday to Sunday, UTC). Counts reach "
                "this page within a few seconds."
            </p>
            <p class="muted">
                "Top three positions: impressions in the first three places of the ranking's own order (the first page, "
                "sorted by relevance), beside the first-party share of published listings. Once a week is over it is "
                "audited per industry: a top-position share above the threshold set in the "
                <a href="/policy">"marketplace policy"</a>
                " times the listing share, on at least 50 top-position impressions, opens an “exposure anomaly” conflict case. "
                "Each month's figures are published in the "<a href="/neutrality-report">"neutrality report"</a>"."
            </p>
            {loaded_or(data, "Loading…", move |d| {
                {
                    let chosen = d.industry.clone();
                    view! {
                        <form method="get" action="/exposure" class="exposure-filter">
                            <label for="industry">"Industry"</label>
                            <select id="industry" name="industry">
                                <option value="" selected=chosen.is_empty()>"All industries"</option>
                                {d.industries.iter().map(|c| view! {
                                    <option value=c.value.clone() selected=c.value == chosen>{c.label.clone()}</option>
                                }).collect_view()}
                            </select>
                            <button type="submit">"Show"</button>
                        </form>
                        {chart(&d)}
                        {table(&d)}
                        {overhead_table(&d)}
                        {(!d.detailed).then(|| view! {
                            <p class="muted">"Counts are shown to referees; this public summary gives the shares."</p>
                        })}
                    }.into_any()
                }
            })}
        </section>
    }
}
