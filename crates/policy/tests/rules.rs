//! Each policy rule, on in-memory registers.

use anpr_domain::{PlatePattern, Purpose, Role, TimeRange};
use anpr_policy::access::{DataAction, DataRequest, LegalHoldRequest, Target};
use anpr_policy::config::{Limit, RateLimits};
use anpr_policy::registers::{
    gather, AssociateRecord, IncidentRecord, MemoryRegisters, NetworkAgreement, StolenRecord,
    StolenStatus,
};
use anpr_policy::tracking::{LookbackRequest, Review, ReviewKind, TrackingRequest};
use anpr_policy::*;
use chrono::{DateTime, Duration, TimeZone, Utc};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn subject(id: i64, staff: &str, district: &str, roles: &[Role]) -> Subject {
    Subject {
        user_id: id,
        staff_id: staff.into(),
        district: district.into(),
        roles: roles.to_vec(),
        active: true,
    }
}

fn officer() -> Subject {
    subject(1, "S1", "Waikato", &[Role::Searcher, Role::Tracker])
}
fn teammate() -> Subject {
    subject(4, "S4", "Waikato", &[Role::Searcher, Role::Tracker])
}
fn supervisor() -> Subject {
    subject(2, "S2", "Waikato", &[Role::Supervisor])
}
fn supervisor_tracker() -> Subject {
    subject(3, "S3", "Waikato", &[Role::Supervisor, Role::Tracker])
}
fn far_supervisor() -> Subject {
    subject(5, "S5", "Canterbury", &[Role::Supervisor])
}

fn incident(file: &str, kind: &str, district: &str) -> IncidentRecord {
    IncidentRecord {
        file_number: file.into(),
        incident_type: kind.into(),
        district: district.into(),
        opened_at: now() - Duration::days(10),
        closed_at: None,
        assigned_staff: vec![],
    }
}

fn stolen(plate: &str, file: &str, by: &str, hours_ago: i64, complainant: &str) -> StolenRecord {
    StolenRecord {
        plate: plate.into(),
        file_number: file.into(),
        reported_at: now() - Duration::hours(hours_ago),
        complainant_person_id: complainant.into(),
        recorded_by_staff_id: by.into(),
        status: StolenStatus::Active,
        cancelled_at: None,
    }
}

fn registers() -> MemoryRegisters {
    let mut r = MemoryRegisters::default();
    r.add_staff("S1", "P1", "A1", Some("Team Hamilton"));
    r.add_staff("S2", "P2", "A2", None);
    r.add_staff("S3", "P3", "A3", None);
    r.add_staff("S4", "P4", "A4", Some("Team Hamilton"));
    r.add_staff("S5", "P50", "A50", None);
    r.add_staff("S6", "P6", "A6", Some("Team Tauranga"));
    r.associates.push(AssociateRecord {
        staff_id: "S1".into(),
        person_id: "P7".into(),
        relationship: Some("brother".into()),
    });
    r.add_vehicle("OWN001", "P1", "A1");
    r.add_vehicle("HOUSE1", "P9", "A1");
    r.add_vehicle("ASSOC1", "P7", "A7");
    r.add_vehicle("OTHER1", "P5", "A5");
    r.add_vehicle("STOLE1", "P5", "A5");
    r.add_vehicle("STOLE2", "P5", "A5");
    r.add_vehicle("STOLE3", "P5", "A5");
    r.add_vehicle("STOLE4", "P5", "A5");
    r.add_vehicle("SUPER1", "P3", "A3");
    r.add_incident(incident("F-THEFT", "vehicle_theft", "Waikato"));
    r.add_incident(incident("F-HOMICIDE", "homicide", "Waikato"));
    r.add_incident(incident("F-THREAT", "threat_to_life", "Waikato"));
    r.add_incident(incident("F-ROAD", "crash", "Waikato"));
    let mut closed = incident("F-CLOSED", "vehicle_theft", "Waikato");
    closed.closed_at = Some(now() - Duration::days(1));
    r.add_incident(closed);
    r.add_incident(incident("F-CANT", "burglary", "Canterbury"));
    let mut assigned = incident("F-ASSIGNED", "burglary", "Canterbury");
    assigned.assigned_staff = vec!["S1".into()];
    r.add_incident(assigned);
    r.agreements = vec![
        NetworkAgreement {
            network_id: 1,
            search: vec!["*".into()],
            tracking: vec!["*".into()],
            hot_list_alerts: false,
        },
        NetworkAgreement {
            network_id: 2,
            search: vec!["Canterbury".into()],
            tracking: vec![],
            hot_list_alerts: false,
        },
    ];
    // Stolen reports.
    r.add_stolen(stolen("STOLE1", "F-THEFT", "S6", 72, "P5")); // clean: starts at once
    r.add_stolen(stolen("STOLE2", "F-THEFT", "S1", 72, "P5")); // recorded by the requester
    r.add_stolen(stolen("STOLE3", "F-THEFT", "S4", 2, "P5")); // recent, by the team
    r.add_stolen(stolen("STOLE4", "F-THEFT", "S6", 72, "P99")); // complainant not the owner
    r.add_stolen(stolen("OWN001", "F-THEFT", "S6", 72, "P1")); // the officer's own car
    r
}

fn purpose(code: &str, file: &str) -> Purpose {
    Purpose {
        code: code.into(),
        file_number: file.into(),
        justification: "Vehicle seen leaving the scene of the incident".into(),
    }
}

fn search(
    policy: &Policy,
    regs: &MemoryRegisters,
    s: &Subject,
    plate: &str,
    p: &Purpose,
    time: TimeRange,
) -> (Result<access::DataGrant>, Decision) {
    let pattern = PlatePattern::parse(plate, None, None).unwrap();
    let req = DataRequest {
        subject: s,
        action: DataAction::Search,
        purpose: Some(p),
        target: Target::Pattern(&pattern),
        time,
        network_ids: &[],
        request_id: "r1",
        now: now(),
    };
    let facts = gather(regs, &req.facts_query()).unwrap();
    let recorder = MemoryRecorder::default();
    let out = enforce(&recorder, policy.evaluate_data_access(&req, &facts)).map(|(g, _)| g);
    let d = recorder.all().pop().expect("every decision is recorded");
    (out, d)
}

fn kind(r: &Result<impl std::fmt::Debug>) -> RefusalKind {
    r.as_ref().unwrap_err().kind().expect("a refusal")
}

fn message(r: &Result<impl std::fmt::Debug>) -> String {
    r.as_ref().unwrap_err().to_string()
}

