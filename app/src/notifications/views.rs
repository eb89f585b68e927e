//! The notifications page.

use super::api::notifications;
use super::NotificationView;
use crate::ui::format::minute;
use crate::ui::status::loaded;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| notifications());
    view! {
        <Title text="Notifications · Fairground"/>
        <section class="panel">
            <h1>"Notifications"</h1>
            {loaded(list, |items: Vec<NotificationView>| {
                if items.is_empty() {
                    view! { <p>"No notifications."</p> }.into_any()
                } else {
                    view! {
                        <ul class="notifications" aria-label="Notifications">
                            {items.into_iter().map(|n| view! {
                                <li>
                                    <p>{n.message}</p>
                                    <p class="muted">
                                        <time datetime=crate::calendar::rfc3339(n.created_at)>{minute(n.created_at)}</time>
                                        {(!n.link.is_empty()).then(|| view! { " · " <a href=n.link.clone()>{link_text(&n.kind)}</a> })}
                                    </p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            })}
        </section>
    }
}

/// What a notification's link leads to, by its kind.
fn link_text(kind: &str) -> &'static str {
    match kind {
        "conflict_case" => "Open the case",
        "base_model.deprecated" => "Review your listings",
        _ => "Open",
    }
}
