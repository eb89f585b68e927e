-- Listings become full industry models: model-card fields, tags and
-- certifications, deployments on several base models (one default), plans,
-- a review trail, a visible change history, in-app notifications, and a
-- catalogue version every node compares to know its search index is current.

ALTER TABLE listings ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE listings ADD COLUMN data_residency TEXT NOT NULL DEFAULT '';
ALTER TABLE listings ADD COLUMN documentation_url TEXT NOT NULL DEFAULT '';
-- Why a referee rejected or suspended the listing; the partner sees it.
ALTER TABLE listings ADD COLUMN review_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE listings ADD COLUMN submitted_at BIGINT;
-- listings.base_model_id now mirrors the default deployment's base model
-- (kept in step by the service, in the same transaction).

CREATE TABLE listing_tags (
    listing_id  BIGINT  NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    tag         TEXT    NOT NULL,
    PRIMARY KEY (listing_id, tag)
);

CREATE TABLE listing_certifications (
    listing_id     BIGINT  NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    certification  TEXT    NOT NULL,
    PRIMARY KEY (listing_id, certification)
);

CREATE TABLE deployments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id     BIGINT  NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    base_model_id  BIGINT  NOT NULL REFERENCES base_models (id),
    revision       TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'preview', 'paused')),
    -- 0..=100, from the partner's own evaluation; NULL when none is published.
    eval_score     BIGINT  CHECK (eval_score BETWEEN 0 AND 100),
    is_default     BIGINT  NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at     BIGINT  NOT NULL,
    CONSTRAINT deployments_listing_model_revision_key UNIQUE (listing_id, base_model_id, revision)
);
-- At most one default per listing, settled by the database under races.
CREATE UNIQUE INDEX deployments_one_default ON deployments (listing_id) WHERE is_default = 1;
CREATE INDEX deployments_base_model ON deployments (base_model_id);

INSERT INTO deployments (listing_id, base_model_id, revision, status, is_default, created_at)
SELECT id, base_model_id, 'initial', 'active', 1, created_at FROM listings;

CREATE TABLE plans (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id              BIGINT  NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    name                    TEXT    NOT NULL,
    monthly_fee_minor       BIGINT  NOT NULL CHECK (monthly_fee_minor >= 0),
    currency                TEXT    NOT NULL CHECK (length(currency) = 3),
    included_calls          BIGINT  NOT NULL CHECK (included_calls >= 0),
    overage_per_1000_minor  BIGINT  NOT NULL CHECK (overage_per_1000_minor >= 0),
    active                  BIGINT  NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at              BIGINT  NOT NULL,
    CONSTRAINT plans_listing_name_key UNIQUE (listing_id, name)
);
CREATE INDEX plans_listing ON plans (listing_id);

-- Price and deployment changes made while a listing is public.
CREATE TABLE listing_changes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id     BIGINT  NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    actor_user_id  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('plan', 'deployment')),
    summary        TEXT    NOT NULL,
    at             BIGINT  NOT NULL
);
CREATE INDEX listing_changes_listing ON listing_changes (listing_id, at);

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      BIGINT  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    link        TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    read_at     BIGINT
);
CREATE INDEX notifications_org ON notifications (org_id, created_at);

-- Bumped in the transaction of every change that alters what the public
-- catalogue shows; each node rebuilds its search index when it moves.
CREATE TABLE catalogue_state (
    id       BIGINT  PRIMARY KEY CHECK (id = 1),
    version  BIGINT  NOT NULL
);
INSERT INTO catalogue_state (id, version) VALUES (1, 1);
