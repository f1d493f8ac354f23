//! Usage counts and plate queries on every backend (conformance suite: SQLite always,
//! PostgreSQL when `ANPR_TEST_POSTGRES_URL` is set), against hand-counted fixtures: decisions
//! recorded through the real `DecisionRecorder`, alerts and findings inserted as rows.

mod common;

use anpr_domain::Actor;
use anpr_policy::registers::IncidentRecord;
use anpr_policy::{Decision, DecisionAction, DecisionOutcome};
use anpr_reports::suppress::Cell;
use anpr_reports::transparency::{self, TransparencyInput};
use anpr_reports::usage::{assemble, to_csv};
use anpr_reports::{Grouping, Month, UsageCounts, UsageReport};
use anpr_store::{ImportSource, RegisterBatch};
use chrono::{DateTime, Utc};
use common::TestDb;

conformance!(
    usage_by_month_matches_the_hand_count,
    usage_by_district_and_purpose_matches_the_hand_count,
    usage_by_network_counts_a_search_once_per_network_it_reached,
    usage_in_districts_counts_only_their_use,
    allowed_decisions_are_counted_per_user_action_and_time,
    findings_are_counted_when_their_review_cases_open_and_close,
    months_are_calendar_months_in_utc_to_the_millisecond,
    transparency_trend_covers_24_months_with_small_months_suppressed,
    plate_queries_find_every_query_that_touched_the_plate,
);

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn staff(user_id: i64, district: &str) -> Actor {
    Actor::Staff {
        user_id,
        staff_id: format!("S{user_id}"),
        district: district.into(),
        roles: vec![],
    }
}

struct D {
    actor: Actor,
    action: DecisionAction,
    outcome: DecisionOutcome,
    at: &'static str,
    purpose: Option<&'static str>,
    networks: Vec<i64>,
    refusal: Option<&'static str>,
    target: Option<&'static str>,
    file: Option<&'static str>,
    training: bool,
}

impl D {
    fn new(actor: &Actor, action: DecisionAction, outcome: DecisionOutcome, at: &'static str) -> D {
        D {
            actor: actor.clone(),
            action,
            outcome,
            at,
            purpose: None,
            networks: vec![],
            refusal: None,
            target: None,
            file: None,
            training: false,
        }
    }
    fn purpose(mut self, p: &'static str) -> D {
        self.purpose = Some(p);
        self
    }
    fn networks(mut self, n: &[i64]) -> D {
        self.networks = n.to_vec();
        self
    }
    fn refused(mut self, code: &'static str) -> D {
        self.refusal = Some(code);
        self
    }
    fn target(mut self, target: &'static str, file: Option<&'static str>) -> D {
        self.target = Some(target);
        self.file = file;
        self
    }
    fn training(mut self) -> D {
        self.training = true;
        self
    }
    async fn record(self, db: &TestDb) {
        let mut d = Decision::new(&self.actor, self.action, "req", t(self.at));
        d.outcome = self.outcome;
        d.purpose_code = self.purpose.map(str::to_string);
        d.networks = self.networks;
        d.refusal_code = self.refusal.map(str::to_string);
        d.target = self.target.map(str::to_string);
        d.file_number = self.file.map(str::to_string);
        d.training = self.training;
        db.record(d).await;
    }
}

