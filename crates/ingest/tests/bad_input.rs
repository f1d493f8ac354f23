//! Every kind of bad input the issue lists: a clear error naming the field, the right status,
//! and never a partial batch.

mod common;

use anpr_ingest::{parse_reads, ImageLimits, IngestError, IngestLimits};
use common::{b64, jpeg, now, png};

fn err(body: &str) -> IngestError {
    err_with(body, &IngestLimits::default())
}

fn err_with(body: &str, limits: &IngestLimits) -> IngestError {
    match parse_reads(body.as_bytes(), now(), limits) {
        Ok(reads) => panic!("accepted {body}: {reads:?}"),
        Err(e) => e,
    }
}

/// A read object with one field replaced (or added).
fn read_with(field: &str, value: &str) -> String {
    let mut fields = vec![
        ("plate", "\"ABC123\"".to_string()),
        ("captured_at", "\"2024-05-01T11:00:00Z\"".to_string()),
        ("confidence", "0.9".to_string()),
    ];
    match fields.iter_mut().find(|(f, _)| *f == field) {
        Some(slot) => slot.1 = value.to_string(),
        None => fields.push((field, value.to_string())),
    }
    let inner: Vec<String> = fields.iter().map(|(f, v)| format!("\"{f}\":{v}")).collect();
    format!("{{{}}}", inner.join(","))
}

fn batch_with_bad_fourth(field: &str, value: &str) -> String {
    let good = read_with("plate", "\"ABC123\"");
    format!(
        "{{\"reads\":[{good},{good},{good},{},{good}]}}",
        read_with(field, value)
    )
}

fn assert_err(e: &IngestError, field: &str, status: u16, fragment: &str) {
    assert_eq!(e.field(), field, "{e}");
    assert_eq!(e.http_status(), status, "{e}");
    assert!(e.message().contains(fragment), "{e:?} lacks {fragment:?}");
}

#[test]
fn malformed_json_says_where() {
    let e = err("{\"plate\": \"ABC123\",\n \"confidence\": 0.9,,}");
    assert_err(&e, "body", 400, "line 2 column");
    assert_err(&err("{\"plate\": \"ABC"), "body", 400, "EOF");
    assert_err(&err(""), "body", 400, "empty");
    assert_err(&err("   \n"), "body", 400, "empty");
    assert_err(&err("[1,2,3]"), "body", 400, "JSON object");
    assert_err(&err("null"), "body", 400, "JSON object");
    assert_err(&err("<xml/>"), "body", 400, "JSON object");
    let bad_utf8 =
        parse_reads(b"{\"plate\":\"\xff\xfe\"}", now(), &IngestLimits::default()).unwrap_err();
    assert_eq!(bad_utf8.http_status(), 400);
}

#[test]
fn wrong_types_name_the_field() {
    assert_err(
        &err(&read_with("confidence", "\"high\"")),
        "confidence",
        422,
        "invalid type",
    );
    assert_err(
        &err(&read_with("plate", "123456")),
        "plate",
        422,
        "expected a string",
    );
    assert_err(&err(&read_with("plate", "null")), "plate", 422, "");
    assert_err(
        &err(&read_with("captured_at", "1714557600")),
        "captured_at",
        422,
        "",
    );
    assert_err(
        &err(&read_with(
            "plate_box",
            "{\"x\":-1,\"y\":0,\"width\":5,\"height\":5}",
        )),
        "plate_box.x",
        422,
        "",
    );
    assert_err(
        &err(&read_with("vehicle", "{\"make\": 7}")),
        "vehicle.make",
        422,
        "",
    );
    assert_err(
        &err(&batch_with_bad_fourth("confidence", "[]")),
        "reads[3].confidence",
        422,
        "",
    );
    assert_err(
        &err("{\"reads\": {\"plate\": \"ABC123\"}}"),
        "reads",
        422,
        "expected a sequence",
    );
    assert_err(&err("{\"data_type\": 5}"), "data_type", 422, "");
}

#[test]
fn missing_fields_are_named() {
    assert_err(
        &err(r#"{"plate":"ABC123","confidence":0.9}"#),
        "captured_at",
        422,
        "required",
    );
    let body = r#"{"reads":[{"plate":"ABC123","captured_at":"2024-05-01T11:00:00Z","confidence":0.9},
                             {"plate":"ABC123","captured_at":"2024-05-01T11:00:00Z"}]}"#;
    assert_err(&err(body), "reads[1].confidence", 422, "required");
    let group = r#"{"data_type":"alpr_group","best_plate_number":"ABC123","best_confidence":90}"#;
    assert_err(&err(group), "epoch_start", 422, "required");
    let group = r#"{"data_type":"alpr_group","epoch_start":1714557600000,"best_confidence":90}"#;
    assert_err(&err(group), "best_plate_number", 422, "required");
    let pr = r#"{"hook":{},"data":{"results":[]}}"#;
    assert_err(&err(pr), "data.timestamp", 422, "required");
}

