//! A real server on a random loopback port over a fresh data directory, with users for every
//! role, one camera, and registers: staff (with home addresses), vehicles (including the
//! searcher's own car and their household's), incidents and stolen reports.
#![allow(dead_code)]

use anpr_domain::{GeoPoint, Role, SiteKind};
use anpr_policy::registers::{
    IncidentRecord, StaffRecord, StolenRecord, StolenStatus, VehicleRecord,
};
use anpr_server::{AppState, ServerConfig};
use anpr_store::{ImportSource, NewCamera, NewSite, NewUser, RegisterBatch};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

/// Test users: staff id (also the login), roles, team.
pub const USERS: &[(&str, &[Role], Option<&str>)] = &[
    ("searcher", &[Role::Searcher], Some("Team Hamilton")),
    (
        "tracker",
        &[Role::Searcher, Role::Tracker],
        Some("Team Hamilton"),
    ),
    ("supervisor", &[Role::Supervisor], None),
    ("supervisor2", &[Role::Supervisor], None),
    ("integrity", &[Role::Integrity], None),
    ("auditor", &[Role::Auditor], None),
    ("admin", &[Role::Admin], None),
    ("privacy", &[Role::PrivacyOfficer], None),
];

/// The default purpose's file: an open vehicle theft in Waikato.
pub const THEFT_FILE: &str = "260101/1234";
/// An open homicide in Waikato.
pub const HOMICIDE_FILE: &str = "260101/2000";
/// A closed file.
pub const CLOSED_FILE: &str = "250101/9999";
/// A burglary in Canterbury, assigned to nobody here.
pub const CANTERBURY_FILE: &str = "CAN/77";
/// Registered to the searcher.
pub const SEARCHER_CAR: &str = "OWN123";
/// Registered to someone at the searcher's home address.
pub const HOUSEHOLD_CAR: &str = "HSE123";
/// Registered to the tracker and reported stolen (by someone else).
pub const TRACKER_CAR: &str = "TRK123";
/// Reported stolen three days ago by another team; the complainant is the owner.
pub const STOLEN_CLEAN: &str = "STO123";
/// Reported stolen, recorded by the tracker themself.
pub const STOLEN_BY_TRACKER: &str = "STO456";
/// Reported stolen with its complainant not the owner.
pub const STOLEN_ODD: &str = "STO789";

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub camera_key: String,
    pub camera_id: i64,
    pub network_id: i64,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

// Not every test binary that includes this module skips.
#[allow(unused_imports)]
pub use anpr_testkit::skip;

/// A PostgreSQL database created for one test at `ANPR_TEST_POSTGRES_URL`'s server, dropped
/// when the last handle goes.
pub struct PgDatabase {
    admin: tokio_postgres::Config,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    /// `None` (and a message) when `ANPR_TEST_POSTGRES_URL` is not set; see [`skip`].
    pub async fn create() -> Option<PgDatabase> {
        let url = anpr_testkit::postgres_url()?;
        let admin: tokio_postgres::Config = url.parse().unwrap();
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let name = format!(
            "anpr_srv_{}_{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        admin_sql(
            &admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await;
        admin_sql(&admin, &format!("CREATE DATABASE {name}")).await;
        let host = url.rsplit_once('/').map(|(h, _)| h).unwrap_or(&url);
        let url = format!("{host}/{name}");
        Some(PgDatabase { admin, name, url })
    }
}

impl PgDatabase {
    /// Runs `sql` on the database directly, as someone at the database would.
    pub async fn execute(&self, sql: &str) {
        let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let task = tokio::spawn(conn);
        client.batch_execute(sql).await.unwrap();
        drop(client);
        let _ = task.await;
    }
}

async fn admin_sql(admin: &tokio_postgres::Config, sql: &str) {
    let (client, conn) = admin.connect(tokio_postgres::NoTls).await.unwrap();
    let task = tokio::spawn(conn);
    client.batch_execute(sql).await.unwrap();
    drop(client);
    let _ = task.await;
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(admin_sql(&admin, &sql))
        })
        .join()
        .unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn start() -> TestServer {
    start_with(ServerConfig::default()).await
}

