//! The `fairground` binary.

use clap::Parser;
use fairground::config::{AdminCommand, AuditCommand, Cli, Command, Config, LogFormat};
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

// mimalloc instead of the system allocator: a catalogue page rendered afresh
// allocates and frees many small strings and the compressor's tables, and
// glibc's malloc took a quarter of that path's time under load (README:
// Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|err| {
        eprintln!("FAIRGROUND_LOG is not a valid filter ({err}); using `info`");
        EnvFilter::new("info")
    });
    // Logs go to stderr; stdout carries only the "listening on" line.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.config);
    let result = run(cli).await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole chain: "applying sqlite migrations: migration 1 was ...".
            eprintln!("fairground: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => fairground::serve(config, fairground::shutdown_signal()).await,
        Command::Precompress => {
            let site = std::path::Path::new(&config.site_root);
            for file in fairground::assets::precompress(site)? {
                println!("{}", file.display());
            }
            Ok(())
        }
        Command::Routes => {
            for (method, path) in fairground::http::route_table() {
                println!("{method} {path}");
            }
            Ok(())
        }
        Command::Admin(AdminCommand::Bootstrap { email, name }) => {
            use app::orgs::service::{bootstrap, BootstrapOutcome};
            let email = app::auth::Email::parse(&email)
                .map(|e| e.as_str().to_string())
                .map_err(|e| anyhow::anyhow!("--email: {}", e.messages_for("email").join(" ")))?;
            let db = fairground::db::open(&config).await?;
            let site = config
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", config.addr));
            let now = app::db::Clock::system().now_ms();
            let outcome = bootstrap(&db, now, &email, &name, &site)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            db.close().await;
            match outcome {
                BootstrapOutcome::Added => println!("{email} is now owner and referee of the platform organisation"),
                BootstrapOutcome::AlreadyMember => println!("{email} already belongs to the platform organisation"),
                BootstrapOutcome::Invited(link) => println!(
                    "{email} has no account yet. Open this single-use link to create it and become owner and referee:\n{link}"
                ),
            }
            Ok(())
        }
        Command::Admin(AdminCommand::Outbox { to }) => {
            let db = fairground::db::open(&config).await?;
            let to = to.map(|t| t.trim().to_lowercase());
            let rows = sqlx::query(
                "SELECT to_email, subject, body, created_at FROM outbox \
                 WHERE ($1 = '' OR to_email = $1) ORDER BY id",
            )
            .bind(to.unwrap_or_default())
            .fetch_all(db.pool())
            .await?;
            db.close().await;
            for r in rows {
                use sqlx::Row as _;
                let to: String = r.try_get("to_email")?;
                let subject: String = r.try_get("subject")?;
                let body: String = r.try_get("body")?;
                let at: i64 = r.try_get("created_at")?;
                println!(
                    "To: {to}\nSubject: {subject}\nDate: {}\n\n{body}\n---",
                    app::calendar::rfc3339(at)
                );
            }
            Ok(())
        }
        Command::Admin(AdminCommand::ResetTwoStep { email }) => {
            let email = app::auth::Email::parse(&email)
                .map(|e| e.as_str().to_string())
                .map_err(|e| anyhow::anyhow!("--email: {}", e.messages_for("email").join(" ")))?;
            let db = fairground::db::open(&config).await?;
            let now = app::db::Clock::system().now_ms();
            let reset = app::auth::two_step::reset(&db, &email, now).await;
            db.close().await;
            match reset {
                Ok(true) => println!("two-step sign-in is off for {email}; their sessions ended"),
                Ok(false) => println!("two-step sign-in was already off for {email}"),
                Err(app::error::AppError::NotFound) => {
                    anyhow::bail!("--email: no account has the address {email}")
                }
                Err(e) => anyhow::bail!("{e}"),
            }
            Ok(())
        }
        Command::Admin(AdminCommand::ApiKey { org, name }) => {
            let db = fairground::db::open(&config).await?;
            let found = sqlx::query_as::<_, (i64, String)>(
                "SELECT id, kind FROM organisations WHERE slug = $1",
            )
            .bind(&org)
            .fetch_optional(db.pool())
            .await?;
            let Some((org_id, kind)) = found else {
                anyhow::bail!("--org: no organisation has the slug {org:?}");
            };
            // Publishers report usage; clients call the gateway.
            let purpose = if kind == "client" {
                app::metering::KeyPurpose::Gateway
            } else {
                app::metering::KeyPurpose::Metering
            };
            let now = app::db::Clock::system().now_ms();
            let (_, key) = app::metering::service::issue(&db, org_id, purpose, &name, None, now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            db.close().await;
            println!("{key}");
            Ok(())
        }
        Command::Audit(AuditCommand::Verify) => {
            let db = fairground::db::open(&config).await?;
            let v = app::audit::db::verify(&db).await?;
            db.close().await;
            match v.broken {
                None => {
                    println!("audit log OK: {} entries, head {}", v.entries, v.head_hash);
                    Ok(())
                }
                Some(b) => anyhow::bail!(
                    "audit log BROKEN at entry {}: {} ({} entries before it are sound)",
                    b.seq,
                    b.reason,
                    v.entries
                ),
            }
        }
        Command::Audit(AuditCommand::Export { out }) => {
            let db = fairground::db::open(&config).await?;
            let written = match &out {
                Some(path) => {
                    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
                    app::audit::db::export(&db, &mut file).await?
                }
                None => {
                    let mut stdout = std::io::BufWriter::new(std::io::stdout());
                    app::audit::db::export(&db, &mut stdout).await?
                }
            };
            db.close().await;
            if let Some(path) = out {
                println!("{written} audit entries written to {}", path.display());
            }
            Ok(())
        }
        Command::Backup { out } => {
            let newest = fairground::db::newest_migration(app::db::Backend::Sqlite);
            let written = fairground::backup::backup(&config.database_url, &out, newest).await?;
            println!("backup written: {written}");
            Ok(())
        }
        Command::Restore { from } => {
            let newest = fairground::db::newest_migration(app::db::Backend::Sqlite);
            let now = app::db::Clock::system().now_ms();
            let done =
                fairground::backup::restore(&config.database_url, &from, newest, now).await?;
            println!("restored: {}", done.checked);
            if let Some(kept) = done.kept {
                println!("the database it replaced is kept as {}", kept.display());
            }
            Ok(())
        }
        Command::Migrate => {
            let db = fairground::db::open(&config).await?;
            db.close().await;
            println!("migrations applied ({})", db.backend().name());
            Ok(())
        }
        Command::Seed(args) => {
            let db = fairground::db::open(&config).await?;
            let clock = app::db::Clock::system();
            if args.demo {
                let r = fairground::seed::demo(&db, &clock).await?;
                println!("demo data ready ({} listings added)", r.listings_added);
            }
            if let Some(n) = args.listings {
                let r = fairground::seed::bulk_listings(&db, &clock, n).await?;
                println!("{} benchmark listings added", r.listings_added);
            }
            db.close().await;
            Ok(())
        }
    }
}
