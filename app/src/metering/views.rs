//! The API keys page and the API reference.

use super::api::{api_keys, CreateApiKey, RevokeApiKey};
use super::{KeyPurpose, Reason, DIMENSIONS, MAX_BATCH};
use crate::ui::confirm::Confirm;
use crate::ui::fields::{page_action, Field, FormAlert};
use crate::ui::format::date;
use crate::ui::status::loaded_or;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let create = page_action::<CreateApiKey>();
    let revoke = page_action::<RevokeApiKey>();
    let data = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| api_keys(),
    );
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let revoke_error = Signal::derive(move || revoke.value().get().and_then(Result::err));
    view! {
        <Title text="API keys · Fairground"/>
        <section class="panel">
            <h1>"API keys"</h1>
            {loaded_or(data, "Loading…", move |d| {
                view! {
                    {match d.purpose {
                        KeyPurpose::Metering => view! {
                            <p class="muted">
                                "Keys let your systems report usage through the "
                                <a href="/api">"metering API"</a>
                                ". A key acts for this organisation only."
                            </p>
                        }.into_any(),
                        KeyPurpose::Gateway => view! {
                            <p class="muted">
                                "Gateway keys let your systems call the models this organisation subscribes to, "
                                "through Fairground. A key works for this organisation's active subscriptions only."
                            </p>
                            <p class="muted">"The gateway API is not open yet: keys made now will work once it is."</p>
                        }.into_any(),
                    }}
                    // With JavaScript the key comes in the action's answer;
                    // without, the page gets it once from the server.
                    {create.value().get_untracked().and_then(Result::ok).or(d.new_key).map(|k| view! {
                        <div class="notice" role="status">
                            <p>{format!("Key “{}” created. Copy it now: it is shown only this once.", k.name)}</p>
                            <p><code class="new-key">{k.key}</code></p>
                        </div>
                    })}
                    {if d.keys.is_empty() {
                        view! { <p class="muted">"No keys yet."</p> }.into_any()
                    } else {
                        let can = d.can_manage;
                        view! {
                            <table class="grid" aria-label="API keys">
                                <thead><tr>
                                    <th scope="col">"Name"</th><th scope="col">"Starts with"</th>
                                    <th scope="col">"Created"</th><th scope="col">"Last used"</th>
                                    <th scope="col">"Status"</th>
                                </tr></thead>
                                <tbody>
                                    {d.keys.into_iter().map(|k| view! {
                                        <tr>
                                            <th scope="row">{k.name.clone()}</th>
                                            <td><code>{format!("{}…", k.prefix)}</code></td>
                                            <td>{format!("{} by {}", date(k.created_at), k.created_by)}</td>
                                            <td>{k.last_used_at.map(date).unwrap_or_else(|| "Never".into())}</td>
                                            <td>{match k.revoked_at {
                                                Some(at) => view! { {format!("Revoked {}", date(at))} }.into_any(),
                                                None if can => view! {
                                                    "Live "
                                                    <ActionForm action=revoke attr:class="inline-form">
                                                        <input type="hidden" name="id" value=k.id.to_string()/>
                                                        <Confirm label="Revoke" name=format!("Revoke {}", k.name)
                                                            consequence="Every call with this key is refused from now on. A revoked key cannot be restored."
                                                            confirm=format!("Yes, revoke {}", k.name)/>
                                                    </ActionForm>
                                                }.into_any(),
                                                None => view! { "Live" }.into_any(),
                                            }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                    <FormAlert error=revoke_error fields=&[]/>
                    {d.can_manage.then(|| view! {
                        <h2>"Create a key"</h2>
                        <FormAlert error fields=&["name"]/>
                        <ActionForm action=create>
                            <Field label="Key name" name="name" input_type="text" autocomplete="off" error hint="e.g. the system that will use it"/>
                            <button type="submit">"Create key"</button>
                        </ActionForm>
                    })}
                }.into_any()
            })}
        </section>
    }
}

/// The metering API's reference, for people; the machine-readable
/// description is `/api/v1/openapi.json`.
#[component]
pub fn ApiReferencePage() -> impl IntoView {
    view! {
        <Title text="Metering API · Fairground"/>
        <article class="panel prose">
            <h1>"Metering API"</h1>
            <p>"The OpenAPI 3 description of this API: " <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a>"."</p>
            <h2>"POST /api/v1/usage"</h2>
            <p>
                "Reports what subscribers to your listings used. Authenticate with an API key of your organisation "
                "(" <a href="/org/api-keys">"API keys"</a> ") as " <code>"Authorization: Bearer fgk_…"</code>
                ", and send " <code>"Content-Type: application/json"</code> "."
            </p>
            <pre><code>{r#"{"records": [
  {"idempotency_key": "node-7:2026-11-28T10:00:00Z:42",
   "subscription_id": 42,
   "dimension": "calls",
   "quantity": 120,
   "occurred_at": "2026-11-28T10:00:00Z"}
]}"#}</code></pre>
            <ul>
                <li>{format!("A batch holds 1 to {MAX_BATCH} records; the body at most 1 MiB.")}</li>
                <li>{format!("Dimensions: {}.", DIMENSIONS.join(", "))}</li>
                <li>"Records are stored before the answer is sent: once answered “accepted”, a record is kept."</li>
                <li>"Sending a record again with the same idempotency key and content is safe: it is reported as a duplicate and counted once, in this batch or any later one."</li>
            </ul>
            <h3>"The answer"</h3>
            <p>"200 with every record's outcome, in the order sent: " <code>"accepted"</code>", " <code>"duplicate"</code>" or " <code>"rejected"</code>" with a reason:"</p>
            <table class="grid">
                <thead><tr><th scope="col">"Reason"</th><th scope="col">"Meaning"</th></tr></thead>
                <tbody>
                    {Reason::ALL.into_iter().map(|r| view! {
                        <tr><th scope="row"><code>{r.code()}</code></th><td>{r.message()}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Requests refused as a whole"</h3>
            <p>"Nothing is stored, and the answer is " <code>"{\"error\": …, \"message\": …}"</code>":"</p>
            <ul>
                <li>"400 — the body is not JSON, or a string in it holds a control character such as NUL (nothing is stored);"</li>
                <li>"401 — no live API key;"</li>
                <li>"408 — the body did not arrive whole in time (30 s by default);"</li>
                <li>"413 — the body is larger than 1 MiB;"</li>
                <li>"415 — the body is not application/json;"</li>
                <li>"422 — a field is missing or of the wrong type (the message names it, e.g. records[3].quantity), or the batch has no record or more than 1,000;"</li>
                <li>"429 — the key sent more requests this second than it may (the message says how many); send it again after the seconds in Retry-After, or send fewer, larger batches."</li>
            </ul>
        </article>
    }
}
