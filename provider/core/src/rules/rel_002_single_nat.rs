//! SEKS-REL-002 (warning): `natGateways: single` puts all internet egress behind one NAT gateway
//! in one zone. Allowed, because it is an explicit choice, but said out loud.

use super::*;
use crate::model::NatGateways;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-REL-002",
    title: "A single NAT gateway is a single point of failure",
    severity: Severity::Low,
    level: Level::Warning,
    waivable: true,
    refs: &["EKS BPG networking/subnets"],
};

pub(super) struct SingleNat;
pub(super) static RULE: SingleNat = SingleNat;

impl Rule for SingleNat {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let path = Path::key("network").k("natGateways");
        when_known(ctx, &path, || {
            (ctx.spec.network.as_ref()?.nat_gateways? == NatGateways::Single).then(|| Finding {
                path: path.clone(),
                problem: "natGateways is \"single\": when its zone fails, nodes in every zone lose internet egress".into(),
                expected: "\"perAz\" (one NAT per zone), or \"none\" (private, through VPC endpoints)".into(),
                fix: format!("set {path} to perAz, or to none if the nodes only call AWS APIs"),
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"natGateways": "perAz"})), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"SEKS-REL-002 [LOW] network.natGateways: natGateways is "single": when its zone fails, nodes in every zone lose internet egress; expected "perAz" (one NAT per zone), or "none" (private, through VPC endpoints). Fix: set network.natGateways to perAz, or to none if the nodes only call AWS APIs. Refs: EKS BPG networking/subnets"#]].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"natGateways": "single"})), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: network.natGateways"].assert_eq(&run(&RULE, golden(), &["network.natGateways"]));
    }
}
