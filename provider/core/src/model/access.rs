//! Who can use the cluster on day one: the deploying principal's cluster-admin access entry.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AccessPolicy, ClusterArgs};

/// A cluster-admin access entry (`AmazonEKSClusterAdminPolicy`, cluster scope) for the IAM
/// principal that deploys the cluster, so the person or CI that ran `pulumi up` can use it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeployerAdmin {
    /// Give the deploying principal cluster-admin access (default true). `false` leaves access to
    /// `accessEntries` alone (with none of ClusterAdmin, SEKS-IAM-030 warns that nobody can use
    /// the cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The IAM role or user ARN that gets the entry. Filled in by Check from STS
    /// GetCallerIdentity (an assumed-role session maps back to its role, with the role's path
    /// when `iam:GetRole` is allowed) and then kept, so a later `up` by someone else does not move
    /// it. Set it to name the principal yourself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_arn: Option<String>,
}

/// The IAM principal behind a `GetCallerIdentity` ARN: an IAM user or role ARN as is, an
/// assumed-role session (`arn:<p>:sts::<acct>:assumed-role/<name>/<session>`) as the role ARN
/// `arn:<p>:iam::<acct>:role/<name>`. The session ARN does not carry the role's path, so the
/// result lacks it (the executor asks `iam:GetRole` for the real ARN). `None` for principals EKS
/// cannot map (the account root, federated users, anything else).
pub fn principal_of_caller(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(_region), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    match service {
        "iam" if resource.starts_with("role/") || resource.starts_with("user/") => Some(arn.to_string()),
        "sts" => {
            let role = resource.strip_prefix("assumed-role/")?.split('/').next().filter(|r| !r.is_empty())?;
            Some(format!("arn:{partition}:iam::{account}:role/{role}"))
        }
        _ => None,
    }
}

impl ClusterArgs {
    /// Whether the deploying principal gets cluster admin (the default).
    pub fn deployer_admin_enabled(&self) -> bool {
        self.deployer_admin.as_ref().and_then(|d| d.enabled).unwrap_or(true)
    }

    /// Fill an absent `deployerAdmin.principalArn`: the one chosen earlier (`olds`), else
    /// `caller` (the deploying principal, from STS). Without either it stays absent.
    pub fn with_deployer(mut self, olds: Option<&ClusterArgs>, caller: Option<&str>) -> Self {
        let d = self.deployer_admin.get_or_insert_with(DeployerAdmin::default);
        if d.principal_arn.is_none() {
            d.principal_arn = olds
                .and_then(|o| o.deployer_admin.as_ref())
                .and_then(|o| o.principal_arn.clone())
                .or_else(|| caller.map(String::from));
        }
        self
    }

    /// The deployer's principal when it gets its own access entry: enabled, known, and not
    /// already named in `accessEntries` (the user's entry for it wins).
    pub fn deployer_entry(&self) -> Option<&str> {
        let p = self.deployer_admin.as_ref()?.principal_arn.as_deref().filter(|_| self.deployer_admin_enabled())?;
        (!self.access_entries.iter().flatten().any(|e| e.principal_arn == p)).then_some(p)
    }

    /// The principals with cluster-wide admin rights (the deployer's entry and every ClusterAdmin
    /// access entry), sorted, without repeats.
    pub fn cluster_admins(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .access_entries
            .iter()
            .flatten()
            .filter(|e| e.access_policy == AccessPolicy::ClusterAdmin && e.namespaces.is_none())
            .map(|e| e.principal_arn.clone())
            .collect();
        v.extend(self.deployer_entry().map(String::from));
        v.sort();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_arns_map_to_the_principal_eks_takes() {
        let cases = [
            ("arn:aws:iam::123456789012:user/alice", Some("arn:aws:iam::123456789012:user/alice")),
            ("arn:aws:iam::123456789012:role/ops/deploy", Some("arn:aws:iam::123456789012:role/ops/deploy")),
            ("arn:aws:sts::123456789012:assumed-role/deploy/ci-run-7", Some("arn:aws:iam::123456789012:role/deploy")),
            ("arn:aws-cn:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123/jane@example.com", Some("arn:aws-cn:iam::123456789012:role/AWSReservedSSO_Admin_0123")),
            ("arn:aws:iam::123456789012:root", None),
            ("arn:aws:sts::123456789012:federated-user/bob", None),
            ("arn:aws:sts::123456789012:assumed-role/", None),
            ("not an arn", None),
        ];
        for (arn, want) in cases {
            assert_eq!(principal_of_caller(arn).as_deref(), want, "{arn}");
        }
    }

    #[test]
    fn the_deployer_is_kept_from_earlier_inputs_and_yields_to_an_explicit_entry() {
        let olds = ClusterArgs::default().with_deployer(None, Some("arn:aws:iam::1:role/first"));
        let now = ClusterArgs::default().with_deployer(Some(&olds), Some("arn:aws:iam::1:role/second"));
        assert_eq!(now.deployer_entry(), Some("arn:aws:iam::1:role/first"));
        assert_eq!(now.cluster_admins(), vec!["arn:aws:iam::1:role/first".to_string()]);
        let mut off = now.clone();
        off.deployer_admin.as_mut().unwrap().enabled = Some(false);
        assert_eq!(off.deployer_entry(), None);
        assert!(off.cluster_admins().is_empty());
        let mut named = now;
        named.access_entries = Some(vec![super::super::AccessEntry { principal_arn: "arn:aws:iam::1:role/first".into(), access_policy: AccessPolicy::View, namespaces: None }]);
        assert_eq!(named.deployer_entry(), None);
    }
}
