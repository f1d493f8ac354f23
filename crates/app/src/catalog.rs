//! The camera catalog: networks, sites and cameras, and cameras' keys.
//!
//! A camera's key is shown once, when it is made; only its argon2id hash is kept. Rotating
//! gives the camera a new key while the old one keeps working for an overlap (so a camera is
//! re-keyed without losing reads), revoking ends every key at once. Both take effect at once
//! on every server: this process forgets the camera's verified keys here, the others through
//! the store's change feed.

use crate::accounts::Administrator;
use crate::audit::AuditHandle;
use crate::error::{AppError, AppResult};
use crate::App;
use anpr_domain::{Camera, CameraId, Network, NetworkId, Site};
use anpr_ledger::Action;
use anpr_store::{NewCamera, NewSite};
use chrono::{DateTime, Duration, Utc};

/// How long a replaced key keeps working unless the rotation says otherwise: a day, time to
/// reconfigure a camera in the field.
pub const DEFAULT_KEY_OVERLAP: Duration = Duration::hours(24);
/// The longest overlap a rotation may ask for.
pub const MAX_KEY_OVERLAP: Duration = Duration::days(7);

/// The longest police contact a network may give its operators.
pub const MAX_POLICE_CONTACT_CHARS: usize = 300;

/// The deployment's district that `typed` names, in its configured spelling (`Waitematā` for
/// "waitemata"); a district the deployment does not have is refused with the list it has, so
/// that a typo never files a person or a site under a district no rule knows.
pub fn district(app: &App, typed: &str) -> AppResult<String> {
    let policy = &app.config.policy;
    policy
        .district(typed)
        .map(str::to_string)
        .ok_or_else(|| AppError::UnknownDistrict {
            given: typed.to_string(),
            known: policy.districts.clone(),
        })
}

/// A camera's heading as typed (whole degrees from north), checked: 0 to 359 or none.
pub fn camera_heading(typed: Option<i64>) -> AppResult<Option<u16>> {
    match typed {
        None => Ok(None),
        Some(h) if (0..360).contains(&h) => Ok(Some(h as u16)),
        Some(h) => Err(AppError::invalid(
            "heading_deg",
            format!(
                "the heading {h} is not a compass direction: give whole degrees from 0 to 359 \
                 (0 is north, 90 east, 180 south, 270 west), or leave it out"
            ),
        )),
    }
}

/// Registers a site, in one of the deployment's districts.
pub async fn create_site(app: &App, mut req: NewSite) -> AppResult<Site> {
    req.district = district(app, &req.district)?;
    Ok(app.store.create_site(req).await?)
}

/// Sets (or, with `None` or blank, clears) whom a network's own staff call at the police about
/// a vehicle of interest: shown in each of the network's hot-list alerts from now on.
pub async fn set_police_contact(
    app: &App,
    audit: &AuditHandle,
    by: &Administrator<'_>,
    network_id: NetworkId,
    contact: Option<String>,
) -> AppResult<Network> {
    audit.action(Action::CatalogChange);
    audit.query(serde_json::json!({ "network_id": network_id, "change": "police_contact" }));
    by.require()?;
    let contact = contact
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if let Some(c) = &contact {
        if c.chars().count() > MAX_POLICE_CONTACT_CHARS || c.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "police_contact",
                format!(
                    "the police contact must be one line of at most \
                     {MAX_POLICE_CONTACT_CHARS} characters (e.g. a name and a phone number)"
                ),
            ));
        }
    }
    Ok(app
        .store
        .set_network_police_contact(network_id, contact)
        .await?)
}

/// Creates a camera and its key (shown once: only its hash is kept). The key embeds the camera
/// id, so the camera is created first; until its key is added it has none and cannot ingest.
pub async fn provision_camera(app: &App, req: NewCamera) -> AppResult<(Camera, String)> {
    camera_heading(req.heading_deg.map(i64::from))?;
    let camera = app.store.create_camera(req).await?;
    let now = Utc::now();
    let (key, _) = add_key(app, camera.id, now, now).await?;
    Ok((camera, key))
}

