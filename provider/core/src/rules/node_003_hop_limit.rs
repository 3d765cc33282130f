//! SEKS-NODE-003: the IMDSv2 hop limit is 1 or 2.
//!
//! Tokens are always required. A hop limit above 2 lets containers behind extra network hops
//! reach the node's credentials; 0 or less is invalid. 2 is needed by pods on the host network
//! path of some agents; 1 is the strictest (Checkov CKV_AWS_341 wants 1).

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-003",
    title: "IMDSv2 hop limit must be 1 or 2",
    severity: Severity::High,
    level: Level::Error,
    waivable: true,
    refs: &["CKV_AWS_341", "EKS BPG security/iam"],
};

pub(super) struct HopLimit;
pub(super) static RULE: HopLimit = HopLimit;

impl Rule for HopLimit {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        node_groups(ctx)
            .filter_map(|(p, ng)| {
                let path = p.k("imdsHopLimit");
                when_known(ctx, &path, || {
                    let v = ng.imds_hop_limit?;
                    (!(1..=2).contains(&v)).then(|| Finding {
                        path: path.clone(),
                        problem: format!("the hop limit is {v}"),
                        expected: "1 or 2 (IMDSv2 tokens are always required)".into(),
                        fix: format!("set {path} to 2, or 1 if no pod needs instance metadata"),
                    })
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::RULE;
    use expect_test::expect;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["imdsHopLimit"] = 1.into()), &[]));
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NODE-003 [HIGH] nodeGroups[1].imdsHopLimit: the hop limit is 3; expected 1 or 2 (IMDSv2 tokens are always required). Fix: set nodeGroups[1].imdsHopLimit to 2, or 1 if no pod needs instance metadata. Refs: CKV_AWS_341, EKS BPG security/iam"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1]["imdsHopLimit"] = 3.into()), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[0].imdsHopLimit"].assert_eq(&run(&RULE, golden(), &["nodeGroups[0].imdsHopLimit"]));
    }
}
