-- Platform affiliation. A partner organisation is platform-affiliated while
-- one of its members is also platform staff, or while a referee's published
-- declaration (a subsidiary, a staff-run company) stands. The flag is kept
-- on the organisation, changed in the transaction of the membership change
-- that changes it; every change is in the public history.

ALTER TABLE organisations ADD COLUMN affiliated BIGINT NOT NULL DEFAULT 0 CHECK (affiliated IN (0, 1));

CREATE TABLE affiliation_declarations (
    org_id       BIGINT  NOT NULL PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    reason       TEXT    NOT NULL,
    declared_by  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    declared_at  BIGINT  NOT NULL
);

CREATE TABLE affiliation_history (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       BIGINT  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    affiliated   BIGINT  NOT NULL CHECK (affiliated IN (0, 1)),
    cause        TEXT    NOT NULL CHECK (cause IN ('staff_member', 'declared', 'withdrawn', 'staff_left')),
    reason       TEXT    NOT NULL DEFAULT '',
    at           BIGINT  NOT NULL
);
CREATE INDEX affiliation_history_org ON affiliation_history (org_id, at);

-- The conflict cases gain the kind 'affiliation'.
ALTER TABLE conflict_cases DROP CONSTRAINT conflict_cases_kind_check;
ALTER TABLE conflict_cases ADD CONSTRAINT conflict_cases_kind_check CHECK (kind IN
    ('first_party_overlap', 'partner_overlap', 'player_data_access', 'policy_change', 'complaint', 'featured', 'affiliation'));
