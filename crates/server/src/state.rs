//! What every handler shares: the application, and the HTTP server's own settings.

use anpr_app::{App, AppConfig};
use std::sync::Arc;

/// The application behind the routes (every use goes through it) and the HTTP settings.
/// Dereferences to [`App`], so a handler hands `&state` to an application operation.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub http: Arc<HttpConfig>,
    /// Requests without valid credentials, per client address and minute.
    pub flood: Arc<crate::flood::FloodGuard>,
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

/// A running server's settings: the application's, and the HTTP server's own.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    pub app: AppConfig,
    pub http: HttpConfig,
}

/// Limits and settings of the HTTP server itself.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The URL people open (`https://anpr.example`), when the server sits behind a TLS proxy:
    /// an https URL makes the UI's session cookie `Secure`.
    pub public_url: Option<String>,
    /// The browser UI's settings (an optional map tile server).
    pub ui: anpr_web::UiConfig,
    /// Time a client has to send a whole request head; slower clients are disconnected.
    pub header_read_timeout: std::time::Duration,
    /// Largest request head (request line and headers) accepted; larger gets 431.
    pub max_header_bytes: usize,
    /// Requests without valid credentials recorded one entry each per client address and
    /// minute; beyond, they are answered 429 and counted in one entry (see [`crate::flood`]).
    pub unauthenticated_per_minute: u32,
    /// The overseers' witnesses each new tree head is pushed to for cosigning.
    pub witnesses: Vec<crate::witnessing::WitnessTarget>,
}

impl HttpConfig {
    /// Whether session cookies are sent only over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 10 * 1024 * 1024,
            public_url: None,
            ui: anpr_web::UiConfig::default(),
            header_read_timeout: std::time::Duration::from_secs(10),
            max_header_bytes: 32 * 1024,
            unauthenticated_per_minute: 60,
            witnesses: Vec::new(),
        }
    }
}

impl AppState {
    pub fn new(app: App, http: HttpConfig) -> AppState {
        AppState {
            app,
            flood: Arc::new(crate::flood::FloodGuard::new(
                http.unauthenticated_per_minute,
            )),
            http: Arc::new(http),
        }
    }

    /// Reads photos that arrive without plate text (see [`App::with_recognition`]).
    pub fn with_recognition(
        mut self,
        recogniser: anpr_recognition::Recogniser,
        workers: usize,
        queue: usize,
    ) -> AppState {
        self.app = self.app.with_recognition(recogniser, workers, queue);
        self
    }

    /// Opens the embedded deployment in `dir` (see [`App::open_embedded`]).
    pub fn open_embedded(dir: &std::path::Path, config: ServerConfig) -> anyhow::Result<AppState> {
        Ok(AppState::new(
            App::open_embedded(dir, config.app)?,
            config.http,
        ))
    }

    /// Opens a deployment on PostgreSQL or the embedded SQLite database (see [`App::open`]).
    pub async fn open(
        dir: &std::path::Path,
        database_url: Option<&str>,
        config: ServerConfig,
    ) -> anyhow::Result<AppState> {
        Ok(AppState::new(
            App::open(dir, database_url, config.app).await?,
            config.http,
        ))
    }
}