#[test]
fn a_routine_search_is_narrowed_to_shared_networks_and_away_from_near_live() {
    let policy = Policy::default();
    let regs = registers();
    let (g, d) = search(
        &policy,
        &regs,
        &officer(),
        "OTHER1",
        &purpose("stolen_vehicle", "F-THEFT"),
        TimeRange::default(),
    );
    let g = g.unwrap();
    assert_eq!(g.networks, vec![1], "network 2 shares only with Canterbury");
    assert_eq!(g.time.from, Some(now() - Duration::days(60)));
    assert_eq!(g.time.to, Some(now() - Duration::minutes(30)));
    assert!(g.notices.iter().any(|n| n.code == "near_live_withheld"));
    assert_eq!(d.outcome, DecisionOutcome::AllowedWithLimits);
    assert_eq!(d.file_number.as_deref(), Some("F-THEFT"));
    assert!(d.basis.unwrap().contains("vehicle_theft"));
    assert!(d.notes.iter().any(|n| n.contains("withheld")));
}

#[test]
fn own_household_and_associate_vehicles_are_refused_with_an_explanation() {
    let policy = Policy::default();
    let regs = registers();
    let p = purpose("stolen_vehicle", "F-THEFT");
    for (plate, phrase) in [
        ("OWN001", "registered to you"),
        ("HOUSE1", "someone at your home address"),
        ("ASSOC1", "declared as an associate"),
    ] {
        let (r, d) = search(&policy, &regs, &officer(), plate, &p, TimeRange::default());
        assert_eq!(kind(&r), RefusalKind::OwnVehicle, "{plate}");
        let msg = r.unwrap_err().to_string();
        assert!(msg.contains(phrase), "{msg}");
        assert!(msg.contains("ask another officer"), "{msg}");
        assert_eq!(d.outcome, DecisionOutcome::Refused);
        assert_eq!(d.refusal_code.as_deref(), Some("own_vehicle"));
    }
    // Another officer may search the same car.
    let (r, _) = search(
        &policy,
        &regs,
        &teammate(),
        "OWN001",
        &p,
        TimeRange::default(),
    );
    r.unwrap();
    // A pattern that would match one's own car excludes it.
    let (g, _) = search(
        &policy,
        &regs,
        &officer(),
        "OWN00*",
        &p,
        TimeRange::default(),
    );
    let g = g.unwrap();
    assert!(g.exclude_plates.contains(&"OWN001".to_string()));
    assert!(g.exclude_plates.contains(&"HOUSE1".to_string()));
    assert!(g
        .notices
        .iter()
        .any(|n| n.code == "connected_vehicles_excluded"));
}

#[test]
fn file_numbers_are_checked_against_the_incident_register() {
    let policy = Policy::default();
    let regs = registers();
    let s = officer();
    let t = TimeRange::default();
    let cases = [
        ("stolen_vehicle", "NOPE/1", RefusalKind::UnknownFileNumber),
        ("stolen_vehicle", "F-CLOSED", RefusalKind::FileClosed),
        ("serious_crime", "F-CANT", RefusalKind::FileNotYours),
        ("road_policing", "F-THEFT", RefusalKind::PurposeMismatch),
        ("burgling", "F-THEFT", RefusalKind::UnknownPurpose),
    ];
    for (code, file, expected) in cases {
        let (r, d) = search(&policy, &regs, &s, "OTHER1", &purpose(code, file), t);
        assert_eq!(kind(&r), expected, "{code} {file}");
        assert_eq!(d.refusal_code.as_deref(), Some(expected.as_str()));
    }
    // Assigned to the user although in another district: allowed.
    let (r, _) = search(
        &policy,
        &regs,
        &s,
        "OTHER1",
        &purpose("serious_crime", "F-ASSIGNED"),
        t,
    );
    r.unwrap();
    // SQL metacharacters are just an unknown file number.
    let (r, d) = search(
        &policy,
        &regs,
        &s,
        "OTHER1",
        &purpose("stolen_vehicle", "1'; DROP TABLE users;--"),
        t,
    );
    assert_eq!(kind(&r), RefusalKind::UnknownFileNumber);
    assert_eq!(d.file_number.as_deref(), Some("1'; DROP TABLE users;--"));
}

#[test]
fn tiers_and_inactive_accounts() {
    let policy = Policy::default();
    let regs = registers();
    let p = purpose("stolen_vehicle", "F-THEFT");
    for roles in [
        vec![Role::Admin],
        vec![Role::Integrity],
        vec![Role::Auditor],
        vec![Role::Supervisor],
        vec![Role::Tracker],
    ] {
        let s = subject(9, "S1", "Waikato", &roles);
        let (r, _) = search(&policy, &regs, &s, "OTHER1", &p, TimeRange::default());
        assert_eq!(kind(&r), RefusalKind::MissingPermission, "{roles:?}");
        assert!(r.unwrap_err().to_string().contains("search plate reads"));
    }
    let mut s = officer();
    s.active = false;
    let (r, _) = search(&policy, &regs, &s, "OTHER1", &p, TimeRange::default());
    assert_eq!(kind(&r), RefusalKind::Inactive);
    let mut unknown = officer();
    unknown.staff_id = "S999".into();
    let (r, _) = search(&policy, &regs, &unknown, "OTHER1", &p, TimeRange::default());
    assert_eq!(kind(&r), RefusalKind::NotInStaffRegister);
}

#[test]
fn training_plates_get_synthetic_sightings_without_a_real_file() {
    let policy = Policy::default();
    let regs = registers();
    let p = purpose("stolen_vehicle", "TRAINING");
    let (g, d) = search(
        &policy,
        &regs,
        &officer(),
        "TEST01",
        &p,
        TimeRange::default(),
    );
    let g = g.unwrap();
    assert!(g.training);
    assert_eq!(g.training_plate.as_deref(), Some("TEST01"));
    assert!(d.training);
    let (g, _) = search(
        &policy,
        &regs,
        &officer(),
        "TEST??",
        &p,
        TimeRange::default(),
    );
    assert!(g.unwrap().training);
    // Still a tier check and a purpose.
    let (r, _) = search(
        &policy,
        &regs,
        &supervisor(),
        "TEST01",
        &p,
        TimeRange::default(),
    );
    assert_eq!(kind(&r), RefusalKind::MissingPermission);
}

