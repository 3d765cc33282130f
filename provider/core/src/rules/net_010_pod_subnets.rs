//! SEKS-NET-010: an existing VPC is described well enough to build in, and custom networking has
//! a pod subnet for every node zone.
//!
//! With custom networking (`podCidr` set) every node zone needs an ENIConfig, and an ENIConfig
//! needs a pod subnet in that zone: a zone without one gives its pods no IP address. Given
//! `podSubnetIds` are paired with `availabilityZones` by position (the first pod subnet serves the
//! first zone), so there must be exactly one per zone. With `podCidr: null` custom networking is
//! off and pod subnets would not be used. Ids must look like EC2 ids, and the nodes need subnets
//! in at least two zones.

use super::*;
use crate::model::Nullable;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NET-010",
    title: "Existing VPC: valid ids, two node subnets, one pod subnet per node zone",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["EKS BPG networking/custom-networking"],
};

pub(super) struct PodSubnets;
pub(super) static RULE: PodSubnets = PodSubnets;

/// Format and uniqueness of a list of subnet ids.
fn subnet_ids(ctx: &RuleCtx<'_>, base: &Path, ids: &[String], out: &mut Vec<Outcome>) {
    for (i, id) in ids.iter().enumerate() {
        let p = base.i(i);
        if !ctx.known(&p) {
            out.push(Outcome::Deferred(p));
        } else if !is_aws_id(id, "subnet") {
            out.push(Outcome::Fail(Finding {
                path: p.clone(),
                problem: format!("{} is not a subnet id", shown(ctx, &p, id)),
                expected: "subnet- and 8 to 17 hex digits, e.g. subnet-0123456789abcdef0".into(),
                fix: format!("set {p} to the subnet's id (aws ec2 describe-subnets)"),
            }));
        } else if let Some(j) = ids[..i].iter().position(|x| x == id) {
            out.push(Outcome::Fail(Finding {
                path: p.clone(),
                problem: format!("{} is listed twice (also at {})", shown(ctx, &p, id), base.i(j)),
                expected: "each subnet once".into(),
                fix: format!("remove {p}"),
            }));
        }
    }
}

impl Rule for PodSubnets {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let ep = Path::key("network").k("existingVpc");
        if ctx.annotations.is_unknown(&ep) {
            return vec![Outcome::Deferred(ep)];
        }
        let Some(net) = ctx.spec.network.as_ref() else {
            return vec![];
        };
        let Some(ev) = net.existing_vpc.as_ref() else {
            return vec![];
        };
        let mut out = Vec::new();

        let vp = ep.k("vpcId");
        out.extend(when_known(ctx, &vp, || {
            (!is_aws_id(&ev.vpc_id, "vpc")).then(|| Finding {
                path: vp.clone(),
                problem: format!("{} is not a VPC id", shown(ctx, &vp, &ev.vpc_id)),
                expected: "vpc- and 8 to 17 hex digits, e.g. vpc-0123456789abcdef0".into(),
                fix: format!("set {vp} to the VPC's id (aws ec2 describe-vpcs)"),
            })
        }));

        let np = ep.k("nodeSubnetIds");
        if ctx.annotations.is_unknown(&np) {
            out.push(Outcome::Deferred(np.clone()));
        } else {
            if ev.node_subnet_ids.len() < 2 {
                out.push(Outcome::Fail(Finding {
                    path: np.clone(),
                    problem: format!("{} node subnet(s) given", ev.node_subnet_ids.len()),
                    expected: "at least 2 private subnets in different zones (EKS needs subnets in 2 zones)".into(),
                    fix: format!("add a private subnet of another zone to {np}"),
                }));
            }
            subnet_ids(ctx, &np, &ev.node_subnet_ids, &mut out);
        }

        let xp = ep.k("endpointSubnetIds");
        if ctx.annotations.is_unknown(&xp) {
            out.push(Outcome::Deferred(xp.clone()));
        } else if let Some(ids) = &ev.endpoint_subnet_ids {
            subnet_ids(ctx, &xp, ids, &mut out);
        }

