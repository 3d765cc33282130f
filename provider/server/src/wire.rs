//! `google.protobuf.Struct` ↔ [`Value`]: the only place that knows the wire encoding of secrets,
//! unknown sentinels, resource references, assets, archives and output values.

use std::collections::BTreeMap;

use prost_types::value::Kind;
use prost_types::{ListValue, Struct};
use secure_eks_core::codec::MAX_DEPTH;
use secure_eks_core::value::{Archive, Asset, OutputValue, PropertyMap, ResourceRef, UnknownKind, Value};

/// The key holding a special value's signature.
pub const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
const SIG_SECRET: &str = "1b47061264138c4ac30d75fd1eb44270";
const SIG_RESOURCE: &str = "5cf8f73096256a8f31e491e813e4eb8e";
const SIG_OUTPUT: &str = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const SIG_ASSET: &str = "c44067f5952c0a294b673a41bacd8c17";
const SIG_ARCHIVE: &str = "0def7320c3a5731c473e5ecbe6d01bc7";

/// The unknown sentinel of each kind.
pub fn sentinel(kind: UnknownKind) -> &'static str {
    match kind {
        UnknownKind::Bool => "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        UnknownKind::Number => "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        UnknownKind::String => "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        UnknownKind::Array => "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        UnknownKind::Asset => "030794c1-ac77-496b-92df-f27374a8bd58",
        UnknownKind::Archive => "e48ece36-62e2-4504-bad9-02848725956a",
        UnknownKind::Object => "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
}

fn unknown_kind(s: &str) -> Option<UnknownKind> {
    UnknownKind::ALL.into_iter().find(|k| sentinel(*k) == s)
}

/// A value the wire format does not allow.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WireError {
    /// A special object with a signature we do not know.
    #[error("unrecognized signature {0:?} in property map")]
    UnknownSignature(String),
    /// A value nested deeper than the codec allows (see `codec::MAX_DEPTH`).
    #[error("property value nested more than {0} levels deep; no input of this provider needs that: flatten it")]
    TooDeep(u32),
    /// A special object missing a required field.
    #[error("malformed {kind}: {detail}")]
    Malformed {
        /// Which special value.
        kind: &'static str,
        /// What is wrong.
        detail: String,
    },
}

/// Decode a Struct into a property map. Values nested deeper than the codec's
/// [`MAX_DEPTH`](secure_eks_core::codec::MAX_DEPTH) are refused here, before the tree is built
/// (prost already bounds the nesting of what arrives over gRPC; this holds for any caller).
pub fn from_struct(s: &Struct) -> Result<PropertyMap, WireError> {
    struct_at(s, MAX_DEPTH)
}

/// `budget`: how many more levels may nest below this one.
fn struct_at(s: &Struct, budget: u32) -> Result<PropertyMap, WireError> {
    s.fields.iter().map(|(k, v)| Ok((k.clone(), value_at(v, budget)?))).collect()
}

/// Decode an optional Struct (absent means empty).
pub fn from_opt_struct(s: Option<&Struct>) -> Result<PropertyMap, WireError> {
    s.map(from_struct).transpose().map(Option::unwrap_or_default)
}

fn str_field(m: &BTreeMap<String, prost_types::Value>, k: &str) -> Option<String> {
    match m.get(k).and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Decode one wire value.
pub fn from_value(v: &prost_types::Value) -> Result<Value, WireError> {
    value_at(v, MAX_DEPTH)
}

fn value_at(v: &prost_types::Value, budget: u32) -> Result<Value, WireError> {
    let nests = matches!(v.kind, Some(Kind::ListValue(_) | Kind::StructValue(_)));
    if nests && budget == 0 {
        return Err(WireError::TooDeep(MAX_DEPTH));
    }
    let budget = budget.saturating_sub(1);
    let from_value = |v: &prost_types::Value| value_at(v, budget);
    let from_struct = |s: &Struct| struct_at(s, budget);
    Ok(match &v.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::NumberValue(n)) => Value::Number(*n),
        Some(Kind::StringValue(s)) => match unknown_kind(s) {
            Some(k) => Value::Unknown(k),
            None => Value::String(s.clone()),
        },
        Some(Kind::ListValue(l)) => Value::Array(l.values.iter().map(from_value).collect::<Result<_, _>>()?),
        Some(Kind::StructValue(s)) => match str_field(&s.fields, SIG_KEY) {
            None => Value::Object(from_struct(s)?),
            Some(sig) => special(&sig, s, budget)?,
        },
    })
}

