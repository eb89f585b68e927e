//! The `fairground` server: configuration, start-up, HTTP serving, and the
//! command-line sub-commands. Also a library so tests and benchmarks can reuse
//! its pieces.

pub mod assets;
pub mod backup;
pub mod config;
pub mod csrf;
pub mod db;
pub mod edge;
pub mod form_errors;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod page_cache;
pub mod proxy;
pub mod seed;
pub mod serve;
pub mod standin;

use anyhow::Context;
use app::auth::session_store::DbSessionStore;
use app::db::Clock;
use app::state::{AppState, RateLimits};
use config::Config;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How often this node writes its exposure counts to the database.
const EXPOSURE_FLUSH: Duration = Duration::from_secs(5);
/// WAL frames (of 4 KiB) past which the checkpoint timer sends writers back
/// to the WAL's start: 64 MiB.
const WAL_RESTART_FRAMES: i64 = 16_384;

/// Builds the Leptos options from our configuration (not from cargo-leptos's
/// environment), so the binary runs the same wherever it is started. Pages
/// link the site's assets by their hashed names (see `assets`).
pub fn leptos_options(config: &Config, assets: &assets::Assets) -> leptos::config::LeptosOptions {
    leptos::config::LeptosOptions::builder()
        .output_name(assets.output_name())
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build()
}

