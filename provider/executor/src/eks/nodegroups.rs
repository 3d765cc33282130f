//! Managed node groups: create or adopt, converge (scaling, labels, taints, version, launch template), delete, refresh.

use super::*;


pub(super) async fn describe_nodegroup(ctx: &Ctx, cluster: &str, name: &str) -> Result<Option<aws_sdk_eks::types::Nodegroup>, StepError> {
    Ok(found(ctx.eks.describe_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await)?.and_then(|o| o.nodegroup))
}

pub(super) fn nodegroup_output(n: &aws_sdk_eks::types::Nodegroup, name: &str) -> StepOutput {
    let mut o = out_arn(name, n.nodegroup_arn().map(str::to_string));
    if let Some(r) = n.release_version().filter(|r| !r.is_empty()) {
        o = with(o, "releaseVersion", r);
    }
    if let Some(v) = n.version() {
        o = with(o, "version", v);
    }
    o = super::daytwo::record_nodegroup_controls(n, o);
    if let Some(sc) = n.scaling_config() {
        if let Some(v) = sc.min_size() {
            o = with(o, drift_keys::MIN_SIZE, v.to_string());
        }
        if let Some(v) = sc.max_size() {
            o = with(o, drift_keys::MAX_SIZE, v.to_string());
        }
    }
    o
}

pub(super) fn nodegroup_issues(n: &aws_sdk_eks::types::Nodegroup) -> String {
    health(n.health().map(|h| h.issues()).unwrap_or_default().iter().map(|i| {
        format!("{}: {}", i.code().map(|c| c.as_str()).unwrap_or_default(), i.message().unwrap_or_default())
    }))
}

