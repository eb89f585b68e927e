-- A client organisation's subscription to a published listing: one plan,
-- one of the listing's deployments (base model). At most one active
-- subscription per client and listing, settled by the database under races.

CREATE TABLE subscriptions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    client_org_id       BIGINT  NOT NULL REFERENCES organisations (id),
    listing_id          BIGINT  NOT NULL REFERENCES listings (id),
    plan_id             BIGINT  NOT NULL REFERENCES plans (id),
    deployment_id       BIGINT  NOT NULL REFERENCES deployments (id),
    status              TEXT    NOT NULL CHECK (status IN ('active', 'cancelled')),
    started_at          BIGINT  NOT NULL,
    ended_at            BIGINT,
    created_by_user_id  BIGINT  REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX subscriptions_one_active ON subscriptions (client_org_id, listing_id)
    WHERE status = 'active';
CREATE INDEX subscriptions_listing ON subscriptions (listing_id, started_at);
CREATE INDEX subscriptions_client ON subscriptions (client_org_id, started_at);

-- Moves of a subscription from one deployment to another of the same listing.
CREATE TABLE subscription_switches (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id      BIGINT  NOT NULL REFERENCES subscriptions (id),
    from_deployment_id   BIGINT  NOT NULL REFERENCES deployments (id),
    to_deployment_id     BIGINT  NOT NULL REFERENCES deployments (id),
    by_user_id           BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    at                   BIGINT  NOT NULL
);
CREATE INDEX subscription_switches_subscription ON subscription_switches (subscription_id, at);
