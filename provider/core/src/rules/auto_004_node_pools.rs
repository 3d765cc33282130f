//! SEKS-AUTO-004: Auto Mode's node pools are the built-in ones, `general-purpose` and `system`
//! (EKS API ComputeConfigRequest: "nodePools ... general-purpose, system"); custom node pools
//! are Kubernetes objects, not cluster settings.

use super::*;
use crate::model::BUILT_IN_NODE_POOLS;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-AUTO-004",
    title: "Auto Mode node pools are general-purpose and/or system",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct NodePools;
pub(super) static RULE: NodePools = NodePools;

impl Rule for NodePools {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("autoMode").k("nodePools");
        if !ctx.known(&base) || !ctx.known(&Path::key("autoMode").k("enabled")) {
            return vec![Outcome::Deferred(base)];
        }
        let Some(pools) = ctx.spec.auto_mode.as_ref().filter(|_| ctx.spec.auto_mode_on()).and_then(|a| a.node_pools.as_ref()) else { return vec![] };
        let mut seen = std::collections::BTreeSet::new();
        pools
            .iter()
            .enumerate()
            .filter(|(_, p)| !BUILT_IN_NODE_POOLS.contains(&p.as_str()) || !seen.insert(p.as_str()))
            .map(|(i, p)| {
                Outcome::Fail(Finding {
                    path: base.i(i),
                    problem: format!("{p:?} is not a built-in node pool, or is listed twice"),
                    expected: "\"general-purpose\" and/or \"system\", each once".into(),
                    fix: format!("remove {p:?} from {base}; create custom node pools as Kubernetes NodePool objects"),
                })
            })
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["autoMode"] = json!({"enabled": true, "nodePools": ["system"]})), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"SEKS-AUTO-004 [MEDIUM] autoMode.nodePools[1]: "gpu" is not a built-in node pool, or is listed twice; expected "general-purpose" and/or "system", each once. Fix: remove "gpu" from autoMode.nodePools; create custom node pools as Kubernetes NodePool objects. Refs: none"#]].assert_eq(&run(&RULE, with(|s| s["autoMode"] = json!({"enabled": true, "nodePools": ["general-purpose", "gpu"]})), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: autoMode.nodePools"].assert_eq(&run(&RULE, with(|s| s["autoMode"] = json!({"enabled": true, "nodePools": ["x"]})), &["autoMode.nodePools[0]"]));
    }
}
