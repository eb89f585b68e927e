//! Rate limits, counted in Redis when nodes share one (so several nodes
//! together allow what one does), else in this node's memory.
//!
//! Each limit is a cell rate: `burst` requests at once, then one each
//! `period / burst`. In Redis the count is a GCRA in one script run per
//! check (one round trip), timed by the Redis server's clock, so nodes
//! whose clocks differ still agree. Should Redis fail or be slow, the
//! check is made in this node's memory instead (never refused because of
//! Redis), a metric counts it, and one log line says when sharing stops
//! and one when it resumes; Redis is tried again a second later.

use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::fmt::Write as _;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a check waits for Redis before counting locally.
const REDIS_TIMEOUT: Duration = Duration::from_millis(100);
/// After a failure, Redis is left alone this long.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// GCRA. KEYS[1]: the key; ARGV[1]: microseconds between two requests;
/// ARGV[2]: the burst. Returns 0 when the request may go, else the
/// microseconds to wait. Numbers are written out in full (`%.0f`): Lua's
/// own conversion would round a microsecond timestamp.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat + emission - emission * burst
if now < allow_at then
  return string.format('%.0f', allow_at - now)
end
local new_tat = tat + emission
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', string.format('%.0f', math.ceil((new_tat - now) / 1000) + 1))
return '0'
";

/// A key as written into Redis: numbers as they are, text (addresses,
/// emails) as a digest, so no personal data sits in Redis and keys stay
/// short.
pub trait LimitKey: Hash + Eq + Clone {
    fn write_key(&self, out: &mut String);
}

impl LimitKey for i64 {
    fn write_key(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl LimitKey for String {
    fn write_key(&self, out: &mut String) {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.as_bytes());
        for b in &digest[..16] {
            let _ = write!(out, "{b:02x}");
        }
    }
}

/// The Redis connection every limit of this node shares.
pub struct Shared {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    script: redis::Script,
    /// Put before every key: this deployment's own (see `new`).
    prefix: String,
    /// Whether the last check reached Redis.
    up: AtomicBool,
    /// Until when (ms since `started`) Redis is left alone after a failure.
    resting_until: AtomicU64,
    started: Instant,
}

impl Shared {
    /// Redis at `url` (redis://host:port[/db]); `prefix` keeps this
    /// deployment's keys apart from any other's in the same Redis. Nothing
    /// is connected yet: a Redis down at start-up is met at the first check.
    pub fn new(url: &str, prefix: String) -> Result<Shared, String> {
        let client = redis::Client::open(url).map_err(|e| format!("FAIRGROUND_REDIS_URL: {e}"))?;
        Ok(Shared {
            client,
            conn: tokio::sync::Mutex::new(None),
            script: redis::Script::new(GCRA),
            prefix,
            up: AtomicBool::new(true),
            resting_until: AtomicU64::new(0),
            started: Instant::now(),
        })
    }

    /// Whether the limits are counted in Redis at the moment.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// One request on `key` of limit `name`: Some(Ok) to go, Some(Err(wait))
    /// when over, None when Redis could not be asked.
    async fn check(
        &self,
        name: &str,
        key: &impl LimitKey,
        emission_us: u64,
        burst: u32,
    ) -> Option<Result<(), Duration>> {
        if self.elapsed_ms() < self.resting_until.load(Ordering::Relaxed) {
            return None;
        }
        let mut full = String::with_capacity(self.prefix.len() + name.len() + 40);
        full.push_str(&self.prefix);
        full.push_str(name);
        full.push(':');
        key.write_key(&mut full);
        let asked = tokio::time::timeout(REDIS_TIMEOUT, async {
            let mut conn = self.connection().await?;
            let mut call = self.script.key(&full);
            call.arg(emission_us).arg(burst);
            let wait: String = call.invoke_async(&mut conn).await?;
            Ok::<String, redis::RedisError>(wait)
        })
        .await;
        match asked {
            Ok(Ok(wait)) => {
                if !self.up.swap(true, Ordering::Relaxed) {
                    tracing::info!("Redis answers again: rate limits are shared across nodes");
                }
                let us: u64 = wait.parse().unwrap_or(0);
                Some(if us == 0 {
                    Ok(())
                } else {
                    Err(Duration::from_micros(us))
                })
            }
            failed => {
                let reason = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {} ms", REDIS_TIMEOUT.as_millis()),
                };
                self.fail(&reason).await;
                None
            }
        }
    }

    async fn connection(&self) -> Result<redis::aio::MultiplexedConnection, redis::RedisError> {
        let mut held = self.conn.lock().await;
        if let Some(conn) = held.as_ref() {
            return Ok(conn.clone());
        }
        let conn = self.client.get_multiplexed_async_connection().await?;
        *held = Some(conn.clone());
        Ok(conn)
    }