pub(crate) async fn nodegroup(ctx: &Ctx, step: &Step, ng: &NodeGroupAction) -> Result<(), StepError> {
    let cluster = ctx.dep_id("cluster", &step.id).unwrap_or_else(|_| ctx.cluster().to_string());
    let name = ng.name.as_str();
    let record = |n: &aws_sdk_eks::types::Nodegroup| ctx.record(&step.id, with(nodegroup_output(n, name), EXTRA_PLANNED_DESIRED, ng.desired_size.to_string()));
    let described = describe_nodegroup(ctx, &cluster, name).await?;
    let adopted = described.is_some();
    match described {
        Some(n) => {
            match n.status() {
                Some(NodegroupStatus::CreateFailed) => {
                    return Err(StepError::Invalid(format!("node group {name} exists in state CREATE_FAILED ({})", nodegroup_issues(&n))));
                }
                Some(NodegroupStatus::Deleting) => {
                    return Err(StepError::Invalid(format!("node group {name} is being deleted; run again once it is gone")));
                }
                _ => {}
            }
            ctx.say(format!("{}: adopted node group {name}", step.id));
            // The prior record of the planned desired size stays until the group converged.
            let mut o = nodegroup_output(&n, name);
            if let Some(d) = ctx.prior(&step.id).and_then(|p| p.extra.get(EXTRA_PLANNED_DESIRED)) {
                o = with(o, EXTRA_PLANNED_DESIRED, d.clone());
            }
            ctx.record(&step.id, o);
        }
        None => {
            ctx.forget(&step.id);
            let release = match &ng.release_parameter {
                // A pinned AMI release (nodeGroups[].releaseVersion) wins over the latest.
                Some(_) if ng.controls.release_version.is_some() => ng.controls.release_version.clone(),
                Some(p) => Some(ssm::parameter(ctx, p).await?.ok_or_else(|| {
                    StepError::Invalid(format!(
                        "the SSM parameter {p} does not exist in {}: there is no {} AMI release for this Kubernetes version and architecture; choose another amiFamily, instance type or kubernetesVersion",
                        ctx.region(),
                        ng.ami_type
                    ))
                })?),
                None => None,
            };
            let lt = ctx.dep(&ng.launch_template, &step.id)?;
            let lt_version = lt.extra.get("latestVersion").cloned().unwrap_or_else(|| "$Latest".into());
            let taints = ng
                .taints
                .iter()
                .map(|(k, v, e)| Taint::builder().key(k).set_value(v.clone()).effect(TaintEffect::from(e.as_str())).build())
                .collect::<Vec<_>>();
            let mut tags = eks_tags(ctx, &step.id);
            tags.insert("k8s.io/cluster-autoscaler/enabled".into(), "true".into());
            tags.insert(format!("k8s.io/cluster-autoscaler/{}", ctx.cluster()), "owned".into());
            let subnets = subnet_ids(ctx, &ng.subnets, &step.id)?;
            let (min, desired, max) = (int(ng.min_size, "minSize")?, int(ng.desired_size, "desiredSize")?, int(ng.max_size, "maxSize")?);
            let node_role = ctx.dep_arn("role/node", &step.id)?;
            let update_config = super::daytwo::update_config(&ng.controls)?;
            let node_repair = super::daytwo::node_repair(&ng.controls);
            let create = |token: String| {
                ctx.eks
                .create_nodegroup()
                .cluster_name(&cluster)
                .nodegroup_name(name)
                .scaling_config(
                    NodegroupScalingConfig::builder()
                        .min_size(min)
                        .desired_size(desired)
                        .max_size(max)
                        .build(),
                )
                .set_subnets(Some(subnets.clone()))
                .set_instance_types(Some(ng.instance_types.clone()))
                .ami_type(AmiTypes::from(ng.ami_type.as_str()))
                .capacity_type(CapacityTypes::from(ng.capacity_type.as_str()))
                .node_role(&node_role)
                .set_labels((!ng.labels.is_empty()).then(|| ng.labels.clone().into_iter().collect()))
                .set_taints((!taints.is_empty()).then(|| taints.clone()))
                .launch_template(LaunchTemplateSpecification::builder().id(&lt.id).version(&lt_version).build())
                .set_release_version(release.clone())
                .set_tags(Some(tags.clone()))
                .update_config(update_config.clone())
                .node_repair_config(node_repair.clone())
                .client_request_token(token)
                .send()
            };
            let ng_name = |n: &aws_sdk_eks::types::Nodegroup| n.nodegroup_name().map(str::to_string);
            let seen = |n: String| {
                let cluster = &cluster;
                async move {
                    Ok(match describe_nodegroup(ctx, cluster, &n).await? {
                        None => Seen::Missing,
                        Some(g) if g.status() == Some(&NodegroupStatus::Deleting) => Seen::Dead,
                        Some(_) => Seen::Live,
                    })
                }
            };
            let attempt = |t: String| {
                let cluster = &cluster;
                async move {
                    match create(t).await {
                        Ok(o) => o.nodegroup.ok_or_else(|| StepError::Invalid("CreateNodegroup returned no node group".into())),
                        // See `lost_create`: the node group our lost call made.
                        Err(e) if super::lost_create::in_use(&e) => match describe_nodegroup(ctx, cluster, name).await? {
                            Some(n) if super::lost_create::made_by_us(ctx, &step.id, n.tags()) => Ok(n),
                            _ => Err(aws_err(e)),
                        },
                        Err(e) => Err(aws_err(e)),
                    }
                }
            };
            let n = replay::create(ctx, step, "the node group", ctx.token(step), attempt, ng_name, seen).await?;
            ctx.say(format!("{}: creating node group {name}", step.id));
            record(&n);
        }
    }
    let mut n = settle_nodegroup(ctx, &cluster, name, None, "", NODEGROUP_TIMEOUT).await?;
    if let (true, Some(current)) = (adopted, n.as_ref()) {
        let mut changed = converge_nodegroup(ctx, step, ng, &cluster, current).await?;
        if let Some(current) = describe_nodegroup(ctx, &cluster, name).await?.filter(|_| changed) {
            n = Some(current);
        }
        if let Some(current) = n.as_ref() {
            changed = super::daytwo::converge_nodegroup_controls(ctx, step, ng, &cluster, current).await?;
        }
        if changed {
            n = describe_nodegroup(ctx, &cluster, name).await?;
        }
    }
    if let Some(n) = n {
        record(&n);
    }
    Ok(())
}

/// Wait for a node group update (if any) to succeed and the group to be ACTIVE; describe it.
pub(super) async fn settle_nodegroup(
    ctx: &Ctx,
    cluster: &str,
    name: &str,
    update: Option<&aws_sdk_eks::types::Update>,
    what: &str,
    timeout: Duration,
) -> Result<Option<aws_sdk_eks::types::Nodegroup>, StepError> {
    if let Err(e) = wait_update(ctx, cluster, Scope::Nodegroup(name), update, what, timeout).await {
        if let StepError::Cancelled = e {
            // A cancelled run stops now: no further call, however slow AWS answers.
            return Err(StepError::Cancelled);
        }
        // Say why (e.g. PodEvictionFailure) rather than only that the update failed.
        let why = describe_nodegroup(ctx, cluster, name).await?.as_ref().map(nodegroup_issues).unwrap_or_default();
        return Err(match e {
            StepError::Aws(m) => StepError::Aws(format!("{m} ({why})")),
            other => other,
        });
    }
    // The wait names EKS's health issues itself (e.g. NodeCreationFailure).
    nodegroup_active(ctx, cluster, name, timeout).await?;
    describe_nodegroup(ctx, cluster, name).await
}

