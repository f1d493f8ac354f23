//! The HTTP API of the accountable ANPR platform.
//!
//! Handlers are thin: they authenticate (camera key or staff session), parse, and hand the
//! request to [`access`] — the one place where the access policy (`anpr-policy`) decides and
//! its decision is recorded — before the store is asked for data. Errors of every crate become
//! HTTP responses in one place, [`error`].

pub mod audit;
pub mod auth;
pub mod connections;
pub mod error;
pub mod flood;
pub mod openapi;
pub mod routes;
pub mod state;
pub mod witnessing;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::{get, post, put};
use axum::Router;
use std::net::SocketAddr;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use anpr_app::{App, AppConfig, DataDir};
pub use anpr_web::UiConfig;
pub use state::{AppState, HttpConfig, ServerConfig};

pub fn router(state: AppState) -> Router {
    use routes::*;
    let body_limit = state.http.max_body_bytes;
    // The browser UI: static assets only, outside the audit layer (they carry no data; every
    // API call the pages make is audited like any other).
    let ui = anpr_web::router(state.http.ui.clone());
    Router::new()
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/auth/me", get(auth::me))
        .route(
            "/api/v1/auth/session",
            post(auth::open_ui_session)
                .get(auth::ui_session)
                .delete(auth::close_ui_session),
        )
        .route("/api/v1/users", get(users::list).post(users::create))
        .route("/api/v1/users/{staff_id}/roles", put(users::set_roles))
        .route("/api/v1/users/{staff_id}/active", put(users::set_active))
        .route("/api/v1/reads", post(reads::ingest))
        .route("/api/v1/reads:batch", post(reads::ingest_batch))
        .route("/api/v1/reads/{id}", get(reads::get_read))
        .route("/api/v1/reads/{id}/image/{kind}", get(reads::get_image))
        .route("/api/v1/reads/{id}/legal-hold", put(reads::set_legal_hold))
        .route("/api/v1/searches", post(search::search))
        .route("/api/v1/files", get(files::open_files))
        .route(
            "/api/v1/tracking",
            post(tracking::request_tracking).get(tracking::list_tracking),
        )
        .route("/api/v1/tracking/{id}", get(tracking::get_tracking))
        .route("/api/v1/tracking/{id}/sightings", get(alerts::sightings))
        .route("/api/v1/alerts", get(alerts::list))
        .route("/api/v1/alerts/stream", get(alerts::stream))
        .route("/api/v1/alerts/{id}/ack", post(alerts::ack))
        .route(
            "/api/v1/hot-list",
            post(hot_list::load).get(hot_list::summary),
        )
        .route(
            "/api/v1/tracking/{id}/{action}",
            post(tracking::review_tracking),
        )
        .route(
            "/api/v1/lookback",
            post(tracking::request_lookback).get(tracking::list_lookback),
        )
        .route(
            "/api/v1/lookback/{id}/{action}",
            post(tracking::review_lookback),
        )
        .route("/api/v1/registers", get(registers::counts))
        .route("/api/v1/registers/{kind}", post(registers::import))
        .route("/api/v1/agreements", get(registers::agreements))
        .route(
            "/api/v1/networks/{id}/agreement",
            put(registers::set_agreement),
        )
        .route(
            "/api/v1/networks",
            post(catalog::create_network).get(catalog::list_networks),
        )
        .route(
            "/api/v1/networks/{id}/police-contact",
            put(catalog::set_police_contact),
        )
        .route(
            "/api/v1/networks/{id}/controls",
            get(network_controls::get_controls).put(network_controls::set_controls),
        )
        .route(
            "/api/v1/networks/{id}/watch-notices",
            get(network_controls::watch_notices),
        )
        .route("/api/v1/networks/{id}/uses", get(network_controls::uses))
        .route(
            "/api/v1/networks/{id}/ledger-slice",
            get(network_ledger::ledger_slice),
        )
        .route(
            "/api/v1/networks/{id}/statement",
            get(network_ledger::statement),
        )
        .route("/api/v1/districts", get(catalog::list_districts))
        .route(
            "/api/v1/sites",
            post(catalog::create_site).get(catalog::list_sites),
        )
        .route(
            "/api/v1/cameras",
            post(catalog::create_camera).get(catalog::list_cameras),
        )
        .route(
            "/api/v1/cameras/{id}/keys",
            post(catalog::rotate_camera_key).delete(catalog::revoke_camera_keys),
        )
        .route("/api/v1/reports/usage", get(reports::usage))
        .route("/api/v1/reports/transparency", get(reports::transparency))
        .route(
            "/api/v1/reports/subject-access",
            post(reports::subject_access),
        )
        .route("/api/v1/integrity/runs", post(integrity::run))
        .route("/api/v1/integrity/cases", get(integrity::list_cases))
        .route("/api/v1/integrity/cases/{id}", get(integrity::get_case))
        .route(
            "/api/v1/integrity/cases/{id}/assign",
            post(integrity::assign),
        )
        .route(
            "/api/v1/integrity/cases/{id}/request-explanation",
            post(integrity::request_explanation),
        )
        .route("/api/v1/integrity/cases/{id}/close", post(integrity::close))
        .route("/api/v1/integrity/my-cases", get(integrity::my_cases))
        .route(
            "/api/v1/integrity/my-cases/{id}/explanation",
            post(integrity::explain),
        )
        .route("/api/v1/ledger/tree-head", get(ledger::tree_head))
        .route("/api/v1/ledger/tree-heads", get(ledger::tree_heads))
        .route("/api/v1/ledger/checkpoint", get(ledger::checkpoint))
        .route("/api/v1/ledger/proof/inclusion", get(ledger::inclusion))
        .route("/api/v1/ledger/proof/consistency", get(ledger::consistency))
        .route("/api/v1/ledger/entries", get(ledger::entries))
        .route("/api/v1/ledger/search", get(ledger::search))
        .route("/api/openapi.json", get(ops::openapi))
        .route("/metrics", get(ops::metrics))
        .route("/healthz", get(ops::health))
        // Inside the audit layer, so a panicking handler's request is still recorded.
        .layer(CatchPanicLayer::custom(error::panic_response))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::record,
        ))
        .merge(ui)
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // Answers carry personal data: no cache, shared or private, keeps one. Responses that
        // may be cached (the UI's static assets) say so themselves.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .with_state(state)
}

