-- Append-only audit log kept as a hash chain: each entry stores
-- SHA-256(previous entry's hash, its own canonical content), so editing or
-- deleting any entry breaks every hash after it. audit_head holds the chain's
-- latest position; appending locks it, so entries form one line even with
-- several app nodes. Actor and organisation ids are not foreign keys: the log
-- must outlive what it talks about.

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    seq             BIGINT  NOT NULL,
    occurred_at     BIGINT  NOT NULL,
    actor_user_id   BIGINT,
    org_id          BIGINT,
    action          TEXT    NOT NULL,
    target          TEXT    NOT NULL DEFAULT '',
    client_ip       TEXT    NOT NULL DEFAULT '',
    details         TEXT    NOT NULL DEFAULT '{}',
    prev_hash       TEXT    NOT NULL,
    hash            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    CONSTRAINT audit_log_seq_key UNIQUE (seq)
);
CREATE INDEX audit_log_org ON audit_log (org_id, seq);

CREATE TABLE audit_head (
    id          BIGINT  PRIMARY KEY CHECK (id = 1),
    seq         BIGINT  NOT NULL,
    hash        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
INSERT INTO audit_head (id, seq, hash, created_at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
