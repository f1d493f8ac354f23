//! Versioned schema migrations, applied in order at open. `PRAGMA user_version` records how
//! many have run; a migration is never edited once released, only followed by another.

use crate::{Result, StoreError};
use rusqlite::Connection;

/// One step of the schema's history: SQL run in one transaction, or code for a step that one
/// transaction cannot hold (one that moves tables between files).
enum Migration {
    Sql(&'static str),
    Code(fn(&mut Connection) -> Result<()>),
}

const MIGRATIONS: &[Migration] = &[
    // 1: catalog, plate dictionary, reads, images, users and sessions.
    Migration::Sql(
        r#"
    CREATE TABLE networks (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        retention_days INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE sites (
        id INTEGER PRIMARY KEY,
        network_id INTEGER NOT NULL REFERENCES networks(id),
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        address TEXT NOT NULL,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        district TEXT NOT NULL
    );
    CREATE TABLE cameras (
        id INTEGER PRIMARY KEY,
        site_id INTEGER NOT NULL REFERENCES sites(id),
        name TEXT NOT NULL,
        heading_deg INTEGER,
        active INTEGER NOT NULL DEFAULT 1,
        key_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE plates (
        id INTEGER PRIMARY KEY,
        plate TEXT NOT NULL UNIQUE
    );
    CREATE TABLE reads (
        id INTEGER PRIMARY KEY,
        plate_id INTEGER NOT NULL,
        camera_id INTEGER NOT NULL,
        day INTEGER NOT NULL,
        captured_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        plate_raw TEXT NOT NULL,
        confidence REAL NOT NULL,
        box_x INTEGER, box_y INTEGER, box_w INTEGER, box_h INTEGER,
        make TEXT,
        colour TEXT,
        overview_sha BLOB,
        plate_sha BLOB,
        external_id TEXT,
        legal_hold INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX reads_day_plate ON reads(day, plate_id, captured_at);
    CREATE INDEX reads_camera_time ON reads(camera_id, captured_at);
    CREATE UNIQUE INDEX reads_external_id ON reads(camera_id, day, external_id)
        WHERE external_id IS NOT NULL;
    CREATE TABLE images (
        sha BLOB PRIMARY KEY,
        refs INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        staff_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        district TEXT NOT NULL,
        roles TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    "#,
    ),
    // 2: access control. Registers (motor vehicle, staff, declared associates, stolen vehicles,
    // incidents), each row pointing at the import that last changed it, every change logged
    // with its source; network sharing agreements (existing networks keep the default: search
    // by every district, tracking by none); tracking and look-back authorisations; decision
    // records; badge numbers.
    Migration::Sql(
        r#"
    ALTER TABLE users ADD COLUMN badge_number TEXT;
    CREATE TABLE register_imports (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        register TEXT NOT NULL,
        source TEXT NOT NULL,
        imported_by TEXT NOT NULL,
        inserted INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE register_changes (
        import_id INTEGER NOT NULL REFERENCES register_imports(id),
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
        import_id INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX reg_vehicles_person ON reg_vehicles(owner_person_id);
    CREATE INDEX reg_vehicles_address ON reg_vehicles(owner_address_id);
    CREATE TABLE reg_staff (
        staff_id TEXT PRIMARY KEY,
        person_id TEXT NOT NULL,
        home_address_id TEXT NOT NULL,
        team TEXT,
        import_id INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE reg_associates (
        staff_id TEXT NOT NULL,
        person_id TEXT NOT NULL,
        relationship TEXT,
        import_id INTEGER NOT NULL,
        PRIMARY KEY (staff_id, person_id)
    ) WITHOUT ROWID;
    CREATE TABLE reg_stolen (
        id INTEGER PRIMARY KEY,
        plate TEXT NOT NULL,
        file_number TEXT NOT NULL,
        reported_at INTEGER NOT NULL,
        complainant_person_id TEXT NOT NULL,
        recorded_by_staff_id TEXT NOT NULL,
        status TEXT NOT NULL,
        cancelled_at INTEGER,
        import_id INTEGER NOT NULL,
        UNIQUE (plate, file_number)
    );
    CREATE TABLE reg_incidents (
        file_number TEXT PRIMARY KEY,
        incident_type TEXT NOT NULL,
        district TEXT NOT NULL,
        opened_at INTEGER NOT NULL,
        closed_at INTEGER,
        assigned_staff TEXT NOT NULL,
        import_id INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE network_agreements (
        network_id INTEGER NOT NULL REFERENCES networks(id),
        use TEXT NOT NULL,
        party TEXT NOT NULL,
        PRIMARY KEY (network_id, use, party)
    ) WITHOUT ROWID;
    INSERT INTO network_agreements (network_id, use, party) SELECT id, 'search', '*' FROM networks;
    CREATE TABLE authorisations (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        plate TEXT NOT NULL,
        requester_user_id INTEGER NOT NULL,
        requester_staff_id TEXT NOT NULL,
        district TEXT NOT NULL,
        purpose_code TEXT NOT NULL,
        file_number TEXT NOT NULL,
        justification TEXT NOT NULL,
        basis TEXT NOT NULL,
        stolen_entry_id INTEGER,
        approval_reasons TEXT NOT NULL,
        status TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        approval_deadline INTEGER,
        duration_minutes INTEGER NOT NULL,
        starts_at INTEGER,
        expires_at INTEGER,
        decided_by_staff_id TEXT,
        decided_at INTEGER,
        decision_reason TEXT,
        ended_at INTEGER,
        end_reason TEXT,
        renews INTEGER,
        lookback_from INTEGER
    );
    CREATE INDEX authorisations_plate ON authorisations(plate, requester_user_id);
    CREATE INDEX authorisations_status ON authorisations(status, district);
    CREATE INDEX authorisations_stolen ON authorisations(stolen_entry_id)
        WHERE stolen_entry_id IS NOT NULL;
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        actor TEXT NOT NULL,
        user_id INTEGER,
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
        training INTEGER NOT NULL,
        authorisation_id INTEGER
    );
    CREATE INDEX decisions_user_time ON decisions(user_id, at);
    -- Bumped by every register import and agreement change, so that caches of register facts
    -- (in this or another process) know when to drop what they hold.
    CREATE TABLE register_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
    );
    INSERT INTO register_version (id, version) VALUES (1, 0);
    "#,
    ),
    // 3: real-time tracking alerts. AUTOINCREMENT so an id is never reused (even after the
    // newest alert is deleted): the id is the SSE event id clients resume from. Where the read
    // was seen is copied in, so an alert stays meaningful after its read is purged.
    Migration::Sql(
        r#"
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        authorisation_id INTEGER NOT NULL,
        requester_user_id INTEGER NOT NULL,
        district TEXT NOT NULL,
        plate TEXT NOT NULL,
        read_id INTEGER NOT NULL,
        read_plate TEXT NOT NULL,
        captured_at INTEGER NOT NULL,
        camera_id INTEGER NOT NULL,
        site_id INTEGER NOT NULL,
        site_name TEXT NOT NULL,
        network_id INTEGER NOT NULL,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        has_overview INTEGER NOT NULL,
        has_plate INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        acked_at INTEGER,
        acked_by_staff_id TEXT,
        UNIQUE (authorisation_id, read_id)
    );
    CREATE INDEX alerts_requester ON alerts(requester_user_id, id);
    CREATE INDEX alerts_district ON alerts(district, id);
    -- A tracking authorisation may also match OCR-confusable reads.
    ALTER TABLE authorisations ADD COLUMN fuzzy INTEGER NOT NULL DEFAULT 0;
    "#,
    ),
    // 4: hot lists. A camera network's own staff (`network_operator`, bound to their network)
    // may receive "vehicle of interest" alerts for plates on the admin-loaded stolen-vehicle
    // hot list, if the network's agreement allows it. Such an alert has no authorisation: its
    // `authorisation_id` and `requester_user_id` are 0 and its district empty, and `kind`
    // tells it apart from a tracking alert.
    Migration::Sql(
        r#"
    ALTER TABLE users ADD COLUMN network_id INTEGER REFERENCES networks(id);
    ALTER TABLE alerts ADD COLUMN kind TEXT NOT NULL DEFAULT 'watch';
    CREATE INDEX alerts_hot_list ON alerts(network_id, id) WHERE kind = 'hot_list';
    CREATE TABLE hot_list (
        plate TEXT NOT NULL,
        stolen_entry_id INTEGER NOT NULL,
        loaded_at INTEGER NOT NULL,
        PRIMARY KEY (plate, stolen_entry_id)
    ) WITHOUT ROWID;
    "#,
    ),
    // 5: integrity monitoring. Findings, one per (rule, staff, key), their evidence as a JSON
    // array of ledger indices; one review case per finding; the runs, so an incremental run
    // knows the last ledger index looked at.
    Migration::Sql(
        r#"
    CREATE TABLE integrity_findings (
        id INTEGER PRIMARY KEY,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL,
        staff_id TEXT NOT NULL,
        key TEXT NOT NULL,
        evidence TEXT NOT NULL,
        uses INTEGER NOT NULL,
        explanation TEXT NOT NULL,
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        found_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (rule, staff_id, key)
    );
    CREATE TABLE integrity_cases (
        id INTEGER PRIMARY KEY,
        finding_id INTEGER NOT NULL UNIQUE REFERENCES integrity_findings(id),
        queue TEXT NOT NULL,
        status TEXT NOT NULL,
        staff_id TEXT NOT NULL,
        district TEXT,
        assigned_to TEXT,
        explanation_request TEXT,
        explanation TEXT,
        explained_at INTEGER,
        outcome TEXT,
        closing_note TEXT,
        closed_by TEXT,
        closed_at INTEGER,
        opened_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX integrity_cases_queue ON integrity_cases(queue, status, id);
    CREATE INDEX integrity_cases_staff ON integrity_cases(staff_id, id);
    CREATE TABLE integrity_runs (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        from_index INTEGER NOT NULL,
        to_index INTEGER,
        uses INTEGER NOT NULL,
        opened INTEGER NOT NULL,
        updated INTEGER NOT NULL
    );
    "#,
    ),
    // 6: usage reports. The networks each decision is about (a search reaches several); an
    // index that covers the report's aggregation of decisions by time (no table lookups), and
    // alerts by creation time.
    Migration::Sql(
        r#"
    CREATE TABLE decision_networks (
        decision_id INTEGER NOT NULL,
        network_id INTEGER NOT NULL,
        PRIMARY KEY (decision_id, network_id)
    ) WITHOUT ROWID;
    CREATE INDEX decisions_report ON decisions(at, training, action, outcome, refusal_code,
        district, purpose_code);
    CREATE INDEX alerts_created ON alerts(created_at);
    "#,
    ),
    // 7: a tracking decision records whether its watch is fuzzy (it then alerts on every plate
    // sharing its plate's confusion-class key, not on its plate alone).
    Migration::Sql(
        r#"
    ALTER TABLE decisions ADD COLUMN fuzzy INTEGER NOT NULL DEFAULT 0;
    "#,
    ),
    // 8: who set a user's roles and when (creation included), so that the policy can keep one
    // person from both making an account and loading the register rows it acts on. `set_by`
    // is a label (`staff:S1006`, `cli:operator`), NULL when the caller did not say. Accounts
    // made before this have no row: who set their roles is not known.
    Migration::Sql(
        r#"
    CREATE TABLE user_role_changes (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        roles TEXT NOT NULL,
        set_by TEXT,
        at INTEGER NOT NULL
    );
    CREATE INDEX user_role_changes_user ON user_role_changes(user_id, id);
    "#,
    ),
    // 9: what each user was shown: a read may be opened by id only if a search page or an
    // alert showed it to the same user under the same purpose code and file number within the
    // policy's window. One row per (user, read, purpose, file), the latest time kept; pruned
    // past the window. `via` is `search` or `alert`.
    Migration::Sql(
        r#"
    CREATE TABLE disclosures (
        user_id INTEGER NOT NULL,
        read_id INTEGER NOT NULL,
        purpose_code TEXT NOT NULL,
        file_number TEXT NOT NULL,
        at INTEGER NOT NULL,
        via TEXT NOT NULL,
        PRIMARY KEY (user_id, read_id, purpose_code, file_number)
    ) WITHOUT ROWID;
    CREATE INDEX disclosures_at ON disclosures(at);
    "#,
    ),
    // 10: the sign-in throttle, shared by every server and the command line. One row per key:
    // a claimed staff id (`account:<id>`, whether or not the account exists, so that the
    // answers never tell which ids do) or a client address (`address:<ip>`). The lock-out is
    // computed from `failures` and `last_failure`; a success clears its account's row. It
    // replaces the per-account columns on `users`.
    Migration::Sql(
        r#"
    CREATE TABLE sign_in_failures (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_failure INTEGER NOT NULL
    ) WITHOUT ROWID;
    ALTER TABLE users DROP COLUMN failed_logins;
    ALTER TABLE users DROP COLUMN locked_until;
    "#,
    ),
    // 11: a camera's API keys in a table of their own, so that a camera holds two during a
    // rotation's overlap and all of them can be revoked at once. Times in milliseconds;
    // `expires_at` NULL: until rotated or revoked. The hashes move over, except the
    // placeholder of a camera whose key was never set.
    Migration::Sql(
        r#"
    CREATE TABLE camera_keys (
        id INTEGER PRIMARY KEY,
        camera_id INTEGER NOT NULL REFERENCES cameras(id),
        key_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER
    );
    CREATE INDEX camera_keys_camera ON camera_keys(camera_id, id);
    INSERT INTO camera_keys (camera_id, key_hash, created_at)
        SELECT id, key_hash, created_at FROM cameras WHERE key_hash <> '!unset';
    ALTER TABLE cameras DROP COLUMN key_hash;
    "#,
    ),
    // 12: the open incident files a member of staff may state, listed for them: those of a
    // district by opening time, and those assigned to them (one row per staff id and file,
    // kept with the file's row; `assigned_staff` stays the record as imported).
    Migration::Sql(
        r#"
    CREATE INDEX reg_incidents_district ON reg_incidents(district COLLATE NOCASE, opened_at);
    CREATE TABLE reg_incident_staff (
        staff_id TEXT NOT NULL,
        file_number TEXT NOT NULL,
        PRIMARY KEY (staff_id, file_number)
    ) WITHOUT ROWID;
    CREATE INDEX reg_incident_staff_file ON reg_incident_staff(file_number);
    WITH RECURSIVE split(file_number, staff_id, rest) AS (
        SELECT file_number, '', assigned_staff || ';' FROM reg_incidents
        UNION ALL
        SELECT file_number, substr(rest, 1, instr(rest, ';') - 1), substr(rest, instr(rest, ';') + 1)
        FROM split WHERE rest <> ''
    )
    INSERT OR IGNORE INTO reg_incident_staff (staff_id, file_number)
        SELECT staff_id, file_number FROM split WHERE staff_id <> '';
    "#,
    ),
    // 13: whom a network's own staff call at the police about a vehicle of interest, and, on
    // each alert, the site's street address and that contact as they were when it was raised
    // (an alert is a record of what its receiver was told).
    Migration::Sql(
        r#"
    ALTER TABLE networks ADD COLUMN police_contact TEXT;
    ALTER TABLE alerts ADD COLUMN site_address TEXT NOT NULL DEFAULT '';
    ALTER TABLE alerts ADD COLUMN police_contact TEXT;
    "#,
    ),
    // 14: each camera network's own sharing controls, set by its network auditor (`version`
    // grows with every change, so that every process sees one by polling its sum), and the
    // notices that a tracking watch started to cover a network's cameras (time, purpose code,
    // district: nothing that names a vehicle, a file or an officer).
    Migration::Sql(
        r#"
    CREATE TABLE network_controls (
        network_id INTEGER PRIMARY KEY REFERENCES networks(id),
        suspended INTEGER NOT NULL DEFAULT 0,
        withheld_purposes TEXT NOT NULL DEFAULT '',
        max_lookback_days INTEGER,
        version INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        updated_by TEXT NOT NULL
    );
    CREATE TABLE watch_notices (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        network_id INTEGER NOT NULL REFERENCES networks(id),
        authorisation_id INTEGER NOT NULL,
        at INTEGER NOT NULL,
        purpose_code TEXT NOT NULL,
        district TEXT NOT NULL,
        UNIQUE (network_id, authorisation_id)
    );
    CREATE INDEX watch_notices_network ON watch_notices(network_id, id);
    "#,
    ),
    // 15: the record of use (decisions, the networks each was about, what each user was shown,
    // alerts) moves to a database file of its own, `anpr-uses.sqlite` beside this one and
    // attached to every connection as `uses`. SQLite has one writer per file: in one file, an
    // officer's decision record waited behind the camera batches' commits.
    Migration::Code(move_uses_to_their_own_file),
    // 16: a search's count and a rate limit's answered from their index alone. The reads'
    // index carries the camera (every search bounds the cameras it may see) after the read's
    // id, which keeps the index in the order a page is listed in (newest first, then by id):
    // a page reads only its own rows, however many reads the plate has. The decisions' index
    // carries what a rate limit counts. Each is rebuilt once, at upgrade.
    Migration::Sql(
        r#"
    DROP INDEX IF EXISTS main.reads_day_plate;
    CREATE INDEX main.reads_day_plate ON reads(day, plate_id, captured_at, id, camera_id);
    DROP INDEX IF EXISTS uses.decisions_user_time;
    CREATE INDEX uses.decisions_user_time
        ON decisions(user_id, at, action, outcome, purpose_code);
    "#,
    ),
];

pub fn migrate(conn: &mut Connection) -> Result<()> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Schema(format!(
            "database schema version {applied} is newer than this program ({}); upgrade anpr",
            MIGRATIONS.len()
        )));
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        match migration {
            Migration::Sql(sql) => {
                let tx = conn.transaction()?;
                tx.execute_batch(sql)?;
                tx.pragma_update(None, "user_version", i + 1)?;
                tx.commit()?;
            }
            Migration::Code(step) => {
                step(conn)?;
                conn.pragma_update(None, "user_version", i + 1)?;
            }
        }
        tracing::debug!(version = i + 1, "applied schema migration");
    }
    Ok(())
}

/// The record-of-use tables in their own file (schema `uses`), as they stood in the main file
/// at migration 14, column for column: (table, its definition, its columns).
const USES_TABLES: &[(&str, &str, &str)] = &[
    (
        "decisions",
        "CREATE TABLE IF NOT EXISTS uses.decisions (id INTEGER PRIMARY KEY,
         at INTEGER NOT NULL, request_id TEXT NOT NULL, actor TEXT NOT NULL, user_id INTEGER,
         district TEXT, action TEXT NOT NULL, target TEXT, purpose_code TEXT, file_number TEXT,
         justification TEXT, basis TEXT, outcome TEXT NOT NULL, refusal_code TEXT,
         refusal_reason TEXT, notes TEXT NOT NULL, training INTEGER NOT NULL,
         authorisation_id INTEGER, fuzzy INTEGER NOT NULL DEFAULT 0)",
        "id, at, request_id, actor, user_id, district, action, target, purpose_code,
         file_number, justification, basis, outcome, refusal_code, refusal_reason, notes,
         training, authorisation_id, fuzzy",
    ),
    (
        "decision_networks",
        "CREATE TABLE IF NOT EXISTS uses.decision_networks (decision_id INTEGER NOT NULL,
         network_id INTEGER NOT NULL, PRIMARY KEY (decision_id, network_id)) WITHOUT ROWID",
        "decision_id, network_id",
    ),
    (
        "disclosures",
        "CREATE TABLE IF NOT EXISTS uses.disclosures (user_id INTEGER NOT NULL,
         read_id INTEGER NOT NULL, purpose_code TEXT NOT NULL, file_number TEXT NOT NULL,
         at INTEGER NOT NULL, via TEXT NOT NULL,
         PRIMARY KEY (user_id, read_id, purpose_code, file_number)) WITHOUT ROWID",
        "user_id, read_id, purpose_code, file_number, at, via",
    ),
    (
        "alerts",
        "CREATE TABLE IF NOT EXISTS uses.alerts (id INTEGER PRIMARY KEY AUTOINCREMENT,
         authorisation_id INTEGER NOT NULL, requester_user_id INTEGER NOT NULL,
         district TEXT NOT NULL, plate TEXT NOT NULL, read_id INTEGER NOT NULL,
         read_plate TEXT NOT NULL, captured_at INTEGER NOT NULL, camera_id INTEGER NOT NULL,
         site_id INTEGER NOT NULL, site_name TEXT NOT NULL, network_id INTEGER NOT NULL,
         lat REAL NOT NULL, lon REAL NOT NULL, has_overview INTEGER NOT NULL,
         has_plate INTEGER NOT NULL, created_at INTEGER NOT NULL, acked_at INTEGER,
         acked_by_staff_id TEXT, kind TEXT NOT NULL DEFAULT 'watch',
         site_address TEXT NOT NULL DEFAULT '', police_contact TEXT,
         UNIQUE (authorisation_id, read_id))",
        "id, authorisation_id, requester_user_id, district, plate, read_id, read_plate,
         captured_at, camera_id, site_id, site_name, network_id, lat, lon, has_overview,
         has_plate, created_at, acked_at, acked_by_staff_id, kind, site_address, police_contact",
    ),
];

