//! What the last calls of a key to a model read: a hint that lets the next
//! call be sent upstream while its own read of the database is still on
//! its way. A hint is never trusted: every call still reads the key, the
//! subscription and the deployments after it arrived, and its answer is
//! passed on only when that read agrees with the hint. When it does not
//! (a key revoked, a subscription cancelled, a deployment paused or moved
//! since), the upstream's answer is dropped, the attempt recorded at zero,
//! and the call routed again from what was read. On PostgreSQL this takes
//! a round trip to the database off each call's path.
//!
//! So that a node rarely sends a call it then drops, PostgreSQL announces
//! every change to what a call reads (migration 0025's triggers, channel
//! `fairground_gateway`) and each node lets all its hints go at each
//! notice (`follow_changes`); while a node is not listening, it uses no
//! hint. A hint is also used only within a few seconds of the read that
//! left it.

use super::db::CallContext;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The channel PostgreSQL announces changes on (migration 0025).
pub const CHANNEL: &str = "fairground_gateway";

/// Hints kept at most; past it they are all let go (a hint is only a
/// guess, so losing them costs the next calls their head start).
const MAX_HINTS: usize = 4_096;
/// A hint older than this is not used: a key not used for a while may have
/// been revoked meanwhile, and its next call should not reach a model
/// server before the database says so.
const MAX_AGE: Duration = Duration::from_secs(5);

/// A key's prefix and a listing's slug.
type Called = (String, String);

/// Hints by key prefix and listing slug.
pub struct Hints {
    map: Mutex<HashMap<Called, (Arc<CallContext>, Instant)>>,
    /// Whether changes reach this node (always, without a listener to
    /// wait for): hints are used only then.
    followed: AtomicBool,
}

impl Hints {
    /// `announced`: changes are announced (PostgreSQL), so hints are used
    /// only while `follow_changes` listens.
    pub fn new(announced: bool) -> Hints {
        Hints {
            map: Mutex::new(HashMap::new()),
            followed: AtomicBool::new(!announced),
        }
    }

    /// The hint for `prefix` calling `slug`, when there is a recent one.
    pub fn get(&self, prefix: &str, slug: &str) -> Option<Arc<CallContext>> {
        if !self.followed.load(Ordering::Acquire) {
            return None;
        }
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(prefix.to_string(), slug.to_string()))
            .filter(|(_, at)| at.elapsed() < MAX_AGE)
            .map(|(c, _)| c.clone())
    }

    /// What a call read for `prefix` and `slug` (None: no live key).
    pub fn put(&self, prefix: &str, slug: &str, read: Option<&CallContext>) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let k = (prefix.to_string(), slug.to_string());
        match read {
            None => {
                map.remove(&k);
            }
            Some(c) => {
                if map.len() >= MAX_HINTS && !map.contains_key(&k) {
                    map.clear();
                }
                map.insert(k, (Arc::new(c.clone()), Instant::now()));
            }
        }
    }

    /// Lets every hint go: what calls read may have changed.
    pub fn clear(&self) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Whether changes reach this node; either way, what was kept before
    /// is let go.
    fn set_followed(&self, followed: bool) {
        self.followed.store(followed, Ordering::Release);
        self.clear();
    }

    /// Hints held.
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Listens on PostgreSQL (`url`) for the changes migration 0025 announces
/// and lets the hints go at each; reconnects after a second when the
/// connection fails. Runs as long as the process.
pub async fn follow_changes(url: String, gateway: Arc<super::Gateway>) {
    use sqlx::postgres::PgListener;
    let hints = &gateway.hints;
    let mut broken_logged = false;
    loop {
        let listening = async {
            let mut listener = PgListener::connect(&url).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        match listening {
            Ok(mut listener) => {
                hints.set_followed(true);
                if broken_logged {
                    tracing::info!("the gateway hears of changes again: hints are used");
                    broken_logged = false;
                }
                // A lost connection (Ok(None)) may have lost notices too:
                // start again from nothing.
                while let Ok(Some(_)) = listener.try_recv().await {
                    hints.clear();
                    crate::metrics::metrics().gateway_change_heard();
                }
                hints.set_followed(false);
            }
            Err(err) => {
                hints.set_followed(false);
                if !broken_logged {
                    tracing::warn!(error = %err, "the gateway cannot listen for changes: calls wait for their own read until it can");
                    broken_logged = true;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(key_id: i64) -> CallContext {
        CallContext {
            key_id,
            key_hash: "h".into(),
            named: None,
            candidates: Vec::new(),
        }
    }

    #[test]
    fn a_hint_is_kept_per_key_and_model_and_let_go_when_the_key_is_not_live() {
        let hints = Hints::new(false);
        hints.put("fgc_aaaaaaaa", "cardio", Some(&context(1)));
        hints.put("fgc_aaaaaaaa", "oncology", Some(&context(2)));
        assert_eq!(
            hints.get("fgc_aaaaaaaa", "cardio").map(|c| c.key_id),
            Some(1)
        );
        assert_eq!(
            hints.get("fgc_aaaaaaaa", "oncology").map(|c| c.key_id),
            Some(2)
        );
        assert!(hints.get("fgc_bbbbbbbb", "cardio").is_none());
        hints.put("fgc_aaaaaaaa", "cardio", None);
        assert!(hints.get("fgc_aaaaaaaa", "cardio").is_none());
        assert_eq!(hints.len(), 1);
    }

    #[test]
    fn announced_changes_leave_hints_unused_until_followed() {
        let hints = Hints::new(true);
        hints.put("fgc_aaaaaaaa", "cardio", Some(&context(1)));
        assert!(
            hints.get("fgc_aaaaaaaa", "cardio").is_none(),
            "not listening yet"
        );
        hints.set_followed(true);
        assert!(
            hints.get("fgc_aaaaaaaa", "cardio").is_none(),
            "let go on listening"
        );
        hints.put("fgc_aaaaaaaa", "cardio", Some(&context(1)));
        assert!(hints.get("fgc_aaaaaaaa", "cardio").is_some());
        hints.clear();
        assert!(hints.get("fgc_aaaaaaaa", "cardio").is_none());
    }

    #[test]
    fn hints_are_bounded() {
        let hints = Hints::new(false);
        for i in 0..MAX_HINTS + 10 {
            hints.put(&format!("fgc_{i:08}"), "m", Some(&context(i as i64)));
        }
        assert!(hints.len() <= MAX_HINTS);
        assert!(hints
            .get(&format!("fgc_{:08}", MAX_HINTS + 9), "m")
            .is_some());
    }
}
