//! `SecureEksCluster` inputs, exactly as `shared/docs/api.md` names them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::auto_mode::AutoMode;
use super::daytwo::{Accelerator, NamedAddon, NodeGroupUpdateConfig, SupportType};

/// A production EKS cluster that is secure by default: private API, KMS-encrypted secrets, all
/// control-plane logs, IMDSv2-only nodes, VPC endpoints instead of NAT, custom pod networking, and
/// IRSA roles whose trust policies check both `:sub` and `:aud`. Bad configurations are refused at
/// `pulumi preview` with a rule id, the property path and the fix.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterArgs {
    /// The EKS cluster name. Autonamed from the resource name when absent. Changing it replaces the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("replaceOnChanges" = true))]
    pub cluster_name: Option<String>,
    /// The Kubernetes minor version, for example `"1.34"`. Must be a version EKS supports; upgrades
    /// happen in place, one minor version at a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-required" = true))]
    pub kubernetes_version: Option<String>,
    /// The network: a new VPC (the default, `10.0.0.0/16`) or an existing one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
    /// Who can reach the Kubernetes API. Private only by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_access: Option<ApiAccess>,
    /// KMS envelope encryption of Kubernetes secrets. Without `kmsKeyArn` a customer managed key with
    /// rotation is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    /// Control-plane logging. All five log types and 90 days of retention by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    /// Managed node groups; at least one, except with `autoMode` (then none). Required unless
    /// `autoMode` is on (SEKS-CFG-005 checks it, so the schema leaves it optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_groups: Option<Vec<NodeGroup>>,
    /// EKS addons. Versions default to the AWS default for the cluster version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addons: Option<Addons>,
    /// An IRSA role per Kubernetes service account; trust policies carry `:sub` and `:aud` conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_roles: Option<Vec<ServiceAccountRole>>,
    /// The cluster autoscaler's IRSA role, with the complete action list. Enabled by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_autoscaler: Option<ClusterAutoscaler>,
    /// EKS access entries. The authentication mode is always `API`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_entries: Option<Vec<AccessEntry>>,
    /// A cluster-admin access entry for the principal that deploys the cluster (on by default),
    /// so whoever ran `pulumi up` can use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployer_admin: Option<super::DeployerAdmin>,
    /// A permissions boundary policy ARN applied to every IAM role created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    /// Tags on every resource, in addition to `secure-eks:cluster=<owner>` (the `owner` output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// How the preview-time policy behaves: waivers and the handling of unknown values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,    /// Kubernetes version support after standard support ends: `STANDARD` (default: EKS upgrades
    /// the cluster when standard support ends) or `EXTENDED` (12 more months, billed per cluster
    /// hour; a warning at preview).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_policy: Option<SupportType>,
    /// Refuse to delete the cluster (default false). While it is on, `pulumi destroy` fails before
    /// deleting anything; set it to false and run `pulumi up` first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<bool>,
    /// Amazon Application Recovery Controller zonal shift for the cluster (default true with two
    /// or more availability zones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zonal_shift: Option<bool>,
    /// EKS Auto Mode instead of managed node groups: compute, block storage and load balancing run
    /// by EKS, a minimal node role, the built-in node pools, and no vpc-cni, kube-proxy, coredns or
    /// Pod Identity agent addons (Auto Mode runs its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_mode: Option<AutoMode>,
}

/// The cluster network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Network {
    /// The CIDR of a new VPC (default `10.0.0.0/16`). Exclusive with `existingVpc`. Changing it replaces the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_cidr: Option<String>,
    /// Bring your own VPC. Endpoints, security groups and (with `podCidr`) pod subnets are still created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_vpc: Option<ExistingVpc>,
    /// The availability zones to use; at least 2. Defaults to the first 3 of the region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zones: Option<Vec<String>>,
    /// The secondary CIDR for pods (default `100.64.0.0/16`). Turns on custom networking with one
    /// ENIConfig per AZ. `null` turns custom networking off.
    #[serde(
        default,
        skip_serializing_if = "Nullable::is_absent",
        deserialize_with = "Nullable::deserialize_present"
    )]
    pub pod_cidr: Nullable<String>,
    /// vpc-cni prefix delegation (default true). Nitro instance types only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_delegation: Option<bool>,
    /// NAT gateways: `none` (default: fully private through VPC endpoints), `single` or `perAz`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat_gateways: Option<NatGateways>,
    /// More interface endpoints beyond the required set, e.g. `ssm`, `ssmmessages`, `ec2messages`,
    /// `elasticloadbalancing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_endpoints: Option<Vec<String>>,
    /// vpc-cni network policy enforcement (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_policy: Option<bool>,
}

/// An existing VPC to build in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExistingVpc {
    /// The VPC id, e.g. `vpc-0abc...`.
    pub vpc_id: String,
    /// Private subnets for the nodes, one or more per AZ.
    pub node_subnet_ids: Vec<String>,
    /// Subnets for pods (custom networking), one per node AZ. Created from `podCidr` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_subnet_ids: Option<Vec<String>>,
    /// Subnets for the VPC interface endpoints. The node subnets when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_subnet_ids: Option<Vec<String>>,
}

