//! SEKS-IAM-014: no `Allow` of `iam:PassRole` or `sts:AssumeRole` on every resource.
//!
//! `iam:PassRole` on `*` lets a pod hand any role of the account to a service it can drive
//! (EC2, Lambda, ECS) and act as that role; `sts:AssumeRole` on `*` lets it become any role that
//! trusts the account. Patterns that cover either action (`iam:Pass*`, `sts:Assume*`) count too;
//! whole-service wildcards (`iam:*`, `sts:*`) are SEKS-IAM-013's finding.

use super::iam_policy::{each_statement, glob_match};
use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-IAM-014",
    title: "No iam:PassRole or sts:AssumeRole on Resource \"*\" in IRSA policies",
    severity: Severity::High,
    level: Level::Error,
    waivable: true,
    refs: &["CKV_AWS_110", "EKS BPG security/iam"],
};

pub(super) struct PassRole;
pub(super) static RULE: PassRole = PassRole;

const ESCALATING: [(&str, &str); 2] = [("iam", "PassRole"), ("sts", "AssumeRole")];

fn covered(action: &str) -> Option<&'static str> {
    let (svc, name) = action.split_once(':')?;
    if name.chars().all(|c| c == '*') {
        return None;
    }
    ESCALATING
        .iter()
        .find(|(s, n)| glob_match(svc, s) && glob_match(name, n))
        .map(|(s, _)| if *s == "iam" { "iam:PassRole" } else { "sts:AssumeRole" })
}

impl Rule for PassRole {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        each_statement(ctx, |st| {
            if !st.allows() || !st.on_every_resource() {
                return vec![];
            }
            st.actions()
                .into_iter()
                .filter_map(|a| {
                    let what = covered(a)?;
                    let (verb, arn) = if what == "iam:PassRole" {
                        ("pass any role of the account to a service and act as it", "arn:aws:iam::123456789012:role/my-task-role")
                    } else {
                        ("assume any role that trusts the account", "arn:aws:iam::123456789012:role/reader")
                    };
                    Some(st.finding(
                        format!("Statement[{}] allows {a:?} ({what}) on every resource (\"*\"), so the pod can {verb}", st.index),
                        &format!("{what} limited to the role ARNs the workload needs"),
                        &format!("set Resource to those role ARNs, e.g. {arn}"),
                    ))
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
        let ok = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/task"}, {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}"#;
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role(ok)), &[]));
    }

    #[test]
    fn fail() {
        let bad = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:Pass*"], "Resource": "*"}, {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ["*"]}]}"#;
        expect![[r#"
            SEKS-IAM-014 [HIGH] serviceAccountRoles[0].inlinePolicy: Statement[0] allows "iam:Pass*" (iam:PassRole) on every resource ("*"), so the pod can pass any role of the account to a service and act as it; expected iam:PassRole limited to the role ARNs the workload needs. Fix: set Resource to those role ARNs, e.g. arn:aws:iam::123456789012:role/my-task-role. Refs: CKV_AWS_110, EKS BPG security/iam
            SEKS-IAM-014 [HIGH] serviceAccountRoles[0].inlinePolicy: Statement[1] allows "sts:AssumeRole" (sts:AssumeRole) on every resource ("*"), so the pod can assume any role that trusts the account; expected sts:AssumeRole limited to the role ARNs the workload needs. Fix: set Resource to those role ARNs, e.g. arn:aws:iam::123456789012:role/reader. Refs: CKV_AWS_110, EKS BPG security/iam"#]]
        .assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role(bad)), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: serviceAccountRoles[0].inlinePolicy"].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role("{}")), &["serviceAccountRoles[0].inlinePolicy"]));
    }
}
