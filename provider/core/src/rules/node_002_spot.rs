//! SEKS-NODE-002: SPOT node groups diversify over at least two instance types.

use super::*;
use crate::model::CapacityType;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-002",
    title: "SPOT node groups need at least 2 instance types",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: true,
    refs: &["EKS BPG autoscaling/cluster-autoscaler"],
};

pub(super) struct Spot;
pub(super) static RULE: Spot = Spot;

impl Rule for Spot {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        node_groups(ctx)
            .filter_map(|(p, ng)| {
                for q in [p.k("capacityType"), p.k("instanceTypes")] {
                    if !ctx.known(&q) {
                        return Some(Outcome::Deferred(q));
                    }
                }
                (ng.capacity_type == Some(CapacityType::Spot) && ng.instance_types.len() < 2).then(|| {
                    Outcome::Fail(Finding {
                        path: p.k("instanceTypes"),
                        problem: format!(
                            "a SPOT group with {} instance type(s) ({}) loses all nodes when that pool is reclaimed",
                            ng.instance_types.len(),
                            ng.instance_types.join(", ")
                        ),
                        expected: "at least 2 instance types of the same architecture and size".into(),
                        fix: format!("add a similar type to {p}.instanceTypes, e.g. [\"m7g.large\", \"m6g.large\"]"),
                    })
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

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["capacityType"] = "SPOT".into()), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"SEKS-NODE-002 [MEDIUM] nodeGroups[1].instanceTypes: a SPOT group with 1 instance type(s) (m7i.large) loses all nodes when that pool is reclaimed; expected at least 2 instance types of the same architecture and size. Fix: add a similar type to nodeGroups[1].instanceTypes, e.g. ["m7g.large", "m6g.large"]. Refs: EKS BPG autoscaling/cluster-autoscaler"#]].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1]["capacityType"] = "SPOT".into()), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[1].capacityType"].assert_eq(&run(&RULE, golden(), &["nodeGroups[1].capacityType"]));
    }
}
