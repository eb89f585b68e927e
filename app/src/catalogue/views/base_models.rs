//! The base-model catalogue: referees add, deprecate and reactivate models.

use super::super::api::{base_models, AddBaseModel, DeprecateBaseModel, ReactivateBaseModel};
use crate::ui::fields::{page_action, Field, FormAlert};
use crate::ui::status::loaded;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn BaseModelsPage() -> impl IntoView {
    let add = page_action::<AddBaseModel>();
    let deprecate = page_action::<DeprecateBaseModel>();
    let reactivate = page_action::<ReactivateBaseModel>();
    let data = Resource::new(
        move || {
            (
                add.version().get(),
                deprecate.version().get(),
                reactivate.version().get(),
            )
        },
        |_| base_models(),
    );
    let add_error = Signal::derive(move || add.value().get().and_then(Result::err));
    let other_error = Signal::derive(move || {
        [deprecate.value().get(), reactivate.value().get()]
            .into_iter()
            .flatten()
            .find_map(Result::err)
    });
    view! {
        <Title text="Base models · Fairground"/>
        <section class="panel">
            <h1>"Base models"</h1>
            <p class="muted">"The foundation models industry listings can be deployed on."</p>
            <FormAlert error=other_error fields=&[]/>
            {loaded(data, move |d| {
                {
                    let manage = d.can_manage;
                    view! {
                        <table class="grid">
                            <caption class="visually-hidden">"Base models"</caption>
                            <thead><tr>
                                <th scope="col">"Model"</th><th scope="col">"Provider"</th>
                                <th scope="col">"Modality"</th><th scope="col">"Context"</th>
                                <th scope="col">"Licence"</th><th scope="col">"Status"</th>
                                <th scope="col">"Published listings"</th>
                                {manage.then(|| view! { <th scope="col">"Action"</th> })}
                            </tr></thead>
                            <tbody>
                                {d.models.into_iter().map(|m| {
                                    let label = format!("{} {}", m.name, m.version);
                                    view! {
                                        <tr>
                                            <th scope="row">{label.clone()}</th>
                                            <td>{m.provider}</td>
                                            <td>{m.modality}</td>
                                            <td>{format!("{} tokens", m.context_length)}</td>
                                            <td>{m.licence}</td>
                                            <td>{if m.deprecated { "Deprecated" } else { "Active" }}</td>
                                            <td>{m.listings}</td>
                                            {manage.then(|| if m.deprecated {
                                                view! {
                                                    <td><ActionForm action=reactivate attr:class="inline-form">
                                                        <input type="hidden" name="id" value=m.id/>
                                                        <button type="submit" class="small">{format!("Reactivate {label}")}</button>
                                                    </ActionForm></td>
                                                }.into_any()
                                            } else {
                                                view! {
                                                    <td><ActionForm action=deprecate attr:class="inline-form">
                                                        <input type="hidden" name="id" value=m.id/>
                                                        <button type="submit" class="small">{format!("Deprecate {label}")}</button>
                                                    </ActionForm></td>
                                                }.into_any()
                                            })}
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        {manage.then(|| view! {
                            <h2>"Add a base model"</h2>
                            <FormAlert error=add_error fields=&["provider", "name", "version", "modality", "context_length", "licence"]/>
                            <ActionForm action=add>
                                <Field label="Provider" name="provider" input_type="text" autocomplete="off" error=add_error/>
                                <Field label="Model name" name="name" input_type="text" autocomplete="off" error=add_error/>
                                <Field label="Version or revision" name="version" input_type="text" autocomplete="off" error=add_error/>
                                <Field label="Modality" name="modality" input_type="text" autocomplete="off" error=add_error hint="e.g. text, text+image"/>
                                <Field label="Context length (tokens)" name="context_length" input_type="number" autocomplete="off" error=add_error/>
                                <Field label="Licence" name="licence" input_type="text" autocomplete="off" error=add_error/>
                                <button type="submit">"Add base model"</button>
                            </ActionForm>
                        })}
                    }.into_any()
                }
            })}
        </section>
    }
}
