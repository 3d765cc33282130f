//! Day-two planning (issue #14): the cluster's support policy, deletion protection and zonal
//! shift; node group update budgets, auto repair, accelerated AMIs and pinned releases; and any
//! EKS addon by name with its EKS Pod Identity role.

use serde_json::json;

use super::build::Builder;
use super::{Action, StepId};
use crate::model::{addon_access, Accelerator, AmiFamily, ClusterArgs, NodeGroup, SupportType};
use crate::rules::Arch;

/// The cluster settings of issue #14 (CreateCluster / UpdateClusterConfig).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterSettings {
    /// `upgradePolicy.supportType`: `STANDARD` or `EXTENDED`.
    pub support_type: String,
    /// `deletionProtection`.
    pub deletion_protection: bool,
    /// `zonalShiftConfig.enabled`.
    pub zonal_shift: bool,
    /// EKS Auto Mode: the built-in node pools (`None`: Auto Mode off).
    pub auto_mode_node_pools: Option<Vec<String>>,
}

impl ClusterSettings {
    /// The settings of a checked spec.
    pub fn of(spec: &ClusterArgs) -> Self {
        let zones = spec.network.as_ref().and_then(|n| n.availability_zones.as_ref()).map_or(3, Vec::len);
        ClusterSettings {
            support_type: spec.upgrade_policy.unwrap_or(SupportType::Standard).as_str().to_string(),
            deletion_protection: spec.deletion_protection.unwrap_or(false),
            zonal_shift: spec.zonal_shift.unwrap_or(zones >= 2),
            // Set by the Auto Mode adjustment of the plan (`plan::auto_mode`).
            auto_mode_node_pools: None,
        }
    }
}

/// A node group's update and repair controls (CreateNodegroup / UpdateNodegroupConfig).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeGroupControls {
    /// `updateConfig.maxUnavailable`.
    pub max_unavailable: Option<i64>,
    /// `updateConfig.maxUnavailablePercentage`.
    pub max_unavailable_percentage: Option<i64>,
    /// `nodeRepairConfig.enabled`.
    pub node_repair: bool,
    /// A pinned AMI release version (instead of the SSM parameter's latest).
    pub release_version: Option<String>,
}

impl NodeGroupControls {
    /// The controls of a checked node group.
    pub fn of(ng: &NodeGroup) -> Self {
        let uc = ng.update_config.clone().unwrap_or_default();
        let (max_unavailable, max_unavailable_percentage) = match (uc.max_unavailable, uc.max_unavailable_percentage) {
            (None, None) => (None, Some(crate::model::DEFAULT_MAX_UNAVAILABLE_PERCENTAGE)),
            other => other,
        };
        NodeGroupControls { max_unavailable, max_unavailable_percentage, node_repair: ng.node_repair.unwrap_or(true), release_version: ng.release_version.clone() }
    }
}

/// The EKS AMI type and the SSM parameter holding its release version, for an AMI family,
/// architecture and accelerator (EKS user guide, "Retrieve recommended Amazon Linux AMI IDs" and
/// "Retrieve recommended Bottlerocket AMI IDs"). `None`: no such AMI (SEKS-NODE-032 refuses it).
pub fn ami_type(version: &str, family: AmiFamily, arch: Arch, accelerator: Accelerator) -> Option<(String, String)> {
    let arm = arch == Arch::Arm64;
    Some(match (family, accelerator) {
        (AmiFamily::Al2023, Accelerator::None) => (
            if arm { "AL2023_ARM_64_STANDARD" } else { "AL2023_x86_64_STANDARD" }.to_string(),
            format!("/aws/service/eks/optimized-ami/{version}/amazon-linux-2023/{arch}/standard/recommended/release_version"),
        ),
        (AmiFamily::Al2023, Accelerator::Nvidia) => (
            if arm { "AL2023_ARM_64_NVIDIA" } else { "AL2023_x86_64_NVIDIA" }.to_string(),
            format!("/aws/service/eks/optimized-ami/{version}/amazon-linux-2023/{arch}/nvidia/recommended/release_version"),
        ),
        (AmiFamily::Al2023, Accelerator::Neuron) if !arm => (
            "AL2023_x86_64_NEURON".to_string(),
            format!("/aws/service/eks/optimized-ami/{version}/amazon-linux-2023/x86_64/neuron/recommended/release_version"),
        ),
        (AmiFamily::Bottlerocket, Accelerator::None) => (
            if arm { "BOTTLEROCKET_ARM_64" } else { "BOTTLEROCKET_x86_64" }.to_string(),
            format!("/aws/service/bottlerocket/aws-k8s-{version}/{arch}/latest/image_version"),
        ),
        (AmiFamily::Bottlerocket, Accelerator::Nvidia) => (
            if arm { "BOTTLEROCKET_ARM_64_NVIDIA" } else { "BOTTLEROCKET_x86_64_NVIDIA" }.to_string(),
            format!("/aws/service/bottlerocket/aws-k8s-{version}-nvidia/{arch}/latest/image_version"),
        ),
        _ => return None,
    })
}

/// The trust policy of an EKS Pod Identity role: the `pods.eks.amazonaws.com` service with
/// `sts:AssumeRole` and `sts:TagSession` (EKS user guide, "Create an IAM role for Pod Identity").
pub fn pod_identity_trust() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]
    })
    .to_string()
}

