-- 4: hot lists, integrity review cases, usage reports (SQLite migrations 4 to 6).
--
-- Hot lists: a camera network's own staff (`network_operator`, bound to their network) may
-- receive "vehicle of interest" alerts for plates on the admin-loaded stolen-vehicle hot list,
-- if the network's agreement allows it. Such an alert has no authorisation: its
-- `authorisation_id` and `requester_user_id` are 0 and its district empty; `kind` tells it
-- apart from a tracking alert.
ALTER TABLE users ADD COLUMN network_id BIGINT REFERENCES networks(id);
ALTER TABLE alerts ADD COLUMN kind TEXT NOT NULL DEFAULT 'watch';
CREATE INDEX alerts_hot_list ON alerts (network_id, id) WHERE kind = 'hot_list';
CREATE INDEX alerts_created ON alerts (created_at);
CREATE TABLE hot_list (
    plate TEXT NOT NULL,
    stolen_entry_id BIGINT NOT NULL,
    loaded_at BIGINT NOT NULL,
    PRIMARY KEY (plate, stolen_entry_id)
);
-- Integrity monitoring: findings, one per (rule, staff, key), their evidence a JSON array of
-- ledger indices; one review case per finding; the runs, so that an incremental run knows the
-- last ledger index looked at. Citus: reference tables (thousands of rows, not billions).
CREATE TABLE integrity_findings (
    id BIGSERIAL PRIMARY KEY,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    key TEXT NOT NULL,
    evidence TEXT NOT NULL,
    uses BIGINT NOT NULL,
    explanation TEXT NOT NULL,
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    found_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (rule, staff_id, key)
);
CREATE TABLE integrity_cases (
    id BIGSERIAL PRIMARY KEY,
    finding_id BIGINT NOT NULL UNIQUE REFERENCES integrity_findings(id),
    queue TEXT NOT NULL,
    status TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    district TEXT,
    assigned_to TEXT,
    explanation_request TEXT,
    explanation TEXT,
    explained_at BIGINT,
    outcome TEXT,
    closing_note TEXT,
    closed_by TEXT,
    closed_at BIGINT,
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX integrity_cases_queue ON integrity_cases (queue, status, id);
CREATE INDEX integrity_cases_staff ON integrity_cases (staff_id, id);
CREATE TABLE integrity_runs (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    from_index BIGINT NOT NULL,
    to_index BIGINT,
    uses BIGINT NOT NULL,
    opened BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
-- Usage reports: the networks each decision is about (a search reaches several), and an index
-- that covers the report's aggregation of decisions by time. Citus: `decision_networks` is
-- co-located with `decisions`.
CREATE TABLE decision_networks (
    decision_id BIGINT NOT NULL,
    network_id BIGINT NOT NULL,
    PRIMARY KEY (decision_id, network_id)
);
CREATE INDEX decisions_report ON decisions (at, training, action, outcome, refusal_code,
    district, purpose_code);
