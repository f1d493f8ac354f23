-- 9: a camera's API keys in a table of their own, so that a camera holds two during a
-- rotation's overlap and all of them can be revoked at once. Times in milliseconds;
-- `expires_at` NULL: until rotated or revoked. The hashes move over, except the placeholder of
-- a camera whose key was never set.
CREATE TABLE camera_keys (
    id BIGSERIAL PRIMARY KEY,
    camera_id BIGINT NOT NULL REFERENCES cameras(id),
    key_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX camera_keys_camera ON camera_keys (camera_id, id);
INSERT INTO camera_keys (camera_id, key_hash, created_at)
    SELECT id, key_hash, created_at FROM cameras WHERE key_hash <> '!unset';
ALTER TABLE cameras DROP COLUMN key_hash;

-- Every change to who may ingest as a camera (a key's end moved or revoked, the camera
-- deactivated or reactivated), whether the platform or someone at the database makes it, is
-- announced on the change feed's channel in the transaction that makes it: every server then
-- forgets the keys of that camera it had verified.
CREATE FUNCTION anpr_camera_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('anpr_changes', 'camera:' || OLD.camera_id);
    RETURN NULL;
END $$;
CREATE TRIGGER camera_keys_changed AFTER UPDATE OR DELETE ON camera_keys
    FOR EACH ROW EXECUTE FUNCTION anpr_camera_key_changed();

CREATE FUNCTION anpr_camera_active_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('anpr_changes', 'camera:' || NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER cameras_active_changed AFTER UPDATE OF active ON cameras
    FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION anpr_camera_active_changed();
