-- Gateway nodes send a key's calls on what its last call read (the key,
-- the subscription, the listing's deployments and their upstreams) while
-- each call's own read is on its way, and drop an answer when that read
-- disagrees. A change to any of these tells every node at once
-- (NOTIFY fairground_gateway), so a node lets its hints go rather than
-- send a call it would then have to drop. Statement triggers: one notice
-- per statement, and PostgreSQL sends one per transaction.
CREATE FUNCTION fairground_gateway_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('fairground_gateway', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- Not on every use: a key's last use is written once a second.
CREATE TRIGGER api_keys_gateway
    AFTER UPDATE OF revoked_at, key_hash, prefix, purpose, org_id OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION fairground_gateway_changed();
CREATE TRIGGER subscriptions_gateway
    AFTER INSERT OR UPDATE OR DELETE ON subscriptions
    FOR EACH STATEMENT EXECUTE FUNCTION fairground_gateway_changed();
CREATE TRIGGER listings_gateway
    AFTER UPDATE OF status, public_slug OR DELETE ON listings
    FOR EACH STATEMENT EXECUTE FUNCTION fairground_gateway_changed();
CREATE TRIGGER deployments_gateway
    AFTER INSERT OR UPDATE OR DELETE ON deployments
    FOR EACH STATEMENT EXECUTE FUNCTION fairground_gateway_changed();
CREATE TRIGGER deployment_upstreams_gateway
    AFTER INSERT OR UPDATE OR DELETE ON deployment_upstreams
    FOR EACH STATEMENT EXECUTE FUNCTION fairground_gateway_changed();
CREATE TRIGGER base_models_gateway
    AFTER UPDATE OR DELETE ON base_models
    FOR EACH STATEMENT EXECUTE FUNCTION fairground_gateway_changed();
