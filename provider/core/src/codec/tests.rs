use proptest::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::*;
use crate::model::ClusterArgs;
use crate::value::{Archive, Asset, ResourceRef};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1.0e12f64..1.0e12).prop_map(Value::Number),
        any::<i32>().prop_map(|i| Value::Number(i as f64)),
        "[a-z0-9 ]{0,8}".prop_map(Value::String),
        prop::sample::select(UnknownKind::ALL.to_vec()).prop_map(Value::Unknown),
        "[a-z]{1,6}".prop_map(|u| Value::ResourceRef(ResourceRef {
            urn: format!("urn:pulumi:dev::p::t::{u}"),
            id: Some(u),
            ..Default::default()
        })),
        "[a-z]{1,6}".prop_map(|t| Value::Asset(Asset { hash: Some("h".into()), text: Some(t), ..Default::default() })),
        Just(Value::Archive(Archive { path: Some("./a".into()), ..Default::default() })),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,6}", inner.clone(), 0..5).prop_map(Value::Object),
            // A secret never directly wraps another secret (the engine collapses those).
            inner.prop_filter_map("no nested secret", |v| match v {
                Value::Secret(_) => None,
                v => Some(Value::Secret(Box::new(v))),
            }),
        ]
    })
}

proptest! {
    #[test]
    fn strip_then_restore_is_identity(v in tree()) {
        let (json, ann) = strip(&v);
        prop_assert_eq!(restore(&json, &ann), v);
    }

    #[test]
    fn secrets_and_unknowns_are_found(v in tree()) {
        let (_, ann) = strip(&v);
        prop_assert_eq!(!ann.secrets.is_empty(), v.contains_secrets());
        prop_assert_eq!(!ann.unknowns.is_empty(), v.contains_unknowns());
    }
}

#[test]
fn typed_round_trip_keeps_secrets_and_unknowns_after_defaults() {
    let mut tree = from_json(&json!({
        "kubernetesVersion": "1.34",
        "nodeGroups": [{"name": "a", "instanceTypes": ["m7g.large"], "userData": "x"}],
        "tags": {"team": "a"}
    }));
    if let Value::Object(m) = &mut tree {
        m.insert("clusterName".into(), Value::Unknown(UnknownKind::String));
        if let Some(Value::Array(ngs)) = m.get_mut("nodeGroups") {
            if let Some(Value::Object(ng)) = ngs.get_mut(0) {
                let ud = ng.remove("userData").unwrap_or(Value::Null);
                ng.insert("userData".into(), Value::Secret(Box::new(ud)));
                ng.insert("imdsHopLimit".into(), Value::Unknown(UnknownKind::Number));
            }
        }
    }
    let d = decode::<ClusterArgs>(&tree).unwrap();
    assert!(d.value.cluster_name.is_none());
    let defaulted = d.value.clone().with_defaults(crate::model::Autoname::Proposed("n"), Some("us-east-1"));
    let back = encode(&defaulted, &d.annotations).unwrap();
    let p = Path::parse("nodeGroups[0].userData").unwrap();
    assert_eq!(back.get_path(&p), Some(&Value::Secret(Box::new(Value::String("x".into())))));
    let p = Path::parse("nodeGroups[0].imdsHopLimit").unwrap();
    assert_eq!(back.get_path(&p), Some(&Value::Unknown(UnknownKind::Number)));
    assert_eq!(back.get_path(&Path::key("clusterName")), Some(&Value::Unknown(UnknownKind::String)));
    // Defaults were filled around them.
    let p = Path::parse("nodeGroups[0].diskSizeGb").unwrap();
    assert_eq!(back.get_path(&p), Some(&Value::Number(50.0)));
}

#[test]
fn decode_errors_carry_the_path() {
    let tree = from_json(&json!({"nodeGroups": [{"name": "a", "instanceTypes": ["m7g.large"], "minSize": "two"}]}));
    let e = decode::<ClusterArgs>(&tree).unwrap_err();
    assert_eq!(e.path.to_string(), "nodeGroups[0].minSize");
}

