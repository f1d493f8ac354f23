//! The insider red team's attacks on the policy, each reproduced on in-memory registers and
//! shown closed.

use anpr_domain::query::MatchMode;
use anpr_domain::{PlatePattern, Purpose, Role, TimeRange};
use anpr_policy::access::{DataAction, DataGrant, DataRequest, Target};
use anpr_policy::registers::{
    gather, AssociateRecord, IncidentRecord, MemoryRegisters, NetworkAgreement, StolenRecord,
    StolenStatus,
};
use anpr_policy::tracking::{Review, ReviewKind, TrackingRequest};
use anpr_policy::*;
use chrono::{DateTime, Duration, TimeZone, Utc};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn subject(id: i64, staff: &str, roles: &[Role]) -> Subject {
    Subject {
        user_id: id,
        staff_id: staff.into(),
        district: "Waikato".into(),
        roles: roles.to_vec(),
        active: true,
    }
}

/// Owns AJC758; their household runs HHS123; their declared associate (brother) drives BRO400.
fn officer() -> Subject {
    subject(1, "S1", &[Role::Searcher, Role::Tracker])
}
fn colleague() -> Subject {
    subject(4, "S4", &[Role::Searcher, Role::Tracker])
}
/// Owns SUP150.
fn supervisor() -> Subject {
    subject(2, "S2", &[Role::Supervisor])
}
fn other_supervisor() -> Subject {
    subject(3, "S3", &[Role::Supervisor])
}

fn incident(file: &str, kind: &str) -> IncidentRecord {
    IncidentRecord {
        file_number: file.into(),
        incident_type: kind.into(),
        district: "Waikato".into(),
        opened_at: now() - Duration::days(10),
        closed_at: None,
        assigned_staff: vec![],
    }
}

fn stolen(plate: &str, file: &str, by: &str, complainant: &str) -> StolenRecord {
    StolenRecord {
        plate: plate.into(),
        file_number: file.into(),
        reported_at: now() - Duration::hours(72),
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
    r.add_staff("S6", "P6", "A6", Some("Team Tauranga"));
    r.associates.push(AssociateRecord {
        staff_id: "S1".into(),
        person_id: "P7".into(),
        relationship: Some("brother".into()),
    });
    r.add_vehicle("AJC758", "P1", "A1");
    r.add_vehicle("HHS123", "P9", "A1");
    r.add_vehicle("BRO400", "P7", "A7");
    r.add_vehicle("SUP150", "P2", "A2");
    r.add_vehicle("OTHER1", "P5", "A5");
    r.add_vehicle("STOLE1", "P5", "A5");
    r.add_incident(incident("F-THEFT", "vehicle_theft"));
    r.add_incident(incident("F-HOMICIDE", "homicide"));
    r.add_incident(incident("F-THREAT", "threat_to_life"));
    r.agreements = vec![NetworkAgreement {
        network_id: 1,
        search: vec!["*".into()],
        tracking: vec!["*".into()],
        hot_list_alerts: false,
    }];
    // A clean report by another team three days ago, complainant the owner: starts at once.
    r.add_stolen(stolen("STOLE1", "F-THEFT", "S6", "P5"));
    r
}

fn purpose(code: &str, file: &str) -> Purpose {
    Purpose {
        code: code.into(),
        file_number: file.into(),
        justification: "Vehicle seen leaving the scene of the incident".into(),
    }
}

fn kind<T: std::fmt::Debug>(r: &Result<T>) -> RefusalKind {
    r.as_ref().unwrap_err().kind().expect("a refusal")
}

fn message<T: std::fmt::Debug>(r: &Result<T>) -> String {
    r.as_ref().unwrap_err().to_string()
}

#[derive(Clone)]
struct Track<'a> {
    plate: &'a str,
    purpose: Purpose,
    emergency: bool,
    fuzzy: bool,
    at: DateTime<Utc>,
}

impl<'a> Track<'a> {
    fn emergency(plate: &'a str) -> Self {
        Track {
            plate,
            purpose: purpose("threat_to_life", "F-THREAT"),
            emergency: true,
            fuzzy: false,
            at: now(),
        }
    }
    fn stolen(plate: &'a str) -> Self {
        Track {
            plate,
            purpose: purpose("stolen_vehicle", "F-THEFT"),
            emergency: false,
            fuzzy: false,
            at: now(),
        }
    }
    fn fuzzy(self) -> Self {
        Track {
            fuzzy: true,
            ..self
        }
    }
    fn at(self, at: DateTime<Utc>) -> Self {
        Track { at, ..self }
    }
}

