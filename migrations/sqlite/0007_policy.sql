-- The marketplace policy the platform owner is bound by: the non-compete
-- flag, the published take rate (basis points) and whether featured slots
-- exist; one row, and every change with its before and after values.

CREATE TABLE policy_settings (
    id              BIGINT  PRIMARY KEY CHECK (id = 1),
    non_compete     BIGINT  NOT NULL CHECK (non_compete IN (0, 1)),
    take_rate_bp    BIGINT  NOT NULL CHECK (take_rate_bp BETWEEN 0 AND 10000),
    featured_slots  BIGINT  NOT NULL CHECK (featured_slots IN (0, 1)),
    updated_at      BIGINT  NOT NULL
);
INSERT INTO policy_settings (id, non_compete, take_rate_bp, featured_slots, updated_at) VALUES (1, 1, 2000, 0, 0);

CREATE TABLE policy_changes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_user_id  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    setting        TEXT    NOT NULL CHECK (setting IN ('non_compete', 'take_rate_bp', 'featured_slots')),
    before_value   TEXT    NOT NULL,
    after_value    TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    at             BIGINT  NOT NULL
);
CREATE INDEX policy_changes_at ON policy_changes (at);
