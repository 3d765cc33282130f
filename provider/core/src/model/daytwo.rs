//! Day-two inputs (issue #14): the upgrade policy, deletion protection, zonal shift, any EKS
//! addon by name, and the managed node group controls (update config, auto repair, accelerated
//! AMIs, the pinned AMI release).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ClusterArgs;

/// The default `maxUnavailablePercentage` of a node group update.
pub const DEFAULT_MAX_UNAVAILABLE_PERCENTAGE: i64 = 33;

/// The EBS CSI driver, on by default: without it no PersistentVolumeClaim can bind.
pub const EBS_CSI_DRIVER: &str = "aws-ebs-csi-driver";

/// Which Kubernetes version support a cluster gets once standard support ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
pub enum SupportType {
    /// Standard support (14 months per minor version); the cluster is upgraded automatically at
    /// its end. No extra charge.
    #[default]
    #[serde(rename = "STANDARD")]
    Standard,
    /// Extended support (12 more months), billed per cluster hour.
    #[serde(rename = "EXTENDED")]
    Extended,
}

impl SupportType {
    /// The EKS API value.
    pub fn as_str(self) -> &'static str {
        match self {
            SupportType::Standard => "STANDARD",
            SupportType::Extended => "EXTENDED",
        }
    }
}

/// How many nodes a node group update may take down at once: exactly one of the two.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeGroupUpdateConfig {
    /// At most this many nodes unavailable during an update (1 to 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<i64>,
    /// At most this percentage of nodes unavailable during an update (1 to 100; default 33).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable_percentage: Option<i64>,
}

/// The accelerator a node group's AMI supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Accelerator {
    /// The standard AMI (no GPU driver).
    #[serde(rename = "none")]
    None,
    /// The NVIDIA AMI variant (GPU instance families such as g5, g6, p4d, p5).
    #[serde(rename = "nvidia")]
    Nvidia,
    /// The AWS Neuron AMI variant (Inferentia and Trainium: inf1, inf2, trn1, trn2); AL2023 x86_64 only.
    #[serde(rename = "neuron")]
    Neuron,
}

impl Accelerator {
    /// The accelerator an instance type carries, from its family (`g5.xlarge` → NVIDIA).
    /// AMD (g4ad) and Gaudi (dl1) families have no EKS AMI variant: `None`.
    pub fn of_instance_type(instance_type: &str) -> Accelerator {
        let family = instance_type.split('.').next().unwrap_or_default();
        const NVIDIA: [&str; 14] = ["p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "g4dn", "g5", "g5g", "g6", "g6e", "gr6"];
        const NEURON: [&str; 5] = ["inf1", "inf2", "trn1", "trn1n", "trn2"];
        if NVIDIA.contains(&family) || family == "g6f" || family == "p6e-gb200" {
            Accelerator::Nvidia
        } else if NEURON.contains(&family) {
            Accelerator::Neuron
        } else {
            Accelerator::None
        }
    }

    /// The accelerator of a node group's instance types: the first type's (SEKS-NODE-031 refuses
    /// mixed groups).
    pub fn of_instance_types(types: &[String]) -> Accelerator {
        types.first().map_or(Accelerator::None, |t| Accelerator::of_instance_type(t))
    }

    /// The input value.
    pub fn as_str(self) -> &'static str {
        match self {
            Accelerator::None => "none",
            Accelerator::Nvidia => "nvidia",
            Accelerator::Neuron => "neuron",
        }
    }
}

/// An EKS addon by name, beyond the core four.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedAddon {
    /// The EKS addon name, e.g. `aws-ebs-csi-driver`, `aws-efs-csi-driver`,
    /// `amazon-cloudwatch-observability`, `eks-node-monitoring-agent`, `snapshot-controller`,
    /// `metrics-server`. Checked against DescribeAddonVersions at preview.
    pub name: String,
    /// Install it (default true). `false` turns off an addon that is on by default
    /// (`aws-ebs-csi-driver`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The addon version. Defaults to the AWS default for the cluster version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Configuration values (see DescribeAddonConfiguration for the addon's schema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The AWS access an addon needs: its service account and the AWS managed policies of the EKS
/// Pod Identity role the provider creates for it (EKS user guide, "Retrieve IAM information
/// about an Amazon EKS add-on" and the add-on pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddonAccess {
    /// The service account's namespace.
    pub namespace: &'static str,
    /// The service account.
    pub service_account: &'static str,
    /// Managed policy names under `arn:<partition>:iam::aws:policy/`.
    pub policies: &'static [&'static str],
}

/// The Pod Identity role an addon needs, if it needs AWS access.
pub fn addon_access(name: &str) -> Option<AddonAccess> {
    Some(match name {
        "aws-ebs-csi-driver" => AddonAccess { namespace: "kube-system", service_account: "ebs-csi-controller-sa", policies: &["service-role/AmazonEBSCSIDriverPolicy"] },
        "aws-efs-csi-driver" => AddonAccess { namespace: "kube-system", service_account: "efs-csi-controller-sa", policies: &["service-role/AmazonEFSCSIDriverPolicy"] },
        "amazon-cloudwatch-observability" => {
            AddonAccess { namespace: "amazon-cloudwatch", service_account: "cloudwatch-agent", policies: &["CloudWatchAgentServerPolicy", "AWSXrayWriteOnlyAccess"] }
        }
        _ => return None,
    })
}

