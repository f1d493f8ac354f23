//! Registers, sharing agreements, authorisations, decision records and user administration on
//! every backend (conformance suite: SQLite always, PostgreSQL when `ANPR_TEST_POSTGRES_URL` is
//! set).

mod common;

use anpr_domain::*;
use anpr_policy::registers::{
    AssociateRecord, Connection, IncidentRecord, NetworkAgreement, StaffRecord, StolenRecord,
    StolenStatus, VehicleRecord,
};
use anpr_policy::{AuthStatus, Authorisation, AuthorisationKind, Basis, Decision, DecisionAction};
use anpr_store::{
    AuthorisationFilter, BackgroundTask, FactsRequest, ImportSource, NewCamera, NewSite, NewUser,
    RegisterBatch, RegisterKind, StoreChange, StoreError,
};
use chrono::{Duration, Utc};

use common::TestDb;

conformance!(
    imports_upsert_and_log_every_change_with_its_source,
    facts_find_own_household_and_associate_vehicles,
    sql_metacharacters_in_register_fields_are_data,
    cancelling_a_stolen_report_stops_its_authorisations,
    authorisation_updates_are_compare_and_set,
    agreements_default_to_search_by_all_and_can_be_replaced,
    decisions_are_recorded_and_read_back,
    disclosures_keep_the_latest_per_purpose_and_file_and_are_pruned,
    disabling_a_user_ends_their_sessions_and_roles_respect_separation_of_duties,
    searches_never_fetch_excluded_plates,
    cached_register_facts_follow_imports_by_any_process,
    another_process_hears_of_authorisations_agreements_and_hot_lists,
    one_process_at_a_time_leads_a_background_task,
    open_incidents_are_a_districts_and_those_assigned,
);

fn src(s: &str) -> ImportSource {
    ImportSource {
        source: s.into(),
        imported_by: "test".into(),
    }
}

fn vehicle(plate: &str, person: &str, address: &str) -> VehicleRecord {
    VehicleRecord {
        plate: plate.into(),
        owner_person_id: person.into(),
        owner_address_id: address.into(),
        make: None,
        model: None,
        colour: None,
    }
}

fn facts_request(staff: &str, plate: Option<&str>, file: Option<&str>) -> FactsRequest {
    FactsRequest {
        staff_id: staff.into(),
        user_id: 1,
        file_number: file.map(str::to_string),
        plate: plate.map(str::to_string),
        for_tracking: true,
    }
}

async fn imports_upsert_and_log_every_change_with_its_source(db: TestDb) {
    let store = db.store.clone();
    let r = store
        .import_register(
            RegisterBatch::Vehicles(vec![
                vehicle("abc-123", "P1", "A1"),
                vehicle("XYZ9", "P2", "A2"),
            ]),
            src("mvr-day-1.csv"),
        )
        .await
        .unwrap();
    assert_eq!((r.inserted, r.updated, r.unchanged), (2, 0, 0));
    let r = store
        .import_register(
            RegisterBatch::Vehicles(vec![
                vehicle("ABC123", "P3", "A3"),
                vehicle("XYZ9", "P2", "A2"),
            ]),
            src("mvr-day-2.csv"),
        )
        .await
        .unwrap();
    assert_eq!((r.inserted, r.updated, r.unchanged), (0, 1, 1));
    assert_eq!(
        store.register_count(RegisterKind::Vehicles).await.unwrap(),
        2
    );
    // The change log names the source and keeps what was there before.
    let rows = db.change_log().await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2].0, "mvr-day-2.csv");
    assert_eq!(rows[2].1, "ABC123");
    assert_eq!(rows[2].2, "update");
    assert!(rows[2].3.as_deref().unwrap().contains("\"P1\""));
    // A bad row refuses the whole batch, naming it.
    let err = store
        .import_register(
            RegisterBatch::Vehicles(vec![vehicle("OK1", "P", "A"), vehicle("🚗", "P", "A")]),
            src("bad.csv"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(e) if e.field() == "rows[1].plate"),
        "{err}"
    );
    assert_eq!(
        store.register_count(RegisterKind::Vehicles).await.unwrap(),
        2
    );
}

