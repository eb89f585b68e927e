//! Listing cards and the home page.

use super::api::home_listings;
use super::ListingCard;
use crate::components::ErrorPage;
use leptos::prelude::*;

/// The label every first-party listing carries, wherever it appears.
#[component]
pub fn PlatformBadge() -> impl IntoView {
    view! {
        <span class="badge badge-platform" title="Published by the marketplace operator itself">
            "Platform-owned"
        </span>
    }
}

#[component]
pub fn ListingCardView(card: ListingCard) -> impl IntoView {
    let heading_id = format!("listing-{}", card.slug);
    let labelled_by = heading_id.clone();
    view! {
        <li class="card" aria-labelledby=labelled_by>
            <h3 id=heading_id>{card.name}</h3>
            {card.platform_owned.then(|| view! { <PlatformBadge/> })}
            <p class="tagline">{card.tagline}</p>
            <dl class="facts">
                <dt>"Industry"</dt>
                <dd>{card.industry}</dd>
                <dt>"Base model"</dt>
                <dd>{card.base_model}</dd>
                <dt>"Publisher"</dt>
                <dd>{card.publisher}</dd>
            </dl>
        </li>
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
        </section>
        <Suspense fallback=|| view! { <p>"Loading listings…"</p> }>
            {move || Suspend::new(async move {
                match listings.await {
                    Ok(page) => {
                        let shown = page.items.len();
                        let total = page.total;
                        view! {
                            <section aria-labelledby="published-heading">
                                <h2 id="published-heading">"Published models"</h2>
                                <p class="count">
                                    {format!("Showing {shown} of {total} published listings, newest first.")}
                                </p>
                                {if page.items.is_empty() {
                                    view! { <p>"No listings have been published yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="cards" aria-label="Published listings">
                                            {page.items.into_iter().map(|card| view! { <ListingCardView card/> }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                    Err(err) => view! { <ErrorPage error=err/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
