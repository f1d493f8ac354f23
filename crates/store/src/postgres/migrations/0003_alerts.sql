-- 3: real-time tracking alerts. Ids are handed out under an advisory lock and committed in
-- order (the id is the SSE event id clients resume from: a later commit never carries a lower
-- id). Where the read was seen is copied in, so an alert outlives its read.
-- Citus: a reference table (few rows, listed by requester or by district).
CREATE TABLE alerts (
    id BIGSERIAL PRIMARY KEY,
    authorisation_id BIGINT NOT NULL,
    requester_user_id BIGINT NOT NULL,
    district TEXT NOT NULL,
    plate TEXT NOT NULL,
    read_id BIGINT NOT NULL,
    read_plate TEXT NOT NULL,
    captured_at BIGINT NOT NULL,
    camera_id BIGINT NOT NULL,
    site_id BIGINT NOT NULL,
    site_name TEXT NOT NULL,
    network_id BIGINT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    has_overview BOOLEAN NOT NULL,
    has_plate BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    acked_at BIGINT,
    acked_by_staff_id TEXT,
    UNIQUE (authorisation_id, read_id)
);
CREATE INDEX alerts_requester ON alerts (requester_user_id, id);
CREATE INDEX alerts_district ON alerts (lower(district), id);
