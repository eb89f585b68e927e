-- Partner API keys (for metering) and the usage they report.

CREATE TABLE api_keys (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id              BIGINT  NOT NULL REFERENCES organisations (id),
    name                TEXT    NOT NULL,
    -- The visible start of the key ("fgk_ab12cd34"), unique, for finding it.
    prefix              TEXT    NOT NULL,
    -- SHA-256 of the whole key, hex: the key itself is never stored.
    key_hash            TEXT    NOT NULL,
    created_by_user_id  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at          BIGINT  NOT NULL,
    revoked_at          BIGINT,
    last_used_at        BIGINT,
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix)
);
CREATE INDEX api_keys_org ON api_keys (org_id);

-- One row per accepted usage record. The idempotency key is unique per
-- reporting organisation: a record sent again is found, never added twice.
CREATE TABLE usage_records (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            BIGINT  NOT NULL REFERENCES organisations (id),
    idempotency_key   TEXT    NOT NULL,
    subscription_id   BIGINT  NOT NULL REFERENCES subscriptions (id),
    dimension         TEXT    NOT NULL,
    quantity          BIGINT  NOT NULL CHECK (quantity > 0),
    occurred_at       BIGINT  NOT NULL,
    received_at       BIGINT  NOT NULL,
    api_key_id        BIGINT  REFERENCES api_keys (id),
    CONSTRAINT usage_records_org_key UNIQUE (org_id, idempotency_key)
);
CREATE INDEX usage_records_subscription ON usage_records (subscription_id, occurred_at);
