//! Historical search: where was this plate seen.

use crate::access;
use crate::audit::AuditHandle;
use crate::error::AppResult;
use crate::metrics::{ModeLabel, Stage};
use crate::App;
use anpr_domain::{GeoPoint, PlateRead, Purpose, ReadId, SearchQuery, Site, SiteKind, User};
use anpr_ledger::{Action, AuditFacts};
use anpr_policy::DataGrant;
use anpr_store::{SearchHit, SearchPage};
use chrono::Utc;
use std::collections::HashMap;

/// The largest plate crop a search page carries inline; a larger one is seen by opening its
/// read (an image view of its own).
pub const PLATE_THUMBNAIL_MAX_BYTES: usize = 64 * 1024;

/// A page of a search, and how the policy narrowed it.
#[derive(Debug)]
pub struct SearchResult {
    /// Newest first; training sightings have negative read ids.
    pub page: SearchPage,
    pub grant: DataGrant,
    /// Correlates the search with its decision record.
    pub request_id: String,
    /// The plate crops of the page's reads, when asked for and the grant allows them
    /// (`DataGrant::plate_images`): the page's thumbnails, seen under the search's own decision
    /// rather than one image view each.
    pub plate_images: HashMap<ReadId, Vec<u8>>,
}

impl SearchResult {
    /// The ids of the real reads disclosed (training sightings have negative ids).
    pub fn disclosed_ids(&self) -> Vec<i64> {
        self.page
            .hits
            .iter()
            .map(|h| h.read.id)
            .filter(|id| *id > 0)
            .collect()
    }
}

/// The query as the audit trail records it: everything but the purpose, which has fields of
/// its own in a ledger entry.
fn audit_params(query: &SearchQuery) -> serde_json::Value {
    let max_edits = match &query.plate {
        anpr_domain::PlatePattern::Fuzzy { max_edits, .. } => Some(*max_edits),
        _ => None,
    };
    let plate = match &query.plate {
        anpr_domain::PlatePattern::Exact(p) | anpr_domain::PlatePattern::Fuzzy { plate: p, .. } => {
            p.to_string()
        }
        anpr_domain::PlatePattern::Wildcard(w) => w.clone(),
    };
    serde_json::json!({
        "plate": plate, "mode": query.plate.mode(), "max_edits": max_edits,
        "from": query.time.from, "to": query.time.to, "area": query.area,
        "network_ids": query.network_ids, "site_ids": query.site_ids,
        "camera_ids": query.camera_ids, "limit": query.limit,
        "cursor": query.cursor.as_ref().map(|c| c.encode()),
    })
}

/// Decides, records and runs a search by `user` (the API and `anpr search` both come here).
/// With `plate_images`, the page carries its reads' plate crops as well, where the grant allows.
pub async fn search(
    app: &App,
    user: &User,
    audit: &AuditHandle,
    mut query: SearchQuery,
    purpose: Option<Purpose>,
    plate_images: bool,
) -> AppResult<SearchResult> {
    audit.action(Action::Search);
    app.ingest_lane.interactive();
    let mut params = audit_params(&query);
    if plate_images {
        // The ledger entry says the page showed its plate crops: they are no entries of their own.
        params["plate_images"] = serde_json::Value::Bool(true);
    }
    audit.query(params);
    if let Some(p) = &purpose {
        audit.purpose(p);
    }
    let access = access::authorise_search(app, user, &mut query, purpose).await?;
    let started = std::time::Instant::now();
    let page = match &access.grant.training_plate {
        Some(plate) if access.grant.training => training_page(app, plate).await?,
        _ => app.store.search(&query).await?,
    };
    app.metrics
        .search_seconds
        .observe(started.elapsed().as_secs_f64());
    app.metrics.time_stage(Stage::StoreSearch, started);
    let mode = format!("{:?}", query.plate.mode()).to_lowercase();
    app.metrics
        .searches
        .get_or_create(&ModeLabel { mode })
        .inc();
    let images = if plate_images && access.grant.plate_images {
        page_plate_images(app, &page).await?
    } else {
        HashMap::new()
    };
    let result = SearchResult {
        page,
        grant: access.grant,
        request_id: access.ctx.request_id,
        plate_images: images,
    };
    let disclosed = result.disclosed_ids();
    // What the page shows, the user may open by id under the same purpose and file (and
    // nothing else: read ids cannot be enumerated). One batched write per page.
    // Written beside the ledger append (both before the page leaves).
    if let (Some(p), false) = (access.ctx.purpose.clone(), result.grant.training) {
        let (app, user_id, ids, at) = (app.clone(), user.id, disclosed.clone(), access.ctx.at);
        audit.alongside(async move {
            access::record_shown(
                &app,
                user_id,
                &p,
                &ids,
                anpr_policy::DisclosedBy::Search,
                at,
            )
            .await
        });
    }
    audit.disclosed(&disclosed);
    // Every network the search reached, and the reads it disclosed of each: a training plate's
    // sightings are made up and reach none.
    if result.grant.training {
        audit.facts(AuditFacts::new().training(true));
    } else {
        audit.facts(crate::network_uses::reach_facts(
            &user.district,
            &result.grant.networks,
            result
                .page
                .hits
                .iter()
                .filter(|h| h.read.id > 0)
                .map(|h| h.read.network_id),
        ));
    }
    // How fresh the newest sighting shown was: repeated searches each showing near-live
    // sightings are tracking without an authorisation (integrity rule "polling").
    if let Some(newest) = result
        .page
        .hits
        .iter()
        .filter(|h| h.read.id > 0)
        .map(|h| h.read.captured_at)
        .max()
    {
        let age = (Utc::now() - newest).num_seconds().max(0);
        audit.facts(AuditFacts::new().newest_result_age_s(age as u64));
    }
    Ok(result)
}

