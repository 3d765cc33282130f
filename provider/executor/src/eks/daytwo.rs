//! Day-two controls (issue #14): the cluster's support policy, zonal shift and deletion
//! protection (CreateCluster, then UpdateClusterConfig one kind at a time); the destroy
//! preflight that refuses a protected cluster before anything is deleted; node group update
//! budgets and auto repair (CreateNodegroup, UpdateNodegroupConfig); addon Pod Identity
//! associations (CreateAddon `podIdentityAssociations`).

use aws_sdk_eks::types::{AddonPodIdentityAssociations, NodeRepairConfig, NodegroupUpdateConfig, SupportType, UpgradePolicyRequest, ZonalShiftConfigRequest};
use secure_eks_core::plan::{ClusterSettings, NodeGroupControls, StepOutputs};

use super::*;

/// `extra` keys of the cluster output.
pub(crate) mod keys {
    /// `upgradePolicy.supportType`.
    pub const SUPPORT_TYPE: &str = "supportType";
    /// `zonalShiftConfig.enabled`, `true`/`false`.
    pub const ZONAL_SHIFT: &str = "zonalShift";
    /// `deletionProtection`, `true`/`false`.
    pub const DELETION_PROTECTION: &str = "deletionProtection";
    /// Node group: `updateConfig.maxUnavailable`.
    pub const MAX_UNAVAILABLE: &str = "maxUnavailable";
    /// Node group: `updateConfig.maxUnavailablePercentage`.
    pub const MAX_UNAVAILABLE_PERCENTAGE: &str = "maxUnavailablePercentage";
    /// Node group: `nodeRepairConfig.enabled`.
    pub const NODE_REPAIR: &str = "nodeRepair";
    /// Cluster: EKS Auto Mode (`computeConfig.enabled`), `true`/`false`.
    pub const AUTO_MODE: &str = "autoMode";
    /// Node group: the EKS AMI type.
    pub const AMI_TYPE: &str = "amiType";
}

pub(super) fn upgrade_policy(s: &ClusterSettings) -> UpgradePolicyRequest {
    UpgradePolicyRequest::builder().support_type(SupportType::from(s.support_type.as_str())).build()
}

pub(super) fn zonal_shift(s: &ClusterSettings) -> ZonalShiftConfigRequest {
    ZonalShiftConfigRequest::builder().enabled(s.zonal_shift).build()
}

/// What DescribeCluster says about the day-two settings, into the cluster output.
pub(super) fn record_cluster_settings(c: &aws_sdk_eks::types::Cluster, o: &mut StepOutput) {
    if let Some(t) = c.upgrade_policy().and_then(|u| u.support_type()) {
        o.extra.insert(keys::SUPPORT_TYPE.into(), t.as_str().to_string());
    }
    if let Some(z) = c.zonal_shift_config().and_then(|z| z.enabled()) {
        o.extra.insert(keys::ZONAL_SHIFT.into(), z.to_string());
    }
    if let Some(d) = c.deletion_protection() {
        o.extra.insert(keys::DELETION_PROTECTION.into(), d.to_string());
    }
    if let Some(a) = c.compute_config().and_then(|a| a.enabled()) {
        o.extra.insert(keys::AUTO_MODE.into(), a.to_string());
    }
}

