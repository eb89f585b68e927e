//! Opening the database and applying migrations on start-up.

use anyhow::Context;
use app::db::{Backend, Db};
use sqlx::migrate::Migrator;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

/// Connects and brings the schema up to date. Any failure is an error that
/// names the step, so start-up stops with a message rather than serving on a
/// half-migrated database.
pub async fn open(config: &crate::config::Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url, &config.db_options())
        .await
        .context("opening the database")?;
    migrate(&db).await?;
    Ok(db)
}

pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    let m = migrator(db.backend());
    m.run(db.pool())
        .await
        .with_context(|| format!("applying {} migrations", db.backend().name()))?;
    tracing::info!(
        backend = db.backend().name(),
        latest = m.iter().map(|m| m.version).max().unwrap_or(0),
        "database schema is up to date"
    );
    Ok(())
}
