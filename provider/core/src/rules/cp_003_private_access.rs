//! SEKS-CP-003: private endpoint access stays on, and the API is reachable somehow.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CP-003",
    title: "Private API endpoint access must be enabled",
    severity: Severity::High,
    level: Level::Error,
    waivable: true,
    refs: &["CIS 5.4.2", "EKS BPG security/iam"],
};

pub(super) struct PrivateAccess;
pub(super) static RULE: PrivateAccess = PrivateAccess;

impl Rule for PrivateAccess {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let path = Path::key("apiAccess").k("private");
        when_known(ctx, &path, || {
            let private = ctx.spec.api_access.as_ref()?.private?;
            (!private).then(|| Finding {
                path: path.clone(),
                problem: "private endpoint access is off, so nodes reach the API over the internet (or not at all without NAT)".into(),
                expected: "apiAccess.private = true".into(),
                fix: "set apiAccess.private to true (add apiAccess.public with CIDRs if you need outside access)".into(),
            })
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
        expect!["SEKS-CP-003 [HIGH] apiAccess.private: private endpoint access is off, so nodes reach the API over the internet (or not at all without NAT); expected apiAccess.private = true. Fix: set apiAccess.private to true (add apiAccess.public with CIDRs if you need outside access). Refs: CIS 5.4.2, EKS BPG security/iam"].assert_eq(&run(
            &RULE,
            with(|s| s["apiAccess"] = json!({"private": false, "public": true, "publicCidrs": ["203.0.113.0/24"]})),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: apiAccess.private"].assert_eq(&run(&RULE, golden(), &["apiAccess.private"]));
    }
}
