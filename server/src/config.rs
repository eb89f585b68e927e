//! Command line and configuration. Every setting comes from an environment
//! variable (or the matching flag) with a default that runs locally.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "fairground",
    version,
    about = "Fairground: a neutral marketplace for industry models built on base models.",
    long_about = "Fairground: a neutral marketplace for industry models built on base models.\n\n\
                  Without a sub-command, `serve` runs. Migrations are applied on start-up."
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Apply migrations, then serve HTTP until SIGTERM or SIGINT (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print every route (method and path) the server answers.
    Routes,
    /// Write the brotli (quality 11) and gzip (level 9) copies of the built
    /// site's JS, wasm and CSS beside them, so the server sends them as
    /// they are (run after `cargo leptos build --release`).
    Precompress,
    /// Platform administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Work with the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Add data: demo data for trying the app, or many listings for benchmarks.
    Seed(SeedArgs),
    /// Write a consistent copy of the SQLite database to a new file while
    /// it serves, and check the copy (integrity, audit chain). For
    /// PostgreSQL use pg_dump (README: Backup and restore).
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// Replace the SQLite database with a backup, after checking it. Refuses
    /// while any fairground process has the database open; the replaced
    /// database is kept beside it under a dated name.
    Restore {
        /// A file written by `fairground backup`.
        #[arg(value_name = "FILE")]
        from: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create the platform organisation (once) with EMAIL as its first owner
    /// and referee: at once if EMAIL has an account, else via an invitation
    /// link printed here (and written to the outbox).
    Bootstrap {
        /// The first referee's email.
        #[arg(long)]
        email: String,
        /// The platform organisation's name.
        #[arg(long, default_value = "Fairground")]
        name: String,
    },
    /// Print the messages waiting in the outbox (invitations, address
    /// confirmations, notices), oldest first: until mail delivery is set
    /// up, this is how an operator hands them on.
    Outbox {
        /// Only the messages to this address.
        #[arg(long)]
        to: Option<String>,
    },
    /// Turn two-step sign-in off for EMAIL, who lost both their
    /// authenticator app and their recovery codes (after checking who they
    /// are, outside Fairground); their sessions end. Audited.
    ResetTwoStep {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Issue an API key for an organisation (by its slug) and print it; it
    /// is shown only this once. A publisher gets a metering key (fgk_), a
    /// client a gateway key (fgc_).
    ApiKey {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// What the key is for.
        #[arg(long, default_value = "Issued by the operator")]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the whole hash chain; exits 1 and names the first broken entry
    /// if any entry was altered, removed or re-linked.
    Verify,
    /// Write every entry, with its hashes, as JSON Lines (to a file, or to
    /// standard output).
    Export {
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Args, Debug)]
#[group(required = true, multiple = true)]
pub struct SeedArgs {
    /// Base models, partner organisations, the platform's own organisation and
    /// about twenty published listings. Running it again adds nothing.
    #[arg(long)]
    pub demo: bool,
    /// Add N published listings spread over industries, base models and
    /// publishers (benchmark data; every run adds N more).
    #[arg(long, value_name = "N")]
    pub listings: Option<u32>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct Config {
    /// Database: sqlite://PATH (file created on first start) or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/fairground.db",
        hide_env_values = true,
        global = true
    )]
    pub database_url: String,

    /// Address to listen on. Port 0 picks a free port (printed on start).
    #[arg(
        long,
        env = "FAIRGROUND_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// The site's public URL (scheme://host[:port]) when behind a proxy or TLS
    /// terminator; state-changing requests must come from this origin. Unset:
    /// they must come from the host they were sent to.
    #[arg(long, env = "FAIRGROUND_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Sign-ins end after this many minutes without a request.
    #[arg(
        long,
        env = "FAIRGROUND_SESSION_IDLE_MINUTES",
        default_value_t = 30,
        global = true
    )]
    pub session_idle_minutes: u64,

    /// Sign-ins end this many hours after signing in, whatever the activity.
    #[arg(
        long,
        env = "FAIRGROUND_SESSION_ABSOLUTE_HOURS",
        default_value_t = 12,
        global = true
    )]
    pub session_absolute_hours: u64,

    /// Mark the session cookie Secure and name it with the __Host- prefix.
    /// Default: on when FAIRGROUND_PUBLIC_URL is https, off otherwise.
    #[arg(long, env = "FAIRGROUND_COOKIE_SECURE", global = true)]
    pub cookie_secure: Option<bool>,

    /// Sign-in and sign-up attempts allowed per client IP per minute.
    #[arg(
        long,
        env = "FAIRGROUND_AUTH_ATTEMPTS_PER_IP",
        default_value_t = 20,
        global = true
    )]
    pub auth_attempts_per_ip: u32,

    /// Sign-in attempts allowed per account (email) per minute.
    #[arg(
        long,
        env = "FAIRGROUND_AUTH_ATTEMPTS_PER_ACCOUNT",
        default_value_t = 5,
        global = true
    )]
    pub auth_attempts_per_account: u32,

    /// Metering API requests each API key may send per second (bursts of as
    /// many at once); over it, 429 with Retry-After.
    #[arg(
        long,
        env = "FAIRGROUND_API_REQUESTS_PER_KEY",
        default_value_t = app::state::DEFAULT_API_REQUESTS_PER_KEY,
        global = true
    )]
    pub api_requests_per_key: u32,

    /// Gateway: milliseconds to connect to a model server.
    #[arg(
        long,
        env = "FAIRGROUND_GATEWAY_CONNECT_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub gateway_connect_timeout_ms: u64,

    /// Gateway: milliseconds from forwarding a call to the model server's
    /// answer starting (for a non-streamed call, the whole answer); past it
    /// the call falls back (when allowed) or is 504.
    #[arg(
        long,
        env = "FAIRGROUND_GATEWAY_FIRST_BYTE_TIMEOUT_MS",
        default_value_t = 300_000,
        global = true
    )]
    pub gateway_first_byte_timeout_ms: u64,

    /// SQLite: milliseconds between the serving process's checkpoints of
    /// the write-ahead log into the database file.
    #[arg(
        long,
        env = "FAIRGROUND_SQLITE_CHECKPOINT_MS",
        default_value_t = 1_000,
        value_parser = clap::value_parser!(u64).range(10..=3_600_000),
        global = true
    )]
    pub sqlite_checkpoint_ms: u64,

    /// Tests only: this process's clock runs this many milliseconds ahead
    /// (a second node "in two weeks", to see an announced change apply). A
    /// release build refuses to start with it.
    #[arg(
        long,
        env = "FAIRGROUND_TEST_CLOCK_OFFSET_MS",
        default_value_t = 0,
        global = true,
        hide = true
    )]
    pub test_clock_offset_ms: i64,

    /// Gateway: the longest pause, in milliseconds, within an answer.
    #[arg(
        long,
        env = "FAIRGROUND_GATEWAY_IDLE_TIMEOUT_MS",
        default_value_t = 300_000,
        global = true
    )]
    pub gateway_idle_timeout_ms: u64,

    /// Gateway: calls each client key may make per second (bursts of as
    /// many at once); over it, 429 with Retry-After.
    #[arg(
        long,
        env = "FAIRGROUND_GATEWAY_REQUESTS_PER_KEY",
        default_value_t = app::gateway::DEFAULT_REQUESTS_PER_KEY,
        global = true
    )]
    pub gateway_requests_per_key: u32,

    /// Gateway: allow model servers on private, loopback and link-local
    /// addresses (off by default; the demo's stand-in needs it).
    #[arg(
        long,
        env = "FAIRGROUND_GATEWAY_ALLOW_PRIVATE_UPSTREAMS",
        global = true
    )]
    pub gateway_allow_private_upstreams: bool,

    /// For the demo only: start the stand-in model server in this process
    /// and point every deployment at it (each with its own signing secret),
    /// so calls through the gateway answer. Implies private upstreams. Never
    /// for real partners: it replaces their endpoints.
    #[arg(long, env = "FAIRGROUND_DEMO_UPSTREAM", global = true)]
    pub demo_upstream: bool,

    /// Directory holding the built site (`pkg/` with wasm, JS and CSS).
    #[arg(
        long,
        env = "FAIRGROUND_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: String,

    /// Largest number of pooled database connections per process (at
    /// least 2: the gateway's record writer keeps one).
    #[arg(
        long,
        env = "FAIRGROUND_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub db_max_connections: u32,

    /// Seconds to wait for a database connection before a request fails.
    #[arg(
        long,
        env = "FAIRGROUND_DB_ACQUIRE_TIMEOUT_SECS",
        default_value_t = 5,
        global = true
    )]
    pub db_acquire_timeout_secs: u64,

    /// Log filter, in tracing's env-filter syntax (e.g. `info,sqlx=warn`).
    #[arg(
        long,
        env = "FAIRGROUND_LOG",
        default_value = "info,sqlx=warn",
        global = true
    )]
    pub log: String,

    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, env = "FAIRGROUND_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// On SIGTERM/SIGINT, seconds to let in-flight requests finish before exiting anyway.
    #[arg(
        long,
        env = "FAIRGROUND_SHUTDOWN_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_timeout_secs: u64,

    /// Seconds a connection may take to send a request's headers, and may
    /// stay open waiting for its next request; then it is closed.
    #[arg(
        long,
        env = "FAIRGROUND_HEADER_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub header_timeout_secs: u64,

    /// Seconds a request's body may take to arrive; then 408.
    #[arg(
        long,
        env = "FAIRGROUND_BODY_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub body_timeout_secs: u64,

    /// Open connections served at once per process; one more is closed as
    /// soon as it is accepted (and logged).
    #[arg(
        long,
        env = "FAIRGROUND_MAX_CONNECTIONS",
        default_value_t = 4096,
        global = true
    )]
    pub max_connections: usize,

    /// Reverse proxies whose `X-Forwarded-For` names the client (addresses
    /// and CIDR ranges, comma-separated; default none). The client's address
    /// is then used for rate limits, the audit log and exposure counts.
    #[arg(
        long,
        env = "FAIRGROUND_TRUSTED_PROXIES",
        default_value = "",
        global = true
    )]
    pub trusted_proxies: String,

    /// `GET /metrics` on the main address answers only with
    /// `Authorization: Bearer <this>` (at least 32 characters). Unset: the
    /// main address has no `/metrics`.
    #[arg(
        long,
        env = "FAIRGROUND_METRICS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<String>,

    /// A second address serving only `GET /metrics` (say, one only the
    /// monitoring network reaches); with a token set, it asks for it too.
    #[arg(long, env = "FAIRGROUND_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,

    /// Redis (redis://HOST:PORT[/DB]) where the sign-in, metering and
    /// gateway rate limits are counted, so several nodes together allow what
    /// one does. Unset: each node counts on its own. Unreachable: each node
    /// counts on its own until it answers again (a log line and a metric
    /// say so); no request is refused for it.
    #[arg(
        long,
        env = "FAIRGROUND_REDIS_URL",
        hide_env_values = true,
        global = true
    )]
    pub redis_url: Option<String>,

    /// The SMTP server the outbox is delivered through:
    /// smtp://[USER:PASS@]HOST[:PORT] (plain, or `?tls=required` for
    /// STARTTLS) or smtps://… (TLS from the start). Unset: nothing is sent;
    /// invitation links are shown on the page and `admin outbox` prints
    /// every message.
    #[arg(
        long,
        env = "FAIRGROUND_SMTP_URL",
        hide_env_values = true,
        global = true
    )]
    pub smtp_url: Option<String>,

    /// The sender of every message, `Name <address>` or an address
    /// (required with FAIRGROUND_SMTP_URL).
    #[arg(long, env = "FAIRGROUND_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,

    /// The first wait after a message could not be sent, in seconds; it
    /// doubles after each failure, up to an hour.
    #[arg(
        long,
        env = "FAIRGROUND_MAIL_RETRY_SECS",
        default_value_t = 30,
        global = true
    )]
    pub mail_retry_secs: u64,

    /// How often each node looks for messages to send, in milliseconds.
    #[arg(
        long,
        env = "FAIRGROUND_MAIL_EVERY_MS",
        default_value_t = 2000,
        global = true
    )]
    pub mail_every_ms: u64,
}

