//! Pages of two-step sign-in: the code after the password, and the account
//! page's section for turning it on, replacing recovery codes and turning
//! it off. Plain forms, working with JavaScript off.

use super::two_step_api::{
    two_step, BeginTwoStep, ConfirmTwoStep, DismissRecoveryCodes, ReplaceRecoveryCodes, SignInCode,
    TurnOffTwoStep,
};
use super::TwoStepView;
use crate::ui::fields::{page_action, Field, FormAlert};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/sign-in/code`: after the password of an account with two-step sign-in.
#[component]
pub fn SignInCodePage() -> impl IntoView {
    let next = super::next::next_of_page();
    let again = super::next::with_next("/sign-in", next.as_deref());
    let action = page_action::<SignInCode>();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Enter your code · Fairground"/>
        <section class="auth-form">
            <h1>"Two-step sign-in"</h1>
            <p>"Enter the six-digit code your authenticator app shows for Fairground, or one of your recovery codes."</p>
            <FormAlert error fields=&["code"]/>
            <ActionForm action>
                <Field
                    label="Code"
                    name="code"
                    input_type="text"
                    autocomplete="one-time-code"
                    hint="A code works once; a new one appears every 30 seconds."
                    error
                />
                <super::next::NextField next/>
                <button type="submit">"Continue"</button>
            </ActionForm>
            <p><a href=again>"Start again with your email and password"</a></p>
        </section>
    }
}

/// The account page's section.
#[component]
pub fn TwoStepSection() -> impl IntoView {
    let begin = page_action::<BeginTwoStep>();
    let confirm = page_action::<ConfirmTwoStep>();
    let replace = page_action::<ReplaceRecoveryCodes>();
    let dismiss = page_action::<DismissRecoveryCodes>();
    let off = page_action::<TurnOffTwoStep>();
    let state = Resource::new(
        move || {
            (
                begin.version().get(),
                confirm.version().get(),
                replace.version().get(),
                dismiss.version().get(),
                off.version().get(),
            )
        },
        |_| two_step(),
    );
    let begin_error = Signal::derive(move || begin.value().get().and_then(Result::err));
    let confirm_error = Signal::derive(move || confirm.value().get().and_then(Result::err));
    let replace_error = Signal::derive(move || replace.value().get().and_then(Result::err));
    let off_error = Signal::derive(move || off.value().get().and_then(Result::err));
    view! {
        <h2 id="two-step">"Two-step sign-in"</h2>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match state.await {
                    Ok(TwoStepView { enabled_at, codes_left, setup, new_codes, staff }) => view! {
                        {(!new_codes.is_empty()).then(|| view! {
                            <div class="notice" role="status">
                                <p><strong>"Your recovery codes"</strong> " — each works once, in place of a code from your app. Keep them somewhere safe: they are shown only now."</p>
                                <ul class="recovery-codes" aria-label="Recovery codes">
                                    {new_codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                                </ul>
                                <ActionForm action=dismiss>
                                    <button type="submit">"I have saved these codes"</button>
                                </ActionForm>
                            </div>
                        })}
                        {match (enabled_at, setup) {
                            (Some(at), _) => view! {
                                <p>
                                    {format!("On since {}. ", crate::calendar::date(at))}
                                    {format!("{codes_left} of 10 recovery codes left.")}
                                </p>
                                <h3>"New recovery codes"</h3>
                                <p class="hint">"Your unused codes stop working."</p>
                                <FormAlert error=replace_error fields=&["code"]/>
                                <ActionForm action=replace>
                                    <Field label="Code from your app" name="code" input_type="text" autocomplete="one-time-code" error=replace_error/>
                                    <button type="submit">"Make new recovery codes"</button>
                                </ActionForm>
                                <h3>"Turn two-step sign-in off"</h3>
                                {staff.then(|| view! { <p class="hint">"As platform staff you cannot act as staff while it is off."</p> })}
                                <FormAlert error=off_error fields=&["current_password"]/>
                                <ActionForm action=off>
                                    <Field label="Current password" name="current_password" input_type="password" autocomplete="current-password" error=off_error/>
                                    <button type="submit">"Turn off"</button>
                                </ActionForm>
                            }.into_any(),
                            (None, Some(setup)) => {
                                let view_box = format!("0 0 {0} {0}", setup.qr_size);
                                view! {
                                    <p>"Scan this code with an authenticator app, or type the key into it; then enter the six digits it shows."</p>
                                    <svg class="qr" viewBox=view_box role="img" aria-label="QR code of the key" width="200" height="200">
                                        <rect width="100%" height="100%" fill="#fff"/>
                                        <path d=setup.qr_path fill="#000"/>
                                    </svg>
                                    <p>"Key: " <code class="totp-key">{setup.secret}</code></p>
                                    <p><a href=setup.uri>"Open in an authenticator app on this device"</a></p>
                                    <FormAlert error=confirm_error fields=&["code"]/>
                                    <ActionForm action=confirm>
                                        <Field label="Code from your app" name="code" input_type="text" autocomplete="one-time-code" error=confirm_error/>
                                        <button type="submit">"Turn on two-step sign-in"</button>
                                    </ActionForm>
                                }.into_any()
                            }
                            (None, None) => view! {
                                <p>
                                    "After your password, sign-in asks for a code from an authenticator app on your phone. "
                                    {if staff { "Platform staff need it before they can act as staff." } else { "Recommended for everyone." }}
                                </p>
                                <FormAlert error=begin_error fields=&[]/>
                                <ActionForm action=begin>
                                    <button type="submit">"Set up two-step sign-in"</button>
                                </ActionForm>
                            }.into_any(),
                        }}
                    }.into_any(),
                    Err(err) => view! { <p class="form-alert" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
