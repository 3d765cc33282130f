//! SEKS-CP-007: the public endpoint's CIDRs, taken together, do not cover the world.
//!
//! `0.0.0.0/1` + `128.0.0.0/1` is `0.0.0.0/0` in two entries, and a `/4` is a sixteenth of the
//! internet: SEKS-CP-001 looks at entries one by one, so this rule judges the set. The union
//! (per address family, merged with `ipnet`'s aggregation) must not be everything, and no entry
//! may be shorter than a `/8`. Entries that are exactly `0.0.0.0/0` or `::/0` are SEKS-CP-001's
//! finding; entries that do not parse are left to the schema check and EKS.

use super::*;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CP-007",
    title: "Public endpoint CIDRs must not cover the internet as a set, nor hold a block shorter than /8",
    severity: Severity::Critical,
    level: Level::Error,
    waivable: false,
    refs: &["CIS 5.4.1", "CKV_AWS_38", "AVD-AWS-0041", "EKS BPG security/iam"],
};

pub(super) struct PublicCidrSet;
pub(super) static RULE: PublicCidrSet = PublicCidrSet;

/// The shortest prefix an entry may have.
const MIN_PREFIX: u8 = 8;

impl Rule for PublicCidrSet {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("apiAccess").k("publicCidrs");
        let Some(cidrs) = ctx.spec.api_access.as_ref().and_then(|a| a.public_cidrs.as_ref()) else {
            return if ctx.known(&base) { vec![] } else { vec![Outcome::Deferred(base)] };
        };
        let unknown: Vec<Outcome> = (0..cidrs.len()).map(|i| base.i(i)).filter(|p| !ctx.known(p)).map(Outcome::Deferred).collect();
        if !unknown.is_empty() || !ctx.known(&base) {
            return if unknown.is_empty() { vec![Outcome::Deferred(base)] } else { unknown };
        }
        let nets: Vec<(usize, IpNet)> = cidrs.iter().enumerate().filter_map(|(i, c)| Some((i, c.trim().parse::<IpNet>().ok()?))).collect();
        let mut out = Vec::new();
        for (i, n) in &nets {
            if n.prefix_len() > 0 && n.prefix_len() < MIN_PREFIX {
                let path = base.i(*i);
                out.push(Outcome::Fail(Finding {
                    problem: format!("{n} is a /{}: {} addresses, a large part of the internet", n.prefix_len(), size(n)),
                    expected: format!("blocks of /{MIN_PREFIX} or longer: your offices', VPN's or CI's egress ranges"),
                    fix: format!("replace {path} with the egress CIDRs that need the API (e.g. 203.0.113.0/24), or set apiAccess.public to false"),
                    path,
                }));
            }
        }
        if nets.iter().any(|(_, n)| n.prefix_len() == 0) {
            return out; // SEKS-CP-001 says it.
        }
        let v4: Vec<Ipv4Net> = nets.iter().filter_map(|(_, n)| if let IpNet::V4(x) = n { Some(*x) } else { None }).collect();
        let v6: Vec<Ipv6Net> = nets.iter().filter_map(|(_, n)| if let IpNet::V6(x) = n { Some(*x) } else { None }).collect();
        let world4 = Ipv4Net::aggregate(&v4).iter().any(|n| n.prefix_len() == 0);
        let world6 = Ipv6Net::aggregate(&v6).iter().any(|n| n.prefix_len() == 0);
        for (world, all) in [(world4, "0.0.0.0/0"), (world6, "::/0")] {
            if world {
                out.push(Outcome::Fail(Finding {
                    path: base.clone(),
                    problem: format!("together the entries cover {all}: the public endpoint is open to the whole internet"),
                    expected: "specific office or VPN CIDRs, or no public endpoint".into(),
                    fix: "list only the egress CIDRs that need the API (e.g. 203.0.113.0/24), or set apiAccess.public to false".into(),
                }));
            }
        }
        out
    }
}

fn size(n: &IpNet) -> String {
    let bits = u32::from(n.max_prefix_len() - n.prefix_len());
    if bits < 64 {
        format!("{}", 1u64 << bits)
    } else {
        format!("2^{bits}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    fn cidrs(c: &[&str]) -> serde_json::Value {
        json!({"public": true, "publicCidrs": c})
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["apiAccess"] = cidrs(&["203.0.113.0/24", "10.0.0.0/8", "0.0.0.0/1"][..2])), &[]));
        // 0.0.0.0/0 alone is SEKS-CP-001's.
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["apiAccess"] = cidrs(&["0.0.0.0/0"])), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-CP-007 [CRITICAL] apiAccess.publicCidrs[0]: 0.0.0.0/1 is a /1: 2147483648 addresses, a large part of the internet; expected blocks of /8 or longer: your offices', VPN's or CI's egress ranges. Fix: replace apiAccess.publicCidrs[0] with the egress CIDRs that need the API (e.g. 203.0.113.0/24), or set apiAccess.public to false. Refs: CIS 5.4.1, CKV_AWS_38, AVD-AWS-0041, EKS BPG security/iam
            SEKS-CP-007 [CRITICAL] apiAccess.publicCidrs[1]: 128.0.0.0/1 is a /1: 2147483648 addresses, a large part of the internet; expected blocks of /8 or longer: your offices', VPN's or CI's egress ranges. Fix: replace apiAccess.publicCidrs[1] with the egress CIDRs that need the API (e.g. 203.0.113.0/24), or set apiAccess.public to false. Refs: CIS 5.4.1, CKV_AWS_38, AVD-AWS-0041, EKS BPG security/iam
            SEKS-CP-007 [CRITICAL] apiAccess.publicCidrs: together the entries cover 0.0.0.0/0: the public endpoint is open to the whole internet; expected specific office or VPN CIDRs, or no public endpoint. Fix: list only the egress CIDRs that need the API (e.g. 203.0.113.0/24), or set apiAccess.public to false. Refs: CIS 5.4.1, CKV_AWS_38, AVD-AWS-0041, EKS BPG security/iam"#]]
        .assert_eq(&run(&RULE, with(|s| s["apiAccess"] = cidrs(&["0.0.0.0/1", "128.0.0.0/1"])), &[]));
        expect!["SEKS-CP-007 [CRITICAL] apiAccess.publicCidrs[0]: 16.0.0.0/4 is a /4: 268435456 addresses, a large part of the internet; expected blocks of /8 or longer: your offices', VPN's or CI's egress ranges. Fix: replace apiAccess.publicCidrs[0] with the egress CIDRs that need the API (e.g. 203.0.113.0/24), or set apiAccess.public to false. Refs: CIS 5.4.1, CKV_AWS_38, AVD-AWS-0041, EKS BPG security/iam"]
            .assert_eq(&run(&RULE, with(|s| s["apiAccess"] = cidrs(&["16.0.0.0/4"])), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: apiAccess.publicCidrs[1]"].assert_eq(&run(&RULE, with(|s| s["apiAccess"] = cidrs(&["0.0.0.0/1", "x"])), &["apiAccess.publicCidrs[1]"]));
    }
}
