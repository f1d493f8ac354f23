//! The `anpr` binary end to end: demo, catalog commands, import, search and purge.

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

#[test]
fn demo_is_idempotent_and_prints_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let first = ok(&anpr(
        dir.path(),
        &["demo", "--no-serve", "--reads", "400", "--days", "1"],
    ));
    assert!(first.contains("S1001"), "{first}");
    assert!(first.contains("API key"), "{first}");
    let networks = ok(&anpr(dir.path(), &["network", "list"]));
    let second = anpr(dir.path(), &["demo", "--no-serve", "--reads", "400"]);
    let second_out = ok(&second);
    assert!(String::from_utf8_lossy(&second.stderr).contains("already holds"));
    assert_eq!(first, second_out, "the same credentials are shown again");
    assert_eq!(networks, ok(&anpr(dir.path(), &["network", "list"])));
    let sites = ok(&anpr(dir.path(), &["site", "list"]));
    for town_district in ["Waikato", "Canterbury", "Wellington"] {
        assert!(sites.contains(town_district), "{sites}");
    }
    // Images were rendered and stored.
    let images = walk_count(&dir.path().join("images"));
    assert!(images > 10, "{images} image files");
}

fn walk_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                walk_count(&e.path())
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn catalog_import_search_and_purge() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(ok(&anpr(
        d,
        &["network", "add", "Auror", "--retention-days", "30"]
    ))
    .contains("network 1"));
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
    let cam = ok(&anpr(
        d,
        &["camera", "add", "--site", "1", "--name", "pump 1"],
    ));
    assert!(cam.contains("API key (shown once"), "{cam}");
    assert!(!ok(&anpr(d, &["camera", "list"])).contains("anpr_cam_"));
    // A heading is a compass direction, and a district one of the deployment's.
    for heading in ["360", "-5"] {
        let bad = anpr(
            d,
            &[
                "camera",
                "add",
                "--site",
                "1",
                "--name",
                "x",
                "--heading",
                heading,
            ],
        );
        assert!(!bad.status.success(), "heading {heading} accepted");
        let err = String::from_utf8_lossy(&bad.stderr);
        assert!(err.contains("give whole degrees from 0 to 359"), "{err}");
    }
    assert_eq!(ok(&anpr(d, &["camera", "list"])).lines().count(), 1);
    let misspelt = anpr(
        d,
        &[
            "site",
            "add",
            "--network",
            "1",
            "--name",
            "x",
            "--lat",
            "-45",
            "--lon",
            "168",
            "--district",
            "Sothern",
        ],
    );
    assert!(!misspelt.status.success());
    let err = String::from_utf8_lossy(&misspelt.stderr);
    assert!(
        err.contains("Sothern is not a police district of this deployment; choose one of:"),
        "{err}"
    );
    // A deployment's own list of districts (the policy file) holds at the console too.
    let policy = d.join("policy.json");
    std::fs::write(&policy, r#"{"districts": ["Metropolitan", "Rural"]}"#).unwrap();
    let policy = policy.to_str().unwrap();
    let site = |district: &str| {
        anpr(
            d,
            &[
                "--policy",
                policy,
                "site",
                "add",
                "--network",
                "1",
                "--name",
                district,
                "--lat",
                "-45",
                "--lon",
                "168",
                "--district",
                district,
            ],
        )
    };
    assert!(!site("Southern").status.success());
    ok(&site("rural"));
    assert!(ok(&anpr(d, &["site", "list"])).contains("\tRural"));
    let contact = ok(&anpr(
        d,
        &[
            "network",
            "police-contact",
            "1",
            "Queenstown Police, 03 555 0100",
        ],
    ));
    assert!(
        contact.contains("its operators call Queenstown Police"),
        "{contact}"
    );
    assert!(ok(&anpr(d, &["network", "list"])).contains("police contact: Queenstown Police"));

    let bad_kind = anpr(
        d,
        &[
            "site",
            "add",
            "--network",
            "1",
            "--name",
            "x",
            "--kind",
            "castle",
            "--lat",
            "0",
            "--lon",
            "0",
            "--district",
            "y",
        ],
    );
    assert!(!bad_kind.status.success());
    assert!(String::from_utf8_lossy(&bad_kind.stderr).contains("unknown site kind"));

    // Older than the near-live window: a search without a tracking authorisation shows it.
    // The old read is past the network's 30-day retention (the purge below deletes it) but
    // within the margin ingestion allows for a late backlog.
    let now = chrono::Utc::now() - chrono::Duration::hours(2);
    let old = now - chrono::Duration::days(33);
    let dump = d.join("reads.jsonl");
    std::fs::write(
        &dump,
        format!(
            "{{\"camera_id\":1,\"plate\":\"QTN123\",\"captured_at\":\"{}\",\"confidence\":0.9}}\n\
             {{\"camera_id\":1,\"plate\":\"QTN123\",\"captured_at\":\"{}\",\"confidence\":0.8}}\n\
             {{\"camera_id\":1,\"plate\":\"🚗\",\"captured_at\":\"{}\",\"confidence\":0.8}}\n\
             {{\"camera_id\":99,\"plate\":\"QTN999\",\"captured_at\":\"{}\",\"confidence\":0.8}}\n\
             not json at all\n",
            now.to_rfc3339(),
            old.to_rfc3339(),
            now.to_rfc3339(),
            now.to_rfc3339()
        ),
    )
    .unwrap();
    let out = anpr(d, &["import", dump.to_str().unwrap()]);
    let stdout = ok(&out);
    assert!(stdout.contains("imported 2 reads"), "{stdout}");
    assert!(stdout.contains("3 lines refused"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");

    // The searcher, their staff-register entry and the file the search is made under.
    ok(&anpr(
        d,
        &[
            "user",
            "add",
            "--staff-id",
            "S9",
            "--name",
            "Sam",
            "--district",
            "Southern",
            "--roles",
            "searcher",
        ],
    ));
    let staff = d.join("staff.csv");
    std::fs::write(
        &staff,
        "staff_id,person_id,home_address_id,team\nS9,P9,A9,Queenstown\n",
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
    let search = |extra: &[&str]| {
        let mut args = vec![
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
        ];
        args.extend_from_slice(extra);
        ok(&anpr(d, &args))
    };
    assert!(
        search(&[]).starts_with("2 reads of 1 plate"),
        "{}",
        search(&[])
    );
    assert!(search(&["--fuzzy", "1"]).contains("Fuel stop Frankton"));
    let no_purpose = anpr(
        d,
        &[
            "search",
            "QTN123",
            "--staff-id",
            "S9",
            "--purpose",
            "x",
            "--file-number",
            "1",
            "--justification",
            "too short",
        ],
    );
    assert!(!no_purpose.status.success());
    let unknown_file = anpr(
        d,
        &[
            "search",
            "QTN123",
            "--staff-id",
            "S9",
            "--purpose",
            "stolen_vehicle",
            "--file-number",
            "999/9",
            "--justification",
            "Vehicle stolen from Frankton yesterday",
        ],
    );
    assert!(String::from_utf8_lossy(&unknown_file.stderr).contains("not in the incident register"));

    let purged = ok(&anpr(d, &["purge"]));
    assert!(purged.contains("purged 1 reads"), "{purged}");
    assert!(search(&[]).starts_with("1 reads of 1 plate"));
}

#[test]
fn users_need_long_passwords_and_known_roles() {
    let dir = tempfile::tempdir().unwrap();
    let made = anpr(
        dir.path(),
        &[
            "user",
            "add",
            "--staff-id",
            "S9",
            "--name",
            "N",
            "--district",
            "Waikato",
            "--roles",
            "searcher,tracker",
        ],
    );
    assert!(ok(&made).contains("user S9"));
    let bad = anpr(
        dir.path(),
        &[
            "user",
            "add",
            "--staff-id",
            "S10",
            "--name",
            "N",
            "--district",
            "Waikato",
            "--roles",
            "wizard",
        ],
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));
}

#[test]
fn users_can_be_disabled_and_roles_respect_separation_of_duties() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&anpr(
        d,
        &[
            "user",
            "add",
            "--staff-id",
            "S1",
            "--name",
            "N",
            "--district",
            "Waikato",
            "--roles",
            "searcher",
            "--badge",
            "NZP1",
        ],
    ));
    let forbidden = anpr(
        d,
        &[
            "user",
            "add",
            "--staff-id",
            "S2",
            "--name",
            "N",
            "--district",
            "Waikato",
            "--roles",
            "admin,tracker",
        ],
    );
    assert!(!forbidden.status.success());
    assert!(String::from_utf8_lossy(&forbidden.stderr).contains("cannot be held together"));
    let roles = ok(&anpr(
        d,
        &["user", "roles", "S1", "--set", "searcher,tracker"],
    ));
    assert!(roles.contains("searcher,tracker"), "{roles}");
    assert!(
        !anpr(d, &["user", "roles", "S1", "--set", "auditor,searcher"])
            .status
            .success()
    );
    assert!(ok(&anpr(d, &["user", "disable", "S1"])).contains("disabled"));
    assert!(ok(&anpr(d, &["user", "list"])).contains("disabled"));
    assert!(!anpr(d, &["user", "disable", "S404"]).status.success());
    // Its holder, with the right password, is told why and whom to ask.
    let search = anpr(
        d,
        &[
            "search",
            "ABC123",
            "--staff-id",
            "S1",
            "--purpose",
            "stolen_vehicle",
            "--file-number",
            "1",
            "--justification",
            "Vehicle stolen from the yard overnight",
        ],
    );
    assert_eq!(search.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&search.stderr);
    assert!(
        stderr.contains("error: this account is disabled; ask an administrator"),
        "{stderr}"
    );
}

