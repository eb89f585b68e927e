//! Sign-up, sign-in and account pages, and the header's account menu. Every
//! form is a plain HTML form posting to its server function: it works with
//! JavaScript off (errors come back in the redirect URL) and is enhanced
//! when it is on.

use super::api::{
    current_user, my_sessions, ChangeDisplayName, ChangePassword, EndSession, ResendVerification,
    SignIn, SignOut, SignUp, VerifyEmail,
};
use super::SignedInUser;
use crate::error::AppError;
use crate::ui::fields::{page_action, Field, FormAlert};
use crate::ui::format::minute;
use crate::ui::status::set_status;
use leptos::prelude::*;
use leptos_meta::Title;

/// The current user, shared by the header and the pages. Pages are server
/// HTML: after a form is sent the page comes back from the server (whole,
/// or its content put in place by the `FormsInPlace` island), header
/// included, so nothing here follows actions in the browser.
#[derive(Clone, Copy)]
pub struct Auth {
    pub user: Resource<Result<Option<SignedInUser>, AppError>>,
}

/// Provides the current user to the tree.
pub fn provide_auth() -> Auth {
    let user = Resource::new(|| (), |_| current_user());
    let auth = Auth { user };
    provide_context(auth);
    auth
}

fn auth() -> Auth {
    expect_context::<Auth>()
}

/// Sign in / sign up links, or the signed-in name and a sign-out button.
#[component]
pub fn AccountMenu() -> impl IntoView {
    let auth = auth();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let user = auth.user.await.ok().flatten();
                view! { <MenuItems user/> }
            })}
        </Transition>
    }
}

/// The header menu's items that depend on who is looking. Every other part
/// of the header, and of a catalogue page, is the same for everyone: the
/// server keeps such a page once and puts these items in per viewer
/// ([`menu_items_html`]). The sign-out button is a plain form posting to
/// its server function (no page runs actions in the browser).
#[component]
pub fn MenuItems(user: Option<SignedInUser>) -> impl IntoView {
    let sign_out = <SignOut as leptos::server_fn::ServerFn>::url();
    match user {
        Some(user) => view! {
            {user.edits_listings.then(|| view! { <li><a href="/my/listings">"My listings"</a></li> })}
            {user.edits_listings.then(|| view! { <li><a href="/revenue">"Revenue"</a></li> })}
            {user.client.then(|| view! { <li><a href="/subscriptions">"Subscriptions"</a></li> })}
            {user.referee.then(|| view! { <li><a href="/review">"Review"</a></li> })}
            {user.referee.then(|| view! { <li><a href="/cases">"Cases"</a></li> })}
            {user.referee.then(|| view! { <li><a href="/marketplace-totals">"Totals"</a></li> })}
            <li><a href="/notifications">"Notifications"</a></li>
            <li><a href="/orgs">"Organisations"</a></li>
            <li><a href="/account">{user.display_name}</a></li>
            <li>
                <form method="post" action=sign_out class="inline-form">
                    <button type="submit" class="link-button">"Sign out"</button>
                </form>
            </li>
        }
        .into_any(),
        None => view! {
            <li><a href="/sign-in">"Sign in"</a></li>
            <li><a href="/sign-up">"Sign up"</a></li>
        }
        .into_any(),
    }
}

