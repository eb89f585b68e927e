//! The referees' review queue: approve, reject, suspend, reinstate, and
//! feature or stop featuring.

use super::super::api::{
    review_queue, ApproveListing, ReinstateListing, RejectListing, SuspendListing,
};
use super::super::ReviewRow;
use crate::error::AppError;
use crate::policy::api::{FeatureListing, UnfeatureListing};
use crate::ui::badge::{AffiliatedBadge, PlatformBadge};
use crate::ui::fields::page_action;
use crate::ui::format::date;
use crate::ui::status::loaded;
use leptos::prelude::*;
use leptos_meta::Title;

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
            {loaded(queue, move |q| {
                view! {
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
                }.into_any()
            })}
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
                let href = r.href.clone();
                view! {
                    <li>
                        <a href=href>{r.name.clone()}</a>
                        {r.platform_owned.then(|| view! { " " <PlatformBadge/> })}{r.affiliated.then(|| view! { " " <AffiliatedBadge/> })}
                        <span class="muted">{format!(" by {}", r.publisher)}
                            {r.submitted_at.map(|t| format!(", submitted {}", date(t)))}</span>
                        {if r.recuse {
                            view! {
                                <p class="muted recuse">
                                    "You are a member of its publisher: leave its decisions to another referee."
                                </p>
                            }.into_any()
                        } else {
                            actions(r.clone())
                        }}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
