//! Import dumps: JSONL and CSV, with bad lines reported by number and skipped.

mod common;

use anpr_ingest::import::{reads, DumpFormat, ImportItem};
use anpr_ingest::{ImageLimits, IngestLimits};
use common::{b64, jpeg, now};
use std::path::Path;

fn run(text: &str, format: DumpFormat) -> Vec<ImportItem> {
    reads(text.as_bytes(), format, now(), IngestLimits::default()).collect()
}

#[test]
fn jsonl_dump() {
    let image = b64(&jpeg(32, 16));
    let text = format!(
        "{{\"camera_id\": 3, \"plate\": \"ABC123\", \"captured_at\": \"2024-04-20T08:00:00Z\", \"confidence\": 0.97}}\r\n\
         \n\
         {{\"camera_id\": 4, \"plate\": \"🚗\", \"captured_at\": \"2024-04-20T08:00:00Z\", \"confidence\": 0.97}}\n\
         {{\"plate\": \"DEF456\", \"captured_at\": \"2024-04-20T08:00:00Z\", \"confidence\": 0.97}}\n\
         not json at all\n\
         {{\"camera_id\": 5, \"plate\": \"GHI789\", \"captured_at\": \"2024-04-21T09:30:00+12:00\", \"confidence\": 0.5,\
           \"external_id\": \"x-1\", \"vehicle\": {{\"make\": \"Holden\", \"colour\": \"green\"}}, \"plate_image\": \"{image}\"}}"
    );
    let items = run(&text, DumpFormat::Jsonl);
    let lines: Vec<u64> = items.iter().map(|(l, _)| *l).collect();
    assert_eq!(
        lines,
        [1, 3, 4, 5, 6],
        "blank lines are skipped but counted"
    );
    let (camera, read) = items[0].1.as_ref().unwrap();
    assert_eq!((*camera, read.plate.as_str()), (3, "ABC123"));
    assert_eq!(items[1].1.as_ref().unwrap_err().field(), "plate");
    assert_eq!(items[2].1.as_ref().unwrap_err().field(), "camera_id");
    assert_eq!(items[3].1.as_ref().unwrap_err().http_status(), 400);
    let (camera, read) = items[4].1.as_ref().unwrap();
    assert_eq!(*camera, 5);
    assert_eq!(read.vehicle_make.as_deref(), Some("Holden"));
    assert_eq!(read.plate_image.as_ref().unwrap().width(), 32);
}

#[test]
fn jsonl_overlong_line_is_skipped_not_fatal() {
    let limits = IngestLimits {
        image: ImageLimits {
            max_bytes: 100,
            ..ImageLimits::default()
        },
        ..IngestLimits::default()
    };
    let long = format!(
        "{{\"camera_id\": 1, \"junk\": \"{}\"}}",
        "x".repeat(200_000)
    );
    let good = r#"{"camera_id": 2, "plate": "ABC123", "captured_at": "2024-04-20T08:00:00Z", "confidence": 0.9}"#;
    let text = format!("{long}\n{good}\n");
    let items: Vec<_> = reads(text.as_bytes(), DumpFormat::Jsonl, now(), limits).collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].1.as_ref().unwrap_err().http_status(), 413);
    assert_eq!(items[1].0, 2);
    assert!(items[1].1.is_ok());
}

#[test]
fn csv_dump() {
    let text = "camera_id,captured_at,plate,confidence,external_id,make,colour\n\
                1,2024-04-20T08:00:00Z,ABC123,0.93,e-1,Toyota,white\n\
                2,2024-04-20T08:00:01Z,ab 1234,0.81,,,\n\
                x,2024-04-20T08:00:01Z,ABC123,0.81,,,\n\
                3,2024-04-20T08:00:01Z,ABC123,high,,,\n\
                3,2024-04-20T08:00:01Z,ABC123,0.5\n\
                \"4\",\"2024-04-20T08:00:02Z\",\"KIWI\",\"1\",\"\",\"\",\"\"\n";
    let items = run(text, DumpFormat::Csv);
    assert_eq!(items.len(), 6);
    let (camera, read) = items[0].1.as_ref().unwrap();
    assert_eq!(
        (*camera, read.plate.as_str(), read.external_id.as_deref()),
        (1, "ABC123", Some("e-1"))
    );
    assert_eq!(read.vehicle_colour.as_deref(), Some("white"));
    let (_, read) = items[1].1.as_ref().unwrap();
    assert_eq!(
        (read.plate.as_str(), read.vehicle_make.as_ref()),
        ("AB1234", None)
    );
    assert_eq!(items[2].0, 4);
    assert_eq!(items[2].1.as_ref().unwrap_err().field(), "camera_id");
    assert_eq!(items[3].1.as_ref().unwrap_err().field(), "confidence");
    assert_eq!(
        items[4].1.as_ref().unwrap_err().http_status(),
        400,
        "a short row"
    );
    assert_eq!(items[5].0, 7);
    assert!(items[5].1.is_ok());
}

#[test]
fn csv_minimal_header_in_any_order() {
    let text = "plate,confidence,camera_id,captured_at\nABC123,0.9,7,2024-04-20T08:00:00Z\n";
    let items = run(text, DumpFormat::Csv);
    assert_eq!(items[0].1.as_ref().unwrap().0, 7);
}

#[test]
fn csv_bad_header_stops_at_line_one() {
    let items = run("camera,when,plate\n1,2,3\n", DumpFormat::Csv);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].0, 1);
    assert_eq!(items[0].1.as_ref().unwrap_err().field(), "header");
    let items = run("camera_id,captured_at,plate\n1,2,3\n", DumpFormat::Csv);
    assert!(items[0]
        .1
        .as_ref()
        .unwrap_err()
        .message()
        .contains("confidence"));
    assert!(run("", DumpFormat::Csv)[0].1.is_err());
    assert!(run("", DumpFormat::Jsonl).is_empty());
}

#[test]
fn format_detection() {
    assert_eq!(
        DumpFormat::from_path(Path::new("dump.JSONL")),
        Some(DumpFormat::Jsonl)
    );
    assert_eq!(
        DumpFormat::from_path(Path::new("/tmp/reads.csv")),
        Some(DumpFormat::Csv)
    );
    assert_eq!(DumpFormat::from_path(Path::new("reads.txt")), None);
    assert_eq!(
        DumpFormat::sniff(b"\n {\"camera_id\":1}"),
        DumpFormat::Jsonl
    );
    assert_eq!(DumpFormat::sniff(b"camera_id,captured_at"), DumpFormat::Csv);
}