/// The shortest metrics token taken: it is compared on every scrape
/// without a limit on tries, so it must be too long to guess.
pub const MIN_METRICS_TOKEN: usize = 32;

impl Config {
    /// The metrics token, refused when too short to be safe.
    pub fn metrics_token(&self) -> anyhow::Result<Option<std::sync::Arc<str>>> {
        match self.metrics_token.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) if t.chars().count() < MIN_METRICS_TOKEN => anyhow::bail!(
                "FAIRGROUND_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} characters (say, `openssl rand -hex 32`)"
            ),
            Some(t) => Ok(Some(t.into())),
        }
    }

    /// Mail delivery, when SMTP is set up; a start-up error when the
    /// settings are incomplete or malformed. Links in messages point to the
    /// public URL, or else to the listen address (see
    /// `MailSettings::linking_to`, once the port is known).
    pub fn mail_settings(&self) -> anyhow::Result<Option<crate::mail::MailSettings>> {
        let Some(url) = self
            .smtp_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        else {
            return Ok(None);
        };
        let from = self
            .mail_from
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "FAIRGROUND_SMTP_URL needs FAIRGROUND_MAIL_FROM (the sender's address)"
                )
            })?;
        let site = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.addr));
        crate::mail::MailSettings::new(
            url,
            from,
            &site,
            Duration::from_secs(self.mail_retry_secs.max(1)),
            Duration::from_millis(self.mail_every_ms.clamp(50, 60_000)),
        )
        .map(Some)
    }

    pub fn db_options(&self) -> app::db::DbOptions {
        app::db::DbOptions {
            max_connections: self.db_max_connections.max(2),
            acquire_timeout: Duration::from_secs(self.db_acquire_timeout_secs.max(1)),
            ..app::db::DbOptions::default()
        }
    }

    pub fn gateway_settings(&self) -> app::gateway::Settings {
        app::gateway::Settings {
            connect_timeout: Duration::from_millis(self.gateway_connect_timeout_ms.max(1)),
            first_byte_timeout: Duration::from_millis(self.gateway_first_byte_timeout_ms.max(1)),
            idle_timeout: Duration::from_millis(self.gateway_idle_timeout_ms.max(1)),
            requests_per_key: self.gateway_requests_per_key.max(1),
            allow_private_upstreams: self.gateway_allow_private_upstreams || self.demo_upstream,
        }
    }

    pub fn session_limits(&self) -> app::state::SessionLimits {
        app::state::SessionLimits {
            idle: Duration::from_secs(self.session_idle_minutes.max(1) * 60),
            absolute: Duration::from_secs(self.session_absolute_hours.max(1) * 3600),
        }
    }

    /// Secure cookies when asked, or when the public URL is https.
    pub fn cookie_secure(&self) -> bool {
        self.cookie_secure.unwrap_or_else(|| {
            self.public_url
                .as_deref()
                .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
        })
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    pub fn connection_limits(&self) -> anyhow::Result<crate::serve::ConnectionLimits> {
        let proxies = crate::proxy::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("FAIRGROUND_TRUSTED_PROXIES: {e}"))?;
        Ok(crate::serve::ConnectionLimits {
            header_timeout: Duration::from_secs(self.header_timeout_secs.max(1)),
            body_timeout: Duration::from_secs(self.body_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
            trusted_proxies: std::sync::Arc::new(proxies),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_has_a_connection_beside_the_one_the_record_writer_keeps() {
        let cli = Cli::try_parse_from(["fairground", "--db-max-connections", "1"]).expect("parses");
        assert_eq!(cli.config.db_options().max_connections, 2);
        let cli = Cli::try_parse_from(["fairground", "--db-max-connections", "7"]).expect("parses");
        assert_eq!(cli.config.db_options().max_connections, 7);
    }
}