async fn facts_find_own_household_and_associate_vehicles(db: TestDb) {
    let store = db.store.clone();
    store
        .import_register(
            RegisterBatch::Vehicles(vec![
                vehicle("OWN1", "P1", "A1"),
                vehicle("HOME1", "P9", "A1"),
                vehicle("MATE1", "P7", "A7"),
                vehicle("OTHER1", "P5", "A5"),
            ]),
            src("mvr"),
        )
        .await
        .unwrap();
    store
        .import_register(
            RegisterBatch::Staff(vec![StaffRecord {
                staff_id: "S1".into(),
                person_id: "P1".into(),
                home_address_id: "A1".into(),
                team: Some("T".into()),
            }]),
            src("hr"),
        )
        .await
        .unwrap();
    store
        .import_register(
            RegisterBatch::Associates(vec![AssociateRecord {
                staff_id: "S1".into(),
                person_id: "P7".into(),
                relationship: Some("sister".into()),
            }]),
            src("declarations"),
        )
        .await
        .unwrap();
    let f = store
        .access_facts(facts_request("S1", Some("OTHER1"), None))
        .await
        .unwrap();
    let conn: Vec<(&str, Connection)> = f
        .connected
        .iter()
        .map(|c| (c.plate.as_str(), c.connection))
        .collect();
    assert_eq!(
        conn,
        vec![
            ("OWN1", Connection::Own),
            ("HOME1", Connection::Household),
            ("MATE1", Connection::Associate)
        ]
    );
    assert_eq!(f.vehicle.unwrap().owner_person_id, "P5");
    let none = store
        .access_facts(facts_request("S404", None, None))
        .await
        .unwrap();
    assert!(none.staff.is_none() && none.connected.is_empty());
}

async fn sql_metacharacters_in_register_fields_are_data(db: TestDb) {
    let store = db.store.clone();
    let evil = "x'); DROP TABLE reg_vehicles; --";
    store
        .import_register(
            RegisterBatch::Incidents(vec![IncidentRecord {
                file_number: evil.into(),
                incident_type: "burglary\" OR 1=1 --".into(),
                district: "Waikato".into(),
                opened_at: Utc::now() - Duration::days(1),
                closed_at: None,
                assigned_staff: vec!["S1' --".into()],
            }]),
            src("'; DELETE FROM register_imports; --"),
        )
        .await
        .unwrap();
    store
        .import_register(
            RegisterBatch::Vehicles(vec![vehicle("ABC123", evil, "%")]),
            src("mvr"),
        )
        .await
        .unwrap();
    let f = store
        .access_facts(facts_request("S1", Some("ABC123"), Some(evil)))
        .await
        .unwrap();
    let inc = f.incident.unwrap();
    assert_eq!(inc.file_number, evil);
    assert_eq!(inc.incident_type, "burglary\" OR 1=1 --");
    assert_eq!(inc.assigned_staff, vec!["S1' --".to_string()]);
    assert_eq!(f.vehicle.unwrap().owner_person_id, evil);
    assert_eq!(
        store.register_count(RegisterKind::Vehicles).await.unwrap(),
        1
    );
    // '%' as an address id matches only itself: no LIKE anywhere.
    store
        .import_register(
            RegisterBatch::Staff(vec![StaffRecord {
                staff_id: "S1".into(),
                person_id: "nobody".into(),
                home_address_id: "A%".into(),
                team: None,
            }]),
            src("hr"),
        )
        .await
        .unwrap();
    let f = store
        .access_facts(facts_request("S1", None, None))
        .await
        .unwrap();
    assert!(f.connected.is_empty());
}

fn tracking(plate: &str, stolen_id: Option<i64>) -> Authorisation {
    let now = Utc::now();
    Authorisation {
        id: 0,
        kind: AuthorisationKind::Tracking,
        plate: plate.into(),
        requester_user_id: 1,
        requester_staff_id: "S1".into(),
        district: "Waikato".into(),
        purpose_code: "stolen_vehicle".into(),
        file_number: "F1".into(),
        justification: "Stolen from the driveway overnight".into(),
        basis: Basis::StolenVehicle,
        stolen_entry_id: stolen_id,
        approval_reasons: vec!["because".into()],
        status: AuthStatus::Active,
        requested_at: now,
        approval_deadline: None,
        duration_minutes: 60,
        starts_at: Some(now),
        expires_at: Some(now + Duration::hours(1)),
        decided_by_staff_id: None,
        decided_at: None,
        decision_reason: None,
        ended_at: None,
        end_reason: None,
        renews: None,
        lookback_from: None,
        fuzzy: false,
    }
}

