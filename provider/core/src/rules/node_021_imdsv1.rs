//! SEKS-NODE-021 (audit): a node group's launch template requires IMDSv2 tokens.
//!
//! secure-eks always writes `HttpTokens: required`; an existing launch template may leave it
//! `optional` (or unset, which EC2 treats as optional), so any process on the node, or an SSRF
//! in a pod, reads the node role's credentials with a plain GET. A disabled metadata endpoint
//! passes.

use super::audit::{nodegroup_path, AuditFacts, AuditRule};
use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-021",
    title: "Launch templates must require IMDSv2 tokens (audit)",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["CKV_AWS_79", "AVD-AWS-0130", "EKS BPG security/iam"],
};

pub(super) struct ImdsV1;
pub(super) static RULE: ImdsV1 = ImdsV1;

impl AuditRule for ImdsV1 {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit(&self, facts: &AuditFacts) -> Vec<Finding> {
        facts
            .node_groups
            .iter()
            .filter_map(|ng| {
                let lt = ng.launch_template.as_ref()?;
                if lt.http_endpoint.as_deref() == Some("disabled") || lt.http_tokens.as_deref() == Some("required") {
                    return None;
                }
                Some(Finding {
                    path: nodegroup_path(&ng.name).k("launchTemplate").k("metadataOptions").k("httpTokens"),
                    problem: format!("launch template {} allows IMDSv1 (HttpTokens {})", lt.id, lt.http_tokens.as_deref().unwrap_or("unset, which EC2 treats as optional")),
                    expected: "HttpTokens required".into(),
                    fix: "create a launch template version with MetadataOptions HttpTokens=required (and HttpPutResponseHopLimit 1 or 2) and update the node group to it".into(),
                })
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
        if let Some(lt) = f.node_groups[0].launch_template.as_mut() {
            lt.http_tokens = None;
        }
        expect!["SEKS-NODE-021 [HIGH] nodegroups.general.launchTemplate.metadataOptions.httpTokens: launch template lt-1 allows IMDSv1 (HttpTokens unset, which EC2 treats as optional); expected HttpTokens required. Fix: create a launch template version with MetadataOptions HttpTokens=required (and HttpPutResponseHopLimit 1 or 2) and update the node group to it. Refs: CKV_AWS_79, AVD-AWS-0130, EKS BPG security/iam"].assert_eq(&run(&f));
    }

    #[test]
    fn unknown() {
        // A node group on EKS's own launch template has no template to read: no finding.
        let mut f = clean();
        f.node_groups[0].launch_template = None;
        expect!["pass"].assert_eq(&run(&f));
    }
}