#[test]
fn decode_errors_never_quote_a_secret_value() {
    // Marked secret by the engine: any field.
    let mut tree = from_json(&json!({"nodeGroups": [{"name": "a", "instanceTypes": ["m7g.large"]}]}));
    let p = Path::parse("nodeGroups[0].minSize").unwrap();
    if let Value::Object(m) = &mut tree {
        if let Some(Value::Array(a)) = m.get_mut("nodeGroups") {
            if let Some(Value::Object(ng)) = a.get_mut(0) {
                ng.insert("minSize".into(), Value::Secret(Box::new(Value::String("hunter2-minsize".into()))));
            }
        }
    }
    let e = decode::<ClusterArgs>(&tree).unwrap_err();
    assert_eq!(e.path, p);
    assert!(!e.message.contains("hunter2"), "{}", e.message);
    assert!(e.message.contains("secret") && e.message.contains("expected"), "{}", e.message);
    // Secret in the schema (userData), even when the engine sent it in plain text.
    let tree = from_json(&json!({"nodeGroups": [{"name": "a", "instanceTypes": ["m7g.large"], "userData": 31337424242_i64}]}));
    let e = decode::<ClusterArgs>(&tree).unwrap_err();
    assert!(!e.message.contains("31337424242"), "{}", e.message);
    let e = decode::<ClusterArgs>(&from_json(&json!({"nodeGroups": [{"name": "a", "instanceTypes": ["m7g.large"], "userData": false}]}))).unwrap_err();
    assert!(e.message.contains("secret"), "{}", e.message);
    // The provider config's credentials.
    for (k, v) in [("secretKey", json!(987_654_321_012_i64)), ("accessKey", json!(true)), ("token", json!(["tok-SECRET"]))] {
        let e = decode::<crate::model::ProviderConfig>(&from_json(&json!({ k: v }))).unwrap_err();
        assert!(!e.message.contains("987654321012") && !e.message.contains("tok-SECRET") && !e.message.contains("true"), "{k}: {}", e.message);
    }
    let e = decode::<crate::model::ProviderConfig>(&from_json(&json!({"assumeRole": {"roleArn": "arn:aws:iam::1:role/r", "externalId": 123_456_789_i64}})))
        .unwrap_err();
    assert!(!e.message.contains("123456789"), "{}", e.message);
    // Other values are still quoted (they help).
    let e = decode::<ClusterArgs>(&from_json(&json!({"nodeGroups": [{"name": "a", "instanceTypes": ["m7g.large"], "capacityType": "spot"}]}))).unwrap_err();
    assert!(e.message.contains("`spot`"), "{}", e.message);
}

#[test]
fn explicit_null_pod_cidr_is_kept() {
    let tree = from_json(&json!({"network": {"podCidr": null}}));
    let d = decode::<ClusterArgs>(&tree).unwrap();
    let net = d.value.with_defaults(crate::model::Autoname::Disabled, None).network.unwrap();
    assert_eq!(net.pod_cidr, crate::model::Nullable::Null);
}

#[test]
fn path_display_and_parse() {
    let p = Path::key("tags").k("a.b").k("plain").i(2);
    assert_eq!(p.to_string(), "tags[\"a.b\"].plain[2]");
    assert_eq!(Path::parse(&p.to_string()), Some(p));
}