pub async fn start_with(config: ServerConfig) -> TestServer {
    start_custom(config, |_| {}).await
}

/// A server whose state the caller adjusts (e.g. a failing decision recorder) before serving.
pub async fn start_custom(config: ServerConfig, adjust: impl FnOnce(&mut AppState)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open_embedded(dir.path(), config).unwrap();
    start_on(dir, state, adjust).await
}

/// A server on the PostgreSQL database `db`, seeded as [`start`] seeds the embedded one.
pub async fn start_postgres(db: &PgDatabase, config: ServerConfig) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(dir.path(), Some(&db.url), config)
        .await
        .unwrap();
    start_on(dir, state, |_| {}).await
}

/// A second server on the same PostgreSQL database (its own data directory), as another
/// process behind the load balancer; nothing seeded.
pub async fn start_another(
    first: &TestServer,
    db: &PgDatabase,
    config: ServerConfig,
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    // Every server of a deployment signs the one ledger with the deployment's key.
    let keys = dir.path().join("ledger");
    std::fs::create_dir_all(&keys).unwrap();
    for f in ["ledger-signing-key", "ledger-signing-key.pub"] {
        std::fs::copy(first.dir.path().join("ledger").join(f), keys.join(f)).unwrap();
    }
    let state = AppState::open(dir.path(), Some(&db.url), config)
        .await
        .unwrap();
    let (base, tx) = serve(state.clone()).await;
    TestServer {
        base,
        state,
        camera_key: first.camera_key.clone(),
        camera_id: first.camera_id,
        network_id: first.network_id,
        http: reqwest::Client::new(),
        dir,
        shutdown: Some(tx),
    }
}

async fn serve(state: AppState) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        anpr_server::serve(state, listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (base, tx)
}