#[test]
fn a_network_auditor_alone_sets_its_networks_controls_from_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&anpr(d, &["network", "add", "Auror"]));
    let add = |staff_id: &str, roles: &str| {
        anpr(
            d,
            &[
                "user",
                "add",
                "--staff-id",
                staff_id,
                "--name",
                "Network overseer",
                "--district",
                "Waikato",
                "--roles",
                roles,
                "--network",
                "1",
            ],
        )
    };
    let mixed = add("N0", "network_auditor,searcher");
    assert!(!mixed.status.success());
    let stderr = String::from_utf8_lossy(&mixed.stderr);
    assert!(stderr.contains("network auditor"), "{stderr}");
    ok(&add("N1", "network_auditor"));
    assert!(!anpr(
        d,
        &["user", "roles", "N1", "--set", "network_auditor,admin"]
    )
    .status
    .success());

    let controls = |args: &[&str]| {
        let mut all = vec!["network", "controls", "1", "--staff-id", "N1"];
        all.extend_from_slice(args);
        anpr(d, &all)
    };
    let out = ok(&controls(&["--suspend", "--max-lookback-days", "14"]));
    assert!(out.contains("sharing SUSPENDED"), "{out}");
    assert!(out.contains("14 days"), "{out}");
    let out = ok(&controls(&[
        "--resume",
        "--withhold-purpose",
        "road_policing",
    ]));
    assert!(
        out.contains("sharing on; purposes withheld: road_policing; maximum look-back: 14 days"),
        "{out}"
    );
    let out = ok(&controls(&[]));
    assert!(out.contains("road_policing"), "{out}");
    let bad = controls(&["--withhold-purpose", "no_such_purpose"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("choose among"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let notices = ok(&anpr(
        d,
        &["network", "watch-notices", "1", "--staff-id", "N1"],
    ));
    assert!(notices.contains("no tracking watch"), "{notices}");

    // Its slice of the ledger and its monthly statement, each fetched as a ledgered use and
    // verified against the deployment's public key alone; a changed count fails.
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let (slice, statement) = (d.join("slice.json"), d.join("statement.json"));
    let key = d.join("ledger").join("ledger-signing-key.pub");
    let path = |p: &Path| p.to_str().unwrap().to_string();
    for (what, out) in [("slice", &slice), ("statement", &statement)] {
        let out = path(out);
        let args = [
            "network",
            what,
            "1",
            "--staff-id",
            "N1",
            "--month",
            &month,
            "--out",
            &out,
        ];
        ok(&anpr(d, &args));
    }
    let checked = ok(&anpr(
        d,
        &[
            "network",
            "verify-slice",
            &path(&slice),
            "--public-key",
            &path(&key),
        ],
    ));
    assert!(checked.starts_with("slice OK: network 1"), "{checked}");
    let verify_statement = |file: &Path| {
        anpr(
            d,
            &[
                "network",
                "verify-statement",
                &path(file),
                "--slice",
                &path(&slice),
                "--public-key",
                &path(&key),
            ],
        )
    };
    assert!(ok(&verify_statement(&statement)).starts_with("statement OK"));
    let mut changed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&statement).unwrap()).unwrap();
    changed["statement"]["counts"]["uses"] = serde_json::json!(1);
    let forged = d.join("forged.json");
    std::fs::write(&forged, changed.to_string()).unwrap();
    assert!(!verify_statement(&forged).status.success());

    // A police member of staff cannot, the administrator included.
    ok(&anpr(
        d,
        &[
            "user",
            "add",
            "--staff-id",
            "A1",
            "--name",
            "Admin",
            "--district",
            "Waikato",
            "--roles",
            "admin",
        ],
    ));
    let refused = anpr(
        d,
        &["network", "controls", "1", "--staff-id", "A1", "--suspend"],
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("needs the role network_auditor"),
        "{stderr}"
    );
}

