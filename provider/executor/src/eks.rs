//! EKS steps: the cluster, addons, managed node groups and access entries.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_eks::client::Waiters;
use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, AddonStatus, AmiTypes, AuthenticationMode, CapacityTypes, ClusterStatus, CreateAccessConfigRequest, EncryptionConfig,
    LaunchTemplateSpecification, LogSetup, LogType, Logging, NodegroupScalingConfig, NodegroupStatus, Provider, ResolveConflicts, Taint, TaintEffect,
    VpcConfigRequest,
};
use secure_eks_core::plan::{ClusterAction, NodeGroupAction, Step, StepOutput};

use crate::ctx::{aws_err, found, gone, out_arn, with, Ctx, StepError, TAG_CLUSTER};
use crate::ssm;

/// How long a new cluster may take to become ACTIVE (AWS: typically 8-15 minutes).
pub(crate) const CLUSTER_CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long a cluster deletion may take.
pub(crate) const CLUSTER_DELETE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long a node group may take to become ACTIVE or to be deleted.
pub(crate) const NODEGROUP_TIMEOUT: Duration = Duration::from_secs(40 * 60);
/// How long an addon may take to become ACTIVE or to be deleted.
pub(crate) const ADDON_TIMEOUT: Duration = Duration::from_secs(20 * 60);

fn eks_tags(ctx: &Ctx, step: &str) -> HashMap<String, String> {
    ctx.tags(step).into_iter().collect()
}

fn subnet_ids(ctx: &Ctx, steps: &[String], by: &str) -> Result<Vec<String>, StepError> {
    steps.iter().map(|s| ctx.dep_id(s, by)).collect()
}

fn int(v: i64, what: &str) -> Result<i32, StepError> {
    i32::try_from(v).map_err(|_| StepError::Invalid(format!("{what} {v} is out of range")))
}

// ---------------------------------------------------------------- cluster

async fn describe_cluster(ctx: &Ctx, name: &str) -> Result<Option<aws_sdk_eks::types::Cluster>, StepError> {
    Ok(found(ctx.eks.describe_cluster().name(name).send().await)?.and_then(|o| o.cluster))
}

fn cluster_output(c: &aws_sdk_eks::types::Cluster, name: &str) -> StepOutput {
    let mut o = out_arn(name, c.arn().map(str::to_string));
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            o.extra.insert(k.to_string(), v.to_string());
        }
    };
    put("endpoint", c.endpoint());
    put("certificateAuthorityData", c.certificate_authority().and_then(|ca| ca.data()));
    put("oidcIssuerUrl", c.identity().and_then(|i| i.oidc()).and_then(|o| o.issuer()));
    put("version", c.version());
    put("platformVersion", c.platform_version());
    put("serviceIpv4Cidr", c.kubernetes_network_config().and_then(|k| k.service_ipv4_cidr()));
    if let Some(t) = c.created_at() {
        o.extra.insert("createdAt".into(), t.secs().to_string());
    }
    o
}

/// Envelope encryption with our KMS key. `resources` is deprecated in the SDK (EKS now encrypts all
/// API data by default) but `secrets` is still its only accepted value and what DescribeCluster
/// reports, so it is sent explicitly.
#[allow(deprecated)]
fn secrets_encryption(key_arn: String) -> EncryptionConfig {
    EncryptionConfig::builder().resources("secrets").provider(Provider::builder().key_arn(key_arn).build()).build()
}

