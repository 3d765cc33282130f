//! SEKS-NET-003: a VPC is either created from `network.vpcCidr` or brought in with
//! `network.existingVpc`, never both.
//!
//! The defaults fill `vpcCidr` only when `existingVpc` is absent, so a `vpcCidr` next to an
//! `existingVpc` was always written by the user.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NET-003",
    title: "vpcCidr and existingVpc are exclusive",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct VpcSource;
pub(super) static RULE: VpcSource = VpcSource;

impl Rule for VpcSource {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let ep = Path::key("network").k("existingVpc");
        let vp = Path::key("network").k("vpcCidr");
        // Whether existingVpc is there at all; its members may be unknown without changing that.
        if ctx.annotations.is_unknown(&ep) {
            return vec![Outcome::Deferred(ep)];
        }
        let net = ctx.spec.network.as_ref();
        if net.and_then(|n| n.existing_vpc.as_ref()).is_none() {
            return vec![];
        }
        if ctx.annotations.is_unknown(&vp) {
            return vec![Outcome::Deferred(vp)];
        }
        let Some(cidr) = net.and_then(|n| n.vpc_cidr.as_deref()) else {
            return vec![];
        };
        vec![Outcome::Fail(Finding {
            path: vp.clone(),
            problem: format!("vpcCidr ({cidr}) is set together with existingVpc, whose VPC already has its CIDR, so vpcCidr would be ignored"),
            expected: "either vpcCidr (a new VPC) or existingVpc (your VPC), not both".into(),
            fix: "remove network.vpcCidr to build in the existing VPC, or remove network.existingVpc to create a new one".into(),
        })]
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    fn byo() -> serde_json::Value {
        json!({"vpcId": "vpc-0123456789abcdef0", "nodeSubnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]})
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"existingVpc": byo()})), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "10.1.0.0/16"})), &[]));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NET-003 [MEDIUM] network.vpcCidr: vpcCidr (10.1.0.0/16) is set together with existingVpc, whose VPC already has its CIDR, so vpcCidr would be ignored; expected either vpcCidr (a new VPC) or existingVpc (your VPC), not both. Fix: remove network.vpcCidr to build in the existing VPC, or remove network.existingVpc to create a new one. Refs: none"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "10.1.0.0/16", "existingVpc": byo()})), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: network.existingVpc"].assert_eq(&run(&RULE, golden(), &["network.existingVpc"]));
        expect!["deferred: network.vpcCidr"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"existingVpc": byo()})), &["network.vpcCidr"]));
        // An unknown member does not hide whether existingVpc is there.
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"existingVpc": byo()})), &["network.existingVpc.vpcId"]));
    }
}