/// The plate crops of a page's real reads, each at most [`PLATE_THUMBNAIL_MAX_BYTES`].
async fn page_plate_images(app: &App, page: &SearchPage) -> AppResult<HashMap<ReadId, Vec<u8>>> {
    let wanted: Vec<(ReadId, anpr_domain::ImageHash)> = page
        .hits
        .iter()
        .filter(|h| h.read.id > 0)
        .filter_map(|h| h.read.plate_image.clone().map(|i| (h.read.id, i)))
        .collect();
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let blobs = app.blobs.clone();
    let images = tokio::task::spawn_blocking(move || {
        let mut out = HashMap::new();
        for (id, hash) in wanted {
            if let Some(bytes) = blobs.get(&hash)? {
                if bytes.len() <= PLATE_THUMBNAIL_MAX_BYTES {
                    out.insert(id, bytes);
                }
            }
        }
        Ok::<_, anpr_blobs::BlobError>(out)
    })
    .await??;
    Ok(images)
}

/// Synthetic sightings of a training plate at the deployment's own sites (or one made-up
/// site), with negative read ids so they can never be mistaken for real reads.
async fn training_page(app: &App, plate: &str) -> AppResult<SearchPage> {
    let sites = app.store.sites().await?;
    let networks = app.store.networks().await?;
    let sightings =
        anpr_policy::training::sightings(plate, Utc::now(), sites.len(), app.policy.config());
    let normalised = anpr_domain::NormalisedPlate::parse(plate)?;
    let fallback = Site {
        id: 0,
        network_id: 0,
        name: "Training site".into(),
        kind: SiteKind::Other,
        address: "Police College, Porirua".into(),
        location: GeoPoint::new(-41.1333, 174.8406)?,
        district: "Wellington".into(),
    };
    let hits: Vec<SearchHit> = sightings
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let site = sites.get(s.site_index).unwrap_or(&fallback);
            SearchHit {
                read: PlateRead {
                    id: -(i as i64) - 1,
                    camera_id: 0,
                    site_id: site.id,
                    network_id: site.network_id,
                    captured_at: s.captured_at,
                    received_at: s.captured_at,
                    plate_raw: s.plate.clone(),
                    plate: normalised.clone(),
                    plate_format: normalised.format(),
                    confidence: s.confidence,
                    plate_box: None,
                    vehicle_make: None,
                    vehicle_colour: None,
                    overview_image: None,
                    plate_image: None,
                    legal_hold: false,
                },
                site_name: format!("TRAINING: {}", site.name),
                site_kind: site.kind,
                network_name: networks
                    .iter()
                    .find(|n| n.id == site.network_id)
                    .map(|n| format!("TRAINING: {}", n.name))
                    .unwrap_or_else(|| "TRAINING".into()),
                location: site.location,
                district: site.district.clone(),
            }
        })
        .collect();
    Ok(SearchPage {
        total: hits.len() as u64,
        hits,
        next_cursor: None,
        plates_matched: 1,
    })
}