fn read_view(
    policy: &Policy,
    regs: &MemoryRegisters,
    s: &Subject,
    plate: &str,
    minutes_ago: i64,
    network: i64,
) -> Result<access::DataGrant> {
    let p = purpose("stolen_vehicle", "F-THEFT");
    let req = DataRequest {
        subject: s,
        action: DataAction::ViewRead,
        purpose: Some(&p),
        target: Target::Read {
            read_id: 7,
            plate,
            captured_at: now() - Duration::minutes(minutes_ago),
            network_id: network,
        },
        time: TimeRange::default(),
        network_ids: &[],
        request_id: "r",
        now: now(),
    };
    let mut facts = gather(regs, &req.facts_query()).unwrap();
    // Shown to them by a search under this purpose a minute ago (the rules below that gate).
    facts.disclosures = vec![shown_by_search(s, 7, &p, now() - Duration::minutes(1))];
    let out = policy.evaluate_data_access(&req, &facts);
    out.peek().clone()
}

fn shown_by_search(s: &Subject, read_id: i64, p: &Purpose, at: DateTime<Utc>) -> Disclosure {
    Disclosure {
        user_id: s.user_id,
        read_id,
        purpose_code: p.code.clone(),
        file_number: p.file_number.clone(),
        at,
        by: DisclosedBy::Search,
    }
}

fn request_tracking(
    policy: &Policy,
    regs: &MemoryRegisters,
    s: &Subject,
    plate: &str,
    p: &Purpose,
    emergency: bool,
    at: DateTime<Utc>,
) -> Result<Authorisation> {
    let req = TrackingRequest {
        subject: s,
        plate,
        purpose: Some(p),
        emergency,
        fuzzy: false,
        duration_minutes: None,
        renews: None,
        request_id: "t",
        now: at,
    };
    let facts = gather(regs, &req.facts_query()).unwrap();
    let e = policy.evaluate_tracking_request(&req, &facts);
    e.peek().clone()
}

fn review(
    policy: &Policy,
    regs: &MemoryRegisters,
    s: &Subject,
    kind: ReviewKind,
    a: &Authorisation,
    at: DateTime<Utc>,
) -> Result<Authorisation> {
    let r = Review {
        subject: s,
        kind,
        authorisation: a,
        reason: "Checked the file and the owner's statement",
        request_id: "v",
        now: at,
    };
    let facts = gather(regs, &r.facts_query()).unwrap();
    policy.evaluate_review(&r, &facts).peek().clone()
}

#[test]
fn near_live_reads_need_a_tracking_authorisation() {
    let policy = Policy::default();
    let mut regs = registers();
    let s = officer();
    assert_eq!(
        kind(&read_view(&policy, &regs, &s, "STOLE1", 5, 1)),
        RefusalKind::NearLiveWithheld
    );
    read_view(&policy, &regs, &s, "STOLE1", 45, 1).unwrap();
    assert_eq!(
        kind(&read_view(&policy, &regs, &s, "STOLE1", 45, 2)),
        RefusalKind::NoNetworkAgreement
    );
    assert_eq!(
        kind(&read_view(&policy, &regs, &s, "STOLE1", 61 * 24 * 60, 1)),
        RefusalKind::LookbackNeedsApproval
    );
    // With a tracking authorisation in force, near-live data is visible, and searches are not
    // cut at the near-live boundary.
    let mut a = request_tracking(
        &policy,
        &regs,
        &s,
        "STOLE1",
        &purpose("stolen_vehicle", "F-THEFT"),
        false,
        now() - Duration::hours(1),
    )
    .unwrap();
    assert_eq!(a.status, AuthStatus::Active);
    a.id = 11;
    regs.authorisations.push(a);
    let g = read_view(&policy, &regs, &s, "STOLE1", 5, 1).unwrap();
    assert_eq!(g.authorisation_id, Some(11));
    let (g, d) = search(
        &policy,
        &regs,
        &s,
        "STOLE1",
        &purpose("stolen_vehicle", "F-THEFT"),
        TimeRange::default(),
    );
    assert_eq!(g.unwrap().time.to, None);
    assert!(d.basis.unwrap().contains("tracking authorisation #11"));
    // Someone else's authorisation does not help.
    assert_eq!(
        kind(&read_view(&policy, &regs, &teammate(), "STOLE1", 5, 1)),
        RefusalKind::NearLiveWithheld
    );
}

#[test]
fn older_data_needs_an_approved_lookback() {
    let policy = Policy::default();
    let mut regs = registers();
    let s = officer();
    let p = purpose("stolen_vehicle", "F-THEFT");
    let old = TimeRange {
        from: Some(now() - Duration::days(200)),
        to: None,
    };
    let (r, _) = search(&policy, &regs, &s, "OTHER1", &p, old);
    assert_eq!(kind(&r), RefusalKind::LookbackNeedsApproval);
    let req = LookbackRequest {
        subject: &s,
        plate: "OTHER1",
        purpose: Some(&p),
        from: now() - Duration::days(200),
        request_id: "l",
        now: now(),
    };
    let facts = gather(&regs, &req.facts_query()).unwrap();
    let mut a = policy
        .evaluate_lookback_request(&req, &facts)
        .peek()
        .clone()
        .unwrap();
    assert_eq!(a.status, AuthStatus::Pending);
    a.id = 3;
    assert_eq!(
        kind(&review(&policy, &regs, &s, ReviewKind::Approve, &a, now())),
        RefusalKind::MissingPermission
    );
    let approved = review(
        &policy,
        &regs,
        &supervisor(),
        ReviewKind::Approve,
        &a,
        now(),
    )
    .unwrap();
    assert_eq!(approved.status, AuthStatus::Active);
    regs.authorisations.push(approved);
    let (g, _) = search(&policy, &regs, &s, "OTHER1", &p, old);
    assert_eq!(g.unwrap().authorisation_id, Some(3));
    // Not for another file, and never past the maximum.
    let (r, _) = search(
        &policy,
        &regs,
        &s,
        "OTHER1",
        &purpose("serious_crime", "F-HOMICIDE"),
        old,
    );
    assert_eq!(kind(&r), RefusalKind::LookbackNeedsApproval);
    let req = LookbackRequest {
        from: now() - Duration::days(400),
        ..req
    };
    let facts = gather(&regs, &req.facts_query()).unwrap();
    assert_eq!(
        kind(policy.evaluate_lookback_request(&req, &facts).peek()),
        RefusalKind::InvalidRequest
    );
}

#[test]
fn rate_limits_answer_clearly() {
    let cfg = PolicyConfig {
        rate_limits: RateLimits {
            per_user: Limit {
                max: 100,
                window_minutes: 60,
            },
            per_purpose_default: Limit {
                max: 3,
                window_minutes: 60,
            },
            ..Default::default()
        },
        ..Default::default()
    };
    let policy = Policy::new(cfg).unwrap();
    let regs = registers();
    let p = purpose("stolen_vehicle", "F-THEFT");
    for _ in 0..3 {
        search(
            &policy,
            &regs,
            &officer(),
            "OTHER1",
            &p,
            TimeRange::default(),
        )
        .0
        .unwrap();
    }
    let (r, d) = search(
        &policy,
        &regs,
        &officer(),
        "OTHER1",
        &p,
        TimeRange::default(),
    );
    assert_eq!(kind(&r), RefusalKind::RateLimited);
    assert_eq!(d.refusal_code.as_deref(), Some("rate_limited"));
}

