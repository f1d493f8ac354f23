//! Property-based fuzzing: no input may panic the parsers, and whatever they accept obeys the
//! rules.

mod common;

use anpr_ingest::{fuzz_one, parse_multipart, parse_reads, IngestLimits, Part};
use common::now;
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        "\\PC{0,20}".prop_map(Value::String),
        // Values that reach deep into the parsers.
        prop_oneof![
            Just("ABC123"),
            Just("2024-05-01T11:00:00Z"),
            Just("alpr_group"),
            Just("alpr_results"),
            Just("2024-05-01 11:00:00"),
            Just("/9j/"),
            Just("iVBORw0KGgo="),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    let key = prop_oneof![
        Just("plate"),
        Just("captured_at"),
        Just("confidence"),
        Just("reads"),
        Just("data"),
        Just("results"),
        Just("data_type"),
        Just("timestamp"),
        Just("score"),
        Just("box"),
        Just("epoch_start"),
        Just("epoch_time"),
        Just("best_plate_number"),
        Just("best_confidence"),
        Just("best_plate"),
        Just("coordinates"),
        Just("vehicle"),
        Just("plate_box"),
        Just("overview_image"),
        Just("plate_image"),
        Just("x"),
        Just("y"),
        Just("xmin"),
        Just("make"),
        Just("color"),
        Just("name"),
        Just("camera_id"),
        Just("other"),
    ]
    .prop_map(str::to_string);
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn check(body: &[u8]) {
    if let Ok(reads) = parse_reads(body, now(), &IngestLimits::default()) {
        for r in reads {
            assert!((0.0..=1.0).contains(&r.confidence));
            assert!(!r.plate.as_str().is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes);
        fuzz_one(&bytes);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,300}") {
        check(s.as_bytes());
        fuzz_one(s.as_bytes());
    }

    #[test]
    fn arbitrary_json_never_panics(v in json_value()) {
        let body = serde_json::to_vec(&v).unwrap();
        check(&body);
        let _ = parse_multipart(vec![Part::new("metadata", body.clone()), Part::new("upload", body)], now(), &IngestLimits::default());
    }

    #[test]
    fn arbitrary_json_in_each_envelope_never_panics(v in json_value(), envelope in 0usize..5) {
        let body = match envelope {
            0 => serde_json::json!({"reads": [v]}),
            1 => serde_json::json!({"data_type": "alpr_group", "epoch_start": 1714550000000i64, "best_plate_number": "ABC123", "best_confidence": 50, "best_plate": v}),
            2 => serde_json::json!({"data_type": "alpr_results", "epoch_time": 1714550000, "results": [v]}),
            3 => serde_json::json!({"data": {"timestamp": "2024-05-01T10:00:00Z", "results": [v]}}),
            _ => serde_json::json!({"plate": "ABC123", "captured_at": "2024-05-01T10:00:00Z", "confidence": 0.5, "vehicle": v}),
        };
        check(&serde_json::to_vec(&body).unwrap());
    }

    #[test]
    fn mutated_valid_bodies_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut body = br#"{"reads":[{"plate":"ABC123","captured_at":"2024-05-01T10:00:00Z","confidence":0.9,"plate_box":{"x":1,"y":2,"width":3,"height":4},"vehicle":{"make":"Ford","colour":"red"}}]}"#.to_vec();
        for (at, byte) in flips {
            let i = at.index(body.len());
            body[i] = byte;
        }
        check(&body);
    }
}
