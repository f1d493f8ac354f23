//! What the store must do and know so that the insider red team's attacks stay closed, on every
//! backend (conformance suite: SQLite always, PostgreSQL when `ANPR_TEST_POSTGRES_URL` is set).

mod common;

use anpr_domain::*;
use anpr_policy::registers::{
    ChangedBy, IncidentRecord, NetworkAgreement, RowRef, StaffRecord, StolenRecord, StolenStatus,
    VehicleRecord,
};
use anpr_policy::tracking::TrackingRequest;
use anpr_policy::{AuthStatus, Authorisation, AuthorisationKind, Basis, Decision, DecisionAction};
use anpr_policy::{Policy, RefusalKind, Subject};
use anpr_store::{FactsRequest, ImportSource, NewCamera, NewSite, NewUser, RegisterBatch};
use chrono::{DateTime, Duration, Utc};

use common::TestDb;

conformance!(
    excluded_plates_take_their_confusable_misreads_with_them,
    fuzzy_tracking_decisions_are_recorded_as_fuzzy,
    a_tracking_request_learns_when_the_requesters_emergencies_of_the_plate_ended,
    the_store_keeps_who_loaded_each_register_row_and_who_set_each_users_roles,
    end_to_end_the_red_teams_attacks_are_decided_on_the_stores_facts,
);

fn tracking_facts(staff: &str, user_id: UserId, plate: &str) -> FactsRequest {
    FactsRequest {
        staff_id: staff.into(),
        user_id,
        file_number: None,
        plate: Some(plate.into()),
        for_tracking: true,
    }
}