#[test]
fn stolen_vehicle_basis_is_checked_against_the_register() {
    let policy = Policy::default();
    let regs = registers();
    let s = officer();
    let p = purpose("stolen_vehicle", "F-THEFT");
    // Clean report by another team three days ago, complainant is the owner: starts at once.
    let a = request_tracking(&policy, &regs, &s, "STOLE1", &p, false, now()).unwrap();
    assert_eq!(a.status, AuthStatus::Active);
    assert_eq!(a.expires_at, Some(now() + Duration::hours(48)));
    assert!(a.approval_reasons.is_empty());
    // Recorded by the requester: approval.
    let a = request_tracking(&policy, &regs, &s, "STOLE2", &p, false, now()).unwrap();
    assert_eq!(a.status, AuthStatus::Pending);
    assert!(a.approval_reasons[0].contains("recorded by you"));
    // Recorded two hours ago by a teammate: approval.
    let a = request_tracking(&policy, &regs, &s, "STOLE3", &p, false, now()).unwrap();
    assert_eq!(a.status, AuthStatus::Pending);
    assert!(a.approval_reasons[0].contains("your team"));
    // The complainant is not the registered owner: approval.
    let a = request_tracking(&policy, &regs, &s, "STOLE4", &p, false, now()).unwrap();
    assert_eq!(a.status, AuthStatus::Pending);
    assert!(a.approval_reasons[0].contains("not the registered owner"));
    // No stolen report at all: refused.
    let r = request_tracking(&policy, &regs, &s, "OTHER1", &p, false, now());
    assert_eq!(kind(&r), RefusalKind::NoTrackingBasis);
    // A user whose own car is reported stolen cannot track it.
    let r = request_tracking(&policy, &regs, &s, "OWN001", &p, false, now());
    assert_eq!(kind(&r), RefusalKind::OwnVehicle);
    // A searcher without the tracker role cannot request.
    let only_search = subject(8, "S4", "Waikato", &[Role::Searcher]);
    let r = request_tracking(&policy, &regs, &only_search, "STOLE1", &p, false, now());
    assert_eq!(kind(&r), RefusalKind::MissingPermission);
    assert!(r
        .unwrap_err()
        .to_string()
        .contains("request real-time tracking"));
    // Road policing cannot justify tracking.
    let r = request_tracking(
        &policy,
        &regs,
        &s,
        "OTHER1",
        &purpose("road_policing", "F-ROAD"),
        false,
        now(),
    );
    assert_eq!(kind(&r), RefusalKind::NoTrackingBasis);
}

#[test]
fn other_purposes_need_a_different_supervisor_of_the_district() {
    let policy = Policy::default();
    let regs = registers();
    let requester = supervisor_tracker();
    let p = purpose("serious_crime", "F-HOMICIDE");
    let mut a = request_tracking(&policy, &regs, &requester, "OTHER1", &p, false, now()).unwrap();
    assert_eq!(a.status, AuthStatus::Pending);
    a.id = 21;
    // An approver cannot approve their own request, whatever roles they hold; nor is it in
    // their approval queue, while it is in their district's other supervisors'.
    let r = review(&policy, &regs, &requester, ReviewKind::Approve, &a, now());
    assert_eq!(kind(&r), RefusalKind::ConflictOfDuty);
    assert!(r.unwrap_err().to_string().contains("your own request"));
    assert!(!tracking::in_approval_queue(&requester, &a));
    assert!(tracking::in_approval_queue(&supervisor(), &a));
    assert!(!tracking::in_approval_queue(&far_supervisor(), &a));
    assert!(!tracking::in_approval_queue(&officer(), &a));
    // Nor can a supervisor of another district, nor a non-supervisor.
    let r = review(
        &policy,
        &regs,
        &far_supervisor(),
        ReviewKind::Approve,
        &a,
        now(),
    );
    assert_eq!(kind(&r), RefusalKind::WrongDistrict);
    let r = review(&policy, &regs, &teammate(), ReviewKind::Approve, &a, now());
    assert_eq!(kind(&r), RefusalKind::MissingPermission);
    // A supervisor cannot approve tracking of a vehicle connected to them.
    let mut b = request_tracking(&policy, &regs, &officer(), "SUPER1", &p, false, now()).unwrap();
    b.id = 22;
    let r = review(
        &policy,
        &regs,
        &supervisor_tracker(),
        ReviewKind::Approve,
        &b,
        now(),
    );
    assert_eq!(kind(&r), RefusalKind::ConflictOfDuty);
    // Another supervisor of the district approves; the clock starts at approval.
    let later = now() + Duration::hours(1);
    let ok = review(
        &policy,
        &regs,
        &supervisor(),
        ReviewKind::Approve,
        &a,
        later,
    )
    .unwrap();
    assert_eq!(ok.status, AuthStatus::Active);
    assert_eq!(ok.decided_by_staff_id.as_deref(), Some("S2"));
    assert_eq!(ok.expires_at, Some(later + Duration::days(7)));
    // Decided once only.
    let r = review(
        &policy,
        &regs,
        &supervisor(),
        ReviewKind::Approve,
        &ok,
        later,
    );
    assert_eq!(kind(&r), RefusalKind::InvalidState);
    // The requester may withdraw; a supervisor may revoke.
    let revoked = review(&policy, &regs, &requester, ReviewKind::Revoke, &ok, later).unwrap();
    assert_eq!(revoked.status, AuthStatus::Revoked);
}

