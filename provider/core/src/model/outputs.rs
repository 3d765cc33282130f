//! `SecureEksCluster` outputs, exactly as `shared/docs/api.md` names them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Everything the cluster resource reports after `pulumi up`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterOutputs {
    /// The EKS cluster name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// The EKS cluster ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// The Kubernetes API endpoint URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The cluster CA bundle, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority_data: Option<String>,
    /// The OIDC issuer URL for IRSA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_issuer_url: Option<String>,
    /// The IAM OIDC provider ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_provider_arn: Option<String>,
    /// The VPC id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// Node subnet ids, one per AZ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_subnet_ids: Option<Vec<String>>,
    /// Pod subnet ids (custom networking), one per AZ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_subnet_ids: Option<Vec<String>>,
    /// Interface endpoint subnet ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_subnet_ids: Option<Vec<String>>,
    /// Security group ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<SecurityGroupIds>,
    /// VPC endpoint ids by service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_endpoint_ids: Option<BTreeMap<String, String>>,
    /// The cluster IAM role ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_role_arn: Option<String>,
    /// The node IAM role ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_role_arn: Option<String>,
    /// The cluster autoscaler's IRSA role ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaler_role_arn: Option<String>,
    /// IRSA role ARNs by `namespace/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_role_arns: Option<BTreeMap<String, String>>,
    /// The KMS key ARN encrypting Kubernetes secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    /// The control-plane log group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// Installed addon versions by addon name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon_versions: Option<BTreeMap<String, String>>,
    /// Node groups by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_groups: Option<BTreeMap<String, NodeGroupOutput>>,
    /// A kubeconfig using exec authentication through `aws eks get-token`. Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("secret" = true))]
    pub kubeconfig: Option<String>,
    /// The same kubeconfig as JSON. Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("secret" = true))]
    pub kubeconfig_json: Option<String>,
    /// What the preview-time policy found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_report: Option<PolicyReport>,
    /// The value of the `secure-eks:cluster` ownership tag on every resource of this cluster
    /// (`<clusterName>@<region>/<hash>`, unique per region and stack; the plain cluster name for a
    /// stack whose resources were created before owners were recorded). Only resources carrying
    /// it are adopted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Every AWS resource this cluster owns, by plan step id (e.g. `subnet/node/us-east-1a`).
    /// Used to resume a partial `up`, to refresh, and to delete exactly what was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_resources: Option<BTreeMap<String, AwsResource>>,
}

/// One AWS resource owned by the cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsResource {
    /// The primary AWS id (vpc-..., subnet-..., a role name, the cluster name, ...).
    pub id: String,
    /// The ARN, where the resource has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Other recorded values (e.g. `endpoint`, `version`, `releaseVersion`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

/// The cluster's security groups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupIds {
    /// The cluster security group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// The node security group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The VPC endpoint security group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<String>,
}

/// One node group's outputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeGroupOutput {
    /// The node group ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The AMI release version in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ami_release_version: Option<String>,
    /// The launch template id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_template_id: Option<String>,
}

/// The result of the preview-time policy for this resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReport {
    /// How many rules ran.
    pub rules_evaluated: i64,
    /// Failure messages.
    pub failures: Vec<String>,
    /// Warning messages.
    pub warnings: Vec<String>,
    /// Rules deferred because a value was unknown, as `RULE-ID path`.
    pub deferred: Vec<String>,
    /// Waived rules, as `RULE-ID path: reason`.
    pub waived: Vec<String>,
    /// The IAM principals with cluster-wide admin rights (the deployer's access entry and every
    /// ClusterAdmin access entry). Empty: nobody can administer the cluster (SEKS-IAM-030).
    #[serde(default)]
    pub admins: Vec<String>,
}
