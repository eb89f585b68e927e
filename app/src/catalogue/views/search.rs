//! The catalogue search page and "How ranking works".

use super::super::api::catalogue_search;
use super::super::ranking::{
    ADOPTION_HALF_AT, ADOPTION_WINDOW_DAYS, FIELD_DESCRIPTION, FIELD_NAME, FIELD_TAG,
    FIELD_TAGLINE, FRESHNESS_HALF_LIFE_DAYS, MAX_TERMS,
};
use super::super::{CatalogueQuery, PriceBand, SearchResults, SortOrder, COMPARE_MAX};
use super::ResultList;
use crate::ui::fields::Choice;
use crate::ui::status::ErrorPage;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn select(
    name: &'static str,
    label: &'static str,
    any: &'static str,
    choices: Vec<Choice>,
    current: String,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <select id=name name=name>
                <option value="" selected=current.is_empty()>{any}</option>
                {choices.into_iter().map(|c| {
                    let selected = c.value == current;
                    view! { <option value=c.value selected=selected>{c.label}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

fn query_from_url() -> CatalogueQuery {
    let q = use_query_map();
    let get = move |k: &str| q.with(|m| m.get(k).unwrap_or_default());
    CatalogueQuery {
        q: get("q"),
        industry: get("industry"),
        base_model: get("base_model"),
        price: get("price"),
        certification: get("certification"),
        sort: get("sort"),
        page: get("page"),
    }
}

fn page_link(q: &CatalogueQuery, page: usize) -> String {
    let pairs = [
        ("q", q.q.as_str()),
        ("industry", &q.industry),
        ("base_model", &q.base_model),
        ("price", &q.price),
        ("certification", &q.certification),
        ("sort", &q.sort),
    ];
    let mut url = String::from("/catalogue?");
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        url.push_str(&format!("{k}={}&", urlencode(v)));
    }
    url.push_str(&format!("page={page}"));
    url
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn results_view(q: CatalogueQuery, r: SearchResults) -> impl IntoView {
    let price_choices: Vec<Choice> = PriceBand::ALL
        .iter()
        .map(|b| Choice {
            value: b.as_str().into(),
            label: b.label().into(),
        })
        .collect();
    let cert_choices: Vec<Choice> = r
        .certifications
        .iter()
        .map(|c| Choice {
            value: c.clone(),
            label: c.clone(),
        })
        .collect();
    let summary = if r.total == 0 {
        "No published listing matches.".to_string()
    } else {
        format!(
            "{} listing{} match; page {} of {}, sorted by {}.",
            r.total,
            if r.total == 1 { "" } else { "s" },
            r.page,
            r.pages,
            r.sort.label().to_lowercase()
        )
    };
    let prev = (r.page > 1).then(|| page_link(&q, r.page - 1));
    let next = (r.page < r.pages).then(|| page_link(&q, r.page + 1));
    let sort_current = r.sort.as_str().to_string();
    view! {
        <form method="get" action="/catalogue" class="search-form" role="search">
            <div class="field">
                <label for="q">"Search"</label>
                <input id="q" name="q" type="search" value=q.q.clone() placeholder="e.g. radiology triage"/>
            </div>
            {select("industry", "Industry", "Any industry", r.industries.clone(), q.industry.clone())}
            {select("base_model", "Base model", "Any base model", r.base_models.clone(), q.base_model.clone())}
            {select("price", "Price", "Any price", price_choices, q.price.clone())}
            {select("certification", "Certification", "Any certification", cert_choices, q.certification.clone())}
            <div class="field">
                <label for="sort">"Sort by"</label>
                <select id="sort" name="sort">
                    {SortOrder::ALL.into_iter().map(|o| {
                        let selected = o.as_str() == sort_current;
                        view! { <option value=o.as_str() selected=selected>{o.label()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <button type="submit">"Search"</button>
        </form>
        <h2 class="visually-hidden">"Results"</h2>
        <p class="count" role="status">{summary}</p>
        <form id="compare-form" method="get" action="/compare" class="compare-form">
            <super::compare_picker::ComparePicker max=COMPARE_MAX/>
        </form>
        <ResultList hits=r.hits compare=true label="Search results"/>
        <nav class="pager" aria-label="Pages">
            {prev.map(|href| view! { <a href=href rel="prev">"Previous page"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Next page"</a> })}
        </nav>
    }
}

#[component]
pub fn CataloguePage() -> impl IntoView {
    let query = Memo::new(move |_| query_from_url());
    let results = Resource::new(
        move || query.get(),
        |q| {
            catalogue_search(
                q.q,
                q.industry,
                q.base_model,
                q.price,
                q.certification,
                q.sort,
                q.page,
            )
        },
    );
    view! {
        <Title text="Catalogue · Fairground"/>
        <h1>"Catalogue"</h1>
        <p class="muted">
            "Every published industry model, ordered by one published formula. "
            <a href="/how-ranking-works">"How ranking works"</a>
        </p>
        <Suspense fallback=|| view! { <p>"Searching…"</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(r) => results_view(query.get_untracked(), r).into_any(),
                    Err(err) => view! { <ErrorPage error=err/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A formula as the page prints it.
fn formula_line(w: &crate::catalogue::ranking::Weights) -> String {
    let pct = crate::policy::format_rate;
    format!(
        "score = 1000 × ({} × relevance + {} × adoption + {} × evaluation + {} × freshness)",
        pct(w.relevance_bp),
        pct(w.adoption_bp),
        pct(w.evaluation_bp),
        pct(w.freshness_bp)
    )
}

fn formula_list(rows: Vec<crate::policy::Formula>, caption: &'static str) -> impl IntoView {
    view! {
        <table class="grid formulas">
            <caption>{caption}</caption>
            <thead><tr>
                <th scope="col">"Applies from (UTC)"</th><th scope="col">"Formula"</th>
                <th scope="col">"Announced"</th><th scope="col">"Reason"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|f| view! {
                    <tr>
                        <td>{crate::ui::format::date(f.effective_at)}</td>
                        <td>{formula_line(&f.weights)}</td>
                        <td>{crate::ui::format::date(f.proposed_at)}</td>
                        <td>{f.reason}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn HowRankingPage() -> impl IntoView {
    use crate::policy::api::{ranking_formula, ProposeRankingWeights};
    use crate::ui::fields::{page_action, FormAlert};
    use crate::ui::status::loaded;
    let propose = page_action::<ProposeRankingWeights>();
    let data = Resource::new(move || propose.version().get(), |_| ranking_formula());
    let error = Signal::derive(move || propose.value().get().and_then(Result::err));
    let message = move |field: &'static str| {
        move || {
            error
                .get()
                .map(|e: crate::error::AppError| e.messages_for(field).join(" "))
                .unwrap_or_default()
        }
    };
    let weight_field = move |name: &'static str, label: &'static str, value: i64| {
        let value = crate::policy::format_rate(value)
            .trim_end_matches(" %")
            .to_string();
        view! {
            <div class="field">
                <label for=name>{label}</label>
                <input id=name name=name type="text" inputmode="decimal" required value=value/>
                <p class="field-error" id=format!("{name}-error")>{message(name)}</p>
            </div>
        }
    };
    view! {
        <Title text="How ranking works · Fairground"/>
        <article class="panel prose">
            <h1>"How ranking works"</h1>
            <p>
                "One ranking function orders every list of listings on Fairground: the catalogue, "
                "search results and the home page. It scores each listing from 0 to 1000 points:"
            </p>
            {loaded(data, move |f| {
                let in_force = f.in_force.weights;
                view! {
                    <p class="formula">{formula_line(&in_force)}</p>
                    <p class="muted">
                        {if f.in_force.effective_at > 0 {
                            format!("In force since {}: {}", crate::ui::format::date(f.in_force.effective_at), f.in_force.reason)
                        } else {
                            "In force since the marketplace opened.".to_string()
                        }}
                    </p>
                    <h2 id="changes">"Announced changes"</h2>
                    <p>
                        {format!(
                            "The weights are part of the marketplace policy. A referee may change them with a published reason; \
                             the change is shown here at once and applies from the first midnight (UTC) at least {} days later, \
                             never sooner.",
                            f.notice_days
                        )}
                    </p>
                    {if f.announced.is_empty() {
                        view! { <p class="muted">"No change is announced."</p> }.into_any()
                    } else {
                        formula_list(f.announced.clone(), "Announced, not yet in force").into_any()
                    }}
                    {(!f.past.is_empty()).then(|| formula_list(f.past.clone(), "Earlier formulas"))}
                    {f.can_propose.then(|| view! {
                        <h3>"Announce new weights"</h3>
                        <FormAlert error fields=&["relevance", "adoption", "evaluation", "freshness", "weights", "reason"]/>
                        <ActionForm action=propose>
                            {weight_field("relevance", "Relevance (%)", in_force.relevance_bp)}
                            {weight_field("adoption", "Adoption (%)", in_force.adoption_bp)}
                            {weight_field("evaluation", "Evaluation (%)", in_force.evaluation_bp)}
                            {weight_field("freshness", "Freshness (%)", in_force.freshness_bp)}
                            <p class="field-error" id="weights-error">{message("weights")}</p>
                            <div class="field">
                                <label for="weights-reason">"Reason (published)"</label>
                                <input id="weights-reason" name="reason" type="text" required/>
                                <p class="field-error" id="reason-error">{message("reason")}</p>
                            </div>
                            <button type="submit">"Announce"</button>
                        </ActionForm>
                    })}
                }
                .into_any()
            })}
            <h2>"The components"</h2>
            <dl>
                <dt>"Relevance"</dt>
                <dd>
                    {format!(
                        "For each word of the query (up to {MAX_TERMS}), the best place a word of the listing starts with it: \
                         name {FIELD_NAME}, tag {FIELD_TAG}, tagline {FIELD_TAGLINE}, description {FIELD_DESCRIPTION}; \
                         averaged over the query's words. A listing must contain every query word to be shown. \
                         Without a query, every listing has relevance 1."
                    )}
                </dd>
                <dt>"Adoption"</dt>
                <dd>
                    {format!("n / (n + {ADOPTION_HALF_AT}), one half at n = {ADOPTION_HALF_AT}, where n counts client organisations with an active \
                     subscription and at least one billable call (through the gateway, or reported by the publisher) in the \
                     {ADOPTION_WINDOW_DAYS} days before today (UTC). A client organisation that shares a member with the publisher is \
                     not counted; for the platform's own listings and platform-affiliated partners' listings, neither is one that \
                     shares a member with the platform or any affiliated partner. Subscribing to oneself from organisations one \
                     creates moves nothing. n enters the formula as the lower bound of its band (0, 1–4, 5–9, 10–24, 25–49, \
                     50–99, 100–249…), and only the band is shown: how many clients a partner has is its own figure. \
                     Recomputed whenever the catalogue changes, and at least once a day.")}
                </dd>
                <dt>"Evaluation"</dt>
                <dd>
                    "The best verified evaluation score (0–100) of an active deployment, divided by 100; 0 when none is verified. "
                    "A verified score comes from an evaluation run: the industry's published evaluation set, sent through the "
                    "platform to the deployment and scored by its rule ("<a href="/evaluations">"Evaluations"</a>"). It stops counting "
                    "when the deployment's revision or endpoint changes or its set gets a new version, until the next run. "
                    "Scores publishers report themselves are shown as “self-reported” and are not an input."
                </dd>
                <dt>"Freshness"</dt>
                <dd>{format!("Halves every {FRESHNESS_HALF_LIFE_DAYS} days after first publication: 0.5^(age in days / {FRESHNESS_HALF_LIFE_DAYS}). Computed at the current minute.")}</dd>
            </dl>
            <h2>"What is not an input"</h2>
            <p>
                "Who publishes a listing is not an input. The function's input has no field from which the "
                "publisher, or whether it is the platform itself, could be read, so first-party listings cannot be "
                "favoured. They are always shown, and always carry the “Platform-owned” label."
            </p>
            <h2>"Ties"</h2>
            <p>
                "Listings with exactly the same score are ordered by a fixed hash of the listing and the query "
                "(FNV-1a, then mixed): the same on every page load and every server, and unrelated to when a "
                "listing was created."
            </p>
            <h2>"Other sort orders"</h2>
            <p>"Sorting by price (cheapest active plan first) or by newest uses the score above to order listings that are equal on that key."</p>
            <p>"Every result has a “Why this position” panel with its own breakdown."</p>
        </article>
    }
}
