//! Ingestion of plate reads from cameras, and viewing a read and its images.

use crate::audit::Audit;
use crate::auth::{CameraAuth, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anpr_app::access;
use anpr_app::AppError;
use anpr_domain::{ImageKind, PlateRead, Purpose, ReadId};
use anpr_ingest::IncomingRead;
use anpr_ledger::Action;
use anpr_policy::DataAction;
use anpr_store::InsertOutcome;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct IngestResponse {
    /// The id of the read when the request held exactly one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<ReadId>,
    /// One entry per read, in request order.
    pub reads: Vec<InsertOutcome>,
}

/// Ingest plate reads: our JSON (one read, or `{"reads": [...]}`), OpenALPR `alpr_group` /
/// `alpr_results`, or a Plate Recognizer webhook; as JSON or multipart with image parts.
/// A read of our own format with an overview image but no `plate` is recognised by the server
/// (422 when it has no recognition models installed).
#[utoipa::path(post, path = "/api/v1/reads", tag = "ingest", security(("camera_key" = [])),
    responses((status = 201, body = IngestResponse), (status = 200, body = IngestResponse, description = "all reads were already stored"),
              (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
              (status = 503, body = crate::error::ErrorBody, description = "a read without plate text came while the images being decoded held the decode budget (`decode_busy`) or the recognition queue was full; nothing was stored: send it again after Retry-After seconds")))]
pub async fn ingest(
    State(state): State<AppState>,
    camera: CameraAuth,
    audit: Audit,
    request: Request,
) -> ApiResult<(StatusCode, Json<IngestResponse>)> {
    audit.action(Action::Ingest);
    // Parsed and stored on the ingest lane, below every other use's priority.
    let lane = state.ingest_lane.clone();
    let handle = audit.0.clone();
    let outcomes = lane
        .run(async move {
            let reads = match parse_request(&state, request).await {
                Ok(reads) => reads,
                Err(e) => {
                    state.metrics.ingest_rejected.inc();
                    return Err(e);
                }
            };
            Ok::<_, ApiError>(
                anpr_app::ingest::store_reads(&state, &handle, camera.camera_id, reads).await?,
            )
        })
        .await??;
    let fresh = outcomes.iter().any(|o| !o.duplicate);
    let status = if fresh || outcomes.is_empty() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let id = (outcomes.len() == 1).then(|| outcomes[0].id);
    Ok((
        status,
        Json(IngestResponse {
            id,
            reads: outcomes,
        }),
    ))
}

/// Ingest a batch of up to 1,000 reads; all are stored or none.
#[utoipa::path(post, path = "/api/v1/reads:batch", tag = "ingest", security(("camera_key" = [])),
    responses((status = 201, body = IngestResponse), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody),
              (status = 503, body = crate::error::ErrorBody, description = "a read without plate text came while the decode budget or the recognition queue was full; nothing was stored: send the batch again after Retry-After seconds")))]
pub async fn ingest_batch(
    state: State<AppState>,
    camera: CameraAuth,
    audit: Audit,
    request: Request,
) -> ApiResult<(StatusCode, Json<IngestResponse>)> {
    ingest(state, camera, audit, request).await
}

async fn parse_request(state: &AppState, request: Request) -> ApiResult<Vec<IncomingRead>> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let limits = state.ingest_limits().await?;
    let now = Utc::now();
    if is_multipart {
        let mut multipart =
            Multipart::from_request(request, state)
                .await
                .map_err(|e| AppError::BadRequest {
                    field: None,
                    message: e.body_text(),
                })?;
        let mut parts = Vec::new();
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(multipart_error)?;
            parts.push(anpr_ingest::Part::new(name, bytes.to_vec()));
        }
        // A read with a photo but no plate text is recognised here, before parsing. The
        // metadata part is small, so looking into it costs little next to the images.
        if let Some(meta) = parts
            .iter()
            .position(|p| p.name == "metadata" || p.name == "json")
        {
            let images: Vec<(&str, &[u8])> = parts
                .iter()
                .map(|p| (p.name.as_str(), p.bytes.as_slice()))
                .collect();
            let filled =
                anpr_app::recognition::fill_in_plates(state, &parts[meta].bytes, &images).await?;
            if let Some(filled) = filled {
                parts[meta].bytes = filled;
            }
        }
        Ok(
            tokio::task::spawn_blocking(move || anpr_ingest::parse_multipart(parts, now, &limits))
                .await
                .map_err(AppError::internal)??,
        )
    } else {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|e| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => AppError::body_too_large(e.body_text()),
                _ => AppError::BadRequest {
                    field: None,
                    message: e.body_text(),
                },
            })?;
        let parsed = if body.len() < 16 * 1024 {
            anpr_ingest::parse_reads(&body, now, &limits)
        } else {
            let (body, limits) = (body.clone(), limits.clone());
            tokio::task::spawn_blocking(move || anpr_ingest::parse_reads(&body, now, &limits))
                .await
                .map_err(AppError::internal)?
        };
        match parsed {
            Ok(reads) => Ok(reads),
            // Only a refused body is looked at again, so the hot path pays nothing: a read
            // with a photo but no plate text is recognised, then parsed as if the camera had
            // sent the text.
            Err(refused) => match anpr_app::recognition::fill_in_plates(state, &body, &[]).await? {
                Some(filled) => Ok(tokio::task::spawn_blocking(move || {
                    anpr_ingest::parse_reads(&filled, now, &limits)
                })
                .await
                .map_err(AppError::internal)??),
                None => Err(refused.into()),
            },
        }
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError(AppError::body_too_large(e.body_text()))
    } else {
        ApiError(AppError::BadRequest {
            field: None,
            message: e.body_text(),
        })
    }
}

