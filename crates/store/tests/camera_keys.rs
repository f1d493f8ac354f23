//! Cameras' keys on every backend: a rotation keeps the replaced key for its overlap and never
//! leaves more than two live, a revocation ends every key at once, and on a shared database
//! every change to who may ingest as a camera — by the store or by hand — is announced.

mod common;

use anpr_domain::{CameraId, GeoPoint, SiteKind};
use anpr_store::{NewCamera, NewSite, Store, StoreChange, StoreError};
use chrono::{DateTime, Duration, DurationRound, Utc};
use common::TestDb;
use std::sync::Arc;

conformance!(
    a_rotation_overlaps_and_a_revocation_ends_every_key,
    another_process_hears_of_every_change_to_a_cameras_access,
);

async fn camera(store: &Arc<dyn Store>) -> CameraId {
    let network = store.create_network("Auror", 60).await.unwrap();
    let site = store
        .create_site(NewSite {
            network_id: network.id,
            name: "Fuel stop".into(),
            kind: SiteKind::FuelStation,
            address: "1 Main St".into(),
            location: GeoPoint::new(-37.7, 175.2).unwrap(),
            district: "Waikato".into(),
        })
        .await
        .unwrap();
    let new = NewCamera {
        site_id: site.id,
        name: "forecourt".into(),
        heading_deg: None,
    };
    store.create_camera(new).await.unwrap().id
}

/// The live keys' hashes and ends at `at`, newest first.
async fn live(
    store: &Arc<dyn Store>,
    camera: CameraId,
    at: DateTime<Utc>,
) -> Vec<(String, Option<DateTime<Utc>>)> {
    let creds = store.camera_credentials(camera, at).await.unwrap().unwrap();
    assert!(creds.active);
    creds
        .keys
        .into_iter()
        .map(|k| (k.key_hash, k.expires_at))
        .collect()
}

async fn a_rotation_overlaps_and_a_revocation_ends_every_key(db: TestDb) {
    let store = db.store.clone();
    let cam = camera(&store).await;
    // Times stored to the millisecond.
    let now = Utc::now()
        .duration_trunc(Duration::milliseconds(1))
        .unwrap();
    let hour = Duration::hours(1);
    assert!(
        live(&store, cam, now).await.is_empty(),
        "created without a key"
    );

    let (first, replaced) = store
        .add_camera_key(cam, "h1".into(), now, now)
        .await
        .unwrap();
    assert_eq!((first.camera_id, replaced), (cam, None));
    assert_eq!(live(&store, cam, now).await, [("h1".into(), None)]);

    let (_, replaced) = store
        .add_camera_key(cam, "h2".into(), now, now + hour)
        .await
        .unwrap();
    assert_eq!(replaced, Some(now + hour));
    assert_eq!(
        live(&store, cam, now).await,
        [("h2".into(), None), ("h1".into(), Some(now + hour))]
    );
    assert_eq!(
        live(&store, cam, now + hour).await,
        [("h2".into(), None)],
        "the replaced key ends with the overlap"
    );

    // A rotation within the overlap: the key in its overlap (h2) ends at once, the one being
    // replaced (h3) at the new overlap's end; never three live keys.
    let (_, replaced) = store
        .add_camera_key(cam, "h3".into(), now, now + hour * 2)
        .await
        .unwrap();
    assert_eq!(replaced, Some(now + hour * 2));
    let (_, replaced) = store
        .add_camera_key(cam, "h4".into(), now, now + hour * 3)
        .await
        .unwrap();
    assert_eq!(replaced, Some(now + hour * 3));
    assert_eq!(
        live(&store, cam, now).await,
        [("h4".into(), None), ("h3".into(), Some(now + hour * 3))]
    );

    assert_eq!(store.revoke_camera_keys(cam, now).await.unwrap(), 2);
    assert!(live(&store, cam, now).await.is_empty());
    assert_eq!(store.revoke_camera_keys(cam, now).await.unwrap(), 0);

    assert!(store.camera_credentials(9999, now).await.unwrap().is_none());
    assert!(matches!(
        store.revoke_camera_keys(9999, now).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.add_camera_key(9999, "h".into(), now, now).await,
        Err(StoreError::NotFound(_))
    ));
}

/// The next change announced, waiting at most a few seconds.
async fn next_change(feed: &mut tokio::sync::mpsc::Receiver<StoreChange>) -> StoreChange {
    tokio::time::timeout(std::time::Duration::from_secs(5), feed.recv())
        .await
        .expect("a change is announced within 5 s")
        .expect("the feed stays open")
}

async fn another_process_hears_of_every_change_to_a_cameras_access(db: TestDb) {
    let listener = db.another_process().await;
    let Some(mut feed) = listener.changes().await.unwrap() else {
        // A store only one process writes has nothing to announce.
        assert!(matches!(db.backend(), common::Backend::Sqlite));
        return;
    };
    assert_eq!(next_change(&mut feed).await, StoreChange::Resync);
    let store = db.store.clone();
    let cam = camera(&store).await;
    let now = Utc::now();
    store
        .add_camera_key(cam, "h1".into(), now, now)
        .await
        .unwrap();
    store
        .add_camera_key(cam, "h2".into(), now, now + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(next_change(&mut feed).await, StoreChange::CameraAccess(cam));
    store.revoke_camera_keys(cam, now).await.unwrap();
    assert_eq!(next_change(&mut feed).await, StoreChange::CameraAccess(cam));
    db.execute_batch(&format!(
        "UPDATE cameras SET active = FALSE WHERE id = {cam}"
    ))
    .await;
    assert_eq!(next_change(&mut feed).await, StoreChange::CameraAccess(cam));
}