const USES_INDEXES: &str = "
    CREATE INDEX IF NOT EXISTS uses.decisions_user_time ON decisions(user_id, at);
    CREATE INDEX IF NOT EXISTS uses.decisions_report ON decisions(at, training, action, outcome,
        refusal_code, district, purpose_code);
    CREATE INDEX IF NOT EXISTS uses.disclosures_at ON disclosures(at);
    CREATE INDEX IF NOT EXISTS uses.alerts_requester ON alerts(requester_user_id, id);
    CREATE INDEX IF NOT EXISTS uses.alerts_district ON alerts(district, id);
    CREATE INDEX IF NOT EXISTS uses.alerts_hot_list ON alerts(network_id, id)
        WHERE kind = 'hot_list';
    CREATE INDEX IF NOT EXISTS uses.alerts_created ON alerts(created_at);
";

/// Migration 15. Two transactions, one per file, because a transaction over two files in WAL
/// mode is atomic in each file but not across them: first the rows are copied into `uses`
/// (tables created if missing, rows already there kept), then the main file's tables are
/// dropped. A crash between the two leaves both copies, and the next open copies again,
/// changing nothing, before it drops them.
fn move_uses_to_their_own_file(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction()?;
    for (table, create, columns) in USES_TABLES {
        tx.execute_batch(create)?;
        let in_main: bool = tx.query_row(
            "SELECT COUNT(*) > 0 FROM main.sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )?;
        if in_main {
            tx.execute_batch(&format!(
                "INSERT OR IGNORE INTO uses.{table} ({columns}) SELECT {columns} FROM main.{table};"
            ))?;
        }
    }
    tx.execute_batch(USES_INDEXES)?;
    tx.commit()?;
    let tx = conn.transaction()?;
    for (table, _, _) in USES_TABLES {
        tx.execute_batch(&format!("DROP TABLE IF EXISTS main.{table};"))?;
    }
    tx.commit()?;
    Ok(())
}