/// The purpose of a read or image view: in the `X-Purpose` header, form-encoded
/// (`purpose_code=..&file_number=..&justification=..`), so that the justification stays out of
/// the URL and so out of proxies' and servers' access logs and the browser's history; or, for
/// programs written against the first version of the API, as these query parameters. The
/// header wins when both are given.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PurposeParams {
    pub purpose_code: Option<String>,
    pub file_number: Option<String>,
    pub justification: Option<String>,
}

/// The header that carries a read or image view's purpose.
pub const PURPOSE_HEADER: &str = "x-purpose";

impl PurposeParams {
    /// The purpose from the `X-Purpose` header if there is one, else from the query.
    fn from_header_or_query(
        query: PurposeParams,
        headers: &axum::http::HeaderMap,
    ) -> ApiResult<Self> {
        let Some(value) = headers.get(PURPOSE_HEADER) else {
            return Ok(query);
        };
        let bad = || {
            ApiError(AppError::invalid(
                "purpose",
                "the X-Purpose header must be form-encoded: \
                 purpose_code=..&file_number=..&justification=..",
            ))
        };
        let text = value.to_str().map_err(|_| bad())?;
        // The same decoding as the query string it replaces.
        let uri: axum::http::Uri = format!("/?{text}").parse().map_err(|_| bad())?;
        Ok(Query::<PurposeParams>::try_from_uri(&uri)
            .map_err(|_| bad())?
            .0)
    }

    fn into_purpose(self) -> Option<Purpose> {
        match (self.purpose_code, self.file_number, self.justification) {
            (None, None, None) => None,
            (code, file, just) => Some(Purpose {
                code: code.unwrap_or_default(),
                file_number: file.unwrap_or_default(),
                justification: just.unwrap_or_default(),
            }),
        }
    }
}

/// One read. Needs a purpose like a search; reads newer than the near-live window need a
/// tracking authorisation, older than the routine look-back an approved look-back.
#[utoipa::path(get, path = "/api/v1/reads/{id}", tag = "search", security(("bearer" = [])),
    params(("id" = i64, Path), PurposeParams),
    responses((status = 200, body = PlateRead), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn get_read(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(id): Path<ReadId>,
    Query(purpose): Query<PurposeParams>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Json<PlateRead>> {
    audit.action(Action::ReadView);
    let purpose = PurposeParams::from_header_or_query(purpose, &headers)?.into_purpose();
    if let Some(p) = &purpose {
        audit.purpose(p);
    }
    audit.query(serde_json::json!({ "read_id": id }));
    let (_access, read) = access::authorise_read(
        &state,
        &staff.user,
        id,
        DataAction::ViewRead,
        purpose,
        Some(&audit),
    )
    .await?;
    audit.disclosed(&[id]);
    Ok(Json(read))
}

/// An image of a read: `overview` (the scene) or `plate` (the plate crop).
#[utoipa::path(get, path = "/api/v1/reads/{id}/image/{kind}", tag = "search", security(("bearer" = [])),
    params(("id" = i64, Path), ("kind" = String, Path, description = "overview or plate"), PurposeParams),
    responses((status = 200, content_type = "image/jpeg"), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_image(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path((id, kind)): Path<(ReadId, String)>,
    Query(purpose): Query<PurposeParams>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    audit.action(Action::ImageView);
    audit.query(serde_json::json!({ "read_id": id, "kind": kind }));
    let kind = ImageKind::parse(&kind)
        .ok_or_else(|| AppError::invalid("kind", "must be `overview` or `plate`"))?;
    let purpose = PurposeParams::from_header_or_query(purpose, &headers)?.into_purpose();
    if let Some(p) = &purpose {
        audit.purpose(p);
    }
    let (_access, read) = access::authorise_read(
        &state,
        &staff.user,
        id,
        DataAction::ViewImage,
        purpose,
        Some(&audit),
    )
    .await?;
    let hash = match kind {
        ImageKind::Overview => read.overview_image,
        ImageKind::Plate => read.plate_image,
    }
    .ok_or_else(|| AppError::NotFound(format!("{kind:?} image of read {id}").to_lowercase()))?;
    let blobs = state.blobs.clone();
    let bytes = tokio::task::spawn_blocking(move || blobs.get(&hash))
        .await
        .map_err(AppError::internal)??
        .ok_or_else(|| AppError::NotFound(format!("image of read {id}")))?;
    audit.disclosed(&[id]);
    let content_type = if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalHoldRequest {
    pub hold: bool,
    /// Why the read must be kept (or released), e.g. the court file.
    pub reason: String,
    /// The purpose of this use of the read (code, incident file number, justification):
    /// decided and recorded like any other use.
    pub purpose: Option<Purpose>,
}

/// Place a read on legal hold (kept past retention) or release it. Needs a purpose; decided
/// and recorded like any use of a read.
#[utoipa::path(put, path = "/api/v1/reads/{id}/legal-hold", tag = "retention", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = LegalHoldRequest,
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_legal_hold(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(id): Path<ReadId>,
    body: Result<Json<LegalHoldRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<StatusCode> {
    audit.action(Action::LegalHold);
    let Json(req) = body?;
    audit.query(serde_json::json!({ "read_id": id, "hold": req.hold, "reason": req.reason }));
    anpr_app::retention::set_legal_hold(
        &state,
        &staff.user,
        &audit,
        id,
        req.hold,
        &req.reason,
        req.purpose,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
