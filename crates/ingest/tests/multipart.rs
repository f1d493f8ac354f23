//! Multipart uploads: JSON metadata with raw image parts.

mod common;

use anpr_ingest::{parse_multipart, IngestLimits, Part};
use common::{jpeg, now, png};

const ONE: &str = r#"{"plate":"ABC123","captured_at":"2024-05-01T11:00:00Z","confidence":0.9}"#;
const TWO: &str = r#"{"reads":[{"plate":"ABC123","captured_at":"2024-05-01T11:00:00Z","confidence":0.9},
                               {"plate":"DEF456","captured_at":"2024-05-01T11:00:01Z","confidence":0.8}]}"#;

fn parse(parts: Vec<Part>) -> Result<Vec<anpr_ingest::IncomingRead>, anpr_ingest::IngestError> {
    parse_multipart(parts, now(), &IngestLimits::default())
}

#[test]
fn own_read_with_image_parts() {
    let reads = parse(vec![
        Part::new("metadata", ONE),
        Part::new("overview_image", jpeg(320, 240)),
        Part::new("plate_image", png(60, 20)),
    ])
    .unwrap();
    assert_eq!(reads[0].overview_image.as_ref().unwrap().width(), 320);
    assert_eq!(reads[0].plate_image.as_ref().unwrap().width(), 60);
}

#[test]
fn batch_with_indexed_parts() {
    let reads = parse(vec![
        Part::new("reads[1].plate_image", jpeg(60, 20)),
        Part::new("metadata", TWO),
        Part::new("reads[0].overview_image", jpeg(320, 240)),
    ])
    .unwrap();
    assert!(reads[0].plate_image.is_none());
    assert_eq!(reads[0].overview_image.as_ref().unwrap().width(), 320);
    assert_eq!(reads[1].plate_image.as_ref().unwrap().width(), 60);
}

#[test]
fn plate_recognizer_webhook_with_upload() {
    let json = r#"{"hook":{"target":"x","id":"camera-1","event":"recognition"},
      "data":{"camera_id":"camera-1","timestamp":"2024-05-01T10:00:13.606935Z",
              "results":[{"plate":"lkq913","score":0.84,"box":{"xmin":460,"ymin":57,"xmax":557,"ymax":82}},
                         {"plate":"abc123","score":0.91,"box":{"xmin":60,"ymin":57,"xmax":157,"ymax":82}}]}}"#;
    let reads = parse(vec![
        Part::new("json", json),
        Part::new("upload", jpeg(800, 600)),
    ])
    .unwrap();
    assert_eq!(reads.len(), 2);
    for r in &reads {
        assert_eq!(
            r.overview_image.as_ref().unwrap().width(),
            800,
            "the frame is every read's overview"
        );
    }
}

#[test]
fn empty_file_parts_are_ignored() {
    let reads = parse(vec![
        Part::new("metadata", ONE),
        Part::new("plate_image", Vec::new()),
    ])
    .unwrap();
    assert!(reads[0].plate_image.is_none());
}

#[test]
fn refusals() {
    let cases: Vec<(Vec<Part>, &str, u16)> = vec![
        (vec![Part::new("plate_image", jpeg(8, 8))], "metadata", 400),
        (
            vec![Part::new("metadata", ONE), Part::new("json", ONE)],
            "json",
            422,
        ),
        (
            vec![Part::new("metadata", ONE), Part::new("picture", jpeg(8, 8))],
            "picture",
            422,
        ),
        (
            vec![
                Part::new("metadata", ONE),
                Part::new("plate_image", b"not an image".to_vec()),
            ],
            "plate_image",
            422,
        ),
        (
            vec![
                Part::new("metadata", ONE),
                Part::new("plate_image", jpeg(8, 8)),
                Part::new("plate_image", jpeg(8, 8)),
            ],
            "plate_image",
            422,
        ),
        (
            vec![
                Part::new("metadata", TWO),
                Part::new("plate_image", jpeg(8, 8)),
            ],
            "plate_image",
            422,
        ),
        (
            vec![
                Part::new("metadata", TWO),
                Part::new("reads[2].plate_image", jpeg(8, 8)),
            ],
            "reads[2].plate_image",
            422,
        ),
        (vec![Part::new("metadata", "{not json")], "body", 400),
        (
            vec![
                Part::new("metadata", r#"{"data_type":"heartbeat"}"#),
                Part::new("upload", jpeg(8, 8)),
            ],
            "upload",
            422,
        ),
    ];
    for (parts, field, status) in cases {
        let names: Vec<String> = parts.iter().map(|p| p.name.clone()).collect();
        let e = parse(parts).expect_err(&format!("{names:?} must be refused"));
        assert_eq!(
            (e.field(), e.http_status()),
            (field, status),
            "{names:?}: {e}"
        );
    }
    let truncated = jpeg(64, 64);
    let e = parse(vec![
        Part::new("metadata", ONE),
        Part::new("overview_image", truncated[..100].to_vec()),
    ])
    .unwrap_err();
    assert!(e.message().contains("truncated"), "{e}");
    let both = format!(
        r#"{{"plate":"ABC123","captured_at":"2024-05-01T11:00:00Z","confidence":0.9,"plate_image":"{}"}}"#,
        common::b64(&jpeg(8, 8))
    );
    let e = parse(vec![
        Part::new("metadata", both),
        Part::new("plate_image", jpeg(8, 8)),
    ])
    .unwrap_err();
    assert!(e.message().contains("both"), "{e}");
}
