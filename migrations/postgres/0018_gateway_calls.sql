-- The model gateway, second part: the record of every call forwarded, the
-- client's choices for a subscription (fallback, a monthly cap) and the
-- reservations that keep concurrent calls inside the cap.

-- Off by default: a call goes to the chosen deployment only.
ALTER TABLE subscriptions ADD COLUMN allow_fallback BIGINT NOT NULL DEFAULT 0
    CHECK (allow_fallback IN (0, 1));
-- Calls a month the client allows itself; NULL: no cap.
ALTER TABLE subscriptions ADD COLUMN monthly_call_cap BIGINT
    CHECK (monthly_call_cap IS NULL OR monthly_call_cap BETWEEN 1 AND 1000000000);

-- One row per call forwarded through the gateway, written by the platform.
-- Never the prompt or the answer: only who, where, how it went and how much.
CREATE TABLE gateway_calls (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The id the serving upstream saw in Fairground-Request-Id.
    request_id          TEXT    NOT NULL,
    subscription_id     BIGINT  NOT NULL REFERENCES subscriptions (id),
    api_key_id          BIGINT  REFERENCES api_keys (id),
    -- The deployment that served (or last failed); NULL when none could be tried.
    deployment_id       BIGINT  REFERENCES deployments (id),
    -- The deployment it fell back from, when it did.
    fallback_from       BIGINT  REFERENCES deployments (id),
    -- The HTTP status the client was given.
    status              BIGINT  NOT NULL,
    outcome             TEXT    NOT NULL CHECK (outcome IN
        ('ok', 'upstream_refused', 'upstream_error', 'unreachable', 'timeout', 'broken', 'cancelled', 'unavailable')),
    streamed            BIGINT  NOT NULL CHECK (streamed IN (0, 1)),
    -- 2xx from the upstream and, when streamed, finished.
    billable            BIGINT  NOT NULL CHECK (billable IN (0, 1)),
    -- As the upstream reported them; NULL: tokens not reported.
    prompt_tokens       BIGINT  CHECK (prompt_tokens IS NULL OR prompt_tokens >= 0),
    completion_tokens   BIGINT  CHECK (completion_tokens IS NULL OR completion_tokens >= 0),
    upstream_ms         BIGINT  NOT NULL,
    -- Time the gateway itself added, in microseconds.
    overhead_us         BIGINT  NOT NULL,
    occurred_at         BIGINT  NOT NULL,
    CONSTRAINT gateway_calls_request_key UNIQUE (request_id)
);
CREATE INDEX gateway_calls_subscription ON gateway_calls (subscription_id, occurred_at);
CREATE INDEX gateway_calls_deployment ON gateway_calls (deployment_id, occurred_at);

-- Calls reserved against a subscription's monthly cap: taken before a call
-- is forwarded, given back when it ends without being billable.
CREATE TABLE subscription_cap_use (
    subscription_id     BIGINT  NOT NULL REFERENCES subscriptions (id),
    -- year * 100 + month, UTC.
    month               BIGINT  NOT NULL,
    reserved            BIGINT  NOT NULL CHECK (reserved >= 0),
    PRIMARY KEY (subscription_id, month)
);
