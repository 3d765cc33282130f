//! SEKS-ADD-002: pinned addon versions are EKS build versions that fit the cluster.
//!
//! A version reads `v<major>.<minor>.<patch>-eksbuild.<n>`. kube-proxy is built per Kubernetes
//! minor version, so a pinned kube-proxy must match `kubernetesVersion` (and move with it on
//! upgrade). With custom networking the vpc-cni must be v1.15.1 or later, the first version known
//! to create ENIConfigs from its addon configuration (`eniConfig`).

use super::*;
use crate::model::Addon;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-ADD-002",
    title: "Addon versions must be EKS builds that fit the cluster version",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["EKS BPG upgrades"],
};

pub(super) struct Versions;
pub(super) static RULE: Versions = Versions;

/// The vpc-cni version from which `eniConfig` is known to be in the addon configuration schema.
const CNI_ENICONFIG_FLOOR: (u32, u32, u32) = (1, 15, 1);

/// `v1.19.2-eksbuild.1` → (1, 19, 2).
fn parse_addon_version(v: &str) -> Option<(u32, u32, u32)> {
    let (semver, build) = v.strip_prefix('v')?.split_once("-eksbuild.")?;
    let number = |s: &str| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u32>().ok()).flatten();
    number(build)?;
    let mut it = semver.split('.');
    let parts = (number(it.next()?)?, number(it.next()?)?, number(it.next()?)?);
    it.next().is_none().then_some(parts)
}

impl Rule for Versions {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let Some(addons) = ctx.spec.addons.as_ref() else {
            return if ctx.known(&Path::key("addons")) { vec![] } else { vec![Outcome::Deferred(Path::key("addons"))] };
        };
        let all: [(&str, &str, &Option<Addon>); 4] = [
            ("vpcCni", "vpc-cni", &addons.vpc_cni),
            ("kubeProxy", "kube-proxy", &addons.kube_proxy),
            ("coreDns", "coredns", &addons.core_dns),
            ("podIdentityAgent", "eks-pod-identity-agent", &addons.pod_identity_agent),
        ];
        let kv = Path::key("kubernetesVersion");
        let cp = Path::key("network").k("podCidr");
        let mut out = Vec::new();
        for (key, name, addon) in all {
            let path = Path::key("addons").k(key).k("version");
            if !ctx.known(&path) {
                out.push(Outcome::Deferred(path));
                continue;
            }
            let Some(v) = addon.as_ref().and_then(|a| a.version.as_deref()) else {
                continue;
            };
            let Some((major, minor, patch)) = parse_addon_version(v) else {
                out.push(Outcome::Fail(Finding {
                    path: path.clone(),
                    problem: format!("{} is not an EKS addon version", shown(ctx, &path, v)),
                    expected: "v<major>.<minor>.<patch>-eksbuild.<n>, e.g. v1.19.2-eksbuild.1".into(),
                    fix: format!("copy a version from `aws eks describe-addon-versions --addon-name {name}`, or remove {path} to get the AWS default"),
                }));
                continue;
            };
            if name == "kube-proxy" {
                if !ctx.known(&kv) {
                    out.push(Outcome::Deferred(kv.clone()));
                } else if let Some((cm, cn)) = ctx.spec.kubernetes_version.as_deref().and_then(parse_minor) {
                    if (major, minor) != (cm, cn) {
                        out.push(Outcome::Fail(Finding {
                            path: path.clone(),
                            problem: format!("kube-proxy {} is built for Kubernetes {major}.{minor}, but the cluster runs {cm}.{cn}", shown(ctx, &path, v)),
                            expected: format!("a kube-proxy v{cm}.{cn}.x-eksbuild.N build"),
                            fix: format!("set {path} to a v{cm}.{cn} build (aws eks describe-addon-versions --addon-name kube-proxy --kubernetes-version {cm}.{cn}), or remove it; change it together with kubernetesVersion"),
                        }));
                    }
                }
            }
            if name == "vpc-cni" && (major, minor, patch) < CNI_ENICONFIG_FLOOR {
                if !ctx.known(&cp) {
                    out.push(Outcome::Deferred(cp.clone()));
                } else if let Some(pod) = ctx.spec.network.as_ref().and_then(|n| n.pod_cidr.as_ref()) {
                    out.push(Outcome::Fail(Finding {
                        path: path.clone(),
                        problem: format!("vpc-cni {} is older than v1.15.1, but custom networking (podCidr {pod}) needs the ENIConfigs secure-eks sets through the addon configuration", shown(ctx, &path, v)),
                        expected: "vpc-cni v1.15.1-eksbuild.1 or later".into(),
                        fix: format!("set {path} to v1.15.1-eksbuild.1 or later, or remove it to get the AWS default"),
                    }));
                }
            }
        }
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
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| s["addons"] = json!({"vpcCni": {"version": "v1.19.2-eksbuild.1"}, "kubeProxy": {"version": "v1.34.1-eksbuild.2"}, "coreDns": {}})),
            &[],
        ));
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| {
                s["addons"] = json!({"vpcCni": {"version": "v1.14.1-eksbuild.1"}});
                s["network"] = json!({"podCidr": null});
            }),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-ADD-002 [HIGH] addons.vpcCni.version: vpc-cni "v1.14.1-eksbuild.1" is older than v1.15.1, but custom networking (podCidr 100.64.0.0/16) needs the ENIConfigs secure-eks sets through the addon configuration; expected vpc-cni v1.15.1-eksbuild.1 or later. Fix: set addons.vpcCni.version to v1.15.1-eksbuild.1 or later, or remove it to get the AWS default. Refs: EKS BPG upgrades
            SEKS-ADD-002 [HIGH] addons.kubeProxy.version: kube-proxy "v1.31.2-eksbuild.3" is built for Kubernetes 1.31, but the cluster runs 1.34; expected a kube-proxy v1.34.x-eksbuild.N build. Fix: set addons.kubeProxy.version to a v1.34 build (aws eks describe-addon-versions --addon-name kube-proxy --kubernetes-version 1.34), or remove it; change it together with kubernetesVersion. Refs: EKS BPG upgrades
            SEKS-ADD-002 [HIGH] addons.coreDns.version: "1.11.4" is not an EKS addon version; expected v<major>.<minor>.<patch>-eksbuild.<n>, e.g. v1.19.2-eksbuild.1. Fix: copy a version from `aws eks describe-addon-versions --addon-name coredns`, or remove addons.coreDns.version to get the AWS default. Refs: EKS BPG upgrades"#]].assert_eq(&run(
            &RULE,
            with(|s| s["addons"] = json!({"vpcCni": {"version": "v1.14.1-eksbuild.1"}, "kubeProxy": {"version": "v1.31.2-eksbuild.3"}, "coreDns": {"version": "1.11.4"}})),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect![[r#"
            deferred: network.podCidr
            deferred: kubernetesVersion
            deferred: addons.coreDns.version"#]].assert_eq(&run(
            &RULE,
            with(|s| s["addons"] = json!({"vpcCni": {"version": "v1.14.1-eksbuild.1"}, "kubeProxy": {"version": "v1.31.2-eksbuild.3"}, "coreDns": {"version": "x"}})),
            &["kubernetesVersion", "network.podCidr", "addons.coreDns.version"],
        ));
    }
}
