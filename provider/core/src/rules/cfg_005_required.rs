//! SEKS-CFG-005: the required inputs are present: `kubernetesVersion` and at least one node group,
//! and a `clusterName` (when autonaming is disabled).

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CFG-005",
    title: "Required inputs must be set",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct Required;
pub(super) static RULE: Required = Required;

impl Rule for Required {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let mut out = Vec::new();
        let kv = Path::key("kubernetesVersion");
        out.extend(when_known(ctx, &kv, || {
            ctx.spec.kubernetes_version.is_none().then(|| Finding {
                path: kv.clone(),
                problem: "no Kubernetes version is given".into(),
                expected: format!("a pinned EKS version such as \"{}\"", SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.len() - 2]),
                fix: "set kubernetesVersion".into(),
            })
        }));
        let ng = Path::key("nodeGroups");
        if ctx.annotations.is_unknown(&ng) {
            out.push(Outcome::Deferred(ng));
        } else if ctx.spec.node_groups.as_ref().is_none_or(Vec::is_empty) && !ctx.spec.auto_mode_on() {
            out.push(Outcome::Fail(Finding {
                path: ng,
                problem: "no node group is given, so no pod can run".into(),
                expected: "at least one node group".into(),
                fix: "add nodeGroups: [{name: general, instanceTypes: [m7g.large, m6g.large]}]".into(),
            }));
        }
        let cn = Path::key("clusterName");
        out.extend(when_known(ctx, &cn, || {
            ctx.spec.cluster_name.is_none().then(|| Finding {
                path: cn.clone(),
                problem: "no cluster name is given and autonaming is disabled".into(),
                expected: "a cluster name".into(),
                fix: "set clusterName".into(),
            })
        }));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-CFG-005 [HIGH] kubernetesVersion: no Kubernetes version is given; expected a pinned EKS version such as "1.35". Fix: set kubernetesVersion. Refs: none
            SEKS-CFG-005 [HIGH] nodeGroups: no node group is given, so no pod can run; expected at least one node group. Fix: add nodeGroups: [{name: general, instanceTypes: [m7g.large, m6g.large]}]. Refs: none"#]].assert_eq(&run(&RULE, json!({"nodeGroups": []}), &[]));
    }

    #[test]
    fn unknown() {
        expect![[r#"
            deferred: kubernetesVersion
            deferred: nodeGroups"#]].assert_eq(&run(&RULE, with(|s| { s.as_object_mut().map(|m| m.remove("kubernetesVersion")); }), &["kubernetesVersion", "nodeGroups"]));
    }
}
