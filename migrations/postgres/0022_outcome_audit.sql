-- The outcome audit and the monthly neutrality report (see the SQLite
-- migration of the same name for what each part is for).

ALTER TABLE exposure_daily ADD COLUMN top_impressions BIGINT NOT NULL DEFAULT 0;

ALTER TABLE policy_settings ADD COLUMN anomaly_ratio_pct BIGINT NOT NULL DEFAULT 150
    CHECK (anomaly_ratio_pct BETWEEN 101 AND 1000);

ALTER TABLE conflict_cases DROP CONSTRAINT conflict_cases_kind_check;
ALTER TABLE conflict_cases ADD CONSTRAINT conflict_cases_kind_check CHECK (kind IN
    ('first_party_overlap', 'partner_overlap', 'player_data_access', 'policy_change', 'complaint', 'featured', 'affiliation', 'exposure_anomaly'));

ALTER TABLE policy_changes DROP CONSTRAINT policy_changes_setting_check;
ALTER TABLE policy_changes ADD CONSTRAINT policy_changes_setting_check CHECK (setting IN
    ('non_compete', 'take_rate_bp', 'featured_slots', 'ranking_notice_days', 'ranking_weights', 'anomaly_ratio_pct'));

CREATE TABLE exposure_audits (
    week                BIGINT  NOT NULL,
    industry            TEXT    NOT NULL,
    top_first_party     BIGINT  NOT NULL,
    top_partner         BIGINT  NOT NULL,
    listed_first_party  BIGINT  NOT NULL,
    listed_partner      BIGINT  NOT NULL,
    ratio_pct           BIGINT  NOT NULL,
    case_id             BIGINT  REFERENCES conflict_cases (id) ON DELETE SET NULL,
    checked_at          BIGINT  NOT NULL,
    PRIMARY KEY (week, industry)
);

CREATE TABLE neutrality_reports (
    month         TEXT    NOT NULL PRIMARY KEY,
    body          TEXT    NOT NULL,
    sha256        TEXT    NOT NULL,
    published_at  BIGINT  NOT NULL
);
