//! SEKS-CP-008 (audit): the cluster envelope-encrypts Kubernetes secrets with a customer managed
//! KMS key.
//!
//! secure-eks always creates the key and the encryption config, so there is no input to judge at
//! preview; an existing cluster may have none. Without it, EKS encrypts Kubernetes API data with
//! a key AWS owns: no key policy of yours decides who may decrypt, you cannot rotate, disable or
//! audit its use in CloudTrail (CIS 5.3.1 asks for a customer managed key).

use super::audit::{cluster_path, AuditFacts, AuditRule};
use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CP-008",
    title: "Secrets must be envelope-encrypted with a customer managed KMS key (audit)",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["CIS 5.3.1", "CKV_AWS_58", "AVD-AWS-0039", "EKS BPG security/data"],
};

pub(super) struct SecretsEncryption;
pub(super) static RULE: SecretsEncryption = SecretsEncryption;

impl AuditRule for SecretsEncryption {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit(&self, facts: &AuditFacts) -> Vec<Finding> {
        if facts.secrets_key_arn.is_some() {
            return vec![];
        }
        vec![Finding {
            path: cluster_path().k("encryptionConfig"),
            problem: "the cluster has no encryption config with a customer managed KMS key, so Kubernetes secrets are encrypted only with a key AWS owns".into(),
            expected: "an encryptionConfig for resources [\"secrets\"] with a customer managed KMS key".into(),
            fix: "aws eks associate-encryption-config --encryption-config resources=secrets,provider={keyArn=<key ARN>} (it cannot be removed afterwards)".into(),
        }]
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
        f.secrets_key_arn = None;
        expect![[r#"SEKS-CP-008 [HIGH] cluster.encryptionConfig: the cluster has no encryption config with a customer managed KMS key, so Kubernetes secrets are encrypted only with a key AWS owns; expected an encryptionConfig for resources ["secrets"] with a customer managed KMS key. Fix: aws eks associate-encryption-config --encryption-config resources=secrets,provider={keyArn=<key ARN>} (it cannot be removed afterwards). Refs: CIS 5.3.1, CKV_AWS_58, AVD-AWS-0039, EKS BPG security/data"#]].assert_eq(&run(&f));
    }

    #[test]
    fn unknown() {
        // An audit reads AWS state, which has no unknowns; what could not be read is reported
        // as not judged by `audit` (tested there), never as a pass or a failure here.
        let mut f = clean();
        f.unread.push(("eks:DescribeCluster".into(), "AccessDenied".into()));
        let r = super::super::audit::audit(&f);
        assert!(r.not_judged.iter().any(|(_, why)| why.contains("AccessDenied")));
    }
}
