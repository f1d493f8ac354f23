//! The browser UI: plain JavaScript modules, two stylesheets and vendored Leaflet (with its
//! marker clusters), New Zealand outline and place names, embedded in the binary with
//! `include_bytes!` and served under `/ui/` by the API server itself (same origin, nothing
//! fetched from anywhere else).
//!
//! This crate knows nothing of the API: the pages call it from the browser like any client, so
//! every call goes through the server's authentication, access policy and audit trail. What is
//! served here is the same for everybody and discloses no data, so it needs no sign-in.
//! Every response carries a strict Content-Security-Policy: scripts, styles, images and
//! connections from this origin only (and the map tile server when one is configured), no
//! inline script or style, no framing.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

/// Settings of the UI a deployment may change.
#[derive(Debug, Clone, Default)]
pub struct UiConfig {
    /// A map tile server (`https://tiles.example/{z}/{x}/{y}.png`). Optional: without it the map
    /// draws New Zealand from the bundled outline, and nothing is fetched from outside.
    pub tile_url: Option<String>,
}

struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! assets {
    ($(($path:literal, $type:expr)),* $(,)?) => {
        &[$(Asset {
            path: $path,
            content_type: $type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/", $path)),
        }),*]
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = assets![
    ("index.html", "text/html; charset=utf-8"),
    ("app.css", "text/css; charset=utf-8"),
    ("map.css", "text/css; charset=utf-8"),
    ("favicon.svg", "image/svg+xml"),
    ("js/app.js", JS),
    ("js/api.js", JS),
    ("js/messages.js", JS),
    ("js/actions.js", JS),
    ("js/dom.js", JS),
    ("js/map.js", JS),
    ("js/purpose.js", JS),
    ("js/signin.js", JS),
    ("js/search.js", JS),
    ("js/track.js", JS),
    ("js/integrity.js", JS),
    ("js/reports.js", JS),
    ("js/ledger.js", JS),
    ("js/merkle.js", JS),
    ("js/admin.js", JS),
    ("js/hotlist.js", JS),
    ("js/privacy.js", JS),
    ("js/network.js", JS),
    ("vendor/leaflet/leaflet.js", JS),
    ("vendor/leaflet/leaflet.css", "text/css; charset=utf-8"),
    ("vendor/nz.geojson", "application/geo+json"),
    ("vendor/nz-places.json", "application/json"),
    ("vendor/leaflet.markercluster/leaflet.markercluster.js", JS),
    (
        "vendor/leaflet.markercluster/MarkerCluster.css",
        "text/css; charset=utf-8"
    ),
];

struct Ui {
    csp: HeaderValue,
    config_json: String,
}

/// The UI's routes: `/` redirects to `/ui/`, the assets under `/ui/`, and `/ui/config.json`.
pub fn router<S: Clone + Send + Sync + 'static>(config: UiConfig) -> Router<S> {
    let ui = Arc::new(Ui {
        csp: HeaderValue::from_str(&content_security_policy(&config))
            .unwrap_or_else(|_| HeaderValue::from_static(BASE_CSP)),
        config_json: serde_json::json!({ "tile_url": config.tile_url }).to_string(),
    });
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/", get(index))
        .route("/ui/config.json", get(ui_config))
        .route("/ui/{*path}", get(asset))
        .with_state(ui)
}

const BASE_CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// The policy: this origin only, plus the tile server's origin for images when configured.
pub fn content_security_policy(config: &UiConfig) -> String {
    match config.tile_url.as_deref().and_then(origin_of) {
        Some(origin) => BASE_CSP.replace(
            "img-src 'self' data:",
            &format!("img-src 'self' data: {origin}"),
        ),
        None => BASE_CSP.to_string(),
    }
}

/// `https://host[:port]` of a URL (with `{z}`-style placeholders only in its path), or None when
/// it is not an http(s) URL or holds characters that do not belong in a header.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let host = rest.split('/').next()?;
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    valid.then(|| format!("{scheme}://{host}"))
}