/// Opens the database, applies migrations, binds, prints the address, and
/// serves until `shutdown` resolves; in-flight requests then get up to the
/// configured timeout to finish.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let site = csrf::SiteOrigin::from_public_url(config.public_url.as_deref())
        .map_err(anyhow::Error::msg)?;
    let limits = config.connection_limits()?;
    let metrics_token = config.metrics_token()?;
    // Checked before anything starts.
    let mail = config.mail_settings()?;
    // The serving process checkpoints SQLite's WAL on a timer (below), off
    // the commit path.
    let db = db::open_with(
        &config,
        &app::db::DbOptions {
            checkpoint_in_background: true,
            ..config.db_options()
        },
    )
    .await?;
    if db.backend() == app::db::Backend::Sqlite {
        let db = db.clone();
        let period = Duration::from_millis(config.sqlite_checkpoint_ms);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(period);
            loop {
                every.tick().await;
                if let Err(err) = db.checkpoint(WAL_RESTART_FRAMES).await {
                    tracing::warn!(error = %err, "checkpointing the SQLite WAL failed");
                }
            }
        });
    }
    tokio::spawn(watch_database(db.clone()));
    if config.demo_upstream {
        crate::standin::connect_demo(&db, Clock::system().now_ms()).await?;
    }
    let clock = match config.test_clock_offset_ms {
        0 => Clock::system(),
        _ if !cfg!(debug_assertions) => anyhow::bail!(
            "FAIRGROUND_TEST_CLOCK_OFFSET_MS moves the clock for tests; a release build refuses it"
        ),
        offset => {
            let system = Clock::system();
            tracing::warn!(offset_ms = offset, "the clock is moved for a test");
            Clock::from_fn(move || system.now_ms() + offset)
        }
    };
    let shared_limits = match config.redis_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(url) => {
            // Keys carry this deployment's own prefix (from its shared
            // database), so deployments sharing one Redis never mix counts.
            let secret = db::site_key(&db, "rate_limits", Clock::system().now_ms()).await?;
            let prefix = format!("fairground:{}:", hex::encode(&secret[..8]));
            let shared = app::limits::Shared::new(url, prefix).map_err(anyhow::Error::msg)?;
            tracing::info!("rate limits are counted in Redis, shared by every node");
            Some(Arc::new(shared))
        }
    };
    let site_root = std::path::PathBuf::from(&config.site_root);
    let assets = Arc::new(
        tokio::task::spawn_blocking(move || assets::Assets::load(&site_root))
            .await?
            .map_err(|e| anyhow::anyhow!("reading the built site in {}: {e}", config.site_root))?,
    );
    let state = AppState::new(app::state::StateFields {
        db: db.clone(),
        leptos_options: leptos_options(&config, &assets),
        clock,
        sessions: config.session_limits(),
        rate_limits: Arc::new(
            RateLimits::new(
                config.auth_attempts_per_ip,
                config.auth_attempts_per_account,
                shared_limits.clone(),
            )
            .with_api_requests_per_key(config.api_requests_per_key),
        ),
        public_url: config.public_url.clone(),
        catalogue: Default::default(),
        exposure: Default::default(),
        gateway: Arc::new(app::gateway::Gateway::new(
            db.clone(),
            config.gateway_settings(),
            shared_limits.clone(),
        )),
    });
    // Expired sessions are refused on read; this only reclaims their rows.
    let sweeper = DbSessionStore::new(db.clone(), state.clock.clone(), state.sessions.idle);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            match sweeper.delete_expired().await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "expired sessions removed"),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "removing expired sessions failed"),
            }
        }
    });
    let counts = state.exposure.clone();
    let counts_db = db.clone();
    let counts_clock = state.clock.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EXPOSURE_FLUSH);
        loop {
            every.tick().await;
            if let Err(err) = counts.flush(&counts_db).await {
                tracing::warn!(error = %err, "writing exposure counts failed; kept for the next try");
            }
            // Weeks and months that are over: their audit and report.
            let now = counts_clock.now_ms();
            match app::exposure::audit::check_due(&counts_db, now).await {
                Ok(opened) if !opened.is_empty() => {
                    tracing::warn!(cases = ?opened, "exposure anomaly: conflict cases opened");
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "the weekly exposure audit failed; retried")
                }
            }
            if let Err(err) = app::neutrality::report::publish_due(&counts_db, now).await {
                tracing::warn!(error = %err, "publishing last month's neutrality report failed; retried");
            }
        }
    });
    let exposure = state.exposure.clone();
    let form_error_key = db::site_key(&db, "form_errors", state.clock.now_ms()).await?;
    let listener = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("binding {}", config.addr))?;
    let addr = listener.local_addr()?;
    match mail {
        Some(settings) => {
            // Without a public URL, links name the port actually bound.
            let settings = match config.public_url {
                Some(_) => settings,
                None => settings.linking_to(&format!("http://{addr}")),
            };
            tracing::info!("the outbox is delivered by SMTP");
            tokio::spawn(mail::deliver(db.clone(), state.clock.clone(), settings));
        }
        None => tracing::info!(
            "no SMTP server set (FAIRGROUND_SMTP_URL): messages stay in the outbox (fairground admin outbox)"
        ),
    }
    // The metrics' own address, if any, is announced first: the line after
    // this one tells people and scripts the server is ready.
    let metrics_listener = match config.metrics_addr {
        Some(metrics_addr) => {
            let listener = TcpListener::bind(metrics_addr)
                .await
                .with_context(|| format!("binding the metrics address {metrics_addr}"))?;
            let addr = listener.local_addr()?;
            tracing::info!(%addr, "metrics listening");
            println!("fairground metrics on http://{addr}/metrics");
            Some(listener)
        }
        None => None,
    };
    tracing::info!(%addr, backend = db.backend().name(), "listening");
    // One line on stdout for people and scripts: where to reach the server.
    println!("fairground listening on http://{addr}");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let graceful = {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutdown requested: finishing in-flight requests");
        let _ = stop_tx.send(true);
    });
    if let Some(listener) = metrics_listener {
        let router = metrics::router(state.clone(), metrics_token.clone());
        let mut rx = stop_rx.clone();
        let stop = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        tokio::spawn(serve::serve(listener, router, limits.clone(), stop));
    }
    let router = http::router(
        state,
        http::Surface {
            site,
            secure_cookies: config.cookie_secure(),
            form_error_key,
            body_timeout: limits.body_timeout,
            assets,
            metrics_token,
        },
    );
    let server = serve::serve(listener, router, limits, graceful);
    let grace = config.shutdown_timeout();
    let mut rx = stop_rx;
    tokio::select! {
        () = server => {},
        _ = async move {
            let _ = rx.wait_for(|stop| *stop).await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(timeout_s = grace.as_secs(), "in-flight requests did not finish in time; exiting");
        }
    }
    if let Err(err) = exposure.flush(&db).await {
        tracing::warn!(error = %err, "exposure counts of the last seconds were not written");
    }
    // Bounded: after a timed-out drain, abandoned requests may still hold
    // connections, and exiting matters more than a tidy close.
    if tokio::time::timeout(Duration::from_secs(5), db.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still in use at exit");
    }
    tracing::info!("stopped");
    Ok(())
}

/// How often the database is asked whether it answers.
const DATABASE_WATCH: Duration = Duration::from_secs(1);

/// Asks the database every second whether it answers (a one-row read
/// within two seconds) and marks it down or up (as `/readyz` does too):
/// while down, pages, the metering API and the gateway answer 503 at once
/// (`http::front`). One log line when it goes, one when it returns.
async fn watch_database(db: app::db::Db) {
    let mut every = tokio::time::interval(DATABASE_WATCH);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let asked = async {
            // The wait for a connection is timed here, once a second, as a
            // sample of what requests wait (sqlx has no hook for theirs).
            let started = std::time::Instant::now();
            let mut conn = db.pool().acquire().await?;
            app::metrics::metrics().pool_acquire(started.elapsed());
            sqlx::query("SELECT 1").fetch_one(&mut *conn).await
        };
        let answered = matches!(
            tokio::time::timeout(Duration::from_secs(2), asked).await,
            Ok(Ok(_))
        );
        db.mark_answered(answered);
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
