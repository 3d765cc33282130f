//! SEKS-NET-004: no string input (addon configuration, tags, ...) holds `0.0.0.0/0`, `::/0` or
//! another `/0` block, which matches every address.
//!
//! Covered elsewhere, so skipped here: `apiAccess.publicCidrs` (SEKS-CP-001), `network.vpcCidr`
//! and `network.podCidr` (SEKS-NET-002). Also skipped: `userData` (a script, never echoed),
//! `inlinePolicy` (SEKS-IAM-011) and `policy` (waiver reasons may quote a CIDR).

use super::*;
use crate::value::Seg;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NET-004",
    title: "No 0.0.0.0/0 or ::/0 outside apiAccess.publicCidrs",
    severity: Severity::High,
    level: Level::Error,
    waivable: true,
    refs: &[],
};

pub(super) struct WorldCidrs;
pub(super) static RULE: WorldCidrs = WorldCidrs;

fn skipped(p: &Path) -> bool {
    let segs = p.segments();
    let key = |i: usize, k: &str| matches!(segs.get(i), Some(Seg::Key(x)) if x == k);
    (key(0, "apiAccess") && key(1, "publicCidrs"))
        || (key(0, "network") && (key(1, "vpcCidr") || key(1, "podCidr")))
        || key(0, "policy")
        || segs
            .iter()
            .any(|s| matches!(s, Seg::Key(k) if k == "userData" || k == "inlinePolicy"))
}

impl StringRule for WorldCidrs {
    fn skip(&self, path: &Path) -> bool {
        skipped(path)
    }

    fn judge(&self, path: &Path, s: &str) -> Option<Finding> {
        world_cidr_in(s).map(|tok| Finding {
            path: path.clone(),
            problem: format!("the value contains {tok}, which matches every address on the internet"),
            expected: "specific CIDRs (the VPC, the pod CIDR, or named office ranges)".into(),
            fix: format!("replace {tok} in {path} with the CIDRs that need it, e.g. 10.0.0.0/16"),
        })
    }
}

impl Rule for WorldCidrs {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        scan_strings(ctx, self)
    }

    fn strings(&self) -> Option<&dyn StringRule> {
        Some(self)
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
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| {
                s["apiAccess"] = json!({"public": true, "publicCidrs": ["0.0.0.0/0"]});
                s["policy"] = json!({"waivers": [{"rule": "SEKS-CP-002", "reason": "was 0.0.0.0/0 until SEC-42"}]});
                s["addons"] = json!({"vpcCni": {"configuration": {"env": {"AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS": "10.0.0.0/8,172.16.0.0/12"}}}});
            }),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-NET-004 [HIGH] addons.vpcCni.configuration.env.AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS: the value contains 0.0.0.0/0, which matches every address on the internet; expected specific CIDRs (the VPC, the pod CIDR, or named office ranges). Fix: replace 0.0.0.0/0 in addons.vpcCni.configuration.env.AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS with the CIDRs that need it, e.g. 10.0.0.0/16. Refs: none
            SEKS-NET-004 [HIGH] tags.allowed-from: the value contains ::/0, which matches every address on the internet; expected specific CIDRs (the VPC, the pod CIDR, or named office ranges). Fix: replace ::/0 in tags.allowed-from with the CIDRs that need it, e.g. 10.0.0.0/16. Refs: none"#]].assert_eq(&run(
            &RULE,
            with(|s| {
                s["addons"] = json!({"vpcCni": {"configuration": {"env": {"AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS": "10.0.0.0/8,0.0.0.0/0"}}}});
                s["tags"] = json!({"allowed-from": "::/0"});
            }),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: tags.allowed-from"].assert_eq(&run(&RULE, with(|s| s["tags"] = json!({"allowed-from": "x"})), &["tags.allowed-from", "apiAccess.publicCidrs"]));
    }
}
