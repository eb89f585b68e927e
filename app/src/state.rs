//! Application state handed to server functions and handlers by context.

use crate::db::{Clock, Db};
use crate::error::AppError;
use crate::limits::{Limit, Shared};
use leptos::config::LeptosOptions;
use std::sync::Arc;
use std::time::Duration;

/// What every request's handlers share. One allocation behind an `Arc`:
/// the middleware and routes clone the state for every request, and
/// copying each field (the Leptos options alone hold a dozen shared
/// strings) cost a third of the CPU of a `/healthz` answer.
#[derive(Clone)]
pub struct AppState(Arc<StateFields>);

impl AppState {
    pub fn new(fields: StateFields) -> AppState {
        AppState(Arc::new(fields))
    }
}

impl std::ops::Deref for AppState {
    type Target = StateFields;
    fn deref(&self) -> &StateFields {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct StateFields {
    pub db: Db,
    pub leptos_options: LeptosOptions,
    pub clock: Clock,
    pub sessions: SessionLimits,
    pub rate_limits: Arc<RateLimits>,
    /// The configured public URL (for links in invitations), if any.
    pub public_url: Option<String>,
    /// This node's catalogue search index.
    pub catalogue: Arc<crate::catalogue::cache::CatalogueCache>,
    /// This node's exposure counts not yet written.
    pub exposure: Arc<crate::exposure::tally::Tally>,
    /// The model gateway's client, record writer and key limits.
    pub gateway: Arc<crate::gateway::Gateway>,
}

/// How long a sign-in lasts.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Signed out after this long without a request.
    pub idle: Duration,
    /// Signed out this long after signing in, whatever the activity.
    pub absolute: Duration,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state provided to the current server function or render.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| AppError::internal("context", "AppState missing from context"))
}

/// Ends a server function: on an error, a script or API caller gets the
/// error's own HTTP status (and Retry-After when rate limited). A plain
/// HTML form post is left alone: it is redirected back with the error in the
/// URL, which only works with a 3xx status.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(err) = &result {
        crate::error::mark_status(err);
    }
    result
}

/// Ends a server function that changes something: on success the browser is
/// sent to `then` (a redirect for plain forms, a client-side navigation with
/// JavaScript); errors are answered as `respond` does.
pub fn respond_then<T>(result: Result<T, AppError>, then: &str) -> Result<T, AppError> {
    if result.is_ok() {
        leptos_axum::redirect(then);
    }
    respond(result)
}

/// Limits on sign-in and sign-up attempts, per client IP and per account,
/// and on metering requests per API key: counted in Redis when the nodes
/// share one (`FAIRGROUND_REDIS_URL`), else by each node on its own (see
/// `limits`).
pub struct RateLimits {
    per_ip: Limit<String>,
    per_account: Limit<String>,
    per_api_key: Limit<i64>,
    api_requests_per_second: u32,
    shared: Option<Arc<Shared>>,
}

/// Metering requests a key may send a second unless configured otherwise.
pub const DEFAULT_API_REQUESTS_PER_KEY: u32 = 100;

const MINUTE: Duration = Duration::from_secs(60);
const SECOND: Duration = Duration::from_secs(1);

impl RateLimits {
    /// `per_ip` and `per_account` attempts a minute (at least one each);
    /// API keys get the default number of requests a second. Counted in
    /// `shared` Redis if given.
    pub fn new(per_ip: u32, per_account: u32, shared: Option<Arc<Shared>>) -> RateLimits {
        RateLimits {
            per_ip: Limit::new("sign_in_ip", per_ip, MINUTE, shared.clone()),
            per_account: Limit::new("sign_in_account", per_account, MINUTE, shared.clone()),
            per_api_key: Limit::new(
                "metering_key",
                DEFAULT_API_REQUESTS_PER_KEY,
                SECOND,
                shared.clone(),
            ),
            api_requests_per_second: DEFAULT_API_REQUESTS_PER_KEY,
            shared,
        }
    }

    /// Allows each API key `n` metering requests a second (at least one),
    /// with bursts of up to `n` at once.
    pub fn with_api_requests_per_key(mut self, n: u32) -> RateLimits {
        self.per_api_key = Limit::new("metering_key", n, SECOND, self.shared.clone());
        self.api_requests_per_second = n.max(1);
        self
    }

    /// Redis, when the limits are counted there.
    pub fn shared(&self) -> Option<&Arc<Shared>> {
        self.shared.as_ref()
    }

    /// Requests a second each API key may send.
    pub fn api_requests_per_second(&self) -> u32 {
        self.api_requests_per_second
    }

    /// One metering request by API key `key_id`: the milliseconds to wait
    /// when the key is over its limit.
    pub async fn check_api_key(&self, key_id: i64) -> Result<(), u64> {
        self.per_api_key
            .check(&key_id)
            .await
            .map_err(|wait| (wait.as_millis() as u64).max(1))
    }

    /// One attempt from `ip` (on `account`, if known): RateLimited when over.
    pub async fn check(&self, ip: &str, account: Option<&str>) -> Result<(), AppError> {
        let by_ip = self.per_ip.check(&ip.to_string()).await.err();
        let by_account = match account {
            Some(a) => self.per_account.check(&a.to_string()).await.err(),
            None => None,
        };
        match by_ip.into_iter().chain(by_account).max() {
            Some(wait) => Err(AppError::RateLimited {
                retry_after_secs: wait.as_secs() + 1,
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimits;

    #[tokio::test]
    async fn an_api_key_over_its_limit_waits_and_other_keys_do_not() {
        let limits = RateLimits::new(10, 10, None).with_api_requests_per_key(3);
        assert_eq!(limits.api_requests_per_second(), 3);
        for _ in 0..3 {
            assert_eq!(limits.check_api_key(1).await, Ok(()));
        }
        let wait = limits
            .check_api_key(1)
            .await
            .expect_err("the fourth is over");
        assert!(
            (1..=334).contains(&wait),
            "waits about a third of a second, not {wait} ms"
        );
        assert_eq!(
            limits.check_api_key(2).await,
            Ok(()),
            "another key has its own budget"
        );
    }
}
