//! Import: the cluster inputs rebuilt from what AWS describes, starting from the cluster name.
//!
//! The executor gathers the facts ([`ObservedCluster`], plain values, no SDK types); this module
//! turns them into the inputs a program would have written to get that cluster, with the
//! defaults filled in as Check fills them. Pure.
//!
//! What it cannot see is left at the default: node `userData`, waivers, addon configuration
//! beyond the settings secure-eks itself manages, `permissionsBoundary`, and the tags of the
//! provider's `defaultTags`. The apply that follows (read-only) reports anything that still
//! differs.

use std::collections::BTreeMap;

use crate::model::{
    AccessEntry, AccessPolicy, Addon, Addons, AmiFamily, ApiAccess, Autoname, CapacityType, ClusterArgs, ClusterAutoscaler, Encryption, ExistingVpc, Logging,
    NatGateways, Network, NodeGroup, Nullable, ServiceAccountRole, Taint, TaintEffect,
};

/// The VPC of an observed cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedVpc {
    /// The VPC id.
    pub id: String,
    /// The primary CIDR.
    pub cidr: String,
    /// Created by secure-eks for this cluster (tagged `secure-eks:step=vpc`).
    pub ours: bool,
    /// Secondary CIDR blocks.
    pub secondary_cidrs: Vec<String>,
}

/// A managed node group as described.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedNodeGroup {
    /// The name.
    pub name: String,
    /// Instance types.
    pub instance_types: Vec<String>,
    /// `ON_DEMAND` or `SPOT`.
    pub capacity_type: String,
    /// Scaling: min, desired, max.
    pub scaling: (i64, i64, i64),
    /// The EKS AMI type, e.g. `AL2023_ARM_64_STANDARD`.
    pub ami_type: String,
    /// Kubernetes labels.
    pub labels: BTreeMap<String, String>,
    /// Taints: key, value, effect (`NO_SCHEDULE`, ...).
    pub taints: Vec<(String, Option<String>, String)>,
    /// From the launch template: the root volume size.
    pub disk_size_gib: Option<i64>,
    /// From the launch template: the IMDS hop limit.
    pub hop_limit: Option<i64>,
    /// From the launch template: a pinned AMI id (only when the node group's AMI type is CUSTOM).
    pub ami_id: Option<String>,
    /// The update budget (maxUnavailable, maxUnavailablePercentage), when described.
    pub update_config: Option<(Option<i64>, Option<i64>)>,
    /// Node auto repair, when described.
    pub node_repair: Option<bool>,
}

/// Everything import reads about one cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedCluster {
    /// The EKS cluster name (the resource id).
    pub name: String,
    /// The Kubernetes version.
    pub version: String,
    /// Endpoint access.
    pub private_access: bool,
    /// Endpoint access.
    pub public_access: bool,
    /// Public access CIDRs.
    pub public_cidrs: Vec<String>,
    /// Enabled control-plane log types.
    pub log_types: Vec<String>,
    /// The log group's retention.
    pub log_retention_days: Option<i64>,
    /// The secrets-encryption key, and whether secure-eks created it for this cluster.
    pub kms_key: Option<(String, bool)>,
    /// The cluster's tags (the `secure-eks:*` ones included).
    pub tags: BTreeMap<String, String>,
    /// The VPC.
    pub vpc: ObservedVpc,
    /// The cluster's subnets with their AZ, and the `secure-eks:step` tag when secure-eks made them.
    pub cluster_subnets: Vec<(String, String, Option<String>)>,
    /// Pod subnets secure-eks created (`subnet/pod/<az>`), by id.
    pub pod_subnets: Vec<String>,
    /// NAT gateways secure-eks created.
    pub nat_gateways: usize,
    /// Interface endpoint services secure-eks created (`ec2`, `ecr.api`, ...).
    pub endpoint_services: Vec<String>,
    /// vpc-cni configuration values (JSON), when the addon is installed.
    pub vpc_cni_configuration: Option<serde_json::Value>,
    /// Addon versions by EKS addon name, for the addons whose version is not AWS's default for
    /// the cluster version.
    pub pinned_addons: BTreeMap<String, String>,
    /// Node groups.
    pub node_groups: Vec<ObservedNodeGroup>,
    /// The autoscaler role exists.
    pub autoscaler_role: bool,
    /// Service-account roles: namespace, name, managed policy ARNs, inline policy.
    pub service_account_roles: Vec<(String, String, Vec<String>, Option<String>)>,
    /// Access entries: principal ARN, access policy ARN, namespaces (empty: cluster-wide).
    pub access_entries: Vec<(String, String, Vec<String>)>,
    /// The deployer's cluster-admin entry (tagged `secure-eks:step=access/deployer`), which is
    /// `deployerAdmin`, not one of `access_entries`.
    pub deployer_entry: Option<String>,
    /// The day-two settings AWS reports (`None`: not read).
    pub daytwo: Option<ObservedDayTwo>,
}

