//! The Fairground web application: pages, server functions and the SQL each
//! capability owns. Compiled twice: with `ssr` for the server and with
//! `hydrate` for the browser.
#![recursion_limit = "256"]

pub mod audit;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod catalogue;
pub mod domain;
pub mod error;
pub mod evaluations;
pub mod exposure;
pub mod gateway;
pub mod layout;
pub mod listings;
pub mod metering;
pub mod neutrality;
pub mod notifications;
pub mod orgs;
pub mod policy;
pub mod subscriptions;
pub mod ui;

#[cfg(test)]
mod layout_rules;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod download;
#[cfg(feature = "ssr")]
pub mod form;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "ssr")]
pub mod request;
#[cfg(feature = "ssr")]
pub mod state;

use layout::{Footer, Header};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};
use ui::status::NotFound;

/// The header that carries a request's id (set by the server, echoed back).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The per-request script nonce, put in the request's extensions by the
/// server's security-header middleware and used here on the hydration scripts.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

const FAVICON: &str =
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E\
%3Crect width='16' height='16' rx='3' fill='%232f5bd3'/%3E%3C/svg%3E";

/// The HTML document around the app (server only).
pub fn shell(options: leptos::config::LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        let nonce = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
        if let Some(CspNonce(n)) = nonce {
            provide_context(leptos::nonce::Nonce::from_value(n));
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // An inline icon: no extra request, nothing for the browser to 404 on.
                <link rel="icon" href=FAVICON/>
                <AutoReload options=options.clone()/>
                // The stylesheet shares the app's hashed output name (see
                // the server's `assets`); the head is not hydrated.
                <link rel="stylesheet" href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        // Every page's title passes through this formatter: the head is
        // written raw on the server, so the title is escaped there.
        <Title formatter=ui::text::unescaped_slot text="Fairground · industry models marketplace"/>
        <Router>
            <Shell/>
        </Router>
    }
}

/// Everything inside the router, where the current user is provided.
#[component]
fn Shell() -> impl IntoView {
    auth::views::provide_auth();
    view! {
            <a class="skip-link" href="#main">"Skip to main content"</a>
            <Header/>
            <main id="main" tabindex="-1">
                // Async: pages are rendered whole before the first byte, so they
                // are complete without JavaScript and carry the right status.
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=StaticSegment("") view=catalogue::views::HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("catalogue") view=catalogue::views::CataloguePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("how-ranking-works") view=catalogue::views::HowRankingPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("evaluations") view=evaluations::views::EvaluationsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("evaluations"), StaticSegment("runs"), ParamSegment("id")) view=evaluations::views::EvaluationRunPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("base-models") view=catalogue::views::BaseModelsPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("notifications") view=notifications::views::NotificationsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("listings"), ParamSegment("slug")) view=|| view! { <listings::views::ListingPage subscribe=Callback::new(|id| view! { <subscriptions::views::SubscribeBox listing_id=id/> }.into_any())/> } ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("listings"), ParamSegment("publisher"), ParamSegment("slug")) view=|| view! { <listings::views::ListingPage subscribe=Callback::new(|id| view! { <subscriptions::views::SubscribeBox listing_id=id/> }.into_any())/> } ssr=SsrMode::Async/>
                    <Route path=StaticSegment("compare") view=listings::views::ComparePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("my"), StaticSegment("listings")) view=listings::views::MyListingsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("my"), StaticSegment("listings"), ParamSegment("id")) view=listings::views::ListingEditorPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("review") view=listings::views::ReviewPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("policy") view=policy::views::PolicyPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("exposure") view=exposure::views::ExposurePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("neutrality-report") view=neutrality::views::NeutralityReportsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("neutrality-report"), ParamSegment("month")) view=neutrality::views::NeutralityReportPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("subscriptions") view=subscriptions::views::SubscriptionsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("subscriptions"), ParamSegment("id")) view=subscriptions::views::SubscriptionPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("revenue") view=subscriptions::views::RevenuePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("marketplace-totals") view=subscriptions::views::TotalsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("org"), StaticSegment("api-keys")) view=metering::views::ApiKeysPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("api") view=metering::views::ApiReferencePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("audit") view=audit::views::AuditPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("org"), StaticSegment("data-access")) view=policy::views::DataAccessPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("cases") view=cases::views::CasesPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("cases"), ParamSegment("id")) view=cases::views::CasePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("sign-up") view=auth::views::SignUpPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("sign-in") view=auth::views::SignInPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("sign-in"), StaticSegment("code")) view=auth::two_step_views::SignInCodePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("account") view=auth::views::AccountPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("orgs") view=orgs::views::OrgsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("org"), StaticSegment("members")) view=orgs::views::MembersPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("invitations"), ParamSegment("token")) view=orgs::views::InvitationPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("verify-email"), ParamSegment("token")) view=auth::views::VerifyEmailPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <Footer/>
    }
}
