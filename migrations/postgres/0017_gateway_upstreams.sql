-- The model gateway, first part: where each deployment is served and the
-- secret that signs the calls forwarded to it, and keys of two purposes.

-- A deployment's upstream: an OpenAI-compatible base URL and the model
-- name sent to it. Partner data: never shown publicly, never logged. The
-- signing secret is kept as it was shown (once) to the publisher, since it
-- signs every forwarded call.
CREATE TABLE deployment_upstreams (
    deployment_id   BIGINT  NOT NULL PRIMARY KEY REFERENCES deployments (id) ON DELETE CASCADE,
    base_url        TEXT    NOT NULL,
    upstream_model  TEXT    NOT NULL,
    signing_secret  TEXT    NOT NULL,
    updated_at      BIGINT  NOT NULL
);

-- 'metering': a publisher reports usage with it; 'gateway': a client calls
-- its subscribed models with it. A key works for its own purpose only.
ALTER TABLE api_keys ADD COLUMN purpose TEXT NOT NULL DEFAULT 'metering'
    CHECK (purpose IN ('metering', 'gateway'));