/// The day-two settings of an observed cluster (issue #14).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedDayTwo {
    /// `upgradePolicy.supportType`.
    pub support_type: Option<String>,
    /// `zonalShiftConfig.enabled`.
    pub zonal_shift: Option<bool>,
    /// `deletionProtection`.
    pub deletion_protection: Option<bool>,
    /// EKS Auto Mode's node pools, when Auto Mode is on.
    pub auto_mode_node_pools: Option<Vec<String>>,
    /// Every addon installed, by name.
    pub addons: Vec<String>,
}

fn taint_effect(e: &str) -> TaintEffect {
    match e {
        "NO_EXECUTE" => TaintEffect::NoExecute,
        "PREFER_NO_SCHEDULE" => TaintEffect::PreferNoSchedule,
        _ => TaintEffect::NoSchedule,
    }
}

fn access_policy(arn: &str) -> AccessPolicy {
    match arn.rsplit('/').next().unwrap_or_default() {
        "AmazonEKSClusterAdminPolicy" => AccessPolicy::ClusterAdmin,
        "AmazonEKSAdminPolicy" => AccessPolicy::Admin,
        "AmazonEKSEditPolicy" => AccessPolicy::Edit,
        _ => AccessPolicy::View,
    }
}

fn is_true(v: Option<&serde_json::Value>) -> Option<bool> {
    v.and_then(|v| v.as_str().map(|s| s == "true").or_else(|| v.as_bool()))
}