#[test]
fn registers_import_from_csv_and_json_and_name_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = d.join("mvr.csv");
    std::fs::write(
        &csv,
        "plate,owner_person_id,owner_address_id,make\nABC123,P1,A1,Toyota\nXYZ9,P2,A2,\n",
    )
    .unwrap();
    let out = ok(&anpr(
        d,
        &["registers", "import", "vehicles", csv.to_str().unwrap()],
    ));
    assert!(out.contains("2 inserted"), "{out}");
    let jsonl = d.join("mvr.jsonl");
    std::fs::write(
        &jsonl,
        "{\"plate\":\"ABC123\",\"owner_person_id\":\"P3\",\"owner_address_id\":\"A3\"}\n",
    )
    .unwrap();
    let out = ok(&anpr(
        d,
        &[
            "registers",
            "import",
            "vehicles",
            jsonl.to_str().unwrap(),
            "--source",
            "nzta daily",
        ],
    ));
    assert!(out.contains("1 updated"), "{out}");
    let counts = ok(&anpr(d, &["registers", "counts"]));
    assert!(counts.contains("vehicles\t2"), "{counts}");
    let bad = d.join("bad.csv");
    std::fs::write(
        &bad,
        "plate,owner_person_id,owner_address_id\nOK1,P,A\n🚗,P,A\n",
    )
    .unwrap();
    let out = anpr(
        d,
        &["registers", "import", "vehicles", bad.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("plate"),
        "{out:?}"
    );
    assert!(!anpr(
        d,
        &["registers", "import", "planets", csv.to_str().unwrap()]
    )
    .status
    .success());
}

