-- Account security: proven email addresses, and the keys this deployment
-- signs its own links with.

-- Secrets of the deployment, one per purpose, made on first start and the
-- same for every node (they share the database).
CREATE TABLE site_keys (
    name        TEXT    PRIMARY KEY,
    secret      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

-- When the address was proven by a link sent to it; NULL until then, and
-- again NULL if the address changes.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

-- Verification links: only a SHA-256 of the token is kept; single use,
-- for the address they were sent to, until they expire.
CREATE TABLE email_verifications (
    token_hash  TEXT    PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    used_at     BIGINT
);
CREATE INDEX email_verifications_user ON email_verifications (user_id);