        let pp = ep.k("podSubnetIds");
        let cp = Path::key("network").k("podCidr");
        let zp = Path::key("network").k("availabilityZones");
        if ctx.annotations.is_unknown(&pp) {
            out.push(Outcome::Deferred(pp));
            return out;
        }
        let Some(pods) = &ev.pod_subnet_ids else {
            return out;
        };
        subnet_ids(ctx, &pp, pods, &mut out);
        if !ctx.known(&cp) {
            out.push(Outcome::Deferred(cp));
            return out;
        }
        match &net.pod_cidr {
            Nullable::Null => out.push(Outcome::Fail(Finding {
                path: pp.clone(),
                problem: format!("{} pod subnet(s) are given, but network.podCidr is null, so custom networking is off and pods would use the node subnets", pods.len()),
                expected: "podSubnetIds only with custom networking on".into(),
                fix: "remove network.existingVpc.podSubnetIds, or remove `podCidr: null` to turn custom networking on".into(),
            })),
            Nullable::Value(_) | Nullable::Absent => {
                if !ctx.known(&zp) {
                    out.push(Outcome::Deferred(zp));
                    return out;
                }
                let zones = net.availability_zones.clone().unwrap_or_default();
                if pods.len() != zones.len() {
                    let missing = if pods.len() < zones.len() {
                        format!("zone(s) {} would get no ENIConfig, and their pods no IP address", zones[pods.len()..].join(", "))
                    } else {
                        "the extra subnets match no zone".to_string()
                    };
                    out.push(Outcome::Fail(Finding {
                        path: pp.clone(),
                        problem: format!("{} pod subnet(s) for {} node zone(s) ({}): {missing}", pods.len(), zones.len(), zones.join(", ")),
                        expected: "exactly one pod subnet per node zone, in the order of network.availabilityZones".into(),
                        fix: format!("list one pod subnet for each of {} in {pp}, or set network.availabilityZones to the zones of your pod subnets", zones.join(", ")),
                    }));
                }
            }
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

    fn byo(extra: serde_json::Value) -> serde_json::Value {
        let mut ev = json!({"vpcId": "vpc-0123456789abcdef0", "nodeSubnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]});
        if let (Some(m), Some(x)) = (ev.as_object_mut(), extra.as_object()) {
            m.extend(x.clone());
        }
        ev
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"existingVpc": byo(json!({}))})), &[]));
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| {
                s["network"] = json!({
                    "availabilityZones": ["us-east-1a", "us-east-1b"],
                    "existingVpc": byo(json!({"podSubnetIds": ["subnet-0cccccccccccccccc", "subnet-0dddddddddddddddd"]}))
                })
            }),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NET-010 [HIGH] network.existingVpc.podSubnetIds: 2 pod subnet(s) for 3 node zone(s) (us-east-1a, us-east-1b, us-east-1c): zone(s) us-east-1c would get no ENIConfig, and their pods no IP address; expected exactly one pod subnet per node zone, in the order of network.availabilityZones. Fix: list one pod subnet for each of us-east-1a, us-east-1b, us-east-1c in network.existingVpc.podSubnetIds, or set network.availabilityZones to the zones of your pod subnets. Refs: EKS BPG networking/custom-networking"].assert_eq(&run(
            &RULE,
            with(|s| s["network"] = json!({"existingVpc": byo(json!({"podSubnetIds": ["subnet-0cccccccccccccccc", "subnet-0dddddddddddddddd"]}))})),
            &[],
        ));
        expect!["SEKS-NET-010 [HIGH] network.existingVpc.podSubnetIds: 1 pod subnet(s) are given, but network.podCidr is null, so custom networking is off and pods would use the node subnets; expected podSubnetIds only with custom networking on. Fix: remove network.existingVpc.podSubnetIds, or remove `podCidr: null` to turn custom networking on. Refs: EKS BPG networking/custom-networking"].assert_eq(&run(
            &RULE,
            with(|s| s["network"] = json!({"podCidr": null, "existingVpc": byo(json!({"podSubnetIds": ["subnet-0cccccccccccccccc"]}))})),
            &[],
        ));
        expect![[r#"
            SEKS-NET-010 [HIGH] network.existingVpc.vpcId: "vpc-prod" is not a VPC id; expected vpc- and 8 to 17 hex digits, e.g. vpc-0123456789abcdef0. Fix: set network.existingVpc.vpcId to the VPC's id (aws ec2 describe-vpcs). Refs: EKS BPG networking/custom-networking
            SEKS-NET-010 [HIGH] network.existingVpc.nodeSubnetIds: 1 node subnet(s) given; expected at least 2 private subnets in different zones (EKS needs subnets in 2 zones). Fix: add a private subnet of another zone to network.existingVpc.nodeSubnetIds. Refs: EKS BPG networking/custom-networking
            SEKS-NET-010 [HIGH] network.existingVpc.endpointSubnetIds[1]: "subnet-0aaaaaaaaaaaaaaaa" is listed twice (also at network.existingVpc.endpointSubnetIds[0]); expected each subnet once. Fix: remove network.existingVpc.endpointSubnetIds[1]. Refs: EKS BPG networking/custom-networking
            SEKS-NET-010 [HIGH] network.existingVpc.endpointSubnetIds[2]: "sn-1" is not a subnet id; expected subnet- and 8 to 17 hex digits, e.g. subnet-0123456789abcdef0. Fix: set network.existingVpc.endpointSubnetIds[2] to the subnet's id (aws ec2 describe-subnets). Refs: EKS BPG networking/custom-networking"#]].assert_eq(&run(
            &RULE,
            with(|s| {
                s["network"] = json!({"existingVpc": {
                    "vpcId": "vpc-prod",
                    "nodeSubnetIds": ["subnet-0aaaaaaaaaaaaaaaa"],
                    "endpointSubnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0aaaaaaaaaaaaaaaa", "sn-1"]
                }})
            }),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: network.existingVpc"].assert_eq(&run(&RULE, golden(), &["network.existingVpc"]));
        expect![[r#"
            deferred: network.existingVpc.vpcId
            deferred: network.existingVpc.podSubnetIds[0]
            deferred: network.availabilityZones"#]].assert_eq(&run(
            &RULE,
            with(|s| s["network"] = json!({"existingVpc": byo(json!({"podSubnetIds": ["subnet-0cccccccccccccccc"]}))})),
            &["network.existingVpc.vpcId", "network.existingVpc.podSubnetIds[0]", "network.availabilityZones"],
        ));
    }
}
