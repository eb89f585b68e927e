//! Delivering the outbox by SMTP (`FAIRGROUND_SMTP_URL`): invitations,
//! address confirmations and notifications (README: Mail).
//!
//! Every node runs the same loop. A message is taken with a conditional
//! update that only one node can win (`claimed_until` in the past or
//! unset, not sent), so with several nodes each message is sent once; a
//! node that dies holding a claim lets it lapse after `CLAIM` and another
//! node sends it (at least once: a node killed between the SMTP server's
//! acceptance and the database update would have it sent again). A failure
//! is tried again after a backoff that doubles from `retry` up to an hour,
//! `MAX_ATTEMPTS` times in all. Messages older than `MAX_AGE` are not sent
//! (the links in them have expired or the news is stale): turning SMTP on
//! does not mail a year of old invitations.

use anyhow::Context;
use app::db::{Clock, Db};
use lettre::message::{header::ContentType, Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sqlx::Row;
use std::time::Duration;

/// How long a node holds a message it is sending.
const CLAIM: Duration = Duration::from_secs(120);
/// Messages taken per round.
const BATCH: i64 = 20;
/// Tries in all before a message is given up (and logged).
pub const MAX_ATTEMPTS: i64 = 10;
/// Messages older than this are left unsent.
const MAX_AGE_MS: i64 = 7 * 24 * 3600 * 1000;
/// The longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// How mail leaves.
#[derive(Clone)]
pub struct MailSettings {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Where links in notifications point (`https://host`).
    site: String,
    /// The first wait after a failure (doubled after each).
    retry: Duration,
    /// How often the outbox is looked at.
    every: Duration,
}

impl MailSettings {
    /// From `smtp://[user:pass@]host[:port]` (`smtps://` for TLS from the
    /// start; `?tls=required` for STARTTLS), the sender's address and the
    /// site's public URL.
    pub fn new(
        url: &str,
        from: &str,
        site: &str,
        retry: Duration,
        every: Duration,
    ) -> anyhow::Result<MailSettings> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("FAIRGROUND_SMTP_URL: {e}"))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("FAIRGROUND_MAIL_FROM {from:?}: {e}"))?;
        Ok(MailSettings {
            transport,
            from,
            site: site.trim_end_matches('/').to_string(),
            retry: retry.max(Duration::from_millis(100)),
            every,
        })
    }

    /// The same settings with links made absolute with `site`.
    pub fn linking_to(self, site: &str) -> MailSettings {
        MailSettings {
            site: site.trim_end_matches('/').to_string(),
            ..self
        }
    }
}

/// The wait before try `attempts + 1`, after `attempts` failed.
pub fn backoff(retry: Duration, attempts: i64) -> Duration {
    let doublings = (attempts - 1).clamp(0, 20) as u32;
    retry.saturating_mul(1u32 << doublings).min(MAX_BACKOFF)
}

/// Sends what is due, every `settings.every`, for as long as the node runs.
pub async fn deliver(db: Db, clock: Clock, settings: MailSettings) {
    let mut every = tokio::time::interval(settings.every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if db.is_down() {
            continue;
        }
        match round(&db, &clock, &settings).await {
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "delivering the outbox failed; tried again")
            }
        }
    }
}

/// One look at the outbox: the messages this node sent.
pub async fn round(db: &Db, clock: &Clock, settings: &MailSettings) -> anyhow::Result<usize> {
    let now = clock.now_ms();
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE sent_at IS NULL AND attempts < $1 AND next_attempt_at <= $2 \
         AND created_at >= $3 AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY id LIMIT $4",
    )
    .bind(MAX_ATTEMPTS)
    .bind(now)
    .bind(now - MAX_AGE_MS)
    .bind(BATCH)
    .fetch_all(db.pool())
    .await
    .context("reading the outbox")?;
    let mut sent = 0;
    for id in due {
        if !claim(db, id, clock.now_ms()).await? {
            continue;
        }
        sent += usize::from(send_one(db, clock, settings, id).await?);
    }
    Ok(sent)
}

/// Takes message `id` for this node, if no other node has it: whether it
/// was taken. The condition is checked again on the row under its lock
/// (PostgreSQL) or by the one writer (SQLite), so one node wins.
async fn claim(db: &Db, id: i64, now: i64) -> anyhow::Result<bool> {
    let mut tx = db.begin_write().await?;
    let taken = sqlx::query(
        "UPDATE outbox SET claimed_until = $1 WHERE id = $2 AND sent_at IS NULL \
         AND (claimed_until IS NULL OR claimed_until < $3)",
    )
    .bind(now + CLAIM.as_millis() as i64)
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    tx.commit().await?;
    Ok(taken)
}