    async fn fail(&self, reason: &str) {
        // A new connection next time: this one may be broken.
        *self.conn.lock().await = None;
        self.resting_until.store(
            self.elapsed_ms() + RETRY_AFTER.as_millis() as u64,
            Ordering::Relaxed,
        );
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!(
                error = reason,
                "Redis is unreachable: rate limits fall back to counting on each node"
            );
        }
    }
}

/// One limit: its name (in metrics and Redis keys), its rate, this node's
/// own count, and Redis when shared.
pub struct Limit<K: LimitKey> {
    name: &'static str,
    emission_us: u64,
    burst: u32,
    local: DefaultKeyedRateLimiter<K>,
    shared: Option<Arc<Shared>>,
}

impl<K: LimitKey> Limit<K> {
    /// `burst` requests at once and `burst` a `period`.
    pub fn new(
        name: &'static str,
        burst: u32,
        period: Duration,
        shared: Option<Arc<Shared>>,
    ) -> Limit<K> {
        let burst = burst.max(1);
        let emission = period / burst;
        let quota = Quota::with_period(emission.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Limit {
            name,
            emission_us: emission.as_micros().max(1) as u64,
            burst,
            local: RateLimiter::keyed(quota),
            shared,
        }
    }

    /// One request on `key`: Err(how long to wait) when over.
    pub async fn check(&self, key: &K) -> Result<(), Duration> {
        if let Some(shared) = &self.shared {
            if let Some(answer) = shared
                .check(self.name, key, self.emission_us, self.burst)
                .await
            {
                return answer;
            }
            crate::metrics::metrics().rate_limit_counted_locally(self.name);
        }
        self.local.check_key(key).map_err(|not_until| {
            // The limiter's clock, read only when the key is over.
            not_until.wait_time_from(self.local.clock().now())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_local_limit_allows_its_burst_then_one_per_emission() {
        let limit: Limit<i64> = Limit::new("test", 3, Duration::from_secs(1), None);
        for _ in 0..3 {
            assert_eq!(limit.check(&1).await, Ok(()));
        }
        let wait = limit.check(&1).await.expect_err("the fourth is over");
        assert!(
            wait <= Duration::from_millis(334) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert_eq!(
            limit.check(&2).await,
            Ok(()),
            "another key has its own budget"
        );
    }

    fn fresh_prefix() -> String {
        format!("fairground-unit:{}:", uuid::Uuid::new_v4().simple())
    }

    /// Two nodes' limits on one Redis (the machine's; the test fails when
    /// it is not there) spend one budget; the wait comes from Redis.
    #[tokio::test]
    async fn limits_on_two_nodes_share_one_budget_in_redis() {
        let prefix = fresh_prefix();
        let node = |prefix: &str| {
            let shared = Shared::new("redis://127.0.0.1:6379", prefix.to_string()).expect("url");
            Limit::<String>::new("unit", 4, Duration::from_secs(60), Some(Arc::new(shared)))
        };
        let (a, b) = (node(&prefix), node(&prefix));
        let key = "203.0.113.1".to_string();
        let mut allowed = 0;
        for i in 0..8 {
            let limit = if i % 2 == 0 { &a } else { &b };
            match limit.check(&key).await {
                Ok(()) => allowed += 1,
                Err(wait) => assert!(
                    wait > Duration::from_secs(10) && wait <= Duration::from_secs(15),
                    "one in every 15 s: {wait:?}"
                ),
            }
        }
        assert_eq!(allowed, 4, "the two nodes together allow the burst once");
        let shared = a.shared.as_ref().expect("shared");
        assert!(
            shared.is_up(),
            "Redis at 127.0.0.1:6379 must answer for this test"
        );
        // Another deployment's prefix has its own budget.
        assert_eq!(node(&fresh_prefix()).check(&key).await, Ok(()));
    }

    /// Redis that does not answer: the node counts alone and refuses
    /// nothing because of it.
    #[tokio::test]
    async fn without_redis_the_node_counts_alone() {
        let shared = Arc::new(Shared::new("redis://127.0.0.1:1", fresh_prefix()).expect("url"));
        let limit: Limit<i64> = Limit::new("unit", 2, Duration::from_secs(1), Some(shared.clone()));
        assert_eq!(limit.check(&7).await, Ok(()));
        assert!(!shared.is_up());
        assert_eq!(limit.check(&7).await, Ok(()));
        assert!(
            limit.check(&7).await.is_err(),
            "the node's own count still holds"
        );
    }

    #[test]
    fn text_keys_are_written_as_digests_and_numbers_as_they_are() {
        let mut out = String::new();
        "someone@example.test".to_string().write_key(&mut out);
        assert_eq!(out.len(), 32);
        assert!(!out.contains('@'));
        let mut n = String::new();
        42i64.write_key(&mut n);
        assert_eq!(n, "42");
    }
}
