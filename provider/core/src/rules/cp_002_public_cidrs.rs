//! SEKS-CP-002: `publicCidrs` only with a public endpoint, and a public endpoint only with CIDRs.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CP-002",
    title: "Public endpoint and publicCidrs must agree",
    severity: Severity::High,
    level: Level::Error,
    waivable: true,
    refs: &["CIS 5.4.2", "CKV_AWS_39", "AVD-AWS-0040", "EKS BPG security/iam"],
};

pub(super) struct PublicCidrs;
pub(super) static RULE: PublicCidrs = PublicCidrs;

impl Rule for PublicCidrs {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("apiAccess");
        when_known(ctx, &base, || {
            let api = ctx.spec.api_access.as_ref()?;
            let public = api.public.unwrap_or(false);
            let n = api.public_cidrs.as_ref().map_or(0, Vec::len);
            if public && n == 0 {
                Some(Finding {
                    path: base.k("publicCidrs"),
                    problem: "the public endpoint is on with no CIDR list, which EKS opens to 0.0.0.0/0".into(),
                    expected: "at least one specific CIDR when apiAccess.public is true".into(),
                    fix: "add your egress CIDRs to apiAccess.publicCidrs, or set apiAccess.public to false".into(),
                })
            } else if !public && n > 0 {
                Some(Finding {
                    path: base.k("publicCidrs"),
                    problem: format!("{n} CIDR(s) are given but the public endpoint is off, so they do nothing"),
                    expected: "publicCidrs only together with apiAccess.public = true".into(),
                    fix: "remove apiAccess.publicCidrs, or set apiAccess.public to true".into(),
                })
            } else {
                None
            }
        })
        .into_iter()
        .collect()
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
    }

    #[test]
    fn fail() {
        expect!["SEKS-CP-002 [HIGH] apiAccess.publicCidrs: the public endpoint is on with no CIDR list, which EKS opens to 0.0.0.0/0; expected at least one specific CIDR when apiAccess.public is true. Fix: add your egress CIDRs to apiAccess.publicCidrs, or set apiAccess.public to false. Refs: CIS 5.4.2, CKV_AWS_39, AVD-AWS-0040, EKS BPG security/iam"].assert_eq(&run(&RULE, with(|s| s["apiAccess"] = json!({"public": true})), &[]));
        expect!["SEKS-CP-002 [HIGH] apiAccess.publicCidrs: 1 CIDR(s) are given but the public endpoint is off, so they do nothing; expected publicCidrs only together with apiAccess.public = true. Fix: remove apiAccess.publicCidrs, or set apiAccess.public to true. Refs: CIS 5.4.2, CKV_AWS_39, AVD-AWS-0040, EKS BPG security/iam"].assert_eq(&run(&RULE, with(|s| s["apiAccess"] = json!({"publicCidrs": ["10.1.0.0/16"]})), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: apiAccess"].assert_eq(&run(&RULE, with(|s| s["apiAccess"] = json!({"public": true})), &["apiAccess.public"]));
    }
}