async fn cancelling_a_stolen_report_stops_its_authorisations(db: TestDb) {
    let store = db.store.clone();
    let mut report = StolenRecord {
        plate: "STO123".into(),
        file_number: "F1".into(),
        reported_at: Utc::now() - Duration::days(2),
        complainant_person_id: "P5".into(),
        recorded_by_staff_id: "S9".into(),
        status: StolenStatus::Active,
        cancelled_at: None,
    };
    store
        .import_register(RegisterBatch::Stolen(vec![report.clone()]), src("nia"))
        .await
        .unwrap();
    let entry = store
        .access_facts(facts_request("S1", Some("STO123"), None))
        .await
        .unwrap()
        .stolen
        .remove(0);
    let a = store
        .create_authorisation(tracking("STO123", Some(entry.id)))
        .await
        .unwrap();
    assert!(a.id > 0);
    assert_eq!(store.authorisation(a.id).await.unwrap().unwrap(), a);
    report.status = StolenStatus::Cancelled;
    report.cancelled_at = Some(Utc::now());
    let r = store
        .import_register(RegisterBatch::Stolen(vec![report]), src("nia"))
        .await
        .unwrap();
    assert_eq!(r.updated, 1);
    assert_eq!(r.stopped.len(), 1);
    let stopped = store.authorisation(a.id).await.unwrap().unwrap();
    assert_eq!(stopped.status, AuthStatus::Stopped);
    assert!(stopped.end_reason.unwrap().contains("cancelled"));
    assert_eq!(
        store
            .stolen_entry(entry.id)
            .await
            .unwrap()
            .unwrap()
            .record
            .status,
        StolenStatus::Cancelled
    );
}

async fn authorisation_updates_are_compare_and_set(db: TestDb) {
    let store = db.store.clone();
    let mut a = store
        .create_authorisation(Authorisation {
            status: AuthStatus::Pending,
            ..tracking("ABC123", None)
        })
        .await
        .unwrap();
    a.status = AuthStatus::Active;
    store
        .update_authorisation(a.clone(), AuthStatus::Pending)
        .await
        .unwrap();
    // A second approver racing the first finds it already decided.
    let err = store
        .update_authorisation(a.clone(), AuthStatus::Pending)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));
    let listed = store
        .authorisations(AuthorisationFilter {
            district: Some("waikato".into()),
            statuses: vec![AuthStatus::Active],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed, vec![a]);
    assert!(store
        .authorisations(AuthorisationFilter {
            statuses: vec![AuthStatus::Pending],
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty());
}

async fn agreements_default_to_search_by_all_and_can_be_replaced(db: TestDb) {
    let store = db.store.clone();
    let n = store.create_network("Auror", 60).await.unwrap();
    assert_eq!(
        store.network_agreements().await.unwrap(),
        vec![NetworkAgreement {
            network_id: n.id,
            search: vec!["*".into()],
            tracking: vec![],
            hot_list_alerts: false,
        }]
    );
    let set = store
        .set_network_agreement(NetworkAgreement {
            network_id: n.id,
            search: vec!["Waikato".into(), " Waikato ".into(), "Canterbury".into()],
            tracking: vec!["Waikato".into()],
            hot_list_alerts: false,
        })
        .await
        .unwrap();
    assert_eq!(set.search, vec!["Canterbury".to_string(), "Waikato".into()]);
    assert_eq!(store.network_agreements().await.unwrap(), vec![set]);
    let missing = store
        .set_network_agreement(NetworkAgreement {
            network_id: 999,
            search: vec![],
            tracking: vec![],
            hot_list_alerts: false,
        })
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))));
}

async fn decisions_are_recorded_and_read_back(db: TestDb) {
    let store = db.store.clone();
    let actor = Actor::Staff {
        user_id: 4,
        staff_id: "S4".into(),
        district: "Waikato".into(),
        roles: vec![Role::Searcher],
    };
    let mut d = Decision::new(&actor, DecisionAction::Search, "req-1", Utc::now());
    d.target = Some("'; DROP TABLE decisions; --".into());
    d.notes = vec!["a note".into()];
    db.record(d.clone()).await;
    let back = store.decisions(Some(4), 10).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].target, d.target);
    assert_eq!(back[0].notes, d.notes);
    assert_eq!(back[0].action, DecisionAction::Search);
    assert!(store.decisions(Some(5), 10).await.unwrap().is_empty());
}