fn respond(ui: &Ui, content_type: &'static str, body: Vec<u8>, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_SECURITY_POLICY, ui.csp.clone()),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

async fn index(State(ui): State<Arc<Ui>>) -> Response {
    let page = find("index.html").expect("index.html is embedded");
    respond(&ui, page.content_type, page.bytes.to_vec(), "no-cache")
}

async fn ui_config(State(ui): State<Arc<Ui>>) -> Response {
    respond(
        &ui,
        "application/json",
        ui.config_json.clone().into_bytes(),
        "no-cache",
    )
}

async fn asset(State(ui): State<Arc<Ui>>, Path(path): Path<String>) -> Response {
    match find(&path) {
        // Revalidated on each load: a new binary's assets are picked up at once.
        Some(a) => respond(&ui, a.content_type, a.bytes.to_vec(), "no-cache"),
        None => {
            let mut r = respond(
                &ui,
                "text/plain; charset=utf-8",
                b"no such page".to_vec(),
                "no-store",
            );
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    #[test]
    fn tile_origin_is_added_to_img_src_only() {
        let csp = content_security_policy(&UiConfig {
            tile_url: Some("https://tiles.example:8443/{z}/{x}/{y}.png".into()),
        });
        assert!(csp.contains("img-src 'self' data: https://tiles.example:8443;"));
        assert!(csp.contains("script-src 'self';"));
        assert!(csp.contains("connect-src 'self';"));
        let bad = content_security_policy(&UiConfig {
            tile_url: Some("javascript:alert(1)".into()),
        });
        assert_eq!(bad, BASE_CSP);
        assert_eq!(origin_of("https://a b/x"), None);
    }

    #[test]
    fn every_asset_the_pages_import_is_embedded() {
        // Each module's static imports and the page's script and style links name embedded files.
        for a in ASSETS
            .iter()
            .filter(|a| a.path.ends_with(".js") || a.path.ends_with(".html"))
        {
            let text = std::str::from_utf8(a.bytes).expect("utf-8");
            for line in text.lines() {
                let line = line.trim();
                let target = if line.starts_with("import ") && line.contains(" from './") {
                    line.split(" from './")
                        .nth(1)
                        .map(|s| format!("js/{}", s.trim_end_matches([';', '\''])))
                } else if let Some(rest) = line.split("src=\"/ui/").nth(1) {
                    rest.split('"').next().map(str::to_string)
                } else if let Some(rest) = line.split("href=\"/ui/").nth(1) {
                    rest.split('"').next().map(str::to_string)
                } else {
                    None
                };
                if let Some(t) = target {
                    assert!(
                        find(&t).is_some(),
                        "{} refers to {t}, which is not embedded",
                        a.path
                    );
                }
            }
        }
    }

    #[test]
    fn the_bundled_places_are_new_zealand_s_and_name_its_cities() {
        // What the map labels: [name, lat, lon, population] rows, every one in New Zealand
        // (the Chatham Islands' longitudes west of the antimeridian, as GeoNames has them).
        let data: serde_json::Value =
            serde_json::from_slice(find("vendor/nz-places.json").expect("embedded").bytes)
                .expect("JSON");
        let places = data["places"].as_array().expect("places");
        assert!(places.len() > 500, "{} places", places.len());
        let mut names = std::collections::HashSet::new();
        for p in places {
            let name = p[0].as_str().expect("name");
            let (lat, lon) = (p[1].as_f64().expect("lat"), p[2].as_f64().expect("lon"));
            assert!(!name.is_empty() && p[3].as_u64().is_some(), "{p}");
            assert!((-48.0..=-34.0).contains(&lat), "{name} at {lat}");
            assert!(
                (166.0..=179.0).contains(&lon) || (-177.0..=-176.0).contains(&lon),
                "{name} at {lon}"
            );
            names.insert(name);
        }
        for city in [
            "Auckland",
            "Wellington",
            "Christchurch",
            "Hamilton",
            "Dunedin",
        ] {
            assert!(names.contains(city), "{city} missing");
        }
    }

    #[tokio::test]
    async fn assets_carry_the_security_headers_and_unknown_paths_are_404() {
        let app: Router = router(UiConfig::default());
        let r = app
            .clone()
            .oneshot(Request::get("/ui/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let csp = r.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
        assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let r = app
            .clone()
            .oneshot(Request::get("/ui/js/app.js").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.headers()[header::CONTENT_TYPE], JS);
        let r = app
            .oneshot(
                Request::get("/ui/../Cargo.toml")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}