/// Two networks; Auckland searches and views in October, Canterbury searches in September and
/// tracking in October, two alerts, and records that must not count (training, outside the
/// range, the platform's own decisions).
async fn fixture(db: &TestDb) {
    use DecisionAction as A;
    use DecisionOutcome as O;
    let store = &db.store;
    assert_eq!(store.create_network("Retail", 30).await.unwrap().id, 1);
    assert_eq!(store.create_network("Fuel", 30).await.unwrap().id, 2);
    let akl = staff(1, "Auckland City");
    let can = staff(2, "Canterbury");
    let sup = staff(3, "Canterbury");
    let system = Actor::System {
        component: "authorisations".into(),
    };
    for day in ["01", "02", "03"] {
        let at: &'static str = Box::leak(format!("2026-10-{day}T10:00:00Z").into_boxed_str());
        D::new(&akl, A::Search, O::Allowed, at)
            .purpose("burglary")
            .networks(&[1, 2])
            .record(db)
            .await;
    }
    D::new(
        &akl,
        A::Search,
        O::AllowedWithLimits,
        "2026-10-04T10:00:00Z",
    )
    .purpose("burglary")
    .networks(&[1])
    .record(db)
    .await;
    D::new(&akl, A::Search, O::Refused, "2026-10-05T10:00:00Z")
        .purpose("burglary")
        .refused("own_vehicle")
        .record(db)
        .await;
    D::new(&akl, A::ViewImage, O::Allowed, "2026-10-06T10:00:00Z")
        .purpose("burglary")
        .networks(&[2])
        .record(db)
        .await;
    D::new(&akl, A::ViewRead, O::Allowed, "2026-10-06T10:01:00Z")
        .purpose("burglary")
        .networks(&[2])
        .record(db)
        .await;
    D::new(&akl, A::Search, O::Allowed, "2026-10-07T10:00:00Z")
        .purpose("burglary")
        .networks(&[1])
        .training()
        .record(db)
        .await;
    for at in ["2026-09-10T10:00:00Z", "2026-09-30T23:59:59Z"] {
        D::new(&can, A::Search, O::Allowed, at)
            .purpose("stolen_vehicle")
            .networks(&[1])
            .record(db)
            .await;
    }
    D::new(
        &can,
        A::TrackingRequest,
        O::PendingApproval,
        "2026-10-08T10:00:00Z",
    )
    .purpose("stolen_vehicle")
    .networks(&[1])
    .record(db)
    .await;
    D::new(&can, A::TrackingRequest, O::Refused, "2026-10-09T10:00:00Z")
        .purpose("stolen_vehicle")
        .refused("no_tracking_basis")
        .record(db)
        .await;
    D::new(&sup, A::TrackingApprove, O::Allowed, "2026-10-08T11:00:00Z")
        .record(db)
        .await;
    D::new(&sup, A::TrackingRefuse, O::Allowed, "2026-10-09T11:00:00Z")
        .record(db)
        .await;
    D::new(&system, A::TrackingEnd, O::Allowed, "2026-10-10T11:00:00Z")
        .record(db)
        .await;
    // Outside [2026-09-01, 2026-11-01).
    D::new(&akl, A::Search, O::Allowed, "2026-11-01T00:00:00Z")
        .networks(&[1])
        .record(db)
        .await;
    D::new(&akl, A::Search, O::Allowed, "2026-08-31T23:59:59Z")
        .networks(&[1])
        .record(db)
        .await;

    let ms = |s: &str| t(s).timestamp_millis();
    db.execute_batch(&format!(
            "INSERT INTO authorisations (id, kind, plate, requester_user_id, requester_staff_id,
               district, purpose_code, file_number, justification, basis, approval_reasons,
               status, requested_at, duration_minutes)
             VALUES (7, 'tracking', 'STO123', 2, 'S2', 'Canterbury', 'stolen_vehicle', 'F1',
               'stolen car seen', 'stolen_report', '[]', 'active', {r}, 60);
             INSERT INTO alerts (authorisation_id, requester_user_id, district, plate, read_id,
               read_plate, captured_at, camera_id, site_id, site_name, network_id, lat, lon,
               has_overview, has_plate, created_at)
             VALUES (7, 2, 'Canterbury', 'STO123', 1, 'STO123', {a}, 1, 1, 'x', 1, 0, 0, FALSE, FALSE, {a}),
                    (7, 2, 'Canterbury', 'STO123', 2, 'STO123', {b}, 1, 1, 'x', 1, 0, 0, FALSE, FALSE, {b}),
                    (7, 2, 'Canterbury', 'STO123', 3, 'STO123', {c}, 1, 1, 'x', 1, 0, 0, FALSE, FALSE, {c});",
            r = ms("2026-10-08T10:00:00Z"),
            a = ms("2026-10-08T12:00:00Z"),
            b = ms("2026-10-09T12:00:00Z"),
            c = ms("2026-11-02T12:00:00Z"),
        ))
        .await;
}

