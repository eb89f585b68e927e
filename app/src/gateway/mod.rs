//! The model gateway: clients call the models they subscribe to through
//! Fairground (`/gateway/v1`, OpenAI-compatible), which forwards each call
//! to the deployment's upstream, signed (`signing`), and meters it: one
//! record per call, committed before the call's answer ends (`recorder`).
//! A deployment's upstream settings are kept with the listing's offer
//! (`listings::service::upstream`).
//!
//! The gateway reads the request only for the model name and whether to
//! stream, and the answer only for the usage the upstream reports: prompts
//! and completions are passed on, never stored or logged.

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod errors;
#[cfg(feature = "ssr")]
pub mod health;
#[cfg(feature = "ssr")]
pub mod recorder;
#[cfg(feature = "ssr")]
pub mod signing;
#[cfg(feature = "ssr")]
pub mod sse;
#[cfg(feature = "ssr")]
pub mod upstream;

#[cfg(feature = "ssr")]
pub use settings::*;

use serde::{Deserialize, Serialize};

/// How one deployment's gateway traffic went over the last days: partner
/// data (its publisher sees it; referees on the record; players never).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentHealth {
    pub deployment_id: i64,
    pub listing_id: i64,
    pub listing_name: String,
    /// `slug@base-model`.
    pub label: String,
    pub calls: i64,
    /// Calls that were not billable (failed, broken off, refused upstream).
    pub errors: i64,
    /// Upstream latency of the calls, milliseconds.
    pub p50_ms: Option<i64>,
    pub p99_ms: Option<i64>,
    pub last_call: Option<i64>,
}

/// Days the health figures cover.
pub const HEALTH_DAYS: i64 = 7;

/// A test call a publisher sent to one of its deployments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCall {
    pub listing_id: i64,
    pub deployment_id: i64,
    pub ok: bool,
    /// What happened, in a sentence.
    pub message: String,
}

#[cfg(feature = "ssr")]
mod settings {
    use super::recorder::Recorder;
    use crate::db::Db;
    use crate::limits::{Limit, Shared};
    use std::sync::Arc;
    use std::time::Duration;

    /// How the gateway waits and how much it lets through.
    #[derive(Debug, Clone)]
    pub struct Settings {
        /// Connecting to an upstream.
        pub connect_timeout: Duration,
        /// From sending a call to the upstream's answer starting (its
        /// status and headers); past it the call fails over or is 504.
        pub first_byte_timeout: Duration,
        /// Longest pause in an answer once it started.
        pub idle_timeout: Duration,
        /// Calls each key may make a second (bursts of as many).
        pub requests_per_key: u32,
        /// Whether upstreams may be on private, loopback or link-local
        /// addresses (the demo's and tests' stand-in is on 127.0.0.1).
        pub allow_private_upstreams: bool,
    }

    impl Default for Settings {
        fn default() -> Settings {
            Settings {
                connect_timeout: Duration::from_secs(5),
                // A non-streamed answer's first byte comes when it is
                // complete: long completions must fit.
                first_byte_timeout: Duration::from_secs(300),
                idle_timeout: Duration::from_secs(300),
                requests_per_key: DEFAULT_REQUESTS_PER_KEY,
                allow_private_upstreams: false,
            }
        }
    }

    /// Calls a key may make a second unless configured otherwise.
    pub const DEFAULT_REQUESTS_PER_KEY: u32 = 50;
    /// Largest request body, as for every request (see the server's edge).
    pub const MAX_REQUEST: usize = 2 * 1024 * 1024;
    /// Largest non-streamed answer taken from an upstream.
    pub const MAX_ANSWER: usize = 16 * 1024 * 1024;

    /// Marks a response of the gateway's call path (answers and errors):
    /// it leaves as it is, never compressed on the way. Compressing a small
    /// answer cost more time than it saved (a client that wants it smaller
    /// asks the model for less), and the model's server chose the encoding.
    #[derive(Debug, Clone, Copy)]
    pub struct Relayed;

    /// The gateway's shared parts: settings, the upstream client, the
    /// record writer, and the per-key rate limit (in Redis when shared).
    pub struct Gateway {
        pub settings: Settings,
        pub client: reqwest::Client,
        pub recorder: Recorder,
        per_key: Limit<i64>,
    }

    impl Gateway {
        /// Starts the record writer: call inside a Tokio runtime.
        pub fn new(db: Db, settings: Settings, shared: Option<Arc<Shared>>) -> Gateway {
            let mut client = reqwest::Client::builder()
                .connect_timeout(settings.connect_timeout)
                .read_timeout(settings.idle_timeout)
                .no_gzip()
                .no_brotli()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(256)
                .tcp_nodelay(true);
            if !settings.allow_private_upstreams {
                client = client.dns_resolver(std::sync::Arc::new(super::upstream::PublicOnly));
            }
            let client = client
                .build()
                .expect("the HTTP client's settings are valid");
            Gateway {
                per_key: Limit::new(
                    "gateway_key",
                    settings.requests_per_key,
                    Duration::from_secs(1),
                    shared,
                ),
                settings,
                client,
                recorder: Recorder::start(db),
            }
        }

        /// One call by key `key_id`: Err(milliseconds to wait) when over.
        pub async fn check_rate(&self, key_id: i64) -> Result<(), u64> {
            self.per_key
                .check(&key_id)
                .await
                .map_err(|wait| (wait.as_millis() as u64).max(1))
        }
    }
}
