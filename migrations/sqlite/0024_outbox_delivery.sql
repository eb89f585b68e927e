-- Mail delivery by SMTP (FAIRGROUND_SMTP_URL). A node claims a message for a
-- while (claimed_until) with a conditional update only one node can win,
-- sends it, and marks it sent; a failure is retried later with backoff
-- (attempts, next_attempt_at, last_error). `link` is a path on the site,
-- made absolute with the public URL when sent (notifications carry one).
ALTER TABLE outbox ADD COLUMN link TEXT;
ALTER TABLE outbox ADD COLUMN sent_at BIGINT;
ALTER TABLE outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