async fn report(db: &TestDb, by: Grouping) -> UsageReport {
    let q = anpr_reports::usage::parse_query(Some("2026-09"), Some("2026-10"), Some(by.as_str()))
        .unwrap();
    let counted = db.reports.usage_counts(q).await.unwrap();
    assemble(&q, counted.rows, counted.findings_recorded)
}

fn counts(f: impl Fn(&mut UsageCounts)) -> UsageCounts {
    let mut c = UsageCounts::default();
    f(&mut c);
    c
}

fn row<'r>(r: &'r UsageReport, period: &str, group: Option<&str>) -> &'r UsageCounts {
    &r.rows
        .iter()
        .find(|x| x.period == period && x.group.as_deref() == group)
        .unwrap_or_else(|| panic!("no row {period} {group:?} in {:#?}", r.rows))
        .counts
}

async fn usage_by_month_matches_the_hand_count(db: TestDb) {
    fixture(&db).await;
    let r = report(&db, Grouping::Month).await;
    assert_eq!(r.rows.len(), 2, "{:#?}", r.rows);
    assert_eq!(*row(&r, "2026-09", None), counts(|c| c.searches = 2));
    assert_eq!(
        *row(&r, "2026-10", None),
        counts(|c| {
            c.searches = 4;
            c.read_views = 1;
            c.image_views = 1;
            c.tracking_requests = 2;
            c.tracking_approvals = 1;
            c.tracking_refusals = 2;
            c.alerts = 2;
            c.denied_attempts = 2;
            c.own_vehicle_blocks = 1;
        })
    );
    assert_eq!(r.totals.searches, 6);
    assert!(!r.notes.iter().any(|n| n.contains("every network")));
}

async fn usage_by_district_and_purpose_matches_the_hand_count(db: TestDb) {
    fixture(&db).await;
    let r = report(&db, Grouping::District).await;
    assert_eq!(r.rows.len(), 3, "{:#?}", r.rows);
    assert_eq!(
        *row(&r, "2026-09", Some("Canterbury")),
        counts(|c| c.searches = 2)
    );
    assert_eq!(
        *row(&r, "2026-10", Some("Auckland City")),
        counts(|c| {
            c.searches = 4;
            c.read_views = 1;
            c.image_views = 1;
            c.denied_attempts = 1;
            c.own_vehicle_blocks = 1;
        })
    );
    assert_eq!(
        *row(&r, "2026-10", Some("Canterbury")),
        counts(|c| {
            c.tracking_requests = 2;
            c.tracking_approvals = 1;
            c.tracking_refusals = 2;
            c.alerts = 2;
            c.denied_attempts = 1;
        })
    );

    let r = report(&db, Grouping::Purpose).await;
    assert_eq!(row(&r, "2026-10", Some("burglary")).searches, 4);
    assert_eq!(
        *row(&r, "2026-10", Some("stolen_vehicle")),
        counts(|c| {
            c.tracking_requests = 2;
            c.tracking_refusals = 1;
            c.alerts = 2;
            c.denied_attempts = 1;
        })
    );
    // Supervisors' reviews carry no purpose of their own.
    assert_eq!(
        *row(&r, "2026-10", Some("(none)")),
        counts(|c| {
            c.tracking_approvals = 1;
            c.tracking_refusals = 1;
        })
    );
}

async fn usage_by_network_counts_a_search_once_per_network_it_reached(db: TestDb) {
    fixture(&db).await;
    let r = report(&db, Grouping::Network).await;
    assert_eq!(
        *row(&r, "2026-10", Some("Retail")),
        counts(|c| {
            c.searches = 4;
            c.tracking_requests = 1;
            c.alerts = 2;
        })
    );
    assert_eq!(
        *row(&r, "2026-10", Some("Fuel")),
        counts(|c| {
            c.searches = 3;
            c.read_views = 1;
            c.image_views = 1;
        })
    );
    assert_eq!(row(&r, "2026-10", Some("(none)")).own_vehicle_blocks, 1);
    assert_eq!(row(&r, "2026-09", Some("Retail")).searches, 2);
    assert!(r.notes.iter().any(|n| n.contains("every network")));

    let csv = to_csv(&r);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("period,network,searches,read_views,image_views,"));
    assert_eq!(lines.len(), 1 + r.rows.len());
    assert!(
        lines.contains(&"2026-10,Fuel,3,1,1,0,0,0,0,0,0,0,0"),
        "{csv}"
    );
}