#[test]
fn emergency_tracking_starts_at_once_and_stops_unless_approved_within_the_hour() {
    let policy = Policy::default();
    let regs = registers();
    let p = purpose("threat_to_life", "F-THREAT");
    let a = request_tracking(&policy, &regs, &officer(), "OTHER1", &p, true, now()).unwrap();
    assert_eq!(a.status, AuthStatus::Active);
    assert_eq!(a.approval_deadline, Some(now() + Duration::hours(1)));
    let cfg = policy.config();
    assert!(a
        .due_transition(now() + Duration::minutes(59), None, cfg)
        .is_none());
    let (status, why) = a
        .due_transition(now() + Duration::minutes(61), None, cfg)
        .unwrap();
    assert_eq!(status, AuthStatus::Stopped);
    assert!(why.contains("not approved within 60 minutes"), "{why}");
    // Approved within the hour: it runs to its end.
    let ok = review(
        &policy,
        &regs,
        &supervisor(),
        ReviewKind::Approve,
        &a,
        now() + Duration::minutes(30),
    )
    .unwrap();
    assert_eq!(ok.starts_at, Some(now()));
    assert!(ok
        .due_transition(now() + Duration::hours(2), None, cfg)
        .is_none());
    // Only threat to life has the emergency path.
    let r = request_tracking(
        &policy,
        &regs,
        &officer(),
        "OTHER1",
        &purpose("serious_crime", "F-HOMICIDE"),
        true,
        now(),
    );
    assert_eq!(kind(&r), RefusalKind::InvalidRequest);
}

#[test]
fn authorisations_expire_stop_on_cancellation_and_renew_only_with_approval() {
    let policy = Policy::default();
    let mut regs = registers();
    let s = officer();
    let p = purpose("stolen_vehicle", "F-THEFT");
    let mut a = request_tracking(&policy, &regs, &s, "STOLE1", &p, false, now()).unwrap();
    a.id = 31;
    let cfg = policy.config();
    let entry = regs.stolen[0].clone();
    assert!(a
        .due_transition(now() + Duration::hours(47), Some(&entry), cfg)
        .is_none());
    let (st, _) = a
        .due_transition(now() + Duration::hours(48), Some(&entry), cfg)
        .unwrap();
    assert_eq!(st, AuthStatus::Expired);
    // The stolen report is cancelled: tracking stops, and no longer lets near-live data through.
    let mut cancelled = entry.clone();
    cancelled.record.status = StolenStatus::Cancelled;
    let (st, why) = a
        .due_transition(now() + Duration::hours(1), Some(&cancelled), cfg)
        .unwrap();
    assert_eq!(st, AuthStatus::Stopped);
    assert!(why.contains("cancelled"));
    regs.stolen[0] = cancelled;
    regs.authorisations.push(a.clone());
    assert_eq!(
        kind(&read_view(&policy, &regs, &s, "STOLE1", 5, 1)),
        RefusalKind::NearLiveWithheld
    );
    regs.stolen[0] = entry;
    // While it runs, a second request is refused; a renewal always needs approval.
    let r = request_tracking(&policy, &regs, &s, "STOLE1", &p, false, now());
    assert_eq!(kind(&r), RefusalKind::InvalidState);
    let req = TrackingRequest {
        subject: &s,
        plate: "STOLE1",
        purpose: Some(&p),
        emergency: false,
        fuzzy: false,
        duration_minutes: None,
        renews: Some(&a),
        request_id: "t",
        now: now() + Duration::hours(47),
    };
    let facts = gather(&regs, &req.facts_query()).unwrap();
    let renewal = policy
        .evaluate_tracking_request(&req, &facts)
        .peek()
        .clone()
        .unwrap();
    assert_eq!(renewal.status, AuthStatus::Pending);
    assert_eq!(renewal.renews, Some(31));
    // Longer than the basis allows: refused clearly.
    let req = TrackingRequest {
        duration_minutes: Some(49 * 60),
        renews: None,
        plate: "STOLE4",
        ..req
    };
    let facts = gather(&regs, &req.facts_query()).unwrap();
    let r = policy.evaluate_tracking_request(&req, &facts);
    let e = r.peek().clone().unwrap_err();
    assert!(
        matches!(e, PolicyError::Refused { ref field, .. } if field.as_deref() == Some("duration_minutes"))
    );
}

#[test]
fn pending_requests_lapse() {
    let policy = Policy::default();
    let regs = registers();
    let a = request_tracking(
        &policy,
        &regs,
        &officer(),
        "OTHER1",
        &purpose("serious_crime", "F-HOMICIDE"),
        false,
        now(),
    )
    .unwrap();
    let (st, _) = a
        .due_transition(now() + Duration::hours(25), None, policy.config())
        .unwrap();
    assert_eq!(st, AuthStatus::Expired);
}

#[test]
fn a_decision_that_cannot_be_recorded_fails_the_request() {
    let policy = Policy::default();
    let regs = registers();
    let p = purpose("stolen_vehicle", "F-THEFT");
    let pattern = PlatePattern::parse("OTHER1", None, None).unwrap();
    let s = officer();
    let req = DataRequest {
        subject: &s,
        action: DataAction::Search,
        purpose: Some(&p),
        target: Target::Pattern(&pattern),
        time: TimeRange::default(),
        network_ids: &[],
        request_id: "r",
        now: now(),
    };
    let facts = gather(&regs, &req.facts_query()).unwrap();
    let recorder = MemoryRecorder::default();
    recorder
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let r = enforce(&recorder, policy.evaluate_data_access(&req, &facts));
    assert!(matches!(r, Err(PolicyError::Recording(_))));
}

#[test]
fn who_sees_which_authorisations() {
    let policy = Policy::default();
    let v = policy
        .evaluate_listing(&supervisor(), "x", now())
        .peek()
        .clone()
        .unwrap();
    assert_eq!(v.districts, vec!["Waikato".to_string()]);
    assert!(!v.all);
    let v = policy
        .evaluate_listing(&officer(), "x", now())
        .peek()
        .clone()
        .unwrap();
    assert_eq!(v.own, Some(1));
    let overseer = subject(10, "I1", "Wellington", &[Role::Integrity]);
    assert!(
        policy
            .evaluate_listing(&overseer, "x", now())
            .peek()
            .clone()
            .unwrap()
            .all
    );
    let admin = subject(11, "A1", "Wellington", &[Role::Admin]);
    assert_eq!(
        kind(policy.evaluate_listing(&admin, "x", now()).peek()),
        RefusalKind::MissingPermission
    );
}

fn subject_access(
    p: &Policy,
    regs: &MemoryRegisters,
    s: &Subject,
    plate: &str,
    reference: Option<&str>,
    identity: Option<&IdentityCheck>,
    answered_recently: u64,
) -> Evaluation<SubjectAccessGrant> {
    let req = SubjectAccessRequest {
        subject: s,
        plate,
        reference,
        identity,
        answered_recently,
        request_id: "r",
        now: now(),
    };
    let facts = gather(regs, &req.facts_query()).unwrap();
    p.evaluate_subject_access(&req, &facts)
}

fn passport(by: &str) -> IdentityCheck {
    IdentityCheck {
        method: "passport".into(),
        by: by.into(),
    }
}

