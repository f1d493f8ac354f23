//! `anpr agent` against a real `anpr serve`: a camera's photo dropped into the watched folder
//! arrives as a read with the right plate and is deleted; a corrupt file is quarantined; while
//! the server is down nothing is lost.

mod harness;

use harness::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn models() -> Option<PathBuf> {
    anpr_testkit::models_dir(anpr_recognition::models::installed)
}

/// A real photo and its labelled plate, or `None` when the test photos are absent.
fn photo(name: &str) -> Option<(PathBuf, String)> {
    let dir = anpr_testkit::shared("testdata/plates/eu")?;
    let label = std::fs::read_to_string(dir.join(format!("{name}.txt"))).expect("its label");
    Some((
        dir.join(format!("{name}.jpg")),
        label.split_whitespace().last()?.to_string(),
    ))
}

/// The agent as its own process, logging beside the watched folder.
struct AgentProcess(Child);

impl AgentProcess {
    fn start(work: &Path, watch: &Path, server: &str, key: &str, models: &Path) -> AgentProcess {
        let child = Command::new(env!("CARGO_BIN_EXE_anpr"))
            .arg("--data")
            .arg(work.join("agent-data"))
            .args(["agent", "--server", server, "--camera-key", key])
            .arg("--watch")
            .arg(watch)
            .arg("--models")
            .arg(models)
            .args([
                "--poll-ms",
                "100",
                "--settle-ms",
                "300",
                "--max-backoff-s",
                "1",
            ])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(work.join("agent.log")).unwrap())
            .spawn()
            .unwrap();
        AgentProcess(child)
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The plates of the reads the server stored from the agent (external ids `agent-...`).
fn agent_reads(data: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(data.join("anpr.sqlite")).unwrap();
    let mut stmt = conn
        .prepare("SELECT plate_raw FROM reads WHERE external_id LIKE 'agent-%' ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn wait_for(what: &str, limit: Duration, log: &Path, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "timed out waiting for {what}; agent log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn agent_sends_a_photo_deletes_it_and_quarantines_a_corrupt_file() {
    let (Some(models), Some((photo, plate))) = (models(), photo("eu1")) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let deployment = demo(&data, 10);
    let server = Server::start(&data);
    let watch = work.path().join("camera");
    std::fs::create_dir_all(&watch).unwrap();
    std::fs::copy(&photo, watch.join("0001.jpg")).unwrap();
    let bytes = std::fs::read(&photo).unwrap();
    std::fs::write(watch.join("0002.jpg"), &bytes[..bytes.len() / 3]).unwrap();
    std::fs::write(watch.join("notes.txt"), "not a photo").unwrap();

    let log = work.path().join("agent.log");
    let _agent = AgentProcess::start(
        work.path(),
        &watch,
        &server.base,
        &deployment.camera_key,
        &models,
    );
    wait_for("the read", Duration::from_secs(180), &log, || {
        !watch.join("0001.jpg").exists()
            && watch.join("quarantine/0002.jpg").exists()
            && watch.join("quarantine/notes.txt").exists()
    });
    assert_eq!(agent_reads(&data), vec![plate]);
    let reason = std::fs::read_to_string(watch.join("quarantine/0002.jpg.reason")).unwrap();
    assert!(!reason.trim().is_empty());
    assert!(watch.join("quarantine/notes.txt.reason").exists());
    // The read carries both images, stored whole.
    let conn = rusqlite::Connection::open(data.join("anpr.sqlite")).unwrap();
    let (overview, crop): (Option<Vec<u8>>, Option<Vec<u8>>) = conn
        .query_row(
            "SELECT overview_sha, plate_sha FROM reads WHERE external_id LIKE 'agent-%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(overview.is_some() && crop.is_some());
    check_database(&data);
}

#[test]
fn agent_keeps_photos_while_the_server_is_down_and_sends_them_when_it_is_up() {
    let (Some(models), Some((photo_a, plate_a)), Some((photo_b, plate_b))) =
        (models(), photo("eu1"), photo("eu2"))
    else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let deployment = demo(&data, 10);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let watch = work.path().join("camera");
    std::fs::create_dir_all(&watch).unwrap();
    std::fs::copy(&photo_a, watch.join("a.jpg")).unwrap();
    let log = work.path().join("agent.log");
    let _agent = AgentProcess::start(work.path(), &watch, &base, &deployment.camera_key, &models);
    // The agent has recognised the photo and is retrying: the photo must stay.
    wait_for("a retry", Duration::from_secs(120), &log, || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("server unreachable")
    });
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::copy(&photo_b, watch.join("b.jpg")).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        watch.join("a.jpg").exists(),
        "a photo was lost while the server was down"
    );
    assert!(watch.join("b.jpg").exists());

    let _server = Server::start_on(&data, port, &[]);
    wait_for("both reads", Duration::from_secs(180), &log, || {
        !watch.join("a.jpg").exists() && !watch.join("b.jpg").exists()
    });
    // In the order the camera took them.
    assert_eq!(agent_reads(&data), vec![plate_a, plate_b]);
}
