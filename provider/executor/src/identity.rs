//! Who is deploying: STS GetCallerIdentity, the account check, and the IAM principal behind the
//! caller (the one that gets the deployer's cluster-admin access entry).

use secure_eks_core::model::principal_of_caller;

use crate::{Aws, ExecError};

/// The caller, as STS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account id.
    pub account: String,
    /// The caller's ARN as STS gives it (an assumed-role session ARN for a role).
    pub arn: String,
    /// The IAM role or user ARN behind it, for an access entry; `None` when EKS cannot map the
    /// caller (the account root, a federated user).
    pub principal: Option<String>,
}

impl Aws {
    /// GetCallerIdentity, checked against `allowedAccountIds`, with the IAM principal behind the
    /// caller. An assumed-role session ARN carries the role's name but not its path; `iam:GetRole`
    /// gives the role's real ARN (path included) when the caller may call it, else the ARN
    /// without a path is used (right for every role without a path).
    pub async fn caller(&self, allowed: Option<&[String]>) -> Result<Caller, ExecError> {
        let out = self
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| {
                use crate::errors::{describe, kind_of, Kind};
                // The SDK's chain reports a profile that does not exist as "no credentials".
                ExecError::CallerIdentity(match (kind_of(&e), &self.profile) {
                    (Kind::NoCredentials | Kind::UnknownProfile, Some(p)) => format!(
                        "the AWS profile {p:?} gave no credentials: it is not defined in the AWS config files (AWS_CONFIG_FILE or ~/.aws/config, ~/.aws/credentials), or it holds none\nFix: set secure-eks:profile to a profile that exists (`aws configure list-profiles`), or sign in to it (`aws sso login --profile {p}`)"
                    ),
                    _ => describe(&e),
                })
            })?;
        let account = out.account.ok_or(ExecError::MissingAccount)?;
        if let Some(allowed) = allowed {
            if !allowed.iter().any(|a| a == &account) {
                return Err(ExecError::AccountNotAllowed { account, allowed: allowed.join(", ") });
            }
        }
        let arn = out.arn.unwrap_or_default();
        let mut principal = principal_of_caller(&arn);
        if arn.contains(":assumed-role/") {
            if let Some(name) = principal.as_deref().and_then(|p| p.rsplit('/').next()) {
                if let Ok(role) = self.iam().get_role().role_name(name).send().await {
                    if let Some(r) = role.role() {
                        principal = Some(r.arn().to_string());
                    }
                }
            }
        }
        Ok(Caller { account, arn, principal })
    }
}

impl Aws {
    /// The API endpoint and CA bundle of cluster `name` (EKS DescribeCluster), for a kubeconfig;
    /// `None` when there is no such cluster.
    pub async fn cluster_access(&self, name: &str) -> Result<Option<(String, String)>, ExecError> {
        let out = match self.eks().describe_cluster().name(name).send().await {
            Ok(o) => o,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => return Ok(None),
            Err(e) => return Err(ExecError::Lookup(format!("eks:DescribeCluster failed: {}", crate::errors::describe(&e)))),
        };
        let Some(c) = out.cluster else { return Ok(None) };
        match (c.endpoint, c.certificate_authority.and_then(|a| a.data)) {
            (Some(e), Some(ca)) => Ok(Some((e, ca))),
            _ => Err(ExecError::Lookup(format!("cluster {name} has no API endpoint yet (it is still being created)\nFix: wait until the cluster is ACTIVE, then call getKubeconfig again"))),
        }
    }
}
