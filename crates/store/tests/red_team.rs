//! What the store must do and know so that the insider red team's attacks stay closed, on every
//! backend (conformance suite: SQLite always, PostgreSQL when `ANPR_TEST_POSTGRES_URL` is set).

mod common;

use anpr_domain::*;
use anpr_policy::{Decision, DecisionAction};
use anpr_store::{NewCamera, NewSite};
use chrono::{Duration, Utc};

use common::TestDb;

conformance!(
    excluded_plates_take_their_confusable_misreads_with_them,
    fuzzy_tracking_decisions_are_recorded_as_fuzzy,
);

async fn camera(db: &TestDb) -> CameraId {
    let store = &db.store;
    let n = store.create_network("Auror", 60).await.unwrap();
    let site = store
        .create_site(NewSite {
            network_id: n.id,
            name: "Site".into(),
            kind: SiteKind::Mall,
            address: "1 Main St".into(),
            location: GeoPoint::new(-37.7, 175.2).unwrap(),
            district: "Waikato".into(),
        })
        .await
        .unwrap();
    store
        .create_camera(
            NewCamera {
                site_id: site.id,
                name: "c".into(),
                heading_deg: None,
            },
            "h".into(),
        )
        .await
        .unwrap()
        .id
}

fn read(camera: CameraId, plate: &str) -> NewRead {
    NewRead {
        camera_id: camera,
        external_id: None,
        captured_at: Utc::now() - Duration::hours(2),
        plate_raw: plate.into(),
        plate: NormalisedPlate::parse(plate).unwrap(),
        confidence: 0.9,
        plate_box: None,
        vehicle_make: None,
        vehicle_colour: None,
        overview_image: None,
        plate_image: None,
    }
}

/// Hole 1: the own-vehicle block excludes the officer's AJC758 from a pattern search; the
/// camera that read it as AJC7S8 (5 as S) must not hand it back.
async fn excluded_plates_take_their_confusable_misreads_with_them(db: TestDb) {
    let cam = camera(&db).await;
    let store = db.store.clone();
    store
        .insert_reads(vec![
            read(cam, "AJC758"),
            read(cam, "AJC7S8"),
            read(cam, "AJC759"),
            read(cam, "AJC7B8"),
        ])
        .await
        .unwrap();
    for pattern in [
        PlatePattern::parse("AJC7*", None, None).unwrap(),
        PlatePattern::parse("AJC759", Some(query::MatchMode::Fuzzy), Some(2)).unwrap(),
    ] {
        let mut q = SearchQuery::for_plate(pattern.clone());
        assert_eq!(store.search(&q).await.unwrap().total, 4, "{pattern:?}");
        q.exclude_plates = vec!["AJC758".into()];
        let page = store.search(&q).await.unwrap();
        let mut plates: Vec<&str> = page.hits.iter().map(|h| h.read.plate.as_str()).collect();
        plates.sort();
        // 5 and B are not confusable: AJC7B8 is another car.
        assert_eq!(plates, ["AJC759", "AJC7B8"], "{pattern:?}");
        assert_eq!(page.plates_matched, 2);
    }
}

/// Hole 1: the decision of a fuzzy tracking request says it was fuzzy.
async fn fuzzy_tracking_decisions_are_recorded_as_fuzzy(db: TestDb) {
    let actor = Actor::Staff {
        user_id: 4,
        staff_id: "S4".into(),
        district: "Waikato".into(),
        roles: vec![Role::Tracker],
    };
    let mut d = Decision::new(&actor, DecisionAction::TrackingRequest, "r1", Utc::now());
    d.target = Some("AJC7S8~0".into());
    d.fuzzy = true;
    db.record(d).await;
    let plain = Decision::new(&actor, DecisionAction::TrackingRequest, "r2", Utc::now());
    db.record(plain).await;
    let back = db.store.decisions(Some(4), 10).await.unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(
        back.iter()
            .map(|d| (d.request_id.as_str(), d.fuzzy))
            .collect::<Vec<_>>(),
        [("r2", false), ("r1", true)]
    );
}
