//! SEKS-NET-005: AWS must accept the pod CIDR as a secondary block next to the VPC CIDR.
//!
//! The VPC user guide's association restrictions (docs.aws.amazon.com/vpc/latest/userguide/
//! vpc-cidr-blocks.html, "IPv4 CIDR block association restrictions") refuse, next to a primary
//! block in 172.16.0.0/12, a secondary block in 172.31.0.0/16 (the default VPC's range), and
//! refuse 198.19.0.0/16 next to any RFC 1918 primary. SEKS-NET-002 already keeps the pod CIDR in
//! 100.64.0.0/10 or in the VPC's own RFC 1918 range (and so out of 198.19.0.0/16); this rule adds
//! the 172.31.0.0/16 case, which `AssociateVpcCidrBlock` would refuse half-way through `up`.

use super::*;
use crate::plan::Ipv4Cidr;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NET-005",
    title: "The pod CIDR must be a secondary block AWS associates with the VPC CIDR",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["EKS BPG networking/custom-networking"],
};

pub(super) struct CidrAssociation;
pub(super) static RULE: CidrAssociation = CidrAssociation;

const RANGE_172_16: Ipv4Cidr = Ipv4Cidr { addr: 0xAC10_0000, prefix: 12 };
const RANGE_172_31: Ipv4Cidr = Ipv4Cidr { addr: 0xAC1F_0000, prefix: 16 };

impl Rule for CidrAssociation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let vp = Path::key("network").k("vpcCidr");
        let pp = Path::key("network").k("podCidr");
        let deferred: Vec<Outcome> = [&vp, &pp].into_iter().filter(|p| !ctx.known(p)).map(|p| Outcome::Deferred(p.clone())).collect();
        if !deferred.is_empty() {
            return deferred;
        }
        let net = ctx.spec.network.as_ref();
        let (Some(v), Some(p)) = (net.and_then(|n| n.vpc_cidr.as_deref()), net.and_then(|n| n.pod_cidr.as_ref())) else {
            return vec![];
        };
        let (Ok(v), Ok(p)) = (parse_ipv4_cidr(v), parse_ipv4_cidr(p)) else {
            return vec![]; // SEKS-NET-002 explains.
        };
        if !(RANGE_172_16.contains(&v) && !RANGE_172_31.contains(&v) && p.overlaps(&RANGE_172_31)) {
            return vec![];
        }
        let secret = ctx.is_secret(&vp) || ctx.is_secret(&pp);
        let (vs, ps) = if secret { ("(secret)".to_string(), "(secret)".to_string()) } else { (v.to_string(), p.to_string()) };
        vec![Outcome::Fail(Finding {
            path: pp.clone(),
            problem: format!("AWS does not associate {ps} (in 172.31.0.0/16) with a VPC whose primary CIDR {vs} is in 172.16.0.0/12"),
            expected: "a pod CIDR outside 172.31.0.0/16, e.g. in 100.64.0.0/10".into(),
            fix: format!("set {pp} to 100.64.0.0/16 (the default)"),
        })]
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "172.20.0.0/16", "podCidr": "172.24.0.0/16"})), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "172.20.0.0/16", "podCidr": "100.64.0.0/16"})), &[]));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NET-005 [HIGH] network.podCidr: AWS does not associate 172.31.0.0/16 (in 172.31.0.0/16) with a VPC whose primary CIDR 172.20.0.0/16 is in 172.16.0.0/12; expected a pod CIDR outside 172.31.0.0/16, e.g. in 100.64.0.0/10. Fix: set network.podCidr to 100.64.0.0/16 (the default). Refs: EKS BPG networking/custom-networking"]
            .assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "172.20.0.0/16", "podCidr": "172.31.0.0/16"})), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: network.podCidr"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "172.20.0.0/16", "podCidr": "172.31.0.0/16"})), &["network.podCidr"]));
    }
}