/// [`MenuItems`] as HTML, for a page kept once and served to everyone
/// (`server::page_cache`); text is escaped as in any rendering.
#[cfg(feature = "ssr")]
pub fn menu_items_html(user: Option<SignedInUser>) -> String {
    Owner::new().with(|| view! { <MenuItems user/> }.to_html())
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let next = super::next::next_of_page();
    let sign_in = super::next::with_next("/sign-in", next.as_deref());
    let action = page_action::<SignUp>();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Create an account · Fairground"/>
        <section class="auth-form">
            <h1>"Create an account"</h1>
            <FormAlert error fields=&["email", "display_name", "password"]/>
            <ActionForm action>
                <Field label="Email" name="email" input_type="email" autocomplete="email" error/>
                <Field label="Your name" name="display_name" input_type="text" autocomplete="name" error/>
                <Field
                    label="Password"
                    name="password"
                    input_type="password"
                    autocomplete="new-password"
                    hint="At least 12 characters. A few unrelated words make a strong one."
                    error
                />
                <super::next::NextField next/>
                <button type="submit">"Create account"</button>
            </ActionForm>
            <p>"Already have an account? " <a href=sign_in>"Sign in"</a></p>
        </section>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let next = super::next::next_of_page();
    let sign_up = super::next::with_next("/sign-up", next.as_deref());
    let action = page_action::<SignIn>();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Sign in · Fairground"/>
        <section class="auth-form">
            <h1>"Sign in"</h1>
            <FormAlert error fields=&["email", "password"]/>
            <ActionForm action>
                <Field label="Email" name="email" input_type="email" autocomplete="email" error/>
                <Field label="Password" name="password" input_type="password" autocomplete="current-password" error/>
                <super::next::NextField next/>
                <button type="submit">"Sign in"</button>
            </ActionForm>
            <p>"New here? " <a href=sign_up>"Create an account"</a></p>
        </section>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let rename = page_action::<ChangeDisplayName>();
    let repassword = page_action::<ChangePassword>();
    let rename_error = Signal::derive(move || rename.value().get().and_then(Result::err));
    let password_error = Signal::derive(move || repassword.value().get().and_then(Result::err));
    // Its own resource: reading the header's in a second Suspense boundary
    // is a pattern known to stall Leptos SSR responses now and then.
    let user = Resource::new(|| (), |_| current_user());
    let query = leptos_router::hooks::use_query_map();
    let notice = move || match query.read().get("updated").as_deref() {
        Some("password") => Some("Your password was changed. Your other sessions were signed out."),
        Some("name") => Some("Your name was saved."),
        Some("session") => Some("That session was signed out."),
        Some("email") => Some("Your email address is confirmed."),
        Some("link") => Some("A new confirmation link is on its way to your address."),
        Some("two-step") => Some("Two-step sign-in is on. Your other sessions were signed out."),
        Some("two-step-off") => Some("Two-step sign-in is off."),
        Some("staff") => Some("You joined the platform's staff: turn on two-step sign-in below."),
        _ => None,
    };
    view! {
        <Title text="Your account · Fairground"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => view! {
                        <section class="account">
                            <h1>"Your account"</h1>
                            <Show when=move || notice().is_some()>
                                <p class="notice" role="status">{notice}</p>
                            </Show>
                            <dl class="facts">
                                <dt>"Name"</dt>
                                <dd>{user.display_name.clone()}</dd>
                                <dt>"Email"</dt>
                                <dd>
                                    <span>{user.email}</span>
                                    " "
                                    <span class="muted">{if user.email_verified { "(confirmed)" } else { "(not confirmed yet)" }}</span>
                                </dd>
                            </dl>
                            {(!user.email_verified).then(|| view! { <ConfirmAddress/> })}
                            {user.staff_locked.then(|| view! {
                                <p class="form-alert" role="alert">
                                    "You are platform staff: you can act as staff only after two-step sign-in. "
                                    <a href="#two-step">"Turn it on below"</a>
                                    ", or sign out and in again with your code."
                                </p>
                            })}
                            <h2>"Change your name"</h2>
                            <FormAlert error=rename_error fields=&["display_name"]/>
                            <ActionForm action=rename>
                                <Field
                                    label="Your name"
                                    name="display_name"
                                    input_type="text"
                                    autocomplete="name"
                                    value=user.display_name
                                    error=rename_error
                                />
                                <button type="submit">"Save name"</button>
                            </ActionForm>
                            <h2>"Change your password"</h2>
                            <p class="hint">"Every other device signed in to this account will be signed out."</p>
                            <FormAlert error=password_error fields=&["current_password", "new_password"]/>
                            <ActionForm action=repassword>
                                <Field
                                    label="Current password"
                                    name="current_password"
                                    input_type="password"
                                    autocomplete="current-password"
                                    error=password_error
                                />
                                <Field
                                    label="New password"
                                    name="new_password"
                                    input_type="password"
                                    autocomplete="new-password"
                                    hint="At least 12 characters. A few unrelated words make a strong one."
                                    error=password_error
                                />
                                <button type="submit">"Change password"</button>
                            </ActionForm>
                            <super::two_step_views::TwoStepSection/>
                            <SessionsList/>
                        </section>
                    }.into_any(),
                    Ok(None) => {
                        set_status(http::StatusCode::UNAUTHORIZED);
                        view! {
                            <section class="account">
                                <h1>"Your account"</h1>
                                <Show when=move || notice().is_some()>
                                    <p class="notice" role="status">{notice}</p>
                                </Show>
                                <p>"You are not signed in. " <a href="/sign-in">"Sign in"</a></p>
                            </section>
                        }.into_any()
                    }
                    Err(err) => view! { <crate::ui::status::ErrorPage error=err/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Where the person is signed in, each session with a button that signs
/// it out.
#[component]
fn SessionsList() -> impl IntoView {
    let end = page_action::<EndSession>();
    let end_error = Signal::derive(move || end.value().get().and_then(Result::err));
    let sessions = Resource::new(move || end.version().get(), |_| my_sessions());
    view! {
        <h2 id="sessions">"Where you are signed in"</h2>
        <p class="hint">"Sign out any browser you do not recognise, then change your password."</p>
        <FormAlert error=end_error fields=&[]/>
        <Suspense fallback=|| view! { <p>"Loading sessions…"</p> }>
            {move || Suspend::new(async move {
                match sessions.await {
                    Ok(list) => view! {
                        <table class="sessions">
                            <caption class="visually-hidden">"Your sessions"</caption>
                            <thead>
                                <tr><th scope="col">"Browser"</th><th scope="col">"Signed in"</th><th scope="col">"Last active"</th><th scope="col"></th></tr>
                            </thead>
                            <tbody>
                                {list.into_iter().map(|s| {
                                    let device = if s.device.is_empty() { "Unknown browser".to_string() } else { s.device.clone() };
                                    let label = if s.current { "Sign out here".to_string() } else { format!("Sign out session of {}", minute(s.signed_in_at)) };
                                    view! {
                                        <tr>
                                            <td>
                                                {device}
                                                {s.current.then(|| view! { <strong class="badge">" This browser"</strong> })}
                                            </td>
                                            <td>{minute(s.signed_in_at)}</td>
                                            <td>{minute(s.last_seen_at)}</td>
                                            <td>
                                                <ActionForm action=end>
                                                    <input type="hidden" name="handle" value=s.handle/>
                                                    <button type="submit" aria-label=label.clone()>{if s.current { "Sign out here" } else { "Sign out" }}</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(err) => view! { <p class="form-alert" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// For an address not yet proven: why it matters, and a new link.
#[component]
fn ConfirmAddress() -> impl IntoView {
    let resend = page_action::<ResendVerification>();
    let error = Signal::derive(move || resend.value().get().and_then(Result::err));
    view! {
        <p class="hint">
            "We sent a confirmation link to this address when you signed up. Joining the platform's staff needs a confirmed address."
        </p>
        <FormAlert error fields=&[]/>
        <ActionForm action=resend>
            <button type="submit">"Send a new confirmation link"</button>
        </ActionForm>
    }
}

/// `/verify-email/{token}`: opening the link changes nothing; the button
/// confirms the address.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let verify = page_action::<VerifyEmail>();
    let error = Signal::derive(move || verify.value().get().and_then(Result::err));
    view! {
        <Title text="Confirm your email address · Fairground"/>
        <section class="auth-form">
            <h1>"Confirm your email address"</h1>
            <p>"Confirm that the address this link was sent to is yours."</p>
            <FormAlert error fields=&[]/>
            <ActionForm action=verify>
                <input type="hidden" name="token" value=token/>
                <button type="submit">"Confirm my address"</button>
            </ActionForm>
        </section>
    }
}
