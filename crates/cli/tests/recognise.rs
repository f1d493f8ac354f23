//! `anpr recognise` prints what OpenALPR's `alpr -j` prints, so that tools written for it read
//! the platform's output: real photos, the real models.

use serde_json::Value;
use std::process::Command;

#[test]
fn recognise_prints_openalpr_results_with_candidates_and_region() {
    let Some(models) = anpr_testkit::models_dir(anpr_recognition::models::installed) else {
        return;
    };
    let Some(photos) = anpr_testkit::shared("testdata/plates/eu") else {
        return;
    };
    let label = std::fs::read_to_string(photos.join("eu1.txt")).unwrap();
    let expected = label.split_whitespace().last().unwrap().to_string();
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(data.path())
        .arg("recognise")
        .arg("--models")
        .arg(&models)
        .arg(photos.join("eu1.jpg"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(line["data_type"], "alpr_results");
    assert_eq!(line["version"], 2);
    assert!(line["img_width"].as_u64().unwrap() > 0);
    assert!(line["img_height"].as_u64().unwrap() > 0);
    let best = &line["results"][0];
    assert_eq!(best["plate"], expected.as_str(), "{line}");
    assert_eq!(best["plate_index"], 0);
    // A region profile's format fits, or the region is empty with no confidence in it.
    let region = best["region"].as_str().unwrap();
    let region_confidence = best["region_confidence"].as_u64().unwrap();
    assert_eq!(region.is_empty(), region_confidence == 0, "{line}");
    assert!(best["matches_template"] == 0 || best["matches_template"] == 1);
    assert_eq!(best["requested_topn"], 5);
    let corners = best["coordinates"].as_array().unwrap();
    assert_eq!(corners.len(), 4);
    // Clockwise from the top left: right of it, then below.
    assert!(corners[1]["x"].as_u64() > corners[0]["x"].as_u64());
    assert!(corners[2]["y"].as_u64() > corners[1]["y"].as_u64());
    let candidates = best["candidates"].as_array().unwrap();
    assert!(!candidates.is_empty() && candidates.len() <= 5, "{line}");
    assert_eq!(candidates[0]["plate"], best["plate"]);
    assert!(candidates
        .iter()
        .all(|c| c["matches_template"] == 0 || c["matches_template"] == 1));
}
