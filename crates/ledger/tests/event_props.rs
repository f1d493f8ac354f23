//! Property tests of the entry encoding: decode(encode(e)) == e, the encoding is canonical JSON
//! (equal to a generic sorted-key serialisation of itself), and it is a function of the event.

use anpr_ledger::{Action, Actor, ActorKind, Event, Outcome, OutcomeKind, ResultDigest};
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn action() -> impl Strategy<Value = Action> {
    let known: Vec<Action> = Action::known().collect();
    prop_oneof![
        prop::sample::select(known),
        "[a-z][a-z_]{0,15}".prop_map(|s| s.parse::<Action>().unwrap()),
    ]
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_102_444_800, 0u32..1_000_000_000).prop_map(|(s, ns)| Utc.timestamp_opt(s, ns).unwrap())
}

prop_compose! {
    fn event()(
        seq: u64,
        time in time(),
        kind in prop::sample::select(vec![ActorKind::Staff, ActorKind::Camera, ActorKind::System]),
        id in "\\PC{0,10}",
        role in "[a-z]{0,10}",
        action in action(),
        purpose in prop::option::of("\\PC{0,10}"),
        file_number in prop::option::of("\\PC{0,10}"),
        justification in prop::option::of("\\PC{0,40}"),
        query in json_value(),
        ids in prop::option::of(prop::collection::vec(any::<i64>(), 0..20)),
        outcome in prop::sample::select(vec![OutcomeKind::Granted, OutcomeKind::Refused, OutcomeKind::Error, OutcomeKind::Pending]),
        reason in prop::option::of("\\PC{0,20}"),
    ) -> Event {
        Event {
            seq,
            time,
            actor: Actor { id, kind, role },
            action,
            purpose,
            file_number,
            justification,
            query,
            result: ids.map(|ids| ResultDigest::of_ids(&ids)),
            outcome: Outcome { reason, result: outcome },
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn round_trip_and_canonical(e in event()) {
        let bytes = e.encode();
        let back = Event::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &e);
        prop_assert_eq!(back.encode(), bytes.clone());
        // No whitespace outside strings and keys sorted: equal to a generic canonicalisation.
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(v["v"].as_u64(), Some(1));
        let mut canon = Vec::new();
        write_canonical(&v, &mut canon);
        prop_assert_eq!(canon, bytes);
    }
}

/// An independent canonical writer (sorted keys, compact), to check the crate's encoder.
fn write_canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(serde_json::to_vec(k).unwrap());
                out.push(b':');
                write_canonical(&m[k.as_str()], out);
            }
            out.push(b'}');
        }
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(x, out);
            }
            out.push(b']');
        }
        scalar => out.extend(serde_json::to_vec(scalar).unwrap()),
    }
}
