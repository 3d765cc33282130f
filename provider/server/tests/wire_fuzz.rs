//! Fuzzing the wire edge: bytes as the engine would send them (a `google.protobuf.Struct`),
//! mutated (flipped bytes, invalid UTF-8 in strings, truncation), decoded by prost, converted by
//! `wire::from_struct` (signatures, all unknown sentinels, malformed special objects) and decoded
//! by the codec. Never a panic; invalid UTF-8 and over-deep nesting are refused with errors.
//!
//! Cases: `SECURE_EKS_FUZZ_CASES` (default 500). The pure Check path behind it is fuzzed at much
//! higher counts by `provider/core/tests/fuzz.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use prost::Message;
use prost_types::value::Kind;
use prost_types::{ListValue, Struct};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use secure_eks_core::codec::{self, MAX_DEPTH};
use secure_eks_core::model::ClusterArgs;
use secure_eks_core::value::{UnknownKind, Value};
use secure_eks_server::wire::{self, WireError, SIG_KEY};

const SIGS: [&str; 6] = [
    "1b47061264138c4ac30d75fd1eb44270",
    "5cf8f73096256a8f31e491e813e4eb8e",
    "d0e6a833031e9bbcd3f4e8bde6ca49a4",
    "c44067f5952c0a294b673a41bacd8c17",
    "0def7320c3a5731c473e5ecbe6d01bc7",
    "ffffffffffffffffffffffffffffffff",
];
const KEYS: [&str; 10] = ["value", "urn", "id", "secret", "dependencies", "assets", "nodeGroups", "name", "tags", "kubernetesVersion"];

fn s(x: &str) -> prost_types::Value {
    prost_types::Value { kind: Some(Kind::StringValue(x.to_string())) }
}

fn leaf() -> impl Strategy<Value = prost_types::Value> {
    prop_oneof![
        Just(prost_types::Value { kind: None }),
        Just(prost_types::Value { kind: Some(Kind::NullValue(0)) }),
        any::<bool>().prop_map(|b| prost_types::Value { kind: Some(Kind::BoolValue(b)) }),
        any::<f64>().prop_map(|n| prost_types::Value { kind: Some(Kind::NumberValue(n)) }),
        ".{0,12}".prop_map(|x| s(&x)),
        prop::sample::select(UnknownKind::ALL.to_vec()).prop_map(|k| s(wire::sentinel(k))),
    ]
}

fn tree() -> impl Strategy<Value = prost_types::Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|values| prost_types::Value { kind: Some(Kind::ListValue(ListValue { values })) }),
            prop::collection::btree_map(prop::sample::select(KEYS.to_vec()).prop_map(str::to_string), inner.clone(), 0..5)
                .prop_map(|fields| prost_types::Value { kind: Some(Kind::StructValue(Struct { fields })) }),
            // A special object: a signature (or a bad one) with arbitrary, possibly wrong fields.
            (prop::sample::select(SIGS.to_vec()), prop::collection::btree_map(prop::sample::select(KEYS.to_vec()).prop_map(str::to_string), inner, 0..4))
                .prop_map(|(sig, mut fields)| {
                    fields.insert(SIG_KEY.to_string(), s(sig));
                    prost_types::Value { kind: Some(Kind::StructValue(Struct { fields })) }
                }),
        ]
    })
}

/// How to damage the encoded bytes.
#[derive(Debug, Clone)]
enum Damage {
    None,
    Flip(usize, u8),
    Truncate(usize),
    /// Overwrite a byte of the first string with 0xFF (invalid UTF-8).
    BadUtf8(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        2 => Just(Damage::None),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Damage::Flip(i, b)),
        1 => any::<usize>().prop_map(Damage::Truncate),
        2 => any::<usize>().prop_map(Damage::BadUtf8),
    ]
}

fn cases() -> u32 {
    std::env::var("SECURE_EKS_FUZZ_CASES").ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(500)
}

#[test]
fn damaged_structs_never_panic() {
    let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    let strat = (prop::collection::btree_map(prop::sample::select(KEYS.to_vec()).prop_map(str::to_string), tree(), 0..6), damage());
    runner
        .run(&strat, |(fields, dmg)| {
            let mut bytes = Struct { fields }.encode_to_vec();
            match dmg {
                Damage::None => {}
                Damage::Flip(i, b) if !bytes.is_empty() => {
                    let i = i % bytes.len();
                    bytes[i] ^= b | 1;
                }
                Damage::Truncate(i) if !bytes.is_empty() => bytes.truncate(i % bytes.len()),
                Damage::BadUtf8(i) => {
                    // A string's bytes are printable here; any byte >= 0x20 may be one of them.
                    let at: Vec<usize> = bytes.iter().enumerate().filter(|(_, b)| (0x20..0x7f).contains(*b)).map(|(i, _)| i).collect();
                    if !at.is_empty() {
                        bytes[at[i % at.len()]] = 0xFF;
                    }
                }
                _ => {}
            }
            let Ok(st) = Struct::decode(bytes.as_slice()) else { return Ok(()) };
            let Ok(map) = wire::from_struct(&st) else { return Ok(()) };
            // What decoded converts back without loss of shape (compared as encoded bytes, so a NaN
            // equals itself), and the codec either takes it (and encodes it again) or names why not.
            let wire_form = wire::to_struct(&map);
            let back = wire::from_struct(&wire_form).map_err(|e| TestCaseError::fail(format!("the round trip does not decode: {e}")))?;
            prop_assert_eq!(wire::to_struct(&back).encode_to_vec(), wire_form.encode_to_vec(), "the round trip changed the value");
            match codec::decode::<ClusterArgs>(&Value::Object(map)) {
                Ok(d) => {
                    prop_assert!(codec::encode(&d.value, &d.annotations).is_ok(), "a decoded value does not encode");
                }
                Err(e) => prop_assert!(!e.message.is_empty(), "a decode error without a message at {}", e.path),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn invalid_utf8_is_refused_by_prost() {
    let st = Struct { fields: BTreeMap::from([("clusterName".to_string(), s("abc"))]) };
    let mut bytes = st.encode_to_vec();
    let i = bytes.iter().position(|b| *b == b'b').unwrap();
    bytes[i] = 0xFF;
    assert!(Struct::decode(bytes.as_slice()).is_err());
}

/// A Struct `depth` levels deep, built without recursion.
fn deep(depth: u32) -> Struct {
    let mut v = s("bottom");
    for _ in 0..depth {
        v = prost_types::Value { kind: Some(Kind::ListValue(ListValue { values: vec![v] })) };
    }
    Struct { fields: BTreeMap::from([("tags".to_string(), v)]) }
}

#[test]
fn nesting_is_capped_at_the_codec_limit() {
    assert!(wire::from_struct(&deep(MAX_DEPTH)).is_ok());
    assert_eq!(wire::from_struct(&deep(MAX_DEPTH + 1)), Err(WireError::TooDeep(MAX_DEPTH)));
    // Far beyond: refused without walking (or overflowing) the whole depth.
    let e = wire::from_struct(&deep(5_000)).unwrap_err();
    assert!(e.to_string().contains(&format!("nested more than {MAX_DEPTH} levels deep")), "{e}");
    // What arrives over gRPC is bounded earlier still: prost refuses to decode such nesting.
    assert!(Struct::decode(deep(500).encode_to_vec().as_slice()).is_err());
}