#[test]
fn unknown_enums_and_whole_unknown_elements_decode() {
    let mut tree = from_json(&json!({
        "kubernetesVersion": "1.34",
        "nodeGroups": [{"name": "a", "instanceTypes": ["m7g.large"], "taints": [{"key": "k", "effect": "NO_SCHEDULE"}]}, {"name": "b", "instanceTypes": ["m7g.large"]}],
        "accessEntries": [{"principalArn": "arn:aws:iam::123456789012:role/a", "accessPolicy": "View"}]
    }));
    let set = |tree: &mut Value, p: &str| {
        let path = Path::parse(p).unwrap();
        let parent = path.parent().unwrap();
        let mut cur = &mut *tree;
        for seg in parent.segments() {
            cur = match (cur, seg) {
                (Value::Object(m), crate::value::Seg::Key(k)) => m.get_mut(k).unwrap(),
                (Value::Array(a), crate::value::Seg::Index(i)) => &mut a[*i],
                _ => panic!(),
            };
        }
        match (cur, path.last().unwrap()) {
            (Value::Object(m), crate::value::Seg::Key(k)) => {
                m.insert(k.clone(), Value::Unknown(UnknownKind::String));
            }
            (Value::Array(a), crate::value::Seg::Index(i)) => a[*i] = Value::Unknown(UnknownKind::Object),
            _ => panic!(),
        }
    };
    set(&mut tree, "nodeGroups[0].taints[0].effect");
    set(&mut tree, "nodeGroups[1]");
    set(&mut tree, "accessEntries[0].accessPolicy");
    let d = decode::<ClusterArgs>(&tree).unwrap();
    assert!(d.annotations.is_unknown(&Path::parse("nodeGroups[1].name").unwrap()));
    let back = encode(&d.value, &d.annotations).unwrap();
    assert_eq!(back.get_path(&Path::parse("nodeGroups[1]").unwrap()), Some(&Value::Unknown(UnknownKind::Object)));
    assert_eq!(back.get_path(&Path::parse("accessEntries[0].accessPolicy").unwrap()), Some(&Value::Unknown(UnknownKind::String)));
}

/// The one-pass decode accepts exactly what the JSON path accepts, and decodes it to the same
/// value; near-misses (wrong types, extra fields, bad enums, floats for integers) go to the JSON
/// path, whose error is the one reported.
#[test]
fn one_pass_decode_agrees_with_the_json_path() {
    let secret = |v: Value| Value::Secret(Box::new(v));
    let output = |v: Value| Value::Output(crate::value::OutputValue { value: Some(Box::new(v)), secret: false, dependencies: vec![] });
    let base = json!({
        "clusterName": "c", "kubernetesVersion": "1.34",
        "network": {"vpcCidr": "10.0.0.0/16", "podCidr": null, "natGateways": "perAz", "availabilityZones": ["a", "b"]},
        "nodeGroups": [{"name": "g", "instanceTypes": ["m7g.large"], "minSize": 1, "desiredSize": 2, "maxSize": 3, "capacityType": "SPOT",
                        "labels": {"a": "b"}, "taints": [{"key": "k", "value": "v", "effect": "NO_SCHEDULE"}]}],
        "addons": {"vpcCni": {"version": "v1", "configuration": {"env": {"A": "1"}, "n": 1.5, "list": [1, -2, null, true]}}},
        "tags": {"t": "v"},
    });
    let edits: Vec<(&str, serde_json::Value)> = vec![
        ("", json!(null)),
        ("/nodeGroups/0/minSize", json!(1.5)),
        ("/nodeGroups/0/minSize", json!(-1)),
        ("/nodeGroups/0/minSize", json!("1")),
        ("/nodeGroups/0/name", json!(7)),
        ("/nodeGroups/0/capacityType", json!("spot")),
        ("/nodeGroups/0/capacityType", json!({"SPOT": null})),
        ("/network/natGateways", json!(3)),
        ("/network/extra", json!("x")),
        ("/network/podCidr", json!("100.64.0.0/16")),
        ("/nodeGroups", json!({})),
        ("/nodeGroups/0/labels", json!(["a"])),
        ("/tags/t", json!(1)),
        ("/addons/vpcCni/configuration", json!("x")),
        ("/kubernetesVersion", json!(1.34)),
    ];
    let mut cases: Vec<Value> = Vec::new();
    for (ptr, v) in edits {
        let mut j = base.clone();
        if !ptr.is_empty() {
            let (parent, key) = ptr.rsplit_once('/').unwrap();
            match j.pointer_mut(parent).unwrap() {
                serde_json::Value::Object(m) => {
                    m.insert(key.to_string(), v);
                }
                other => *other = v,
            }
        }
        cases.push(from_json(&j));
    }
    // Secrets and known Outputs around objects, lists and leaves.
    let Value::Object(mut m) = from_json(&base) else { panic!() };
    let groups = m.remove("nodeGroups").unwrap();
    m.insert("nodeGroups".into(), secret(groups));
    let tags = m.remove("tags").unwrap();
    m.insert("tags".into(), output(secret(tags)));
    m.insert("clusterName".into(), secret(Value::String("c".into())));
    cases.push(Value::Object(m));

    let mut accepted = 0;
    for (i, tree) in cases.iter().enumerate() {
        let fast = ClusterArgs::deserialize(de::Tree(tree)).ok();
        let slow = decode_json::<ClusterArgs>(tree);
        if let Some(f) = &fast {
            accepted += 1;
            let s = slow.as_ref().unwrap_or_else(|e| panic!("case {i}: one pass accepted what JSON refuses: {e}"));
            assert_eq!(f, &s.value, "case {i}");
        }
        let d = decode::<ClusterArgs>(tree);
        match (&d, &slow) {
            (Ok(a), Ok(b)) => assert_eq!((&a.value, &a.annotations), (&b.value, &b.annotations), "case {i}"),
            (Err(a), Err(b)) => assert_eq!(a, b, "case {i}"),
            _ => panic!("case {i}: {d:?} vs {slow:?}"),
        }
    }
    assert!(accepted >= 4, "the valid cases take the one-pass path: {accepted}");
}

