//! Listing pages: home, a listing's page, compare, the publisher's listings
//! and editor, and the referees' review queue. Every action is a plain form.

use super::api::{
    compare_listings, listing_editor, listing_page, my_listings, review_queue, AddDeployment,
    AddPlan, ApproveListing, CreateListing, DeactivatePlan, ReinstateListing, RejectListing,
    RemoveDeployment, RetireListing, SetDefaultDeployment, SubmitListing, SuspendListing,
    UpdateListing,
};
use super::{
    format_money, Choice, DeploymentView, EditorData, ListingDetail, ListingStatus, PlanView,
    ReviewRow, CURRENCIES,
};
use crate::auth::views::{page_action, Field, FormAlert};
use crate::catalogue::api::home_listings;
use crate::catalogue::views::ResultList;
use crate::components::failure;
use crate::error::AppError;
use crate::policy::api::{featured_listings, FeatureListing, UnfeatureListing};
use crate::ui::text::unescaped_slot;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The label every first-party listing carries, wherever it appears.
#[component]
pub fn PlatformBadge() -> impl IntoView {
    view! {
        <span class="badge badge-platform" title="Published by the marketplace operator itself">
            "Platform-owned"
        </span>
    }
}

pub use crate::calendar::date;

/// The featured strip: apart from the ranked results, each card labelled.
#[component]
fn FeaturedStrip() -> impl IntoView {
    let featured = Resource::new(|| (), |_| featured_listings());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match featured.await {
                    Ok(cards) if !cards.is_empty() => view! {
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
                                            {f.card.platform_owned.then(|| view! { " " <PlatformBadge/> })}
                                            <p class="tagline">{f.card.tagline}</p>
                                            <p class="muted">{f.card.publisher}</p>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                    Ok(_) => ().into_any(),
                    Err(err) => failure(err),
                }
            })}
        </Suspense>
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
        <Suspense fallback=|| view! { <p>"Loading listings…"</p> }>
            {move || Suspend::new(async move {
                match listings.await {
                    Ok(r) => {
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
                    Err(err) => failure(err),
                }
            })}
        </Suspense>
    }
}

fn plan_price(p: &PlanView) -> String {
    if p.monthly_fee_minor == 0 {
        "Free".into()
    } else {
        format!("{} a month", format_money(p.monthly_fee_minor, &p.currency))
    }
}

