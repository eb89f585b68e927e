//! Listing pages: a listing's page and compare (public), the publisher's
//! listings and editor (drafting), and the referees' review queue. Every
//! action is a plain form.

mod drafting;
mod public;
mod review;

pub use drafting::{ListingEditorPage, MyListingsPage};
pub use public::{ComparePage, ListingPage};
pub use review::ReviewPage;

use super::{DeploymentView, PlanView};
use crate::ui::format::format_money;
use leptos::prelude::*;

pub(super) fn plan_price(p: &PlanView) -> String {
    if p.monthly_fee_minor == 0 {
        "Free".into()
    } else {
        format!("{} a month", format_money(p.monthly_fee_minor, &p.currency))
    }
}

/// "82 / 100, verified 3 Dec 2026" (or stale), and the run it came from.
pub(super) fn verified_text(d: &DeploymentView) -> String {
    match (d.verified_score, d.verified_at) {
        (Some(s), Some(at)) if d.verified_stale => format!(
            "{s} / 100, stale since the deployment or its set changed (run {})",
            crate::ui::format::date(at)
        ),
        (Some(s), Some(at)) => format!("{s} / 100 (run {})", crate::ui::format::date(at)),
        _ => "Not evaluated yet".into(),
    }
}

/// The publisher's own figure, always labelled as such.
pub(super) fn self_reported_text(d: &DeploymentView) -> String {
    d.eval_score
        .map(|e| format!("{e} / 100, self-reported"))
        .unwrap_or_else(|| "None reported".into())
}

pub(super) fn deployments_table(deps: Vec<DeploymentView>) -> impl IntoView {
    view! {
        <table class="grid deployments">
            <caption>"Deployments"</caption>
            <thead><tr>
                <th scope="col">"Base model"</th><th scope="col">"Revision"</th>
                <th scope="col">"Status"</th><th scope="col">"Verified evaluation"</th>
                <th scope="col">"Self-reported (not a ranking input)"</th><th scope="col">"Default"</th>
            </tr></thead>
            <tbody>
                {deps.into_iter().map(|d| {
                    let verified = verified_text(&d);
                    let reported = self_reported_text(&d);
                    view! {
                    <tr>
                        <th scope="row">
                            {d.base_model}
                            {d.base_model_deprecated.then(|| view! { <span class="badge">"Deprecated"</span> })}
                        </th>
                        <td>{d.revision}</td>
                        <td>{d.status}</td>
                        <td>
                            {match d.verified_run_id {
                                Some(run) => view! { <a href=format!("/evaluations/runs/{run}")>{verified}</a> }.into_any(),
                                None => verified.into_any(),
                            }}
                        </td>
                        <td>
                            {reported}
                            {d.eval_evidence_url.map(|u| view! { " " <a href=u rel="nofollow noopener noreferrer">"evidence"</a> })}
                        </td>
                        <td>{if d.is_default { "Default" } else { "" }}</td>
                    </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

pub(super) fn plans_table(plans: Vec<PlanView>) -> impl IntoView {
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
