//! SEKS-IAM-012: no `Allow` statement uses `NotAction` or `NotResource`.
//!
//! `Allow` with `NotAction` grants every action of every service except those listed, including
//! services AWS launches later; `Allow` with `NotResource` grants the actions on every resource
//! except those listed (IAM User Guide, reference_policies_elements_notaction and
//! _notresource). Both are how a policy becomes administrator in all but name (PowerUserAccess is
//! `Allow` + `NotAction`). `Deny` with them is fine: it narrows. Messages name the statement by
//! index and never echo the document.

use super::iam_policy::each_statement;
use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-IAM-012",
    title: "No Allow with NotAction or NotResource in IRSA policies",
    severity: Severity::High,
    level: Level::Error,
    waivable: true,
    refs: &["EKS BPG security/iam"],
};

pub(super) struct NotAction;
pub(super) static RULE: NotAction = NotAction;

impl Rule for NotAction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        each_statement(ctx, |st| {
            if !st.allows() {
                return vec![];
            }
            ["NotAction", "NotResource"]
                .into_iter()
                .filter(|k| st.obj.contains_key(*k))
                .map(|k| {
                    let what = if k == "NotAction" { "every action of every service except the ones listed, including services AWS adds later" } else { "the actions on every resource except the ones listed" };
                    st.finding(
                        format!("Statement[{}] is an Allow with {k}, which grants {what}", st.index),
                        "Allow statements that list what they grant in Action and Resource",
                        &format!("replace {k} with {} listing exactly what the workload needs (Deny with {k} is fine)", if k == "NotAction" { "Action" } else { "Resource" }),
                    )
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    fn role(policy: &str) -> serde_json::Value {
        json!([{"namespace": "app", "name": "web", "inlinePolicy": policy}])
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        let deny = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}, {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}]}"#;
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role(deny)), &[]));
    }

    #[test]
    fn fail() {
        let bad = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}, {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::audit/*"}]}"#;
        expect![[r#"
            SEKS-IAM-012 [HIGH] serviceAccountRoles[0].inlinePolicy: Statement[0] is an Allow with NotAction, which grants every action of every service except the ones listed, including services AWS adds later; expected Allow statements that list what they grant in Action and Resource. Fix: replace NotAction with Action listing exactly what the workload needs (Deny with NotAction is fine). Refs: EKS BPG security/iam
            SEKS-IAM-012 [HIGH] serviceAccountRoles[0].inlinePolicy: Statement[1] is an Allow with NotResource, which grants the actions on every resource except the ones listed; expected Allow statements that list what they grant in Action and Resource. Fix: replace NotResource with Resource listing exactly what the workload needs (Deny with NotResource is fine). Refs: EKS BPG security/iam"#]]
        .assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role(bad)), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: serviceAccountRoles[0].inlinePolicy"].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role("{}")), &["serviceAccountRoles[0].inlinePolicy"]));
    }
}
