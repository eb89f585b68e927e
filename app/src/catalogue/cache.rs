//! This node's search index, kept until the catalogue version moves.

use super::index::Index;
use crate::db::Db;
use crate::error::AppError;
use std::sync::{Arc, RwLock};

const DAY_MS: i64 = 86_400_000;

/// The catalogue version a request read as it began: the page cache reads
/// it to know whether a kept page is current, and puts it in the request's
/// extensions, so that rendering the page does not read it a second time.
/// An index at least that new serves the page, as if read then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionRead(pub i64);

/// The current index of this node, rebuilt when the catalogue version moves.
#[derive(Default)]
pub struct CatalogueCache {
    current: RwLock<Option<Arc<Index>>>,
    rebuild: tokio::sync::Mutex<()>,
}

impl CatalogueCache {
    fn cached(&self) -> Option<Arc<Index>> {
        self.current.read().ok().and_then(|g| g.clone())
    }

    /// The index for the database's current catalogue version and the
    /// current day (UTC) at `now_ms`: adoption counts calls of the 30 days
    /// before the day, so a new day rebuilds it.
    pub async fn get(&self, db: &Db, now_ms: i64) -> Result<Arc<Index>, AppError> {
        self.get_as_of(db, now_ms, None).await
    }

    /// As `get`, with the catalogue version this request has already read
    /// (`VersionRead`), if any, instead of reading it again.
    pub async fn get_as_of(
        &self,
        db: &Db,
        now_ms: i64,
        read: Option<VersionRead>,
    ) -> Result<Arc<Index>, AppError> {
        let version = match read {
            Some(VersionRead(v)) => v,
            None => super::db::catalogue_version(db).await?,
        };
        let day = now_ms.div_euclid(DAY_MS);
        if let Some(ix) = self
            .cached()
            .filter(|ix| ix.version == version && ix.day == day)
        {
            return Ok(ix);
        }
        // One rebuild at a time; whoever waited uses the fresh one.
        let _one = self.rebuild.lock().await;
        if let Some(ix) = self
            .cached()
            .filter(|ix| ix.version >= version && ix.day == day)
        {
            return Ok(ix);
        }
        // The version is read before the rows: a change committed in between
        // makes this index newer than its version says, and the next request
        // rebuilds it again — never older.
        let since = (day - super::db::ADOPTION_WINDOW_DAYS) * DAY_MS;
        let (entries, facets) = super::db::load_index(db, since).await?;
        // Weight changes apply from a UTC midnight: the day's index holds
        // the formula of the whole day.
        let weights = super::db::weights_in_force(db.pool(), day * DAY_MS).await?;
        let ix = Arc::new(Index::new(version, day, weights, entries, facets));
        if let Ok(mut slot) = self.current.write() {
            *slot = Some(ix.clone());
        }
        Ok(ix)
    }
}