async fn disclosures_keep_the_latest_per_purpose_and_file_and_are_pruned(db: TestDb) {
    use anpr_policy::{DisclosedBy, Disclosure};
    let store = db.store.clone();
    let now = Utc::now();
    let shown = |user: i64, read: i64, file: &str, minutes_ago: i64, by| Disclosure {
        user_id: user,
        read_id: read,
        purpose_code: "stolen_vehicle".into(),
        file_number: file.into(),
        at: now - Duration::minutes(minutes_ago),
        by,
    };
    // One batch naming one row twice (a page showing a read twice cannot, but alerts of two
    // watches may), another file, another user, another read, and a training sighting.
    store
        .record_disclosures(vec![
            shown(1, 10, "F-1", 30, DisclosedBy::Search),
            shown(1, 10, "F-1", 20, DisclosedBy::Search),
            shown(1, 10, "F-2", 90, DisclosedBy::Alert),
            shown(2, 10, "F-1", 5, DisclosedBy::Search),
            shown(1, 11, "F-1", 5, DisclosedBy::Search),
            shown(1, -1, "F-1", 5, DisclosedBy::Search),
        ])
        .await
        .unwrap();
    // An older disclosure does not move the latest back; a newer one moves it on.
    store
        .record_disclosures(vec![shown(1, 10, "F-1", 40, DisclosedBy::Search)])
        .await
        .unwrap();
    store.record_disclosures(vec![]).await.unwrap();
    let got = store
        .disclosures(1, 10, now - Duration::hours(24))
        .await
        .unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].file_number, "F-1");
    assert_eq!(got[0].by, DisclosedBy::Search);
    assert_eq!(
        got[0].at.timestamp_millis(),
        (now - Duration::minutes(20)).timestamp_millis()
    );
    assert_eq!(got[1].file_number, "F-2");
    assert_eq!(got[1].by, DisclosedBy::Alert);
    // Only since the time asked for.
    let recent = store
        .disclosures(1, 10, now - Duration::minutes(60))
        .await
        .unwrap();
    assert_eq!(recent.len(), 1);
    assert!(store
        .disclosures(3, 10, now - Duration::hours(24))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .disclosures(1, -1, now - Duration::hours(24))
        .await
        .unwrap()
        .is_empty());
    // Pruned past the window.
    let pruned = store
        .prune_disclosures(now - Duration::minutes(60))
        .await
        .unwrap();
    assert_eq!(pruned, 1);
    assert_eq!(
        store
            .disclosures(1, 10, now - Duration::hours(24))
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn disabling_a_user_ends_their_sessions_and_roles_respect_separation_of_duties(db: TestDb) {
    let store = db.store.clone();
    let u = store
        .create_user(NewUser {
            staff_id: "S1".into(),
            name: "A".into(),
            badge_number: Some("B-1".into()),
            district: "Waikato".into(),
            roles: vec![Role::Searcher],
            password_hash: "x".into(),
            network_id: None,
        })
        .await
        .unwrap();
    assert_eq!(u.badge_number.as_deref(), Some("B-1"));
    store
        .create_session("tok", u.id, Utc::now() + Duration::hours(1))
        .await
        .unwrap();
    assert!(store
        .session_user("tok", Utc::now())
        .await
        .unwrap()
        .is_some());
    store.set_user_active("S1", false).await.unwrap();
    assert!(store
        .session_user("tok", Utc::now())
        .await
        .unwrap()
        .is_none());
    store.set_user_active("S1", true).await.unwrap();
    assert!(
        store
            .session_user("tok", Utc::now())
            .await
            .unwrap()
            .is_none(),
        "re-enabling does not revive old sessions"
    );
    let err = store
        .set_user_roles("S1", vec![Role::Searcher, Role::Admin])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot be held together"), "{err}");
    let u = store
        .set_user_roles("S1", vec![Role::Searcher, Role::Tracker])
        .await
        .unwrap();
    assert_eq!(u.roles, vec![Role::Searcher, Role::Tracker]);
    assert!(matches!(
        store.set_user_active("nobody", false).await,
        Err(StoreError::NotFound(_))
    ));
    let bad = store
        .create_user(NewUser {
            staff_id: "S2".into(),
            name: "B".into(),
            badge_number: None,
            district: "Waikato".into(),
            roles: vec![Role::Auditor, Role::Searcher],
            password_hash: "x".into(),
            network_id: None,
        })
        .await;
    assert!(bad.is_err());
    assert_eq!(store.users().await.unwrap().len(), 1);
}

async fn searches_never_fetch_excluded_plates(db: TestDb) {
    let store = db.store.clone();
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
    let cam = store
        .create_camera(NewCamera {
            site_id: site.id,
            name: "c".into(),
            heading_deg: None,
        })
        .await
        .unwrap();
    let read = |p: &str| NewRead {
        camera_id: cam.id,
        external_id: None,
        captured_at: Utc::now() - Duration::hours(2),
        plate_raw: p.into(),
        plate: NormalisedPlate::parse(p).unwrap(),
        confidence: 0.9,
        plate_box: None,
        vehicle_make: None,
        vehicle_colour: None,
        overview_image: None,
        plate_image: None,
    };
    store
        .insert_reads(vec![read("ABC123"), read("ABC124"), read("ABC125")])
        .await
        .unwrap();
    let mut q = SearchQuery::for_plate(PlatePattern::parse("ABC12*", None, None).unwrap());
    assert_eq!(store.search(&q).await.unwrap().total, 3);
    q.exclude_plates = vec!["ABC124".into()];
    let page = store.search(&q).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.plates_matched, 2);
    assert!(page.hits.iter().all(|h| h.read.plate.as_str() != "ABC124"));
}