impl ClusterArgs {
    /// The day-two defaults: `STANDARD` support, no deletion protection, zonal shift on for a
    /// multi-AZ cluster, the EBS CSI driver, and per node group a 33% update budget, auto repair
    /// and the AMI variant of its instance family.
    pub(super) fn with_daytwo_defaults(mut self) -> Self {
        // Auto Mode runs block storage itself: no EBS CSI driver addon by default.
        let auto = self.auto_mode.as_ref().and_then(|a| a.enabled).unwrap_or(false);
        self.upgrade_policy.get_or_insert(SupportType::Standard);
        self.deletion_protection.get_or_insert(false);
        let zones = self.network.as_ref().and_then(|n| n.availability_zones.as_ref()).map(Vec::len);
        // Zonal shift moves traffic away from an impaired zone: it needs a second zone.
        self.zonal_shift.get_or_insert(zones.is_none_or(|n| n >= 2));
        let addons = self.addons.get_or_insert_with(Default::default);
        let extra = addons.extra.get_or_insert_with(Vec::new);
        // Appended, so the user's entries keep their indices (the paths of Check failures).
        if !auto && !extra.iter().any(|a| a.name == EBS_CSI_DRIVER) {
            extra.push(NamedAddon { name: EBS_CSI_DRIVER.into(), ..Default::default() });
        }
        for a in extra.iter_mut() {
            a.enabled.get_or_insert(true);
        }
        for ng in self.node_groups.iter_mut().flatten() {
            let uc = ng.update_config.get_or_insert_with(Default::default);
            if uc.max_unavailable.is_none() && uc.max_unavailable_percentage.is_none() {
                uc.max_unavailable_percentage = Some(DEFAULT_MAX_UNAVAILABLE_PERCENTAGE);
            }
            ng.node_repair.get_or_insert(true);
            if ng.accelerator.is_none() {
                ng.accelerator = Some(Accelerator::of_instance_types(&ng.instance_types));
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Autoname;

    fn spec(j: serde_json::Value) -> ClusterArgs {
        serde_json::from_value::<ClusterArgs>(j).unwrap().with_defaults(Autoname::Proposed("d"), Some("us-east-1"))
    }

    #[test]
    fn defaults_are_standard_support_zonal_shift_ebs_csi_and_node_controls() {
        let s = spec(serde_json::json!({"kubernetesVersion": "1.34", "nodeGroups": [{"name": "gpu", "instanceTypes": ["g5.xlarge"]}]}));
        assert_eq!(s.upgrade_policy, Some(SupportType::Standard));
        assert_eq!(s.deletion_protection, Some(false));
        assert_eq!(s.zonal_shift, Some(true));
        let extra = s.addons.as_ref().unwrap().extra.as_ref().unwrap();
        assert_eq!((extra[0].name.as_str(), extra[0].enabled), (EBS_CSI_DRIVER, Some(true)));
        let user = spec(serde_json::json!({"kubernetesVersion": "1.34", "addons": {"extra": [{"name": "metrics-server"}]}}));
        let names: Vec<&str> = user.addons.as_ref().unwrap().extra.iter().flatten().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["metrics-server", EBS_CSI_DRIVER]);
        let ng = &s.node_groups.as_ref().unwrap()[0];
        assert_eq!(ng.update_config.as_ref().unwrap().max_unavailable_percentage, Some(33));
        assert_eq!(ng.node_repair, Some(true));
        assert_eq!(ng.accelerator, Some(Accelerator::Nvidia));
    }

    #[test]
    fn explicit_choices_are_kept() {
        let s = spec(serde_json::json!({
            "kubernetesVersion": "1.34", "zonalShift": false, "upgradePolicy": "EXTENDED",
            "network": {"availabilityZones": ["us-east-1a"]},
            "addons": {"extra": [{"name": "aws-ebs-csi-driver", "enabled": false}, {"name": "metrics-server"}]},
            "nodeGroups": [{"name": "g", "instanceTypes": ["m7i.large"], "updateConfig": {"maxUnavailable": 2}, "nodeRepair": false}]
        }));
        assert_eq!((s.upgrade_policy, s.zonal_shift), (Some(SupportType::Extended), Some(false)));
        let extra = s.addons.as_ref().unwrap().extra.as_ref().unwrap();
        assert_eq!(extra.len(), 2);
        assert_eq!(extra[0].enabled, Some(false));
        let ng = &s.node_groups.as_ref().unwrap()[0];
        assert_eq!(ng.update_config, Some(NodeGroupUpdateConfig { max_unavailable: Some(2), max_unavailable_percentage: None }));
        assert_eq!((ng.node_repair, ng.accelerator), (Some(false), Some(Accelerator::None)));
        // One zone: no zonal shift by default.
        let one = spec(serde_json::json!({"kubernetesVersion": "1.34", "network": {"availabilityZones": ["us-east-1a"]}}));
        assert_eq!(one.zonal_shift, Some(false));
    }

    #[test]
    fn accelerators_come_from_the_instance_family() {
        assert_eq!(Accelerator::of_instance_type("p5.48xlarge"), Accelerator::Nvidia);
        assert_eq!(Accelerator::of_instance_type("g5g.xlarge"), Accelerator::Nvidia);
        assert_eq!(Accelerator::of_instance_type("inf2.xlarge"), Accelerator::Neuron);
        assert_eq!(Accelerator::of_instance_type("trn1.32xlarge"), Accelerator::Neuron);
        assert_eq!(Accelerator::of_instance_type("g4ad.xlarge"), Accelerator::None);
        assert_eq!(Accelerator::of_instance_type("m7g.large"), Accelerator::None);
    }
}
