//! SEKS-NET-002: the VPC and pod CIDRs are valid private IPv4 blocks that fit together.
//!
//! `network.vpcCidr` (a new VPC) is an RFC 1918 block from /16 to /24. `network.podCidr` (the
//! secondary CIDR of custom networking) lies in 100.64.0.0/10 or in RFC 1918 space and is /16 to
//! /20: AWS associates at most a /16, and a /20 still holds 4096 pod addresses. The two do not
//! overlap, and AWS must accept the pod block next to the VPC block: it refuses a secondary block
//! from a different RFC 1918 range than the primary one.

use super::*;
use crate::plan::Ipv4Cidr;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NET-002",
    title: "VPC and pod CIDRs must be valid, private and disjoint",
    severity: Severity::High,
    level: Level::Error,
    waivable: true,
    refs: &["EKS BPG networking/subnets"],
};

pub(super) struct Cidrs;
pub(super) static RULE: Cidrs = Cidrs;

/// Parse a CIDR, or explain what is wrong with it.
fn parse(path: &Path, s: &str, example: &str) -> Result<Ipv4Cidr, Finding> {
    match parse_ipv4_cidr(s) {
        Ok(c) if c.prefix == 0 => Err(Finding {
            path: path.clone(),
            problem: format!("{s} is every IPv4 address, not a private network"),
            expected: format!("a private block such as {example}"),
            fix: format!("set {path} to {example}"),
        }),
        Ok(c) => Ok(c),
        Err(CidrError::Syntax) => Err(Finding {
            path: path.clone(),
            problem: format!("{s:?} is not an IPv4 CIDR"),
            expected: format!("a block written a.b.c.d/n, such as {example}"),
            fix: format!("set {path} to {example}"),
        }),
        Err(CidrError::HostBits(net)) => Err(Finding {
            path: path.clone(),
            problem: format!("{s} has bits set after its /{} prefix (the block is {net})", net.prefix),
            expected: "the network address of the block".into(),
            fix: format!("set {path} to {net}"),
        }),
    }
}

fn check_vpc(path: &Path, s: &str) -> Result<Ipv4Cidr, Finding> {
    let c = parse(path, s, "10.0.0.0/16")?;
    if !(16..=24).contains(&c.prefix) {
        let why = if c.prefix < 16 {
            "AWS VPCs are at most a /16"
        } else {
            "it leaves too few addresses for node subnets in every zone"
        };
        return Err(Finding {
            path: path.clone(),
            problem: format!("{c} is a /{}: {why}", c.prefix),
            expected: "a block from /16 to /24".into(),
            fix: format!("set {path} to a /16 such as 10.0.0.0/16 (the default)"),
        });
    }
    if rfc1918_range(&c).is_none() {
        return Err(Finding {
            path: path.clone(),
            problem: format!("{c} is not in a private (RFC 1918) range"),
            expected: "a block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16".into(),
            fix: format!("set {path} to 10.0.0.0/16 (the default), or another private block"),
        });
    }
    Ok(c)
}

fn check_pod(path: &Path, s: &str) -> Result<Ipv4Cidr, Finding> {
    let c = parse(path, s, "100.64.0.0/16")?;
    if !(16..=20).contains(&c.prefix) {
        let why = if c.prefix < 16 {
            "AWS adds at most a /16 to a VPC".to_string()
        } else {
            format!("it holds only {} addresses for all pods of the cluster", 1u64 << (32 - u32::from(c.prefix)))
        };
        return Err(Finding {
            path: path.clone(),
            problem: format!("{c} is a /{}: {why}", c.prefix),
            expected: "a block from /16 to /20 (a /20 holds 4096 pod addresses)".into(),
            fix: format!("set {path} to a /16 such as 100.64.0.0/16 (the default)"),
        });
    }
    if !CGNAT.contains(&c) && rfc1918_range(&c).is_none() {
        return Err(Finding {
            path: path.clone(),
            problem: format!("{c} is neither in 100.64.0.0/10 nor in a private (RFC 1918) range"),
            expected: "a block inside 100.64.0.0/10 (recommended) or an RFC 1918 range".into(),
            fix: format!("set {path} to 100.64.0.0/16 (the default)"),
        });
    }
    Ok(c)
}

