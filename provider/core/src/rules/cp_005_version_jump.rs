//! SEKS-CP-005: an in-place upgrade moves one minor version at a time, and never down.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CP-005",
    title: "Kubernetes upgrades go one minor version at a time",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["EKS BPG upgrades"],
};

pub(super) struct VersionJump;
pub(super) static RULE: VersionJump = VersionJump;

impl Rule for VersionJump {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let path = Path::key("kubernetesVersion");
        let Some(old) = ctx.olds.and_then(|o| o.kubernetes_version.as_deref()) else {
            return vec![];
        };
        when_known(ctx, &path, || {
            let new = ctx.spec.kubernetes_version.as_deref()?;
            let (om, on) = parse_minor(old)?;
            let (nm, nn) = parse_minor(new)?;
            if (nm, nn) < (om, on) {
                Some(Finding {
                    path: path.clone(),
                    problem: format!("{new} is older than the running {old}; EKS cannot downgrade"),
                    expected: format!("{old} or {om}.{}", on + 1),
                    fix: format!("set kubernetesVersion back to \"{old}\""),
                })
            } else if nm != om || nn > on + 1 {
                Some(Finding {
                    path: path.clone(),
                    problem: format!("the upgrade from {old} to {new} skips minor versions"),
                    expected: format!("one minor step: {om}.{}", on + 1),
                    fix: format!("upgrade to \"{om}.{}\" first, run pulumi up, then continue", on + 1),
                })
            } else {
                None
            }
        })
        .into_iter()
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run_with_olds, with};
    use super::RULE;
    use expect_test::expect;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run_with_olds(&RULE, golden(), &[], None));
        let old = with(|s| s["kubernetesVersion"] = "1.33".into());
        expect!["pass"].assert_eq(&run_with_olds(&RULE, golden(), &[], Some(old)));
    }

    #[test]
    fn fail() {
        let old = with(|s| s["kubernetesVersion"] = "1.32".into());
        expect![[r#"SEKS-CP-005 [HIGH] kubernetesVersion: the upgrade from 1.32 to 1.34 skips minor versions; expected one minor step: 1.33. Fix: upgrade to "1.33" first, run pulumi up, then continue. Refs: EKS BPG upgrades"#]].assert_eq(&run_with_olds(&RULE, golden(), &[], Some(old)));
        let old = with(|s| s["kubernetesVersion"] = "1.35".into());
        expect![[r#"SEKS-CP-005 [HIGH] kubernetesVersion: 1.34 is older than the running 1.35; EKS cannot downgrade; expected 1.35 or 1.36. Fix: set kubernetesVersion back to "1.35". Refs: EKS BPG upgrades"#]].assert_eq(&run_with_olds(&RULE, golden(), &[], Some(old)));
    }

    #[test]
    fn unknown() {
        let old = with(|s| s["kubernetesVersion"] = "1.32".into());
        expect!["deferred: kubernetesVersion"].assert_eq(&run_with_olds(&RULE, golden(), &["kubernetesVersion"], Some(old)));
    }
}
