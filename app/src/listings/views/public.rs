//! The public listing page and the compare page.

use super::super::api::{compare_listings, listing_page};
use super::super::{ListingDetail, ListingStatus};
use super::{deployments_table, plan_price, plans_table};
use crate::ui::badge::{AffiliatedBadge, PlatformBadge};
use crate::ui::format::date;
use crate::ui::status::loaded;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The model card: what a listing is, where it runs, what it costs.
fn model_card(d: ListingDetail, subscribe: Callback<i64, AnyView>) -> impl IntoView {
    let status_note = (d.status != ListingStatus::Published).then(|| {
        view! {
            <p class="form-alert" role="status">
                {format!("Status: {}. Only published listings are public.", d.status.label())}
                {d.review_reason.clone().map(|r| format!(" Referee's reason: {r}"))}
            </p>
        }
    });
    let edit = d.can_edit.then(|| {
        let href = format!("/my/listings/{}", d.id);
        view! { <p><a href=href>"Edit this listing"</a></p> }
    });
    view! {
        <article class="panel listing">
            <h1>{d.name.clone()}</h1>
            {d.platform_owned.then(|| view! { <PlatformBadge/> })}{d.affiliated.then(|| view! { " " <AffiliatedBadge/> })}
            <p class="tagline">{d.tagline.clone()}</p>
            {status_note}
            {edit}
            <dl class="facts">
                <dt>"Publisher"</dt><dd>{d.publisher.clone()}</dd>
                <dt>"Industry"</dt><dd>{d.industry.clone()}</dd>
                <dt>"Tags"</dt><dd>{if d.tags.is_empty() { "None".to_string() } else { d.tags.join(", ") }}</dd>
                <dt>"Data residency"</dt><dd>{if d.data_residency.is_empty() { "Not stated".to_string() } else { d.data_residency.clone() }}</dd>
                <dt>"Certifications"</dt><dd>{if d.certifications.is_empty() { "None stated".to_string() } else { d.certifications.join(", ") }}</dd>
                <dt>"Documentation"</dt>
                <dd>{if d.documentation_url.is_empty() {
                    view! { "Not provided" }.into_any()
                } else {
                    let url = d.documentation_url.clone();
                    let href = url.clone();
                    view! { <a href=href rel="noopener noreferrer nofollow">{url}</a> }.into_any()
                }}</dd>
                <dt>"Published"</dt><dd>{d.published_at.map(date).unwrap_or_else(|| "Not yet".into())}</dd>
            </dl>
            <h2 id="description-heading">"Description"</h2>
            {if d.description_html.trim().is_empty() {
                view! { <p class="muted">"No description yet."</p> }.into_any()
            } else {
                view! {
                    <section class="description" aria-labelledby="description-heading" inner_html=d.description_html.clone()></section>
                }.into_any()
            }}
            {deployments_table(d.deployments.clone())}
            {plans_table(d.plans.clone())}
            {(d.status == ListingStatus::Published).then(|| subscribe.run(d.id))}
            <section aria-labelledby="history-heading">
                <h2 id="history-heading">"Change history"</h2>
                {if d.changes.is_empty() {
                    view! { <p class="muted">"No price or deployment changes since publication."</p> }.into_any()
                } else {
                    view! {
                        <ul class="history">
                            {d.changes.into_iter().map(|c| view! {
                                <li><time>{date(c.at)}</time>" " {c.summary}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </article>
    }
}

/// A listing's page. `subscribe` draws what a client uses to subscribe to a
/// published listing (the subscriptions capability's box, chosen by the
/// route table).
#[component]
pub fn ListingPage(subscribe: Callback<i64, AnyView>) -> impl IntoView {
    let params = use_params_map();
    let address = move || {
        params.with(|p| {
            (
                p.get("slug").unwrap_or_default(),
                p.get("publisher").unwrap_or_default(),
            )
        })
    };
    let detail = Resource::new(address, |(slug, publisher)| listing_page(slug, publisher));
    loaded(detail, move |d: ListingDetail| {
        view! {
            <Title text=format!("{} · Fairground", d.name)/>
            {model_card(d, subscribe)}
        }
    })
}

#[component]
pub fn ComparePage() -> impl IntoView {
    let query = use_query_map();
    let slugs = move || query.with(|q| q.get_all("l").unwrap_or_default().join(","));
    let columns = Resource::new(slugs, compare_listings);
    view! {
        <Title text="Compare listings · Fairground"/>
        <h1>"Compare listings"</h1>
        {loaded(columns, move |data| match data {
            cols if cols.is_empty() => view! {
                <p>"Tick up to four listings in the " <a href="/catalogue">"catalogue"</a> " and choose “Compare selected”."</p>
            }.into_any(),
            cols => compare_table(cols).into_any(),
        })}
    }
}

fn compare_table(cols: Vec<ListingDetail>) -> impl IntoView {
    type Cell = fn(&ListingDetail) -> String;
    let rows: Vec<(&'static str, Cell)> = vec![
        ("Publisher", |d| d.publisher.clone()),
        ("Industry", |d| d.industry.clone()),
        ("Tagline", |d| d.tagline.clone()),
        ("Base models", |d| {
            d.deployments
                .iter()
                .map(|x| {
                    if x.is_default {
                        format!("{} (default)", x.base_model)
                    } else {
                        x.base_model.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        }),
        ("Best verified evaluation", |d| {
            d.deployments
                .iter()
                .filter(|x| !x.verified_stale)
                .filter_map(|x| x.verified_score)
                .max()
                .map(|e| format!("{e} / 100"))
                .unwrap_or_else(|| "Not evaluated yet".into())
        }),
        ("Best self-reported evaluation", |d| {
            d.deployments
                .iter()
                .filter_map(|x| x.eval_score)
                .max()
                .map(|e| format!("{e} / 100 (self-reported)"))
                .unwrap_or_else(|| "None reported".into())
        }),
        ("Plans", |d| {
            d.plans
                .iter()
                .filter(|p| p.active)
                .map(|p| format!("{}: {}", p.name, plan_price(p)))
                .collect::<Vec<_>>()
                .join("; ")
        }),
        ("Data residency", |d| d.data_residency.clone()),
        ("Certifications", |d| d.certifications.join(", ")),
        ("Tags", |d| d.tags.join(", ")),
    ];
    let heads = cols.clone();
    view! {
        <div class="scroll">
            <table class="grid compare">
                <caption class="visually-hidden">"Listings side by side"</caption>
                <thead><tr>
                    <td></td>
                    {heads.into_iter().map(|d| {
                        let href = d.href.clone();
                        view! {
                            <th scope="col">
                                <a href=href>{d.name}</a>
                                {d.platform_owned.then(|| view! { " " <PlatformBadge/> })}{d.affiliated.then(|| view! { " " <AffiliatedBadge/> })}
                            </th>
                        }
                    }).collect_view()}
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|(label, cell)| {
                        let cells = cols.iter().map(|d| view! { <td>{cell(d)}</td> }).collect_view();
                        view! { <tr><th scope="row">{label}</th>{cells}</tr> }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