impl Rule for Cidrs {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let net = ctx.spec.network.as_ref();
        let vp = Path::key("network").k("vpcCidr");
        let pp = Path::key("network").k("podCidr");
        let mut out = Vec::new();
        let mut vpc = None;
        let mut pod = None;
        if !ctx.known(&vp) {
            out.push(Outcome::Deferred(vp.clone()));
        } else if let Some(s) = net.and_then(|n| n.vpc_cidr.as_deref()) {
            match check_vpc(&vp, s) {
                Ok(c) => vpc = Some(c),
                Err(f) => out.push(Outcome::Fail(f)),
            }
        }
        if !ctx.known(&pp) {
            out.push(Outcome::Deferred(pp.clone()));
        } else if let Some(s) = net.and_then(|n| n.pod_cidr.as_ref()) {
            match check_pod(&pp, s) {
                Ok(c) => pod = Some(c),
                Err(f) => out.push(Outcome::Fail(f)),
            }
        }
        let raw = [net.and_then(|n| n.vpc_cidr.clone()), net.and_then(|n| n.pod_cidr.as_ref().cloned())];
        if let (Some(v), Some(p)) = (vpc, pod) {
            if v.overlaps(&p) {
                out.push(Outcome::Fail(Finding {
                    path: pp.clone(),
                    problem: format!("the pod CIDR {p} overlaps the VPC CIDR {v}"),
                    expected: "a pod CIDR that shares no address with the VPC CIDR".into(),
                    fix: format!("set {pp} to 100.64.0.0/16, which never overlaps a private VPC block"),
                }));
            } else if let (Some(vr), Some(_)) = (rfc1918_range(&v), rfc1918_range(&p)) {
                if !vr.contains(&p) {
                    out.push(Outcome::Fail(Finding {
                        path: pp.clone(),
                        problem: format!("AWS does not add {p} to a VPC whose CIDR {v} is in {vr}, a different private range"),
                        expected: format!("a pod CIDR in 100.64.0.0/10, or in {vr} like the VPC"),
                        fix: format!("set {pp} to 100.64.0.0/16 (the default)"),
                    }));
                }
            }
        }
        if ctx.is_secret(&vp) || ctx.is_secret(&pp) {
            // Say nothing of the values, nor of the networks they name.
            let mut secrets: Vec<String> = Vec::new();
            for s in raw.into_iter().flatten() {
                if let Ok(c) | Err(CidrError::HostBits(c)) = parse_ipv4_cidr(&s) {
                    secrets.push(c.to_string());
                }
                secrets.push(s);
            }
            out = out
                .into_iter()
                .map(|o| match o {
                    Outcome::Fail(f) => Outcome::Fail(redact(f, &secrets)),
                    d => d,
                })
                .collect();
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "172.20.0.0/20", "podCidr": "172.24.0.0/16"})), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "192.168.0.0/24", "podCidr": null})), &[]));
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| s["network"] = json!({"existingVpc": {"vpcId": "vpc-0123456789abcdef0", "nodeSubnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]}})),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-NET-002 [HIGH] network.vpcCidr: 10.0.0.0/8 is a /8: AWS VPCs are at most a /16; expected a block from /16 to /24. Fix: set network.vpcCidr to a /16 such as 10.0.0.0/16 (the default). Refs: EKS BPG networking/subnets
            SEKS-NET-002 [HIGH] network.podCidr: 100.64.0.0/24 is a /24: it holds only 256 addresses for all pods of the cluster; expected a block from /16 to /20 (a /20 holds 4096 pod addresses). Fix: set network.podCidr to a /16 such as 100.64.0.0/16 (the default). Refs: EKS BPG networking/subnets"#]].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "10.0.0.0/8", "podCidr": "100.64.0.0/24"})), &[]));
        expect![[r#"
            SEKS-NET-002 [HIGH] network.vpcCidr: 10.0.0.1/16 has bits set after its /16 prefix (the block is 10.0.0.0/16); expected the network address of the block. Fix: set network.vpcCidr to 10.0.0.0/16. Refs: EKS BPG networking/subnets
            SEKS-NET-002 [HIGH] network.podCidr: 0.0.0.0/0 is every IPv4 address, not a private network; expected a private block such as 100.64.0.0/16. Fix: set network.podCidr to 100.64.0.0/16. Refs: EKS BPG networking/subnets"#]].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "10.0.0.1/16", "podCidr": "0.0.0.0/0"})), &[]));
        expect![[r#"
            SEKS-NET-002 [HIGH] network.vpcCidr: "10.0.0/16" is not an IPv4 CIDR; expected a block written a.b.c.d/n, such as 10.0.0.0/16. Fix: set network.vpcCidr to 10.0.0.0/16. Refs: EKS BPG networking/subnets
            SEKS-NET-002 [HIGH] network.podCidr: 8.8.0.0/16 is neither in 100.64.0.0/10 nor in a private (RFC 1918) range; expected a block inside 100.64.0.0/10 (recommended) or an RFC 1918 range. Fix: set network.podCidr to 100.64.0.0/16 (the default). Refs: EKS BPG networking/subnets"#]].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "10.0.0/16", "podCidr": "8.8.0.0/16"})), &[]));
        expect!["SEKS-NET-002 [HIGH] network.vpcCidr: 100.64.0.0/16 is not in a private (RFC 1918) range; expected a block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16. Fix: set network.vpcCidr to 10.0.0.0/16 (the default), or another private block. Refs: EKS BPG networking/subnets"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "100.64.0.0/16"})), &[]));
        expect!["SEKS-NET-002 [HIGH] network.podCidr: the pod CIDR 10.0.0.0/20 overlaps the VPC CIDR 10.0.0.0/16; expected a pod CIDR that shares no address with the VPC CIDR. Fix: set network.podCidr to 100.64.0.0/16, which never overlaps a private VPC block. Refs: EKS BPG networking/subnets"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "10.0.0.0/16", "podCidr": "10.0.0.0/20"})), &[]));
        expect!["SEKS-NET-002 [HIGH] network.podCidr: AWS does not add 192.168.0.0/16 to a VPC whose CIDR 10.0.0.0/16 is in 10.0.0.0/8, a different private range; expected a pod CIDR in 100.64.0.0/10, or in 10.0.0.0/8 like the VPC. Fix: set network.podCidr to 100.64.0.0/16 (the default). Refs: EKS BPG networking/subnets"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"vpcCidr": "10.0.0.0/16", "podCidr": "192.168.0.0/16"})), &[]));
    }

    #[test]
    fn secret_values_are_not_echoed() {
        use super::super::{message, Outcome, Rule, RuleCtx};
        use crate::codec::Annotations;
        use crate::model::{Autoname, ClusterArgs};
        use crate::value::Path;
        let spec = serde_json::from_value::<ClusterArgs>(with(|s| s["network"] = json!({"vpcCidr": "10.9.0.1/16", "podCidr": "10.9.0.0/20"})))
            .unwrap()
            .with_defaults(Autoname::Proposed("t"), Some("us-east-1"));
        let mut annotations = Annotations::default();
        annotations.secrets.insert(Path::key("network").k("vpcCidr"));
        let ctx = RuleCtx { spec: &spec, annotations: &annotations, olds: None, region: Some("us-east-1"), today: "2026-11-23", aws: None };
        let text: Vec<String> = RULE
            .check(&ctx)
            .iter()
            .filter_map(|o| match o {
                Outcome::Fail(f) => Some(message(RULE.meta(), f)),
                Outcome::Deferred(_) => None,
            })
            .collect();
        expect!["SEKS-NET-002 [HIGH] network.vpcCidr: (secret) has bits set after its /16 prefix (the block is (secret)); expected the network address of the block. Fix: set network.vpcCidr to (secret). Refs: EKS BPG networking/subnets"].assert_eq(&text.join("\n"));
        assert!(!text.join("").contains("10.9.0"));
    }

    #[test]
    fn unknown() {
        expect![[r#"
            deferred: network.vpcCidr
            deferred: network.podCidr"#]].assert_eq(&run(&RULE, golden(), &["network.vpcCidr", "network.podCidr"]));
    }
}