pub(crate) async fn cluster(ctx: &Ctx, step: &Step, ca: &ClusterAction) -> Result<(), StepError> {
    let name = ca.name.as_str();
    match describe_cluster(ctx, name).await? {
        Some(c) => {
            match c.status() {
                Some(ClusterStatus::Deleting) => {
                    return Err(StepError::Invalid(format!("cluster {name} is being deleted; run again once it is gone")));
                }
                Some(ClusterStatus::Failed) => {
                    return Err(StepError::Invalid(format!("cluster {name} exists in state FAILED; delete it and run again")));
                }
                _ => {}
            }
            ctx.check_owner(&format!("EKS cluster {name}"), c.tags().and_then(|t| t.get(TAG_CLUSTER)).map(String::as_str))?;
            ctx.say(format!("{}: adopted cluster {name}", step.id));
            ctx.record(&step.id, cluster_output(&c, name));
        }
        None => {
            ctx.forget(&step.id);
            let role = ctx.dep_arn("role/cluster", &step.id)?;
            let sg = ctx.dep_id("sg/cluster", &step.id)?;
            let key = ctx.dep_arn("kms", &step.id)?;
            let mut vpc = VpcConfigRequest::builder()
                .set_subnet_ids(Some(subnet_ids(ctx, &ca.subnets, &step.id)?))
                .security_group_ids(sg)
                .endpoint_private_access(ca.private_access)
                .endpoint_public_access(ca.public_access);
            if ca.public_access && !ca.public_cidrs.is_empty() {
                vpc = vpc.set_public_access_cidrs(Some(ca.public_cidrs.clone()));
            }
            let logging = Logging::builder()
                .cluster_logging(
                    LogSetup::builder()
                        .set_types(Some(ca.log_types.iter().map(|t| LogType::from(t.as_str())).collect()))
                        .enabled(!ca.log_types.is_empty())
                        .build(),
                )
                .build();
            let o = ctx
                .eks
                .create_cluster()
                .name(name)
                .version(&ca.version)
                .role_arn(role)
                .resources_vpc_config(vpc.build())
                .logging(logging)
                .encryption_config(secrets_encryption(key))
                // Access entries only (no aws-auth ConfigMap); the creator gets no implicit admin:
                // admins come from explicit access entries.
                .access_config(
                    CreateAccessConfigRequest::builder()
                        .authentication_mode(AuthenticationMode::Api)
                        .bootstrap_cluster_creator_admin_permissions(false)
                        .build(),
                )
                // Managed addons (created next, before any node) replace the self-managed ones.
                .bootstrap_self_managed_addons(false)
                .set_tags(Some(eks_tags(ctx, &step.id)))
                .client_request_token(ctx.token(step))
                .send()
                .await
                .map_err(aws_err)?;
            let c = o.cluster.ok_or_else(|| StepError::Invalid("CreateCluster returned no cluster".into()))?;
            ctx.say(format!("{}: creating cluster {name} (this takes about 10 minutes)", step.id));
            ctx.record(&step.id, cluster_output(&c, name));
        }
    }
    ctx.wait(ctx.eks.wait_until_cluster_active().name(name).wait(CLUSTER_CREATE_TIMEOUT)).await?;
    let c = describe_cluster(ctx, name).await?.ok_or_else(|| StepError::Invalid(format!("cluster {name} disappeared")))?;
    ctx.record(&step.id, cluster_output(&c, name));
    ctx.say(format!("{}: cluster {name} is ACTIVE", step.id));
    Ok(())
}

pub(crate) async fn delete_cluster(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    gone(ctx.eks.delete_cluster().name(&o.id).send().await)?;
    ctx.wait(ctx.eks.wait_until_cluster_deleted().name(&o.id).wait(CLUSTER_DELETE_TIMEOUT)).await?;
    Ok(())
}

pub(crate) async fn refresh_cluster(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(describe_cluster(ctx, &o.id).await?.map(|c| cluster_output(&c, &o.id)))
}

// ---------------------------------------------------------------- addons

async fn describe_addon(ctx: &Ctx, cluster: &str, name: &str) -> Result<Option<aws_sdk_eks::types::Addon>, StepError> {
    Ok(found(ctx.eks.describe_addon().cluster_name(cluster).addon_name(name).send().await)?.and_then(|o| o.addon))
}

fn addon_output(a: &aws_sdk_eks::types::Addon, name: &str) -> StepOutput {
    let o = out_arn(name, a.addon_arn().map(str::to_string));
    match a.addon_version() {
        Some(v) => with(o, "version", v),
        None => o,
    }
}

fn health(issues: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = issues.collect();
    if v.is_empty() {
        "no health issues reported".into()
    } else {
        v.join("; ")
    }
}

