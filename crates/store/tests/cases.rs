//! Integrity findings, review cases and runs on every backend (conformance suite: SQLite always,
//! PostgreSQL when `ANPR_TEST_POSTGRES_URL` is set).

mod common;

use anpr_domain::finding::{Finding, Rule, Severity};
use anpr_domain::review::{apply, Case, CaseOutcome, CaseQueue, CaseStatus, Step};
use anpr_domain::Role;
use anpr_policy::registers::StaffRecord;
use anpr_store::{CaseFilter, ImportSource, IntegrityRun, NewUser, RegisterBatch, StoreError};
use chrono::{DateTime, Duration, TimeZone, Utc};

use common::TestDb;

conformance!(
    findings_open_a_case_once_and_later_runs_add_evidence,
    concurrent_saves_of_one_finding_open_one_case,
    case_updates_are_compare_and_set_and_keep_every_field,
    cases_filter_and_page_newest_first,
    the_last_integrity_run_is_the_latest_recorded,
    registers_are_read_on_the_calling_thread,
);

/// Whole milliseconds, as both backends store times.
fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, minute, 0).unwrap()
}

fn finding(rule: Rule, staff: &str, key: &str, evidence: Vec<u64>) -> Finding {
    Finding {
        rule,
        severity: Severity::Medium,
        staff_id: staff.into(),
        key: key.into(),
        uses: evidence.len() as u64,
        evidence,
        explanation: "because".into(),
        first_at: at(0),
        last_at: at(0),
    }
}

fn filter(f: impl FnOnce(&mut CaseFilter)) -> CaseFilter {
    let mut out = CaseFilter {
        limit: 100,
        ..Default::default()
    };
    f(&mut out);
    out
}

async fn user(db: &TestDb, staff_id: &str, district: &str) {
    db.store
        .create_user(NewUser {
            staff_id: staff_id.into(),
            name: staff_id.into(),
            badge_number: None,
            district: district.into(),
            roles: vec![Role::Searcher],
            password_hash: "x".into(),
            network_id: None,
        })
        .await
        .unwrap();
}

async fn findings_open_a_case_once_and_later_runs_add_evidence(db: TestDb) {
    let cases = db.cases.clone();
    user(&db, "S1", "Waikato").await;
    let r = cases
        .save_findings(
            vec![
                finding(Rule::OwnVehicle, "S1", "ABC123", vec![1]),
                finding(Rule::RoutineSample, "S1", "entry:9", vec![9]),
                // Nobody of that id: the case has no district.
                finding(Rule::OwnVehicle, "S9", "XYZ9", vec![2]),
            ],
            at(1),
        )
        .await
        .unwrap();
    assert_eq!((r.opened, r.updated), (3, 0));

    let mut grown = finding(Rule::OwnVehicle, "S1", "ABC123", vec![1, 5]);
    grown.severity = Severity::High;
    grown.uses = 7;
    grown.explanation = "seen again".into();
    grown.last_at = at(4);
    let r = cases.save_findings(vec![grown], at(5)).await.unwrap();
    assert_eq!((r.opened, r.updated), (0, 1));
    // A later run seeing only new evidence, at a lower severity, adds to what is stored and
    // lowers nothing.
    let mut later = finding(Rule::OwnVehicle, "S1", "ABC123", vec![8, 1]);
    later.first_at = at(0) - Duration::minutes(30);
    later.explanation = "seen a third time".into();
    let r = cases.save_findings(vec![later], at(6)).await.unwrap();
    assert_eq!((r.opened, r.updated), (0, 1));

    let integrity = cases
        .cases(filter(|f| f.queue = Some(CaseQueue::Integrity)))
        .await
        .unwrap();
    assert_eq!(integrity.len(), 2);
    let c = integrity
        .iter()
        .find(|c| c.finding.finding.key == "ABC123")
        .unwrap();
    assert_eq!(c.status, CaseStatus::Open);
    assert_eq!(c.staff_id, "S1");
    assert_eq!(c.district.as_deref(), Some("Waikato"));
    assert_eq!((c.opened_at, c.updated_at), (at(1), at(1)));
    let f = &c.finding.finding;
    assert_eq!(f.evidence, vec![1, 5, 8]);
    assert_eq!(c.severity(), Severity::High);
    assert_eq!(f.uses, 7);
    assert_eq!(f.explanation, "seen a third time");
    assert_eq!(
        (f.first_at, f.last_at),
        (at(0) - Duration::minutes(30), at(4))
    );
    let stranger = integrity.iter().find(|c| c.staff_id == "S9").unwrap();
    assert_eq!(stranger.district, None);
    assert_eq!(cases.case(c.id).await.unwrap().as_ref(), Some(c));
    assert_eq!(cases.case(c.id + 1000).await.unwrap(), None);

    let samples = cases
        .cases(filter(|f| f.queue = Some(CaseQueue::Supervisor)))
        .await
        .unwrap();
    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0].finding.finding.rule, Rule::RoutineSample);
}