#[test]
fn bench_access_prints_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("b");
    let out = ok(&anpr(
        dir.path(),
        &[
            "bench",
            "access",
            "--vehicles",
            "20000",
            "--decisions",
            "300",
            "--dir",
            target.to_str().unwrap(),
        ],
    ));
    for name in [
        "policy_decision_p50_us",
        "policy_decision_p99_us",
        "policy_record_p50_us",
        "register_import_rows_per_s",
    ] {
        assert!(out.contains(&format!("bench: {name} ")), "{out}");
    }
}

#[test]
fn an_empty_setting_in_the_environment_counts_as_unset() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo.jpg");
    std::fs::write(&photo, b"not read: the models are looked for first").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(dir.path())
        .arg("recognise")
        .arg(&photo)
        .env("RUST_LOG", "warn")
        .env("ANPR_MODELS_DIR", "")
        .output()
        .expect("anpr runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    // The default directory under the data directory was used, not an empty path refused.
    let default = dir.path().join("models");
    assert!(
        stderr.contains(&format!("not installed in {}", default.display())),
        "{stderr}"
    );
}

#[test]
fn a_users_mistake_is_one_plain_line_whatever_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .args(["ledger", "new-key", "/nonexistent-dir/ledger.key"])
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(lines[0].contains("cannot create it"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour codes off a terminal: {stderr}"
    );

    // A first run logs no migrations at the default level, and no colour codes either.
    let out = Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .args(["user", "list"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("schema migration"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}

#[test]
fn help_describes_every_flag_with_its_format_and_sets_global_options_apart() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push("--help");
        ok(&anpr(dir.path(), &all))
    };
    let site = help(&["site", "add"]);
    let (own, global) = site
        .split_once("Global options")
        .expect("a heading of its own for the global options");
    assert!(
        own.contains("Latitude in decimal degrees, -90 to 90"),
        "{site}"
    );
    assert!(!own.contains("--data"), "{site}");
    assert!(global.contains("--data") && global.contains("--database-url"));
    let search = help(&["search"]);
    assert!(
        search.contains("RFC 3339 time, e.g. 2026-03-01T10:00:00+13:00"),
        "{search}"
    );
    // Every option and argument of these commands carries a description on its own line or
    // on the next one.
    for cmd in [
        &["site", "add"][..],
        &["camera", "add"],
        &["search"],
        &["export", "read"],
        &["import"],
        &["user", "add"],
    ] {
        let text = help(cmd);
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let is_flag = trimmed.starts_with("--") || trimmed.starts_with('<');
            if !is_flag || trimmed.starts_with("--help") || !line.starts_with("  ") {
                continue;
            }
            let described = trimmed.split_whitespace().count() > 2
                || lines
                    .get(i + 1)
                    .is_some_and(|next| next.starts_with("          ") && !next.trim().is_empty());
            assert!(described, "{cmd:?}: {line:?} has no description\n{text}");
        }
    }
}