/// AWS's default version of an addon for a Kubernetes version: the one whose compatibility entry
/// for that version has `defaultVersion`; else the first listed (the newest).
async fn default_addon_version(ctx: &Ctx, addon: &str, k8s: &str) -> Result<String, StepError> {
    let o = ctx.eks.describe_addon_versions().addon_name(addon).kubernetes_version(k8s).send().await.map_err(aws_err)?;
    let versions: Vec<&aws_sdk_eks::types::AddonVersionInfo> = o.addons().iter().filter(|a| a.addon_name() == Some(addon)).flat_map(|a| a.addon_versions()).collect();
    let default = versions.iter().find(|v| v.compatibilities().iter().any(|c| c.cluster_version() == Some(k8s) && c.default_version()));
    default
        .or(versions.first())
        .and_then(|v| v.addon_version())
        .map(str::to_string)
        .ok_or_else(|| StepError::Invalid(format!("EKS lists no version of addon {addon} for Kubernetes {k8s}")))
}

/// The addon's configuration values: the planned JSON plus, for vpc-cni with custom networking,
/// `eniConfig` (one ENIConfig per AZ: the pod subnet and the node security group).
fn addon_configuration(ctx: &Ctx, step: &Step, configuration: &serde_json::Value, eni_configs: &[(String, String)]) -> Result<Option<String>, StepError> {
    let mut cfg = configuration.clone();
    if !eni_configs.is_empty() {
        let sg = ctx.dep_id("sg/node", &step.id)?;
        let mut subnets = serde_json::Map::new();
        for (az, subnet_step) in eni_configs {
            let subnet = ctx.dep(subnet_step, &step.id)?;
            // The ENIConfig name must be the subnet's real AZ (nodes pick it by their zone
            // label): prefer what AWS reported for the subnet over the planned AZ.
            let az = subnet.extra.get("az").unwrap_or(az);
            subnets.insert(az.clone(), serde_json::json!({"id": subnet.id, "securityGroups": [sg]}));
        }
        let eni = serde_json::json!({"create": true, "region": ctx.region(), "subnets": subnets});
        match cfg.as_object_mut() {
            Some(m) => {
                m.insert("eniConfig".into(), eni);
            }
            None => cfg = serde_json::json!({"eniConfig": eni}),
        }
    }
    let empty = cfg.is_null() || cfg.as_object().is_some_and(|m| m.is_empty());
    if empty {
        return Ok(None);
    }
    serde_json::to_string(&cfg).map(Some).map_err(|e| StepError::Invalid(format!("addon configuration: {e}")))
}

pub(crate) async fn addon(
    ctx: &Ctx,
    step: &Step,
    name: &str,
    version: Option<&str>,
    configuration: &serde_json::Value,
    eni_configs: &[(String, String)],
) -> Result<(), StepError> {
    let cluster = ctx.dep_id("cluster", &step.id)?;
    match describe_addon(ctx, &cluster, name).await? {
        Some(a) => {
            if a.status() == Some(&AddonStatus::CreateFailed) {
                let issues = a.health().map(|h| h.issues()).unwrap_or_default().iter().map(|i| i.message().unwrap_or_default().to_string());
                return Err(StepError::Invalid(format!("addon {name} exists in state CREATE_FAILED ({})", health(issues))));
            }
            ctx.say(format!("{}: adopted addon {name}", step.id));
            ctx.record(&step.id, addon_output(&a, name));
        }
        None => {
            ctx.forget(&step.id);
            let k8s = ctx.dep("cluster", &step.id)?.extra.get("version").cloned().unwrap_or_default();
            let version = match version {
                Some(v) => v.to_string(),
                None => default_addon_version(ctx, name, &k8s).await?,
            };
            let o = ctx
                .eks
                .create_addon()
                .cluster_name(&cluster)
                .addon_name(name)
                .addon_version(&version)
                .set_configuration_values(addon_configuration(ctx, step, configuration, eni_configs)?)
                .resolve_conflicts(ResolveConflicts::Overwrite)
                .client_request_token(ctx.token(step))
                .set_tags(Some(eks_tags(ctx, &step.id)))
                .send()
                .await
                .map_err(aws_err)?;
            let a = o.addon.ok_or_else(|| StepError::Invalid("CreateAddon returned no addon".into()))?;
            ctx.say(format!("{}: created addon {name} {version}", step.id));
            ctx.record(&step.id, addon_output(&a, name));
        }
    }
    ctx.wait(ctx.eks.wait_until_addon_active().cluster_name(&cluster).addon_name(name).wait(ADDON_TIMEOUT)).await?;
    if let Some(a) = describe_addon(ctx, &cluster, name).await? {
        ctx.record(&step.id, addon_output(&a, name));
    }
    Ok(())
}