/// An unknown path under `/api/` is a use of the API like any other and is recorded; one
/// elsewhere (a mistyped UI asset) carries no data and is not.
async fn fallback(
    state: axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return audit::unrouted(state, request).await;
    }
    error::ApiError(anpr_app::AppError::NotFound("no such page".into())).into_response()
}

/// Serves until `shutdown` resolves, with the retention purge running in the background.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_announced(state, listener, shutdown, || {}).await
}

/// [`serve`], calling `ready` once the start-up checks passed and requests are about to be
/// answered (where the command line says it is listening).
pub async fn serve_announced(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(),
) -> anyhow::Result<()> {
    let background = state.start_background().await?;
    ready();
    let flood_recorder = audit::spawn_flood_recorder(state.clone());
    let witnessing = witnessing::spawn(state.clone());
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "serving");
    let closing = state.closing.clone();
    let config = state.http.clone();
    let state_for_shutdown = state.clone();
    connections::serve_connections(listener, router(state), &config, async move {
        shutdown.await;
        closing.send_replace(true);
    })
    .await;
    flood_recorder.abort();
    if let Some(w) = witnessing {
        w.abort();
    }
    // What the last minutes held back is recorded before the process ends.
    audit::record_held_back(
        &state_for_shutdown,
        chrono::Utc::now() + chrono::TimeDelta::minutes(1),
    )
    .await;
    drop(background);
    Ok(())
}
