//! `anpr report usage|transparency|subject-access` end to end over a deployment built with the
//! command line itself.

use std::path::Path;
use std::process::{Command, Output};

fn anpr(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("ANPR_PASSWORD", "a long enough password")
        .output()
        .expect("anpr runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A network, a site, two reads of QTN123, a searcher with their staff and incident registers,
/// two searches, and a privacy officer.
fn deployment(d: &Path) {
    ok(&anpr(
        d,
        &["network", "add", "Auror", "--retention-days", "30"],
    ));
    ok(&anpr(
        d,
        &[
            "site",
            "add",
            "--network",
            "1",
            "--name",
            "Fuel stop Frankton",
            "--kind",
            "fuel_station",
            "--lat",
            "-45.02",
            "--lon",
            "168.73",
            "--district",
            "Southern",
        ],
    ));
    ok(&anpr(
        d,
        &["camera", "add", "--site", "1", "--name", "pump 1"],
    ));
    let then = chrono::Utc::now() - chrono::Duration::hours(2);
    let dump = d.join("reads.jsonl");
    std::fs::write(
        &dump,
        format!(
            "{{\"camera_id\":1,\"plate\":\"QTN123\",\"captured_at\":\"{}\",\"confidence\":0.9}}\n\
             {{\"camera_id\":1,\"plate\":\"QTN123\",\"captured_at\":\"{}\",\"confidence\":0.8}}\n",
            then.to_rfc3339(),
            (then - chrono::Duration::days(3)).to_rfc3339()
        ),
    )
    .unwrap();
    ok(&anpr(d, &["import", dump.to_str().unwrap()]));
    for (id, roles) in [("S9", "searcher"), ("P1", "privacy_officer")] {
        ok(&anpr(
            d,
            &[
                "user",
                "add",
                "--staff-id",
                id,
                "--name",
                "Sam",
                "--district",
                "Southern",
                "--roles",
                roles,
            ],
        ));
    }
    let staff = d.join("staff.csv");
    std::fs::write(
        &staff,
        "staff_id,person_id,home_address_id,team\nS9,P9,A9,Queenstown\nP1,PP1,AP1,Privacy\n",
    )
    .unwrap();
    ok(&anpr(
        d,
        &["registers", "import", "staff", staff.to_str().unwrap()],
    ));
    let incidents = d.join("incidents.json");
    std::fs::write(
        &incidents,
        format!(
            "[{{\"file_number\":\"260101/1\",\"incident_type\":\"vehicle_theft\",\"district\":\"Southern\",\"opened_at\":\"{}\"}}]",
            (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339()
        ),
    )
    .unwrap();
    ok(&anpr(
        d,
        &[
            "registers",
            "import",
            "incidents",
            incidents.to_str().unwrap(),
        ],
    ));
    for _ in 0..2 {
        ok(&anpr(
            d,
            &[
                "search",
                "QTN123",
                "--staff-id",
                "S9",
                "--purpose",
                "stolen_vehicle",
                "--file-number",
                "260101/1",
                "--justification",
                "Vehicle stolen from Frankton yesterday",
            ],
        ));
    }
}

#[test]
fn reports_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    deployment(d);
    let from = (chrono::Utc::now() - chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let to = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();

    let csv = ok(&anpr(
        d,
        &[
            "report", "usage", "--from", &from, "--to", &to, "--by", "district",
        ],
    ));
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("period,district,searches,read_views,"),
        "{csv}"
    );
    let searches: u64 = lines[1..]
        .iter()
        .filter(|l| l.contains(",Southern,"))
        .map(|l| l.split(',').nth(2).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(searches, 2, "{csv}");
    let json = ok(&anpr(
        d,
        &[
            "report", "usage", "--from", &from, "--to", &to, "--format", "json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["totals"]["searches"], 2, "{json}");
    let bad = failed(&anpr(
        d,
        &[
            "report", "usage", "--from", &from, "--to", &to, "--by", "week",
        ],
    ));
    assert!(bad.contains("--by"), "{bad}");

    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let out = d.join("public");
    let written = ok(&anpr(
        d,
        &[
            "report",
            "transparency",
            "--month",
            &month,
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert!(
        written.contains(&format!("transparency-{month}.html")),
        "{written}"
    );
    let html = std::fs::read_to_string(out.join(format!("transparency-{month}.html"))).unwrap();
    assert!(html.contains("<svg") && !html.contains("<script"));
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join(format!("transparency-{month}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(json["national"]["searches"], "<5", "{json}");
    assert_eq!(json["trend"].as_array().unwrap().len(), 24);
    assert!(!json.to_string().contains("S9"));
    assert!(failed(&anpr(d, &["report", "transparency", "--month", "2026-13"])).contains("month"));

    // The report states the signed tree head it was counted from, and recomputes from the
    // ledger's entries up to it; a changed count does not.
    let size = json["computed_from"]["size"].as_u64().unwrap();
    assert!(size > 0, "{json}");
    assert!(html.contains("<strong>") && html.contains(&format!("{size}</strong> entries")));
    let dump = d.join("ledger.jsonl");
    {
        use std::io::Write;
        let ledger = anpr_ledger::Ledger::open(d.join("ledger")).unwrap();
        let mut f = std::fs::File::create(&dump).unwrap();
        let mut at = 0;
        while at < size {
            let page = ledger.entries(at, size).unwrap();
            at = page.last().unwrap().index + 1;
            for e in page {
                writeln!(f, "{}", serde_json::to_string(&e).unwrap()).unwrap();
            }
        }
    }
    let report_file = out.join(format!("transparency-{month}.json"));
    let key = d.join("ledger").join("ledger-signing-key.pub");
    let verify = |report: &Path| {
        anpr(
            d,
            &[
                "report",
                "verify-transparency",
                "--report",
                report.to_str().unwrap(),
                "--ledger",
                dump.to_str().unwrap(),
                "--public-key",
                key.to_str().unwrap(),
            ],
        )
    };
    let verified = ok(&verify(&report_file));
    assert!(
        verified.contains("verified") && verified.contains("signed by"),
        "{verified}"
    );
    let mut changed = json.clone();
    changed["national"]["searches"] = serde_json::json!(9);
    let changed_file = d.join("changed.json");
    std::fs::write(&changed_file, serde_json::to_vec(&changed).unwrap()).unwrap();
    let why = failed(&verify(&changed_file));
    assert!(
        why.contains("national, Searches: the report says 9"),
        "{why}"
    );

    let text = ok(&anpr(
        d,
        &[
            "report",
            "subject-access",
            "--staff-id",
            "P1",
            "--plate",
            "qtn 123",
            "--reference",
            "PA-1",
            "--identity-method",
            "passport",
            "--identity-checked-by",
            "P1",
        ],
    ));
    assert!(
        text.contains("Subject access report for plate QTN123"),
        "{text}"
    );
    assert!(text.contains("Sightings held: 2"), "{text}");
    assert!(text.contains("Fuel stop Frankton"), "{text}");
    // Both searches are on an open file: counted, not described.
    assert!(text.contains("touched the plate: 2 (2 withheld"), "{text}");
    let refused = failed(&anpr(
        d,
        &[
            "report",
            "subject-access",
            "--staff-id",
            "S9",
            "--plate",
            "QTN123",
            "--reference",
            "PA-2",
            "--identity-method",
            "passport",
            "--identity-checked-by",
            "S9",
        ],
    ));
    assert!(
        refused.contains("answer subject access requests"),
        "{refused}"
    );

    // Every report run is in the ledger, which still verifies.
    ok(&anpr(d, &["ledger", "verify"]));
    let ledger = anpr_ledger::Ledger::open(d.join("ledger")).unwrap();
    let bodies: Vec<String> = ledger
        .entries(0, ledger.size())
        .unwrap()
        .into_iter()
        .map(|e| e.body)
        .collect();
    for action in ["report_usage", "report_transparency", "subject_access"] {
        assert!(
            bodies
                .iter()
                .any(|b| b.contains(&format!("\"action\":\"{action}\""))),
            "no {action} entry"
        );
    }
}

fn subject_access(d: &Path, plate: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "report",
        "subject-access",
        "--staff-id",
        "P1",
        "--plate",
        plate,
    ];
    args.extend_from_slice(extra);
    anpr(d, &args)
}

const CHECKED: &[&str] = &[
    "--reference",
    "PA-7",
    "--identity-method",
    "driver_licence",
    "--identity-checked-by",
    "P1",
];

/// The red team's "location history on demand" from the command line: no reference, no
/// identity check, the privacy officer's own car, and a sighting a minute old.
#[test]
fn subject_access_from_the_command_line_is_not_a_location_history_on_demand() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    deployment(d);
    // A sighting of QTN123 a minute ago, and one of the privacy officer's own car.
    let now = chrono::Utc::now();
    let dump = d.join("fresh.jsonl");
    std::fs::write(
        &dump,
        format!(
            "{{\"camera_id\":1,\"plate\":\"QTN123\",\"captured_at\":\"{}\",\"confidence\":0.9}}\n\
             {{\"camera_id\":1,\"plate\":\"PRV777\",\"captured_at\":\"{}\",\"confidence\":0.9}}\n",
            (now - chrono::Duration::minutes(1)).to_rfc3339(),
            (now - chrono::Duration::hours(3)).to_rfc3339()
        ),
    )
    .unwrap();
    ok(&anpr(d, &["import", dump.to_str().unwrap()]));
    let vehicles = d.join("vehicles.csv");
    std::fs::write(
        &vehicles,
        "plate,owner_person_id,owner_address_id\nPRV777,PP1,AP1\n",
    )
    .unwrap();
    ok(&anpr(
        d,
        &[
            "registers",
            "import",
            "vehicles",
            vehicles.to_str().unwrap(),
        ],
    ));

    let e = failed(&subject_access(d, "QTN123", &[]));
    assert!(e.contains("reference"), "{e}");
    let e = failed(&subject_access(d, "QTN123", &["--reference", "PA-7"]));
    assert!(e.contains("identity"), "{e}");
    let e = failed(&subject_access(d, "PRV777", CHECKED));
    assert!(e.contains("registered to you"), "{e}");

    let text = ok(&subject_access(d, "QTN123", CHECKED));
    // The minute-old sighting is neither listed nor counted, and the answer says why.
    assert!(text.contains("Sightings held: 2"), "{text}");
    assert!(text.contains("30 minutes"), "{text}");

    let ledger = anpr_ledger::Ledger::open(d.join("ledger")).unwrap();
    let entries: Vec<serde_json::Value> = ledger
        .entries(0, ledger.size())
        .unwrap()
        .into_iter()
        .map(|e| serde_json::from_str(&e.body).unwrap())
        .filter(|e: &serde_json::Value| e["action"] == "subject_access")
        .collect();
    assert_eq!(entries.len(), 4, "{entries:?}");
    let own = &entries[2];
    assert_eq!(own["query"]["plate"], "PRV777", "{own}");
    assert_eq!(own["query"]["reference"], "PA-7", "{own}");
    assert_eq!(own["query"]["refusal_code"], "own_vehicle", "{own}");
    assert_eq!(own["outcome"]["result"], "refused", "{own}");
    assert_eq!(entries[3]["outcome"]["result"], "granted");
    assert_eq!(entries[3]["result"]["count"], 2);
}