async fn concurrent_saves_of_one_finding_open_one_case(db: TestDb) {
    let keys: Vec<String> = (0..20).map(|i| format!("K{i}")).collect();
    let batch = |reverse: bool, evidence: u64| {
        let mut b: Vec<Finding> = keys
            .iter()
            .map(|k| finding(Rule::OwnVehicle, "S1", k, vec![evidence]))
            .collect();
        if reverse {
            b.reverse();
        }
        b
    };
    let (a, b) = tokio::join!(
        db.cases.save_findings(batch(false, 1), at(1)),
        db.cases.save_findings(batch(true, 2), at(1)),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.opened + b.opened, a.updated + b.updated), (20, 20));
    let all = db.cases.cases(filter(|_| {})).await.unwrap();
    assert_eq!(all.len(), 20);
    assert!(all.iter().all(|c| c.finding.finding.evidence == vec![1, 2]));
}

async fn case_updates_are_compare_and_set_and_keep_every_field(db: TestDb) {
    let cases = db.cases.clone();
    cases
        .save_findings(vec![finding(Rule::Polling, "S1", "P", vec![3])], at(1))
        .await
        .unwrap();
    let c = cases.cases(filter(|_| {})).await.unwrap().remove(0);

    let assigned = apply(&c, &Step::Assign { to: "I1".into() }, "I1", at(2)).unwrap();
    cases
        .update_case(assigned.clone(), CaseStatus::Open)
        .await
        .unwrap();
    // A second reviewer acting on the stale state loses, and changes nothing.
    let rival = apply(&c, &Step::Assign { to: "I2".into() }, "I2", at(3)).unwrap();
    let err = cases
        .update_case(rival, CaseStatus::Open)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(cases.case(c.id).await.unwrap().unwrap(), assigned);
    // So does an update of a case that does not exist.
    let mut ghost = assigned.clone();
    ghost.id += 1000;
    let err = cases
        .update_case(ghost, CaseStatus::Assigned)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    let asked = apply(
        &assigned,
        &Step::RequestExplanation {
            question: "why?".into(),
        },
        "I1",
        at(4),
    )
    .unwrap();
    let explained = apply(
        &asked,
        &Step::Explain {
            text: "my own car".into(),
        },
        "S1",
        at(5),
    )
    .unwrap();
    let closed = apply(
        &explained,
        &Step::Close {
            outcome: CaseOutcome::Training,
            note: "reminded".into(),
        },
        "I1",
        at(6),
    )
    .unwrap();
    for (case, expected) in [
        (&asked, CaseStatus::Assigned),
        (&explained, CaseStatus::ExplanationRequested),
        (&closed, CaseStatus::Explained),
    ] {
        cases.update_case(case.clone(), expected).await.unwrap();
    }
    let back: Case = cases.case(c.id).await.unwrap().unwrap();
    assert_eq!(back, closed);
    assert_eq!(back.status, CaseStatus::Closed);
    assert_eq!(back.outcome, Some(CaseOutcome::Training));
    assert_eq!(back.explained_at, Some(at(5)));
    assert_eq!(back.closed_at, Some(at(6)));
    assert_eq!(back.closed_by.as_deref(), Some("I1"));
}