#[test]
fn subject_access_is_for_privacy_officers_and_admins_and_always_recorded() {
    let p = Policy::default();
    let mut regs = registers();
    regs.add_staff("PO1", "PP1", "AP1", None);
    regs.add_staff("AD1", "PA1", "AA1", None);
    let id = passport("PO1");
    let privacy = subject(50, "PO1", "Wellington", &[Role::PrivacyOfficer]);
    let e = subject_access(&p, &regs, &privacy, "ABC123", Some(" PA-7 "), Some(&id), 0);
    let g = e.peek().clone().unwrap();
    assert_eq!(g.reads_until, now() - Duration::minutes(30));
    assert_eq!(g.notices[0].code, "near_live_withheld");
    assert_eq!(e.decision.action, DecisionAction::SubjectAccess);
    assert_eq!(e.decision.outcome, DecisionOutcome::AllowedWithLimits);
    assert_eq!(e.decision.target.as_deref(), Some("ABC123"));
    assert_eq!(
        e.decision.basis.as_deref(),
        Some("subject access request PA-7; identity checked by PO1 (passport)")
    );
    let admin = subject(51, "AD1", "Wellington", &[Role::Admin]);
    assert!(
        subject_access(&p, &regs, &admin, "ABC123", Some("PA-8"), Some(&id), 0)
            .peek()
            .is_ok()
    );
    let e = subject_access(&p, &regs, &officer(), "ABC123", Some("PA-8"), Some(&id), 0);
    assert_eq!(kind(e.peek()), RefusalKind::MissingPermission);
    assert_eq!(e.decision.outcome, DecisionOutcome::Refused);
    let mut disabled = privacy.clone();
    disabled.active = false;
    let e = subject_access(&p, &regs, &disabled, "ABC123", Some("PA-8"), Some(&id), 0);
    assert_eq!(kind(e.peek()), RefusalKind::Inactive);
}

#[test]
fn subject_access_needs_a_reference_an_identity_check_and_someone_unconnected() {
    let p = Policy::default();
    let mut regs = registers();
    regs.add_staff("PO1", "PP1", "AP1", None);
    regs.add_vehicle("PRV001", "PP1", "AP1");
    regs.add_vehicle("PRV002", "PX", "AP1");
    let privacy = subject(50, "PO1", "Wellington", &[Role::PrivacyOfficer]);
    let field = |e: &Evaluation<SubjectAccessGrant>| match e.peek() {
        Err(PolicyError::Refused { field, .. }) => field.clone(),
        other => panic!("{other:?}"),
    };
    let id = passport("PO1");
    for (reference, identity, expected) in [
        (None, Some(id.clone()), "reference"),
        (Some("  "), Some(id.clone()), "reference"),
        (Some(&*"R".repeat(65)), Some(id.clone()), "reference"),
        (Some("PA-1"), None, "identity_checked"),
        (
            Some("PA-1"),
            Some(IdentityCheck {
                method: "looked_honest".into(),
                by: "PO1".into(),
            }),
            "identity_checked.method",
        ),
        (Some("PA-1"), Some(passport(" ")), "identity_checked.by"),
    ] {
        let e = subject_access(
            &p,
            &regs,
            &privacy,
            "ABC123",
            reference,
            identity.as_ref(),
            0,
        );
        assert_eq!(kind(e.peek()), RefusalKind::InvalidRequest, "{expected}");
        assert_eq!(field(&e).as_deref(), Some(expected));
        assert_eq!(e.decision.outcome, DecisionOutcome::Refused);
    }
    // Own and household vehicles: someone else handles them.
    for plate in ["PRV001", "PRV002"] {
        let e = subject_access(&p, &regs, &privacy, plate, Some("PA-1"), Some(&id), 0);
        assert_eq!(kind(e.peek()), RefusalKind::OwnVehicle, "{plate}");
        let msg = e.peek().clone().unwrap_err().to_string();
        assert!(msg.contains("someone else"), "{msg}");
    }
    // Not in the staff register: connected vehicles cannot be recognised.
    let stranger = subject(52, "PO9", "Wellington", &[Role::PrivacyOfficer]);
    let e = subject_access(&p, &regs, &stranger, "ABC123", Some("PA-1"), Some(&id), 0);
    assert_eq!(kind(e.peek()), RefusalKind::NotInStaffRegister);
    // The per-requester limit, from the requests answered in its window.
    let max = p.config().subject_access.per_requester.max as u64;
    assert!(subject_access(
        &p,
        &regs,
        &privacy,
        "ABC123",
        Some("PA-1"),
        Some(&id),
        max - 1
    )
    .peek()
    .is_ok());
    let e = subject_access(&p, &regs, &privacy, "ABC123", Some("PA-1"), Some(&id), max);
    assert_eq!(kind(e.peek()), RefusalKind::RateLimited);
    assert_eq!(
        p.subject_access_window_start(now()),
        now() - Duration::hours(24)
    );
}

#[test]
fn decisions_name_the_networks_they_are_about() {
    let policy = Policy::default();
    let regs = registers();
    let (g, d) = search(
        &policy,
        &regs,
        &officer(),
        "OTHER1",
        &purpose("stolen_vehicle", "F-THEFT"),
        TimeRange::default(),
    );
    assert_eq!(g.unwrap().networks, vec![1]);
    assert_eq!(d.networks, vec![1], "the networks searched are recorded");
}

/// A view of `target` by `s` under `p`, the read shown to them as `shown` says.
fn view_shown(
    policy: &Policy,
    regs: &MemoryRegisters,
    s: &Subject,
    target: Target<'_>,
    p: &Purpose,
    shown: Vec<Disclosure>,
) -> Evaluation<access::DataGrant> {
    let req = DataRequest {
        subject: s,
        action: DataAction::ViewRead,
        purpose: Some(p),
        target,
        time: TimeRange::default(),
        network_ids: &[],
        request_id: "r",
        now: now(),
    };
    let mut facts = gather(regs, &req.facts_query()).unwrap();
    facts.disclosures = shown;
    policy.evaluate_data_access(&req, &facts)
}

fn read_of(read_id: i64, plate: &str, minutes_ago: i64, network_id: i64) -> Target<'_> {
    Target::Read {
        read_id,
        plate,
        captured_at: now() - Duration::minutes(minutes_ago),
        network_id,
    }
}

