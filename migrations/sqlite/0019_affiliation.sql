-- Platform affiliation. A partner organisation is platform-affiliated while
-- one of its members is also platform staff, or while a referee's published
-- declaration (a subsidiary, a staff-run company) stands. The flag is kept
-- on the organisation, changed in the transaction of the membership change
-- that changes it; every change is in the public history.

-- The conflict cases gain the kind 'affiliation'. SQLite cannot change a
-- CHECK constraint with ALTER TABLE, and rebuilding the table inside the
-- migrator's transaction (where foreign keys stay on) would cascade the
-- drop into its parties and events. A CHECK that allows one more value
-- changes nothing stored, so the table's definition is edited in place:
-- SQLite's documented procedure for loosening a constraint. The DDL below
-- moves the schema version, so every other connection rereads the schema;
-- the migrating connection is closed afterwards (`server/src/db.rs`).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''featured'')', '''featured'', ''affiliation'')')
 WHERE type = 'table' AND name = 'conflict_cases';
PRAGMA writable_schema = OFF;

ALTER TABLE organisations ADD COLUMN affiliated BIGINT NOT NULL DEFAULT 0 CHECK (affiliated IN (0, 1));

CREATE TABLE affiliation_declarations (
    org_id       BIGINT  NOT NULL PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    reason       TEXT    NOT NULL,
    declared_by  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    declared_at  BIGINT  NOT NULL
);

CREATE TABLE affiliation_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id       BIGINT  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    affiliated   BIGINT  NOT NULL CHECK (affiliated IN (0, 1)),
    cause        TEXT    NOT NULL CHECK (cause IN ('staff_member', 'declared', 'withdrawn', 'staff_left')),
    reason       TEXT    NOT NULL DEFAULT '',
    at           BIGINT  NOT NULL
);
CREATE INDEX affiliation_history_org ON affiliation_history (org_id, at);
