//! Input drift: which cluster inputs no longer describe what AWS reports.
//!
//! `refresh` (Read) gives the engine the inputs back. Settings that someone changed outside
//! Pulumi (the public endpoint turned on in the console, a node group's maximum raised by hand)
//! are written into those inputs, so the next `pulumi preview` shows the drift as a diff against
//! the program, and `pulumi up` puts the cluster back. Pure: it compares the plan (the checked
//! inputs with their defaults) with the values the executor recorded from Describe calls.
//!
//! Deliberately not drift: a node group's desired size (the cluster autoscaler owns it between
//! deploys) and values only recorded at create time.

use std::collections::BTreeSet;

use crate::model::ClusterArgs;
use crate::value::{Path, PropertyMap, Seg, Value};

use super::{effective_public_cidrs, Action, Plan, StepOutputs};

/// One input whose observed value differs from the planned one.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    /// The input path, e.g. `apiAccess.public` or `nodeGroups[0].maxSize`.
    pub path: Path,
    /// What AWS reports, as an input value.
    pub observed: Value,
}

/// `extra` keys the executor records for drift (kept here so both sides agree).
pub mod keys {
    /// Cluster: private endpoint access, `true`/`false`.
    pub const PRIVATE_ACCESS: &str = "privateAccess";
    /// Cluster: public endpoint access, `true`/`false`.
    pub const PUBLIC_ACCESS: &str = "publicAccess";
    /// Cluster: the public access CIDRs, comma-separated.
    pub const PUBLIC_CIDRS: &str = "publicAccessCidrs";
    /// Cluster: the enabled control-plane log types, comma-separated, sorted.
    pub const LOG_TYPES: &str = "logTypes";
    /// Cluster / node group: the Kubernetes version.
    pub const VERSION: &str = "version";
    /// Log group: retention in days.
    pub const RETENTION_DAYS: &str = "retentionDays";
    /// Node group: minimum size.
    pub const MIN_SIZE: &str = "minSize";
    /// Node group: maximum size.
    pub const MAX_SIZE: &str = "maxSize";
}

fn split_list(s: &str) -> BTreeSet<String> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()
}

fn strings(v: &BTreeSet<String>) -> Value {
    Value::Array(v.iter().cloned().map(Value::String).collect())
}

/// Every input of `spec` (planned as `plan`) that differs from what `fresh` (outputs refreshed
/// from AWS) reports. Values the refresh did not record are never drift.
pub fn input_drift(spec: &ClusterArgs, plan: &Plan, fresh: &StepOutputs) -> Vec<Drift> {
    let mut out = Vec::new();
    let mut push = |path: Path, observed: Value| out.push(Drift { path, observed });
    for step in &plan.steps {
        let Some(o) = fresh.get(&step.id) else { continue };
        let get = |k: &str| o.extra.get(k).map(String::as_str);
        let flag = |k: &str| get(k).and_then(|v| v.parse::<bool>().ok());
        let int = |k: &str| get(k).and_then(|v| v.parse::<i64>().ok());
        match &step.action {
            Action::Cluster(ca) => {
                if let Some(v) = get(keys::VERSION).filter(|v| *v != ca.version) {
                    push(Path::key("kubernetesVersion"), Value::String(v.to_string()));
                }
                let access = Path::key("apiAccess");
                if let Some(p) = flag(keys::PRIVATE_ACCESS).filter(|p| *p != ca.private_access) {
                    push(access.k("private"), Value::Bool(p));
                }
                let public = flag(keys::PUBLIC_ACCESS);
                if let Some(p) = public.filter(|p| *p != ca.public_access) {
                    push(access.k("public"), Value::Bool(p));
                }
                // CIDRs matter only while the public endpoint is on; when it was turned on by
                // hand, they show who can now reach it.
                if public == Some(true) {
                    if let Some(c) = get(keys::PUBLIC_CIDRS).map(split_list) {
                        if !ca.public_access || c != effective_public_cidrs(&ca.public_cidrs) {
                            push(access.k("publicCidrs"), strings(&c));
                        }
                    }
                }
                if let Some(t) = get(keys::LOG_TYPES).map(split_list) {
                    if t != ca.log_types.iter().cloned().collect::<BTreeSet<_>>() {
                        push(Path::key("logging").k("types"), strings(&t));
                    }
                }
            }
            Action::LogGroup { retention_days, .. } => {
                if let Some(d) = int(keys::RETENTION_DAYS).filter(|d| d != retention_days) {
                    push(Path::key("logging").k("retentionDays"), Value::Number(d as f64));
                }
            }
            Action::NodeGroup(ng) => {
                let Some(i) = spec.node_groups.iter().flatten().position(|g| g.name == ng.name) else { continue };
                let at = Path::key("nodeGroups").i(i);
                if let Some(v) = int(keys::MIN_SIZE).filter(|v| *v != ng.min_size) {
                    push(at.k("minSize"), Value::Number(v as f64));
                }
                if let Some(v) = int(keys::MAX_SIZE).filter(|v| *v != ng.max_size) {
                    push(at.k("maxSize"), Value::Number(v as f64));
                }
            }
            _ => {}
        }
    }
    out
}