/// A supervisor's report: the decisions of their district's staff, its alerts and the cases
/// about its staff — whatever the grouping.
async fn usage_in_districts_counts_only_their_use(db: TestDb) {
    fixture(&db).await;
    let ms = |s: &str| t(s).timestamp_millis();
    db.execute_batch(&format!(
        "INSERT INTO integrity_findings (id, rule, severity, staff_id, key, evidence, uses,
           explanation, first_at, last_at, found_at, updated_at)
         VALUES (1, 'own_vehicle', 'high', 'S1', 'k1', '[]', 1, 'x', {a}, {a}, {a}, {a}),
                (2, 'own_vehicle', 'high', 'S2', 'k2', '[]', 1, 'x', {a}, {a}, {a}, {a});
         INSERT INTO integrity_cases (id, finding_id, queue, status, staff_id, district,
           closed_at, opened_at, updated_at)
         VALUES (1, 1, 'integrity', 'open', 'S1', 'Auckland City', NULL, {a}, {a}),
                (2, 2, 'integrity', 'open', 'S2', 'Canterbury', NULL, {a}, {a});",
        a = ms("2026-10-03T00:00:00Z"),
    ))
    .await;
    let canterbury = vec!["Canterbury".to_string()];
    let r = report_in(&db, Grouping::Month, &canterbury).await;
    assert_eq!(*row(&r, "2026-09", None), counts(|c| c.searches = 2));
    assert_eq!(
        *row(&r, "2026-10", None),
        counts(|c| {
            c.tracking_requests = 2;
            c.tracking_approvals = 1;
            c.tracking_refusals = 2;
            c.alerts = 2;
            c.denied_attempts = 1;
            c.findings_opened = 1;
        })
    );
    for by in [Grouping::District, Grouping::Purpose, Grouping::Network] {
        let r = report_in(&db, by, &canterbury).await;
        assert_eq!(r.totals.searches, 2, "{by:?}");
        assert_eq!(r.totals.own_vehicle_blocks, 0, "{by:?}");
        assert!(
            r.rows
                .iter()
                .all(|row| row.group.as_deref() != Some("Auckland City")
                    && row.group.as_deref() != Some("burglary")),
            "{by:?}: {:#?}",
            r.rows
        );
    }
    assert!(report_in(&db, Grouping::Month, &[]).await.rows.is_empty());
}

async fn report_in(db: &TestDb, by: Grouping, districts: &[String]) -> UsageReport {
    let q = anpr_reports::usage::parse_query(Some("2026-09"), Some("2026-10"), Some(by.as_str()))
        .unwrap();
    let counted = db
        .reports
        .usage_counts_in(q, districts.to_vec())
        .await
        .unwrap();
    assemble(&q, counted.rows, counted.findings_recorded)
}

async fn allowed_decisions_are_counted_per_user_action_and_time(db: TestDb) {
    use DecisionAction as A;
    use DecisionOutcome as O;
    let po = staff(9, "Wellington");
    for (action, outcome, at) in [
        (
            A::SubjectAccess,
            O::AllowedWithLimits,
            "2026-10-01T10:00:00Z",
        ),
        (A::SubjectAccess, O::Allowed, "2026-10-01T11:00:00Z"),
        (A::SubjectAccess, O::Refused, "2026-10-01T11:30:00Z"),
        (A::SubjectAccess, O::Allowed, "2026-09-30T09:00:00Z"),
        (A::Search, O::Allowed, "2026-10-01T11:00:00Z"),
    ] {
        D::new(&po, action, outcome, at).record(&db).await;
    }
    D::new(
        &staff(10, "Wellington"),
        A::SubjectAccess,
        O::Allowed,
        "2026-10-01T11:00:00Z",
    )
    .record(&db)
    .await;
    let since = t("2026-10-01T00:00:00Z");
    let count = |user, action| db.store.allowed_decisions_since(user, action, since);
    assert_eq!(count(9, A::SubjectAccess).await.unwrap(), 2);
    assert_eq!(count(9, A::Search).await.unwrap(), 1);
    assert_eq!(count(10, A::SubjectAccess).await.unwrap(), 1);
    assert_eq!(count(11, A::SubjectAccess).await.unwrap(), 0);
}

