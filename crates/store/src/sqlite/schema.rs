//! Versioned schema migrations, applied in order at open. `PRAGMA user_version` records how
//! many have run; a migration is never edited once released, only followed by another.

use crate::{Result, StoreError};
use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: catalog, plate dictionary, reads, images, users and sessions.
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
];

pub fn migrate(conn: &mut Connection) -> Result<()> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Schema(format!(
            "database schema version {applied} is newer than this program ({}); upgrade anpr",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied schema migration");
    }
    Ok(())
}
