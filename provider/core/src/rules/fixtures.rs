//! Shared test fixtures: the golden spec and a runner that goes through the real codec.

use serde_json::json;

use super::{message, Outcome, Rule, RuleCtx};
use crate::codec;
use crate::model::{Autoname, ClusterArgs};
use crate::value::{Path, UnknownKind, Value};

/// A complete, valid spec. Every rule passes on it (tested in `golden_spec_passes_every_rule`).
pub fn golden() -> serde_json::Value {
    json!({
        "kubernetesVersion": "1.34",
        "nodeGroups": [
            {"name": "general", "instanceTypes": ["m7g.large", "m6g.large"]},
            {"name": "x86", "instanceTypes": ["m7i.large"], "capacityType": "ON_DEMAND"}
        ]
    })
}

/// Apply `edit` to the golden spec.
pub fn with(edit: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let mut v = golden();
    edit(&mut v);
    v
}

fn set_unknown(tree: &mut Value, path: &Path) {
    let mut cur = tree;
    for seg in path.segments() {
        cur = match (cur, seg) {
            (Value::Object(m), crate::value::Seg::Key(k)) => {
                m.entry(k.clone()).or_insert_with(|| Value::Object(Default::default()))
            }
            (Value::Array(a), crate::value::Seg::Index(i)) => match a.get_mut(*i) {
                Some(v) => v,
                None => return,
            },
            _ => return,
        };
    }
    *cur = Value::Unknown(UnknownKind::String);
}

thread_local! {
    static AWS: std::cell::RefCell<Option<super::AwsFacts>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` with these AWS facts visible to [`run`].
pub fn with_aws<T>(facts: super::AwsFacts, f: impl FnOnce() -> T) -> T {
    AWS.with(|a| *a.borrow_mut() = Some(facts));
    let out = f();
    AWS.with(|a| *a.borrow_mut() = None);
    out
}

/// Facts under which the golden spec passes.
pub fn golden_aws() -> super::AwsFacts {
    let mut f = super::AwsFacts::default();
    for t in ["m7g.large", "m6g.large"] {
        f.instance_types.insert(t.into(), vec!["arm64".into()]);
    }
    f.instance_types.insert("m7i.large".into(), vec!["x86_64".into(), "i386".into()]);
    for a in ["arm64", "x86_64"] {
        f.ssm_parameters.insert(format!("/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/{a}/standard/recommended/release_version"), true);
    }
    f.addon_versions.insert("vpc-cni".into(), vec!["v1.19.2-eksbuild.1".into()]);
    f.addon_versions.insert("kube-proxy".into(), vec!["v1.34.0-eksbuild.1".into()]);
    f.addon_versions.insert("coredns".into(), vec!["v1.11.3-eksbuild.1".into()]);
    f.addon_versions.insert("eks-pod-identity-agent".into(), vec!["v1.3.4-eksbuild.1".into()]);
    f.addon_versions.insert("aws-ebs-csi-driver".into(), vec!["v1.37.0-eksbuild.1".into()]);
    f.zones = Some(
        "abcdef"
            .chars()
            .map(|c| super::ZoneFacts {
                name: format!("us-east-1{c}"),
                state: "available".into(),
                zone_type: "availability-zone".into(),
                opt_in_status: "opt-in-not-required".into(),
            })
            .collect(),
    );
    f
}

/// Run one rule over `spec` with the given paths made unknown, and render the outcomes.
pub fn run(rule: &dyn Rule, spec: serde_json::Value, unknown: &[&str]) -> String {
    run_with_olds(rule, spec, unknown, None)
}

/// Like [`run`], with previous inputs.
pub fn run_with_olds(
    rule: &dyn Rule,
    spec: serde_json::Value,
    unknown: &[&str],
    olds: Option<serde_json::Value>,
) -> String {
    let mut tree = codec::from_json(&spec);
    for p in unknown {
        if let Some(path) = Path::parse(p) {
            set_unknown(&mut tree, &path);
        }
    }
    let decoded = match codec::decode::<ClusterArgs>(&tree) {
        Ok(d) => d,
        Err(e) => return format!("decode error: {e}"),
    };
    let facts = AWS.with(|a| a.borrow().clone());
    // The zones Check would read from AWS: the facts' when a test gives some, else us-east-1's.
    let zones = facts.as_ref().and_then(|f| f.default_zones()).unwrap_or_else(|| ["us-east-1a", "us-east-1b", "us-east-1c"].map(String::from).to_vec());
    let spec = decoded
        .value
        .with_defaults_around(Autoname::Proposed("test-cluster"), Some("us-east-1"), &decoded.annotations)
        .with_zones(None, Some(zones));
    let olds = olds.and_then(|o| serde_json::from_value::<ClusterArgs>(o).ok());
    let ctx = RuleCtx {
        spec: &spec,
        annotations: &decoded.annotations,
        olds: olds.as_ref(),
        region: Some("us-east-1"),
        today: "2026-11-23",
        aws: facts.as_ref(),
    };
    let outcomes = rule.check(&ctx);
    if outcomes.is_empty() {
        return "pass".to_string();
    }
    outcomes
        .iter()
        .map(|o| match o {
            Outcome::Fail(f) => message(rule.meta(), f),
            Outcome::Deferred(p) => format!("deferred: {p}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn golden_spec_passes_every_rule() {
    with_aws(golden_aws(), || {
        for rule in super::catalogue() {
            assert_eq!(run(*rule, golden(), &[]), "pass", "{}", rule.meta().id);
        }
    });
}

#[test]
fn ids_are_unique_and_well_formed() {
    let metas = super::all_meta();
    let mut ids: Vec<&str> = metas.iter().map(|m| m.id).collect();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate rule ids");
    for id in ids {
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(parts.len(), 3, "{id}");
        assert_eq!(parts[0], "SEKS");
        assert!(
            ["CP", "NET", "SG", "NODE", "IAM", "ADD", "OBS", "REL", "COST", "OUT", "CFG", "AUTO"].contains(&parts[1]),
            "{id}"
        );
        assert_eq!(parts[2].len(), 3, "{id}");
    }
}
