//! The architecture, checked: which workspace crate may depend on which (dependencies point one
//! way, down), and which entry points may reach into the HTTP server.
//!
//! The table below is the architecture; ARCHITECTURE.md draws it. A new edge between workspace
//! crates fails this test until it is added here, on purpose.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every workspace crate and the workspace crates it may depend on (normal and build
/// dependencies; tests may use more).
const ALLOWED: &[(&str, &[&str])] = &[
    // The bottom: types and rules, no I/O, no clock.
    ("anpr-domain", &[]),
    ("anpr-ledger", &["anpr-postgres-tls"]),
    ("anpr-web", &[]),
    ("anpr-loadgen", &[]),
    // What the tests share about their prerequisites: a dev-dependency only.
    ("anpr-testkit", &[]),
    // TLS for PostgreSQL connections, shared by the store and the ledger.
    ("anpr-postgres-tls", &[]),
    // An overseer's witness: the ledger's formats and proofs, never the platform's data.
    ("anpr-witness", &["anpr-ledger"]),
    // Beside each other, over the domain.
    ("anpr-policy", &["anpr-domain"]),
    ("anpr-reports", &["anpr-domain"]),
    ("anpr-blobs", &["anpr-domain"]),
    ("anpr-ingest", &["anpr-domain"]),
    ("anpr-recognition", &["anpr-domain"]),
    ("anpr-realtime", &["anpr-domain", "anpr-policy"]),
    (
        "anpr-integrity",
        &["anpr-domain", "anpr-ledger", "anpr-policy"],
    ),
    ("anpr-synth", &["anpr-domain", "anpr-ledger", "anpr-policy"]),
    (
        "anpr-store",
        &["anpr-domain", "anpr-policy", "anpr-postgres-tls"],
    ),
    // The application layer: every use, no HTTP.
    ("anpr-app", SERVICES),
    // The entry points, thin on top: they reach the services' types, and the application.
    ("anpr-server", &["anpr-app", "anpr-web", "anpr-witness"]),
    (
        "anpr",
        &["anpr-app", "anpr-server", "anpr-synth", "anpr-witness"],
    ),
];

/// The crates the application layer is built on. The entry points may use their types too.
const SERVICES: &[&str] = &[
    "anpr-domain",
    "anpr-store",
    "anpr-blobs",
    "anpr-ingest",
    "anpr-ledger",
    "anpr-policy",
    "anpr-realtime",
    "anpr-reports",
    "anpr-integrity",
    "anpr-recognition",
];

/// The entry points, which may depend on everything the application layer does.
const ENTRY_POINTS: &[&str] = &["anpr-server", "anpr"];

/// Crates below the entry points never depend on an HTTP stack.
const NO_HTTP: &[&str] = &[
    "anpr-app",
    "anpr-domain",
    "anpr-policy",
    "anpr-store",
    "anpr-ledger",
    "anpr-postgres-tls",
];
const HTTP_CRATES: &[&str] = &[
    "axum",
    "axum-core",
    "hyper",
    "hyper-util",
    "tower",
    "tower-http",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/app sits two levels below the workspace root")
        .to_path_buf()
}

fn metadata() -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// Each workspace package's direct dependencies (normal and build) by name.
fn direct_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let meta = metadata();
    let packages = meta["packages"].as_array().expect("packages");
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].as_str() != Some("dev"))
                .map(|d| d["name"].as_str().expect("name").to_string())
                .collect();
            (p["name"].as_str().expect("name").to_string(), deps)
        })
        .collect()
}

#[test]
fn workspace_crates_depend_only_downwards() {
    let deps = direct_dependencies();
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(k, v)| {
            let mut ok: BTreeSet<&str> = v.iter().copied().collect();
            if ENTRY_POINTS.contains(k) {
                ok.extend(SERVICES);
            }
            (*k, ok)
        })
        .collect();
    let mut wrong = Vec::new();
    for (package, its_deps) in &deps {
        let Some(ok) = allowed.get(package.as_str()) else {
            wrong.push(format!(
                "{package} is not in the architecture table: add it to ALLOWED"
            ));
            continue;
        };
        for d in its_deps {
            if deps.contains_key(d) && !ok.contains(d.as_str()) {
                wrong.push(format!("{package} -> {d} is not an allowed edge"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn nothing_below_the_entry_points_knows_http() {
    let deps = direct_dependencies();
    for package in NO_HTTP {
        let its = &deps[*package];
        for http in HTTP_CRATES {
            assert!(
                !its.contains(*http),
                "{package} depends on {http}: HTTP belongs in anpr-server"
            );
        }
    }
}

#[test]
fn the_domain_has_no_clock() {
    let src = workspace_root().join("crates/domain/src");
    let mut found = Vec::new();
    for entry in walk(&src) {
        let text = std::fs::read_to_string(&entry).expect("read source");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("Utc::now") || code.contains("SystemTime::now") {
                found.push(format!("{}:{}", entry.display(), i + 1));
            }
        }
    }
    assert!(found.is_empty(), "the domain reads the clock at {found:?}");
}

/// Only `serve`, `demo` (which serves) and the benchmarks that start a server reach into the
/// HTTP server; every other command goes through the application layer.
#[test]
fn only_server_commands_reach_into_the_http_server() {
    let cli = workspace_root().join("crates/cli/src");
    let allowed = [
        "commands/serve.rs",
        "commands/mod.rs", // open_server, for serve and demo
        "bench/core.rs",
        "bench/realtime.rs",
        "bench/hardening.rs",
        "bench/image_bomb.rs",
        "bench/ledger_monitor.rs",
    ];
    let mut found = Vec::new();
    for entry in walk(&cli) {
        let rel = entry
            .strip_prefix(&cli)
            .expect("under the CLI")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&entry).expect("read source");
        if text.contains("anpr_server") && !allowed.contains(&rel.as_str()) {
            found.push(rel);
        }
    }
    assert!(
        found.is_empty(),
        "these CLI modules call anpr-server instead of the application layer: {found:?}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}