#[test]
fn a_read_opens_only_if_shown_to_the_same_user_under_the_same_purpose_and_file_in_the_window() {
    let policy = Policy::default();
    let regs = registers();
    let s = officer();
    let theft = purpose("stolen_vehicle", "F-THEFT");
    let view = |shown: Vec<Disclosure>| {
        view_shown(
            &policy,
            &regs,
            &s,
            read_of(7, "OTHER1", 45, 1),
            &theft,
            shown,
        )
    };
    // Never shown.
    let e = view(vec![]);
    assert_eq!(kind(e.peek()), RefusalKind::ReadNotAvailable);
    assert_eq!(e.decision.outcome, DecisionOutcome::Refused);
    assert_eq!(
        e.decision.refusal_code.as_deref(),
        Some("read_not_available")
    );
    // Shown by a search a minute ago, under this purpose and file (trimmed as stored).
    let mut by_search = shown_by_search(&s, 7, &theft, now() - Duration::minutes(1));
    by_search.file_number = " F-THEFT ".trim().into();
    let e = view(vec![by_search.clone()]);
    e.peek().as_ref().unwrap();
    assert_eq!(e.decision.outcome, DecisionOutcome::Allowed);
    assert!(
        e.decision
            .basis
            .as_deref()
            .unwrap()
            .contains("shown to them by a search"),
        "{:?}",
        e.decision.basis
    );
    let alert = Disclosure {
        by: DisclosedBy::Alert,
        ..by_search.clone()
    };
    let e = view(vec![alert]);
    assert!(e.decision.basis.unwrap().contains("by an alert"));
    // Not under another file, another purpose code, to another user, of another read, or
    // longer ago than the window (24 hours by default).
    for (what, d) in [
        (
            "another file",
            shown_by_search(&s, 7, &purpose("stolen_vehicle", "F-HOMICIDE"), now()),
        ),
        (
            "another purpose",
            shown_by_search(&s, 7, &purpose("serious_crime", "F-THEFT"), now()),
        ),
        (
            "another user",
            shown_by_search(&teammate(), 7, &theft, now()),
        ),
        ("another read", shown_by_search(&s, 8, &theft, now())),
        (
            "25 hours ago",
            shown_by_search(&s, 7, &theft, now() - Duration::hours(25)),
        ),
    ] {
        assert_eq!(
            kind(view(vec![d]).peek()),
            RefusalKind::ReadNotAvailable,
            "{what}"
        );
    }
    view(vec![shown_by_search(
        &s,
        7,
        &theft,
        now() - Duration::hours(23),
    )])
    .peek()
    .as_ref()
    .unwrap();
    // The window is configurable.
    let short = Policy::new(PolicyConfig {
        disclosure_window_hours: 2,
        ..Default::default()
    })
    .unwrap();
    let e = view_shown(
        &short,
        &regs,
        &s,
        read_of(7, "OTHER1", 45, 1),
        &theft,
        vec![shown_by_search(&s, 7, &theft, now() - Duration::hours(3))],
    );
    assert_eq!(kind(e.peek()), RefusalKind::ReadNotAvailable);
    assert!(message(e.peek()).contains("last 2 hours"));
    assert!(PolicyConfig {
        disclosure_window_hours: 0,
        ..Default::default()
    }
    .validate()
    .is_err());
}

#[test]
fn refusals_of_reads_not_shown_are_one_answer_whatever_the_read() {
    let policy = Policy::default();
    let regs = registers();
    let s = officer();
    let theft = purpose("stolen_vehicle", "F-THEFT");
    let targets = [
        Target::MissingRead(99),
        read_of(7, "OTHER1", 45, 1),
        read_of(7, "OTHER1", 5, 1),
        read_of(7, "ASSOC1", 45, 1),
        read_of(7, "ASSOC1", 5, 1),
        read_of(7, "OTHER1", 45, 2),
        read_of(7, "TEST01", 45, 1),
        read_of(7, "OTHER1", 61 * 24 * 60, 1),
        read_of(-3, "OTHER1", 45, 1),
    ];
    let answers: Vec<PolicyError> = targets
        .iter()
        .map(|t| {
            view_shown(&policy, &regs, &s, *t, &theft, vec![])
                .peek()
                .clone()
                .unwrap_err()
        })
        .collect();
    for (t, a) in targets.iter().zip(&answers) {
        assert_eq!(a, &answers[0], "{t:?}");
        assert!(!a.to_string().contains("ASSOC1") && !a.to_string().contains("OTHER1"));
    }
    // A missing read stays refused even if it was shown once (since purged), and so does a
    // training sighting's negative id or a training plate's real read.
    let missing = view_shown(
        &policy,
        &regs,
        &s,
        Target::MissingRead(99),
        &theft,
        vec![shown_by_search(&s, 99, &theft, now())],
    );
    assert_eq!(missing.peek().clone().unwrap_err(), answers[0]);
    for t in [read_of(-3, "OTHER1", 45, 1), read_of(7, "TEST01", 45, 1)] {
        let id = match t {
            Target::Read { read_id, .. } => read_id,
            _ => unreachable!(),
        };
        let e = view_shown(
            &policy,
            &regs,
            &s,
            t,
            &theft,
            vec![shown_by_search(&s, id, &theft, now())],
        );
        assert_eq!(e.peek().clone().unwrap_err(), answers[0], "{t:?}");
    }
    // Shown once, then the associate declared: a fresh read is withheld as near-live, without
    // naming the car; an older one names it (the user was shown it already).
    let shown = vec![shown_by_search(&s, 7, &theft, now())];
    let e = view_shown(
        &policy,
        &regs,
        &s,
        read_of(7, "ASSOC1", 5, 1),
        &theft,
        shown.clone(),
    );
    assert_eq!(kind(e.peek()), RefusalKind::NearLiveWithheld);
    assert!(!message(e.peek()).contains("ASSOC1"));
    let e = view_shown(
        &policy,
        &regs,
        &s,
        read_of(7, "ASSOC1", 45, 1),
        &theft,
        shown,
    );
    assert_eq!(kind(e.peek()), RefusalKind::OwnVehicle);
}

fn legal_hold<'a>(
    policy: &Policy,
    regs: &MemoryRegisters,
    s: &'a Subject,
    target: Target<'a>,
    p: Option<&'a Purpose>,
    reason: &'a str,
) -> Evaluation<()> {
    let req = LegalHoldRequest {
        subject: s,
        purpose: p,
        target,
        hold: true,
        reason,
        request_id: "h",
        now: now(),
    };
    let facts = gather(regs, &req.facts_query()).unwrap();
    policy.evaluate_legal_hold(&req, &facts)
}

