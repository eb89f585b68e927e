-- Two-step sign-in: a time-based one-time password (RFC 6238) after the
-- password, with single-use recovery codes. Required of platform staff.

-- The shared secret (base32) once two-step sign-in is on; NULL when off.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at BIGINT;
-- The last 30-second step whose code was accepted: a code is used once.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
-- Wrong codes in a row, and when the last one came: after five, each
-- further try waits longer (shared by every node through the database).
ALTER TABLE users ADD COLUMN totp_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_failed_at BIGINT;

-- Recovery codes: only a SHA-256 of each is kept; each works once.
CREATE TABLE recovery_codes (
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    used_at     BIGINT,
    PRIMARY KEY (user_id, code_hash)
);