fn special(sig: &str, s: &Struct, budget: u32) -> Result<Value, WireError> {
    let f = &s.fields;
    let from_struct = |s: &Struct| struct_at(s, budget);
    let inner = |k: &str| f.get(k).map(|v| value_at(v, budget)).transpose();
    Ok(match sig {
        SIG_SECRET => Value::Secret(Box::new(inner("value")?.unwrap_or(Value::Null))),
        SIG_RESOURCE => {
            let urn = str_field(f, "urn").ok_or(WireError::Malformed {
                kind: "resource reference",
                detail: "no urn".into(),
            })?;
            let extra = ["name", "type"]
                .iter()
                .filter_map(|k| str_field(f, k).map(|v| (k.to_string(), v)))
                .collect();
            Value::ResourceRef(ResourceRef {
                urn,
                id: match f.get("id").and_then(|v| v.kind.as_ref()) {
                    Some(Kind::StringValue(s)) if unknown_kind(s).is_some() => Some(String::new()),
                    Some(Kind::StringValue(s)) => Some(s.clone()),
                    _ => None,
                },
                package_version: str_field(f, "packageVersion"),
                extra,
            })
        }
        SIG_OUTPUT => Value::Output(OutputValue {
            value: inner("value")?.map(Box::new),
            secret: matches!(f.get("secret").and_then(|v| v.kind.as_ref()), Some(Kind::BoolValue(true))),
            dependencies: match f.get("dependencies").and_then(|v| v.kind.as_ref()) {
                Some(Kind::ListValue(l)) => l
                    .values
                    .iter()
                    .filter_map(|v| match &v.kind {
                        Some(Kind::StringValue(s)) => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
        }),
        SIG_ASSET => Value::Asset(Asset {
            hash: str_field(f, "hash"),
            text: str_field(f, "text"),
            path: str_field(f, "path"),
            uri: str_field(f, "uri"),
        }),
        SIG_ARCHIVE => Value::Archive(Archive {
            hash: str_field(f, "hash"),
            assets: match f.get("assets").and_then(|v| v.kind.as_ref()) {
                Some(Kind::StructValue(s)) => Some(from_struct(s)?),
                _ => None,
            },
            path: str_field(f, "path"),
            uri: str_field(f, "uri"),
        }),
        other => return Err(WireError::UnknownSignature(other.to_string())),
    })
}

fn s(v: impl Into<String>) -> prost_types::Value {
    prost_types::Value { kind: Some(Kind::StringValue(v.into())) }
}

fn obj(fields: BTreeMap<String, prost_types::Value>) -> prost_types::Value {
    prost_types::Value { kind: Some(Kind::StructValue(Struct { fields })) }
}

fn with_sig(sig: &str, mut fields: BTreeMap<String, prost_types::Value>) -> prost_types::Value {
    fields.insert(SIG_KEY.into(), s(sig));
    obj(fields)
}

fn opt(fields: &mut BTreeMap<String, prost_types::Value>, k: &str, v: &Option<String>) {
    if let Some(v) = v {
        fields.insert(k.into(), s(v.clone()));
    }
}

/// Encode a property map.
pub fn to_struct(m: &PropertyMap) -> Struct {
    Struct { fields: m.iter().map(|(k, v)| (k.clone(), to_value(v))).collect() }
}

/// Encode one value.
pub fn to_value(v: &Value) -> prost_types::Value {
    let kind = match v {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(*n),
        Value::String(x) => Kind::StringValue(x.clone()),
        Value::Array(a) => Kind::ListValue(ListValue { values: a.iter().map(to_value).collect() }),
        Value::Object(m) => Kind::StructValue(to_struct(m)),
        Value::Unknown(k) => Kind::StringValue(sentinel(*k).to_string()),
        Value::Secret(inner) => {
            return with_sig(SIG_SECRET, BTreeMap::from([("value".to_string(), to_value(inner))]));
        }
        Value::ResourceRef(r) => {
            let mut f = BTreeMap::from([("urn".to_string(), s(r.urn.clone()))]);
            if let Some(id) = &r.id {
                f.insert(
                    "id".into(),
                    if id.is_empty() { s(sentinel(UnknownKind::String)) } else { s(id.clone()) },
                );
            }
            opt(&mut f, "packageVersion", &r.package_version);
            for (k, v) in &r.extra {
                f.insert(k.clone(), s(v.clone()));
            }
            return with_sig(SIG_RESOURCE, f);
        }
        Value::Output(o) => {
            let mut f = BTreeMap::new();
            if let Some(v) = &o.value {
                f.insert("value".to_string(), to_value(v));
            }
            if o.secret {
                f.insert("secret".into(), prost_types::Value { kind: Some(Kind::BoolValue(true)) });
            }
            if !o.dependencies.is_empty() {
                f.insert(
                    "dependencies".into(),
                    prost_types::Value {
                        kind: Some(Kind::ListValue(ListValue {
                            values: o.dependencies.iter().map(|d| s(d.clone())).collect(),
                        })),
                    },
                );
            }
            return with_sig(SIG_OUTPUT, f);
        }
        Value::Asset(a) => {
            let mut f = BTreeMap::new();
            opt(&mut f, "hash", &a.hash);
            opt(&mut f, "text", &a.text);
            opt(&mut f, "path", &a.path);
            opt(&mut f, "uri", &a.uri);
            return with_sig(SIG_ASSET, f);
        }
        Value::Archive(a) => {
            let mut f = BTreeMap::new();
            opt(&mut f, "hash", &a.hash);
            if let Some(assets) = &a.assets {
                f.insert("assets".into(), obj(to_struct(assets).fields));
            }
            opt(&mut f, "path", &a.path);
            opt(&mut f, "uri", &a.uri);
            return with_sig(SIG_ARCHIVE, f);
        }
    };
    prost_types::Value { kind: Some(kind) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::Number),
            ".{0,12}".prop_map(Value::String),
            prop::sample::select(UnknownKind::ALL.to_vec()).prop_map(Value::Unknown),
            ("[a-z]{1,8}", prop::option::of("[a-z0-9]{0,8}")).prop_map(|(u, id)| Value::ResourceRef(ResourceRef {
                urn: format!("urn:pulumi:s::p::t::{u}"),
                id,
                package_version: Some("1.2.3".into()),
                extra: BTreeMap::from([("name".to_string(), u)]),
            })),
            "[a-z]{0,8}".prop_map(|t| Value::Asset(Asset { hash: Some("abc".into()), text: Some(t), path: None, uri: None })),
            "[a-z]{1,8}".prop_map(|p| Value::Archive(Archive { hash: None, assets: None, path: Some(p), uri: None })),
        ]
    }

    fn tree() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z]{1,6}", inner.clone(), 0..5).prop_map(Value::Object),
                inner.clone().prop_map(|v| Value::Secret(Box::new(v))),
                (prop::option::of(inner), any::<bool>(), prop::collection::vec("[a-z]{1,5}", 0..3)).prop_map(
                    |(v, secret, dependencies)| Value::Output(OutputValue { value: v.map(Box::new), secret, dependencies })
                ),
            ]
        })
    }

    proptest! {
        #[test]
        fn wire_round_trip(v in tree()) {
            let m = PropertyMap::from([("x".to_string(), v)]);
            prop_assert_eq!(from_struct(&to_struct(&m)).unwrap(), m);
        }
    }

    #[test]
    fn all_seven_sentinels_decode_as_unknown() {
        for k in UnknownKind::ALL {
            assert_eq!(from_value(&s(sentinel(k))).unwrap(), Value::Unknown(k));
        }
    }

    #[test]
    fn unknown_signature_is_an_error() {
        let v = with_sig("ffff", BTreeMap::new());
        assert_eq!(from_value(&v), Err(WireError::UnknownSignature("ffff".into())));
    }
}