/// A camera's new key, to show once.
#[derive(Debug, Clone)]
pub struct RotatedKey {
    pub camera_id: CameraId,
    pub api_key: String,
    /// When the key it replaces stops working (the end of the overlap); `None` when the camera
    /// had no working key.
    pub previous_key_expires_at: Option<DateTime<Utc>>,
}

/// What a revocation ended.
#[derive(Debug, Clone, Copy)]
pub struct RevokedKeys {
    pub camera_id: CameraId,
    /// The keys that were working and no longer do.
    pub revoked: u64,
}

/// Gives a camera a new key; the key it replaces keeps working for `overlap_seconds` (default
/// [`DEFAULT_KEY_OVERLAP`]; 0 ends it at once) and any older one ends now.
pub async fn rotate_camera_key(
    app: &App,
    audit: &AuditHandle,
    by: &Administrator<'_>,
    camera_id: CameraId,
    overlap_seconds: Option<i64>,
) -> AppResult<RotatedKey> {
    let overlap_seconds = overlap_seconds.unwrap_or(DEFAULT_KEY_OVERLAP.num_seconds());
    audit.action(Action::CameraKeyChange);
    audit.query(serde_json::json!({
        "camera_id": camera_id,
        "change": "rotate",
        "overlap_seconds": overlap_seconds,
    }));
    by.require()?;
    if !(0..=MAX_KEY_OVERLAP.num_seconds()).contains(&overlap_seconds) {
        return Err(AppError::invalid(
            "overlap_seconds",
            format!(
                "the overlap must be between 0 seconds and {} hours",
                MAX_KEY_OVERLAP.num_hours()
            ),
        ));
    }
    let now = Utc::now();
    let replaced_end = now + Duration::seconds(overlap_seconds);
    let (api_key, previous_key_expires_at) = add_key(app, camera_id, now, replaced_end).await?;
    tracing::info!(camera = camera_id, overlap_seconds, "camera key rotated");
    Ok(RotatedKey {
        camera_id,
        api_key,
        previous_key_expires_at,
    })
}

/// Ends every key of a camera at once, on every server.
pub async fn revoke_camera_keys(
    app: &App,
    audit: &AuditHandle,
    by: &Administrator<'_>,
    camera_id: CameraId,
) -> AppResult<RevokedKeys> {
    audit.action(Action::CameraKeyChange);
    audit.query(serde_json::json!({ "camera_id": camera_id, "change": "revoke" }));
    by.require()?;
    let revoked = app.store.revoke_camera_keys(camera_id, Utc::now()).await?;
    app.camera_keys.forget_camera(camera_id);
    tracing::info!(camera = camera_id, revoked, "camera keys revoked");
    Ok(RevokedKeys { camera_id, revoked })
}

/// Makes a key for the camera and stores its hash, the key it replaces ending at
/// `replaced_end`: the key, and when the one it replaced ends (`None`: it replaced none).
async fn add_key(
    app: &App,
    camera_id: CameraId,
    now: DateTime<Utc>,
    replaced_end: DateTime<Utc>,
) -> AppResult<(String, Option<DateTime<Utc>>)> {
    let key = crate::auth::new_camera_key(camera_id);
    let k = key.clone();
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_secret(&k))
        .await?
        .map_err(AppError::internal)?;
    let (_, replaced_until) = app
        .store
        .add_camera_key(camera_id, hash, now, replaced_end)
        .await?;
    app.camera_keys.forget_camera(camera_id);
    Ok((key, replaced_until))
}

#[cfg(test)]
mod tests {
    use super::camera_heading;

    #[test]
    fn a_heading_is_a_compass_direction() {
        assert_eq!(camera_heading(None).unwrap(), None);
        assert_eq!(camera_heading(Some(0)).unwrap(), Some(0));
        assert_eq!(camera_heading(Some(359)).unwrap(), Some(359));
        for bad in [-1, 360, 400, 70_000] {
            let e = camera_heading(Some(bad)).unwrap_err();
            assert_eq!(e.field(), Some("heading_deg"));
            assert!(e.to_string().contains("from 0 to 359"), "{e}");
        }
    }
}
