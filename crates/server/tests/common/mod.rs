//! A real server on a random loopback port over a fresh data directory, with users for every
//! role and one camera.
#![allow(dead_code)]

use anpr_domain::{GeoPoint, Role, SiteKind};
use anpr_server::{AppState, ServerConfig};
use anpr_store::{NewCamera, NewSite, NewUser};
use serde_json::{json, Value};

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
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open_embedded(dir.path(), config).unwrap();
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
    let (camera, camera_key) = anpr_server::routes::catalog::provision_camera(
        &state,
        NewCamera {
            site_id: site.id,
            name: "forecourt".into(),
            heading_deg: Some(180),
        },
    )
    .await
    .unwrap();
    let hash = anpr_server::auth::hash_secret(PASSWORD).unwrap();
    for (staff_id, roles) in [
        ("searcher", vec![Role::Searcher]),
        ("admin", vec![Role::Admin]),
        ("supervisor", vec![Role::Supervisor]),
        ("auditor", vec![Role::Auditor]),
    ] {
        state
            .store
            .create_user(NewUser {
                staff_id: staff_id.into(),
                name: format!("Test {staff_id}"),
                district: "Waikato".into(),
                roles,
                password_hash: hash.clone(),
            })
            .await
            .unwrap();
    }
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

    pub async fn read_count(&self) -> u64 {
        self.state.store.stats().await.unwrap().reads
    }
}

pub fn purpose() -> Value {
    json!({"code": "stolen_vehicle", "file_number": "260101/1234",
           "justification": "Vehicle reported stolen from Te Rapa on 1 Nov"})
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
