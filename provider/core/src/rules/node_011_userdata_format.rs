//! SEKS-NODE-011 (warning): `userData` is in the form the AMI family reads.
//!
//! Bottlerocket reads TOML settings only; a shell script or a MIME document is not applied.
//! AL2023 configures kubelet through a nodeadm `NodeConfig`; a bare shell script cannot (there is
//! no `/etc/eks/bootstrap.sh`), and Bottlerocket TOML means nothing to it. The message never
//! echoes the user data, and the finding's property stays empty.

use super::*;
use crate::model::AmiFamily;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-011",
    title: "userData should be in the format of the AMI family",
    severity: Severity::Low,
    level: Level::Warning,
    waivable: true,
    refs: &[],
};

pub(super) struct UserDataFormat;
pub(super) static RULE: UserDataFormat = UserDataFormat;

fn judge(path: &Path, family: AmiFamily, ud: &str) -> Option<Finding> {
    let head = ud.trim_start();
    let script = head.starts_with("#!");
    let mime = head.get(..12).is_some_and(|h| h.eq_ignore_ascii_case("MIME-Version"));
    let toml = head.starts_with("[settings");
    match family {
        AmiFamily::Bottlerocket if script || mime => Some(Finding {
            path: path.clone(),
            problem: format!(
                "the user data is {}, but Bottlerocket reads only TOML settings, so nothing of it would be applied",
                if script { "a shell script" } else { "a MIME multipart document" }
            ),
            expected: "Bottlerocket TOML settings, e.g. [settings.kubernetes.node-labels]".into(),
            fix: "rewrite it as Bottlerocket settings (host setup goes in a bootstrap container), or set amiFamily to AL2023".into(),
        }),
        AmiFamily::Al2023 if toml => Some(Finding {
            path: path.clone(),
            problem: "the user data is Bottlerocket TOML settings, which AL2023 ignores".into(),
            expected: "a nodeadm NodeConfig (apiVersion: node.eks.aws/v1alpha1, kind: NodeConfig), alone or as a MIME part".into(),
            fix: "set amiFamily to BOTTLEROCKET, or express the settings as a NodeConfig".into(),
        }),
        AmiFamily::Al2023 if script && !ud.contains("NodeConfig") => Some(Finding {
            path: path.clone(),
            problem: "the user data is a shell script without a nodeadm NodeConfig, but AL2023 has no /etc/eks/bootstrap.sh and takes kubelet settings only through a NodeConfig".into(),
            expected: "a nodeadm NodeConfig (apiVersion: node.eks.aws/v1alpha1, kind: NodeConfig), alone or as a MIME part next to the script".into(),
            fix: "move kubelet flags and node settings into a NodeConfig; keep the script only for other host setup".into(),
        }),
        _ => None,
    }
}

impl Rule for UserDataFormat {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        node_groups(ctx)
            .filter_map(|(p, ng)| {
                let up = p.k("userData");
                let fp = p.k("amiFamily");
                let ud = ng.user_data.as_deref();
                if ud.is_none() && ctx.known(&up) {
                    return None;
                }
                if !ctx.known(&fp) {
                    return Some(Outcome::Deferred(fp));
                }
                when_known(ctx, &up, || judge(&up, ng.ami_family.unwrap_or(AmiFamily::Al2023), ud?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::RULE;
    use expect_test::expect;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| {
                s["nodeGroups"][0]["userData"] = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      maxPods: 110\n".into();
                s["nodeGroups"][1]["amiFamily"] = "BOTTLEROCKET".into();
                s["nodeGroups"][1]["userData"] = "[settings.kubernetes.node-labels]\nteam = \"a\"\n".into();
            }),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-NODE-011 [LOW] nodeGroups[0].userData: the user data is a shell script without a nodeadm NodeConfig, but AL2023 has no /etc/eks/bootstrap.sh and takes kubelet settings only through a NodeConfig; expected a nodeadm NodeConfig (apiVersion: node.eks.aws/v1alpha1, kind: NodeConfig), alone or as a MIME part next to the script. Fix: move kubelet flags and node settings into a NodeConfig; keep the script only for other host setup. Refs: none
            SEKS-NODE-011 [LOW] nodeGroups[1].userData: the user data is a MIME multipart document, but Bottlerocket reads only TOML settings, so nothing of it would be applied; expected Bottlerocket TOML settings, e.g. [settings.kubernetes.node-labels]. Fix: rewrite it as Bottlerocket settings (host setup goes in a bootstrap container), or set amiFamily to AL2023. Refs: none"#]].assert_eq(&run(
            &RULE,
            with(|s| {
                s["nodeGroups"][0]["userData"] = "#!/bin/bash\n/etc/eks/bootstrap.sh demo --kubelet-extra-args '--max-pods=110' # TOKEN=hunter2\n".into();
                s["nodeGroups"][1]["amiFamily"] = "BOTTLEROCKET".into();
                s["nodeGroups"][1]["userData"] = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"x\"\n".into();
            }),
            &[],
        ));
        expect!["SEKS-NODE-011 [LOW] nodeGroups[0].userData: the user data is Bottlerocket TOML settings, which AL2023 ignores; expected a nodeadm NodeConfig (apiVersion: node.eks.aws/v1alpha1, kind: NodeConfig), alone or as a MIME part. Fix: set amiFamily to BOTTLEROCKET, or express the settings as a NodeConfig. Refs: none"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["userData"] = "[settings.kubernetes]\nmax-pods = 110\n".into()), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[0].userData"].assert_eq(&run(&RULE, golden(), &["nodeGroups[0].userData"]));
        expect!["deferred: nodeGroups[1].amiFamily"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1]["userData"] = "#!/bin/sh\n".into()), &["nodeGroups[1].amiFamily"]));
    }
}
