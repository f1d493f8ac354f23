-- 12: each camera network's own sharing controls, set by its network auditor (`version` grows
-- with every change, from a sequence, so that every process sees one by polling its sum), and
-- the notices that a tracking watch started to cover a network's cameras (time, purpose code,
-- district: nothing that names a vehicle, a file or an officer).
CREATE SEQUENCE network_controls_version;
CREATE TABLE network_controls (
    network_id BIGINT PRIMARY KEY REFERENCES networks(id),
    suspended BOOLEAN NOT NULL DEFAULT false,
    withheld_purposes TEXT NOT NULL DEFAULT '',
    max_lookback_days BIGINT,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE watch_notices (
    id BIGSERIAL PRIMARY KEY,
    network_id BIGINT NOT NULL REFERENCES networks(id),
    authorisation_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    purpose_code TEXT NOT NULL,
    district TEXT NOT NULL,
    UNIQUE (network_id, authorisation_id)
);
CREATE INDEX watch_notices_network ON watch_notices (network_id, id);
