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

/// The newest migration this build has for `backend`.
pub fn newest_migration(backend: Backend) -> i64 {
    migrator(backend)
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// Connects and brings the schema up to date. Any failure is an error that
/// names the step, so start-up stops with a message rather than serving on a
/// half-migrated database.
pub async fn open(config: &crate::config::Config) -> anyhow::Result<Db> {
    open_with(config, &config.db_options()).await
}

/// As `open`, with these connection options.
pub async fn open_with(
    config: &crate::config::Config,
    options: &app::db::DbOptions,
) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url, options)
        .await
        .context("opening the database")?;
    migrate(&db).await?;
    Ok(db)
}

pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    let m = migrator(db.backend());
    // On a connection of its own, closed afterwards: a migration may edit
    // SQLite's schema table directly (0019), which the connection that
    // made the edit keeps seeing in its old form until it reconnects.
    let mut conn = db.pool().acquire().await.context("opening the database")?;
    let applied = m.run(&mut *conn).await;
    conn.close_on_drop();
    drop(conn);
    applied.with_context(|| format!("applying {} migrations", db.backend().name()))?;
    tracing::info!(
        backend = db.backend().name(),
        latest = m.iter().map(|m| m.version).max().unwrap_or(0),
        "database schema is up to date"
    );
    Ok(())
}

/// The deployment's secret for `purpose`: made (32 random bytes) by the
/// first node to ask, then read by every node from the shared database.
pub async fn site_key(db: &Db, purpose: &str, now_ms: i64) -> anyhow::Result<Vec<u8>> {
    use rand::RngCore as _;
    let mut fresh = [0u8; 32];
    rand::rng().fill_bytes(&mut fresh);
    sqlx::query(
        "INSERT INTO site_keys (name, secret, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(purpose)
    .bind(hex::encode(fresh))
    .bind(now_ms)
    .execute(db.pool())
    .await
    .with_context(|| format!("storing the {purpose} key"))?;
    let secret: String = sqlx::query_scalar("SELECT secret FROM site_keys WHERE name = $1")
        .bind(purpose)
        .fetch_one(db.pool())
        .await
        .with_context(|| format!("reading the {purpose} key"))?;
    hex::decode(secret).with_context(|| format!("the {purpose} key is not hex"))
}
