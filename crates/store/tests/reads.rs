//! The store's behaviour on every backend (conformance suite: SQLite always, PostgreSQL when
//! `ANPR_TEST_POSTGRES_URL` is set): ingestion, every search mode, pagination, place filters,
//! retention and legal holds, several processes on one database.

mod common;

use anpr_domain::query::MatchMode;
use anpr_domain::*;
use anpr_policy::registers::{StolenRecord, StolenStatus};
use anpr_store::{
    AlertAudience, AlertFilter, AlertKind, ImportSource, NewAlert, NewCamera, NewSite,
    RegisterBatch, Store, StoreError,
};
use chrono::{Duration, TimeZone, Utc};
use common::TestDb;
use std::sync::Arc;

conformance!(
    stores_and_returns_a_read,
    a_retried_upload_is_not_stored_twice,
    a_retried_read_twice_in_one_batch_is_stored_once,
    a_batch_with_an_unknown_camera_stores_nothing,
    exact_wildcard_and_fuzzy_search,
    time_place_and_network_filters,
    pages_follow_the_cursor_without_gaps_or_repeats,
    too_broad_patterns_are_refused,
    retention_purges_expired_reads_but_keeps_legal_holds,
    dictionary_survives_reopen_and_sees_new_plates,
    catalog_validation_and_conflicts,
    two_processes_on_one_database_see_each_others_plates_and_cameras,
    concurrent_batches_share_commits_and_all_land,
    a_day_past_every_retention_goes_whole_with_its_images,
    alerts_are_stored_once_listed_by_audience_and_acknowledged_once,
    two_processes_purging_at_once_delete_each_read_once,
    the_hot_list_is_the_active_stolen_reports_and_is_confirmed_live,
    a_hot_list_alert_carries_the_sites_address_and_the_networks_police_contact,
    a_networks_floor_leaves_out_only_its_own_older_reads,
    network_controls_and_watch_notices_are_kept_and_another_process_sees_a_change,
);

struct Fixture {
    db: TestDb,
    store: Arc<dyn Store>,
    akl_cam: CameraId,
    chc_cam: CameraId,
    net_a: NetworkId,
}

async fn fixture(db: TestDb) -> Fixture {
    let store = db.store.clone();
    let a = store.create_network("Auror", 60).await.unwrap();
    let b = store.create_network("SaferCities", 30).await.unwrap();
    let akl = store
        .create_site(NewSite {
            network_id: a.id,
            name: "Fuel stop Newmarket".into(),
            kind: SiteKind::FuelStation,
            address: "1 Broadway, Auckland".into(),
            location: GeoPoint::new(-36.8700, 174.7780).unwrap(),
            district: "Auckland City".into(),
        })
        .await
        .unwrap();
    let chc = store
        .create_site(NewSite {
            network_id: b.id,
            name: "Mall Riccarton".into(),
            kind: SiteKind::Mall,
            address: "129 Riccarton Rd, Christchurch".into(),
            location: GeoPoint::new(-43.5300, 172.6000).unwrap(),
            district: "Canterbury".into(),
        })
        .await
        .unwrap();
    let cam = |site| NewCamera {
        site_id: site,
        name: "entry".into(),
        heading_deg: Some(90),
    };
    let akl_cam = store.create_camera(cam(akl.id)).await.unwrap().id;
    let chc_cam = store.create_camera(cam(chc.id)).await.unwrap().id;
    Fixture {
        db,
        store,
        akl_cam,
        chc_cam,
        net_a: a.id,
    }
}

fn read(camera: CameraId, plate: &str, minutes_ago: i64) -> NewRead {
    NewRead {
        camera_id: camera,
        external_id: None,
        captured_at: Utc::now() - Duration::minutes(minutes_ago),
        plate_raw: plate.to_string(),
        plate: NormalisedPlate::parse(plate).unwrap(),
        confidence: 0.9,
        plate_box: Some(BoundingBox {
            x: 1,
            y: 2,
            width: 3,
            height: 4,
        }),
        vehicle_make: Some("Toyota".into()),
        vehicle_colour: None,
        overview_image: None,
        plate_image: None,
    }
}

