//! SEKS-NET-011 (AWS-backed): the subnets of an existing VPC exist, belong to that VPC, lie in the
//! cluster's zones, and node subnets do not give instances public IPs (DescribeSubnets).

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NET-011",
    title: "Existing subnets exist, belong to the VPC, lie in the cluster zones and map no public IPs (checked with AWS)",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["CKV_AWS_130", "AVD-AWS-0164", "EKS BPG networking/subnets"],
};

pub(super) struct ExistingSubnets;
pub(super) static RULE: ExistingSubnets = ExistingSubnets;

impl Rule for ExistingSubnets {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("network").k("existingVpc");
        let Some(ev) = ctx.spec.network.as_ref().and_then(|n| n.existing_vpc.as_ref()) else {
            return if ctx.known(&base) { vec![] } else { vec![Outcome::Deferred(base)] };
        };
        if !ctx.known(&base) || !ctx.known(&Path::key("network").k("availabilityZones")) {
            return vec![Outcome::Deferred(base)];
        }
        let Some(aws) = ctx.aws else {
            return vec![Outcome::Deferred(base)];
        };
        let azs = ctx.spec.network.as_ref().and_then(|n| n.availability_zones.clone()).unwrap_or_default();
        let lists = [
            ("nodeSubnetIds", ev.node_subnet_ids.clone(), true),
            ("podSubnetIds", ev.pod_subnet_ids.clone().unwrap_or_default(), false),
            ("endpointSubnetIds", ev.endpoint_subnet_ids.clone().unwrap_or_default(), false),
        ];
        let mut out = Vec::new();
        for (key, ids, node) in lists {
            for (i, id) in ids.iter().enumerate() {
                let path = base.k(key).i(i);
                let finding = match aws.subnets.get(id) {
                    None => Some(Finding {
                        path: path.clone(),
                        problem: format!("{id} does not exist in {} (DescribeSubnets)", ctx.region.unwrap_or("the region")),
                        expected: format!("a subnet of {}", ev.vpc_id),
                        fix: format!("correct {path}"),
                    }),
                    Some(f) if f.vpc_id != ev.vpc_id => Some(Finding {
                        path: path.clone(),
                        problem: format!("{id} belongs to {}, not to {}", f.vpc_id, ev.vpc_id),
                        expected: format!("a subnet of {}", ev.vpc_id),
                        fix: format!("use a subnet of {} in {path}", ev.vpc_id),
                    }),
                    Some(f) if !azs.is_empty() && !azs.contains(&f.az) => Some(Finding {
                        path: path.clone(),
                        problem: format!("{id} is in {}, which is not one of the cluster zones ({})", f.az, azs.join(", ")),
                        expected: "subnets in network.availabilityZones".into(),
                        fix: format!("add {} to network.availabilityZones or pick a subnet in those zones", f.az),
                    }),
                    Some(f) if node && f.map_public_ip_on_launch => Some(Finding {
                        path: path.clone(),
                        problem: format!("{id} gives every instance launched in it a public IP (mapPublicIpOnLaunch is true)"),
                        expected: "private node subnets".into(),
                        fix: format!("set MapPublicIpOnLaunch=false on {id} (aws ec2 modify-subnet-attribute --no-map-public-ip-on-launch), or use a private subnet"),
                    }),
                    Some(_) => None,
                };
                out.extend(finding.map(Outcome::Fail));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, golden_aws, run, with, with_aws};
    use super::super::{AwsFacts, SubnetFacts};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    fn byo(s: &mut serde_json::Value) {
        s["network"] = json!({
            "existingVpc": {"vpcId": "vpc-0123456789abcdef0", "nodeSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]},
            "availabilityZones": ["us-east-1a", "us-east-1b"]
        });
    }

    fn facts(public: bool, vpc: &str) -> AwsFacts {
        let mut f = golden_aws();
        for (id, az) in [("subnet-0aaaaaaaaaaaaaaa1", "us-east-1a"), ("subnet-0bbbbbbbbbbbbbbb2", "us-east-1b")] {
            f.subnets.insert(id.into(), SubnetFacts { az: az.into(), map_public_ip_on_launch: public && az.ends_with('b'), vpc_id: vpc.into() });
        }
        f
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&with_aws(facts(false, "vpc-0123456789abcdef0"), || run(&RULE, with(byo), &[])));
        expect!["pass"].assert_eq(&with_aws(golden_aws(), || run(&RULE, golden(), &[])));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NET-011 [HIGH] network.existingVpc.nodeSubnetIds[1]: subnet-0bbbbbbbbbbbbbbb2 gives every instance launched in it a public IP (mapPublicIpOnLaunch is true); expected private node subnets. Fix: set MapPublicIpOnLaunch=false on subnet-0bbbbbbbbbbbbbbb2 (aws ec2 modify-subnet-attribute --no-map-public-ip-on-launch), or use a private subnet. Refs: CKV_AWS_130, AVD-AWS-0164, EKS BPG networking/subnets"].assert_eq(&with_aws(facts(true, "vpc-0123456789abcdef0"), || run(&RULE, with(byo), &[])));
        expect![[r#"
            SEKS-NET-011 [HIGH] network.existingVpc.nodeSubnetIds[0]: subnet-0aaaaaaaaaaaaaaa1 belongs to vpc-0fffffffffffffff9, not to vpc-0123456789abcdef0; expected a subnet of vpc-0123456789abcdef0. Fix: use a subnet of vpc-0123456789abcdef0 in network.existingVpc.nodeSubnetIds[0]. Refs: CKV_AWS_130, AVD-AWS-0164, EKS BPG networking/subnets
            SEKS-NET-011 [HIGH] network.existingVpc.nodeSubnetIds[1]: subnet-0bbbbbbbbbbbbbbb2 belongs to vpc-0fffffffffffffff9, not to vpc-0123456789abcdef0; expected a subnet of vpc-0123456789abcdef0. Fix: use a subnet of vpc-0123456789abcdef0 in network.existingVpc.nodeSubnetIds[1]. Refs: CKV_AWS_130, AVD-AWS-0164, EKS BPG networking/subnets"#]].assert_eq(&with_aws(facts(false, "vpc-0fffffffffffffff9"), || run(&RULE, with(byo), &[])));
    }

    #[test]
    fn unknown() {
        expect!["deferred: network.existingVpc"].assert_eq(&with_aws(facts(false, "vpc-0123456789abcdef0"), || run(&RULE, with(byo), &["network.existingVpc.nodeSubnetIds[0]"])));
        expect!["deferred: network.existingVpc"].assert_eq(&run(&RULE, with(byo), &[]));
    }
}
