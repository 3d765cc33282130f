//! SEKS-NET-006 (audit): nodes can reach the AWS APIs they need to join: through a NAT gateway,
//! or through VPC endpoints for each of them.
//!
//! A node bootstraps by calling EC2, pulling images from ECR (api, dkr and the S3 layer store)
//! and, with IRSA, STS (EKS user guide, "Deploy private clusters with limited internet
//! access"). secure-eks always creates these endpoints; an existing VPC with neither a NAT
//! gateway nor the endpoints leaves nodes that never join.

use super::audit::{AuditFacts, AuditRule};
use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NET-006",
    title: "Private nodes need a NAT gateway or VPC endpoints for EC2, ECR, S3 and STS (audit)",
    severity: Severity::High,
    level: Level::Error,
    waivable: true,
    refs: &[],
};

/// The endpoints nodes need without a NAT gateway.
pub(crate) const REQUIRED: [&str; 5] = ["ec2", "ecr.api", "ecr.dkr", "s3", "sts"];

pub(super) struct PrivateEgress;
pub(super) static RULE: PrivateEgress = PrivateEgress;

impl AuditRule for PrivateEgress {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit(&self, facts: &AuditFacts) -> Vec<Finding> {
        if facts.nat_gateways > 0 {
            return vec![];
        }
        let missing: Vec<&str> = REQUIRED.iter().copied().filter(|s| !facts.endpoint_services.iter().any(|e| e == s)).collect();
        if missing.is_empty() {
            return vec![];
        }
        vec![Finding {
            path: Path::key("vpc").k(facts.vpc_id.clone()),
            problem: format!("the VPC has no NAT gateway and no VPC endpoint for {}, so nodes cannot reach those APIs", missing.join(", ")),
            expected: "a NAT gateway, or interface endpoints for ec2, ecr.api, ecr.dkr, sts and a gateway endpoint for s3".into(),
            fix: format!("create VPC endpoints for {} in the node subnets (private DNS on), or a NAT gateway", missing.join(", ")),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::super::audit::tests::clean;
    use super::RULE;
    use expect_test::expect;

    fn run(f: &super::AuditFacts) -> String {
        super::super::audit::tests::run(&RULE, f)
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&clean()));
        let mut f = clean();
        f.endpoint_services.clear();
        f.nat_gateways = 1;
        expect!["pass"].assert_eq(&run(&f));
    }

    #[test]
    fn fail() {
        let mut f = clean();
        f.endpoint_services = vec!["ec2".into(), "s3".into()];
        expect!["SEKS-NET-006 [HIGH] vpc.vpc-1: the VPC has no NAT gateway and no VPC endpoint for ecr.api, ecr.dkr, sts, so nodes cannot reach those APIs; expected a NAT gateway, or interface endpoints for ec2, ecr.api, ecr.dkr, sts and a gateway endpoint for s3. Fix: create VPC endpoints for ecr.api, ecr.dkr, sts in the node subnets (private DNS on), or a NAT gateway. Refs: none"].assert_eq(&run(&f));
    }

    #[test]
    fn unknown() {
        let mut f = clean();
        f.unread.push(("ec2:DescribeNatGateways".into(), "AccessDenied".into()));
        let r = super::super::audit::audit(&f);
        assert!(r.not_judged.iter().any(|(_, why)| why.contains("DescribeNatGateways")));
    }
}
