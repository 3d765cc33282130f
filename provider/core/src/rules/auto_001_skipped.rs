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
    use crate::model::{Autoname, ClusterArgs};
    use serde_json::json;

    fn report(spec: serde_json::Value) -> Report {
        let spec: ClusterArgs = serde_json::from_value::<ClusterArgs>(spec).unwrap().with_defaults(Autoname::Proposed("t"), Some("us-east-1"));
        let ann = crate::codec::Annotations::default();
        evaluate(&RuleCtx { spec: &spec, annotations: &ann, olds: None, region: Some("us-east-1"), today: "2026-12-08", aws: None })
    }

    #[test]
    fn auto_mode_skips_the_core_addon_rules_with_a_reason() {
        let r = report(with(|s| {
            s["autoMode"] = json!({"enabled": true});
            s.as_object_mut().unwrap().remove("nodeGroups");
        }));
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        expect_test::expect!["SEKS-AUTO-001 [INFO] 4 checks skipped for EKS Auto Mode: SEKS-ADD-004, SEKS-ADD-002, SEKS-ADD-003 (Auto Mode runs its own vpc-cni, kube-proxy, coredns and Pod Identity agent, so secure-eks installs none of them); SEKS-NODE-005 (Auto Mode chooses the instance types and configures pod networking on them)"]
            .assert_eq(&r.skipped_note().unwrap());
        assert_eq!(report(golden()).skipped_note(), None);
    }
}