/// The checked inputs of the observed cluster (defaults filled as Check fills them).
pub fn inputs_from(o: &ObservedCluster, region: &str) -> ClusterArgs {
    let mut azs: Vec<String> = o.cluster_subnets.iter().map(|(_, az, _)| az.clone()).collect();
    azs.sort();
    azs.dedup();
    let cni = o.vpc_cni_configuration.as_ref();
    let env = cni.and_then(|c| c.get("env"));
    let custom = is_true(env.and_then(|e| e.get("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"))).unwrap_or(false);
    let pod_cidr = match (custom, o.vpc.secondary_cidrs.first()) {
        (true, Some(c)) if !o.pod_subnets.is_empty() => Nullable::Value(c.clone()),
        (false, _) => Nullable::Null,
        _ => Nullable::Absent,
    };
    let mut network = Network {
        availability_zones: Some(azs),
        pod_cidr,
        prefix_delegation: is_true(env.and_then(|e| e.get("ENABLE_PREFIX_DELEGATION"))).or(cni.map(|_| false)),
        network_policy: is_true(cni.and_then(|c| c.get("enableNetworkPolicy"))),
        nat_gateways: Some(match o.nat_gateways {
            0 => NatGateways::None,
            1 => NatGateways::Single,
            _ => NatGateways::PerAz,
        }),
        ..Default::default()
    };
    if o.vpc.ours {
        network.vpc_cidr = Some(o.vpc.cidr.clone());
    } else {
        network.existing_vpc = Some(ExistingVpc {
            vpc_id: o.vpc.id.clone(),
            node_subnet_ids: o.cluster_subnets.iter().map(|(id, _, _)| id.clone()).collect(),
            pod_subnet_ids: None,
            endpoint_subnet_ids: None,
        });
    }
    let autoscaler = o.autoscaler_role;
    // The S3 gateway endpoint comes with the route tables, not from the service list.
    let planned = super::endpoint_services(autoscaler, &[]);
    let mut extra: Vec<String> = o.endpoint_services.iter().filter(|s| s.as_str() != "s3" && !planned.contains(s)).cloned().collect();
    extra.sort();
    extra.dedup();
    network.extra_endpoints = (!extra.is_empty()).then_some(extra);

    let addon = |name: &str| o.pinned_addons.get(name).map(|v| Addon { version: Some(v.clone()), configuration: None });
    let addons = Addons { vpc_cni: addon("vpc-cni"), kube_proxy: addon("kube-proxy"), core_dns: addon("coredns"), pod_identity_agent: addon("eks-pod-identity-agent"), ..Default::default() };
    let tags: BTreeMap<String, String> = o.tags.iter().filter(|(k, _)| !k.starts_with("secure-eks:") && !k.starts_with("aws:")).map(|(k, v)| (k.clone(), v.clone())).collect();
    let node_groups = o
        .node_groups
        .iter()
        .map(|g| NodeGroup {
            name: g.name.clone(),
            instance_types: g.instance_types.clone(),
            capacity_type: Some(if g.capacity_type == "SPOT" { CapacityType::Spot } else { CapacityType::OnDemand }),
            min_size: Some(g.scaling.0),
            desired_size: Some(g.scaling.1),
            max_size: Some(g.scaling.2),
            ami_family: Some(if g.ami_type.starts_with("BOTTLEROCKET") { AmiFamily::Bottlerocket } else { AmiFamily::Al2023 }),
            ami_id: g.ami_id.clone(),
            disk_size_gib: g.disk_size_gib,
            labels: (!g.labels.is_empty()).then(|| g.labels.clone()),
            taints: (!g.taints.is_empty()).then(|| g.taints.iter().map(|(k, v, e)| Taint { key: k.clone(), value: v.clone(), effect: taint_effect(e) }).collect()),
            imds_hop_limit: g.hop_limit,
            user_data: None,
            update_config: g.update_config.map(|(n, p)| crate::model::NodeGroupUpdateConfig { max_unavailable: n, max_unavailable_percentage: p }),
            node_repair: g.node_repair,
            ..Default::default()
        })
        .collect();
    let mut addons = addons;
    let daytwo = o.daytwo.as_ref();
    if let Some(d) = daytwo {
        // Every addon beyond the core four, by name; the EBS CSI driver (on by default) off
        // when the cluster does not have it, so import never creates it.
        const CORE: [&str; 4] = ["vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent"];
        let mut extra: Vec<crate::model::NamedAddon> = d
            .addons
            .iter()
            .filter(|a| !CORE.contains(&a.as_str()))
            .map(|a| crate::model::NamedAddon { name: a.clone(), version: o.pinned_addons.get(a).cloned(), ..Default::default() })
            .collect();
        if d.auto_mode_node_pools.is_none() && !d.addons.iter().any(|a| a == crate::model::EBS_CSI_DRIVER) {
            extra.push(crate::model::NamedAddon { name: crate::model::EBS_CSI_DRIVER.into(), enabled: Some(false), ..Default::default() });
        }
        addons.extra = (!extra.is_empty()).then_some(extra);
    }
    let args = ClusterArgs {
        upgrade_policy: daytwo.and_then(|d| d.support_type.as_deref()).map(|t| if t == "EXTENDED" { crate::model::SupportType::Extended } else { crate::model::SupportType::Standard }),
        zonal_shift: daytwo.and_then(|d| d.zonal_shift),
        deletion_protection: daytwo.and_then(|d| d.deletion_protection),
        auto_mode: daytwo
            .and_then(|d| d.auto_mode_node_pools.clone())
            .map(|pools| crate::model::AutoMode { enabled: Some(true), node_pools: Some(pools) }),
        cluster_name: Some(o.name.clone()),
        kubernetes_version: Some(o.version.clone()),
        network: Some(network),
        api_access: Some(ApiAccess {
            private: Some(o.private_access),
            public: Some(o.public_access),
            public_cidrs: (o.public_access && !o.public_cidrs.iter().all(|c| c == "0.0.0.0/0")).then(|| o.public_cidrs.clone()),
        }),
        encryption: Some(Encryption { kms_key_arn: o.kms_key.as_ref().filter(|(_, ours)| !ours).map(|(arn, _)| arn.clone()) }),
        logging: Some(Logging { types: Some(o.log_types.clone()), retention_days: o.log_retention_days }),
        node_groups: Some(node_groups),
        addons: (addons != Addons::default()).then_some(addons),
        service_account_roles: (!o.service_account_roles.is_empty()).then(|| {
            o.service_account_roles
                .iter()
                .map(|(ns, name, policies, inline)| ServiceAccountRole {
                    namespace: ns.clone(),
                    name: name.clone(),
                    policy_arns: (!policies.is_empty()).then(|| policies.clone()),
                    inline_policy: inline.clone(),
                })
                .collect()
        }),
        cluster_autoscaler: Some(ClusterAutoscaler { enabled: Some(autoscaler), ..Default::default() }),
        access_entries: (!o.access_entries.is_empty()).then(|| {
            o.access_entries
                .iter()
                .map(|(p, policy, ns)| AccessEntry { principal_arn: p.clone(), access_policy: access_policy(policy), namespaces: (!ns.is_empty()).then(|| ns.clone()) })
                .collect()
        }),
        // The deployer's entry secure-eks made is `deployerAdmin`; without one, import adds no
        // access (the entries found are `accessEntries` above).
        deployer_admin: Some(crate::model::DeployerAdmin { enabled: Some(o.deployer_entry.is_some()), principal_arn: o.deployer_entry.clone() }),
        permissions_boundary: None,
        tags: (!tags.is_empty()).then_some(tags),
        policy: None,
    };
    args.with_defaults(Autoname::Disabled, Some(region))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::plan;

    fn observed() -> ObservedCluster {
        ObservedCluster {
            name: "prod".into(),
            version: "1.34".into(),
            private_access: true,
            public_access: false,
            log_types: vec!["api".into(), "audit".into(), "authenticator".into(), "controllerManager".into(), "scheduler".into()],
            log_retention_days: Some(90),
            kms_key: Some(("arn:aws:kms:us-east-1:123456789012:key/k".into(), true)),
            tags: BTreeMap::from([("secure-eks:cluster".to_string(), "prod".to_string()), ("team".to_string(), "platform".to_string())]),
            vpc: ObservedVpc { id: "vpc-1".into(), cidr: "10.0.0.0/16".into(), ours: true, secondary_cidrs: vec!["100.64.0.0/16".into()] },
            cluster_subnets: ["a", "b", "c"].iter().map(|z| (format!("subnet-{z}"), format!("us-east-1{z}"), Some(format!("subnet/node/us-east-1{z}")))).collect(),
            pod_subnets: vec!["subnet-p".into()],
            endpoint_services: ["autoscaling", "ec2", "ecr.api", "ecr.dkr", "eks", "eks-auth", "logs", "sts", "s3", "ssm"].iter().map(|s| s.to_string()).collect(),
            vpc_cni_configuration: Some(serde_json::json!({"env": {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true", "ENABLE_PREFIX_DELEGATION": "true"}, "enableNetworkPolicy": "true"})),
            node_groups: vec![ObservedNodeGroup {
                name: "general".into(),
                instance_types: vec!["m7g.large".into()],
                capacity_type: "ON_DEMAND".into(),
                scaling: (1, 2, 3),
                ami_type: "AL2023_ARM_64_STANDARD".into(),
                disk_size_gib: Some(50),
                hop_limit: Some(2),
                ..Default::default()
            }],
            autoscaler_role: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_default_cluster_imports_as_the_program_that_made_it() {
        let got = inputs_from(&observed(), "us-east-1");
        let j = serde_json::json!({
            "clusterName": "prod", "kubernetesVersion": "1.34", "tags": {"team": "platform"},
            "network": {"extraEndpoints": ["ssm"]},
            "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large"]}],
            // Import adds no access: the entries it found are its accessEntries.
            "deployerAdmin": {"enabled": false}
        });
        let want = serde_json::from_value::<ClusterArgs>(j).expect("spec").with_defaults(Autoname::Disabled, Some("us-east-1"));
        assert_eq!(serde_json::to_value(&got).expect("json"), serde_json::to_value(&want).expect("json"));
        // And it plans.
        assert!(plan(&got, "us-east-1", &BTreeMap::new()).is_ok());
    }

    #[test]
    fn a_foreign_vpc_key_and_public_cidrs_are_kept() {
        let mut o = observed();
        o.vpc.ours = false;
        o.kms_key = Some(("arn:aws:kms:us-east-1:123456789012:key/theirs".into(), false));
        o.public_access = true;
        o.public_cidrs = vec!["203.0.113.0/24".into()];
        o.access_entries = vec![("arn:aws:iam::123456789012:role/admin".into(), "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".into(), vec![])];
        let got = inputs_from(&o, "us-east-1");
        let net = got.network.clone().unwrap_or_default();
        assert_eq!(net.existing_vpc.map(|e| e.node_subnet_ids.len()), Some(3));
        assert_eq!(got.encryption.and_then(|e| e.kms_key_arn).as_deref(), Some("arn:aws:kms:us-east-1:123456789012:key/theirs"));
        assert_eq!(got.api_access.and_then(|a| a.public_cidrs), Some(vec!["203.0.113.0/24".to_string()]));
        assert_eq!(got.access_entries.map(|e| e[0].access_policy), Some(AccessPolicy::ClusterAdmin));
    }

    #[test]
    fn day_two_settings_and_addons_import_as_observed() {
        let mut o = observed();
        o.daytwo = Some(ObservedDayTwo {
            support_type: Some("EXTENDED".into()),
            zonal_shift: Some(false),
            deletion_protection: Some(true),
            auto_mode_node_pools: None,
            addons: vec!["vpc-cni".into(), "metrics-server".into()],
        });
        o.node_groups[0].update_config = Some((Some(1), None));
        o.node_groups[0].node_repair = Some(false);
        let got = inputs_from(&o, "us-east-1");
        assert_eq!((got.upgrade_policy, got.zonal_shift, got.deletion_protection), (Some(crate::model::SupportType::Extended), Some(false), Some(true)));
        let extra: Vec<(String, Option<bool>)> = got.addons.as_ref().and_then(|a| a.extra.clone()).unwrap_or_default().into_iter().map(|a| (a.name, a.enabled)).collect();
        // The cluster has no EBS CSI driver: import turns it off rather than creating it.
        assert_eq!(extra, [("metrics-server".to_string(), Some(true)), ("aws-ebs-csi-driver".to_string(), Some(false))]);
        let ng = &got.node_groups.as_ref().unwrap()[0];
        assert_eq!((ng.update_config.as_ref().and_then(|u| u.max_unavailable), ng.node_repair), (Some(1), Some(false)));
        // Auto Mode comes back as autoMode.
        o.daytwo.as_mut().unwrap().auto_mode_node_pools = Some(vec!["system".into()]);
        let auto = inputs_from(&o, "us-east-1");
        assert_eq!(auto.auto_mode.and_then(|a| a.node_pools), Some(vec!["system".to_string()]));
    }
}
