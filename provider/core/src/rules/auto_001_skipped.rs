//! SEKS-AUTO-001 (note): the rules that don't apply to an EKS Auto Mode cluster, each with the
//! reason; the rules engine skips them and lists them in one note.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-AUTO-001",
    title: "Checks skipped because they don't apply to EKS Auto Mode",
    severity: Severity::Info,
    level: Level::Warning,
    waivable: false,
    refs: &[],
};

const CORE_ADDONS: &str = "Auto Mode runs its own vpc-cni, kube-proxy, coredns and Pod Identity agent, so secure-eks installs none of them";

/// Why a rule doesn't apply to an Auto Mode cluster; `None`: it applies.
pub(super) fn skipped(ctx: &RuleCtx<'_>, id: &str) -> Option<&'static str> {
    if !ctx.spec.auto_mode_on() {
        return None;
    }
    match id {
        "SEKS-ADD-002" | "SEKS-ADD-003" | "SEKS-ADD-004" => Some(CORE_ADDONS),
        "SEKS-NODE-005" => Some("Auto Mode chooses the instance types and configures pod networking on them"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, with};
    use super::super::*;
    use crate::model::Autoname;
    use crate::value::{UnknownKind, Value};
    use serde_json::json;

    /// Evaluate the catalogue over `spec` through the codec, with `autoMode.enabled` unknown when asked.
    fn report(spec: serde_json::Value, unknown_auto_mode: bool) -> Report {
        let mut tree = crate::codec::from_json(&spec);
        if let (true, Value::Object(m)) = (unknown_auto_mode, &mut tree) {
            m.insert("autoMode".into(), Value::Object([("enabled".to_string(), Value::Unknown(UnknownKind::Bool))].into_iter().collect()));
        }
        let d = crate::codec::decode::<crate::model::ClusterArgs>(&tree).unwrap();
        let spec = d.value.with_defaults_around(Autoname::Proposed("t"), Some("us-east-1"), &d.annotations);
        evaluate(&RuleCtx { spec: &spec, annotations: &d.annotations, olds: None, region: Some("us-east-1"), today: "2026-12-08", aws: None })
    }

    fn auto_mode() -> serde_json::Value {
        with(|s| {
            s["autoMode"] = json!({"enabled": true});
            s.as_object_mut().unwrap().remove("nodeGroups");
        })
    }

    #[test]
    fn pass() {
        // Without Auto Mode every rule runs.
        assert_eq!(report(golden(), false).skipped_note(), None);
    }

    #[test]
    fn fail() {
        let r = report(auto_mode(), false);
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        expect_test::expect!["SEKS-AUTO-001 [INFO] 4 checks skipped for EKS Auto Mode: SEKS-ADD-004, SEKS-ADD-002, SEKS-ADD-003 (Auto Mode runs its own vpc-cni, kube-proxy, coredns and Pod Identity agent, so secure-eks installs none of them); SEKS-NODE-005 (Auto Mode chooses the instance types and configures pod networking on them)"]
            .assert_eq(&r.skipped_note().unwrap());
    }

    #[test]
    fn unknown() {
        // An unknown autoMode skips nothing: every rule runs (and SEKS-AUTO-002 defers).
        let r = report(golden(), true);
        assert_eq!(r.skipped_note(), None);
        assert!(r.deferred.iter().any(|(id, _)| *id == "SEKS-AUTO-002"), "{:?}", r.deferred);
    }
}