fn query(text: &str, mode: Option<MatchMode>, edits: Option<u8>) -> SearchQuery {
    SearchQuery::for_plate(PlatePattern::parse(text, mode, edits).unwrap())
}

async fn stores_and_returns_a_read(db: TestDb) {
    let f = fixture(db).await;
    let out = f
        .store
        .insert_reads(vec![read(f.akl_cam, "ABC123", 5)])
        .await
        .unwrap();
    let got = f.store.read(out[0].id).await.unwrap().unwrap();
    assert_eq!(got.plate.as_str(), "ABC123");
    assert_eq!(got.plate_format, PlateFormat::NzStandard);
    assert_eq!(got.network_id, f.net_a);
    assert_eq!(got.plate_box.unwrap().height, 4);
    assert_eq!(got.vehicle_make.as_deref(), Some("Toyota"));
    assert!(f.store.read(999_999).await.unwrap().is_none());
}

async fn a_retried_upload_is_not_stored_twice(db: TestDb) {
    let f = fixture(db).await;
    let mut r = read(f.akl_cam, "ABC123", 5);
    r.external_id = Some("cam-uuid-1".into());
    let first = f.store.insert_reads(vec![r.clone()]).await.unwrap();
    let again = f.store.insert_reads(vec![r]).await.unwrap();
    assert!(!first[0].duplicate);
    assert!(again[0].duplicate);
    assert_eq!(first[0].id, again[0].id);
    assert_eq!(f.store.stats().await.unwrap().reads, 1);
}

async fn a_retried_read_twice_in_one_batch_is_stored_once(db: TestDb) {
    let f = fixture(db).await;
    let mut r = read(f.akl_cam, "ABC123", 5);
    r.external_id = Some("cam-uuid-2".into());
    let out = f.store.insert_reads(vec![r.clone(), r]).await.unwrap();
    assert!(!out[0].duplicate);
    assert!(out[1].duplicate);
    assert_eq!(out[0].id, out[1].id);
    assert_eq!(f.store.stats().await.unwrap().reads, 1);
}

