-- The outcome audit. Impressions in the first three places of ranked
-- results are counted apart; once a week is over, each industry's
-- first-party share of those places is set beside its first-party share
-- of published listings, and a ratio above the policy's threshold opens an
-- "exposure anomaly" case. Each check is kept with the counts it used.
-- A month's neutrality report is published once the month is over: its
-- JSON is stored as published and its SHA-256 goes into the audit log.

ALTER TABLE exposure_daily ADD COLUMN top_impressions BIGINT NOT NULL DEFAULT 0;

-- The threshold in hundredths (150 = a ratio of 1.5).
ALTER TABLE policy_settings ADD COLUMN anomaly_ratio_pct BIGINT NOT NULL DEFAULT 150
    CHECK (anomaly_ratio_pct BETWEEN 101 AND 1000);

-- A new case kind and a new policy setting: loosened in place, as in 0019.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''affiliation'')', '''affiliation'', ''exposure_anomaly'')')
 WHERE type = 'table' AND name = 'conflict_cases';
UPDATE sqlite_schema
   SET sql = replace(sql, '''ranking_weights'')', '''ranking_weights'', ''anomaly_ratio_pct'')')
 WHERE type = 'table' AND name = 'policy_changes';
PRAGMA writable_schema = OFF;

-- One row per industry and checked week; industry '' is the week as a
-- whole and marks it checked.
CREATE TABLE exposure_audits (
    week                BIGINT  NOT NULL,  -- the Monday, days since 1970-01-01
    industry            TEXT    NOT NULL,
    top_first_party     BIGINT  NOT NULL,
    top_partner         BIGINT  NOT NULL,
    listed_first_party  BIGINT  NOT NULL,
    listed_partner      BIGINT  NOT NULL,
    ratio_pct           BIGINT  NOT NULL,  -- the threshold in force at the check
    case_id             BIGINT  REFERENCES conflict_cases (id) ON DELETE SET NULL,
    checked_at          BIGINT  NOT NULL,
    PRIMARY KEY (week, industry)
);

CREATE TABLE neutrality_reports (
    month         TEXT    NOT NULL PRIMARY KEY,  -- 2026-11
    body          TEXT    NOT NULL,              -- the JSON, byte for byte as served
    sha256        TEXT    NOT NULL,
    published_at  BIGINT  NOT NULL
);
