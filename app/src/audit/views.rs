//! The audit page: the referees' check of the whole chain.

use super::api::audit_check;
use crate::ui::status::loaded_or;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AuditPage() -> impl IntoView {
    let check = Resource::new(|| (), |_| audit_check());
    view! {
        <Title text="Audit log check · Fairground"/>
        <section class="panel">
            <h1>"Audit log check"</h1>
            {loaded_or(check, "Checking the whole chain…", move |c| {
                match c.broken {
                    None => view! {
                        <p class="notice" role="status">
                            {format!("OK: all {} entries are intact and linked.", c.entries)}
                        </p>
                        <p>"Head: " <code>{c.head_hash}</code></p>
                    }.into_any(),
                    Some((seq, reason)) => view! {
                        <p class="form-alert" role="alert">
                            {format!("BROKEN at entry {seq}: {reason}. The {} entries before it are sound.", c.entries)}
                        </p>
                    }.into_any(),
                }
            })}
            <p class="muted">"From a shell: " <code>"fairground audit verify"</code> " and " <code>"fairground audit export --out audit.jsonl"</code></p>
        </section>
    }
}