async fn start_on(
    dir: tempfile::TempDir,
    mut state: AppState,
    adjust: impl FnOnce(&mut AppState),
) -> TestServer {
    let net = state.store.create_network("Auror", 60).await.unwrap();
    let site = state
        .store
        .create_site(NewSite {
            network_id: net.id,
            name: "Fuel stop Te Rapa".into(),
            kind: SiteKind::FuelStation,
            address: "Te Rapa Rd, Hamilton".into(),
            location: GeoPoint::new(-37.75, 175.24).unwrap(),
            district: "Waikato".into(),
        })
        .await
        .unwrap();
    let (camera, camera_key) = anpr_app::catalog::provision_camera(
        &state,
        NewCamera {
            site_id: site.id,
            name: "forecourt".into(),
            heading_deg: Some(180),
        },
    )
    .await
    .unwrap();
    let hash = anpr_app::auth::hash_secret(PASSWORD).unwrap();
    for (staff_id, roles, _) in USERS {
        state
            .store
            .create_user(NewUser {
                staff_id: staff_id.to_string(),
                name: format!("Test {staff_id}"),
                badge_number: None,
                district: "Waikato".into(),
                roles: roles.to_vec(),
                password_hash: hash.clone(),
                network_id: None,
            })
            .await
            .unwrap();
    }
    state
        .store
        .set_network_agreement(anpr_policy::registers::NetworkAgreement {
            network_id: net.id,
            search: vec!["*".into()],
            tracking: vec!["Waikato".into()],
            hot_list_alerts: false,
        })
        .await
        .unwrap();
    seed_registers(&state).await;
    adjust(&mut state);
    let (base, tx) = serve(state.clone()).await;
    TestServer {
        base,
        state,
        camera_key,
        camera_id: camera.id,
        network_id: net.id,
        http: reqwest::Client::new(),
        dir,
        shutdown: Some(tx),
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Signs in through the web UI's endpoint and returns its JSON (user, notices).
    pub async fn ui_session(&self, staff_id: &str) -> Value {
        let resp = self
            .http
            .post(self.url("/api/v1/auth/session"))
            .json(&json!({"staff_id": staff_id, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    pub async fn login(&self, staff_id: &str) -> String {
        let resp = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"staff_id": staff_id, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "login of {staff_id}");
        resp.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Posts a body to the ingest endpoint with the camera's key.
    pub async fn ingest(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.camera_key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn search(&self, token: &str, mut body: Value) -> reqwest::Response {
        if body.get("purpose").is_none() {
            body["purpose"] = purpose();
        }
        self.http
            .post(self.url("/api/v1/searches"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Sends `method path` with `token` (if any) and `body` (if any); returns status and body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = match method {
            "GET" => self.http.get(self.url(path)),
            "PUT" => self.http.put(self.url(path)),
            "DELETE" => self.http.delete(self.url(path)),
            _ => self.http.post(self.url(path)),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// GETs `path` as the holder of `token` and returns the JSON body (whatever the status).
    pub async fn get_json(&self, path: impl AsRef<str>, token: impl std::fmt::Display) -> Value {
        self.http
            .get(self.url(path.as_ref()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn read_count(&self) -> u64 {
        self.state.store.stats().await.unwrap().reads
    }
}

pub fn purpose() -> Value {
    json!({"code": "stolen_vehicle", "file_number": THEFT_FILE,
           "justification": "Vehicle reported stolen from Te Rapa on 1 Nov"})
}

pub fn purpose_of(code: &str, file: &str) -> Value {
    json!({"code": code, "file_number": file,
           "justification": "Needed for the investigation under this file"})
}

/// The purpose as query parameters, for read and image views.
pub fn purpose_query() -> String {
    format!(
        "purpose_code=stolen_vehicle&file_number={}&justification=Vehicle%20reported%20stolen%20from%20Te%20Rapa",
        THEFT_FILE.replace('/', "%2F")
    )
}

pub fn vehicle(plate: &str, person: &str, address: &str) -> VehicleRecord {
    VehicleRecord {
        plate: plate.into(),
        owner_person_id: person.into(),
        owner_address_id: address.into(),
        make: None,
        model: None,
        colour: None,
    }
}

pub fn stolen(plate: &str, by: &str, complainant: &str) -> StolenRecord {
    StolenRecord {
        plate: plate.into(),
        file_number: THEFT_FILE.into(),
        reported_at: Utc::now() - Duration::days(3),
        complainant_person_id: complainant.into(),
        recorded_by_staff_id: by.into(),
        status: StolenStatus::Active,
        cancelled_at: None,
    }
}

fn incident(file: &str, kind: &str, district: &str, closed: bool) -> IncidentRecord {
    IncidentRecord {
        file_number: file.into(),
        incident_type: kind.into(),
        district: district.into(),
        opened_at: Utc::now() - Duration::days(30),
        closed_at: closed.then(|| Utc::now() - Duration::days(1)),
        assigned_staff: vec![],
    }
}

pub async fn import(state: &AppState, batch: RegisterBatch) {
    state
        .store
        .import_register(
            batch,
            ImportSource {
                source: "test fixture".into(),
                imported_by: "test".into(),
            },
        )
        .await
        .unwrap();
}

async fn seed_registers(state: &AppState) {
    let mut staff: Vec<StaffRecord> = USERS
        .iter()
        .map(|(id, _, team)| StaffRecord {
            staff_id: id.to_string(),
            person_id: format!("P-{id}"),
            home_address_id: format!("A-{id}"),
            team: team.map(str::to_string),
        })
        .collect();
    staff.push(StaffRecord {
        staff_id: "S-OTHER".into(),
        person_id: "P-other".into(),
        home_address_id: "A-other".into(),
        team: Some("Team Tauranga".into()),
    });
    import(state, RegisterBatch::Staff(staff)).await;
    import(
        state,
        RegisterBatch::Vehicles(vec![
            vehicle(SEARCHER_CAR, "P-searcher", "A-searcher"),
            vehicle(HOUSEHOLD_CAR, "P-flatmate", "A-searcher"),
            vehicle(TRACKER_CAR, "P-tracker", "A-tracker"),
            vehicle("ABC123", "P-owner1", "A-owner1"),
            vehicle(STOLEN_CLEAN, "P-owner2", "A-owner2"),
            vehicle(STOLEN_BY_TRACKER, "P-owner3", "A-owner3"),
            vehicle(STOLEN_ODD, "P-owner4", "A-owner4"),
        ]),
    )
    .await;
    import(
        state,
        RegisterBatch::Incidents(vec![
            incident(THEFT_FILE, "vehicle_theft", "Waikato", false),
            incident(HOMICIDE_FILE, "homicide", "Waikato", false),
            incident(CLOSED_FILE, "vehicle_theft", "Waikato", true),
            incident(CANTERBURY_FILE, "burglary", "Canterbury", false),
        ]),
    )
    .await;
    import(
        state,
        RegisterBatch::Stolen(vec![
            stolen(STOLEN_CLEAN, "S-OTHER", "P-owner2"),
            stolen(STOLEN_BY_TRACKER, "tracker", "P-owner3"),
            stolen(STOLEN_ODD, "S-OTHER", "P-someone-else"),
            stolen(TRACKER_CAR, "S-OTHER", "P-tracker"),
        ]),
    )
    .await;
}

pub fn now_rfc3339(minutes_ago: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes_ago)).to_rfc3339()
}

pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7 % 255) as u8, (y * 3 % 255) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

impl TestServer {
    /// Stops this server and serves a fresh `AppState` opened on the same data directory (as
    /// after a process restart): nothing in memory survives, only what the store holds.
    pub async fn restart(self) -> TestServer {
        self.restart_with(|_| {}).await
    }

    /// Stops this server and hands over its data directory (to tamper with, or to start on).
    pub async fn stop(mut self) -> tempfile::TempDir {
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        drop(self);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        dir
    }

    /// As [`TestServer::restart`], with the configuration `adjust` makes of the default one.
    pub async fn restart_with(mut self, adjust: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let (camera_key, camera_id, network_id) =
            (self.camera_key.clone(), self.camera_id, self.network_id);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        drop(self);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let mut config = ServerConfig::default();
        adjust(&mut config);
        let state = AppState::open_embedded(dir.path(), config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let s = state.clone();
        tokio::spawn(async move {
            anpr_server::serve(s, listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            base,
            state,
            camera_key,
            camera_id,
            network_id,
            http: reqwest::Client::new(),
            dir,
            shutdown: Some(tx),
        }
    }
}

/// A real SSE client: streams the response body and parses `id:` / `data:` lines.
pub struct SseClient {
    resp: reqwest::Response,
    buf: String,
}

impl SseClient {
    pub async fn connect(s: &TestServer, token: &str, last_event_id: Option<i64>) -> SseClient {
        let mut req = s
            .http
            .get(s.url("/api/v1/alerts/stream"))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = tokio::time::timeout(std::time::Duration::from_secs(5), req.send())
            .await
            .expect("headers arrive at once")
            .unwrap();
        if resp.status() != 200 {
            panic!(
                "alert stream: {} {}",
                resp.status(),
                resp.text().await.unwrap()
            );
        }
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        SseClient {
            resp,
            buf: String::new(),
        }
    }

    /// The next event (id and data), or `None` if none arrives within `wait`.
    pub async fn next(&mut self, wait: std::time::Duration) -> Option<(i64, Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut data) = (None, None);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().parse::<i64>().unwrap());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = Some(serde_json::from_str::<Value>(v.trim()).unwrap());
                    }
                }
                if let (Some(id), Some(data)) = (id, data) {
                    return Some((id, data));
                }
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// Whether the server ends the stream within `wait` (events before the end are skipped).
    pub async fn ends_within(&mut self, wait: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None)) | Ok(Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }

    pub async fn expect(&mut self) -> (i64, Value) {
        self.next(std::time::Duration::from_secs(5))
            .await
            .expect("an alert within 5 s")
    }
}

/// Creates (as the administrator) the network auditor `staff_id` of `network` and signs in.
pub async fn network_auditor(s: &TestServer, staff_id: &str, network: i64) -> String {
    let admin = s.login("admin").await;
    let (st, body) = s
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(&json!({"staff_id": staff_id, "name": "Network overseer", "district": "Waikato",
                         "roles": ["network_auditor"], "network_id": network, "password": PASSWORD})),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    s.login(staff_id).await
}