#[test]
fn a_legal_hold_is_decided_and_recorded_with_its_purpose() {
    let policy = Policy::default();
    let mut regs = registers();
    regs.add_staff("AD1", "P60", "A60", None);
    let theft = purpose("stolen_vehicle", "F-THEFT");
    let court = "Court file CRI-2026-123";
    let old = read_of(7, "OTHER1", 400 * 24 * 60, 1);
    // A supervisor, and an administrator, of the file's district: the read's age is no bar.
    let admin = subject(9, "AD1", "Waikato", &[Role::Admin]);
    for s in [supervisor(), admin] {
        let e = legal_hold(&policy, &regs, &s, old, Some(&theft), court);
        e.peek().as_ref().unwrap();
        let d = &e.decision;
        assert_eq!(d.action, DecisionAction::LegalHold);
        assert_eq!(d.outcome, DecisionOutcome::Allowed);
        assert_eq!(d.file_number.as_deref(), Some("F-THEFT"));
        assert_eq!(d.purpose_code.as_deref(), Some("stolen_vehicle"));
        assert!(d
            .basis
            .as_deref()
            .unwrap()
            .contains("hold: Court file CRI-2026-123"));
        assert_eq!(d.networks, vec![1]);
    }
    let s = supervisor();
    // No purpose, a short reason, the wrong role, a file not theirs.
    let e = legal_hold(&policy, &regs, &s, old, None, court);
    assert_eq!(kind(e.peek()), RefusalKind::InvalidPurpose);
    assert_eq!(e.decision.outcome, DecisionOutcome::Refused);
    let e = legal_hold(&policy, &regs, &s, old, Some(&theft), "court");
    assert_eq!(kind(e.peek()), RefusalKind::InvalidRequest);
    let o = officer();
    let e = legal_hold(&policy, &regs, &o, old, Some(&theft), court);
    assert_eq!(kind(e.peek()), RefusalKind::MissingPermission);
    let cant = purpose("serious_crime", "F-CANT");
    let e = legal_hold(&policy, &regs, &s, old, Some(&cant), court);
    assert_eq!(kind(e.peek()), RefusalKind::FileNotYours);
    // An unknown read, another network's, a connected vehicle's: one answer.
    let st = supervisor_tracker();
    let answers: Vec<PolicyError> = [
        (&s, Target::MissingRead(99)),
        (&s, read_of(7, "OTHER1", 45, 2)),
        (&st, read_of(7, "SUPER1", 45, 1)),
    ]
    .into_iter()
    .map(|(who, t)| {
        legal_hold(&policy, &regs, who, t, Some(&theft), court)
            .peek()
            .clone()
            .unwrap_err()
    })
    .collect();
    assert_eq!(answers[0].kind(), Some(RefusalKind::ReadNotAvailable));
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert!(!answers[0].to_string().contains("SUPER1"));
}

fn sightings_of(
    policy: &Policy,
    s: &Subject,
    a: &Authorisation,
    cases: &[ReviewCase],
) -> Evaluation<SightingsGrant> {
    policy.evaluate_sightings(&SightingsRequest {
        subject: s,
        authorisation: a,
        cases,
        request_id: "w",
        now: now(),
    })
}

#[test]
fn a_tracked_cars_path_goes_to_its_requester_and_supervisors_and_counts_to_overseers() {
    let policy = Policy::default();
    let regs = registers();
    let mut a = request_tracking(
        &policy,
        &regs,
        &officer(),
        "STOLE1",
        &purpose("stolen_vehicle", "F-THEFT"),
        false,
        now() - Duration::hours(1),
    )
    .unwrap();
    a.id = 11;
    // The requester and their district's supervisors: the path, under its purpose and file.
    for s in [officer(), supervisor()] {
        let e = sightings_of(&policy, &s, &a, &[]);
        assert_eq!(
            *e.peek().as_ref().unwrap(),
            SightingsGrant {
                path: true,
                case_id: None
            }
        );
        let d = &e.decision;
        assert_eq!(d.action, DecisionAction::ViewSightings);
        assert_eq!(d.outcome, DecisionOutcome::Allowed);
        assert_eq!(d.purpose_code.as_deref(), Some("stolen_vehicle"));
        assert_eq!(d.file_number.as_deref(), Some("F-THEFT"));
        assert_eq!(d.authorisation_id, Some(11));
    }
    // Another district's supervisor, a teammate: refused.
    for s in [far_supervisor(), teammate()] {
        assert_eq!(
            kind(sightings_of(&policy, &s, &a, &[]).peek()),
            RefusalKind::WrongDistrict
        );
    }
    // Overseers: how many, not where.
    let auditor = subject(20, "AU1", "Wellington", &[Role::Auditor]);
    let integrity = subject(21, "IN1", "Wellington", &[Role::Integrity]);
    for s in [&auditor, &integrity] {
        let e = sightings_of(&policy, s, &a, &[]);
        assert!(!e.peek().as_ref().unwrap().path);
        assert_eq!(e.decision.outcome, DecisionOutcome::AllowedWithLimits);
        assert_eq!(e.decision.purpose_code, None);
        assert!(e.decision.notes[0].starts_with("path_withheld"));
    }
    // An open integrity case about the requester, theirs to work, gives the integrity unit a
    // reason, named in the decision; nothing else does.
    let case = ReviewCase {
        id: 5,
        staff_id: "S1".into(),
        rule: "renewal_chain".into(),
        integrity_queue: true,
        open: true,
        assigned_to: None,
    };
    let e = sightings_of(&policy, &integrity, &a, std::slice::from_ref(&case));
    assert_eq!(
        *e.peek().as_ref().unwrap(),
        SightingsGrant {
            path: true,
            case_id: Some(5)
        }
    );
    assert!(e
        .decision
        .basis
        .unwrap()
        .contains("integrity case #5 (renewal_chain) about S1"));
    let mine = ReviewCase {
        assigned_to: Some("IN1".into()),
        ..case.clone()
    };
    assert!(
        sightings_of(&policy, &integrity, &a, &[mine])
            .peek()
            .as_ref()
            .unwrap()
            .path
    );
    for (what, c) in [
        (
            "assigned to someone else",
            ReviewCase {
                assigned_to: Some("IN2".into()),
                ..case.clone()
            },
        ),
        (
            "closed",
            ReviewCase {
                open: false,
                ..case.clone()
            },
        ),
        (
            "a supervisor's routine sample",
            ReviewCase {
                integrity_queue: false,
                ..case.clone()
            },
        ),
        (
            "about someone else",
            ReviewCase {
                staff_id: "S4".into(),
                ..case.clone()
            },
        ),
    ] {
        let e = sightings_of(&policy, &integrity, &a, &[c]);
        assert!(!e.peek().as_ref().unwrap().path, "{what}");
    }
    let e = sightings_of(&policy, &auditor, &a, std::slice::from_ref(&case));
    assert!(!e.peek().as_ref().unwrap().path, "an auditor works no case");
}
