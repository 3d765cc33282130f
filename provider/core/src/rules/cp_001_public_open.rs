//! SEKS-CP-001: the public API endpoint is never open to the whole internet.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CP-001",
    title: "Public API endpoint open to 0.0.0.0/0 or ::/0",
    severity: Severity::Critical,
    level: Level::Error,
    waivable: false,
    refs: &["CIS 5.4.1", "CKV_AWS_38", "AVD-AWS-0041", "KICS 61cf9883-1752-4768-b18c-0d57f2737709", "EKS BPG security/iam"],
};

pub(super) struct PublicOpen;
pub(super) static RULE: PublicOpen = PublicOpen;

impl Rule for PublicOpen {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("apiAccess").k("publicCidrs");
        let Some(cidrs) = ctx.spec.api_access.as_ref().and_then(|a| a.public_cidrs.as_ref()) else {
            return if ctx.known(&base) { vec![] } else { vec![Outcome::Deferred(base)] };
        };
        cidrs
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let path = base.i(i);
                when_known(ctx, &path, || {
                    crate::rules::is_open_cidr(c).then(|| Finding {
                        path: path.clone(),
                        problem: format!("the public endpoint is open to {c}"),
                        expected: "specific office or VPN CIDRs, or no public endpoint".into(),
                        fix: "replace it with your egress CIDRs (e.g. 203.0.113.0/24), or set apiAccess.public to false".into(),
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
    use serde_json::json;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| s["apiAccess"] = json!({"public": true, "publicCidrs": ["203.0.113.0/24"]})),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect!["SEKS-CP-001 [CRITICAL] apiAccess.publicCidrs[1]: the public endpoint is open to ::/0; expected specific office or VPN CIDRs, or no public endpoint. Fix: replace it with your egress CIDRs (e.g. 203.0.113.0/24), or set apiAccess.public to false. Refs: CIS 5.4.1, CKV_AWS_38, AVD-AWS-0041, KICS 61cf9883-1752-4768-b18c-0d57f2737709, EKS BPG security/iam"].assert_eq(&run(
            &RULE,
            with(|s| s["apiAccess"] = json!({"public": true, "publicCidrs": ["203.0.113.0/24", "::/0"]})),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: apiAccess.publicCidrs[0]"].assert_eq(&run(
            &RULE,
            with(|s| s["apiAccess"] = json!({"public": true, "publicCidrs": ["x"]})),
            &["apiAccess.publicCidrs[0]"],
        ));
    }
}
