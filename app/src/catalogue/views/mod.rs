//! Catalogue pages: the home page, search with filters and "How ranking
//! works", and the base-model catalogue. Search is a plain GET form; "Why
//! this position" is a `<details>` element: both work without JavaScript.

mod base_models;
mod compare_picker;
mod home;
mod search;

pub use base_models::BaseModelsPage;
pub use home::HomePage;
pub use search::{CataloguePage, HowRankingPage};

use super::SearchHit;
use crate::ui::badge::{AffiliatedBadge, PlatformBadge, Publisher};
use leptos::prelude::*;

#[component]
pub fn WhyThisPosition(hit: SearchHit) -> impl IntoView {
    let s = hit.score;
    let row = |label: &'static str, points: f64| {
        view! { <tr><th scope="row">{label}</th><td>{format!("{points:.1}")}</td></tr> }
    };
    view! {
        <details class="why">
            <summary>{format!("Why this position (#{})", hit.position)}</summary>
            <table>
                <caption>{format!("Score {:.1} of 1000 points", s.total)}</caption>
                <tbody>
                    {row("Text relevance", s.relevance)}
                    <tr>
                        <th scope="row">
                            {format!(
                                "Adoption (client organisations using it: {})",
                                crate::catalogue::ranking::band_label(s.adoption_band)
                            )}
                        </th>
                        <td>{format!("{:.1}", s.adoption)}</td>
                    </tr>
                    {row("Evaluation score", s.evaluation)}
                    {row("Freshness", s.freshness)}
                </tbody>
            </table>
            <p class="muted">
                {format!("Equal scores are ordered by a fixed hash of the listing and the query ({:016x}).", s.tie)}
                " " <a href="/how-ranking-works">"How ranking works"</a>
            </p>
        </details>
    }
}

/// A search result: the listing's card, a compare box and its breakdown.
#[component]
fn ResultItem(hit: SearchHit, compare: bool) -> impl IntoView {
    let card = hit.card.clone();
    let heading_id = format!("listing-{}", card.slug);
    let labelled_by = heading_id.clone();
    let href = format!("/listings/{}", card.slug);
    let compare_label = format!("Compare {}", card.name);
    let slug = card.slug.clone();
    view! {
        <li class="card" aria-labelledby=labelled_by>
            <h3 id=heading_id><a href=href>{card.name}</a></h3>
            {card.platform_owned.then(|| view! { <PlatformBadge/> })}{card.affiliated.then(|| view! { " " <AffiliatedBadge/> })}
            <p class="tagline">{card.tagline}</p>
            <dl class="facts">
                <dt>"Industry"</dt>
                <dd>{card.industry}</dd>
                <dt>"Base model"</dt>
                <dd>
                    <span class="chip">{card.base_model}</span>
                    {(card.deployments > 1).then(|| format!(" + {} more", card.deployments - 1))}
                </dd>
                <dt>"Publisher"</dt>
                <dd><Publisher name=card.publisher/></dd>
                <dt>"From"</dt>
                <dd class="price">{card.from_price.unwrap_or_else(|| "No active plan".into())}</dd>
                {(!card.certifications.is_empty()).then(|| view! {
                    <dt>"Certifications"</dt>
                    <dd>{card.certifications.join(", ")}</dd>
                })}
            </dl>
            {compare.then(|| view! {
                <label class="compare-box">
                    <input type="checkbox" name="l" value=slug form="compare-form"/>
                    " " {compare_label}
                </label>
            })}
            <WhyThisPosition hit/>
        </li>
    }
}

/// A list of results; with `compare`, each can be ticked for the compare page.
#[component]
pub(super) fn ResultList(
    hits: Vec<SearchHit>,
    compare: bool,
    label: &'static str,
) -> impl IntoView {
    view! {
        <ul class="cards" aria-label=label>
            {hits.into_iter().map(|hit| view! { <ResultItem hit compare/> }).collect_view()}
        </ul>
    }
}
