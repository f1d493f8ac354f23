//! Filling a deployment with the synthetic catalog and sightings of `anpr-synth`, through the
//! same store calls that ingestion uses. Shared by `anpr demo` and the benchmarks.

use anpr_app::App as AppState;
use anpr_domain::{NewRead, NormalisedPlate};
use anpr_store::NewCamera;
use anpr_synth::catalog::Catalog;
use anpr_synth::reads::{sightings, SightingSpec};
use anpr_synth::render::{render_overview_jpeg, PlateCropCache};

/// The store ids of the synthetic catalog's cameras, with their API keys.
pub struct SeededCatalog {
    pub camera_ids: Vec<i64>,
    pub camera_keys: Vec<String>,
}

pub async fn seed_catalog(state: &AppState, catalog: &Catalog) -> anyhow::Result<SeededCatalog> {
    let mut network_ids = Vec::new();
    for n in &catalog.networks {
        network_ids.push(
            state
                .store
                .create_network(n.name, n.retention_days)
                .await?
                .id,
        );
    }
    let mut site_ids = Vec::new();
    for s in &catalog.sites {
        let site = state
            .store
            .create_site(anpr_store::NewSite {
                network_id: network_ids[s.network],
                name: s.name.clone(),
                kind: s.kind,
                address: s.address.clone(),
                location: s.location,
                district: s.district.to_string(),
            })
            .await?;
        site_ids.push(site.id);
    }
    let mut out = SeededCatalog {
        camera_ids: vec![],
        camera_keys: vec![],
    };
    for c in &catalog.cameras {
        let (camera, key) = anpr_app::catalog::provision_camera(
            state,
            NewCamera {
                site_id: site_ids[c.site],
                name: c.name.clone(),
                heading_deg: Some(c.heading_deg),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        out.camera_ids.push(camera.id);
        out.camera_keys.push(key);
    }
    Ok(out)
}

/// What images to render for synthetic reads.
#[derive(Clone, Copy)]
pub struct ImagePlan {
    /// Approximate size of each plate crop in bytes; `None` for no images.
    pub crop_bytes: Option<usize>,
    /// Render an overview for one read in this many (0: never).
    pub overview_every: u64,
}

/// Stores synthetic sightings in batches, calling `progress` with the count stored so far.
pub async fn load_sightings(
    state: &AppState,
    camera_ids: &[i64],
    spec: &SightingSpec,
    population: &[String],
    images: ImagePlan,
    batch: usize,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    let mut crops = images
        .crop_bytes
        .map(|b| PlateCropCache::new(b, 4096, spec.seed));
    let mut pending: Vec<NewRead> = Vec::with_capacity(batch);
    let mut stored = 0u64;
    for (i, s) in sightings(spec, population).enumerate() {
        let mut read = NewRead {
            camera_id: camera_ids[s.camera_index as usize],
            external_id: None,
            captured_at: s.captured_at,
            plate_raw: s.plate.to_string(),
            plate: NormalisedPlate::parse(s.plate)?,
            confidence: s.confidence,
            plate_box: None,
            vehicle_make: s.make.map(str::to_string),
            vehicle_colour: s.colour.map(str::to_string),
            overview_image: None,
            plate_image: None,
        };
        if let Some(cache) = crops.as_mut() {
            let crop = cache.get(s.plate)?;
            read.plate_image = Some(state.blobs.put(&crop)?);
            if images.overview_every > 0 && (i as u64).is_multiple_of(images.overview_every) {
                let overview = render_overview_jpeg(s.plate, s.colour, 640, 400, 80, i as u64)?;
                read.plate_box = Some(overview.plate_box);
                read.overview_image = Some(state.blobs.put(&overview.jpeg)?);
            }
        }
        pending.push(read);
        if pending.len() >= batch {
            stored += flush(state, &mut pending, images.crop_bytes.is_some()).await?;
            progress(stored);
        }
    }
    stored += flush(state, &mut pending, images.crop_bytes.is_some()).await?;
    progress(stored);
    Ok(stored)
}

async fn flush(state: &AppState, pending: &mut Vec<NewRead>, images: bool) -> anyhow::Result<u64> {
    if pending.is_empty() {
        return Ok(0);
    }
    if images {
        state.blobs.sync()?;
    }
    let n = pending.len() as u64;
    // A bulk load is a use like any other: one ledger entry per batch.
    let reads = std::mem::take(pending);
    let query = serde_json::json!({ "synthetic": true, "batch": n });
    crate::commands::ledgered(
        state,
        crate::commands::operator(),
        anpr_ledger::Action::Ingest,
        query,
        async { Ok(state.store.insert_reads(reads).await?) },
    )
    .await?;
    Ok(n)
}