/// NAT gateway placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum NatGateways {
    /// No NAT: the nodes reach AWS through VPC endpoints only.
    #[serde(rename = "none")]
    None,
    /// One NAT gateway for the whole VPC.
    #[serde(rename = "single")]
    Single,
    /// One NAT gateway per availability zone.
    #[serde(rename = "perAz")]
    PerAz,
}

/// Who can reach the Kubernetes API endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiAccess {
    /// Private endpoint access from inside the VPC (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    /// Public endpoint access (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    /// The CIDRs allowed to reach the public endpoint; only with `public`; never `0.0.0.0/0` or `::/0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_cidrs: Option<Vec<String>>,
}

/// Secrets encryption.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Encryption {
    /// A customer managed KMS key ARN in the cluster's region. Created (with rotation) when absent.
    /// Changing it replaces the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
}

/// Control-plane logging.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Logging {
    /// Log types: `api`, `audit`, `authenticator`, `controllerManager`, `scheduler` (default all five).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<Vec<String>>,
    /// Retention of `/aws/eks/<name>/cluster` in days (default 90).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<i64>,
}

/// A managed node group.
// `Debug` is in redact.rs (it redacts `userData`); not a doc comment, which would go to the schema.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeGroup {
    /// The node group name, unique within the cluster.
    pub name: String,
    /// EC2 instance types, all of one CPU architecture. Graviton types select arm64 AMIs.
    /// Example: `["m7g.large", "m6g.large"]`.
    pub instance_types: Vec<String>,
    /// `ON_DEMAND` (default) or `SPOT`. SPOT needs at least 2 instance types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_type: Option<CapacityType>,
    /// Minimum size (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<i64>,
    /// Desired size (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_size: Option<i64>,
    /// Maximum size (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<i64>,
    /// `AL2023` (default) or `BOTTLEROCKET`, resolved through the EKS SSM parameters for the
    /// version and architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ami_family: Option<AmiFamily>,
    /// Pin an AMI id. Then the node bootstrap user data and max-pods are rendered by the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ami_id: Option<String>,
    /// Root volume size in GiB (default 50); always gp3 and encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "diskSizeGb")]
    pub disk_size_gib: Option<i64>,
    /// Node labels; not under `kubernetes.io/` or `k8s.io/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Node taints, at most 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taints: Option<Vec<Taint>>,
    /// The IMDSv2 response hop limit, 1 or 2 (default 2). Tokens are always required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imds_hop_limit: Option<i64>,
    /// Extra node configuration (a nodeadm NodeConfig or a MIME part) merged into the rendered user
    /// data. Checked for leaked Output text. Secret: it can carry bootstrap credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("secret" = true))]
    pub user_data: Option<String>,    /// How many nodes an update may take down at once: `maxUnavailable` or
    /// `maxUnavailablePercentage` (default 33%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_config: Option<NodeGroupUpdateConfig>,
    /// EKS node auto repair: unhealthy nodes are replaced (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_repair: Option<bool>,
    /// The AMI variant: `none` (standard), `nvidia` or `neuron`. Defaults to the instance family's
    /// accelerator (g5, g6, p4d, p5: `nvidia`; inf2, trn1, trn2: `neuron`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerator: Option<Accelerator>,
    /// Pin the EKS AMI release version (e.g. `1.34.2-20251120`). Changing it rolls the node
    /// group to that release, `updateConfig` nodes at a time. The latest release when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_version: Option<String>,
}

/// EC2 capacity type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CapacityType {
    /// On-demand instances.
    #[serde(rename = "ON_DEMAND")]
    OnDemand,
    /// Spot instances; use at least 2 instance types.
    #[serde(rename = "SPOT")]
    Spot,
}

/// The AMI family of a node group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AmiFamily {
    /// Amazon Linux 2023 with nodeadm.
    #[serde(rename = "AL2023")]
    Al2023,
    /// Bottlerocket.
    #[serde(rename = "BOTTLEROCKET")]
    Bottlerocket,
}

/// A Kubernetes taint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Taint {
    /// The taint key.
    pub key: String,
    /// The taint value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The effect.
    pub effect: TaintEffect,
}

/// The effect of a taint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
pub enum TaintEffect {
    /// Pods without a toleration are not scheduled.
    #[default]
    #[serde(rename = "NO_SCHEDULE")]
    NoSchedule,
    /// Pods without a toleration are evicted.
    #[serde(rename = "NO_EXECUTE")]
    NoExecute,
    /// The scheduler avoids the node.
    #[serde(rename = "PREFER_NO_SCHEDULE")]
    PreferNoSchedule,
}

