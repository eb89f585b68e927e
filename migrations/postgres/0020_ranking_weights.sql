-- The ranking's weights become policy: a referee proposes new weights with
-- a reason; they are public at once and apply from the first UTC midnight
-- after the notice period (a policy setting, at least 15 days). Each row
-- is a formula and the instant it applies from; the formula in force is
-- the newest that has begun.
CREATE TABLE ranking_weights (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    relevance_bp   BIGINT  NOT NULL CHECK (relevance_bp BETWEEN 0 AND 10000),
    adoption_bp    BIGINT  NOT NULL CHECK (adoption_bp BETWEEN 0 AND 10000),
    evaluation_bp  BIGINT  NOT NULL CHECK (evaluation_bp BETWEEN 0 AND 10000),
    freshness_bp   BIGINT  NOT NULL CHECK (freshness_bp BETWEEN 0 AND 10000),
    reason         TEXT    NOT NULL,
    proposed_by    BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    proposed_at    BIGINT  NOT NULL,
    effective_at   BIGINT  NOT NULL,
    CONSTRAINT ranking_weights_sum CHECK (relevance_bp + adoption_bp + evaluation_bp + freshness_bp = 10000)
);
CREATE INDEX ranking_weights_effective ON ranking_weights (effective_at);
INSERT INTO ranking_weights (relevance_bp, adoption_bp, evaluation_bp, freshness_bp, reason, proposed_at, effective_at)
    VALUES (5500, 2000, 1500, 1000, 'The formula the marketplace opened with.', 0, 0);

ALTER TABLE policy_settings ADD COLUMN ranking_notice_days BIGINT NOT NULL DEFAULT 15
    CHECK (ranking_notice_days BETWEEN 15 AND 365);

ALTER TABLE policy_changes DROP CONSTRAINT policy_changes_setting_check;
ALTER TABLE policy_changes ADD CONSTRAINT policy_changes_setting_check CHECK (setting IN
    ('non_compete', 'take_rate_bp', 'featured_slots', 'ranking_notice_days', 'ranking_weights'));