pub(crate) async fn delete_addon(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    let cluster = ctx.cluster().to_string();
    gone(ctx.eks.delete_addon().cluster_name(&cluster).addon_name(&o.id).send().await)?;
    ctx.wait(ctx.eks.wait_until_addon_deleted().cluster_name(&cluster).addon_name(&o.id).wait(ADDON_TIMEOUT)).await?;
    Ok(())
}

pub(crate) async fn refresh_addon(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(describe_addon(ctx, ctx.cluster(), &o.id).await?.map(|a| addon_output(&a, &o.id)))
}

// ---------------------------------------------------------------- node groups

async fn describe_nodegroup(ctx: &Ctx, cluster: &str, name: &str) -> Result<Option<aws_sdk_eks::types::Nodegroup>, StepError> {
    Ok(found(ctx.eks.describe_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await)?.and_then(|o| o.nodegroup))
}

fn nodegroup_output(n: &aws_sdk_eks::types::Nodegroup, name: &str) -> StepOutput {
    let mut o = out_arn(name, n.nodegroup_arn().map(str::to_string));
    if let Some(r) = n.release_version().filter(|r| !r.is_empty()) {
        o = with(o, "releaseVersion", r);
    }
    if let Some(v) = n.version() {
        o = with(o, "version", v);
    }
    o
}

fn nodegroup_issues(n: &aws_sdk_eks::types::Nodegroup) -> String {
    health(n.health().map(|h| h.issues()).unwrap_or_default().iter().map(|i| {
        format!("{}: {}", i.code().map(|c| c.as_str()).unwrap_or_default(), i.message().unwrap_or_default())
    }))
}

pub(crate) async fn nodegroup(ctx: &Ctx, step: &Step, ng: &NodeGroupAction) -> Result<(), StepError> {
    let cluster = ctx.dep_id("cluster", &step.id).unwrap_or_else(|_| ctx.cluster().to_string());
    let name = ng.name.as_str();
    match describe_nodegroup(ctx, &cluster, name).await? {
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
            ctx.record(&step.id, nodegroup_output(&n, name));
        }
        None => {
            ctx.forget(&step.id);
            let release = match &ng.release_parameter {
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
            let o = ctx
                .eks
                .create_nodegroup()
                .cluster_name(&cluster)
                .nodegroup_name(name)
                .scaling_config(
                    NodegroupScalingConfig::builder()
                        .min_size(int(ng.min_size, "minSize")?)
                        .desired_size(int(ng.desired_size, "desiredSize")?)
                        .max_size(int(ng.max_size, "maxSize")?)
                        .build(),
                )
                .set_subnets(Some(subnet_ids(ctx, &ng.subnets, &step.id)?))
                .set_instance_types(Some(ng.instance_types.clone()))
                .ami_type(AmiTypes::from(ng.ami_type.as_str()))
                .capacity_type(CapacityTypes::from(ng.capacity_type.as_str()))
                .node_role(ctx.dep_arn("role/node", &step.id)?)
                .set_labels((!ng.labels.is_empty()).then(|| ng.labels.clone().into_iter().collect()))
                .set_taints((!taints.is_empty()).then_some(taints))
                .launch_template(LaunchTemplateSpecification::builder().id(&lt.id).version(lt_version).build())
                .set_release_version(release)
                .set_tags(Some(tags))
                .client_request_token(ctx.token(step))
                .send()
                .await
                .map_err(aws_err)?;
            let n = o.nodegroup.ok_or_else(|| StepError::Invalid("CreateNodegroup returned no node group".into()))?;
            ctx.say(format!("{}: creating node group {name}", step.id));
            ctx.record(&step.id, nodegroup_output(&n, name));
        }
    }
    let waited = ctx.wait(ctx.eks.wait_until_nodegroup_active().cluster_name(&cluster).nodegroup_name(name).wait(NODEGROUP_TIMEOUT)).await;
    let n = describe_nodegroup(ctx, &cluster, name).await?;
    if let Err(e) = waited {
        // Say why (e.g. NodeCreationFailure) rather than only that the waiter failed.
        let why = n.as_ref().map(nodegroup_issues).unwrap_or_default();
        return Err(match e {
            StepError::Aws(m) => StepError::Aws(format!("{m} ({why})")),
            other => other,
        });
    }
    if let Some(n) = n {
        ctx.record(&step.id, nodegroup_output(&n, name));
    }
    Ok(())
}