proptest! {
    /// On any tree, the one-pass decode either gives up or agrees with the JSON path.
    #[test]
    fn one_pass_decode_never_disagrees(t in tree()) {
        if let Ok(f) = ClusterArgs::deserialize(de::Tree(&t)) {
            let s = decode_json::<ClusterArgs>(&t);
            prop_assert!(s.is_ok(), "{:?}", s.err());
            prop_assert_eq!(f, s.unwrap().value);
        }
    }
}

/// The one-pass encode builds the tree that `from_json(&to_value(x))` builds.
#[test]
fn one_pass_encode_agrees_with_to_value() {
    use crate::model::Autoname;
    let spec = json!({
        "clusterName": "c", "kubernetesVersion": "1.34",
        "network": {"vpcCidr": "10.0.0.0/16", "podCidr": null, "natGateways": "perAz"},
        "nodeGroups": [{"name": "g", "instanceTypes": ["m7g.large"], "minSize": 1, "desiredSize": 2, "maxSize": 3, "capacityType": "SPOT",
                        "labels": {"a": "b"}, "taints": [{"key": "k", "value": "v", "effect": "NO_SCHEDULE"}]}],
        "addons": {"vpcCni": {"version": "v1", "configuration": {"env": {"A": "1"}, "n": 1.5, "list": [1, -2, null, true]}}},
    });
    let d = decode::<ClusterArgs>(&from_json(&spec)).unwrap();
    let full = d.value.clone().with_defaults(Autoname::Proposed("c"), Some("us-east-1"));
    for v in [&d.value, &full, &ClusterArgs::default()] {
        assert_eq!(ser::to_tree(v).unwrap(), from_json(&serde_json::to_value(v).unwrap()));
    }
    let keyed: std::collections::BTreeMap<u32, f64> = [(7, 1.0), (8, f64::NAN)].into();
    assert_eq!(ser::to_tree(&keyed).unwrap(), from_json(&serde_json::to_value(&keyed).unwrap()));
}

proptest! {
    /// Any plain JSON tree serializes to the same `Value` both ways.
    #[test]
    fn one_pass_encode_matches_from_json(t in tree()) {
        let (json, _) = strip(&t);
        prop_assert_eq!(ser::to_tree(&json).unwrap(), from_json(&json));
    }
}
