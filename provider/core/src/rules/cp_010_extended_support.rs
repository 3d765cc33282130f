//! SEKS-CP-010 (warning): `upgradePolicy: EXTENDED` keeps a cluster on a Kubernetes version past
//! its standard support, billed per cluster hour. Allowed, because it is an explicit choice, but
//! said out loud: without an upgrade policy EKS would choose extended support silently.

use super::*;
use crate::model::SupportType;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CP-010",
    title: "Extended Kubernetes version support is billed",
    severity: Severity::Low,
    level: Level::Warning,
    waivable: true,
    refs: &[],
};

pub(super) struct ExtendedSupport;
pub(super) static RULE: ExtendedSupport = ExtendedSupport;

impl Rule for ExtendedSupport {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let path = Path::key("upgradePolicy");
        when_known(ctx, &path, || {
            (ctx.spec.upgrade_policy? == SupportType::Extended).then(|| Finding {
                path: path.clone(),
                problem: "upgradePolicy is EXTENDED: once standard support of the Kubernetes version ends, the cluster stays on it for up to 12 more months at the extended support price per cluster hour".into(),
                expected: "STANDARD (EKS upgrades the cluster when standard support ends), with upgrades planned before then".into(),
                fix: format!("set {path} to STANDARD, or waive SEKS-CP-010 with the reason the cost is accepted"),
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
    use serde_json::json;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["upgradePolicy"] = json!("STANDARD")), &[]));
    }

    #[test]
    fn fail() {
        expect!["SEKS-CP-010 [LOW] upgradePolicy: upgradePolicy is EXTENDED: once standard support of the Kubernetes version ends, the cluster stays on it for up to 12 more months at the extended support price per cluster hour; expected STANDARD (EKS upgrades the cluster when standard support ends), with upgrades planned before then. Fix: set upgradePolicy to STANDARD, or waive SEKS-CP-010 with the reason the cost is accepted. Refs: none"].assert_eq(&run(&RULE, with(|s| s["upgradePolicy"] = json!("EXTENDED")), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: upgradePolicy"].assert_eq(&run(&RULE, golden(), &["upgradePolicy"]));
    }
}
