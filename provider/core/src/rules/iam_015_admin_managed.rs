//! SEKS-IAM-015: no AWS managed policy that is administrator in all but name.
//!
//! The maintained list, each with the reason (AWS Managed Policy Reference,
//! docs.aws.amazon.com/aws-managed-policy/latest/reference/):
//! - `PowerUserAccess`: `Allow` + `NotAction` [`iam:*`, `organizations:*`, `account:*`] on `*`,
//!   every other service in full, STS and KMS included.
//! - `IAMFullAccess`: `iam:*` on `*`; whoever holds it attaches AdministratorAccess to itself.
//! - `AWSOrganizationsFullAccess`: `organizations:*` on `*`: moves accounts, rewrites SCPs.
//!
//! `AdministratorAccess` itself is SEKS-IAM-011's finding. Job-function paths
//! (`policy/job-function/...`) are not on the list.

use super::iam_policy::each_policy_arn;
use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-IAM-015",
    title: "No admin-equivalent AWS managed policies (PowerUserAccess, IAMFullAccess, ...) on IRSA roles",
    severity: Severity::High,
    level: Level::Error,
    waivable: true,
    refs: &["CKV_AWS_275", "EKS BPG security/iam"],
};

pub(super) struct AdminManaged;
pub(super) static RULE: AdminManaged = AdminManaged;

/// The admin-equivalent AWS managed policies and why each is.
pub(crate) const ADMIN_EQUIVALENT: [(&str, &str); 3] = [
    ("PowerUserAccess", "it allows every action of every service except IAM, Organizations and Account (Allow + NotAction), STS and KMS included"),
    ("IAMFullAccess", "it allows iam:* on every resource, so the holder can attach AdministratorAccess to its own role"),
    ("AWSOrganizationsFullAccess", "it allows organizations:* on every resource: moving accounts and rewriting service control policies"),
];

/// Why an AWS managed policy ARN is admin-equivalent, when it is.
pub(crate) fn admin_equivalent(arn: &str) -> Option<(&'static str, &'static str)> {
    let a = parse_arn(arn)?;
    let name = a.resource.strip_prefix("policy/")?;
    (a.service == "iam" && a.account == "aws").then_some(())?;
    ADMIN_EQUIVALENT.iter().copied().find(|(n, _)| *n == name)
}

impl Rule for AdminManaged {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        each_policy_arn(ctx, |path, arn| {
            let (name, why) = admin_equivalent(arn)?;
            Some(Finding {
                path: path.clone(),
                problem: format!("{name} is administrator in all but name: {why}"),
                expected: "managed policies scoped to what the workload does".into(),
                fix: "replace it with narrower policies (e.g. AmazonS3ReadOnlyAccess) or an inlinePolicy listing the actions the workload calls".into(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    fn arns(a: &[&str]) -> serde_json::Value {
        json!([{"namespace": "app", "name": "web", "policyArns": a}])
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = arns(&["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/PowerUserAccess"])), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-IAM-015 [HIGH] serviceAccountRoles[0].policyArns[0]: PowerUserAccess is administrator in all but name: it allows every action of every service except IAM, Organizations and Account (Allow + NotAction), STS and KMS included; expected managed policies scoped to what the workload does. Fix: replace it with narrower policies (e.g. AmazonS3ReadOnlyAccess) or an inlinePolicy listing the actions the workload calls. Refs: CKV_AWS_275, EKS BPG security/iam
            SEKS-IAM-015 [HIGH] serviceAccountRoles[0].policyArns[1]: IAMFullAccess is administrator in all but name: it allows iam:* on every resource, so the holder can attach AdministratorAccess to its own role; expected managed policies scoped to what the workload does. Fix: replace it with narrower policies (e.g. AmazonS3ReadOnlyAccess) or an inlinePolicy listing the actions the workload calls. Refs: CKV_AWS_275, EKS BPG security/iam"#]]
        .assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = arns(&["arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws-us-gov:iam::aws:policy/IAMFullAccess"])), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: serviceAccountRoles[0].policyArns[0]"].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = arns(&["x"])), &["serviceAccountRoles[0].policyArns[0]"]));
    }
}
