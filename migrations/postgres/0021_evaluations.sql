-- Evaluation with provenance. A deployment's score typed by its publisher
-- stays, as "self-reported" (with an optional evidence link), and is no
-- longer an input of the ranking. Verified scores come from evaluation
-- runs: referees publish one evaluation set per industry (versioned,
-- public), a run sends the set's prompts to a deployment through the
-- platform and scores the answers with the set's rule.
ALTER TABLE deployments ADD COLUMN eval_evidence_url TEXT;
-- The deployment's latest run; stale once its revision or upstream
-- changed after it (a newer set version also makes it stale: compared
-- when read).
ALTER TABLE deployments ADD COLUMN verified_run_id BIGINT;
ALTER TABLE deployments ADD COLUMN verified_stale BIGINT NOT NULL DEFAULT 0 CHECK (verified_stale IN (0, 1));

CREATE TABLE evaluation_sets (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    industry     TEXT    NOT NULL REFERENCES industries (slug),
    name         TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    CONSTRAINT evaluation_sets_industry_key UNIQUE (industry)
);

CREATE TABLE evaluation_set_versions (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    set_id           BIGINT  NOT NULL REFERENCES evaluation_sets (id),
    version          BIGINT  NOT NULL CHECK (version >= 1),
    rule             TEXT    NOT NULL CHECK (rule IN ('exact', 'contains', 'numeric')),
    -- For 'numeric': how far an answer may be from the expected number,
    -- in thousandths.
    tolerance_milli  BIGINT  NOT NULL DEFAULT 0 CHECK (tolerance_milli BETWEEN 0 AND 1000000000),
    items            TEXT    NOT NULL,
    item_count       BIGINT  NOT NULL CHECK (item_count BETWEEN 1 AND 200),
    reason           TEXT    NOT NULL,
    published_by     BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    published_at     BIGINT  NOT NULL,
    CONSTRAINT evaluation_set_versions_set_version_key UNIQUE (set_id, version)
);

CREATE TABLE evaluation_runs (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deployment_id   BIGINT  NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    set_version_id  BIGINT  NOT NULL REFERENCES evaluation_set_versions (id),
    revision        TEXT    NOT NULL,
    passed          BIGINT  NOT NULL,
    total           BIGINT  NOT NULL,
    errors          BIGINT  NOT NULL,
    score           BIGINT  NOT NULL CHECK (score BETWEEN 0 AND 100),
    prompt_tokens      BIGINT NOT NULL DEFAULT 0,
    completion_tokens  BIGINT NOT NULL DEFAULT 0,
    started_by      BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    started_at      BIGINT  NOT NULL,
    finished_at     BIGINT  NOT NULL
);
CREATE INDEX evaluation_runs_deployment ON evaluation_runs (deployment_id, id);

CREATE TABLE evaluation_run_items (
    run_id    BIGINT  NOT NULL REFERENCES evaluation_runs (id) ON DELETE CASCADE,
    item_no   BIGINT  NOT NULL,
    outcome   TEXT    NOT NULL CHECK (outcome IN ('pass', 'fail', 'error')),
    PRIMARY KEY (run_id, item_no)
);
