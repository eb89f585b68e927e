-- Who belongs to which organisation, with what role; invitations; and an
-- outbox for the mail the platform would send (there is no mail server).

-- Lets memberships carry the organisation's kind under a foreign key, so the
-- database itself can require a staff role (referee or player) exactly on
-- platform memberships. One row per (organisation, person) means nobody can
-- hold both staff roles.
CREATE UNIQUE INDEX organisations_id_kind ON organisations (id, kind);

CREATE TABLE memberships (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT  NOT NULL,
    org_kind    TEXT    NOT NULL,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    staff_role  TEXT    CHECK (staff_role IN ('referee', 'player')),
    created_at  BIGINT  NOT NULL,
    CONSTRAINT memberships_org_user_key UNIQUE (org_id, user_id),
    CONSTRAINT memberships_org_fkey FOREIGN KEY (org_id, org_kind) REFERENCES organisations (id, kind) ON DELETE CASCADE,
    CONSTRAINT memberships_staff_role_on_platform_only CHECK ((org_kind = 'platform') = (staff_role IS NOT NULL))
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE invitations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    email       TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    staff_role  TEXT    CHECK (staff_role IN ('referee', 'player')),
    token_hash  TEXT    NOT NULL,
    invited_by  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    accepted_at BIGINT,
    accepted_by BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    revoked_at  BIGINT,
    CONSTRAINT invitations_token_key UNIQUE (token_hash)
);
CREATE INDEX invitations_org ON invitations (org_id);

CREATE TABLE outbox (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT  REFERENCES organisations (id) ON DELETE CASCADE,
    to_email    TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
