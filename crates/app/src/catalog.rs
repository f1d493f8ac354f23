//! The camera catalog: networks, sites and cameras, and cameras' keys.

use crate::error::AppResult;
use crate::App;
use anpr_domain::Camera;
use anpr_store::NewCamera;

/// Creates a camera and its key (shown once: only its hash is kept). The key embeds the camera
/// id, so the hash is set once the id is known; until then the camera holds an unusable hash.
pub async fn provision_camera(app: &App, req: NewCamera) -> AppResult<(Camera, String)> {
    let camera = app.store.create_camera(req, "!unset".to_string()).await?;
    let key = crate::auth::new_camera_key(camera.id);
    let k = key.clone();
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_secret(&k))
        .await?
        .map_err(crate::AppError::internal)?;
    app.store.set_camera_key_hash(camera.id, hash).await?;
    Ok((camera, key))
}
