//! The OpenAPI document, generated from the handlers' annotations.

use crate::routes;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Accountable ANPR platform API", version = "1",
         description = "Plate-read ingestion from camera networks and accountable historical search, with tracking authorisations and real-time alerts."),
    paths(
        routes::auth::login, routes::auth::logout, routes::auth::me,
        routes::auth::open_ui_session, routes::auth::ui_session, routes::auth::close_ui_session,
        routes::users::list, routes::users::create, routes::users::set_roles,
        routes::users::set_active,
        routes::reads::ingest, routes::reads::ingest_batch, routes::reads::get_read,
        routes::reads::get_image, routes::reads::set_legal_hold,
        routes::search::search, routes::files::open_files,
        routes::tracking::request_tracking, routes::tracking::list_tracking,
        routes::tracking::get_tracking, routes::tracking::review_tracking,
        routes::tracking::request_lookback, routes::tracking::list_lookback,
        routes::tracking::review_lookback,
        routes::alerts::list, routes::alerts::stream, routes::alerts::ack,
        routes::alerts::sightings, routes::hot_list::load, routes::hot_list::summary,
        routes::registers::import, routes::registers::counts,
        routes::registers::agreements, routes::registers::set_agreement,
        routes::catalog::create_network, routes::catalog::list_networks,
        routes::catalog::set_police_contact, routes::catalog::list_districts,
        routes::network_controls::get_controls, routes::network_controls::set_controls,
        routes::network_controls::watch_notices, routes::network_controls::uses,
        routes::network_ledger::ledger_slice, routes::network_ledger::statement,
        routes::catalog::create_site, routes::catalog::list_sites,
        routes::catalog::create_camera, routes::catalog::list_cameras,
        routes::catalog::rotate_camera_key, routes::catalog::revoke_camera_keys,
        routes::ops::metrics,
        routes::reports::usage, routes::reports::transparency, routes::reports::subject_access,
        routes::integrity::run, routes::integrity::list_cases, routes::integrity::get_case,
        routes::integrity::assign, routes::integrity::request_explanation,
        routes::integrity::close, routes::integrity::my_cases, routes::integrity::explain,
        routes::ledger::tree_head, routes::ledger::tree_heads, routes::ledger::inclusion,
        routes::ledger::consistency, routes::ledger::entries, routes::ledger::checkpoint,
        routes::ledger::search,
    ),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Staff session token from /api/v1/auth/login"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "camera_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A camera's API key"))
                    .build(),
            ),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
