//! SEKS-IAM-013: no `Allow` of a whole sensitive service on every resource.
//!
//! `iam:*`, `sts:*`, `kms:*`, `organizations:*` and `ec2:*` on `Resource: "*"` each amount to
//! administrator rights for a pod: IAM and Organizations rewrite who may do what, STS assumes any
//! role that trusts the account, KMS decrypts every secret, EC2 reads every instance's user data
//! and opens every security group. A service part written with wildcards (`i*:*`) counts when it
//! matches one of them. `Action: "*"` is SEKS-IAM-011's finding and is not repeated here.

use super::iam_policy::{each_statement, glob_match};
use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-IAM-013",
    title: "No iam:*, sts:*, kms:*, organizations:* or ec2:* on Resource \"*\" in IRSA policies",
    severity: Severity::High,
    level: Level::Error,
    waivable: true,
    refs: &["CKV_AWS_356", "AVD-AWS-0057", "EKS BPG security/iam"],
};

pub(super) struct ServiceWildcards;
pub(super) static RULE: ServiceWildcards = ServiceWildcards;

/// The services whose every action on every resource is admin-equivalent.
const SENSITIVE: [&str; 5] = ["iam", "sts", "kms", "organizations", "ec2"];

/// The sensitive service a whole-service pattern covers (`iam:*`, `IAM:*`, `i*:*`).
fn whole_service(action: &str) -> Option<&'static str> {
    let (svc, name) = action.split_once(':')?;
    if !name.chars().all(|c| c == '*') || svc.chars().all(|c| c == '*') {
        return None;
    }
    SENSITIVE.iter().copied().find(|s| glob_match(svc, s))
}

impl Rule for ServiceWildcards {
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
                    let svc = whole_service(a)?;
                    Some(st.finding(
                        format!("Statement[{}] allows {a:?} on every resource (\"*\"): every {svc} action on anything, which is administrator rights for a pod", st.index),
                        "the few actions the workload calls, on the resources it uses",
                        &format!("list the {svc} actions the workload needs (e.g. {}) and the ARNs they act on", example(svc)),
                    ))
                })
                .collect()
        })
    }
}

fn example(svc: &str) -> &'static str {
    match svc {
        "iam" => "iam:GetRole",
        "sts" => "sts:GetCallerIdentity",
        "kms" => "kms:Decrypt on one key ARN",
        "organizations" => "organizations:DescribeOrganization",
        _ => "ec2:DescribeInstances",
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
        let ok = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:us-east-1:123456789012:key/abc"}, {"Effect": "Allow", "Action": ["s3:*", "ec2:Describe*"], "Resource": "*"}, {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}"#;
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role(ok)), &[]));
    }

    #[test]
    fn fail() {
        let bad = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["IAM:*", "s3:GetObject"], "Resource": ["*"]}, {"Effect": "Allow", "Action": "st?:*", "Resource": "*"}]}"#;
        expect![[r#"
            SEKS-IAM-013 [HIGH] serviceAccountRoles[0].inlinePolicy: Statement[0] allows "IAM:*" on every resource ("*"): every iam action on anything, which is administrator rights for a pod; expected the few actions the workload calls, on the resources it uses. Fix: list the iam actions the workload needs (e.g. iam:GetRole) and the ARNs they act on. Refs: CKV_AWS_356, AVD-AWS-0057, EKS BPG security/iam
            SEKS-IAM-013 [HIGH] serviceAccountRoles[0].inlinePolicy: Statement[1] allows "st?:*" on every resource ("*"): every sts action on anything, which is administrator rights for a pod; expected the few actions the workload calls, on the resources it uses. Fix: list the sts actions the workload needs (e.g. sts:GetCallerIdentity) and the ARNs they act on. Refs: CKV_AWS_356, AVD-AWS-0057, EKS BPG security/iam"#]]
        .assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role(bad)), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: serviceAccountRoles[0].inlinePolicy"].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role("{}")), &["serviceAccountRoles[0].inlinePolicy"]));
    }
}
