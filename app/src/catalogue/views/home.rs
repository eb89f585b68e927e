//! The home page: a search box, the featured strip and the top listings.

use super::super::api::home_listings;
use super::ResultList;
use crate::policy::api::featured_listings;
use crate::ui::badge::{AffiliatedBadge, PlatformBadge, Publisher};
use crate::ui::status::{loaded, loaded_or};
use leptos::prelude::*;

/// The featured strip: apart from the ranked results, each card labelled.
#[component]
fn FeaturedStrip() -> impl IntoView {
    let featured = Resource::new(|| (), |_| featured_listings());
    view! {
        {loaded(featured, move |data| match data {
            cards if !cards.is_empty() => view! {
                <section aria-labelledby="featured-heading" class="featured">
                    <h2 id="featured-heading">"Featured"</h2>
                    <p class="muted">"Chosen by the marketplace's referees; shown apart from, and never reordering, the ranked results."</p>
                    <ul class="cards" aria-label="Featured listings">
                        {cards.into_iter().map(|f| {
                            let href = format!("/listings/{}", f.card.slug);
                            view! {
                                <li class="card">
                                    <h3><a href=href>{f.card.name}</a></h3>
                                    {if f.promoted {
                                        view! { <span class="badge badge-platform">"Promoted by the platform"</span> }.into_any()
                                    } else {
                                        view! { <span class="badge">"Featured"</span> }.into_any()
                                    }}
                                    {f.card.platform_owned.then(|| view! { " " <PlatformBadge/> })}{f.card.affiliated.then(|| view! { " " <AffiliatedBadge/> })}
                                    <p class="tagline">{f.card.tagline}</p>
                                    <p class="muted"><Publisher name=f.card.publisher/></p>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            }.into_any(),
            _ => ().into_any(),
        })}
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    let listings = Resource::new(|| (), |_| home_listings());
    view! {
        <section class="hero">
            <h1>"Industry models, on the base model you choose"</h1>
            <p>
                "Vertical vendors publish models for medicine, finance, law and more. "
                "A listing can run on several base models, so nobody is locked in."
            </p>
            <form method="get" action="/catalogue" role="search" class="inline-search">
                <label for="home-q">"Search the catalogue"</label>
                <input id="home-q" name="q" type="search"/>
                <button type="submit">"Search"</button>
            </form>
        </section>
        <FeaturedStrip/>
        {loaded_or(listings, "Loading listings…", move |r| {
            {
                let shown = r.hits.len();
                let total = r.total;
                view! {
                    <section aria-labelledby="published-heading">
                        <h2 id="published-heading">"Published models"</h2>
                        <p class="count">
                            {format!("Showing the top {shown} of {total} published listings. ")}
                            <a href="/catalogue">"Browse the whole catalogue"</a>
                            " · " <a href="/how-ranking-works">"How ranking works"</a>
                        </p>
                        {if r.hits.is_empty() {
                            view! { <p>"No listings have been published yet."</p> }.into_any()
                        } else {
                            view! { <ResultList hits=r.hits compare=false label="Published listings"/> }.into_any()
                        }}
                    </section>
                }.into_any()
            }
        })}
    }
}