#[test]
fn unknown_formats() {
    assert_err(&err(r#"{"foo": 1}"#), "body", 400, "none of the formats");
    assert_err(&err(r#"{}"#), "body", 400, "none of the formats");
    assert_err(
        &err(r#"{"data_type": "alpr_video"}"#),
        "body",
        400,
        "alpr_video",
    );
    assert!(matches!(
        err(r#"{"foo": 1}"#),
        IngestError::UnknownFormat { .. }
    ));
}

#[test]
fn empty_and_absurd_plates() {
    assert_err(&err(&read_with("plate", "\"\"")), "plate", 422, "empty");
    assert_err(&err(&read_with("plate", "\" - \"")), "plate", 422, "empty");
    assert_err(
        &err(&read_with("plate", "\"🚗🚓\"")),
        "plate",
        422,
        "cannot appear",
    );
    assert_err(
        &err(&read_with("plate", &format!("\"{}\"", "A".repeat(40)))),
        "plate",
        422,
        "longer than",
    );
    assert_err(
        &err(&read_with("plate", "\"AB'; DROP TABLE reads;--\"")),
        "plate",
        422,
        "",
    );
    assert_err(
        &err(&batch_with_bad_fourth("plate", "\"\"")),
        "reads[3].plate",
        422,
        "empty",
    );
    let group = r#"{"data_type":"alpr_group","epoch_start":1714557600000,"best_confidence":90,"best_plate_number":"ÄÖÜ"}"#;
    assert_err(&err(group), "best_plate_number", 422, "cannot appear");
    let pr =
        r#"{"data":{"timestamp":"2024-05-01T10:00:00Z","results":[{"plate":"","score":0.9}]}}"#;
    assert_err(&err(pr), "data.results[0].plate", 422, "empty");
}

#[test]
fn confidence_out_of_range() {
    assert_err(
        &err(&read_with("confidence", "1.5")),
        "confidence",
        422,
        "between 0 and 1",
    );
    assert_err(
        &err(&read_with("confidence", "-0.1")),
        "confidence",
        422,
        "between 0 and 1",
    );
    assert_err(
        &err(&read_with("confidence", "93")),
        "confidence",
        422,
        "send 0.93",
    );
    assert_err(&err(&read_with("confidence", "1e400")), "body", 400, "");
    let group = r#"{"data_type":"alpr_group","epoch_start":1714557600000,"best_confidence":101,"best_plate_number":"ABC123"}"#;
    assert_err(&err(group), "best_confidence", 422, "between 0 and 100");
    let results = r#"{"data_type":"alpr_results","epoch_time":1714557600000,"results":[{"plate":"ABC123","confidence":-3}]}"#;
    assert_err(
        &err(results),
        "results[0].confidence",
        422,
        "between 0 and 100",
    );
    let pr = r#"{"data":{"timestamp":"2024-05-01T10:00:00Z","results":[{"plate":"ABC123","score":83.9}]}}"#;
    assert_err(&err(pr), "data.results[0].score", 422, "between 0 and 1");
}

#[test]
fn capture_times() {
    let e = err(&batch_with_bad_fourth(
        "captured_at",
        "\"2024-05-03T12:00:00Z\"",
    ));
    assert_eq!(
        e.to_string(),
        "reads[3].captured_at: is 2 days in the future (is the camera's clock set?)"
    );
    assert_err(
        &err(&read_with("captured_at", "\"2024-05-01T12:10:00Z\"")),
        "captured_at",
        422,
        "10 minutes in the future",
    );
    assert!(parse_reads(
        read_with("captured_at", "\"2024-05-01T12:04:59Z\"").as_bytes(),
        now(),
        &IngestLimits::default()
    )
    .is_ok());
    assert_err(
        &err(&read_with("captured_at", "\"1970-01-01T00:00:00Z\"")),
        "captured_at",
        422,
        "before 2000-01-01",
    );
    assert_err(
        &err(&read_with("captured_at", "\"2024-05-01 11:00:00\"")),
        "captured_at",
        422,
        "RFC 3339",
    );
    assert_err(
        &err(&read_with("captured_at", "\"yesterday\"")),
        "captured_at",
        422,
        "RFC 3339",
    );
    let group = r#"{"data_type":"alpr_group","epoch_start":4102444800000,"best_confidence":90,"best_plate_number":"ABC123"}"#;
    assert_err(&err(group), "epoch_start", 422, "in the future");
    let results = r#"{"data_type":"alpr_results","epoch_time":0,"results":[{"plate":"ABC123","confidence":90}]}"#;
    assert_err(&err(results), "epoch_time", 422, "before 2000");
    let pr = r#"{"data":{"timestamp":"2031-05-01 10:00:00","results":[]}}"#;
    assert_err(&err(pr), "data.timestamp", 422, "in the future");
}

#[test]
fn batch_limit_is_413() {
    let one = read_with("plate", "\"ABC123\"");
    let body = format!("{{\"reads\":[{}]}}", vec![one.as_str(); 1001].join(","));
    assert_err(&err(&body), "reads", 413, "at most 1000");
    let limits = IngestLimits {
        max_batch: 2,
        ..IngestLimits::default()
    };
    let body = format!("{{\"reads\":[{one},{one},{one}]}}");
    assert_err(&err_with(&body, &limits), "reads", 413, "at most 2");
}

#[test]
fn failed_batch_yields_no_reads() {
    for (field, value) in [
        ("plate", "\"🚗\""),
        ("confidence", "2"),
        ("captured_at", "\"2030-01-01T00:00:00Z\""),
        ("overview_image", "\"bm90IGFuIGltYWdl\""),
    ] {
        let result = parse_reads(
            batch_with_bad_fourth(field, value).as_bytes(),
            now(),
            &IngestLimits::default(),
        );
        let e = result.expect_err("a batch with one bad read must fail whole");
        assert!(e.field().starts_with("reads[3]."), "{e}");
    }
}

#[test]
fn bad_images() {
    assert_err(
        &err(&read_with("overview_image", "\"%%% not base64 %%%\"")),
        "overview_image",
        422,
        "not valid base64",
    );
    let text = b64(b"this is a text file, not a picture");
    assert_err(
        &err(&read_with("plate_image", &format!("\"{text}\""))),
        "plate_image",
        422,
        "not a JPEG or PNG",
    );
    let gif = b64(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;");
    assert_err(
        &err(&read_with("plate_image", &format!("\"{gif}\""))),
        "plate_image",
        422,
        "not a JPEG or PNG",
    );
    let jpeg = jpeg(64, 64);
    let truncated = b64(&jpeg[..jpeg.len() / 2]);
    assert_err(
        &err(&read_with("plate_image", &format!("\"{truncated}\""))),
        "plate_image",
        422,
        "truncated",
    );
    let png = png(64, 64);
    let truncated = b64(&png[..png.len() - 20]);
    assert_err(
        &err(&batch_with_bad_fourth(
            "overview_image",
            &format!("\"{truncated}\""),
        )),
        "reads[3].overview_image",
        422,
        "truncated",
    );
    assert_err(
        &err(&read_with("plate_image", "42")),
        "plate_image",
        422,
        "expected a string",
    );
    let limits = IngestLimits {
        image: ImageLimits {
            max_bytes: 100,
            ..ImageLimits::default()
        },
        ..IngestLimits::default()
    };
    let big = b64(&jpeg);
    assert_err(
        &err_with(&read_with("plate_image", &format!("\"{big}\"")), &limits),
        "plate_image",
        413,
        "limit",
    );
    let group = format!(
        r#"{{"data_type":"alpr_group","epoch_start":1714557600000,"best_confidence":90,"best_plate_number":"ABC123",
             "best_plate":{{"plate_crop_jpeg":"{}"}}}}"#,
        b64(b"\xFF\xD8\xFF garbage")
    );
    assert_err(&err(&group), "best_plate.plate_crop_jpeg", 422, "truncated");
}

#[test]
fn bad_boxes_and_text() {
    assert_err(
        &err(&read_with(
            "plate_box",
            r#"{"x":1,"y":1,"width":0,"height":5}"#,
        )),
        "plate_box",
        422,
        "positive",
    );
    assert_err(
        &err(&read_with(
            "plate_box",
            r#"{"x":4000000000,"y":1,"width":10,"height":5}"#,
        )),
        "plate_box",
        422,
        "outside",
    );
    let long = format!("{{\"make\":\"{}\"}}", "x".repeat(200));
    assert_err(
        &err(&read_with("vehicle", &long)),
        "vehicle.make",
        422,
        "longer than 64",
    );
    let id = format!("\"{}\"", "i".repeat(500));
    assert_err(
        &err(&read_with("external_id", &id)),
        "external_id",
        422,
        "longer than 128",
    );
    assert_err(
        &err(&read_with("external_id", "\"a\\u0000b\"")),
        "external_id",
        422,
        "control",
    );
    let pr = r#"{"data":{"timestamp":"2024-05-01T10:00:00Z","results":[{"plate":"ABC123","score":0.9,
                 "box":{"xmin":0,"ymin":0,"xmax":1e12,"ymax":4}}]}}"#;
    assert_err(&err(pr), "data.results[0].box", 422, "outside");
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    for depth in [200, 100_000] {
        let body = format!("{{\"plate\": {}1{}}}", "[".repeat(depth), "]".repeat(depth));
        let e = err(&body);
        assert!(matches!(e.http_status(), 400 | 422), "{e}");
        let body = format!("{{\"other\": {}1{}}}", "[".repeat(depth), "]".repeat(depth));
        assert!(parse_reads(body.as_bytes(), now(), &IngestLimits::default()).is_err());
        let body = format!(
            "{{\"reads\": [{{\"vehicle\": {}{}}}]}}",
            "{\"a\":".repeat(depth),
            "}".repeat(depth)
        );
        assert!(parse_reads(body.as_bytes(), now(), &IngestLimits::default()).is_err());
    }
}