/// The managed addons.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Addons {
    /// The Amazon VPC CNI (`vpc-cni`), installed before any node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_cni: Option<Addon>,
    /// `kube-proxy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_proxy: Option<Addon>,
    /// `coredns`, installed after the node groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_dns: Option<Addon>,
    /// `eks-pod-identity-agent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_identity_agent: Option<Addon>,    /// More EKS addons by name, each with its default version, configuration and, where it needs
    /// AWS access, an EKS Pod Identity role. `aws-ebs-csi-driver` is on by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Vec<NamedAddon>>,
}

/// One addon's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Addon {
    /// The addon version, e.g. `v1.19.2-eksbuild.1`. Defaults to the AWS default for the cluster version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Configuration values, merged over the provider's required settings (never replacing them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<serde_json::Map<String, serde_json::Value>>,
}

/// An IRSA role for one Kubernetes service account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccountRole {
    /// The service account's namespace.
    pub namespace: String,
    /// The service account's name.
    pub name: String,
    /// Managed policy ARNs to attach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_arns: Option<Vec<String>>,
    /// An inline policy document (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_policy: Option<String>,
}

/// The cluster autoscaler's IAM role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterAutoscaler {
    /// Create the role (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The autoscaler's namespace (default `kube-system`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The autoscaler's service account (default `cluster-autoscaler`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
}

/// An EKS access entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessEntry {
    /// The IAM principal (role or user) ARN.
    pub principal_arn: String,
    /// The access policy to associate.
    pub access_policy: AccessPolicy,
    /// Limit the policy to these namespaces; cluster-wide when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<Vec<String>>,
}

/// An EKS access policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
pub enum AccessPolicy {
    /// `AmazonEKSClusterAdminPolicy`.
    ClusterAdmin,
    /// `AmazonEKSAdminPolicy`.
    Admin,
    /// `AmazonEKSEditPolicy`.
    Edit,
    /// `AmazonEKSViewPolicy`.
    #[default]
    View,
}

/// Preview-time policy settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    /// Waivers for individual rules, each with a reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waivers: Option<Vec<Waiver>>,
    /// What a rule that meets an unknown value at preview does: `defer` (default: evaluate at
    /// `up`), `warn`, or `fail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknowns: Option<UnknownsMode>,
}

/// A waiver of one rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Waiver {
    /// The rule id, e.g. `SEKS-CP-002`.
    pub rule: String,
    /// Why the rule is waived; at least 15 characters, not a placeholder.
    pub reason: String,
    /// Limit the waiver to one property path, e.g. `nodeGroups[0]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The date (`YYYY-MM-DD`) after which the waiver no longer applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Who approved the waiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
}

/// Handling of unknown values at preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase")]
pub enum UnknownsMode {
    /// Defer the rule to `pulumi up`, with one warning listing what was deferred.
    #[default]
    Defer,
    /// Like defer, but each deferred rule is its own warning.
    Warn,
    /// Fail the preview.
    Fail,
}

/// A value that can be absent, explicitly `null`, or present.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Nullable<T> {
    /// Not given: the default applies.
    #[default]
    Absent,
    /// Explicitly `null`: the feature is off.
    Null,
    /// A value.
    Value(T),
}

impl<T> Nullable<T> {
    /// True when not given.
    pub fn is_absent(&self) -> bool {
        matches!(self, Nullable::Absent)
    }

    /// The value, if present.
    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }

    fn deserialize_present<'de, D>(d: D) -> Result<Nullable<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Ok(match Option::<T>::deserialize(d)? {
            Some(v) => Nullable::Value(v),
            None => Nullable::Null,
        })
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Nullable::Value(v) => v.serialize(s),
            _ => s.serialize_none(),
        }
    }
}

impl<T: JsonSchema> JsonSchema for Nullable<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        <Option<T>>::schema_name()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <Option<T>>::json_schema(g)
    }
}

impl crate::codec::SecretFields for ClusterArgs {
    const SECRET_FIELDS: &'static [&'static str] = &["userData"];
}

#[cfg(test)]
mod secret_fields_tests {
    use crate::codec::SecretFields;

    /// The property names a JSON Schema marks `"secret": true`.
    fn schema_secrets(schema: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match schema {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::Object(props)) = m.get("properties") {
                    for (k, v) in props {
                        if v.get("secret") == Some(&serde_json::Value::Bool(true)) {
                            out.insert(k.clone());
                        }
                    }
                }
                m.values().for_each(|v| schema_secrets(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| schema_secrets(v, out)),
            _ => {}
        }
    }

    fn check<T: schemars::JsonSchema + SecretFields>() {
        let schema = schemars::schema_for!(T);
        let mut found = std::collections::BTreeSet::new();
        schema_secrets(schema.as_value(), &mut found);
        let listed: std::collections::BTreeSet<String> = T::SECRET_FIELDS.iter().map(|s| s.to_string()).collect();
        assert_eq!(found, listed);
    }

    #[test]
    fn secret_fields_are_the_schemas() {
        check::<super::ClusterArgs>();
        check::<crate::model::ProviderConfig>();
    }
}
