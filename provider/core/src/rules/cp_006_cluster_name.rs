//! SEKS-CP-006: the cluster name is a valid EKS cluster name: 1-100 characters, starting with a
//! letter or digit, then letters, digits, `-` or `_` (EKS CreateCluster, `name`). EKS refuses
//! anything else only after the VPC, roles and KMS key exist; checked here it fails at preview.
//! Every name derived from it (IAM roles, launch templates) is shortened with a stable hash
//! instead (`plan::names`), so a valid cluster name never yields a name AWS refuses.

use super::*;
use crate::plan::names::{valid_cluster_name, CLUSTER_NAME_MAX};

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CP-006",
    title: "The cluster name must be a valid EKS cluster name",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct ClusterName;
pub(super) static RULE: ClusterName = ClusterName;

impl Rule for ClusterName {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let path = Path::key("clusterName");
        when_known(ctx, &path, || {
            let name = ctx.spec.cluster_name.as_deref()?;
            if valid_cluster_name(name) {
                return None;
            }
            let problem = if name.len() > CLUSTER_NAME_MAX {
                format!("the name is {} characters long", name.len())
            } else {
                format!("{name:?} is not a valid EKS cluster name")
            };
            Some(Finding {
                path: path.clone(),
                problem,
                expected: format!("1-{CLUSTER_NAME_MAX} letters, digits, '-' or '_', starting with a letter or digit"),
                fix: "choose another clusterName (changing it replaces the cluster)".into(),
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

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["clusterName"] = "a".repeat(100).into()), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["clusterName"] = "0prod_eks-1".into()), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"SEKS-CP-006 [HIGH] clusterName: "my.cluster" is not a valid EKS cluster name; expected 1-100 letters, digits, '-' or '_', starting with a letter or digit. Fix: choose another clusterName (changing it replaces the cluster). Refs: none"#]].assert_eq(&run(&RULE, with(|s| s["clusterName"] = "my.cluster".into()), &[]));
        expect![[r#"SEKS-CP-006 [HIGH] clusterName: "-prod" is not a valid EKS cluster name; expected 1-100 letters, digits, '-' or '_', starting with a letter or digit. Fix: choose another clusterName (changing it replaces the cluster). Refs: none"#]].assert_eq(&run(&RULE, with(|s| s["clusterName"] = "-prod".into()), &[]));
        expect!["SEKS-CP-006 [HIGH] clusterName: the name is 101 characters long; expected 1-100 letters, digits, '-' or '_', starting with a letter or digit. Fix: choose another clusterName (changing it replaces the cluster). Refs: none"].assert_eq(&run(&RULE, with(|s| s["clusterName"] = "a".repeat(101).into()), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: clusterName"].assert_eq(&run(&RULE, golden(), &["clusterName"]));
    }
}