/// `inputs` with every drifted value written in (objects are created along the path where
/// missing; a secret stays wrapped around its new value).
pub fn apply_drift(inputs: &PropertyMap, drift: &[Drift]) -> PropertyMap {
    let mut root = Value::Object(inputs.clone());
    for d in drift {
        set(&mut root, d.path.segments(), d.observed.clone());
    }
    match root {
        Value::Object(m) => m,
        _ => inputs.clone(),
    }
}

fn set(at: &mut Value, path: &[Seg], v: Value) {
    let Some((head, rest)) = path.split_first() else {
        *at = match at {
            Value::Secret(_) => Value::Secret(Box::new(v)),
            _ => v,
        };
        return;
    };
    if let Value::Secret(inner) = at {
        return set(inner, path, v);
    }
    match head {
        Seg::Key(k) => {
            if !matches!(at, Value::Object(_)) {
                *at = Value::Object(PropertyMap::new());
            }
            if let Value::Object(m) = at {
                let child = m.entry(k.clone()).or_insert(Value::Null);
                if rest.is_empty() || !matches!(child, Value::Null) {
                    set(child, rest, v);
                } else {
                    *child = Value::Object(PropertyMap::new());
                    set(child, rest, v);
                }
            }
        }
        Seg::Index(i) => {
            if let Value::Array(items) = at {
                if let Some(child) = items.get_mut(*i) {
                    set(child, rest, v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Autoname;
    use crate::plan::{plan, StepOutput};
    use std::collections::BTreeMap;

    fn planned() -> (ClusterArgs, Plan) {
        let j = serde_json::json!({"kubernetesVersion": "1.34", "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large", "m6g.large"]}]});
        let spec = serde_json::from_value::<ClusterArgs>(j).expect("spec").with_defaults(Autoname::Proposed("demo"), Some("us-east-1"));
        let p = plan(&spec, "us-east-1", &BTreeMap::new()).expect("plan");
        (spec, p)
    }

    fn observed(plan: &Plan, edits: &[(&str, &str, &str)]) -> StepOutputs {
        let mut fresh = StepOutputs::new();
        for s in &plan.steps {
            fresh.insert(s.id.clone(), StepOutput { id: s.id.clone(), ..Default::default() });
        }
        for (step, k, v) in edits {
            if let Some(o) = fresh.get_mut(*step) {
                o.extra.insert((*k).to_string(), (*v).to_string());
            }
        }
        fresh
    }

    #[test]
    fn matching_values_are_no_drift() {
        let (spec, p) = planned();
        let Some(Action::Cluster(ca)) = p.step("cluster").map(|s| s.action.clone()) else { panic!("no cluster step") };
        let logs = ca.log_types.join(",");
        let fresh = observed(
            &p,
            &[
                ("cluster", keys::PUBLIC_ACCESS, if ca.public_access { "true" } else { "false" }),
                ("cluster", keys::PRIVATE_ACCESS, "true"),
                ("cluster", keys::VERSION, &ca.version),
                ("cluster", keys::LOG_TYPES, &logs),
            ],
        );
        assert_eq!(input_drift(&spec, &p, &fresh), vec![]);
    }

    #[test]
    fn a_public_endpoint_turned_on_by_hand_is_drift_with_its_cidrs() {
        let (spec, p) = planned();
        let fresh = observed(&p, &[("cluster", keys::PUBLIC_ACCESS, "true"), ("cluster", keys::PUBLIC_CIDRS, "0.0.0.0/0")]);
        let d = input_drift(&spec, &p, &fresh);
        let shown: Vec<String> = d.iter().map(|d| format!("{} = {:?}", d.path, d.observed)).collect();
        expect_test::expect![[r#"
            [
                "apiAccess.public = Bool(true)",
                "apiAccess.publicCidrs = Array([String(\"0.0.0.0/0\")])",
            ]
        "#]]
        .assert_debug_eq(&shown);
    }

    #[test]
    fn retention_log_types_and_node_group_bounds_are_drift_but_desired_size_is_not() {
        let (spec, p) = planned();
        let ng = p.steps.iter().find(|s| matches!(s.action, Action::NodeGroup(_))).map(|s| s.id.clone()).expect("a node group step");
        let lg = p.steps.iter().find(|s| matches!(s.action, Action::LogGroup { .. })).map(|s| s.id.clone()).expect("a log group step");
        let fresh = observed(
            &p,
            &[
                (&lg, keys::RETENTION_DAYS, "7"),
                ("cluster", keys::LOG_TYPES, "api,audit"),
                (&ng, keys::MAX_SIZE, "40"),
                (&ng, "desiredSize", "17"),
            ],
        );
        let shown: Vec<String> = input_drift(&spec, &p, &fresh).iter().map(|d| format!("{} = {:?}", d.path, d.observed)).collect();
        expect_test::expect![[r#"
            [
                "logging.retentionDays = Number(7.0)",
                "logging.types = Array([String(\"api\"), String(\"audit\")])",
                "nodeGroups[0].maxSize = Number(40.0)",
            ]
        "#]]
        .assert_debug_eq(&shown);
    }

    #[test]
    fn apply_drift_writes_into_nested_and_missing_objects_and_keeps_secrets() {
        let mut inputs = PropertyMap::new();
        inputs.insert("kubernetesVersion".into(), Value::String("1.34".into()));
        inputs.insert("apiAccess".into(), Value::Secret(Box::new(Value::Object(PropertyMap::new()))));
        inputs.insert("nodeGroups".into(), Value::Array(vec![Value::Object(PropertyMap::new())]));
        let drift = vec![
            Drift { path: Path::key("apiAccess").k("public"), observed: Value::Bool(true) },
            Drift { path: Path::key("logging").k("retentionDays"), observed: Value::Number(7.0) },
            Drift { path: Path::key("nodeGroups").i(0).k("maxSize"), observed: Value::Number(9.0) },
            // Out of range: ignored.
            Drift { path: Path::key("nodeGroups").i(3).k("maxSize"), observed: Value::Number(9.0) },
        ];
        let out = apply_drift(&inputs, &drift);
        let Some(Value::Secret(access)) = out.get("apiAccess") else { panic!("apiAccess lost its secret wrapper") };
        assert_eq!(access.get_path(&Path::key("public")), Some(&Value::Bool(true)));
        assert_eq!(Value::Object(out.clone()).get_path(&Path::key("logging").k("retentionDays")), Some(&Value::Number(7.0)));
        assert_eq!(Value::Object(out.clone()).get_path(&Path::key("nodeGroups").i(0).k("maxSize")), Some(&Value::Number(9.0)));
        assert_eq!(out.get("kubernetesVersion"), Some(&Value::String("1.34".into())));
        assert_eq!(apply_drift(&inputs, &[]), inputs);
    }
}