async fn findings_are_counted_when_their_review_cases_open_and_close(db: TestDb) {
    fixture(&db).await;
    let r = report(&db, Grouping::Month).await;
    assert!(r.rows.iter().all(|row| row.counts.findings_opened == 0));
    let ms = |s: &str| t(s).timestamp_millis();
    let finding = |id: i64, at: i64| {
        format!(
            "INSERT INTO integrity_findings (id, rule, severity, staff_id, key, evidence, uses,
               explanation, first_at, last_at, found_at, updated_at)
             VALUES ({id}, 'own_vehicle', 'high', 'S{id}', 'k{id}', '[]', 1, 'x', {at}, {at}, {at}, {at});"
        )
    };
    let case = |id: i64, opened: i64, closed: Option<i64>, district: &str| {
        let closed = closed.map_or("NULL".to_string(), |c| c.to_string());
        format!(
            "INSERT INTO integrity_cases (id, finding_id, queue, status, staff_id, district,
               closed_at, opened_at, updated_at)
             VALUES ({id}, {id}, 'integrity', 'open', 'S{id}', {district}, {closed}, {opened}, {opened});"
        )
    };
    let (a, b, c) = (
        ms("2026-10-03T00:00:00Z"),
        ms("2026-10-20T00:00:00Z"),
        ms("2026-09-03T00:00:00Z"),
    );
    db.execute_batch(
        &[
            finding(1, a),
            finding(2, a),
            finding(3, c),
            case(1, a, Some(b), "'Auckland City'"),
            case(2, a, None, "'Auckland City'"),
            case(3, c, Some(a), "NULL"),
        ]
        .concat(),
    )
    .await;
    let r = report(&db, Grouping::Month).await;
    assert!(!r.notes.iter().any(|n| n.contains("No integrity findings")));
    assert_eq!(row(&r, "2026-09", None).findings_opened, 1);
    assert_eq!(row(&r, "2026-10", None).findings_opened, 2);
    assert_eq!(row(&r, "2026-10", None).findings_closed, 2);
    let r = report(&db, Grouping::District).await;
    assert_eq!(row(&r, "2026-10", Some("Auckland City")).findings_opened, 2);
    assert_eq!(row(&r, "2026-10", Some("Auckland City")).findings_closed, 1);
    assert_eq!(row(&r, "2026-10", Some("(none)")).findings_closed, 1);
}

/// A month runs from midnight UTC on its first to the last millisecond before the next, not
/// in any local time (13:00 on 30 September UTC is already October in New Zealand).
async fn months_are_calendar_months_in_utc_to_the_millisecond(db: TestDb) {
    let akl = staff(1, "Auckland City");
    for at in [
        "2026-08-31T23:59:59.999Z",
        "2026-09-01T00:00:00Z",
        "2026-09-30T23:59:59.999Z",
        "2026-10-01T00:00:00+13:00",
        "2026-10-01T00:00:00Z",
        "2026-10-31T23:59:59.999Z",
        "2026-11-01T00:00:00Z",
    ] {
        D::new(&akl, DecisionAction::Search, DecisionOutcome::Allowed, at)
            .record(&db)
            .await;
    }
    let r = report(&db, Grouping::Month).await;
    assert_eq!(r.rows.len(), 2, "{:#?}", r.rows);
    assert_eq!(row(&r, "2026-09", None).searches, 3);
    assert_eq!(row(&r, "2026-10", None).searches, 2);
}