async fn cases_filter_and_page_newest_first(db: TestDb) {
    let cases = db.cases.clone();
    user(&db, "S1", "Waikato").await;
    user(&db, "S2", "Otago").await;
    let mut batch = Vec::new();
    for i in 0..5 {
        batch.push(finding(Rule::OwnVehicle, "S1", &format!("A{i}"), vec![i]));
        batch.push(finding(
            Rule::UnusualVolume,
            "S2",
            &format!("B{i}"),
            vec![i],
        ));
    }
    cases.save_findings(batch, at(1)).await.unwrap();
    let all = cases.cases(filter(|_| {})).await.unwrap();
    assert_eq!(all.len(), 10);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");

    // Move two of S1's cases on: one assigned to I1, one closed.
    let s1: Vec<&Case> = all.iter().filter(|c| c.staff_id == "S1").collect();
    let assigned = apply(s1[0], &Step::Assign { to: "I1".into() }, "I1", at(2)).unwrap();
    cases
        .update_case(assigned.clone(), CaseStatus::Open)
        .await
        .unwrap();
    let closed = apply(
        s1[1],
        &Step::Close {
            outcome: CaseOutcome::Explained,
            note: "fine".into(),
        },
        "I2",
        at(2),
    )
    .unwrap();
    cases
        .update_case(closed.clone(), CaseStatus::Open)
        .await
        .unwrap();

    let ids = |v: Vec<Case>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let by_staff = ids(cases
        .cases(filter(|f| f.staff_id = Some("S2".into())))
        .await
        .unwrap());
    assert_eq!(by_staff.len(), 5);
    let by_district = ids(cases
        .cases(filter(|f| f.district = Some("Otago".into())))
        .await
        .unwrap());
    assert_eq!(by_district, by_staff);
    assert!(cases
        .cases(filter(|f| f.district = Some("otago".into())))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        ids(cases
            .cases(filter(|f| f.assigned_to = Some("I1".into())))
            .await
            .unwrap()),
        vec![assigned.id]
    );
    assert_eq!(
        ids(cases
            .cases(filter(|f| f.statuses = vec![CaseStatus::Closed]))
            .await
            .unwrap()),
        vec![closed.id]
    );
    let moved = ids(cases
        .cases(filter(|f| {
            f.statuses = vec![CaseStatus::Assigned, CaseStatus::Closed];
            f.staff_id = Some("S1".into());
            f.queue = Some(CaseQueue::Integrity);
        }))
        .await
        .unwrap());
    assert_eq!(moved.len(), 2);
    assert!(moved.contains(&assigned.id) && moved.contains(&closed.id));
    assert_eq!(
        cases
            .cases(filter(|f| f.statuses = vec![CaseStatus::Open]))
            .await
            .unwrap()
            .len(),
        8
    );
    assert!(cases
        .cases(filter(|f| {
            f.staff_id = Some("S2".into());
            f.assigned_to = Some("I1".into());
        }))
        .await
        .unwrap()
        .is_empty());

    // Pages of three, each after the last id of the one before.
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = ids(cases
            .cases(filter(|f| {
                f.limit = 3;
                f.before_id = before;
            }))
            .await
            .unwrap());
        assert!(page.len() <= 3);
        let Some(&last) = page.last() else { break };
        paged.extend(page);
        before = Some(last);
    }
    assert_eq!(paged, ids(all));
    // A limit of 0 still returns one case.
    assert_eq!(cases.cases(filter(|f| f.limit = 0)).await.unwrap().len(), 1);
}

async fn the_last_integrity_run_is_the_latest_recorded(db: TestDb) {
    let cases = db.cases.clone();
    assert!(cases.last_integrity_run().await.unwrap().is_none());
    let first = IntegrityRun {
        at: at(1),
        from_index: 0,
        to_index: Some(41),
        uses: 40,
        opened: 2,
        updated: 1,
    };
    cases.record_integrity_run(first.clone()).await.unwrap();
    assert_eq!(cases.last_integrity_run().await.unwrap(), Some(first));
    // Recorded later, even if its time is earlier (a clock stepped back): it is the last.
    let empty = IntegrityRun {
        at: at(0),
        from_index: 42,
        to_index: None,
        uses: 0,
        opened: 0,
        updated: 0,
    };
    cases.record_integrity_run(empty.clone()).await.unwrap();
    assert_eq!(cases.last_integrity_run().await.unwrap(), Some(empty));
}

async fn registers_are_read_on_the_calling_thread(db: TestDb) {
    let staff = StaffRecord {
        staff_id: "S1".into(),
        person_id: "P1".into(),
        home_address_id: "A1".into(),
        team: Some("T".into()),
    };
    db.store
        .import_register(
            RegisterBatch::Staff(vec![staff.clone()]),
            ImportSource {
                source: "hr".into(),
                imported_by: "test".into(),
            },
        )
        .await
        .unwrap();
    let cases = db.cases.clone();
    // As an integrity run calls it: from a blocking thread.
    let (s1, nobody) = tokio::task::spawn_blocking(move || {
        let mut out = None;
        cases
            .with_registers(&mut |view| {
                out = Some((view.staff("S1").unwrap(), view.staff("S9").unwrap()));
            })
            .unwrap();
        out.unwrap()
    })
    .await
    .unwrap();
    assert_eq!(s1, Some(staff));
    assert_eq!(nobody, None);
}
