//! SEKS-IAM-021: an access entry's principal is one IAM role or user, never a pattern.
//!
//! EKS maps the exact principal ARN; `arn:aws:iam::123456789012:role/*` or `role/admin-?` is no
//! pattern to it, and in an IAM policy the same text would mean every role. A wildcard here is
//! always a mistake in the making, so it is refused wherever it appears in the ARN (SEKS-IAM-020
//! judges the rest of the ARN's shape).

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-IAM-021",
    title: "Access entry principals must not contain wildcards",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["CIS 5.5.1", "EKS BPG security/iam"],
};

pub(super) struct PrincipalWildcards;
pub(super) static RULE: PrincipalWildcards = PrincipalWildcards;

impl Rule for PrincipalWildcards {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("accessEntries");
        if ctx.annotations.is_unknown(&base) {
            return vec![Outcome::Deferred(base)];
        }
        ctx.spec
            .access_entries
            .iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, e)| {
                let pp = base.i(i).k("principalArn");
                when_known(ctx, &pp, || {
                    e.principal_arn.contains(['*', '?']).then(|| Finding {
                        path: pp.clone(),
                        problem: format!("{} has a wildcard, but an access entry maps exactly one IAM role or user", shown(ctx, &pp, &e.principal_arn)),
                        expected: "the exact ARN of one role or user, e.g. arn:aws:iam::123456789012:role/platform-admins".into(),
                        fix: "give one access entry per role, with its full ARN".into(),
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["accessEntries"] = json!([{"principalArn": "arn:aws:iam::123456789012:role/admins", "accessPolicy": "View"}])), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-IAM-021 [HIGH] accessEntries[0].principalArn: "arn:aws:iam::123456789012:role/*" has a wildcard, but an access entry maps exactly one IAM role or user; expected the exact ARN of one role or user, e.g. arn:aws:iam::123456789012:role/platform-admins. Fix: give one access entry per role, with its full ARN. Refs: CIS 5.5.1, EKS BPG security/iam
            SEKS-IAM-021 [HIGH] accessEntries[1].principalArn: "*" has a wildcard, but an access entry maps exactly one IAM role or user; expected the exact ARN of one role or user, e.g. arn:aws:iam::123456789012:role/platform-admins. Fix: give one access entry per role, with its full ARN. Refs: CIS 5.5.1, EKS BPG security/iam"#]]
        .assert_eq(&run(
            &RULE,
            with(|s| s["accessEntries"] = json!([{"principalArn": "arn:aws:iam::123456789012:role/*", "accessPolicy": "View"}, {"principalArn": "*", "accessPolicy": "View"}])),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: accessEntries[0].principalArn"].assert_eq(&run(&RULE, with(|s| s["accessEntries"] = json!([{"principalArn": "x", "accessPolicy": "View"}])), &["accessEntries[0].principalArn"]));
    }
}
