//! SEKS-NODE-030: a node group's update budget is exactly one of `maxUnavailable` and
//! `maxUnavailablePercentage`, each from 1 to 100 (EKS API NodegroupUpdateConfig).

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-030",
    title: "Node group update config: one of maxUnavailable or maxUnavailablePercentage, 1 to 100",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct UpdateConfig;
pub(super) static RULE: UpdateConfig = UpdateConfig;

impl Rule for UpdateConfig {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let mut out = Vec::new();
        for (i, ng) in ctx.spec.node_groups.iter().flatten().enumerate() {
            let path = Path::key("nodeGroups").i(i).k("updateConfig");
            if !ctx.known(&path) {
                out.push(Outcome::Deferred(path));
                continue;
            }
            let Some(uc) = ng.update_config.as_ref() else { continue };
            let finding = match (uc.max_unavailable, uc.max_unavailable_percentage) {
                (Some(_), Some(_)) => Some(Finding {
                    path: path.clone(),
                    problem: "both maxUnavailable and maxUnavailablePercentage are set".into(),
                    expected: "exactly one of them".into(),
                    fix: format!("remove {path}.maxUnavailable or {path}.maxUnavailablePercentage"),
                }),
                (Some(v), None) if !(1..=100).contains(&v) => Some(Finding {
                    path: path.k("maxUnavailable"),
                    problem: format!("maxUnavailable is {v}"),
                    expected: "1 to 100 nodes".into(),
                    fix: format!("set {path}.maxUnavailable to a number from 1 to 100, e.g. 1"),
                }),
                (None, Some(v)) if !(1..=100).contains(&v) => Some(Finding {
                    path: path.k("maxUnavailablePercentage"),
                    problem: format!("maxUnavailablePercentage is {v}"),
                    expected: "1 to 100 percent".into(),
                    fix: format!("set {path}.maxUnavailablePercentage to a number from 1 to 100, e.g. 33"),
                }),
                _ => None,
            };
            out.extend(finding.map(Outcome::Fail));
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["updateConfig"] = json!({"maxUnavailable": 2})), &[]));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NODE-030 [MEDIUM] nodeGroups[0].updateConfig: both maxUnavailable and maxUnavailablePercentage are set; expected exactly one of them. Fix: remove nodeGroups[0].updateConfig.maxUnavailable or nodeGroups[0].updateConfig.maxUnavailablePercentage. Refs: none"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["updateConfig"] = json!({"maxUnavailable": 2, "maxUnavailablePercentage": 10})), &[]));
        expect!["SEKS-NODE-030 [MEDIUM] nodeGroups[1].updateConfig.maxUnavailablePercentage: maxUnavailablePercentage is 0; expected 1 to 100 percent. Fix: set nodeGroups[1].updateConfig.maxUnavailablePercentage to a number from 1 to 100, e.g. 33. Refs: none"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1]["updateConfig"] = json!({"maxUnavailablePercentage": 0})), &[]));
        expect!["SEKS-NODE-030 [MEDIUM] nodeGroups[1].updateConfig.maxUnavailable: maxUnavailable is 101; expected 1 to 100 nodes. Fix: set nodeGroups[1].updateConfig.maxUnavailable to a number from 1 to 100, e.g. 1. Refs: none"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1]["updateConfig"] = json!({"maxUnavailable": 101})), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[0].updateConfig"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["updateConfig"] = json!({"maxUnavailable": 1})), &["nodeGroups[0].updateConfig.maxUnavailable"]));
    }
}
