-- People and their signed-in sessions. Emails are stored normalised
-- (trimmed, lower-cased), so the unique constraint is case-insensitive in
-- effect. Sessions live in the application database so any app node can
-- serve any request; user_id is lifted out of the session data so all of a
-- person's sessions can be ended at once.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    email           TEXT    NOT NULL,
    display_name    TEXT    NOT NULL,
    password_hash   TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE sessions (
    id          TEXT    PRIMARY KEY,
    user_id     BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    data        TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