pub(super) fn taint_specs(n: &aws_sdk_eks::types::Nodegroup) -> Vec<drift::TaintSpec> {
    n.taints()
        .iter()
        .map(|t| (t.key().unwrap_or_default().to_string(), t.value().map(str::to_string), t.effect().map(|e| e.as_str().to_string()).unwrap_or_default()))
        .collect()
}

pub(super) fn taint(t: &drift::TaintSpec) -> Taint {
    Taint::builder().key(&t.0).set_value(t.1.clone()).effect(TaintEffect::from(t.2.as_str())).build()
}

/// The settings of a node group that EKS cannot change in place (input names), where the
/// described group differs from the plan.
pub(super) fn immutable_changes(n: &aws_sdk_eks::types::Nodegroup, ng: &NodeGroupAction, lt_id: &str, subnets: &[String], node_role: Option<&str>) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !n.instance_types().is_empty() && n.instance_types() != ng.instance_types.as_slice() {
        out.push("instanceTypes");
    }
    if n.capacity_type().is_some_and(|c| c.as_str() != ng.capacity_type) {
        out.push("capacityType");
    }
    if n.ami_type().is_some_and(|t| t.as_str() != ng.ami_type) {
        out.push("amiType");
    }
    if n.launch_template().and_then(|l| l.id()).is_some_and(|id| id != lt_id) {
        out.push("launchTemplate");
    }
    if !n.subnets().is_empty() && n.subnets().iter().collect::<BTreeSet<_>>() != subnets.iter().collect::<BTreeSet<_>>() {
        out.push("subnets");
    }
    if let (Some(have), Some(want)) = (n.node_role(), node_role) {
        if have != want {
            out.push("nodeRole");
        }
    }
    out
}

