//! SEKS-ADD-004 (AWS-backed): a pinned addon version is one EKS offers for the cluster's
//! Kubernetes version (DescribeAddonVersions).

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-ADD-004",
    title: "Pinned addon versions are offered for the cluster version (checked with AWS)",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["EKS BPG upgrades"],
};

pub(super) struct AddonVersions;
pub(super) static RULE: AddonVersions = AddonVersions;

impl Rule for AddonVersions {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let Some(addons) = ctx.spec.addons.as_ref() else {
            return vec![];
        };
        let pinned = [
            ("vpcCni", "vpc-cni", addons.vpc_cni.as_ref()),
            ("kubeProxy", "kube-proxy", addons.kube_proxy.as_ref()),
            ("coreDns", "coredns", addons.core_dns.as_ref()),
            ("podIdentityAgent", "eks-pod-identity-agent", addons.pod_identity_agent.as_ref()),
        ];
        pinned
            .into_iter()
            .filter_map(|(key, name, a)| {
                let path = Path::key("addons").k(key).k("version");
                if !ctx.known(&path) || !ctx.known(&Path::key("kubernetesVersion")) {
                    return Some(Outcome::Deferred(path));
                }
                let version = a.and_then(|a| a.version.as_deref())?;
                let Some(aws) = ctx.aws else {
                    return Some(Outcome::Deferred(path));
                };
                let offered = aws.addon_versions.get(name).cloned().unwrap_or_default();
                (!offered.iter().any(|v| v == version)).then(|| {
                    let k8s = ctx.spec.kubernetes_version.as_deref().unwrap_or("?");
                    Outcome::Fail(Finding {
                        path: path.clone(),
                        problem: format!("{name} {version} is not offered for Kubernetes {k8s}"),
                        expected: if offered.is_empty() {
                            "a version DescribeAddonVersions lists".into()
                        } else {
                            format!("one of {}", offered.join(", "))
                        },
                        fix: format!("set {path} to {} or remove it to get the AWS default", offered.first().map_or("a listed version", String::as_str)),
                    })
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, golden_aws, run, with, with_aws};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&with_aws(golden_aws(), || run(&RULE, golden(), &[])));
        expect!["pass"].assert_eq(&with_aws(golden_aws(), || {
            run(&RULE, with(|s| s["addons"] = json!({"vpcCni": {"version": "v1.19.2-eksbuild.1"}})), &[])
        }));
    }

    #[test]
    fn fail() {
        expect!["SEKS-ADD-004 [HIGH] addons.coreDns.version: coredns v1.8.0-eksbuild.1 is not offered for Kubernetes 1.34; expected one of v1.11.3-eksbuild.1. Fix: set addons.coreDns.version to v1.11.3-eksbuild.1 or remove it to get the AWS default. Refs: EKS BPG upgrades"].assert_eq(&with_aws(golden_aws(), || {
            run(&RULE, with(|s| s["addons"] = json!({"coreDns": {"version": "v1.8.0-eksbuild.1"}})), &[])
        }));
    }

    #[test]
    fn unknown() {
        expect!["deferred: addons.coreDns.version"].assert_eq(&with_aws(golden_aws(), || {
            run(&RULE, with(|s| s["addons"] = json!({"coreDns": {"version": "x"}})), &["addons.coreDns.version"])
        }));
        expect!["deferred: addons.coreDns.version"].assert_eq(&run(&RULE, with(|s| s["addons"] = json!({"coreDns": {"version": "v1.11.3-eksbuild.1"}})), &[]));
    }
}
