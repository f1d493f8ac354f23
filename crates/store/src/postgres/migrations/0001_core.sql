-- 1: catalog, plate dictionary, reads (partitioned by capture day), images, users, sessions.
--
-- Citus distribution (see ARCHITECTURE.md, "Scale-out"): `reads` is distributed by
-- `plate_id` (every search names its plate ids; a batch's rows route one by one), `images` by
-- `sha`; `plates` and the catalog tables are reference tables (read on every ingest and search,
-- small). Times are milliseconds since the Unix epoch, as in the SQLite store, so a deployment
-- moves between the two without conversion.
CREATE TABLE networks (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    retention_days BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE sites (
    id BIGSERIAL PRIMARY KEY,
    network_id BIGINT NOT NULL REFERENCES networks(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    district TEXT NOT NULL
);
CREATE TABLE cameras (
    id BIGSERIAL PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    heading_deg BIGINT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    key_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
-- Ids are handed out under an advisory lock and committed in order, so "plates with an id
-- above the highest I know" is exactly what another process added since.
CREATE TABLE plates (
    id BIGSERIAL PRIMARY KEY,
    plate TEXT NOT NULL UNIQUE
);
-- Partitioned by capture day (`day` = days since the epoch), one partition per 7 days, created
-- ahead by the store; retention drops whole partitions. Read ids come from one sequence, unique across partitions.
CREATE SEQUENCE reads_id_seq;
CREATE TABLE reads (
    id BIGINT NOT NULL,
    plate_id BIGINT NOT NULL,
    camera_id BIGINT NOT NULL,
    day INTEGER NOT NULL,
    captured_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    plate_raw TEXT NOT NULL,
    confidence REAL NOT NULL,
    box_x BIGINT, box_y BIGINT, box_w BIGINT, box_h BIGINT,
    make TEXT,
    colour TEXT,
    overview_sha BYTEA,
    plate_sha BYTEA,
    external_id TEXT,
    legal_hold BOOLEAN NOT NULL DEFAULT FALSE
) PARTITION BY RANGE (day);
-- Search: a plate's reads newest first, within the days asked for.
CREATE INDEX reads_plate_time ON reads (plate_id, captured_at, id);
-- A read by id (links, images, alerts).
CREATE INDEX reads_id ON reads (id);
-- Retried uploads: the camera's own id for a read is stored once. The partition key and the
-- distribution column lead, as both PostgreSQL and Citus require of a unique index.
CREATE UNIQUE INDEX reads_external_id ON reads (plate_id, day, camera_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX reads_legal_hold ON reads (day) WHERE legal_hold;
CREATE TABLE images (
    sha BYTEA PRIMARY KEY,
    refs BIGINT NOT NULL
);
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    staff_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    district TEXT NOT NULL,
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    badge_number TEXT
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