/// Bring an adopted, ACTIVE node group to the plan: scaling, labels and taints
/// (UpdateNodegroupConfig), then the Kubernetes version, the AMI release version and the launch
/// template version (UpdateNodegroupVersion), each waited for. Instance types, capacity type,
/// AMI type, launch template, subnets and node role cannot change in place: that is an error
/// naming the setting, before any call. Returns whether an update was made.
pub(super) async fn converge_nodegroup(ctx: &Ctx, step: &Step, ng: &NodeGroupAction, cluster: &str, n: &aws_sdk_eks::types::Nodegroup) -> Result<bool, StepError> {
    let name = ng.name.as_str();
    let lt = ctx.dep(&ng.launch_template, &step.id)?;
    let subnets = subnet_ids(ctx, &ng.subnets, &step.id)?;
    let role = ctx.get("role/node").and_then(|r| r.arn);
    let fixed = immutable_changes(n, ng, &lt.id, &subnets, role.as_deref());
    if !fixed.is_empty() {
        return Err(StepError::Invalid(format!("{} cannot change in place; rename the node group to replace it", fixed.join(", "))));
    }
    let mut changed = false;

    // ---- scaling, labels, taints
    let s = n.scaling_config();
    let current = (s.and_then(|s| s.min_size()).unwrap_or(0), s.and_then(|s| s.desired_size()).unwrap_or(0), s.and_then(|s| s.max_size()).unwrap_or(0));
    let want = (int(ng.min_size, "minSize")?, int(ng.desired_size, "desiredSize")?, int(ng.max_size, "maxSize")?);
    let last_planned = ctx.prior(&step.id).and_then(|o| o.extra.get(EXTRA_PLANNED_DESIRED)).and_then(|v| v.parse::<i32>().ok());
    let scaling = drift::scaling_change(current, want, last_planned);
    let (add_labels, remove_labels) = drift::label_changes(n.labels(), &ng.labels);
    let (add_taints, remove_taints) = drift::taint_changes(&taint_specs(n), &ng.taints);
    let labels = (!add_labels.is_empty() || !remove_labels.is_empty()).then(|| {
        UpdateLabelsPayload::builder()
            .set_add_or_update_labels((!add_labels.is_empty()).then(|| add_labels.clone().into_iter().collect()))
            .set_remove_labels((!remove_labels.is_empty()).then(|| remove_labels.clone()))
            .build()
    });
    let taints = (!add_taints.is_empty() || !remove_taints.is_empty()).then(|| {
        UpdateTaintsPayload::builder()
            .set_add_or_update_taints((!add_taints.is_empty()).then(|| add_taints.iter().map(taint).collect()))
            .set_remove_taints((!remove_taints.is_empty()).then(|| remove_taints.iter().map(taint).collect()))
            .build()
    });
    if scaling.is_some() || labels.is_some() || taints.is_some() {
        let mut what = Vec::new();
        if let Some((min, desired, max)) = scaling {
            what.push(format!("size {}/{}/{} -> {min}/{desired}/{max} (min/desired/max)", current.0, current.1, current.2));
        }
        if labels.is_some() {
            what.push(format!("labels (+{} -{})", add_labels.len(), remove_labels.len()));
        }
        if taints.is_some() {
            what.push(format!("taints (+{} -{})", add_taints.len(), remove_taints.len()));
        }
        ctx.say(format!("{}: updating node group {name}: {}", step.id, what.join(", ")));
        let o = ctx
            .eks
            .update_nodegroup_config()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .set_scaling_config(scaling.map(|(min, desired, max)| NodegroupScalingConfig::builder().min_size(min).desired_size(desired).max_size(max).build()))
            .set_labels(labels)
            .set_taints(taints)
            .send()
            .await
            .map_err(aws_err)?;
        settle_nodegroup(ctx, cluster, name, o.update(), &format!("the configuration update of node group {name}"), NODEGROUP_UPDATE_TIMEOUT).await?;
        changed = true;
    }

    // ---- Kubernetes version, AMI release, launch template version
    let custom_ami = ng.ami_type == AmiTypes::Custom.as_str();
    let k8s = ctx.get("cluster").and_then(|c| c.extra.get("version").cloned()).or_else(|| {
        ctx.plan.steps.iter().find_map(|s| match &s.action {
            secure_eks_core::plan::Action::Cluster(c) => Some(c.version.clone()),
            _ => None,
        })
    });
    // With a custom AMI the launch template carries the AMI: EKS refuses version and release.
    let new_version = k8s.filter(|v| !custom_ami && n.version() != Some(v.as_str()));
    let mut new_release = None;
    if let (false, Some(r)) = (custom_ami, &ng.controls.release_version) {
        // A pinned AMI release: roll the group when it changed.
        if n.release_version() != Some(r.as_str()) {
            new_release = Some(r.clone());
        }
    } else if let (false, Some(p)) = (custom_ami, &ng.release_parameter) {
        match ssm::parameter(ctx, p).await? {
            Some(r) if n.release_version() != Some(r.as_str()) => new_release = Some(r),
            Some(_) => {}
            None if new_version.is_some() => {
                return Err(StepError::Invalid(format!(
                    "the SSM parameter {p} does not exist in {}: there is no {} AMI release for Kubernetes {}; choose another amiFamily, instance type or kubernetesVersion",
                    ctx.region(),
                    ng.ami_type,
                    new_version.as_deref().unwrap_or_default()
                )));
            }
            None => ctx.say(format!("{}: the SSM parameter {p} does not exist; the AMI release of node group {name} is left as it is", step.id)),
        }
    }
    let want_lt = lt.extra.get("latestVersion").cloned();
    let new_lt = want_lt.filter(|v| n.launch_template().and_then(|l| l.version()) != Some(v.as_str()));
    if new_version.is_some() || new_release.is_some() || new_lt.is_some() {
        let mut what = Vec::new();
        if let Some(v) = &new_version {
            what.push(format!("Kubernetes {} -> {v}", n.version().unwrap_or("?")));
        }
        if let Some(r) = &new_release {
            what.push(format!("AMI release {} -> {r}", n.release_version().unwrap_or("?")));
        }
        if let Some(v) = &new_lt {
            what.push(format!("launch template {} version {} -> {v}", lt.id, n.launch_template().and_then(|l| l.version()).unwrap_or("?")));
        }
        ctx.say(format!("{}: rolling node group {name} to {} (nodes are replaced)", step.id, what.join(", ")));
        let o = ctx
            .eks
            .update_nodegroup_version()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .set_version(new_version)
            .set_release_version(new_release)
            // The id only: EKS refuses a launch template given by both id and name.
            .set_launch_template(new_lt.map(|v| LaunchTemplateSpecification::builder().id(&lt.id).version(v).build()))
            .send()
            .await
            .map_err(aws_err)?;
        settle_nodegroup(ctx, cluster, name, o.update(), &format!("the version update of node group {name}"), NODEGROUP_UPDATE_TIMEOUT).await?;
        changed = true;
    }
    Ok(changed)
}

pub(crate) async fn delete_nodegroup(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    let cluster = ctx.cluster().to_string();
    gone(ctx.eks.delete_nodegroup().cluster_name(&cluster).nodegroup_name(&o.id).send().await)?;
    nodegroup_deleted(ctx, &cluster, &o.id).await?;
    Ok(())
}

pub(crate) async fn refresh_nodegroup(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(describe_nodegroup(ctx, ctx.cluster(), &o.id).await?.map(|n| nodegroup_output(&n, &o.id)))
}