async fn cached_register_facts_follow_imports_by_any_process(db: TestDb) {
    let store = db.store.clone();
    let staff = StaffRecord {
        staff_id: "S1".into(),
        person_id: "P1".into(),
        home_address_id: "A1".into(),
        team: None,
    };
    store
        .import_register(RegisterBatch::Staff(vec![staff]), src("hr"))
        .await
        .unwrap();
    store
        .import_register(
            RegisterBatch::Vehicles(vec![vehicle("OWN1", "P1", "A1")]),
            src("mvr"),
        )
        .await
        .unwrap();
    let connected = |f: anpr_policy::AccessFacts| -> Vec<String> {
        f.connected.into_iter().map(|c| c.plate).collect()
    };
    let q = || facts_request("S1", None, None);
    assert_eq!(connected(store.access_facts(q()).await.unwrap()), ["OWN1"]);
    // Cached now; an import through this store is seen at once...
    store
        .import_register(
            RegisterBatch::Vehicles(vec![vehicle("OWN2", "P1", "A9")]),
            src("mvr"),
        )
        .await
        .unwrap();
    assert_eq!(
        connected(store.access_facts(q()).await.unwrap()),
        ["OWN1", "OWN2"]
    );
    // ...and so is one by another process (another store on the same file).
    let other = db.another_process().await;
    other
        .import_register(
            RegisterBatch::Vehicles(vec![vehicle("OWN3", "P9", "A1")]),
            src("mvr"),
        )
        .await
        .unwrap();
    assert_eq!(
        connected(store.access_facts(q()).await.unwrap()),
        ["OWN1", "OWN2", "OWN3"]
    );
    let n = other.create_network("Late", 60).await.unwrap();
    assert!(store
        .access_facts(q())
        .await
        .unwrap()
        .agreements
        .iter()
        .any(|a| a.network_id == n.id));
}

/// The next change announced, waiting at most a few seconds.
async fn next_change(feed: &mut tokio::sync::mpsc::Receiver<StoreChange>) -> StoreChange {
    tokio::time::timeout(std::time::Duration::from_secs(5), feed.recv())
        .await
        .expect("a change is announced within 5 s")
        .expect("the feed stays open")
}

