//! SEKS-NODE-022 (audit): no node group runs an Amazon Linux 2 AMI type.
//!
//! EKS stopped publishing EKS-optimized AL2 AMIs on 2025-11-26 and has none for Kubernetes 1.33
//! and later (EKS user guide, "Amazon Linux 2 AMI deprecation"): AL2 nodes get no security
//! fixes and block the next upgrade. secure-eks offers only AL2023 and Bottlerocket.

use super::audit::{nodegroup_path, AuditFacts, AuditRule};
use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-022",
    title: "Node groups must not run Amazon Linux 2 AMI types (audit)",
    severity: Severity::High,
    level: Level::Error,
    waivable: true,
    refs: &["EKS BPG security/hosts"],
};

pub(super) struct Al2Ami;
pub(super) static RULE: Al2Ami = Al2Ami;

impl AuditRule for Al2Ami {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit(&self, facts: &AuditFacts) -> Vec<Finding> {
        facts
            .node_groups
            .iter()
            .filter(|ng| ng.ami_type.starts_with("AL2_"))
            .map(|ng| Finding {
                path: nodegroup_path(&ng.name).k("amiType"),
                problem: format!("the node group runs {}, an Amazon Linux 2 AMI type that EKS no longer publishes", ng.ami_type),
                expected: "an AL2023 or Bottlerocket AMI type".into(),
                fix: format!("create a replacement node group with amiType {}, move the workloads, delete this one", if ng.ami_type.contains("ARM") { "AL2023_ARM_64_STANDARD" } else { "AL2023_x86_64_STANDARD" }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::audit::tests::clean;
    use super::RULE;
    use expect_test::expect;

    fn run(f: &super::AuditFacts) -> String {
        super::super::audit::tests::run(&RULE, f)
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&clean()));
    }

    #[test]
    fn fail() {
        let mut f = clean();
        f.node_groups[0].ami_type = "AL2_ARM_64".into();
        expect!["SEKS-NODE-022 [HIGH] nodegroups.general.amiType: the node group runs AL2_ARM_64, an Amazon Linux 2 AMI type that EKS no longer publishes; expected an AL2023 or Bottlerocket AMI type. Fix: create a replacement node group with amiType AL2023_ARM_64_STANDARD, move the workloads, delete this one. Refs: EKS BPG security/hosts"].assert_eq(&run(&f));
    }

    #[test]
    fn unknown() {
        // A CUSTOM AMI type says nothing about the OS: no finding.
        let mut f = clean();
        f.node_groups[0].ami_type = "CUSTOM".into();
        expect!["pass"].assert_eq(&run(&f));
    }
}