#[test]
fn import_documents_its_formats_and_lists_each_refused_line_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let help = ok(&anpr(d, &["import", "--help"]));
    assert!(
        help.contains("camera_id,captured_at,plate,confidence"),
        "{help}"
    );
    assert!(help.contains(r#"{"camera_id":1,"captured_at""#), "{help}");

    ok(&anpr(d, &["network", "add", "N"]));
    ok(&anpr(
        d,
        &[
            "site",
            "add",
            "--network",
            "1",
            "--name",
            "S",
            "--lat",
            "-45",
            "--lon",
            "168",
            "--district",
            "Southern",
        ],
    ));
    ok(&anpr(d, &["camera", "add", "--site", "1", "--name", "c"]));
    let now = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let csv = d.join("reads.csv");
    std::fs::write(
        &csv,
        format!(
            "camera_id,captured_at,plate,confidence\n\
             1,{now},ABC123,0.9\n\
             7,{now},ABC124,0.9\n\
             1,yesterday,ABC125,0.9\n\
             1,{now},ABC126\n\
             1,{now},ABC127,95\n"
        ),
    )
    .unwrap();
    let out = anpr(d, &["import", csv.to_str().unwrap()]);
    let stdout = ok(&out);
    assert!(
        stdout.contains("imported 1 reads from") && stdout.contains("4 lines refused"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let refused: Vec<&str> = stderr.lines().filter(|l| l.starts_with("line ")).collect();
    assert_eq!(
        refused,
        [
            "line 3: camera_id 7 is no camera here; add it with `anpr camera add` or correct the line",
            "line 4: captured_at \"yesterday\" is not an RFC 3339 timestamp with a time zone, e.g. 2024-05-01T08:30:00Z (premature end of input)",
            "line 5: has 3 fields where the header has 4; quote a value that contains a comma",
            "line 6: confidence must be between 0 and 1, got 95 (send 0.95 for 95%)",
        ],
        "{stderr}"
    );

    let jsonl = d.join("reads.jsonl");
    std::fs::write(
        &jsonl,
        format!("{{\"plate\":\"QTN1\",\"captured_at\":\"{now}\",\"confidence\":0.9}}\nnot json\n"),
    )
    .unwrap();
    let out = anpr(d, &["import", jsonl.to_str().unwrap()]);
    assert!(ok(&out).contains("2 lines refused"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 1: camera_id is required in an import dump"),
        "{stderr}"
    );
    assert!(stderr.contains("line 2: is not valid JSON"), "{stderr}");
}

#[test]
fn a_first_search_on_a_fresh_deployment_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&anpr(
        d,
        &[
            "user",
            "add",
            "--staff-id",
            "S1",
            "--name",
            "N",
            "--district",
            "Southern",
            "--roles",
            "searcher",
        ],
    ));
    let search = || {
        let out = anpr(
            d,
            &[
                "search",
                "ABC123",
                "--staff-id",
                "S1",
                "--purpose",
                "stolen_vehicle",
                "--file-number",
                "260101/1",
                "--justification",
                "Vehicle stolen from the yard overnight",
            ],
        );
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = search();
    assert!(stderr.contains("not in the staff register"), "{stderr}");
    assert!(
        stderr.contains("staff register is empty: before anyone can search, each user needs a row in the staff register and an open file in the incident register"),
        "{stderr}"
    );
    let staff = d.join("staff.csv");
    std::fs::write(
        &staff,
        "staff_id,person_id,home_address_id,team\nS1,P1,A1,Q\n",
    )
    .unwrap();
    ok(&anpr(
        d,
        &["registers", "import", "staff", staff.to_str().unwrap()],
    ));
    let stderr = search();
    assert!(stderr.contains("not in the incident register"), "{stderr}");
    assert!(
        stderr.contains("incident register is empty: before anyone can search"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_on_serve_says_it_is_shutting_down_and_exits_promptly() {
    use std::io::{BufRead, BufReader, Read};
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("anpr listening on"), "{line}");
    // What Ctrl-C at a terminal sends.
    let sent = Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(5) {
            let _ = server.kill();
            panic!("still running 5 s after Ctrl-C");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("anpr: shutting down"), "{stderr}");
}