/// A tracking request, decided and recorded: the outcome and its decision record.
fn track(
    policy: &Policy,
    regs: &MemoryRegisters,
    s: &Subject,
    t: &Track<'_>,
) -> (Result<Authorisation>, Decision) {
    let req = TrackingRequest {
        subject: s,
        plate: t.plate,
        purpose: Some(&t.purpose),
        emergency: t.emergency,
        fuzzy: t.fuzzy,
        duration_minutes: None,
        renews: None,
        request_id: "t",
        now: t.at,
    };
    let facts = gather(regs, &req.facts_query()).unwrap();
    let recorder = MemoryRecorder::default();
    let out = enforce(&recorder, policy.evaluate_tracking_request(&req, &facts)).map(|(a, _)| a);
    (
        out,
        recorder.all().pop().expect("every decision is recorded"),
    )
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

fn search_pattern(
    policy: &Policy,
    regs: &MemoryRegisters,
    s: &Subject,
    pattern: &PlatePattern,
    p: Option<&Purpose>,
) -> (Result<DataGrant>, Decision) {
    let req = DataRequest {
        subject: s,
        action: DataAction::Search,
        purpose: p,
        target: Target::Pattern(pattern),
        time: TimeRange::default(),
        network_ids: &[],
        request_id: "r",
        now: now(),
    };
    let facts = gather(regs, &req.facts_query()).unwrap();
    let recorder = MemoryRecorder::default();
    let out = enforce(&recorder, policy.evaluate_data_access(&req, &facts)).map(|(g, _)| g);
    (
        out,
        recorder.all().pop().expect("every decision is recorded"),
    )
}

fn view_read(
    policy: &Policy,
    regs: &MemoryRegisters,
    s: &Subject,
    plate: &str,
    minutes_ago: i64,
    p: &Purpose,
) -> Result<DataGrant> {
    let req = DataRequest {
        subject: s,
        action: DataAction::ViewRead,
        purpose: Some(p),
        target: Target::Read {
            read_id: 7,
            plate,
            captured_at: now() - Duration::minutes(minutes_ago),
            network_id: 1,
        },
        time: TimeRange::default(),
        network_ids: &[],
        request_id: "r",
        now: now(),
    };
    let mut facts = gather(regs, &req.facts_query()).unwrap();
    // Shown to them by a search under this purpose a minute ago (the rules below that gate).
    facts.disclosures = vec![Disclosure {
        user_id: s.user_id,
        read_id: 7,
        purpose_code: p.code.clone(),
        file_number: p.file_number.clone(),
        at: now() - Duration::minutes(1),
        by: DisclosedBy::Search,
    }];
    policy.evaluate_data_access(&req, &facts).peek().clone()
}

// --- 1. Fuzzy tracking bypasses the own-vehicle block ---------------------------------------

#[test]
fn fuzzy_emergency_tracking_one_ocr_confusion_from_ones_own_car_is_refused() {
    let policy = Policy::default();
    let regs = registers();
    // The attack: AJC7S8 is the officer's own AJC758 with 5 read as S. A fuzzy watch of it
    // would alert on every read of their own car.
    let (r, d) = track(
        &policy,
        &regs,
        &officer(),
        &Track::emergency("AJC7S8").fuzzy(),
    );
    assert_eq!(kind(&r), RefusalKind::OwnVehicle, "{r:?}");
    let msg = message(&r);
    assert!(msg.contains("AJC758"), "{msg}");
    assert!(msg.contains("registered to you"), "{msg}");
    assert!(msg.contains("ask another officer"), "{msg}");
    assert_eq!(d.refusal_code.as_deref(), Some("own_vehicle"));
    assert!(d.fuzzy, "the decision records that the watch was fuzzy");

    // Every connection, every confusion, every path: household, associate, not an emergency.
    for (plate, phrase) in [
        ("HH5I23", "someone at your home address"),
        ("8R0400", "declared as an associate"),
        ("AJC7B8", "registered to you"),
    ] {
        let t = match plate {
            "AJC7B8" => Track::emergency(plate),
            _ => Track {
                purpose: purpose("serious_crime", "F-HOMICIDE"),
                emergency: false,
                ..Track::emergency(plate)
            },
        };
        let (r, _) = track(&policy, &regs, &officer(), &t.fuzzy());
        if plate == "AJC7B8" {
            // 5 and B are not confusable: a different car.
            r.unwrap();
            continue;
        }
        assert_eq!(kind(&r), RefusalKind::OwnVehicle, "{plate}");
        assert!(message(&r).contains(phrase), "{plate}: {}", message(&r));
    }

    // An exact watch of AJC7S8 alerts only on reads of AJC7S8: not blocked by this rule.
    let (r, d) = track(&policy, &regs, &officer(), &Track::emergency("AJC7S8"));
    assert_eq!(r.unwrap().status, AuthStatus::Active);
    assert!(!d.fuzzy);
    // Another officer may ask for the fuzzy watch.
    let (r, d) = track(
        &policy,
        &regs,
        &colleague(),
        &Track::emergency("AJC7S8").fuzzy(),
    );
    assert!(r.unwrap().fuzzy);
    assert!(
        d.fuzzy,
        "the granted decision records that the watch is fuzzy"
    );
}

#[test]
fn a_supervisor_cannot_approve_a_fuzzy_watch_that_would_alert_on_their_own_car() {
    let policy = Policy::default();
    let regs = registers();
    // SUP150 is the supervisor's car; SUP15O differs by 0/O.
    let t = Track {
        purpose: purpose("serious_crime", "F-HOMICIDE"),
        ..Track::stolen("SUP15O")
    };
    let (a, _) = track(&policy, &regs, &officer(), &t.clone().fuzzy());
    let mut a = a.unwrap();
    a.id = 9;
    assert_eq!(a.status, AuthStatus::Pending);
    let r = review(
        &policy,
        &regs,
        &supervisor(),
        ReviewKind::Approve,
        &a,
        now(),
    );
    assert_eq!(kind(&r), RefusalKind::ConflictOfDuty, "{r:?}");
    assert!(message(&r).contains("SUP150"), "{}", message(&r));
    review(
        &policy,
        &regs,
        &other_supervisor(),
        ReviewKind::Approve,
        &a,
        now(),
    )
    .unwrap();
    // The same request without fuzzy matching would never alert on SUP150.
    let (a, _) = track(&policy, &regs, &officer(), &t);
    let mut a = a.unwrap();
    a.id = 10;
    review(
        &policy,
        &regs,
        &supervisor(),
        ReviewKind::Approve,
        &a,
        now(),
    )
    .unwrap();
}

#[test]
fn fuzzy_and_wildcard_searches_cover_confusable_plates_of_connected_vehicles() {
    let policy = Policy::default();
    let regs = registers();
    let p = purpose("stolen_vehicle", "F-THEFT");
    // A fuzzy search whose plate is one's own car up to confusions is a search of one's own
    // car: refused like the exact search.
    for edits in [0, 1] {
        let pattern = PlatePattern::parse("AJC7S8", Some(MatchMode::Fuzzy), Some(edits)).unwrap();
        let (r, d) = search_pattern(&policy, &regs, &officer(), &pattern, Some(&p));
        assert_eq!(kind(&r), RefusalKind::OwnVehicle, "~{edits}");
        assert!(message(&r).contains("AJC758"), "{}", message(&r));
        assert_eq!(d.refusal_code.as_deref(), Some("own_vehicle"));
    }
    // A wildcard that can match a plate confusable with one's own car is told so; the store
    // excludes the connected plates with every plate confusable with them.
    let pattern = PlatePattern::parse("AJC7S?", None, None).unwrap();
    let (g, _) = search_pattern(&policy, &regs, &officer(), &pattern, Some(&p));
    let g = g.unwrap();
    assert!(g.exclude_plates.contains(&"AJC758".to_string()));
    assert!(
        g.notices
            .iter()
            .any(|n| n.code == "connected_vehicles_excluded"),
        "{:?}",
        g.notices
    );
    // A colleague's fuzzy search of the same plate is fine.
    let pattern = PlatePattern::parse("AJC7S8", Some(MatchMode::Fuzzy), Some(1)).unwrap();
    let (g, _) = search_pattern(&policy, &regs, &colleague(), &pattern, Some(&p));
    g.unwrap();
}

// --- 3. A tracking authorisation lifts near-live withholding under any file and purpose ------

#[test]
fn a_tracking_authorisation_lifts_near_live_withholding_only_under_its_own_file_and_purpose() {
    let policy = Policy::default();
    let mut regs = registers();
    regs.add_incident(incident("F-KIDNAP", "kidnapping"));
    let s = officer();
    let theft = purpose("stolen_vehicle", "F-THEFT");
    let (a, _) = track(&policy, &regs, &s, &Track::stolen("STOLE1"));
    let mut a = a.unwrap();
    assert_eq!(a.status, AuthStatus::Active);
    a.id = 11;
    regs.authorisations.push(a);
    // Under the authorisation's own file and purpose: near-live reads are visible.
    let g = view_read(&policy, &regs, &s, "STOLE1", 5, &theft).unwrap();
    assert_eq!(g.authorisation_id, Some(11));
    // The attack: the same plate under another file, to follow it live for something else.
    let homicide = purpose("serious_crime", "F-HOMICIDE");
    let r = view_read(&policy, &regs, &s, "STOLE1", 5, &homicide);
    assert_eq!(kind(&r), RefusalKind::NearLiveWithheld);
    let msg = message(&r);
    assert!(msg.contains("#11") && msg.contains("F-THEFT"), "{msg}");
    let pattern = PlatePattern::parse("STOLE1", None, None).unwrap();
    let (g, d) = search_pattern(&policy, &regs, &s, &pattern, Some(&homicide));
    let g = g.unwrap();
    assert_eq!(g.time.to, Some(now() - Duration::minutes(30)));
    assert!(g.notices.iter().any(|n| n.code == "near_live_withheld"));
    assert_eq!(g.authorisation_id, None);
    assert!(!d.basis.unwrap().contains("#11"));
    // Same plate and file, another purpose: still withheld.
    let mut regs2 = registers();
    regs2.add_incident(incident("F-KIDNAP", "kidnapping"));
    let kidnap_threat = purpose("threat_to_life", "F-KIDNAP");
    let (a, _) = track(
        &policy,
        &regs2,
        &s,
        &Track {
            purpose: kidnap_threat.clone(),
            ..Track::emergency("OTHER1")
        },
    );
    let mut a = a.unwrap();
    a.id = 12;
    regs2.authorisations.push(a);
    view_read(&policy, &regs2, &s, "OTHER1", 5, &kidnap_threat).unwrap();
    let kidnap_crime = purpose("serious_crime", "F-KIDNAP");
    let r = view_read(&policy, &regs2, &s, "OTHER1", 5, &kidnap_crime);
    assert_eq!(kind(&r), RefusalKind::NearLiveWithheld);
}

#[test]
fn a_lookback_authorisation_reaches_back_only_under_its_own_file_and_purpose() {
    let policy = Policy::default();
    let mut regs = registers();
    regs.add_incident(incident("F-KIDNAP", "kidnapping"));
    let s = officer();
    let crime = purpose("serious_crime", "F-KIDNAP");
    let req = anpr_policy::tracking::LookbackRequest {
        subject: &s,
        plate: "OTHER1",
        purpose: Some(&crime),
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
    a.id = 3;
    let a = review(
        &policy,
        &regs,
        &supervisor(),
        ReviewKind::Approve,
        &a,
        now(),
    )
    .unwrap();
    regs.authorisations.push(a);
    let old = |p: &Purpose| {
        let pattern = PlatePattern::parse("OTHER1", None, None).unwrap();
        let req = DataRequest {
            subject: &s,
            action: DataAction::Search,
            purpose: Some(p),
            target: Target::Pattern(&pattern),
            time: TimeRange {
                from: Some(now() - Duration::days(200)),
                to: None,
            },
            network_ids: &[],
            request_id: "r",
            now: now(),
        };
        let facts = gather(&regs, &req.facts_query()).unwrap();
        policy.evaluate_data_access(&req, &facts).peek().clone()
    };
    assert_eq!(old(&crime).unwrap().authorisation_id, Some(3));
    let r = old(&purpose("threat_to_life", "F-KIDNAP"));
    assert_eq!(kind(&r), RefusalKind::LookbackNeedsApproval);
}

// --- 5. Training plates need no file number -------------------------------------------------

#[test]
fn a_training_search_needs_no_file_number_and_is_marked_training_in_its_decision() {
    let policy = Policy::default();
    let regs = registers();
    let no_file = Purpose {
        code: "stolen_vehicle".into(),
        file_number: "".into(),
        justification: "Learning how searches and notices work".into(),
    };
    for text in ["TEST01", "TEST??"] {
        let pattern = PlatePattern::parse(text, None, None).unwrap();
        let (g, d) = search_pattern(&policy, &regs, &officer(), &pattern, Some(&no_file));
        let g = g.unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(g.training && d.training, "{text}");
        assert_eq!(d.file_number, None, "a training use rests on no file");
        assert_eq!(d.outcome, DecisionOutcome::Allowed);
    }
    // A file number stated anyway is not recorded as the basis of a training use: file rules
    // never count it.
    let pattern = PlatePattern::parse("TEST01", None, None).unwrap();
    let (_, d) = search_pattern(
        &policy,
        &regs,
        &officer(),
        &pattern,
        Some(&purpose("stolen_vehicle", "F-THEFT")),
    );
    assert!(d.training);
    assert_eq!(d.file_number, None);
    // A refused training use is recognisable too.
    let (r, d) = search_pattern(&policy, &regs, &supervisor(), &pattern, Some(&no_file));
    assert_eq!(kind(&r), RefusalKind::MissingPermission);
    assert!(d.training);
    // The purpose code and justification are still needed.
    let (r, _) = search_pattern(&policy, &regs, &officer(), &pattern, None);
    assert_eq!(kind(&r), RefusalKind::InvalidPurpose);
    let short = Purpose {
        justification: "x".into(),
        ..no_file.clone()
    };
    let (r, _) = search_pattern(&policy, &regs, &officer(), &pattern, Some(&short));
    assert_eq!(kind(&r), RefusalKind::InvalidPurpose);
    // A real plate still needs its file.
    let real = PlatePattern::parse("OTHER1", None, None).unwrap();
    let (r, _) = search_pattern(&policy, &regs, &officer(), &real, Some(&no_file));
    assert_eq!(kind(&r), RefusalKind::InvalidPurpose);
}

// --- 2. Rolling emergency tracking ----------------------------------------------------------

#[test]
fn a_fresh_emergency_request_after_ones_own_emergency_ended_needs_a_supervisor() {
    let policy = Policy::default();
    let mut regs = registers();
    let s = officer();
    let (a, _) = track(&policy, &regs, &s, &Track::emergency("OTHER1"));
    let mut a = a.unwrap();
    assert_eq!(a.status, AuthStatus::Active);
    a.id = 21;
    // The attack: revoke one's own emergency authorisation before its hour is up, and file a
    // fresh one for the same plate: active again at once, with a new deadline, for ever.
    let revoked = review(
        &policy,
        &regs,
        &s,
        ReviewKind::Revoke,
        &a,
        now() + Duration::minutes(50),
    )
    .unwrap();
    assert_eq!(revoked.status, AuthStatus::Revoked);
    regs.authorisations.push(revoked);
    let again = Track::emergency("OTHER1").at(now() + Duration::minutes(55));
    let (b, d) = track(&policy, &regs, &s, &again);
    let b = b.unwrap();
    assert_eq!(b.status, AuthStatus::Pending, "{b:?}");
    assert_eq!(b.starts_at, None);
    assert_eq!(b.approval_deadline, None);
    assert_eq!(d.outcome, DecisionOutcome::PendingApproval);
    let why = b.approval_reasons.join("; ");
    assert!(
        why.contains("#21") && why.contains("revoked") && why.contains("24 hours"),
        "{why}"
    );
    assert!(why.contains("supervisor"), "{why}");
    assert!(d.notes.iter().any(|n| n.contains("#21")), "{:?}", d.notes);
    assert!(!d.notes.iter().any(|n| n.contains("started at once")));
    // A day later the emergency path is open again; another officer's is never affected.
    let (b, _) = track(
        &policy,
        &regs,
        &s,
        &Track::emergency("OTHER1").at(now() + Duration::hours(25)),
    );
    assert_eq!(b.unwrap().status, AuthStatus::Active);
    let (b, _) = track(&policy, &regs, &colleague(), &again);
    assert_eq!(b.unwrap().status, AuthStatus::Active);
    // Nor a plain request for the same plate (it always needs approval anyway), nor an
    // emergency for another plate.
    let (b, _) = track(
        &policy,
        &regs,
        &s,
        &Track::emergency("STOLE1").at(now() + Duration::minutes(55)),
    );
    assert_eq!(b.unwrap().status, AuthStatus::Active);
}

#[test]
fn every_end_of_an_emergency_authorisation_starts_the_wait() {
    let policy = Policy::default();
    let s = officer();
    let cfg = policy.config().clone();
    let start = |regs: &MemoryRegisters| {
        let (a, _) = track(&policy, regs, &s, &Track::emergency("OTHER1"));
        let mut a = a.unwrap();
        a.id = 31;
        a
    };
    // Stopped: not approved within the hour (ended by the sweep).
    let mut regs = registers();
    let mut a = start(&regs);
    let at = now() + Duration::minutes(61);
    let (st, why) = a.due_transition(at, None, &cfg).unwrap();
    a.end(st, why, at);
    regs.authorisations.push(a);
    let (b, _) = track(&policy, &regs, &s, &Track::emergency("OTHER1").at(at));
    let b = b.unwrap();
    assert_eq!(b.status, AuthStatus::Pending);
    assert!(b.approval_reasons.join(" ").contains("stopped"));
    // Due to stop but not yet swept: the same.
    let mut regs = registers();
    regs.authorisations.push(start(&regs));
    let (b, _) = track(&policy, &regs, &s, &Track::emergency("OTHER1").at(at));
    assert_eq!(b.unwrap().status, AuthStatus::Pending);
    // Refused by a supervisor.
    let mut regs = registers();
    let a = start(&regs);
    let refused = review(&policy, &regs, &supervisor(), ReviewKind::Refuse, &a, now()).unwrap();
    regs.authorisations.push(refused);
    let (b, _) = track(
        &policy,
        &regs,
        &s,
        &Track::emergency("OTHER1").at(now() + Duration::minutes(5)),
    );
    assert_eq!(b.unwrap().status, AuthStatus::Pending);
    // Approved, ran its course and expired a little while ago.
    let mut regs = registers();
    let a = start(&regs);
    let mut ok = review(
        &policy,
        &regs,
        &supervisor(),
        ReviewKind::Approve,
        &a,
        now(),
    )
    .unwrap();
    let end = ok.expires_at.unwrap();
    let (st, why) = ok.due_transition(end, None, &cfg).unwrap();
    ok.end(st, why, end);
    regs.authorisations.push(ok);
    let (b, _) = track(
        &policy,
        &regs,
        &s,
        &Track::emergency("OTHER1").at(end + Duration::hours(3)),
    );
    let b = b.unwrap();
    assert_eq!(b.status, AuthStatus::Pending);
    assert!(b.approval_reasons.join(" ").contains("expired"));
}

#[test]
fn the_emergency_wait_is_configurable() {
    let policy = Policy::new(PolicyConfig {
        emergency_cooldown_hours: 2,
        ..Default::default()
    })
    .unwrap();
    let mut regs = registers();
    let s = officer();
    let (a, _) = track(&policy, &regs, &s, &Track::emergency("OTHER1"));
    let mut a = a.unwrap();
    a.id = 41;
    let a = review(&policy, &regs, &s, ReviewKind::Revoke, &a, now()).unwrap();
    regs.authorisations.push(a);
    let later = |h| Track::emergency("OTHER1").at(now() + Duration::hours(h));
    assert_eq!(
        track(&policy, &regs, &s, &later(1)).0.unwrap().status,
        AuthStatus::Pending
    );
    assert_eq!(
        track(&policy, &regs, &s, &later(3)).0.unwrap().status,
        AuthStatus::Active
    );
    assert!(PolicyConfig::from_json(r#"{"emergency_cooldown_hours": 0}"#).is_err());
}

// --- 4. One admin can manufacture a tracking basis ------------------------------------------

fn loaded(regs: &mut MemoryRegisters, row: RowRef, by: &str, days_ago: i64) {
    regs.loads.insert(
        row,
        RowLoad {
            import_id: regs.loads.len() as i64 + 1,
            at: now() - Duration::days(days_ago),
            by: ChangedBy::parse(by),
        },
    );
}

/// The red team's set-up: admin S-ADMIN creates S-NEW with searcher and tracker, loads a
/// staff-register row for them, and a stolen report of STOLE9 recorded by someone else
/// (complainant = the registered owner). Everything else comes from the register feeds.
fn manufactured_basis(roles_days_ago: i64) -> (MemoryRegisters, Subject) {
    let mut regs = registers();
    let new = subject(77, "S-NEW", &[Role::Searcher, Role::Tracker]);
    regs.role_changes.insert(
        77,
        vec![RoleChange {
            roles: new.roles.clone(),
            set_by: Some(ChangedBy::Staff("S-ADMIN".into())),
            at: now() - Duration::days(roles_days_ago),
        }],
    );
    regs.add_staff("S-NEW", "P-NEW", "A-NEW", Some("Team Rotorua"));
    loaded(&mut regs, RowRef::Staff("S-NEW".into()), "staff:S-ADMIN", 1);
    regs.add_vehicle("STOLE9", "P5", "A5");
    loaded(
        &mut regs,
        RowRef::Vehicle("STOLE9".into()),
        "feed:nzta-mvr",
        30,
    );
    let id = regs.add_stolen(stolen("STOLE9", "F-THEFT", "S6", "P5"));
    loaded(&mut regs, RowRef::Stolen(id), "staff:S-ADMIN", 1);
    loaded(
        &mut regs,
        RowRef::Incident("F-THEFT".into()),
        "feed:incidents",
        10,
    );
    (regs, new)
}

#[test]
fn a_stolen_report_loaded_by_hand_is_never_the_basis_of_tracking_without_a_second_person() {
    let policy = Policy::default();
    let (regs, new) = manufactured_basis(1);
    // The attack: the new account tracks at once, with no one else involved.
    let (a, d) = track(&policy, &regs, &new, &Track::stolen("STOLE9"));
    let a = a.unwrap();
    assert_eq!(a.status, AuthStatus::Pending, "{a:?}");
    assert_eq!(d.outcome, DecisionOutcome::PendingApproval);
    let why = a.approval_reasons.join("; ");
    assert!(
        why.contains("the stolen report #2 (by S-ADMIN) was loaded by hand"),
        "{why}"
    );
    assert!(why.contains("your roles were set by S-ADMIN"), "{why}");
    assert!(why.contains("your staff record"), "{why}");
    assert!(why.contains("supervisor"), "{why}");
    assert!(d.notes.iter().any(|n| n.contains("loaded by hand")));

    // A long-standing officer tracking on the hand-loaded report: still a second person.
    let (a, _) = track(&policy, &regs, &officer(), &Track::stolen("STOLE9"));
    let a = a.unwrap();
    assert_eq!(a.status, AuthStatus::Pending);
    assert_eq!(a.approval_reasons.len(), 1, "{:?}", a.approval_reasons);
    assert!(a.approval_reasons[0].contains("loaded by hand"));

    // The same report from the stolen-vehicle feed: the officer starts at once, as before.
    let mut fed = regs.clone();
    loaded(&mut fed, RowRef::Stolen(2), "feed:nia", 1);
    let (a, _) = track(&policy, &fed, &officer(), &Track::stolen("STOLE9"));
    assert_eq!(a.unwrap().status, AuthStatus::Active);
    // Loaded at the command line by an operator (not an account): as today.
    loaded(&mut fed, RowRef::Stolen(2), "cli:ops", 1);
    let (a, _) = track(&policy, &fed, &officer(), &Track::stolen("STOLE9"));
    assert_eq!(a.unwrap().status, AuthStatus::Active);
    // A vehicle record or incident changed by hand is a hand-loaded basis too.
    let mut hand = fed.clone();
    loaded(
        &mut hand,
        RowRef::Vehicle("STOLE9".into()),
        "staff:S-CLERK",
        1,
    );
    let (a, _) = track(&policy, &hand, &officer(), &Track::stolen("STOLE9"));
    let a = a.unwrap();
    assert_eq!(a.status, AuthStatus::Pending);
    assert!(a.approval_reasons[0].contains("motor vehicle record of STOLE9 (by S-CLERK)"));
    let mut hand = fed.clone();
    loaded(
        &mut hand,
        RowRef::Incident("F-THREAT".into()),
        "staff:S-CLERK",
        1,
    );
    let (a, _) = track(&policy, &hand, &officer(), &Track::emergency("OTHER1"));
    let a = a.unwrap();
    assert_eq!(a.status, AuthStatus::Pending, "not even the emergency path");
    assert_eq!(a.approval_deadline, None);
}

#[test]
fn a_fresh_account_cannot_act_on_rows_loaded_by_whoever_gave_it_its_roles() {
    let policy = Policy::default();
    let (mut regs, new) = manufactured_basis(1);
    // Even with the stolen report from the feed, the new account's own staff record (which
    // decides its own-vehicle block and its team) came from the admin who made the account.
    loaded(&mut regs, RowRef::Stolen(2), "feed:nia", 1);
    let (a, _) = track(&policy, &regs, &new, &Track::stolen("STOLE9"));
    let a = a.unwrap();
    assert_eq!(a.status, AuthStatus::Pending);
    assert_eq!(a.approval_reasons.len(), 1, "{:?}", a.approval_reasons);
    let why = &a.approval_reasons[0];
    assert!(
        why.contains("your roles were set by S-ADMIN less than 14 days ago")
            && why.contains("S-ADMIN also loaded your staff record")
            && why.contains("supervisor"),
        "{why}"
    );
    // Fifteen days on, or staff record loaded by someone else: the account stands on its own.
    let (old, new_but_old) = manufactured_basis(15);
    let mut old = old;
    loaded(&mut old, RowRef::Stolen(2), "feed:nia", 1);
    let (a, _) = track(&policy, &old, &new_but_old, &Track::stolen("STOLE9"));
    assert_eq!(a.unwrap().status, AuthStatus::Active);
    let mut other = regs.clone();
    loaded(&mut other, RowRef::Staff("S-NEW".into()), "feed:hr", 1);
    let (a, _) = track(&policy, &other, &new, &Track::stolen("STOLE9"));
    assert_eq!(a.unwrap().status, AuthStatus::Active);
    // Roles set by an unknown hand or at the command line: no one to compare with.
    let mut unknown = regs.clone();
    unknown.role_changes.get_mut(&77).unwrap()[0].set_by = None;
    let (a, _) = track(&policy, &unknown, &new, &Track::stolen("STOLE9"));
    assert_eq!(a.unwrap().status, AuthStatus::Active);
    // Configurable.
    let strict = Policy::new(PolicyConfig {
        recent_role_grant_days: 30,
        ..Default::default()
    })
    .unwrap();
    let (a, _) = track(&strict, &old, &new_but_old, &Track::stolen("STOLE9"));
    assert_eq!(a.unwrap().status, AuthStatus::Pending);
}

// --- The networks' own controls --------------------------------------------------------------

/// Two networks sharing alike; network 2's owner sets `controls`.
fn two_networks(controls: NetworkControls) -> (MemoryRegisters, Vec<NetworkControls>) {
    let mut r = registers();
    r.agreements.push(NetworkAgreement {
        network_id: 2,
        search: vec!["*".into()],
        tracking: vec!["*".into()],
        hot_list_alerts: false,
    });
    (
        r,
        vec![NetworkControls {
            network_id: 2,
            ..controls
        }],
    )
}

fn search_with(
    policy: &Policy,
    regs: &MemoryRegisters,
    controls: &[NetworkControls],
    p: &Purpose,
    time: TimeRange,
    network_ids: &[i64],
) -> (Result<DataGrant>, Decision) {
    let s = officer();
    let pattern = PlatePattern::parse("OTHER1", None, None).unwrap();
    let req = DataRequest {
        subject: &s,
        action: DataAction::Search,
        purpose: Some(p),
        target: Target::Pattern(&pattern),
        time,
        network_ids,
        request_id: "r",
        now: now(),
    };
    let mut facts = gather(regs, &req.facts_query()).unwrap();
    facts.controls = controls.to_vec();
    let recorder = MemoryRecorder::default();
    let out = enforce(&recorder, policy.evaluate_data_access(&req, &facts)).map(|(g, _)| g);
    (out, recorder.all().pop().unwrap())
}

#[test]
fn a_networks_own_controls_withhold_it_from_searches_and_tracking_and_the_decision_says_why() {
    let policy = Policy::default();
    let theft = purpose("stolen_vehicle", "F-THEFT");

    // Suspended: the search goes to network 1 alone, and the notice and decision say why.
    let (regs, controls) = two_networks(NetworkControls {
        suspended: true,
        ..Default::default()
    });
    let (grant, d) = search_with(&policy, &regs, &controls, &theft, TimeRange::default(), &[]);
    let grant = grant.unwrap();
    assert_eq!(grant.networks, vec![1]);
    assert!(grant
        .notices
        .iter()
        .any(|n| n.code == "network_suspended" && n.message.contains("network 2")));
    assert_eq!(d.networks, vec![1]);
    assert!(
        d.notes.iter().any(|n| n.starts_with("network_suspended")),
        "{:?}",
        d.notes
    );
    // Asked for network 2 alone: refused with the owner's reason, never widened to others.
    let (refused, _) = search_with(
        &policy,
        &regs,
        &controls,
        &theft,
        TimeRange::default(),
        &[2],
    );
    assert!(
        message(&refused).contains("suspended sharing"),
        "{}",
        message(&refused)
    );

    // Not shared for the purpose: the same, under that purpose only.
    let (regs, controls) = two_networks(NetworkControls {
        withheld_purposes: vec!["stolen_vehicle".into()],
        ..Default::default()
    });
    let (grant, _) = search_with(&policy, &regs, &controls, &theft, TimeRange::default(), &[]);
    assert_eq!(grant.unwrap().networks, vec![1]);
    let homicide = purpose("serious_crime", "F-HOMICIDE");
    let (grant, _) = search_with(
        &policy,
        &regs,
        &controls,
        &homicide,
        TimeRange::default(),
        &[],
    );
    assert_eq!(grant.unwrap().networks, vec![1, 2]);

    // A maximum look-back: the network is searched from its floor only.
    let (regs, controls) = two_networks(NetworkControls {
        max_lookback_days: Some(7),
        ..Default::default()
    });
    let (grant, _) = search_with(&policy, &regs, &controls, &theft, TimeRange::default(), &[]);
    let grant = grant.unwrap();
    assert_eq!(grant.networks, vec![1, 2]);
    assert_eq!(grant.network_floors, vec![(2, now() - Duration::days(7))]);
    // A search that ends before the floor does not reach it at all.
    let old = TimeRange {
        from: Some(now() - Duration::days(20)),
        to: Some(now() - Duration::days(10)),
    };
    let (grant, _) = search_with(&policy, &regs, &controls, &theft, old, &[]);
    let grant = grant.unwrap();
    assert_eq!(grant.networks, vec![1]);
    assert!(grant.network_floors.is_empty());

    // Tracking: a watch under a withheld purpose does not cover the network (the decision says
    // so); when no network is left, the request is refused with the owners' reasons.
    let (regs, controls) = two_networks(NetworkControls {
        withheld_purposes: vec!["stolen_vehicle".into()],
        ..Default::default()
    });
    let req = TrackingRequest {
        subject: &officer(),
        plate: "STOLE1",
        purpose: Some(&theft),
        emergency: false,
        fuzzy: false,
        duration_minutes: None,
        renews: None,
        request_id: "t",
        now: now(),
    };
    let mut facts = gather(&regs, &req.facts_query()).unwrap();
    facts.controls = controls.clone();
    let eval = policy.evaluate_tracking_request(&req, &facts);
    assert_eq!(eval.decision.networks, vec![1]);
    assert!(eval
        .decision
        .notes
        .iter()
        .any(|n| n.starts_with("network_purpose_withheld")));
    facts.controls.push(NetworkControls {
        network_id: 1,
        suspended: true,
        ..Default::default()
    });
    let refused = policy.evaluate_tracking_request(&req, &facts);
    let e = refused.peek().as_ref().unwrap_err().to_string();
    assert!(e.contains("owners decide"), "{e}");
}