/// Sends a claimed message and records what happened: whether it was sent.
async fn send_one(
    db: &Db,
    clock: &Clock,
    settings: &MailSettings,
    id: i64,
) -> anyhow::Result<bool> {
    let row =
        sqlx::query("SELECT to_email, subject, body, link, attempts FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await?;
    let to: String = row.try_get("to_email")?;
    let subject: String = row.try_get("subject")?;
    let mut body: String = row.try_get("body")?;
    let link: Option<String> = row.try_get("link")?;
    let attempts: i64 = row.try_get::<i64, _>("attempts")? + 1;
    if let Some(path) = link.filter(|l| l.starts_with('/')) {
        body.push_str(&format!("\n\n{}{path}\n", settings.site));
    }
    let outcome = match compose(settings, &to, &subject, body) {
        // An address or subject no message can carry: never tried again.
        Err(reason) => Err((reason, MAX_ATTEMPTS)),
        Ok(message) => settings
            .transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| (e.to_string(), attempts)),
    };
    let now = clock.now_ms();
    let mut tx = db.begin_write().await?;
    let sent = match outcome {
        Ok(()) => {
            sqlx::query(
                "UPDATE outbox SET sent_at = $1, attempts = $2, claimed_until = NULL, last_error = NULL WHERE id = $3",
            )
            .bind(now)
            .bind(attempts)
            .bind(id)
            .execute(&mut **tx)
            .await?;
            app::metrics::metrics().mail(true);
            true
        }
        Err((reason, attempts)) => {
            let wait = backoff(settings.retry, attempts);
            sqlx::query(
                "UPDATE outbox SET attempts = $1, next_attempt_at = $2, claimed_until = NULL, last_error = $3 WHERE id = $4",
            )
            .bind(attempts)
            .bind(now + wait.as_millis() as i64)
            .bind(reason.chars().take(500).collect::<String>())
            .bind(id)
            .execute(&mut **tx)
            .await?;
            app::metrics::metrics().mail(false);
            if attempts >= MAX_ATTEMPTS {
                tracing::error!(message = id, attempts, error = %reason, "a message could not be sent and is given up");
            } else {
                tracing::warn!(message = id, attempts, retry_in_s = wait.as_secs(), error = %reason, "sending a message failed; tried again later");
            }
            false
        }
    };
    tx.commit().await?;
    Ok(sent)
}

/// The message as it leaves: plain text, UTF-8. The address and subject
/// are parsed and encoded by the mail builder, so nothing typed into them
/// can add a header.
fn compose(
    settings: &MailSettings,
    to: &str,
    subject: &str,
    body: String,
) -> Result<Message, String> {
    let to: Mailbox = to
        .parse()
        .map_err(|e| format!("the address {to:?} cannot be sent to: {e}"))?;
    Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(subject.replace(['\r', '\n'], " "))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| format!("the message cannot be built: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_wait_up_to_an_hour() {
        let first = Duration::from_secs(30);
        assert_eq!(backoff(first, 1), Duration::from_secs(30));
        assert_eq!(backoff(first, 2), Duration::from_secs(60));
        assert_eq!(backoff(first, 4), Duration::from_secs(240));
        assert_eq!(backoff(first, 9), Duration::from_secs(3600));
        assert_eq!(backoff(first, 1_000), Duration::from_secs(3600));
    }

    #[tokio::test]
    async fn a_hostile_subject_or_address_adds_no_header() {
        let settings = MailSettings::new(
            "smtp://127.0.0.1:2525",
            "Fairground <mail@example.test>",
            "https://example.test",
            Duration::from_secs(30),
            Duration::from_secs(2),
        )
        .expect("settings");
        let m = compose(
            &settings,
            "ada@example.org",
            "Hello\r\nBcc: victim@example.org",
            "Body".into(),
        )
        .expect("message");
        let text = String::from_utf8(m.formatted()).expect("utf-8");
        assert!(!text.contains("\r\nBcc:"), "{text}");
        assert!(
            compose(&settings, "ada@example.org\r\nBcc: x@y.z", "Hi", "B".into()).is_err(),
            "an address with a line break is refused"
        );
    }
}
