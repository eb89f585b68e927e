-- Conflict-of-interest cases: opened automatically where the platform as a
-- player meets partners (or by a partner's complaint), audited by referees,
-- visible to the partners concerned.

CREATE TABLE conflict_cases (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    kind               TEXT    NOT NULL CHECK (kind IN ('first_party_overlap', 'partner_overlap', 'player_data_access', 'policy_change', 'complaint', 'featured')),
    severity           TEXT    NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    status             TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved', 'dismissed')),
    title              TEXT    NOT NULL,
    industry           TEXT,
    listing_id         BIGINT  REFERENCES listings (id) ON DELETE SET NULL,
    opened_by_user_id  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    opened_at          BIGINT  NOT NULL,
    -- A referee's written justification for letting a first-party listing go live.
    sign_off           TEXT    NOT NULL DEFAULT '',
    signed_off_at      BIGINT,
    note               TEXT    NOT NULL DEFAULT '',
    -- One case per trigger (e.g. per first-party listing), settled by the database.
    dedupe_key         TEXT,
    CONSTRAINT conflict_cases_dedupe_key UNIQUE (dedupe_key)
);
CREATE INDEX conflict_cases_status ON conflict_cases (status, opened_at);

CREATE TABLE case_parties (
    case_id  BIGINT  NOT NULL REFERENCES conflict_cases (id) ON DELETE CASCADE,
    org_id   BIGINT  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    PRIMARY KEY (case_id, org_id)
);
CREATE INDEX case_parties_org ON case_parties (org_id);

-- The other listings a case sets side by side (the partners' in the industry).
CREATE TABLE case_listings (
    case_id     BIGINT  NOT NULL REFERENCES conflict_cases (id) ON DELETE CASCADE,
    listing_id  BIGINT  NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    PRIMARY KEY (case_id, listing_id)
);

CREATE TABLE case_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id        BIGINT  NOT NULL REFERENCES conflict_cases (id) ON DELETE CASCADE,
    actor_user_id  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    what           TEXT    NOT NULL,
    at             BIGINT  NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, at);