/// Bring an adopted, ACTIVE cluster's support policy, zonal shift and deletion protection to the
/// plan: one UpdateClusterConfig per kind (EKS allows one kind of update per call), each waited
/// for. Settings AWS does not report are left alone.
pub(super) async fn converge_cluster_settings(ctx: &Ctx, step: &Step, ca: &ClusterAction, c: aws_sdk_eks::types::Cluster) -> Result<(), StepError> {
    let name = ca.name.as_str();
    let s = &ca.settings;
    let mut c = c;
    if c.upgrade_policy().and_then(|u| u.support_type()).is_some_and(|t| t.as_str() != s.support_type) {
        ctx.say(format!("{}: changing the upgrade policy of cluster {name} to {}", step.id, s.support_type));
        let o = ctx.eks.update_cluster_config().name(name).upgrade_policy(upgrade_policy(s)).send().await.map_err(aws_err)?;
        c = settle_cluster(ctx, step, name, o.update(), &format!("the upgrade policy update of cluster {name}")).await?;
    }
    if c.zonal_shift_config().and_then(|z| z.enabled()).unwrap_or(false) != s.zonal_shift {
        ctx.say(format!("{}: turning zonal shift of cluster {name} {}", step.id, if s.zonal_shift { "on" } else { "off" }));
        let o = ctx.eks.update_cluster_config().name(name).zonal_shift_config(zonal_shift(s)).send().await.map_err(aws_err)?;
        c = settle_cluster(ctx, step, name, o.update(), &format!("the zonal shift update of cluster {name}")).await?;
    }
    if c.deletion_protection().unwrap_or(false) != s.deletion_protection {
        ctx.say(format!("{}: turning deletion protection of cluster {name} {}", step.id, if s.deletion_protection { "on" } else { "off" }));
        let o = ctx.eks.update_cluster_config().name(name).deletion_protection(s.deletion_protection).send().await.map_err(aws_err)?;
        settle_cluster(ctx, step, name, o.update(), &format!("the deletion protection update of cluster {name}")).await?;
    }
    Ok(())
}

/// The destroy preflight: a recorded cluster that AWS reports with deletion protection on stops
/// the destroy before anything is deleted (DeleteCluster would refuse it only at the end, after
/// the node groups, addons and roles were gone). The message says how to turn it off.
pub(crate) async fn deletion_protected(ctx: &Ctx, outputs: &StepOutputs) -> Result<Option<String>, StepError> {
    let Some(o) = outputs.get("cluster") else { return Ok(None) };
    let Some(c) = describe_cluster(ctx, &o.id).await? else { return Ok(None) };
    // A cluster still CREATING or FAILED can be deleted despite the flag (EKS user guide,
    // "Protect EKS clusters from accidental deletion").
    if c.deletion_protection() == Some(true) && c.status() == Some(&ClusterStatus::Active) {
        return Ok(Some(format!(
            "cluster {}: deletion protection is on, so nothing was deleted. To delete the cluster, set `deletionProtection: false` in the program, run `pulumi up`, then run `pulumi destroy` again",
            o.id
        )));
    }
    Ok(None)
}

pub(super) fn update_config(c: &NodeGroupControls) -> Result<NodegroupUpdateConfig, StepError> {
    Ok(NodegroupUpdateConfig::builder()
        .set_max_unavailable(c.max_unavailable.map(|v| int(v, "maxUnavailable")).transpose()?)
        .set_max_unavailable_percentage(c.max_unavailable_percentage.map(|v| int(v, "maxUnavailablePercentage")).transpose()?)
        .build())
}

pub(super) fn node_repair(c: &NodeGroupControls) -> NodeRepairConfig {
    NodeRepairConfig::builder().enabled(c.node_repair).build()
}

/// What DescribeNodegroup says about the update budget, auto repair and AMI type.
pub(super) fn record_nodegroup_controls(n: &aws_sdk_eks::types::Nodegroup, mut o: StepOutput) -> StepOutput {
    if let Some(u) = n.update_config() {
        if let Some(v) = u.max_unavailable() {
            o.extra.insert(keys::MAX_UNAVAILABLE.into(), v.to_string());
        }
        if let Some(v) = u.max_unavailable_percentage() {
            o.extra.insert(keys::MAX_UNAVAILABLE_PERCENTAGE.into(), v.to_string());
        }
    }
    if let Some(r) = n.node_repair_config().and_then(|r| r.enabled()) {
        o.extra.insert(keys::NODE_REPAIR.into(), r.to_string());
    }
    if let Some(t) = n.ami_type() {
        o.extra.insert(keys::AMI_TYPE.into(), t.as_str().to_string());
    }
    o
}

