-- 2: access control: registers with their change log, network sharing agreements, tracking
-- and look-back authorisations, decision records.
--
-- Citus: `reg_vehicles` (millions of rows) is distributed by `plate` (the policy's per-request
-- lookup; the lookups by owner fan out, once per member of staff and cached); `decisions` by
-- `user_id`; `register_changes` by `import_id`; the rest are small reference tables.
CREATE TABLE register_imports (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    register TEXT NOT NULL,
    source TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    inserted BIGINT NOT NULL DEFAULT 0,
    updated BIGINT NOT NULL DEFAULT 0,
    unchanged BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE register_changes (
    id BIGSERIAL PRIMARY KEY,
    import_id BIGINT NOT NULL REFERENCES register_imports(id),
    key TEXT NOT NULL,
    change TEXT NOT NULL,
    before TEXT
);
CREATE TABLE reg_vehicles (
    plate TEXT PRIMARY KEY,
    owner_person_id TEXT NOT NULL,
    owner_address_id TEXT NOT NULL,
    make TEXT,
    model TEXT,
    colour TEXT,
    import_id BIGINT NOT NULL
);
CREATE INDEX reg_vehicles_person ON reg_vehicles (owner_person_id);
CREATE INDEX reg_vehicles_address ON reg_vehicles (owner_address_id);
CREATE TABLE reg_staff (
    staff_id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    home_address_id TEXT NOT NULL,
    team TEXT,
    import_id BIGINT NOT NULL
);
CREATE TABLE reg_associates (
    staff_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    relationship TEXT,
    import_id BIGINT NOT NULL,
    PRIMARY KEY (staff_id, person_id)
);
CREATE TABLE reg_stolen (
    id BIGSERIAL PRIMARY KEY,
    plate TEXT NOT NULL,
    file_number TEXT NOT NULL,
    reported_at BIGINT NOT NULL,
    complainant_person_id TEXT NOT NULL,
    recorded_by_staff_id TEXT NOT NULL,
    status TEXT NOT NULL,
    cancelled_at BIGINT,
    import_id BIGINT NOT NULL,
    UNIQUE (plate, file_number)
);
CREATE TABLE reg_incidents (
    file_number TEXT PRIMARY KEY,
    incident_type TEXT NOT NULL,
    district TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    closed_at BIGINT,
    assigned_staff TEXT NOT NULL,
    import_id BIGINT NOT NULL
);
CREATE TABLE network_agreements (
    network_id BIGINT NOT NULL REFERENCES networks(id),
    "use" TEXT NOT NULL,
    party TEXT NOT NULL,
    PRIMARY KEY (network_id, "use", party)
);
CREATE TABLE authorisations (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    plate TEXT NOT NULL,
    requester_user_id BIGINT NOT NULL,
    requester_staff_id TEXT NOT NULL,
    district TEXT NOT NULL,
    purpose_code TEXT NOT NULL,
    file_number TEXT NOT NULL,
    justification TEXT NOT NULL,
    basis TEXT NOT NULL,
    stolen_entry_id BIGINT,
    approval_reasons TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    approval_deadline BIGINT,
    duration_minutes BIGINT NOT NULL,
    starts_at BIGINT,
    expires_at BIGINT,
    decided_by_staff_id TEXT,
    decided_at BIGINT,
    decision_reason TEXT,
    ended_at BIGINT,
    end_reason TEXT,
    renews BIGINT,
    lookback_from BIGINT,
    fuzzy BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX authorisations_plate ON authorisations (plate, requester_user_id);
CREATE INDEX authorisations_status ON authorisations (status, lower(district));
CREATE INDEX authorisations_stolen ON authorisations (stolen_entry_id)
    WHERE stolen_entry_id IS NOT NULL;
CREATE TABLE decisions (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    request_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    user_id BIGINT,
    district TEXT,
    action TEXT NOT NULL,
    target TEXT,
    purpose_code TEXT,
    file_number TEXT,
    justification TEXT,
    basis TEXT,
    outcome TEXT NOT NULL,
    refusal_code TEXT,
    refusal_reason TEXT,
    notes TEXT NOT NULL,
    training BOOLEAN NOT NULL,
    authorisation_id BIGINT
);
CREATE INDEX decisions_user ON decisions (user_id, id);
-- Bumped by every register import and agreement change, so that caches of register facts
-- (in this or another process) know when to drop what they hold.
CREATE TABLE register_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO register_version (id, version) VALUES (1, 0);