/// Plan the addons of `addons.extra` that are enabled, after `deps` (the node groups and the
/// Pod Identity agent): one addon step each, and for those that need AWS access a Pod Identity
/// role (`role/addon/<name>`) passed to CreateAddon's `podIdentityAssociations`.
pub(super) fn named_addons(
    b: &mut Builder,
    spec: &ClusterArgs,
    partition: &str,
    role_name: &dyn Fn(&str) -> String,
    boundary: Option<String>,
    deps: &[StepId],
) -> Vec<StepId> {
    let mut out = Vec::new();
    let extra = spec.addons.as_ref().and_then(|a| a.extra.as_ref());
    for a in extra.into_iter().flatten().filter(|a| a.enabled.unwrap_or(true)) {
        let mut addon_deps = deps.to_vec();
        let mut pod_identities = Vec::new();
        if let Some(access) = addon_access(&a.name) {
            let role = b.add(
                format!("role/addon/{}", a.name),
                Action::Role {
                    name: role_name(&format!("addon-{}", a.name)),
                    trust_policy: pod_identity_trust(),
                    managed_policies: access.policies.iter().map(|p| format!("arn:{partition}:iam::aws:policy/{p}")).collect(),
                    inline_policy: None,
                    permissions_boundary: boundary.clone(),
                },
                vec![],
            );
            pod_identities.push((access.service_account.to_string(), role.clone()));
            addon_deps.push(role);
        }
        out.push(b.add(
            format!("addon/{}", a.name),
            Action::Addon {
                name: a.name.clone(),
                version: a.version.clone(),
                configuration: a.configuration.clone().map(serde_json::Value::Object).unwrap_or_else(|| json!({})),
                eni_configs: vec![],
                pod_identities,
            },
            addon_deps,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use expect_test::expect_file;

    use super::super::{plan, Step};
    use super::*;
    use crate::model::Autoname;

    fn spec(j: serde_json::Value) -> ClusterArgs {
        serde_json::from_value::<ClusterArgs>(j).unwrap().with_defaults(Autoname::Proposed("day2"), Some("us-east-1"))
    }

    #[test]
    fn daytwo_plan_snapshot() {
        let s = spec(json!({
            "kubernetesVersion": "1.34",
            "upgradePolicy": "EXTENDED",
            "deletionProtection": true,
            "addons": {"extra": [{"name": "aws-efs-csi-driver", "version": "v2.1.0-eksbuild.1"}, {"name": "metrics-server", "configuration": {"replicas": 2}}]},
            "nodeGroups": [
                {"name": "gpu", "instanceTypes": ["g5.xlarge"], "updateConfig": {"maxUnavailable": 1}, "releaseVersion": "1.34.0-20261101"},
                {"name": "inf", "instanceTypes": ["inf2.xlarge"], "nodeRepair": false},
                {"name": "brgpu", "instanceTypes": ["g5g.xlarge"], "amiFamily": "BOTTLEROCKET"}
            ]
        }));
        let p = plan(&s, "us-east-1", &BTreeMap::new()).unwrap();
        expect_file!["snapshots/daytwo.plan"].assert_eq(&p.render());
    }

    #[test]
    fn addons_that_need_aws_get_a_pod_identity_role_with_their_policies() {
        let s = spec(json!({"kubernetesVersion": "1.34", "addons": {"extra": [{"name": "amazon-cloudwatch-observability"}]}, "nodeGroups": [{"name": "g", "instanceTypes": ["m7g.large"]}]}));
        let p = plan(&s, "us-east-1", &BTreeMap::new()).unwrap();
        let Some(Step { action: Action::Role { trust_policy, managed_policies, .. }, .. }) = p.step("role/addon/amazon-cloudwatch-observability") else { panic!("no role") };
        let t: serde_json::Value = serde_json::from_str(trust_policy).unwrap();
        assert_eq!(t["Statement"][0]["Principal"]["Service"], "pods.eks.amazonaws.com");
        assert_eq!(t["Statement"][0]["Action"], json!(["sts:AssumeRole", "sts:TagSession"]));
        assert_eq!(managed_policies, &["arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy", "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"]);
        let Some(Step { action: Action::Addon { pod_identities, .. }, deps, .. }) = p.step("addon/amazon-cloudwatch-observability") else { panic!("no addon") };
        assert_eq!(pod_identities, &[("cloudwatch-agent".to_string(), "role/addon/amazon-cloudwatch-observability".to_string())]);
        assert!(deps.contains(&"nodegroup/g".to_string()) && deps.contains(&"addon/eks-pod-identity-agent".to_string()), "{deps:?}");
        // The EBS CSI driver is there by default, with its role.
        assert!(p.step("addon/aws-ebs-csi-driver").is_some() && p.step("role/addon/aws-ebs-csi-driver").is_some());
        // ... and gone when turned off.
        let off = spec(json!({"kubernetesVersion": "1.34", "addons": {"extra": [{"name": "aws-ebs-csi-driver", "enabled": false}]}, "nodeGroups": [{"name": "g", "instanceTypes": ["m7g.large"]}]}));
        let p = plan(&off, "us-east-1", &BTreeMap::new()).unwrap();
        assert!(p.step("addon/aws-ebs-csi-driver").is_none() && p.step("role/addon/aws-ebs-csi-driver").is_none());
    }

    #[test]
    fn neuron_has_no_arm64_ami() {
        assert_eq!(ami_type("1.34", AmiFamily::Al2023, Arch::Arm64, Accelerator::Neuron), None);
        assert_eq!(ami_type("1.34", AmiFamily::Bottlerocket, Arch::X86_64, Accelerator::Neuron), None);
        assert_eq!(ami_type("1.34", AmiFamily::Al2023, Arch::X86_64, Accelerator::Neuron).unwrap().0, "AL2023_x86_64_NEURON");
    }
}