async fn another_process_hears_of_authorisations_agreements_and_hot_lists(db: TestDb) {
    let listener = db.another_process().await;
    let Some(mut feed) = listener.changes().await.unwrap() else {
        // A store only one process writes has nothing to announce.
        assert!(matches!(db.backend(), common::Backend::Sqlite));
        return;
    };
    assert_eq!(next_change(&mut feed).await, StoreChange::Resync);
    let store = db.store.clone();
    let created = store
        .create_authorisation(tracking("FEED01", None))
        .await
        .unwrap();
    assert_eq!(
        next_change(&mut feed).await,
        StoreChange::Authorisation(created.id)
    );
    let mut ended = created.clone();
    ended.status = AuthStatus::Revoked;
    store
        .update_authorisation(ended.clone(), AuthStatus::Active)
        .await
        .unwrap();
    assert_eq!(
        next_change(&mut feed).await,
        StoreChange::Authorisation(created.id)
    );
    // A refused compare-and-set changed nothing and announces nothing.
    assert!(store
        .update_authorisation(ended, AuthStatus::Active)
        .await
        .is_err());
    let network = store.create_network("Auror", 60).await.unwrap();
    store
        .set_network_agreement(NetworkAgreement {
            network_id: network.id,
            search: vec!["*".into()],
            tracking: vec![],
            hot_list_alerts: true,
        })
        .await
        .unwrap();
    assert_eq!(next_change(&mut feed).await, StoreChange::Watches);
    store.load_hot_list(Utc::now()).await.unwrap();
    assert_eq!(next_change(&mut feed).await, StoreChange::HotList);
}

async fn one_process_at_a_time_leads_a_background_task(db: TestDb) {
    let other = db.another_process().await;
    let lease = db
        .store
        .lease(BackgroundTask::Purge)
        .await
        .unwrap()
        .expect("a free task is granted");
    assert!(lease.is_held());
    let shared = matches!(db.backend(), common::Backend::Postgres);
    let second = other.lease(BackgroundTask::Purge).await.unwrap();
    // A store only one process uses grants every task; a shared one grants each to one.
    assert_eq!(second.is_none(), shared);
    assert!(other
        .lease(BackgroundTask::Integrity)
        .await
        .unwrap()
        .is_some());
    drop(second);
    drop(lease);
    // Released with the holder's session (as when its process dies): another takes it over.
    let mut taken = None;
    for _ in 0..50 {
        taken = other.lease(BackgroundTask::Purge).await.unwrap();
        if taken.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(taken.is_some(), "the task moves to the other process");
}

async fn open_incidents_are_a_districts_and_those_assigned(db: TestDb) {
    let store = db.store.clone();
    let now = Utc::now();
    let incident = |file: &str, district: &str, days: i64, assigned: &[&str]| IncidentRecord {
        file_number: file.into(),
        incident_type: "burglary".into(),
        district: district.into(),
        opened_at: now - Duration::days(days),
        closed_at: None,
        assigned_staff: assigned.iter().map(|s| s.to_string()).collect(),
    };
    let mut closed = incident("W-CLOSED", "Waikato", 9, &[]);
    closed.closed_at = Some(now - Duration::days(1));
    let mut later = incident("W-LATER", "Waikato", 0, &[]);
    later.opened_at = now + Duration::days(1);
    store
        .import_register(
            RegisterBatch::Incidents(vec![
                incident("W-1", "Waikato", 3, &[]),
                incident("W-2", "WAIKATO", 1, &["S2"]),
                incident("A-1", "Auckland City", 2, &["S1", "S2"]),
                incident("A-2", "Auckland City", 2, &["S3"]),
                closed,
                later,
            ]),
            src("incident feed"),
        )
        .await
        .unwrap();
    let files = |list: Vec<IncidentRecord>| -> Vec<String> {
        list.into_iter().map(|i| i.file_number).collect()
    };
    let s1 = store
        .open_incidents("Waikato", "S1", now, 10)
        .await
        .unwrap();
    assert_eq!(files(s1), ["W-2", "W-1", "A-1"]);
    // The district's newest first, at most the limit; assignments are listed besides.
    let one = store.open_incidents("waikato", "S1", now, 1).await.unwrap();
    assert_eq!(files(one), ["W-2", "A-1"]);
    // An assignment changed by a later import is what counts.
    store
        .import_register(
            RegisterBatch::Incidents(vec![incident("A-1", "Auckland City", 2, &["S3"])]),
            src("incident feed"),
        )
        .await
        .unwrap();
    let s1 = store
        .open_incidents("Canterbury", "S1", now, 10)
        .await
        .unwrap();
    assert!(s1.is_empty(), "{s1:?}");
    let s3 = store
        .open_incidents("Canterbury", "S3", now, 10)
        .await
        .unwrap();
    assert_eq!(files(s3).len(), 2);
}
