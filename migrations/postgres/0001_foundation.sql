-- Foundation schema: organisations (tenants), the platform's base-model
-- catalogue, the industry taxonomy and listings.
-- Times are UTC milliseconds since the Unix epoch (BIGINT on both backends).

CREATE TABLE organisations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('platform', 'partner', 'client')),
    created_at  BIGINT  NOT NULL,
    CONSTRAINT organisations_slug_key UNIQUE (slug)
);
-- Exactly one organisation runs the marketplace.
CREATE UNIQUE INDEX organisations_one_platform ON organisations (kind) WHERE kind = 'platform';

CREATE TABLE base_models (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug            TEXT    NOT NULL,
    provider        TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    version         TEXT    NOT NULL,
    modality        TEXT    NOT NULL,
    context_length  BIGINT  NOT NULL CHECK (context_length > 0),
    licence         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deprecated')),
    created_at      BIGINT  NOT NULL,
    CONSTRAINT base_models_slug_key UNIQUE (slug),
    CONSTRAINT base_models_provider_name_version_key UNIQUE (provider, name, version)
);

CREATE TABLE industries (
    slug        TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE listings (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT  NOT NULL REFERENCES organisations (id),
    slug            TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    tagline         TEXT    NOT NULL DEFAULT '',
    industry        TEXT    NOT NULL REFERENCES industries (slug),
    base_model_id   BIGINT  NOT NULL REFERENCES base_models (id),
    status          TEXT    NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'submitted', 'published', 'rejected', 'suspended', 'retired')),
    published_at    BIGINT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    CONSTRAINT listings_slug_key UNIQUE (slug)
);
CREATE INDEX listings_org ON listings (org_id);
CREATE INDEX listings_status_published ON listings (status, published_at DESC, id DESC);
