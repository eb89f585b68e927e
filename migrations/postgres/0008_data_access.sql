-- Reads of a partner's non-public data by anyone outside the partner: a
-- referee's read (allowed, shown to the partner) or a refused attempt.

CREATE TABLE data_access_log (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         BIGINT  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    actor_user_id  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    actor_org_id   BIGINT  REFERENCES organisations (id) ON DELETE SET NULL,
    what           TEXT    NOT NULL,
    outcome        TEXT    NOT NULL CHECK (outcome IN ('read', 'refused')),
    at             BIGINT  NOT NULL
);
CREATE INDEX data_access_log_org ON data_access_log (org_id, at);
