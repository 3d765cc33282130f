//! SEKS-IAM-030 (warning): the cluster is left with no cluster admin.
//!
//! The authentication mode is always `API` and the creator's bootstrap admin is off, so the only
//! way into a new cluster is an access entry. With `deployerAdmin.enabled: false` and no
//! ClusterAdmin entry in `accessEntries`, nobody can manage the cluster's RBAC or install
//! anything cluster-wide until someone with `eks:CreateAccessEntry` adds an entry by hand.

use super::*;
use crate::model::AccessPolicy;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-IAM-030",
    title: "A cluster with no cluster admin cannot be used",
    severity: Severity::Medium,
    level: Level::Warning,
    waivable: true,
    refs: &[],
};

pub(super) struct NoAdmin;
pub(super) static RULE: NoAdmin = NoAdmin;

impl Rule for NoAdmin {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let enabled = Path::key("deployerAdmin").k("enabled");
        let entries = Path::key("accessEntries");
        if !ctx.known(&enabled) {
            return vec![Outcome::Deferred(enabled)];
        }
        if ctx.spec.deployer_admin_enabled() {
            return vec![];
        }
        if ctx.annotations.touches_unknown(&entries) {
            return vec![Outcome::Deferred(entries)];
        }
        let has_admin = ctx.spec.access_entries.iter().flatten().any(|e| e.access_policy == AccessPolicy::ClusterAdmin && e.namespaces.is_none());
        if has_admin {
            return vec![];
        }
        vec![Outcome::Fail(Finding {
            path: enabled.clone(),
            problem: "deployerAdmin is off and no access entry has ClusterAdmin: nobody can administer the cluster".into(),
            expected: "at least one cluster admin".into(),
            fix: format!("remove {enabled} (the deploying principal becomes admin), or add an accessEntries item with accessPolicy ClusterAdmin for the role your admins assume"),
        })]
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
                s["deployerAdmin"] = json!({"enabled": false});
                s["accessEntries"] = json!([{"principalArn": "arn:aws:iam::123456789012:role/platform-admins", "accessPolicy": "ClusterAdmin"}]);
            }),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect![[r#"SEKS-IAM-030 [MEDIUM] deployerAdmin.enabled: deployerAdmin is off and no access entry has ClusterAdmin: nobody can administer the cluster; expected at least one cluster admin. Fix: remove deployerAdmin.enabled (the deploying principal becomes admin), or add an accessEntries item with accessPolicy ClusterAdmin for the role your admins assume. Refs: none"#]].assert_eq(&run(
            &RULE,
            with(|s| {
                s["deployerAdmin"] = json!({"enabled": false});
                s["accessEntries"] = json!([{"principalArn": "arn:aws:iam::123456789012:role/dev", "accessPolicy": "Admin", "namespaces": ["apps"]}]);
            }),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: deployerAdmin.enabled"].assert_eq(&run(&RULE, golden(), &["deployerAdmin.enabled"]));
        expect!["deferred: accessEntries"].assert_eq(&run(
            &RULE,
            with(|s| {
                s["deployerAdmin"] = json!({"enabled": false});
                s["accessEntries"] = json!([{"principalArn": "x", "accessPolicy": "ClusterAdmin"}]);
            }),
            &["accessEntries[0].principalArn"],
        ));
    }
}