fn emergency(plate: &str, user_id: UserId, requested_at: DateTime<Utc>) -> Authorisation {
    Authorisation {
        id: 0,
        kind: AuthorisationKind::Tracking,
        plate: plate.into(),
        requester_user_id: user_id,
        requester_staff_id: format!("S{user_id}"),
        district: "Waikato".into(),
        purpose_code: "threat_to_life".into(),
        file_number: "F-THREAT".into(),
        justification: "Caller threatened to harm the driver".into(),
        basis: Basis::Emergency,
        stolen_entry_id: None,
        approval_reasons: vec![],
        status: AuthStatus::Active,
        requested_at,
        approval_deadline: Some(requested_at + Duration::hours(1)),
        duration_minutes: 60 * 24,
        starts_at: Some(requested_at),
        expires_at: Some(requested_at + Duration::days(1)),
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
        .create_camera(NewCamera {
            site_id: site.id,
            name: "c".into(),
            heading_deg: None,
        })
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

/// Hole 2: revoking one's own emergency authorisation and asking again must not give a fresh
/// hour without approval. The policy needs to know when the requester's emergencies of the
/// plate ended: the most recent end first, whatever else they did since.
async fn a_tracking_request_learns_when_the_requesters_emergencies_of_the_plate_ended(db: TestDb) {
    let store = db.store.clone();
    let t0 = Utc::now() - Duration::hours(30);
    let mut ended = Vec::new();
    for (i, status) in [
        AuthStatus::Expired,
        AuthStatus::Stopped,
        AuthStatus::Revoked,
    ]
    .into_iter()
    .enumerate()
    {
        let at = t0 + Duration::hours(10 * i as i64);
        let mut a = store
            .create_authorisation(emergency("AJC758", 1, at))
            .await
            .unwrap();
        a.end(
            status,
            format!("ended: {}", status.as_str()),
            at + Duration::minutes(30),
        );
        store
            .update_authorisation(a.clone(), AuthStatus::Active)
            .await
            .unwrap();
        ended.push(a);
    }
    // Not about this request: still open, another plate, another requester, another basis.
    store
        .create_authorisation(emergency("AJC758", 1, Utc::now()))
        .await
        .unwrap();
    for other in [
        emergency("XYZ999", 1, t0),
        emergency("AJC758", 2, t0),
        Authorisation {
            basis: Basis::Supervised,
            ..emergency("AJC758", 1, Utc::now() - Duration::minutes(5))
        },
    ] {
        let mut a = store.create_authorisation(other).await.unwrap();
        a.end(AuthStatus::Revoked, "withdrawn".into(), Utc::now());
        store
            .update_authorisation(a, AuthStatus::Active)
            .await
            .unwrap();
    }
    let facts = store
        .access_facts(tracking_facts("S1", 1, "AJC758"))
        .await
        .unwrap();
    let got: Vec<(i64, AuthStatus)> = facts
        .ended_emergencies
        .iter()
        .map(|a| (a.id, a.status))
        .collect();
    let want: Vec<(i64, AuthStatus)> = ended.iter().rev().map(|a| (a.id, a.status)).collect();
    assert_eq!(
        got, want,
        "most recently ended first, only the requester's emergencies"
    );
    let newest = &facts.ended_emergencies[0];
    assert_eq!(
        newest.ended_at.map(|t| t.timestamp_millis()),
        ended[2].ended_at.map(|t| t.timestamp_millis())
    );
    assert_eq!(newest.end_reason.as_deref(), Some("ended: revoked"));
    // A search of the plate needs none of this.
    let facts = store
        .access_facts(FactsRequest {
            for_tracking: false,
            ..tracking_facts("S1", 1, "AJC758")
        })
        .await
        .unwrap();
    assert!(facts.ended_emergencies.is_empty());
}

fn new_user(staff_id: &str, roles: Vec<Role>) -> NewUser {
    NewUser {
        staff_id: staff_id.into(),
        name: "New Officer".into(),
        badge_number: None,
        district: "Waikato".into(),
        roles,
        password_hash: "x".into(),
        network_id: None,
    }
}

/// Hole 4: one admin makes an account and loads the rows it tracks on. The policy needs to know
/// who loaded each row the request rests on (a feed or a member of staff by hand) and who gave
/// the requester their roles, and when.
async fn the_store_keeps_who_loaded_each_register_row_and_who_set_each_users_roles(db: TestDb) {
    let store = db.store.clone();
    let admin = ChangedBy::Staff("S-ADMIN".into());
    assert_eq!(
        ImportSource::by_staff("api", "S-ADMIN").origin(),
        ChangedBy::Staff("S-ADMIN".into())
    );
    assert_eq!(
        ImportSource::feed("nia", "nia.csv").origin(),
        ChangedBy::Feed("nia".into())
    );
    let u = store
        .create_user_by(
            new_user("S-NEW", vec![Role::Searcher, Role::Tracker]),
            admin.clone(),
        )
        .await
        .unwrap();
    let staff = StaffRecord {
        staff_id: "S-NEW".into(),
        person_id: "P-NEW".into(),
        home_address_id: "A-NEW".into(),
        team: None,
    };
    store
        .import_register(
            RegisterBatch::Staff(vec![staff.clone()]),
            ImportSource::by_staff("api", "S-ADMIN"),
        )
        .await
        .unwrap();
    let report = StolenRecord {
        plate: "STOLE9".into(),
        file_number: "F-THEFT".into(),
        reported_at: Utc::now() - Duration::days(3),
        complainant_person_id: "P5".into(),
        recorded_by_staff_id: "S6".into(),
        status: StolenStatus::Active,
        cancelled_at: None,
    };
    store
        .import_register(
            RegisterBatch::Stolen(vec![report.clone()]),
            ImportSource::by_staff("api", "S-ADMIN"),
        )
        .await
        .unwrap();
    store
        .import_register(
            RegisterBatch::Vehicles(vec![VehicleRecord {
                plate: "STOLE9".into(),
                owner_person_id: "P5".into(),
                owner_address_id: "A5".into(),
                make: None,
                model: None,
                colour: None,
            }]),
            ImportSource::feed("nzta-mvr", "mvr-2026-03-01.csv"),
        )
        .await
        .unwrap();
    store
        .import_register(
            RegisterBatch::Incidents(vec![IncidentRecord {
                file_number: "F-THEFT".into(),
                incident_type: "vehicle_theft".into(),
                district: "Waikato".into(),
                opened_at: Utc::now() - Duration::days(3),
                closed_at: None,
                assigned_staff: vec![],
            }]),
            ImportSource {
                source: "incidents.csv".into(),
                imported_by: "cli:ops".into(),
            },
        )
        .await
        .unwrap();
    let request = FactsRequest {
        file_number: Some("F-THEFT".into()),
        ..tracking_facts("S-NEW", u.id, "STOLE9")
    };
    let facts = store.access_facts(request.clone()).await.unwrap();
    let stolen_id = facts.stolen[0].id;
    let by = |row: RowRef| facts.loaded_by(&row).map(|l| l.by.clone());
    assert_eq!(by(RowRef::Staff("S-NEW".into())), Some(admin.clone()));
    assert_eq!(by(RowRef::Stolen(stolen_id)), Some(admin.clone()));
    assert_eq!(
        by(RowRef::Vehicle("STOLE9".into())),
        Some(ChangedBy::Feed("nzta-mvr".into()))
    );
    assert_eq!(
        by(RowRef::Incident("F-THEFT".into())),
        Some(ChangedBy::Operator("cli:ops".into()))
    );
    let load = facts.loaded_by(&RowRef::Stolen(stolen_id)).unwrap();
    assert!(load.import_id > 0);
    assert!((Utc::now() - load.at).num_minutes() < 5);
    assert_eq!(facts.role_changes.len(), 1);
    assert_eq!(facts.role_changes[0].set_by, Some(admin.clone()));
    assert_eq!(facts.role_changes[0].roles, [Role::Searcher, Role::Tracker]);
    assert!((Utc::now() - facts.role_changes[0].at).num_minutes() < 5);

    // Every later change of roles is kept, newest first; one whose caller did not say who
    // made it is kept as not known.
    store
        .set_user_roles_by(
            "S-NEW",
            vec![Role::Tracker],
            ChangedBy::Staff("S-ADMIN2".into()),
        )
        .await
        .unwrap();
    store
        .set_user_roles("S-NEW", vec![Role::Searcher, Role::Tracker])
        .await
        .unwrap();
    // A feed confirming the staff row unchanged leaves the hand load standing; a feed changing
    // the stolen report takes it over.
    store
        .import_register(
            RegisterBatch::Staff(vec![staff]),
            ImportSource::feed("hr", "hr.csv"),
        )
        .await
        .unwrap();
    store
        .import_register(
            RegisterBatch::Stolen(vec![StolenRecord {
                complainant_person_id: "P6".into(),
                ..report
            }]),
            ImportSource::feed("nia", "nia.csv"),
        )
        .await
        .unwrap();
    let facts = store.access_facts(request.clone()).await.unwrap();
    let setters: Vec<Option<ChangedBy>> = facts
        .role_changes
        .iter()
        .map(|c| c.set_by.clone())
        .collect();
    assert_eq!(
        setters,
        [
            None,
            Some(ChangedBy::Staff("S-ADMIN2".into())),
            Some(admin.clone())
        ]
    );
    assert_eq!(
        facts.loaded_by(&RowRef::Staff("S-NEW".into())).unwrap().by,
        admin
    );
    assert_eq!(
        facts.loaded_by(&RowRef::Stolen(stolen_id)).unwrap().by,
        ChangedBy::Feed("nia".into())
    );
    // Only a tracking request needs any of this.
    let facts = store
        .access_facts(FactsRequest {
            for_tracking: false,
            ..request
        })
        .await
        .unwrap();
    assert!(facts.loads.is_empty() && facts.role_changes.is_empty());
    // The roles of an account that does not exist are not set (and nothing is logged).
    assert!(store
        .set_user_roles_by(
            "S-NOBODY",
            vec![Role::Tracker],
            ChangedBy::Staff("X".into())
        )
        .await
        .is_err());
}

/// The policy deciding on what this backend gathers: the fuzzy watch of a plate confusable with
/// one's own car (hole 1), and tracking by an account an admin made on a report the same admin
/// loaded (hole 4).
async fn end_to_end_the_red_teams_attacks_are_decided_on_the_stores_facts(db: TestDb) {
    let store = db.store.clone();
    let network = store.create_network("Auror", 60).await.unwrap();
    store
        .set_network_agreement(NetworkAgreement {
            network_id: network.id,
            search: vec!["*".into()],
            tracking: vec!["*".into()],
            hot_list_alerts: false,
        })
        .await
        .unwrap();
    let feed = || ImportSource::feed("registers", "feed.csv");
    let staff = |id: &str, person: &str| StaffRecord {
        staff_id: id.into(),
        person_id: person.into(),
        home_address_id: format!("A-{person}"),
        team: None,
    };
    store
        .import_register(RegisterBatch::Staff(vec![staff("S1", "P1")]), feed())
        .await
        .unwrap();
    let vehicle = |plate: &str, person: &str| VehicleRecord {
        plate: plate.into(),
        owner_person_id: person.into(),
        owner_address_id: format!("A-{person}"),
        make: None,
        model: None,
        colour: None,
    };
    store
        .import_register(
            RegisterBatch::Vehicles(vec![vehicle("AJC758", "P1"), vehicle("STOLE9", "P5")]),
            feed(),
        )
        .await
        .unwrap();
    let incident = |file: &str, kind: &str| IncidentRecord {
        file_number: file.into(),
        incident_type: kind.into(),
        district: "Waikato".into(),
        opened_at: Utc::now() - Duration::days(3),
        closed_at: None,
        assigned_staff: vec![],
    };
    store
        .import_register(
            RegisterBatch::Incidents(vec![
                incident("F-THREAT", "threat_to_life"),
                incident("F-THEFT", "vehicle_theft"),
            ]),
            feed(),
        )
        .await
        .unwrap();
    let policy = Policy::default();
    let decide = |s: Subject,
                  plate: &'static str,
                  code: &'static str,
                  file: &'static str,
                  emergency: bool,
                  fuzzy: bool| {
        let store = store.clone();
        let policy = &policy;
        async move {
            let p = anpr_domain::Purpose {
                code: code.into(),
                file_number: file.into(),
                justification: "Caller reported a threat to the driver's life".into(),
            };
            let req = TrackingRequest {
                subject: &s,
                plate,
                purpose: Some(&p),
                emergency,
                fuzzy,
                duration_minutes: None,
                renews: None,
                request_id: "r",
                now: Utc::now(),
            };
            let facts = store
                .access_facts(FactsRequest::from_query(&req.facts_query()))
                .await
                .unwrap();
            policy
                .evaluate_tracking_request(&req, &facts)
                .peek()
                .clone()
        }
    };
    let officer = Subject {
        user_id: 1,
        staff_id: "S1".into(),
        district: "Waikato".into(),
        roles: vec![Role::Searcher, Role::Tracker],
        active: true,
    };
    // Hole 1: AJC7S8 is the officer's AJC758 with 5 read as S.
    let r = decide(
        officer.clone(),
        "AJC7S8",
        "threat_to_life",
        "F-THREAT",
        true,
        true,
    )
    .await;
    assert_eq!(
        r.as_ref().unwrap_err().kind(),
        Some(RefusalKind::OwnVehicle),
        "{r:?}"
    );

    // Hole 4: the admin makes an account, its staff record and a stolen report, by hand.
    let u = store
        .create_user_by(
            new_user("S-NEW", vec![Role::Searcher, Role::Tracker]),
            ChangedBy::Staff("S-ADMIN".into()),
        )
        .await
        .unwrap();
    let by_admin = || ImportSource::by_staff("api", "S-ADMIN");
    store
        .import_register(
            RegisterBatch::Staff(vec![staff("S-NEW", "P-NEW")]),
            by_admin(),
        )
        .await
        .unwrap();
    let reported_at =
        chrono::DateTime::from_timestamp(Utc::now().timestamp() - 3 * 86_400, 0).unwrap();
    let report = StolenRecord {
        plate: "STOLE9".into(),
        file_number: "F-THEFT".into(),
        reported_at,
        complainant_person_id: "P5".into(),
        recorded_by_staff_id: "S1".into(),
        status: StolenStatus::Active,
        cancelled_at: None,
    };
    store
        .import_register(RegisterBatch::Stolen(vec![report.clone()]), by_admin())
        .await
        .unwrap();
    let new = Subject {
        user_id: u.id,
        staff_id: "S-NEW".into(),
        ..officer.clone()
    };
    let a = decide(
        new.clone(),
        "STOLE9",
        "stolen_vehicle",
        "F-THEFT",
        false,
        false,
    )
    .await
    .unwrap();
    assert_eq!(a.status, AuthStatus::Pending, "{a:?}");
    assert_eq!(a.approval_reasons.len(), 2, "{:?}", a.approval_reasons);
    // The feed confirming the report unchanged does not make it the feed's: still by hand.
    let r = store
        .import_register(RegisterBatch::Stolen(vec![report.clone()]), feed())
        .await
        .unwrap();
    assert_eq!(r.unchanged, 1);
    let a = decide(
        new.clone(),
        "STOLE9",
        "stolen_vehicle",
        "F-THEFT",
        false,
        false,
    )
    .await
    .unwrap();
    assert_eq!(a.status, AuthStatus::Pending);
    // The report as the stolen-vehicle feed has it, and the account's staff record from HR:
    // nothing manufactured, and it starts at once as before.
    store
        .import_register(
            RegisterBatch::Stolen(vec![StolenRecord {
                recorded_by_staff_id: "S6".into(),
                ..report
            }]),
            feed(),
        )
        .await
        .unwrap();
    store
        .import_register(
            RegisterBatch::Staff(vec![StaffRecord {
                team: Some("Team Rotorua".into()),
                ..staff("S-NEW", "P-NEW")
            }]),
            feed(),
        )
        .await
        .unwrap();
    let a = decide(new, "STOLE9", "stolen_vehicle", "F-THEFT", false, false)
        .await
        .unwrap();
    assert_eq!(a.status, AuthStatus::Active, "{:?}", a.approval_reasons);
}
