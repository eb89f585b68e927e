//! This node's exposure counts, kept in memory between flushes.
//!
//! A request collects what it showed in a [`Shown`] (a request extension
//! the HTTP layer inserts, so a page served from the page cache can replay
//! what its first rendering showed); when the response is made, the
//! collection is added to the node's [`Tally`]; a background task writes
//! the tally to `exposure_daily` every few seconds and at shutdown.

use super::DayCounts as Counts;
use crate::db::Db;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

/// Who opened a page, for counting detail views once: the signed-in
/// person, else the peer address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Visitor {
    User(i64),
    Address(String),
}

/// Visitor/listing pairs remembered per node and day, at most; past it the
/// day's memory starts afresh (views are counted again rather than lost).
pub const MAX_REMEMBERED_VIEWS: usize = 200_000;

/// Listings one response showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub impressions: Vec<i64>,
    pub views: Vec<i64>,
    /// Impressions in the first three places of ranked results (also in
    /// `impressions`).
    pub top: Vec<i64>,
}

impl Seen {
    pub fn is_empty(&self) -> bool {
        self.impressions.is_empty() && self.views.is_empty() && self.top.is_empty()
    }
}

/// The request's collection (shared between the HTTP layer and the render).
#[derive(Debug, Clone, Default)]
pub struct Shown(Arc<Mutex<Seen>>);

impl Shown {
    pub fn add(&self, seen: &Seen) {
        let mut s = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        s.impressions.extend_from_slice(&seen.impressions);
        s.views.extend_from_slice(&seen.views);
        s.top.extend_from_slice(&seen.top);
    }

    pub fn snapshot(&self) -> Seen {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// (day, listing) → counts, not yet in the database.
#[derive(Debug, Default)]
pub struct Tally {
    counts: Mutex<HashMap<(i64, i64), Counts>>,
    /// The day and the (visitor, listing) pairs whose view it counted.
    viewed: Mutex<(i64, HashSet<(Visitor, i64)>)>,
}

impl Tally {
    /// Adds what one visitor's request showed: every impression, but a
    /// listing's detail view only the first time this visitor opens it
    /// this day (reloading a page does not make it more viewed).
    pub fn add_from(&self, day: i64, visitor: &Visitor, seen: &Seen) {
        if seen.views.is_empty() {
            return self.add(day, seen);
        }
        let views = {
            let mut viewed = self.viewed.lock().unwrap_or_else(PoisonError::into_inner);
            if viewed.0 != day || viewed.1.len() >= MAX_REMEMBERED_VIEWS {
                *viewed = (day, HashSet::new());
            }
            seen.views
                .iter()
                .copied()
                .filter(|id| viewed.1.insert((visitor.clone(), *id)))
                .collect()
        };
        self.add(
            day,
            &Seen {
                impressions: seen.impressions.clone(),
                views,
                top: seen.top.clone(),
            },
        );
    }

    pub fn add(&self, day: i64, seen: &Seen) {
        if seen.is_empty() {
            return;
        }
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        for id in &seen.impressions {
            counts.entry((day, *id)).or_default().impressions += 1;
        }
        for id in &seen.views {
            counts.entry((day, *id)).or_default().views += 1;
        }
        for id in &seen.top {
            counts.entry((day, *id)).or_default().top += 1;
        }
    }

    fn merge(&self, back: HashMap<(i64, i64), Counts>) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, n) in back {
            let c = counts.entry(key).or_default();
            c.impressions += n.impressions;
            c.views += n.views;
            c.top += n.top;
        }
    }

    /// Writes what was counted since the last flush, in one transaction.
    /// On failure the counts are kept for the next attempt.
    pub async fn flush(&self, db: &Db) -> Result<usize, sqlx::Error> {
        let pending =
            std::mem::take(&mut *self.counts.lock().unwrap_or_else(PoisonError::into_inner));
        if pending.is_empty() {
            return Ok(0);
        }
        match super::db::add_counts(db, &pending).await {
            Ok(()) => Ok(pending.len()),
            Err(err) => {
                self.merge(pending);
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visitor_views_a_listing_once_a_day() {
        let tally = Tally::default();
        let page = Seen {
            views: vec![7],
            ..Seen::default()
        };
        let ann = Visitor::User(1);
        let ip = Visitor::Address("192.0.2.1".into());
        for _ in 0..5 {
            tally.add_from(10, &ann, &page);
            tally.add_from(10, &ip, &page);
        }
        tally.add_from(11, &ann, &page);
        tally.add_from(
            10,
            &ann,
            &Seen {
                impressions: vec![7, 7],
                views: vec![8],
                top: vec![7],
            },
        );
        let counts = tally.counts.lock().unwrap();
        let c = |i, v, t| Counts {
            impressions: i,
            views: v,
            top: t,
        };
        assert_eq!(
            counts[&(10, 7)],
            c(2, 2, 1),
            "one view each for two visitors"
        );
        assert_eq!(counts[&(11, 7)], c(0, 1, 0), "a new day counts again");
        assert_eq!(counts[&(10, 8)], c(0, 1, 0));
    }

    #[test]
    fn counts_add_up_per_day_and_listing() {
        let tally = Tally::default();
        let seen = Seen {
            impressions: vec![1, 2, 1],
            views: vec![2],
            top: vec![1],
        };
        tally.add(10, &seen);
        tally.add(11, &seen);
        tally.add(10, &Seen::default());
        let counts = tally.counts.lock().unwrap().clone();
        let c = |i, v, t| Counts {
            impressions: i,
            views: v,
            top: t,
        };
        assert_eq!(counts.len(), 4);
        assert_eq!(counts[&(10, 1)], c(2, 0, 1));
        assert_eq!(counts[&(10, 2)], c(1, 1, 0));
        assert_eq!(counts[&(11, 1)], c(2, 0, 1));
        tally.merge(counts);
        assert_eq!(tally.counts.lock().unwrap()[&(10, 1)], c(4, 0, 2));
    }
}
