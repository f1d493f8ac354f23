//! Register loading and network sharing agreements (administrators). No officer-facing
//! endpoint writes a register.

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anpr_app::access;
use anpr_app::registers::{batches, Format};
use anpr_app::AppError;
use anpr_domain::NetworkId;
use anpr_ledger::{Action, AuditFacts};
use anpr_policy::registers::NetworkAgreement;
use anpr_policy::Permission;
use anpr_store::{ImportReport, ImportSource, RegisterKind};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportParams {
    /// Where the rows come from (feed or file name), recorded with every change.
    pub source: String,
}

/// Load rows into a register (`vehicles`, `staff`, `associates`, `stolen`, `incidents`): a JSON
/// array (or JSON lines), or CSV with `Content-Type: text/csv`. Rows are upserted by key; every
/// change is recorded with its source. All rows or none.
#[utoipa::path(post, path = "/api/v1/registers/{kind}", tag = "admin", security(("bearer" = [])),
    params(("kind" = String, Path), ImportParams),
    request_body(content = String, description = "JSON array, JSON lines, or CSV"),
    responses((status = 200, body = ImportReport), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(kind): Path<String>,
    Query(params): Query<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ImportReport>> {
    audit.action(Action::RegisterImport);
    audit
        .query(serde_json::json!({"register": kind, "source": params.source, "bytes": body.len()}));
    staff.require_permission(Permission::AdministerRegisters)?;
    let kind = RegisterKind::parse(&kind).ok_or_else(|| {
        AppError::NotFound("register (vehicles, staff, associates, stolen, incidents)".into())
    })?;
    let format = match headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        Some(ct) if ct.starts_with("text/csv") => Format::Csv,
        _ => Format::Json,
    };
    let source = ImportSource {
        source: params.source,
        imported_by: format!("staff:{}", staff.user.staff_id),
    };
    // An API body is bounded by the body limit: one batch, one transaction.
    let mut all = batches(kind, format, body.as_ref(), usize::MAX)?;
    let batch = match all.next() {
        Some(b) => b?,
        None => return Err(ApiError(AppError::invalid("body", "no rows"))),
    };
    audit.facts(AuditFacts::new().reads(batch.len() as u64));
    Ok(Json(access::import_register(&state, batch, source).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterCount {
    pub register: RegisterKind,
    pub rows: u64,
}

/// How many rows each register holds.
#[utoipa::path(get, path = "/api/v1/registers", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<RegisterCount>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn counts(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
) -> ApiResult<Json<Vec<RegisterCount>>> {
    audit.action(Action::RegisterRead);
    staff.require_permission(Permission::AdministerRegisters)?;
    let mut out = Vec::new();
    for register in RegisterKind::ALL {
        out.push(RegisterCount {
            register,
            rows: state.store.register_count(register).await?,
        });
    }
    Ok(Json(out))
}

/// Every network's sharing agreement (administrators and overseers).
#[utoipa::path(get, path = "/api/v1/agreements", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<NetworkAgreement>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn agreements(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
) -> ApiResult<Json<Vec<NetworkAgreement>>> {
    audit.action(Action::RegisterRead);
    Ok(Json(
        anpr_app::registers::agreements(&state, &staff.user).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementBody {
    /// Districts (or agencies) that may run historical search; `*` for all.
    pub search: Vec<String>,
    /// Districts (or agencies) that may run real-time tracking; `*` for all.
    pub tracking: Vec<String>,
    /// Whether the network's own staff receive "vehicle of interest" alerts for plates on the
    /// stolen-vehicle hot list (default: no).
    #[serde(default)]
    pub hot_list_alerts: bool,
}

/// Replace a network's sharing agreement.
#[utoipa::path(put, path = "/api/v1/networks/{id}/agreement", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AgreementBody,
    responses((status = 200, body = NetworkAgreement), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn set_agreement(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<NetworkId>,
    body: Result<Json<AgreementBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<NetworkAgreement>> {
    audit.action(Action::AgreementChange);
    staff.require_permission(Permission::Administer)?;
    let Json(b) = body?;
    let a = state
        .store
        .set_network_agreement(NetworkAgreement {
            network_id: id,
            search: b.search,
            tracking: b.tracking,
            hot_list_alerts: b.hot_list_alerts,
        })
        .await?;
    tracing::info!(network = id, by = %staff.user.staff_id, search = ?a.search, tracking = ?a.tracking, hot_list_alerts = a.hot_list_alerts, "sharing agreement changed");
    // The agreements decide which networks' reads each watch covers.
    anpr_app::realtime::load_watches(&state).await?;
    Ok(Json(a))
}