async fn a_batch_with_an_unknown_camera_stores_nothing(db: TestDb) {
    let f = fixture(db).await;
    let err = f
        .store
        .insert_reads(vec![read(f.akl_cam, "ABC123", 5), read(4242, "XYZ789", 5)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
    assert_eq!(f.store.stats().await.unwrap().reads, 0);
}

async fn exact_wildcard_and_fuzzy_search(db: TestDb) {
    let f = fixture(db).await;
    let reads = vec![
        read(f.akl_cam, "ABC123", 30),
        read(f.akl_cam, "ABC123", 20),
        read(f.chc_cam, "ABC123", 10),
        read(f.akl_cam, "ABX123", 5),
        read(f.akl_cam, "A8C1Z3", 5),
        read(f.akl_cam, "ZZZ999", 5),
    ];
    f.store.insert_reads(reads).await.unwrap();

    let exact = f.store.search(&query("abc 123", None, None)).await.unwrap();
    assert_eq!(exact.total, 3);
    assert_eq!(exact.plates_matched, 1);
    let times: Vec<_> = exact.hits.iter().map(|h| h.read.captured_at).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert_eq!(exact.hits[0].site_name, "Mall Riccarton");
    assert_eq!(exact.hits[0].network_name, "SaferCities");

    let wild = f.store.search(&query("AB?12*", None, None)).await.unwrap();
    assert_eq!(wild.total, 4);
    assert_eq!(wild.plates_matched, 2);

    let fuzzy = f
        .store
        .search(&query("ABC123", Some(MatchMode::Fuzzy), Some(0)))
        .await
        .unwrap();
    assert_eq!(fuzzy.plates_matched, 2, "A8C1Z3 is ABC123 up to confusions");
    let fuzzy1 = f
        .store
        .search(&query("ABC123", Some(MatchMode::Fuzzy), Some(1)))
        .await
        .unwrap();
    assert_eq!(fuzzy1.plates_matched, 3, "ABX128 is one edit away");

    let none = f.store.search(&query("NOPE12", None, None)).await.unwrap();
    assert_eq!(none.total, 0);
    assert!(none.hits.is_empty());
}

async fn time_place_and_network_filters(db: TestDb) {
    let f = fixture(db).await;
    f.store
        .insert_reads(vec![
            read(f.akl_cam, "ABC123", 300),
            read(f.akl_cam, "ABC123", 100),
            read(f.chc_cam, "ABC123", 10),
        ])
        .await
        .unwrap();
    let mut q = query("ABC123", None, None);
    q.time.from = Some(Utc::now() - Duration::minutes(200));
    assert_eq!(f.store.search(&q).await.unwrap().total, 2);
    q.time.to = Some(Utc::now() - Duration::minutes(50));
    assert_eq!(f.store.search(&q).await.unwrap().total, 1);

    let mut q = query("ABC123", None, None);
    q.area = Some(Area::Circle {
        lat: -36.85,
        lon: 174.76,
        radius_km: 10.0,
    });
    let page = f.store.search(&q).await.unwrap();
    assert_eq!(page.total, 2);
    assert!(page.hits.iter().all(|h| h.district == "Auckland City"));

    let mut q = query("ABC123", None, None);
    q.area = Some(Area::Box {
        min_lat: -44.0,
        min_lon: 172.0,
        max_lat: -43.0,
        max_lon: 173.0,
    });
    assert_eq!(f.store.search(&q).await.unwrap().total, 1);

    let mut q = query("ABC123", None, None);
    q.network_ids = vec![f.net_a];
    assert_eq!(f.store.search(&q).await.unwrap().total, 2);
    q.camera_ids = vec![f.chc_cam];
    assert_eq!(f.store.search(&q).await.unwrap().total, 0);
}

async fn pages_follow_the_cursor_without_gaps_or_repeats(db: TestDb) {
    let f = fixture(db).await;
    let base = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap();
    let reads: Vec<NewRead> = (0..25)
        .map(|i| {
            let mut r = read(f.akl_cam, "PAGE1", 0);
            // Several reads share a timestamp so the tie-break on id matters, and they span
            // several capture days so the total must not shrink as the cursor moves on.
            r.captured_at = base + Duration::hours(7 * (i / 3));
            r
        })
        .collect();
    f.store.insert_reads(reads).await.unwrap();
    let mut q = query("PAGE1", None, None);
    q.limit = 7;
    let mut seen = Vec::new();
    loop {
        let page = f.store.search(&q).await.unwrap();
        assert_eq!(
            page.total, 25,
            "the total of every page is the whole query's"
        );
        seen.extend(page.hits.iter().map(|h| h.read.id));
        match page.next_cursor {
            Some(c) => q.cursor = Some(anpr_domain::query::Cursor::decode(&c).unwrap()),
            None => break,
        }
    }
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(seen.len(), 25);
    assert_eq!(dedup.len(), 25);
}

async fn too_broad_patterns_are_refused(db: TestDb) {
    let f = fixture(db).await;
    let reads: Vec<NewRead> = (0..6000)
        .map(|i| read(f.akl_cam, &format!("AA{i:04}"), 1))
        .collect();
    f.store.insert_reads(reads).await.unwrap();
    let err = f.store.search(&query("AA*", None, None)).await.unwrap_err();
    assert!(matches!(err, StoreError::TooBroad(_)), "{err}");
    let ok = f.store.search(&query("AA123*", None, None)).await.unwrap();
    assert_eq!(ok.plates_matched, 10);
}

async fn retention_purges_expired_reads_but_keeps_legal_holds(db: TestDb) {
    let f = fixture(db).await;
    let sha = |c: char| Some(ImageHash(c.to_string().repeat(64)));
    let day = 24 * 60;
    let mut old = read(f.akl_cam, "OLD111", 61 * day);
    old.plate_image = sha('a');
    let mut held = read(f.akl_cam, "HELD11", 61 * day);
    held.plate_image = sha('b');
    let mut shared_old = read(f.chc_cam, "SHR111", 31 * day);
    shared_old.plate_image = sha('c');
    let mut shared_new = read(f.chc_cam, "SHR111", day);
    shared_new.plate_image = sha('c');
    let fresh = read(f.akl_cam, "NEW111", 59 * day);
    let ids = f
        .store
        .insert_reads(vec![old, held, shared_old, shared_new, fresh])
        .await
        .unwrap();
    f.store.set_legal_hold(ids[1].id, true).await.unwrap();
    assert!(matches!(
        f.store.set_legal_hold(987_654, true).await,
        Err(StoreError::NotFound(_))
    ));

    let mut total = anpr_domain::PurgeReport::default();
    let mut freed = vec![];
    loop {
        let batch = f.store.purge_expired(Utc::now(), 1).await.unwrap();
        if batch.report.reads_deleted == 0 {
            break;
        }
        total.reads_deleted += batch.report.reads_deleted;
        freed.extend(batch.freed_images);
    }
    assert_eq!(
        total.reads_deleted, 2,
        "61-day read in a 60-day network, 31-day in a 30-day one"
    );
    assert_eq!(
        freed,
        vec![sha('a').unwrap()],
        "image c is still used by a newer read"
    );
    assert!(f.store.read(ids[0].id).await.unwrap().is_none());
    assert!(
        f.store.read(ids[1].id).await.unwrap().is_some(),
        "legal hold kept"
    );
    assert!(f.store.read(ids[4].id).await.unwrap().is_some());
    assert_eq!(
        f.store
            .reads_on_hold_past_retention(Utc::now())
            .await
            .unwrap(),
        1
    );
}

async fn dictionary_survives_reopen_and_sees_new_plates(db: TestDb) {
    {
        let f = db.store.clone();
        let n = f.create_network("N", 60).await.unwrap();
        let s = f
            .create_site(NewSite {
                network_id: n.id,
                name: "S".into(),
                kind: SiteKind::Retail,
                address: "".into(),
                location: GeoPoint::new(-41.0, 174.0).unwrap(),
                district: "Wellington".into(),
            })
            .await
            .unwrap();
        let c = f
            .create_camera(NewCamera {
                site_id: s.id,
                name: "c".into(),
                heading_deg: None,
            })
            .await
            .unwrap();
        f.insert_reads(vec![read(c.id, "KEEP12", 1)]).await.unwrap();
    }
    let f = db.another_process().await;
    assert_eq!(f.search(&query("KEE*", None, None)).await.unwrap().total, 1);
    assert_eq!(f.cameras().await.unwrap().len(), 1);
}

async fn catalog_validation_and_conflicts(db: TestDb) {
    let f = fixture(db).await;
    assert!(matches!(
        f.store.create_network("Auror", 60).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        f.store.create_network("X", 0).await,
        Err(StoreError::Invalid(_))
    ));
    let err = f
        .store
        .create_camera(NewCamera {
            site_id: 777,
            name: "x".into(),
            heading_deg: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)));
}

async fn two_processes_on_one_database_see_each_others_plates_and_cameras(db: TestDb) {
    let f = fixture(db).await;
    let other = f.db.another_process().await;
    // A camera added by the second process is usable by the first.
    let sites = other.sites().await.unwrap();
    let cam = other
        .create_camera(NewCamera {
            site_id: sites[0].id,
            name: "late".into(),
            heading_deg: None,
        })
        .await
        .unwrap();
    other
        .insert_reads(vec![read(cam.id, "OTHER1", 1)])
        .await
        .unwrap();
    f.store
        .insert_reads(vec![read(cam.id, "OTHER1", 2)])
        .await
        .unwrap();
    let page = f.store.search(&query("OTH*", None, None)).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.plates_matched, 1);
}