pub(crate) async fn delete_nodegroup(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    let cluster = ctx.cluster().to_string();
    gone(ctx.eks.delete_nodegroup().cluster_name(&cluster).nodegroup_name(&o.id).send().await)?;
    ctx.wait(ctx.eks.wait_until_nodegroup_deleted().cluster_name(&cluster).nodegroup_name(&o.id).wait(NODEGROUP_TIMEOUT)).await?;
    Ok(())
}

pub(crate) async fn refresh_nodegroup(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(describe_nodegroup(ctx, ctx.cluster(), &o.id).await?.map(|n| nodegroup_output(&n, &o.id)))
}

// ---------------------------------------------------------------- access entries

pub(crate) async fn access_entry(ctx: &Ctx, step: &Step, principal: &str, policy: &str, namespaces: &[String]) -> Result<(), StepError> {
    let cluster = ctx.dep_id("cluster", &step.id)?;
    let existing = found(ctx.eks.describe_access_entry().cluster_name(&cluster).principal_arn(principal).send().await)?.and_then(|o| o.access_entry);
    let arn = match existing {
        Some(e) => {
            ctx.say(format!("{}: adopted access entry for {principal}", step.id));
            e.access_entry_arn
        }
        None => {
            ctx.forget(&step.id);
            let o = ctx
                .eks
                .create_access_entry()
                .cluster_name(&cluster)
                .principal_arn(principal)
                .set_tags(Some(eks_tags(ctx, &step.id)))
                .client_request_token(ctx.token(step))
                .send()
                .await
                .map_err(aws_err)?;
            ctx.say(format!("{}: created access entry for {principal}", step.id));
            o.access_entry.and_then(|e| e.access_entry_arn)
        }
    };
    ctx.record(&step.id, out_arn(principal, arn.clone()));
    let scope = if namespaces.is_empty() {
        AccessScope::builder().r#type(AccessScopeType::Cluster).build()
    } else {
        AccessScope::builder().r#type(AccessScopeType::Namespace).set_namespaces(Some(namespaces.to_vec())).build()
    };
    let policy_arn = format!("arn:{}:eks::aws:cluster-access-policy/{policy}", ctx.partition());
    ctx.eks
        .associate_access_policy()
        .cluster_name(&cluster)
        .principal_arn(principal)
        .policy_arn(&policy_arn)
        .access_scope(scope)
        .send()
        .await
        .map_err(aws_err)?;
    ctx.record(&step.id, with(out_arn(principal, arn), "policy", policy));
    Ok(())
}

pub(crate) async fn delete_access_entry(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    gone(ctx.eks.delete_access_entry().cluster_name(ctx.cluster()).principal_arn(&o.id).send().await)
}

pub(crate) async fn refresh_access_entry(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(found(ctx.eks.describe_access_entry().cluster_name(ctx.cluster()).principal_arn(&o.id).send().await)?
        .and_then(|r| r.access_entry)
        .map(|_| o.clone()))
}