/// Bring an adopted, ACTIVE node group's update budget and auto repair to the plan
/// (UpdateNodegroupConfig). Returns whether an update was made.
pub(super) async fn converge_nodegroup_controls(ctx: &Ctx, step: &Step, ng: &NodeGroupAction, cluster: &str, n: &aws_sdk_eks::types::Nodegroup) -> Result<bool, StepError> {
    let name = ng.name.as_str();
    let c = &ng.controls;
    let have = n.update_config();
    let budget_differs = have.is_some_and(|u| {
        u.max_unavailable().map(i64::from) != c.max_unavailable || u.max_unavailable_percentage().map(i64::from) != c.max_unavailable_percentage
    });
    let repair_differs = n.node_repair_config().and_then(|r| r.enabled()).unwrap_or(false) != c.node_repair;
    if !budget_differs && !repair_differs {
        return Ok(false);
    }
    let mut what = Vec::new();
    if budget_differs {
        what.push(match (c.max_unavailable, c.max_unavailable_percentage) {
            (Some(v), _) => format!("at most {v} nodes unavailable during updates"),
            (_, Some(p)) => format!("at most {p}% of nodes unavailable during updates"),
            _ => "the default update budget".to_string(),
        });
    }
    if repair_differs {
        what.push(format!("node auto repair {}", if c.node_repair { "on" } else { "off" }));
    }
    ctx.say(format!("{}: updating node group {name}: {}", step.id, what.join(", ")));
    let o = ctx
        .eks
        .update_nodegroup_config()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .set_update_config(budget_differs.then(|| update_config(c)).transpose()?)
        .set_node_repair_config(repair_differs.then(|| node_repair(c)))
        .send()
        .await
        .map_err(aws_err)?;
    settle_nodegroup(ctx, cluster, name, o.update(), &format!("the update and repair configuration of node group {name}"), NODEGROUP_UPDATE_TIMEOUT).await?;
    Ok(true)
}

/// CreateAddon's `podIdentityAssociations`: each service account with the ARN of its role step.
pub(super) fn pod_identity_associations(ctx: &Ctx, step: &Step, pod_identities: &[(String, String)]) -> Result<Option<Vec<AddonPodIdentityAssociations>>, StepError> {
    if pod_identities.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for (sa, role_step) in pod_identities {
        let arn = ctx.dep_arn(role_step, &step.id)?;
        out.push(
            AddonPodIdentityAssociations::builder()
                .service_account(sa)
                .role_arn(arn)
                .build()
                .map_err(|e| StepError::Invalid(format!("podIdentityAssociations: {e}")))?,
        );
    }
    Ok(Some(out))
}

/// EKS Auto Mode on CreateCluster: compute (the built-in node pools on the node role), block
/// storage and load balancing, all three on (EKS refuses them apart). `None`: Auto Mode is off.
pub(super) fn auto_mode(
    ctx: &Ctx,
    step: &Step,
    s: &ClusterSettings,
) -> Result<Option<(aws_sdk_eks::types::ComputeConfigRequest, aws_sdk_eks::types::StorageConfigRequest, aws_sdk_eks::types::KubernetesNetworkConfigRequest)>, StepError> {
    use aws_sdk_eks::types::{BlockStorage, ComputeConfigRequest, ElasticLoadBalancing, KubernetesNetworkConfigRequest, StorageConfigRequest};
    let Some(pools) = s.auto_mode_node_pools.as_ref() else { return Ok(None) };
    let mut compute = ComputeConfigRequest::builder().enabled(true).set_node_pools(Some(pools.clone()));
    if !pools.is_empty() {
        compute = compute.node_role_arn(ctx.dep_arn("role/node", &step.id)?);
    }
    Ok(Some((
        compute.build(),
        StorageConfigRequest::builder().block_storage(BlockStorage::builder().enabled(true).build()).build(),
        KubernetesNetworkConfigRequest::builder().elastic_load_balancing(ElasticLoadBalancing::builder().enabled(true).build()).build(),
    )))
}
