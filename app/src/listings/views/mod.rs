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

pub(super) fn deployments_table(deps: Vec<DeploymentView>) -> impl IntoView {
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
