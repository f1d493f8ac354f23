//! Historical search.

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use anpr_domain::query::{Cursor, MatchMode, DEFAULT_PAGE_SIZE};
use anpr_domain::{
    Area, CameraId, NetworkId, PlatePattern, Purpose, SearchQuery, SiteId, TimeRange,
};
use anpr_ledger::Action;
use anpr_policy::Notice;
use anpr_store::SearchHit;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// Plate text: exact (`ABC123`), wildcard (`AB?12*`) or, with `mode: fuzzy`, OCR-fuzzy.
    pub plate: String,
    /// Defaults to `wildcard` when `plate` holds `?` or `*`, else `exact`.
    pub mode: Option<MatchMode>,
    /// Fuzzy mode: edits allowed beyond OCR confusions (0 to 2, default 1).
    pub max_edits: Option<u8>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub area: Option<Area>,
    #[serde(default)]
    pub network_ids: Vec<NetworkId>,
    #[serde(default)]
    pub site_ids: Vec<SiteId>,
    #[serde(default)]
    pub camera_ids: Vec<CameraId>,
    /// Page size, 1 to 1000 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Why this search is being made; required.
    pub purpose: Option<Purpose>,
    /// Carry each hit's plate crop inline (`plate_thumbnail`), as a results table shows them:
    /// seen under this search's decision and ledger entry, not as one image view each.
    #[serde(default)]
    pub thumbnails: bool,
}

impl SearchRequest {
    pub fn into_query(self) -> ApiResult<(SearchQuery, Option<Purpose>)> {
        let plate = PlatePattern::parse(&self.plate, self.mode, self.max_edits)?;
        let query = SearchQuery {
            plate,
            time: TimeRange {
                from: self.from,
                to: self.to,
            },
            area: self.area,
            network_ids: self.network_ids,
            site_ids: self.site_ids,
            camera_ids: self.camera_ids,
            limit: self.limit.unwrap_or(DEFAULT_PAGE_SIZE),
            cursor: self.cursor.as_deref().map(Cursor::decode).transpose()?,
            exclude_plates: vec![],
            network_floors: vec![],
        };
        query.validate()?;
        Ok((query, self.purpose))
    }
}

/// How the access policy narrowed a search, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyReport {
    /// Synthetic sightings of a reserved training plate: no real data.
    pub training: bool,
    /// What was withheld or narrowed, in words the user can act on.
    pub notices: Vec<Notice>,
    /// The networks searched (those whose sharing agreements permit the user's district).
    pub networks_searched: Vec<NetworkId>,
    /// The time range searched.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The tracking or look-back authorisation the search rested on, if any.
    pub authorisation_id: Option<i64>,
    /// Correlates the search with its decision record.
    pub request_id: String,
}

/// A search hit with links to its images.
#[derive(Debug, Serialize, ToSchema)]
pub struct HitView {
    #[serde(flatten)]
    pub hit: SearchHit,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overview_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plate_url: Option<String>,
    /// With `thumbnails`: the plate crop as a `data:` URL (absent when the read has none, or
    /// one too large to carry inline: open `plate_url` for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plate_thumbnail: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    /// Newest first.
    pub hits: Vec<HitView>,
    /// Reads matching the whole query, across all pages.
    pub total: u64,
    /// Pass back as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Distinct plates the pattern resolved to.
    pub plates_matched: usize,
    /// How the access policy narrowed the search, and why.
    pub policy: PolicyReport,
}

impl SearchResponse {
    pub fn new(result: anpr_app::search::SearchResult) -> Self {
        let (page, grant, mut images) = (result.page, result.grant, result.plate_images);
        let policy = PolicyReport {
            training: grant.training,
            notices: grant.notices,
            networks_searched: grant.networks,
            from: grant.time.from,
            to: grant.time.to,
            authorisation_id: grant.authorisation_id,
            request_id: result.request_id,
        };
        let link = |id: i64, kind: &str| format!("/api/v1/reads/{id}/image/{kind}");
        SearchResponse {
            hits: page
                .hits
                .into_iter()
                .map(|hit| HitView {
                    plate_thumbnail: images.remove(&hit.read.id).map(|b| data_url(&b)),
                    overview_url: hit
                        .read
                        .overview_image
                        .as_ref()
                        .map(|_| link(hit.read.id, "overview")),
                    plate_url: hit
                        .read
                        .plate_image
                        .as_ref()
                        .map(|_| link(hit.read.id, "plate")),
                    hit,
                })
                .collect(),
            total: page.total,
            next_cursor: page.next_cursor,
            plates_matched: page.plates_matched,
            policy,
        }
    }
}

/// An image as a `data:` URL, which the UI's Content-Security-Policy allows for images.
fn data_url(bytes: &[u8]) -> String {
    use base64::Engine;
    let mime = if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    };
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Search plate reads, newest first, one page at a time.
#[utoipa::path(post, path = "/api/v1/searches", tag = "search", security(("bearer" = [])),
    request_body = SearchRequest,
    responses((status = 200, body = SearchResponse), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    body: Result<Json<SearchRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<SearchResponse>> {
    audit.action(Action::Search);
    let Json(req) = body?;
    let thumbnails = req.thumbnails;
    let (query, purpose) = req.into_query()?;
    let result =
        anpr_app::search::search(&state, &staff.user, &audit, query, purpose, thumbnails).await?;
    Ok(Json(SearchResponse::new(result)))
}
