//! SEKS-NET-030 (AWS-backed, warning): every interface endpoint the cluster gets is offered by
//! the region (DescribeVpcEndpointServices).
//!
//! Not every region offers every PrivateLink service: the EKS API endpoint
//! (`com.amazonaws.<region>.eks`, which the cluster autoscaler uses) is missing in some
//! (https://docs.aws.amazon.com/eks/latest/userguide/vpc-interface-endpoints.html, "Region
//! availability"), and CreateVpcEndpoint then answers `InvalidServiceName`. `up` leaves such an
//! endpoint out rather than failing (the executor's preflight); this warning says so at preview,
//! so that whatever calls that API from the nodes can be given another way to reach it (a NAT
//! gateway). Without AWS facts (no credentials at preview) there is nothing to compare with and
//! the rule says nothing; an unknown `network.extraEndpoints` or autoscaler switch defers it.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NET-030",
    title: "Interface endpoints the region does not offer are left out (checked with AWS)",
    severity: Severity::Medium,
    level: Level::Warning,
    waivable: true,
    refs: &[],
};

pub(super) struct EndpointServices;
pub(super) static RULE: EndpointServices = EndpointServices;

/// The service's full name (`cn.com.amazonaws.` in the China regions).
fn full_name(region: &str, svc: &str) -> String {
    if region.starts_with("cn-") {
        format!("cn.com.amazonaws.{region}.{svc}")
    } else {
        format!("com.amazonaws.{region}.{svc}")
    }
}

impl Rule for EndpointServices {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let extra_path = Path::key("network").k("extraEndpoints");
        let autoscaler_path = Path::key("clusterAutoscaler").k("enabled");
        for p in [&extra_path, &autoscaler_path] {
            if !ctx.known(p) {
                return vec![Outcome::Deferred(p.clone())];
            }
        }
        let (Some(offered), Some(region)) = (ctx.aws.and_then(|a| a.endpoint_services.as_ref()), ctx.region) else {
            return vec![];
        };
        let extra = ctx.spec.network.as_ref().and_then(|n| n.extra_endpoints.clone()).unwrap_or_default();
        let autoscaler = ctx.spec.cluster_autoscaler.as_ref().and_then(|c| c.enabled).unwrap_or(true);
        let mut out = Vec::new();
        // s3 is a gateway endpoint, offered everywhere.
        for svc in crate::plan::endpoint_services(autoscaler, &extra).iter().filter(|s| s.as_str() != "s3") {
            let full = full_name(region, svc);
            if offered.contains(&full) {
                continue;
            }
            let path = match extra.iter().position(|e| e == svc) {
                Some(i) => extra_path.i(i),
                None => Path::key("network"),
            };
            out.push(Outcome::Fail(Finding {
                path,
                problem: format!("{region} offers no {full} endpoint service (DescribeVpcEndpointServices), so up leaves vpce/{svc} out"),
                expected: format!("interface endpoints for services that {region} offers"),
                fix: format!(
                    "if the nodes must call the {svc} API, give them a route to it (network.natGateways: single or perAz); otherwise nothing to do"
                ),
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, golden_aws, run, with, with_aws};
    use super::super::AwsFacts;
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    /// us-east-1 offering every service the golden spec needs, or all but `without`.
    fn facts(without: &[&str]) -> AwsFacts {
        let mut f = golden_aws();
        let all = ["autoscaling", "ec2", "ecr.api", "ecr.dkr", "eks", "eks-auth", "logs", "s3", "sts", "ssm"];
        f.endpoint_services = Some(all.iter().filter(|s| !without.contains(s)).map(|s| format!("com.amazonaws.us-east-1.{s}")).collect());
        f
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&with_aws(facts(&[]), || run(&RULE, golden(), &[])));
        // Not looked up (no credentials at preview): nothing to say.
        expect!["pass"].assert_eq(&with_aws(golden_aws(), || run(&RULE, golden(), &[])));
        // The autoscaler off: no eks endpoint is planned.
        expect!["pass"].assert_eq(&with_aws(facts(&["eks"]), || run(&RULE, with(|s| s["clusterAutoscaler"] = json!({"enabled": false})), &[])));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NET-030 [MEDIUM] network: us-east-1 offers no com.amazonaws.us-east-1.eks endpoint service (DescribeVpcEndpointServices), so up leaves vpce/eks out; expected interface endpoints for services that us-east-1 offers. Fix: if the nodes must call the eks API, give them a route to it (network.natGateways: single or perAz); otherwise nothing to do. Refs: none"]
            .assert_eq(&with_aws(facts(&["eks"]), || run(&RULE, golden(), &[])));
        expect!["SEKS-NET-030 [MEDIUM] network.extraEndpoints[0]: us-east-1 offers no com.amazonaws.us-east-1.ssm endpoint service (DescribeVpcEndpointServices), so up leaves vpce/ssm out; expected interface endpoints for services that us-east-1 offers. Fix: if the nodes must call the ssm API, give them a route to it (network.natGateways: single or perAz); otherwise nothing to do. Refs: none"]
            .assert_eq(&with_aws(facts(&["ssm"]), || run(&RULE, with(|s| s["network"] = json!({"extraEndpoints": ["ssm"]})), &[])));
    }

    #[test]
    fn unknown() {
        expect!["deferred: network.extraEndpoints"].assert_eq(&with_aws(facts(&["eks"]), || run(&RULE, golden(), &["network.extraEndpoints"])));
        expect!["deferred: clusterAutoscaler.enabled"].assert_eq(&with_aws(facts(&["eks"]), || run(&RULE, golden(), &["clusterAutoscaler.enabled"])));
    }
}
