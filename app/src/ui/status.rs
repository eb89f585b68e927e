//! What a page shows when it has no data to show: a loading block, the
//! 404 and error pages, a sign-in prompt, each with its HTTP status.

use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{de::DeserializeOwned, Serialize};

/// Sets the HTTP status of a server-rendered page (no-op in the browser).
pub fn set_status(status: http::StatusCode) {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(http::StatusCode::NOT_FOUND);
    view! {
        <Title text="Page not found · Fairground"/>
        <section class="error-page">
            <h1>"Page not found"</h1>
            <p>"There is no page at this address. It may have moved, or the link may be mistyped."</p>
            <p><a href="/">"Back to the catalogue"</a></p>
        </section>
    }
}

/// Shows an error to the user: its message only (an internal error carries
/// just a reference), and sets the page's HTTP status to match.
#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    set_status(error.status());
    view! {
        <Title text="Something went wrong · Fairground"/>
        <section class="error-page" role="alert">
            <h1>"Something went wrong"</h1>
            <p>{error.to_string()}</p>
            {match &error {
                AppError::Validation { fields } => Some(view! {
                    <ul>{fields.values().flatten().map(|m| view! { <li>{m.clone()}</li> }).collect_view()}</ul>
                }),
                _ => None,
            }}
            <p><a href="/">"Back to the catalogue"</a></p>
        </section>
    }
}

/// Sign-in prompt for pages that need one (status 401).
#[component]
fn SignInFirst() -> impl IntoView {
    set_status(http::StatusCode::UNAUTHORIZED);
    view! { <p>"You are not signed in. " <a href="/sign-in">"Sign in"</a></p> }
}

/// For platform staff who have not passed two-step sign-in (status 403).
#[component]
fn TwoStepFirst() -> impl IntoView {
    set_status(http::StatusCode::FORBIDDEN);
    view! {
        <p role="alert">
            "Platform staff act only after two-step sign-in. "
            <a href="/account#two-step">"Turn on two-step sign-in"</a>
            " on your account page, or sign in again with your code."
        </p>
    }
}

/// What a page shows when its data could not be loaded: a sign-in prompt
/// when nobody is signed in, else the error.
pub fn failure(err: AppError) -> AnyView {
    match err {
        AppError::Unauthorized => view! { <SignInFirst/> }.into_any(),
        AppError::NotFound => view! { <NotFound/> }.into_any(),
        AppError::SecondFactorRequired => view! { <TwoStepFirst/> }.into_any(),
        other => view! { <ErrorPage error=other/> }.into_any(),
    }
}

/// The block every page loads its data in: nothing while it loads, then
/// `show` with the data, or [`failure`] with the error.
pub fn loaded<T, V>(
    data: Resource<Result<T, AppError>>,
    show: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    loaded_or(data, "", show)
}

/// As [`loaded`], saying `waiting` while the data loads (a navigation in
/// the browser; a server-rendered page arrives whole).
pub fn loaded_or<T, V>(
    data: Resource<Result<T, AppError>>,
    waiting: &'static str,
    show: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=move || (!waiting.is_empty()).then(|| view! { <p>{waiting}</p> })>
            {move || {
                let show = show.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(d) => show(d).into_any(),
                        Err(err) => failure(err),
                    }
                })
            }}
        </Suspense>
    }
}