fn deployments_table(deps: Vec<DeploymentView>) -> impl IntoView {
    view! {
        <table class="grid deployments">
            <caption>"Deployments"</caption>
            <thead><tr>
                <th scope="col">"Base model"</th><th scope="col">"Revision"</th>
                <th scope="col">"Status"</th><th scope="col">"Evaluation"</th><th scope="col">"Default"</th>
            </tr></thead>
            <tbody>
                {deps.into_iter().map(|d| view! {
                    <tr>
                        <th scope="row">
                            {d.base_model}
                            {d.base_model_deprecated.then(|| view! { <span class="badge">"Deprecated"</span> })}
                        </th>
                        <td>{d.revision}</td>
                        <td>{d.status}</td>
                        <td>{d.eval_score.map(|e| format!("{e} / 100")).unwrap_or_else(|| "Not reported".into())}</td>
                        <td>{if d.is_default { "Default" } else { "" }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn plans_table(plans: Vec<PlanView>) -> impl IntoView {
    view! {
        <table class="grid plans">
            <caption>"Plans"</caption>
            <thead><tr>
                <th scope="col">"Plan"</th><th scope="col">"Monthly fee"</th>
                <th scope="col">"Included calls"</th><th scope="col">"Per 1,000 more calls"</th>
            </tr></thead>
            <tbody>
                {plans.into_iter().filter(|p| p.active).map(|p| {
                    let price = plan_price(&p);
                    view! {
                        <tr>
                            <th scope="row">{p.name}</th>
                            <td>{price}</td>
                            <td>{p.included_calls}</td>
                            <td>{format_money(p.overage_per_1000_minor, &p.currency)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The model card: what a listing is, where it runs, what it costs.
fn model_card(d: ListingDetail) -> impl IntoView {
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
            {d.platform_owned.then(|| view! { <PlatformBadge/> })}
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
            <section class="description" aria-label="Description" inner_html=d.description_html.clone()></section>
            {deployments_table(d.deployments.clone())}
            {plans_table(d.plans.clone())}
            {(d.status == ListingStatus::Published).then(|| view! {
                <crate::subscriptions::views::SubscribeBox listing_id=d.id/>
            })}
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

#[component]
pub fn ListingPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let detail = Resource::new(slug, listing_page);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! {
                        <Title text=format!("{} · Fairground", d.name)/>
                        {model_card(d)}
                    }.into_any(),
                    Err(err) => failure(err),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn ComparePage() -> impl IntoView {
    let query = use_query_map();
    let slugs = move || query.with(|q| q.get_all("l").unwrap_or_default().join(","));
    let columns = Resource::new(slugs, compare_listings);
    view! {
        <Title text="Compare listings · Fairground"/>
        <h1>"Compare listings"</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match columns.await {
                    Ok(cols) if cols.is_empty() => view! {
                        <p>"Tick up to four listings in the " <a href="/catalogue">"catalogue"</a> " and choose “Compare selected”."</p>
                    }.into_any(),
                    Ok(cols) => compare_table(cols).into_any(),
                    Err(err) => failure(err),
                }
            })}
        </Suspense>
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
        ("Best evaluation", |d| {
            d.deployments
                .iter()
                .filter_map(|x| x.eval_score)
                .max()
                .map(|e| format!("{e} / 100"))
                .unwrap_or_else(|| "Not reported".into())
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
                        let href = format!("/listings/{}", d.slug);
                        view! {
                            <th scope="col">
                                <a href=href>{d.name}</a>
                                {d.platform_owned.then(|| view! { " " <PlatformBadge/> })}
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

pub(crate) fn options(choices: Vec<Choice>, current: String) -> impl IntoView {
    choices
        .into_iter()
        .map(|c| {
            let selected = c.value == current;
            view! { <option value=c.value selected=selected>{c.label}</option> }
        })
        .collect_view()
}

use crate::ui::fields::{field_error, invalid};

#[component]
pub fn MyListingsPage() -> impl IntoView {
    let create = page_action::<CreateListing>();
    let data = Resource::new(move || create.version().get(), |_| my_listings());
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <Title text="My listings · Fairground"/>
        <section class="panel">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! {
                            <h1>{format!("Listings of {}", d.org_name)}</h1>
                            <p>
                                <a href="/org/data-access">"Who accessed our data"</a>
                                " · " <a href="/cases">"Conflict cases and complaints"</a>
                            </p>
                            {if d.rows.is_empty() {
                                view! { <p>"No listings yet. Create a draft below."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="grid">
                                        <caption class="visually-hidden">"Your listings"</caption>
                                        <thead><tr><th scope="col">"Listing"</th><th scope="col">"Status"</th><th scope="col">"Referee's reason"</th><th scope="col">"Updated"</th></tr></thead>
                                        <tbody>
                                            {d.rows.into_iter().map(|r| {
                                                let href = format!("/my/listings/{}", r.id);
                                                view! {
                                                    <tr>
                                                        <th scope="row"><a href=href>{r.name}</a></th>
                                                        <td>{r.status.label()}</td>
                                                        <td>{r.review_reason.unwrap_or_default()}</td>
                                                        <td>{date(r.updated_at)}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            <h2>"Create a draft"</h2>
                            <FormAlert error fields=&["name", "slug", "tagline", "industry", "base_model_id"]/>
                            <ActionForm action=create>
                                <Field label="Name" name="name" input_type="text" autocomplete="off" error/>
                                <Field label="Slug (web address)" name="slug" input_type="text" autocomplete="off" error optional=true
                                    hint="Leave empty to derive it from the name."/>
                                <Field label="Tagline" name="tagline" input_type="text" autocomplete="off" error/>
                                <div class="field">
                                    <label for="industry">"Industry"</label>
                                    <select id="industry" name="industry" required aria-invalid=invalid(error, "industry") aria-describedby="industry-error">
                                        <option value="">"Choose…"</option>
                                        {options(d.industries, String::new())}
                                    </select>
                                    {field_error(error, "industry")}
                                </div>
                                <div class="field">
                                    <label for="base_model_id">"Base model"</label>
                                    <select id="base_model_id" name="base_model_id" required aria-invalid=invalid(error, "base_model_id") aria-describedby="base_model_id-error">
                                        <option value="">"Choose…"</option>
                                        {options(d.base_models, String::new())}
                                    </select>
                                    {field_error(error, "base_model_id")}
                                </div>
                                <button type="submit">"Create draft"</button>
                            </ActionForm>
                        }.into_any(),
                        Err(err) => failure(err),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn ListingEditorPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()))
            .unwrap_or(0)
    };
    let update = page_action::<UpdateListing>();
    let add_dep = page_action::<AddDeployment>();
    let set_default = page_action::<SetDefaultDeployment>();
    let remove_dep = page_action::<RemoveDeployment>();
    let add_plan = page_action::<AddPlan>();
    let deactivate = page_action::<DeactivatePlan>();
    let submit = page_action::<SubmitListing>();
    let retire = page_action::<RetireListing>();
    let data = Resource::new(
        move || {
            (
                id(),
                update.version().get(),
                add_dep.version().get(),
                set_default.version().get(),
                remove_dep.version().get(),
                add_plan.version().get(),
                deactivate.version().get(),
                submit.version().get(),
            )
        },
        |(id, ..)| listing_editor(id),
    );
    let update_error = Signal::derive(move || update.value().get().and_then(Result::err));
    let dep_error = Signal::derive(move || add_dep.value().get().and_then(Result::err));
    let plan_error = Signal::derive(move || add_plan.value().get().and_then(Result::err));
    let other_error = Signal::derive(move || {
        [
            set_default.value().get(),
            remove_dep.value().get(),
            deactivate.value().get(),
            submit.value().get(),
            retire.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
    });
    let actions = EditorActions {
        update,
        add_dep,
        set_default,
        remove_dep,
        add_plan,
        deactivate,
        submit,
        retire,
    };
    view! {
        <Title text="Edit listing · Fairground"/>
        <FormAlert error=other_error fields=&[]/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(e) => editor_view(e, actions, update_error, dep_error, plan_error).into_any(),
                    Err(err) => failure(err),
                }
            })}
        </Suspense>
    }
}

#[derive(Clone, Copy)]
struct EditorActions {
    update: ServerAction<UpdateListing>,
    add_dep: ServerAction<AddDeployment>,
    set_default: ServerAction<SetDefaultDeployment>,
    remove_dep: ServerAction<RemoveDeployment>,
    add_plan: ServerAction<AddPlan>,
    deactivate: ServerAction<DeactivatePlan>,
    submit: ServerAction<SubmitListing>,
    retire: ServerAction<RetireListing>,
}

fn editor_view(
    e: EditorData,
    a: EditorActions,
    update_error: Signal<Option<AppError>>,
    dep_error: Signal<Option<AppError>>,
    plan_error: Signal<Option<AppError>>,
) -> impl IntoView {
    let d = e.detail;
    let id = d.id;
    let status = d.status;
    let public_href = format!("/listings/{}", d.slug);
    let can_submit = matches!(status, ListingStatus::Draft | ListingStatus::Rejected);
    let retired = status == ListingStatus::Retired;
    let deps = d.deployments.clone();
    let plans = d.plans.clone();
    view! {
        <section class="panel">
            <h1>{format!("Edit “{}”", d.name)}</h1>
            {d.platform_owned.then(|| view! { <PlatformBadge/> })}
            <p role="status">
                {format!("Status: {}.", status.label())}
                {d.review_reason.clone().map(|r| format!(" Referee's reason: {r}"))}
                " " <a href=public_href>"View the listing page"</a>
            </p>
            {can_submit.then(|| view! {
                <ActionForm action=a.submit attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <button type="submit">"Submit for review"</button>
                </ActionForm>
            })}
            {(!retired).then(|| view! {
                <ActionForm action=a.retire attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="danger">"Retire listing"</button>
                </ActionForm>
            })}

            <h2>"Details"</h2>
            <FormAlert error=update_error fields=&["name", "slug", "tagline", "description", "industry", "tags", "data_residency", "certifications", "documentation_url"]/>
            <ActionForm action=a.update>
                <input type="hidden" name="id" value=id/>
                <Field label="Name" name="name" input_type="text" autocomplete="off" error=update_error value=d.name.clone()/>
                <Field label="Slug (web address)" name="slug" input_type="text" autocomplete="off" error=update_error value=d.slug.clone()/>
                <Field label="Tagline" name="tagline" input_type="text" autocomplete="off" error=update_error value=d.tagline.clone()/>
                <div class="field">
                    <label for="description">"Description (Markdown)"</label>
                    <textarea id="description" name="description" rows="10" aria-invalid=invalid(update_error, "description") aria-describedby="description-error">{unescaped_slot(e.description.clone())}</textarea>
                    {field_error(update_error, "description")}
                </div>
                <div class="field">
                    <label for="industry">"Industry"</label>
                    <select id="industry" name="industry" aria-invalid=invalid(update_error, "industry") aria-describedby="industry-error">{options(e.industries.clone(), e.industry_slug.clone())}</select>
                    {field_error(update_error, "industry")}
                </div>
                <Field label="Capability tags (comma-separated)" name="tags" input_type="text" autocomplete="off" error=update_error optional=true value=d.tags.join(", ")/>
                <Field label="Data residency" name="data_residency" input_type="text" autocomplete="off" error=update_error optional=true value=d.data_residency.clone() hint="e.g. EU (Frankfurt)"/>
                <Field label="Certifications (comma-separated)" name="certifications" input_type="text" autocomplete="off" error=update_error optional=true value=d.certifications.join(", ")/>
                <Field label="Documentation URL" name="documentation_url" input_type="url" autocomplete="off" error=update_error optional=true value=d.documentation_url.clone()/>
                <button type="submit">"Save details"</button>
            </ActionForm>

            <h2>"Deployments"</h2>
            <p class="muted">"The base models this listing runs on. One is the default; clients may choose another."</p>
            <ul class="deployment-list" aria-label="Deployments">
                {deps.into_iter().map(|dep| {
                    let label = format!("{} {}", dep.base_model, dep.revision);
                    let make_default = format!("Make {label} the default");
                    let remove = format!("Remove {label}");
                    view! {
                        <li>
                            <strong>{dep.base_model.clone()}</strong>
                            {format!(" · revision {} · {} · evaluation {}", dep.revision, dep.status,
                                dep.eval_score.map(|s| s.to_string()).unwrap_or_else(|| "not reported".into()))}
                            {dep.base_model_deprecated.then(|| view! { " " <span class="badge">"Base model deprecated"</span> })}
                            {if dep.is_default {
                                view! { " " <span class="badge">"Default"</span> }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=a.set_default attr:class="inline-form">
                                        <input type="hidden" name="listing_id" value=id/>
                                        <input type="hidden" name="deployment_id" value=dep.id/>
                                        <button type="submit" class="small">{make_default}</button>
                                    </ActionForm>
                                    <ActionForm action=a.remove_dep attr:class="inline-form">
                                        <input type="hidden" name="listing_id" value=id/>
                                        <input type="hidden" name="deployment_id" value=dep.id/>
                                        <button type="submit" class="small">{remove}</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <h3>"Add a deployment"</h3>
            <FormAlert error=dep_error fields=&["base_model_id", "revision", "status", "eval_score"]/>
            <ActionForm action=a.add_dep>
                <input type="hidden" name="listing_id" value=id/>
                <div class="field">
                    <label for="dep-base-model">"Base model"</label>
                    <select id="dep-base-model" name="base_model_id" required aria-invalid=invalid(dep_error, "base_model_id") aria-describedby="base_model_id-error">
                        <option value="">"Choose…"</option>
                        {options(e.base_models.clone(), String::new())}
                    </select>
                    {field_error(dep_error, "base_model_id")}
                </div>
                <Field label="Adapter or revision label" name="revision" input_type="text" autocomplete="off" error=dep_error/>
                <div class="field">
                    <label for="dep-status">"Deployment status"</label>
                    <select id="dep-status" name="status" aria-invalid=invalid(dep_error, "status") aria-describedby="status-error">
                        <option value="active" selected>"Active"</option>
                        <option value="preview">"Preview"</option>
                        <option value="paused">"Paused"</option>
                    </select>
                    {field_error(dep_error, "status")}
                </div>
                <Field label="Evaluation score (0–100)" name="eval_score" input_type="number" autocomplete="off" error=dep_error optional=true/>
                <label class="check"><input type="checkbox" name="make_default" value="on"/>" Make this the default deployment"</label>
                <button type="submit">"Add deployment"</button>
            </ActionForm>

            <h2>"Plans"</h2>
            <ul class="plan-list" aria-label="Plans">
                {plans.into_iter().map(|p| {
                    let text = format!("{} · {} · {} calls included · {} per 1,000 more",
                        p.name, plan_price(&p), p.included_calls, format_money(p.overage_per_1000_minor, &p.currency));
                    let withdraw = format!("Withdraw plan {}", p.name);
                    view! {
                        <li>
                            {text}
                            {if p.active {
                                view! {
                                    <ActionForm action=a.deactivate attr:class="inline-form">
                                        <input type="hidden" name="listing_id" value=id/>
                                        <input type="hidden" name="plan_id" value=p.id/>
                                        <button type="submit" class="small">{withdraw}</button>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                view! { " " <span class="badge">"Withdrawn"</span> }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <h3>"Add a plan"</h3>
            <FormAlert error=plan_error fields=&["plan_name", "monthly_fee", "currency", "included_calls", "overage_per_1000"]/>
            <ActionForm action=a.add_plan>
                <input type="hidden" name="listing_id" value=id/>
                <Field label="Plan name" name="plan_name" input_type="text" autocomplete="off" error=plan_error/>
                <Field label="Monthly fee" name="monthly_fee" input_type="text" autocomplete="off" error=plan_error hint="e.g. 490 or 490.00; 0 for free"/>
                <div class="field">
                    <label for="currency">"Currency"</label>
                    <select id="currency" name="currency" aria-invalid=invalid(plan_error, "currency") aria-describedby="currency-error">
                        {CURRENCIES.into_iter().map(|c| view! { <option value=c>{c}</option> }).collect_view()}
                    </select>
                    {field_error(plan_error, "currency")}
                </div>
                <Field label="Included calls a month" name="included_calls" input_type="number" autocomplete="off" error=plan_error/>
                <Field label="Price per 1,000 calls over that" name="overage_per_1000" input_type="text" autocomplete="off" error=plan_error/>
                <button type="submit">"Add plan"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn ReviewPage() -> impl IntoView {
    let approve = page_action::<ApproveListing>();
    let reject = page_action::<RejectListing>();
    let suspend = page_action::<SuspendListing>();
    let reinstate = page_action::<ReinstateListing>();
    let feature = page_action::<FeatureListing>();
    let unfeature = page_action::<UnfeatureListing>();
    let queue = Resource::new(
        move || {
            (
                approve.version().get(),
                reject.version().get(),
                suspend.version().get(),
                reinstate.version().get(),
                feature.version().get() + unfeature.version().get(),
            )
        },
        |_| review_queue(),
    );
    // Every action's error, featuring included.
    let error = Signal::derive(move || {
        [
            approve.value().get(),
            reject.value().get(),
            suspend.value().get(),
            reinstate.value().get(),
            feature.value().get(),
            unfeature.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
    });
    let message = move || {
        error.get().map(|e| match &e {
            AppError::Validation { .. } => e.messages_for("reason").join(" "),
            other => other.to_string(),
        })
    };
    view! {
        <Title text="Review queue · Fairground"/>
        <section class="panel">
            <h1>"Review queue"</h1>
            <Show when=move || message().is_some()>
                <p class="form-alert" role="alert">{message}</p>
            </Show>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match queue.await {
                        Ok(q) => view! {
                            <h2>"Submitted"</h2>
                            {review_list(q.submitted, move |r| {
                                let reason_id = format!("reject-reason-{}", r.id);
                                let approve_label = format!("Approve {}", r.name);
                                view! {
                                    <ActionForm action=approve attr:class="inline-form">
                                        <input type="hidden" name="id" value=r.id/>
                                        <button type="submit" class="small">{approve_label}</button>
                                    </ActionForm>
                                    <ActionForm action=reject attr:class="inline-form">
                                        <input type="hidden" name="id" value=r.id/>
                                        <label for=reason_id.clone()>"Reason"</label>
                                        <input id=reason_id name="reason" type="text" required/>
                                        <button type="submit" class="small">{format!("Reject {}", r.name)}</button>
                                    </ActionForm>
                                }.into_any()
                            })}
                            <h2>"Suspended"</h2>
                            {review_list(q.suspended, move |r| view! {
                                <ActionForm action=reinstate attr:class="inline-form">
                                    <input type="hidden" name="id" value=r.id/>
                                    <button type="submit" class="small">{format!("Reinstate {}", r.name)}</button>
                                </ActionForm>
                            }.into_any())}
                            <h2>"Published"</h2>
                            {review_list(q.published, move |r| {
                                let reason_id = format!("suspend-reason-{}", r.id);
                                let suspend_label = format!("Suspend {}", r.name);
                                let feature_label = format!("Feature {}", r.name);
                                let unfeature_label = format!("Stop featuring {}", r.name);
                                view! {
                                    <ActionForm action=suspend attr:class="inline-form">
                                        <input type="hidden" name="id" value=r.id/>
                                        <label for=reason_id.clone()>"Reason"</label>
                                        <input id=reason_id name="reason" type="text" required/>
                                        <button type="submit" class="small">{suspend_label}</button>
                                    </ActionForm>
                                    <ActionForm action=feature attr:class="inline-form">
                                        <input type="hidden" name="id" value=r.id/>
                                        <button type="submit" class="small">{feature_label}</button>
                                    </ActionForm>
                                    <ActionForm action=unfeature attr:class="inline-form">
                                        <input type="hidden" name="id" value=r.id/>
                                        <button type="submit" class="small">{unfeature_label}</button>
                                    </ActionForm>
                                }.into_any()
                            })}
                        }.into_any(),
                        Err(err) => failure(err),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn review_list(rows: Vec<ReviewRow>, actions: impl Fn(ReviewRow) -> AnyView) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"None."</p> }.into_any();
    }
    view! {
        <ul class="review-list">
            {rows.into_iter().map(|r| {
                let href = format!("/listings/{}", r.slug);
                view! {
                    <li>
                        <a href=href>{r.name.clone()}</a>
                        {r.platform_owned.then(|| view! { " " <PlatformBadge/> })}
                        <span class="muted">{format!(" by {}", r.publisher)}
                            {r.submitted_at.map(|t| format!(", submitted {}", date(t)))}</span>
                        {actions(r.clone())}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
