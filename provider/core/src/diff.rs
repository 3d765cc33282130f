//! Structural diff of old and new inputs, with the replace rules of `SecureEksCluster`.

use crate::value::{Path, PropertyMap, Value};

/// The kind of change at one path (mirrors the engine's `PropertyDiff.Kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Added.
    Add,
    /// Added; needs a replacement.
    AddReplace,
    /// Removed.
    Delete,
    /// Removed; needs a replacement.
    DeleteReplace,
    /// Changed.
    Update,
    /// Changed; needs a replacement.
    UpdateReplace,
}

impl ChangeKind {
    fn replacing(self) -> Self {
        match self {
            ChangeKind::Add => ChangeKind::AddReplace,
            ChangeKind::Delete => ChangeKind::DeleteReplace,
            ChangeKind::Update => ChangeKind::UpdateReplace,
            k => k,
        }
    }

    /// True for the `*Replace` kinds.
    pub fn is_replace(self) -> bool {
        matches!(self, ChangeKind::AddReplace | ChangeKind::DeleteReplace | ChangeKind::UpdateReplace)
    }
}

/// The result of a diff, already shaped by the engine's invariants: `diffs` and `replaces` hold
/// top-level keys only, every `detailed` path starts with a key in `diffs`, and vice versa.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiffResult {
    /// Changed paths and their kinds, in path order.
    pub detailed: Vec<(Path, ChangeKind)>,
    /// Changed top-level keys.
    pub diffs: Vec<String>,
    /// Top-level keys whose change replaces the resource.
    pub replaces: Vec<String>,
    /// Whether the old resource must go first (true when the replacement keeps the cluster name).
    pub delete_before_replace: bool,
}

impl DiffResult {
    /// True when anything changed.
    pub fn has_changes(&self) -> bool {
        !self.detailed.is_empty()
    }
}

/// Input paths whose change replaces the cluster.
pub fn replace_paths() -> [Path; 3] {
    [
        Path::key("clusterName"),
        Path::key("network").k("vpcCidr"),
        Path::key("encryption").k("kmsKeyArn"),
    ]
}

fn present(v: Option<&Value>) -> Option<&Value> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::Secret(inner)) => present(Some(inner)),
        other => other,
    }
}

fn walk(path: Path, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<(Path, ChangeKind)>) {
    match (present(old), present(new)) {
        (None, None) => {}
        (None, Some(_)) => out.push((path, ChangeKind::Add)),
        (Some(_), None) => out.push((path, ChangeKind::Delete)),
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                walk(path.k(k.clone()), a.get(k), b.get(k), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                walk(path.i(i), Some(x), Some(y), out);
            }
        }
        (Some(_), Some(Value::Unknown(_))) => out.push((path, ChangeKind::Update)),
        (Some(a), Some(b)) => {
            if a.unsecret() != b.unsecret() {
                out.push((path, ChangeKind::Update));
            }
        }
    }
}

/// Diff old inputs against new (checked) inputs. `ignore` holds top-level keys to skip.
pub fn diff(old: &PropertyMap, new: &PropertyMap) -> DiffResult {
    let mut detailed = Vec::new();
    walk(Path::root(), Some(&Value::Object(old.clone())), Some(&Value::Object(new.clone())), &mut detailed);
    let replace = replace_paths();
    for (p, kind) in detailed.iter_mut() {
        if replace.iter().any(|r| r.is_prefix_of(p) || p.is_prefix_of(r)) {
            *kind = kind.replacing();
        }
    }
    let mut diffs: Vec<String> = detailed.iter().filter_map(|(p, _)| p.top().map(String::from)).collect();
    diffs.dedup();
    let mut replaces: Vec<String> = detailed
        .iter()
        .filter(|(_, k)| k.is_replace())
        .filter_map(|(p, _)| p.top().map(String::from))
        .collect();
    replaces.dedup();
    let name_changes = detailed.iter().any(|(p, _)| p.top() == Some("clusterName"));
    DiffResult {
        delete_before_replace: !replaces.is_empty() && !name_changes,
        detailed,
        diffs,
        replaces,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::from_json;
    use expect_test::expect;
    use serde_json::json;

    fn map(v: serde_json::Value) -> PropertyMap {
        match from_json(&v) {
            Value::Object(m) => m,
            _ => PropertyMap::new(),
        }
    }

    fn show(r: &DiffResult) -> String {
        format!(
            "{:?} diffs={:?} replaces={:?} dbr={}",
            r.detailed.iter().map(|(p, k)| format!("{p}:{k:?}")).collect::<Vec<_>>(),
            r.diffs,
            r.replaces,
            r.delete_before_replace
        )
    }

    #[test]
    fn no_change() {
        let a = map(json!({"clusterName": "a", "tags": {"x": "1"}}));
        assert!(!diff(&a, &a).has_changes());
    }

    #[test]
    fn update_in_place() {
        let a = map(json!({"clusterName": "a", "nodeGroups": [{"name": "g", "maxSize": 3}]}));
        let b = map(json!({"clusterName": "a", "nodeGroups": [{"name": "g", "maxSize": 5}], "tags": {"t": "1"}}));
        expect![[r#"["nodeGroups[0].maxSize:Update", "tags:Add"] diffs=["nodeGroups", "tags"] replaces=[] dbr=false"#]]
            .assert_eq(&show(&diff(&a, &b)));
    }

    #[test]
    fn replacing_changes() {
        let a = map(json!({"clusterName": "a", "network": {"vpcCidr": "10.0.0.0/16"}}));
        let b = map(json!({"clusterName": "a", "network": {"vpcCidr": "10.1.0.0/16"}}));
        expect![[r#"["network.vpcCidr:UpdateReplace"] diffs=["network"] replaces=["network"] dbr=true"#]]
            .assert_eq(&show(&diff(&a, &b)));
        let c = map(json!({"clusterName": "b", "network": {"vpcCidr": "10.0.0.0/16"}}));
        expect![[r#"["clusterName:UpdateReplace"] diffs=["clusterName"] replaces=["clusterName"] dbr=false"#]]
            .assert_eq(&show(&diff(&a, &c)));
        let d = map(json!({"clusterName": "a", "network": {"vpcCidr": "10.0.0.0/16"}, "encryption": {"kmsKeyArn": "arn:k"}}));
        expect![[r#"["encryption:AddReplace"] diffs=["encryption"] replaces=["encryption"] dbr=true"#]]
            .assert_eq(&show(&diff(&a, &d)));
    }

    #[test]
    fn unknown_new_value_is_an_update_and_secrets_compare_by_value() {
        let a = map(json!({"clusterName": "a", "tags": {"x": "1"}}));
        let mut b = a.clone();
        b.insert("tags".into(), Value::Unknown(crate::value::UnknownKind::Object));
        expect![[r#"["tags:Update"] diffs=["tags"] replaces=[] dbr=false"#]].assert_eq(&show(&diff(&a, &b)));
        let mut c = a.clone();
        c.insert("clusterName".into(), Value::Secret(Box::new(Value::String("a".into()))));
        assert!(!diff(&a, &c).has_changes());
    }
}
