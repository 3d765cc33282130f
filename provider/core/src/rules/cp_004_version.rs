//! SEKS-CP-004: `kubernetesVersion` is a supported EKS minor version.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CP-004",
    title: "Kubernetes version must be a supported EKS version",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["CKV_AWS_339", "EKS BPG upgrades"],
};

pub(super) struct Version;
pub(super) static RULE: Version = Version;

impl Rule for Version {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let path = Path::key("kubernetesVersion");
        when_known(ctx, &path, || {
            let v = ctx.spec.kubernetes_version.as_deref()?;
            let ok = parse_minor(v).is_some() && SUPPORTED_VERSIONS.contains(&v.trim());
            (!ok).then(|| Finding {
                path: path.clone(),
                problem: format!("{v:?} is not a supported EKS version"),
                expected: format!("one of {}", SUPPORTED_VERSIONS.join(", ")),
                fix: format!("set kubernetesVersion to \"{}\"", SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.len() - 2]),
            })
        })
        .into_iter()
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
    }

    #[test]
    fn fail() {
        expect![[r#"SEKS-CP-004 [HIGH] kubernetesVersion: "1.24" is not a supported EKS version; expected one of 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36. Fix: set kubernetesVersion to "1.35". Refs: CKV_AWS_339, EKS BPG upgrades"#]].assert_eq(&run(&RULE, with(|s| s["kubernetesVersion"] = "1.24".into()), &[]));
        expect![[r#"SEKS-CP-004 [HIGH] kubernetesVersion: "latest" is not a supported EKS version; expected one of 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36. Fix: set kubernetesVersion to "1.35". Refs: CKV_AWS_339, EKS BPG upgrades"#]].assert_eq(&run(&RULE, with(|s| s["kubernetesVersion"] = "latest".into()), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: kubernetesVersion"].assert_eq(&run(&RULE, golden(), &["kubernetesVersion"]));
    }
}