async fn concurrent_batches_share_commits_and_all_land(db: TestDb) {
    let f = fixture(db).await;
    let mut tasks = Vec::new();
    for t in 0..16 {
        let store = f.store.clone();
        let cam = f.akl_cam;
        tasks.push(tokio::spawn(async move {
            let reads: Vec<NewRead> = (0..200)
                .map(|i| {
                    let mut r = read(cam, &format!("G{t:02}{i:03}"), 1);
                    r.external_id = Some(format!("{t}-{i}"));
                    r
                })
                .collect();
            store.insert_reads(reads).await.unwrap()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let out = t.await.unwrap();
        assert_eq!(out.len(), 200);
        assert!(out.iter().all(|o| !o.duplicate));
        ids.extend(out.iter().map(|o| o.id));
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16 * 200);
    assert_eq!(f.store.stats().await.unwrap().reads, 3200);
    let page = f.store.search(&query("G07*", None, None)).await.unwrap();
    assert_eq!(page.total, 200);
}

async fn a_day_past_every_retention_goes_whole_with_its_images(db: TestDb) {
    let f = fixture(db).await;
    let sha = |c: char| Some(ImageHash(c.to_string().repeat(64)));
    let day = 24 * 60;
    let mut reads: Vec<NewRead> = (0..40)
        .map(|i| {
            let mut r = read(
                if i % 2 == 0 { f.akl_cam } else { f.chc_cam },
                "GONE12",
                70 * day,
            );
            r.plate_image = sha('d');
            r
        })
        .collect();
    reads[0].overview_image = sha('e');
    let mut fresh = read(f.akl_cam, "KEPT12", day);
    fresh.plate_image = sha('d');
    reads.push(fresh);
    f.store.insert_reads(reads).await.unwrap();
    let before = f.db.read_partitions().await;

    let mut deleted = 0;
    let mut freed = vec![];
    loop {
        let batch = f.store.purge_expired(Utc::now(), 15).await.unwrap();
        if batch.report.reads_deleted == 0 {
            break;
        }
        deleted += batch.report.reads_deleted;
        freed.extend(batch.freed_images);
    }
    assert_eq!(
        deleted, 40,
        "past both networks' retention (60 and 30 days)"
    );
    assert_eq!(freed, vec![sha('e').unwrap()], "image d is still used");
    assert_eq!(f.store.stats().await.unwrap().reads, 1);
    assert_eq!(f.store.stats().await.unwrap().images, 1);
    if let (Some(before), Some(after)) = (before, f.db.read_partitions().await) {
        assert_eq!(
            after.len(),
            before.len() - 1,
            "the expired day's partition is dropped"
        );
    }
    let page = f.store.search(&query("GONE12", None, None)).await.unwrap();
    assert_eq!(page.total, 0);
}

async fn a_hot_list_alert_carries_the_sites_address_and_the_networks_police_contact(db: TestDb) {
    let f = fixture(db).await;
    assert_eq!(f.store.networks().await.unwrap()[0].police_contact, None);
    let set = f
        .store
        .set_network_police_contact(f.net_a, Some("Auckland Police, 09 555 0100".into()))
        .await
        .unwrap();
    assert_eq!(
        set.police_contact.as_deref(),
        Some("Auckland Police, 09 555 0100")
    );
    assert_eq!(f.store.networks().await.unwrap()[0], set);
    assert!(matches!(
        f.store.set_network_police_contact(424_242, None).await,
        Err(StoreError::NotFound(_))
    ));
    let out = f
        .store
        .insert_reads(vec![
            read(f.akl_cam, "HOT123", 1),
            read(f.chc_cam, "HOT123", 1),
        ])
        .await
        .unwrap();
    let alert = |kind, authorisation_id, read_id| NewAlert {
        kind,
        authorisation_id,
        requester_user_id: 0,
        district: String::new(),
        plate: "HOT123".into(),
        read_id,
    };
    let stored = f
        .store
        .insert_alerts(
            vec![
                alert(AlertKind::HotList, 0, out[0].id),
                alert(AlertKind::HotList, 0, out[1].id),
                alert(AlertKind::Watch, 9, out[0].id),
            ],
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(stored[0].site_address, "1 Broadway, Auckland");
    assert_eq!(
        stored[0].police_contact.as_deref(),
        Some("Auckland Police, 09 555 0100")
    );
    // The other network has no contact; a watch's alert (for police) carries none.
    assert_eq!(stored[1].site_address, "129 Riccarton Rd, Christchurch");
    assert_eq!(stored[1].police_contact, None);
    assert_eq!(stored[2].police_contact, None);
    // As it was when raised: a later change or clearing leaves the alert as it was.
    f.store
        .set_network_police_contact(f.net_a, None)
        .await
        .unwrap();
    let listed = f.store.alert(stored[0].id).await.unwrap().unwrap();
    assert_eq!(listed, stored[0]);
}

async fn alerts_are_stored_once_listed_by_audience_and_acknowledged_once(db: TestDb) {
    let f = fixture(db).await;
    let out = f
        .store
        .insert_reads(vec![
            read(f.akl_cam, "TRK123", 2),
            read(f.chc_cam, "TRK123", 1),
        ])
        .await
        .unwrap();
    let alert = |read_id| NewAlert {
        kind: AlertKind::Watch,
        authorisation_id: 7,
        requester_user_id: 1,
        district: "Auckland City".into(),
        plate: "TRK123".into(),
        read_id,
    };
    let now = Utc::now();
    let stored = f
        .store
        .insert_alerts(vec![alert(out[0].id), alert(out[1].id)], now)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored[0].id < stored[1].id, "ids only increase");
    assert_eq!(stored[0].site_name, "Fuel stop Newmarket");
    assert_eq!(
        stored[1].network_id,
        f.store.networks().await.unwrap()[1].id
    );
    assert_eq!(stored[1].read_plate, "TRK123");
    let again = f
        .store
        .insert_alerts(vec![alert(out[0].id), alert(999_999)], now)
        .await
        .unwrap();
    assert!(
        again.is_empty(),
        "a retried read or a missing one raises nothing"
    );

    let list = |audience: Option<AlertAudience>, after_id: Option<i64>| AlertFilter {
        audience,
        after_id,
        ..Default::default()
    };
    let supervisor = AlertAudience {
        user_id: 2,
        districts: vec!["auckland CITY".into()],
        hot_list_network: None,
    };
    let stranger = AlertAudience {
        user_id: 3,
        districts: vec!["Canterbury".into()],
        hot_list_network: None,
    };
    assert_eq!(
        f.store
            .alerts(list(Some(supervisor), None))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(f
        .store
        .alerts(list(Some(stranger), None))
        .await
        .unwrap()
        .is_empty());
    let resumed = f
        .store
        .alerts(list(None, Some(stored[0].id)))
        .await
        .unwrap();
    assert_eq!(resumed, vec![stored[1].clone()]);

    let acked = f.store.ack_alert(stored[0].id, "S2", now).await.unwrap();
    assert_eq!(acked.acked_by_staff_id.as_deref(), Some("S2"));
    let later = f.store.ack_alert(stored[0].id, "S3", now).await.unwrap();
    assert_eq!(
        later.acked_by_staff_id.as_deref(),
        Some("S2"),
        "the first stands"
    );
    assert!(matches!(
        f.store.ack_alert(424_242, "S2", now).await,
        Err(StoreError::NotFound(_))
    ));

    // A hot-list alert has no authorisation and no images; only the network's own staff see it.
    let hot = f
        .store
        .insert_alerts(
            vec![NewAlert {
                kind: AlertKind::HotList,
                authorisation_id: 0,
                requester_user_id: 0,
                district: String::new(),
                plate: "TRK123".into(),
                read_id: out[0].id,
            }],
            now,
        )
        .await
        .unwrap();
    assert_eq!(hot.len(), 1);
    assert_eq!(hot[0].kind, AlertKind::HotList);
    assert!(hot[0].images.is_empty(), "no images with a hot-list alert");
    let operator = |network| AlertAudience {
        user_id: 9,
        districts: vec![],
        hot_list_network: Some(network),
    };
    let seen = f
        .store
        .alerts(list(Some(operator(hot[0].network_id)), None))
        .await
        .unwrap();
    assert_eq!(
        seen, hot,
        "the network's staff see its hot-list alert, no tracking alert"
    );
    let supervisor_again = AlertAudience {
        user_id: 2,
        districts: vec!["Auckland City".into()],
        hot_list_network: None,
    };
    assert_eq!(
        f.store
            .alerts(list(Some(supervisor_again), None))
            .await
            .unwrap()
            .len(),
        2,
        "a supervisor sees tracking alerts only"
    );
}

async fn the_hot_list_is_the_active_stolen_reports_and_is_confirmed_live(db: TestDb) {
    let store = db.store.clone();
    let stolen = |plate: &str, file: &str, status: StolenStatus| StolenRecord {
        plate: plate.into(),
        file_number: file.into(),
        reported_at: Utc::now() - Duration::days(1),
        complainant_person_id: "P1".into(),
        recorded_by_staff_id: "S1".into(),
        status,
        cancelled_at: None,
    };
    let source = || ImportSource {
        source: "test".into(),
        imported_by: "admin".into(),
    };
    store
        .import_register(
            RegisterBatch::Stolen(vec![
                stolen("HOT111", "F1", StolenStatus::Active),
                stolen("HOT111", "F2", StolenStatus::Active),
                stolen("OLD222", "F3", StolenStatus::Recovered),
            ]),
            source(),
        )
        .await
        .unwrap();
    let summary = store.load_hot_list(Utc::now()).await.unwrap();
    assert_eq!((summary.entries, summary.plates), (2, 1));
    assert!(summary.loaded_at.is_some());
    assert_eq!(store.hot_list_summary().await.unwrap(), summary);
    assert_eq!(store.hot_list_plates().await.unwrap(), vec!["HOT111"]);
    assert_eq!(
        store
            .hot_list_confirm(vec!["HOT111".into(), "OLD222".into()])
            .await
            .unwrap(),
        vec!["HOT111"]
    );
    // A report recovered after the list was loaded no longer confirms, whatever the list says.
    store
        .import_register(
            RegisterBatch::Stolen(vec![
                stolen("HOT111", "F1", StolenStatus::Recovered),
                stolen("HOT111", "F2", StolenStatus::Recovered),
            ]),
            source(),
        )
        .await
        .unwrap();
    assert!(store
        .hot_list_confirm(vec!["HOT111".into()])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.hot_list_plates().await.unwrap(), vec!["HOT111"]);
}

async fn two_processes_purging_at_once_delete_each_read_once(db: TestDb) {
    let f = fixture(db).await;
    let day = 24 * 60;
    let reads: Vec<NewRead> = (0..60)
        .map(|i| {
            // Whole expired days, and reads past only the 30-day network's retention.
            let age = if i % 2 == 0 { 70 + i % 3 } else { 40 };
            let mut r = read(f.chc_cam, &format!("PRG{i:03}"), age * day);
            r.plate_image = Some(ImageHash(format!("{:064x}", i % 7)));
            r
        })
        .collect();
    f.store.insert_reads(reads).await.unwrap();
    let other = f.db.another_process().await;
    let drain = |store: Arc<dyn Store>| async move {
        let (mut deleted, mut freed) = (0, vec![]);
        loop {
            let b = store.purge_expired(Utc::now(), 7).await.unwrap();
            if b.report.reads_deleted == 0 {
                return (deleted, freed);
            }
            deleted += b.report.reads_deleted;
            freed.extend(b.freed_images);
        }
    };
    let ((d1, f1), (d2, f2)) = tokio::join!(drain(f.store.clone()), drain(other));
    assert_eq!(d1 + d2, 60);
    let mut freed: Vec<_> = f1.into_iter().chain(f2).collect();
    freed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        freed.len(),
        7,
        "each image freed once, by whoever released it last"
    );
    freed.dedup();
    assert_eq!(freed.len(), 7);
    assert_eq!(f.store.stats().await.unwrap().reads, 0);
}

async fn a_networks_floor_leaves_out_only_its_own_older_reads(db: TestDb) {
    let f = fixture(db).await;
    f.store
        .insert_reads(vec![
            read(f.akl_cam, "ABC123", 300),
            read(f.akl_cam, "ABC123", 100),
            read(f.chc_cam, "ABC123", 300),
            read(f.chc_cam, "ABC123", 10),
        ])
        .await
        .unwrap();
    let mut q = query("ABC123", None, None);
    q.limit = 1;
    q.network_floors = vec![(f.net_a, Utc::now() - Duration::minutes(200))];
    let page = f.store.search(&q).await.unwrap();
    assert_eq!(
        page.total, 3,
        "network A's read of 300 minutes ago is left out"
    );
    // Every page alike.
    let mut seen = page.hits.iter().map(|h| h.read.id).collect::<Vec<_>>();
    let mut cursor = page.next_cursor;
    while let Some(c) = cursor {
        q.cursor = Some(anpr_domain::query::Cursor::decode(&c).unwrap());
        let page = f.store.search(&q).await.unwrap();
        seen.extend(page.hits.iter().map(|h| h.read.id));
        cursor = page.next_cursor;
    }
    assert_eq!(seen.len(), 3);
    let reads = futures_util::future::join_all(seen.iter().map(|id| f.store.read(*id))).await;
    assert!(reads.into_iter().all(|r| {
        let r = r.unwrap().unwrap();
        r.network_id != f.net_a || r.captured_at > Utc::now() - Duration::minutes(200)
    }));
}

async fn network_controls_and_watch_notices_are_kept_and_another_process_sees_a_change(db: TestDb) {
    let f = fixture(db).await;
    let other = f.db.another_process().await;
    assert!(f.store.network_controls().await.unwrap().is_empty());
    let v0 = other.network_controls_version().await.unwrap();
    let stored = f
        .store
        .set_network_controls(anpr_policy::NetworkControls {
            network_id: f.net_a,
            suspended: true,
            withheld_purposes: vec!["road_policing".into(), " road_policing".into()],
            max_lookback_days: Some(30),
            updated_at: Some(Utc::now()),
            updated_by: Some("N1".into()),
        })
        .await
        .unwrap();
    assert_eq!(stored.withheld_purposes, vec!["road_policing".to_string()]);
    let v1 = other.network_controls_version().await.unwrap();
    assert_ne!(v0, v1, "the other process sees a new version");
    assert_eq!(
        other.network_controls().await.unwrap(),
        vec![stored.clone()]
    );
    let resumed = other
        .set_network_controls(anpr_policy::NetworkControls {
            suspended: false,
            max_lookback_days: None,
            ..stored
        })
        .await
        .unwrap();
    let v2 = f.store.network_controls_version().await.unwrap();
    assert!(v2 != v1 && v2 != v0);
    assert_eq!(f.store.network_controls().await.unwrap(), vec![resumed]);
    // Bad controls and an unknown network are refused.
    let bad = anpr_policy::NetworkControls {
        network_id: f.net_a,
        max_lookback_days: Some(0),
        ..Default::default()
    };
    assert!(f.store.set_network_controls(bad).await.is_err());
    let unknown = anpr_policy::NetworkControls {
        network_id: 999,
        ..Default::default()
    };
    assert!(matches!(
        f.store.set_network_controls(unknown).await,
        Err(StoreError::NotFound(_))
    ));

    // Watch notices: one per watch and network, newest first, paged.
    let notice = |auth: i64| anpr_store::NewWatchNotice {
        network_id: f.net_a,
        authorisation_id: auth,
        at: Utc::now(),
        purpose_code: "stolen_vehicle".into(),
        district: "Waikato".into(),
    };
    f.store
        .add_watch_notices(vec![notice(1), notice(2)])
        .await
        .unwrap();
    other.add_watch_notices(vec![notice(1)]).await.unwrap();
    let all = f.store.watch_notices(f.net_a, None, 10).await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all[0].id > all[1].id);
    let older = f
        .store
        .watch_notices(f.net_a, Some(all[0].id), 10)
        .await
        .unwrap();
    assert_eq!(older, vec![all[1].clone()]);
    assert!(f
        .store
        .watch_notices(999, None, 10)
        .await
        .unwrap()
        .is_empty());
}
