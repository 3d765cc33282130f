//! SEKS-ADD-006 (AWS-backed): every addon of `addons.extra` exists for the cluster's Kubernetes
//! version, and a pinned version is one EKS offers for it (DescribeAddonVersions).

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-ADD-006",
    title: "Addons by name exist for the cluster version, at an offered version (checked with AWS)",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct AddonNames;
pub(super) static RULE: AddonNames = AddonNames;

impl Rule for AddonNames {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("addons").k("extra");
        let Some(extra) = ctx.spec.addons.as_ref().and_then(|a| a.extra.as_ref()) else { return vec![] };
        let k8s = ctx.spec.kubernetes_version.as_deref().unwrap_or("?");
        let mut out = Vec::new();
        for (i, a) in extra.iter().enumerate().filter(|(_, a)| a.enabled.unwrap_or(true)) {
            let at = base.i(i);
            if !ctx.known(&at) || !ctx.known(&Path::key("kubernetesVersion")) {
                out.push(Outcome::Deferred(at));
                continue;
            }
            let Some(aws) = ctx.aws else {
                out.push(Outcome::Deferred(at));
                continue;
            };
            let offered = aws.addon_versions.get(&a.name).cloned().unwrap_or_default();
            if offered.is_empty() {
                out.push(Outcome::Fail(Finding {
                    path: at.k("name"),
                    problem: format!("EKS offers no addon named {} for Kubernetes {k8s}", a.name),
                    expected: "an addon name that `aws eks describe-addon-versions --kubernetes-version <version>` lists".into(),
                    fix: format!("correct the name at {at}.name (e.g. aws-efs-csi-driver, metrics-server), or remove the entry"),
                }));
            } else if let Some(v) = a.version.as_deref().filter(|v| !offered.iter().any(|o| o == v)) {
                out.push(Outcome::Fail(Finding {
                    path: at.k("version"),
                    problem: format!("{} {v} is not offered for Kubernetes {k8s}", a.name),
                    expected: format!("one of {}", offered.join(", ")),
                    fix: format!("set {at}.version to {} or remove it to get the AWS default", offered[0]),
                }));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, golden_aws, run, with, with_aws};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    fn facts() -> crate::rules::AwsFacts {
        let mut f = golden_aws();
        f.addon_versions.insert("aws-efs-csi-driver".into(), vec!["v2.1.0-eksbuild.1".into(), "v2.0.9-eksbuild.1".into()]);
        f
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&with_aws(golden_aws(), || run(&RULE, golden(), &[])));
        expect!["pass"].assert_eq(&with_aws(facts(), || run(&RULE, with(|s| s["addons"] = json!({"extra": [{"name": "aws-ebs-csi-driver", "enabled": false}, {"name": "aws-efs-csi-driver", "version": "v2.0.9-eksbuild.1"}]})), &[])));
    }

    #[test]
    fn fail() {
        expect!["SEKS-ADD-006 [HIGH] addons.extra[1].name: EKS offers no addon named aws-efs-csi-drivr for Kubernetes 1.34; expected an addon name that `aws eks describe-addon-versions --kubernetes-version <version>` lists. Fix: correct the name at addons.extra[1].name (e.g. aws-efs-csi-driver, metrics-server), or remove the entry. Refs: none"].assert_eq(&with_aws(facts(), || run(&RULE, with(|s| s["addons"] = json!({"extra": [{"name": "aws-ebs-csi-driver", "enabled": false}, {"name": "aws-efs-csi-drivr"}]})), &[])));
        expect!["SEKS-ADD-006 [HIGH] addons.extra[1].version: aws-efs-csi-driver v1.0.0-eksbuild.1 is not offered for Kubernetes 1.34; expected one of v2.1.0-eksbuild.1, v2.0.9-eksbuild.1. Fix: set addons.extra[1].version to v2.1.0-eksbuild.1 or remove it to get the AWS default. Refs: none"].assert_eq(&with_aws(facts(), || run(&RULE, with(|s| s["addons"] = json!({"extra": [{"name": "aws-ebs-csi-driver", "enabled": false}, {"name": "aws-efs-csi-driver", "version": "v1.0.0-eksbuild.1"}]})), &[])));
    }

    #[test]
    fn unknown() {
        expect!["deferred: addons.extra[0]"].assert_eq(&with_aws(facts(), || run(&RULE, with(|s| s["addons"] = json!({"extra": [{"name": "aws-efs-csi-driver", "version": "v2.0.9-eksbuild.1"}]})), &["addons.extra[0].version"])));
        expect!["deferred: addons.extra[0]"].assert_eq(&run(&RULE, golden(), &[]));
    }
}