async fn transparency_trend_covers_24_months_with_small_months_suppressed(db: TestDb) {
    let akl = staff(1, "Auckland City");
    let month = Month::parse("month", "2026-10").unwrap();
    // Month i (0 = 2024-11) has 2i searches: 0, 2, 4 (suppressed), 6, ... 46.
    for (i, m) in month.last(24).into_iter().enumerate() {
        for k in 0..2 * i {
            let mut d = Decision::new(
                &akl,
                DecisionAction::Search,
                "r",
                m.start() + chrono::Duration::hours(k as i64),
            );
            d.outcome = DecisionOutcome::Allowed;
            db.record(d).await;
        }
    }
    let trend =
        anpr_reports::usage::query(month.plus(-23).start(), month.end(), Grouping::Month).unwrap();
    let districts =
        anpr_reports::usage::query(month.start(), month.end(), Grouping::District).unwrap();
    let by_month = db.reports.usage_counts(trend).await.unwrap();
    let by_district = db.reports.usage_counts(districts).await.unwrap();
    let r = transparency::build(TransparencyInput {
        month,
        by_month: by_month.rows,
        by_district: by_district.rows,
        findings_recorded: false,
        generated_at: t("2026-11-05T00:00:00Z"),
        source: None,
    });
    assert_eq!(r.trend.len(), 24);
    assert_eq!(r.trend[0].month, "2024-11");
    assert_eq!(r.trend[0].figures.searches, Cell::Count(0));
    assert_eq!(r.trend[1].figures.searches, Cell::Small);
    assert_eq!(r.trend[2].figures.searches, Cell::Small);
    for (i, p) in r.trend.iter().enumerate().skip(3) {
        assert_eq!(p.figures.searches, Cell::Count(2 * i as u64), "{}", p.month);
    }
    assert_eq!(r.national.searches, Cell::Count(46));
    assert_eq!(r.districts.len(), 1);
    assert_eq!(r.districts[0].district, "Auckland City");
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("S1"), "no staff id in the public report");
}

async fn plate_queries_find_every_query_that_touched_the_plate(db: TestDb) {
    use DecisionAction as A;
    use DecisionOutcome as O;
    let now = Utc::now();
    db.store
        .import_register(
            RegisterBatch::Incidents(vec![
                IncidentRecord {
                    file_number: "F-OPEN".into(),
                    incident_type: "burglary".into(),
                    district: "Auckland City".into(),
                    opened_at: now - chrono::Duration::days(30),
                    closed_at: None,
                    assigned_staff: vec![],
                },
                IncidentRecord {
                    file_number: "F-CLOSED".into(),
                    incident_type: "burglary".into(),
                    district: "Auckland City".into(),
                    opened_at: now - chrono::Duration::days(30),
                    closed_at: Some(now - chrono::Duration::days(1)),
                    assigned_staff: vec![],
                },
            ]),
            ImportSource {
                source: "test".into(),
                imported_by: "test".into(),
            },
        )
        .await
        .unwrap();
    let akl = staff(1, "Auckland City");
    let at = "2026-10-01T00:00:00Z";
    let touching = [
        (A::Search, "QTN123", Some("F-OPEN")),
        (A::ViewImage, "read 5 (QTN123)", Some("F-CLOSED")),
        (A::Search, "QT?12*", None),
        (A::Search, "QTM123~1", Some("F-CLOSED")),
        (A::LookbackRequest, "QTN123 from 2026-01-01", Some("F-OPEN")),
        (A::TrackingRequest, "QTN123", Some("F-NOT-IN-REGISTER")),
    ];
    for (action, target, file) in touching {
        D::new(&akl, action, O::Allowed, at)
            .target(target, file)
            .record(&db)
            .await;
    }
    let not_touching = [
        (A::Search, "QTN124"),
        (A::ViewRead, "read 6 (QTN1234)"),
        (A::Search, "QX?12*"),
        (A::Search, "ZZZ999~1"),
        (A::SubjectAccess, "QTN123"),
    ];
    for (action, target) in not_touching {
        D::new(&akl, action, O::Allowed, at)
            .target(target, None)
            .record(&db)
            .await;
    }
    D::new(&akl, A::Search, O::Allowed, at)
        .target("QTN123", None)
        .training()
        .record(&db)
        .await;

    let found = db
        .reports
        .plate_queries("QTN123".into(), now)
        .await
        .unwrap();
    assert_eq!(found.len(), 6, "{found:#?}");
    let open: Vec<&str> = found
        .iter()
        .filter(|q| q.open_incident)
        .map(|q| q.action.as_str())
        .collect();
    assert_eq!(open, ["search", "lookback_request"]);
}
