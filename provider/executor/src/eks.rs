//! EKS steps: the cluster, addons, managed node groups and access entries.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, AddonStatus, AmiTypes, AuthenticationMode, CapacityTypes, ClusterStatus, CreateAccessConfigRequest, EncryptionConfig,
    LaunchTemplateSpecification, LogSetup, LogType, Logging, NodegroupScalingConfig, NodegroupStatus, Provider, ResolveConflicts, Taint, TaintEffect,
    UpdateLabelsPayload, UpdateStatus, UpdateTaintsPayload, VpcConfigRequest,
};
use secure_eks_core::plan::{drift_keys, ClusterAction, NodeGroupAction, Step, StepOutput};

use crate::ctx::{aws_err, found, gone, out_arn, poll, with, Ctx, StepError, TAG_CLUSTER};
use crate::{drift, ssm};

/// How long a new cluster may take to become ACTIVE (AWS: typically 8-15 minutes).
pub(crate) const CLUSTER_CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long a cluster deletion may take.
pub(crate) const CLUSTER_DELETE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long a node group may take to become ACTIVE or to be deleted.
pub(crate) const NODEGROUP_TIMEOUT: Duration = Duration::from_secs(40 * 60);
/// How long an addon may take to become ACTIVE or to be deleted.
pub(crate) const ADDON_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// How long one cluster update (a Kubernetes minor upgrade, endpoint access, logging) may take
/// to succeed (AWS: a version upgrade typically takes 10-25 minutes).
pub(crate) const CLUSTER_UPDATE_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// How long one node group update may take (a version or launch template update replaces every
/// node, honouring pod disruption budgets).
pub(crate) const NODEGROUP_UPDATE_TIMEOUT: Duration = Duration::from_secs(90 * 60);
/// How long one addon update may take.
pub(crate) const ADDON_UPDATE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// `extra` key of a node group output: the desired size the plan asked for at the last apply
/// (the running desired size belongs to the cluster autoscaler; see [`drift::scaling_change`]).
pub(crate) const EXTRA_PLANNED_DESIRED: &str = "plannedDesiredSize";

fn eks_tags(ctx: &Ctx, step: &str) -> HashMap<String, String> {
    ctx.tags(step).into_iter().collect()
}

fn subnet_ids(ctx: &Ctx, steps: &[String], by: &str) -> Result<Vec<String>, StepError> {
    steps.iter().map(|s| ctx.dep_id(s, by)).collect()
}

fn int(v: i64, what: &str) -> Result<i32, StepError> {
    i32::try_from(v).map_err(|_| StepError::Invalid(format!("{what} {v} is out of range")))
}

// ---------------------------------------------------------------- updates

/// What an EKS update belongs to (DescribeUpdate needs the node group or addon name).
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    Cluster,
    Nodegroup(&'a str),
    Addon(&'a str),
}

fn update_errors(u: &aws_sdk_eks::types::Update) -> String {
    let errs: Vec<String> = u
        .errors()
        .iter()
        .map(|e| format!("{}: {}", e.error_code().map(|c| c.as_str()).unwrap_or("error"), e.error_message().unwrap_or_default()))
        .collect();
    if errs.is_empty() {
        "no error details".into()
    } else {
        errs.join("; ")
    }
}

/// Wait until the update `update` (as returned by the Update* call) succeeded, polling
/// DescribeUpdate (the SDK has no waiter for updates). A failed or cancelled update is an error
/// with EKS's reasons. The caller then waits for the resource itself with the SDK's ACTIVE waiter.
///
/// DescribeUpdate answering "not found" ends the wait without a verdict and leaves it to that
/// ACTIVE waiter: the local emulator records no update for UpdateNodegroupConfig (moto's own
/// call), and on AWS a vanished update means the resource is gone, which that waiter reports.
async fn wait_update(
    ctx: &Ctx,
    cluster: &str,
    scope: Scope<'_>,
    update: Option<&aws_sdk_eks::types::Update>,
    what: &str,
    timeout: Duration,
) -> Result<(), StepError> {
    let Some(u) = update else { return Ok(()) };
    let Some(id) = u.id().map(str::to_string) else { return Ok(()) };
    let what = format!("{what} (update {id})");
    poll(ctx, &what, timeout, || async {
        let req = ctx.eks.describe_update().name(cluster).update_id(&id);
        let req = match scope {
            Scope::Cluster => req,
            Scope::Nodegroup(n) => req.nodegroup_name(n),
            Scope::Addon(a) => req.addon_name(a),
        };
        let Some(u) = found(req.send().await)?.and_then(|o| o.update) else {
            tracing::debug!("DescribeUpdate does not know {what}; the ACTIVE waiter decides");
            return Ok(Some(()));
        };
        match u.status() {
            Some(UpdateStatus::Successful) => Ok(Some(())),
            Some(s @ (UpdateStatus::Failed | UpdateStatus::Cancelled)) => Err(StepError::Aws(format!("{what} ended {}: {}", s.as_str(), update_errors(&u)))),
            _ => Ok(None),
        }
    })
    .await
}

/// The waits below poll Describe* (every [`crate::ctx::POLL_INTERVAL`], with progress lines)
/// rather than using the SDK's waiters: those fail at once on a state that AWS passes through
/// (an addon is DEGRADED while its pods wait for nodes or during an update) and their fixed
/// 30-second first delay ignores the caller's pace.
async fn cluster_active(ctx: &Ctx, name: &str, timeout: Duration) -> Result<(), StepError> {
    poll(ctx, &format!("cluster {name} to become ACTIVE"), timeout, || async {
        let c = describe_cluster(ctx, name).await?.ok_or_else(|| StepError::Aws(format!("cluster {name} disappeared while waiting for it")))?;
        match c.status() {
            Some(ClusterStatus::Active) => Ok(Some(())),
            Some(s @ (ClusterStatus::Failed | ClusterStatus::Deleting)) => Err(StepError::Aws(format!("cluster {name} is {}", s.as_str()))),
            _ => Ok(None),
        }
    })
    .await
}

async fn cluster_deleted(ctx: &Ctx, name: &str) -> Result<(), StepError> {
    poll(ctx, &format!("cluster {name} to be deleted"), CLUSTER_DELETE_TIMEOUT, || async {
        match describe_cluster(ctx, name).await? {
            None => Ok(Some(())),
            Some(c) if c.status() == Some(&ClusterStatus::Failed) => Err(StepError::Aws(format!("cluster {name} is FAILED instead of deleted"))),
            Some(_) => Ok(None),
        }
    })
    .await
}

/// Wait for an addon to be ACTIVE. CREATING, UPDATING and DEGRADED are waited through (an addon
/// is DEGRADED until its pods run, e.g. coredns until nodes give pods IPs); CREATE_FAILED and
/// UPDATE_FAILED end the wait; at the timeout the error names the state and EKS's health issues.
async fn addon_active(ctx: &Ctx, cluster: &str, name: &str, timeout: Duration) -> Result<(), StepError> {
    let last = std::sync::Mutex::new(String::new());
    let r = poll(ctx, &format!("addon {name} to become ACTIVE"), timeout, || async {
        let a = describe_addon(ctx, cluster, name).await?.ok_or_else(|| StepError::Aws(format!("addon {name} disappeared while waiting for it")))?;
        let issues = health(a.health().map(|h| h.issues()).unwrap_or_default().iter().map(|i| {
            format!("{}: {}", i.code().map(|c| c.as_str()).unwrap_or_default(), i.message().unwrap_or_default())
        }));
        let status = a.status().map(|s| s.as_str().to_string()).unwrap_or_default();
        *last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = format!("it is {status} ({issues})");
        match a.status() {
            Some(AddonStatus::Active) => Ok(Some(())),
            Some(AddonStatus::CreateFailed | AddonStatus::UpdateFailed | AddonStatus::DeleteFailed | AddonStatus::Deleting) => {
                Err(StepError::Aws(format!("addon {name} is {status} ({issues})")))
            }
            _ => Ok(None),
        }
    })
    .await;
    match r {
        Err(StepError::Invalid(m)) => {
            let last = last.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
            Err(StepError::Invalid(format!("{m}: {last}")))
        }
        r => r,
    }
}

async fn addon_deleted(ctx: &Ctx, cluster: &str, name: &str) -> Result<(), StepError> {
    poll(ctx, &format!("addon {name} to be deleted"), ADDON_TIMEOUT, || async {
        match describe_addon(ctx, cluster, name).await? {
            None => Ok(Some(())),
            Some(a) if a.status() == Some(&AddonStatus::DeleteFailed) => Err(StepError::Aws(format!("addon {name} is DELETE_FAILED"))),
            Some(_) => Ok(None),
        }
    })
    .await
}

/// Wait for a node group to be ACTIVE; CREATE_FAILED (with EKS's health issues, e.g.
/// NodeCreationFailure) and DELETING end the wait.
async fn nodegroup_active(ctx: &Ctx, cluster: &str, name: &str, timeout: Duration) -> Result<(), StepError> {
    poll(ctx, &format!("node group {name} to become ACTIVE"), timeout, || async {
        let n = describe_nodegroup(ctx, cluster, name).await?.ok_or_else(|| StepError::Aws(format!("node group {name} disappeared while waiting for it")))?;
        match n.status() {
            Some(NodegroupStatus::Active) => Ok(Some(())),
            Some(s @ (NodegroupStatus::CreateFailed | NodegroupStatus::Deleting | NodegroupStatus::DeleteFailed)) => {
                Err(StepError::Aws(format!("node group {name} is {}: {}", s.as_str(), nodegroup_issues(&n))))
            }
            _ => Ok(None),
        }
    })
    .await
}

async fn nodegroup_deleted(ctx: &Ctx, cluster: &str, name: &str) -> Result<(), StepError> {
    poll(ctx, &format!("node group {name} to be deleted"), NODEGROUP_TIMEOUT, || async {
        match describe_nodegroup(ctx, cluster, name).await? {
            None => Ok(Some(())),
            Some(n) if n.status() == Some(&NodegroupStatus::DeleteFailed) => {
                Err(StepError::Aws(format!("node group {name} is DELETE_FAILED: {}", nodegroup_issues(&n))))
            }
            Some(_) => Ok(None),
        }
    })
    .await
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
    // What refresh compares with the inputs (input drift, see core `plan::observed`).
    if let Some(v) = c.resources_vpc_config() {
        o.extra.insert(drift_keys::PRIVATE_ACCESS.into(), v.endpoint_private_access().to_string());
        o.extra.insert(drift_keys::PUBLIC_ACCESS.into(), v.endpoint_public_access().to_string());
        let mut cidrs: Vec<&str> = v.public_access_cidrs().iter().map(String::as_str).collect();
        cidrs.sort_unstable();
        if !cidrs.is_empty() {
            o.extra.insert(drift_keys::PUBLIC_CIDRS.into(), cidrs.join(","));
        }
    }
    if c.logging().is_some() {
        let types: Vec<String> = drift::enabled_log_types(c.logging()).into_iter().collect();
        o.extra.insert(drift_keys::LOG_TYPES.into(), types.join(","));
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
    let described = describe_cluster(ctx, name).await?;
    let adopted = described.is_some();
    match described {
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
    cluster_active(ctx, name, CLUSTER_CREATE_TIMEOUT).await?;
    let c = describe_cluster(ctx, name).await?.ok_or_else(|| StepError::Invalid(format!("cluster {name} disappeared")))?;
    ctx.record(&step.id, cluster_output(&c, name));
    if adopted {
        converge_cluster(ctx, step, ca, c).await?;
    }
    ctx.say(format!("{}: cluster {name} is ACTIVE", step.id));
    Ok(())
}

/// Wait for a cluster update to succeed and the cluster to be ACTIVE again; record and return
/// the cluster as it is now.
async fn settle_cluster(ctx: &Ctx, step: &Step, name: &str, update: Option<&aws_sdk_eks::types::Update>, what: &str) -> Result<aws_sdk_eks::types::Cluster, StepError> {
    wait_update(ctx, name, Scope::Cluster, update, what, CLUSTER_UPDATE_TIMEOUT).await?;
    cluster_active(ctx, name, CLUSTER_UPDATE_TIMEOUT).await?;
    let c = describe_cluster(ctx, name).await?.ok_or_else(|| StepError::Invalid(format!("cluster {name} disappeared")))?;
    ctx.record(&step.id, cluster_output(&c, name));
    Ok(c)
}

/// Bring an adopted, ACTIVE cluster to the planned settings that EKS changes in place, one update
/// at a time (EKS refuses a second update while one runs): the Kubernetes version (one minor up),
/// endpoint access, control-plane logging. Nothing is called when nothing differs.
async fn converge_cluster(ctx: &Ctx, step: &Step, ca: &ClusterAction, c: aws_sdk_eks::types::Cluster) -> Result<(), StepError> {
    let name = ca.name.as_str();
    let mut c = c;
    let current = c.version().unwrap_or_default().to_string();
    if let Some(v) = drift::version_step(&current, &ca.version).map_err(StepError::Invalid)? {
        ctx.say(format!("{}: upgrading cluster {name} from Kubernetes {current} to {v} (this takes 10 to 25 minutes)", step.id));
        let o = ctx.eks.update_cluster_version().name(name).version(&v).send().await.map_err(aws_err)?;
        c = settle_cluster(ctx, step, name, o.update(), &format!("the upgrade of cluster {name} to Kubernetes {v}")).await?;
        ctx.say(format!("{}: cluster {name} runs Kubernetes {}", step.id, c.version().unwrap_or(v.as_str())));
    }
    if let Some(vpc) = drift::endpoint_change(c.resources_vpc_config(), ca) {
        let access = match (ca.private_access, ca.public_access) {
            (true, true) => format!("private and public ({})", vpc.public_access_cidrs().join(", ")),
            (true, false) => "private only".to_string(),
            (false, _) => format!("public only ({})", vpc.public_access_cidrs().join(", ")),
        };
        ctx.say(format!("{}: changing the API endpoint access of cluster {name} to {access}", step.id));
        let o = ctx.eks.update_cluster_config().name(name).resources_vpc_config(vpc).send().await.map_err(aws_err)?;
        c = settle_cluster(ctx, step, name, o.update(), &format!("the endpoint access update of cluster {name}")).await?;
    }
    if let Some(logging) = drift::logging_change(c.logging(), &ca.log_types) {
        ctx.say(format!("{}: changing the control-plane log types of cluster {name} to [{}]", step.id, ca.log_types.join(", ")));
        let o = ctx.eks.update_cluster_config().name(name).logging(logging).send().await.map_err(aws_err)?;
        settle_cluster(ctx, step, name, o.update(), &format!("the logging update of cluster {name}")).await?;
    }
    Ok(())
}

pub(crate) async fn delete_cluster(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    gone(ctx.eks.delete_cluster().name(&o.id).send().await)?;
    cluster_deleted(ctx, &o.id).await?;
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
pub(crate) async fn default_addon_version(ctx: &Ctx, addon: &str, k8s: &str) -> Result<String, StepError> {
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
    let k8s = ctx.dep("cluster", &step.id)?.extra.get("version").cloned().unwrap_or_default();
    let config = addon_configuration(ctx, step, configuration, eni_configs)?;
    let described = describe_addon(ctx, &cluster, name).await?;
    let adopted = described.is_some();
    match described {
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
                .set_configuration_values(config.clone())
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
    addon_active(ctx, &cluster, name, ADDON_TIMEOUT).await?;
    let mut a = describe_addon(ctx, &cluster, name).await?;
    if let (true, Some(current)) = (adopted, a.as_ref()) {
        if converge_addon(ctx, step, &cluster, name, &k8s, version, config.as_deref(), current).await? {
            a = describe_addon(ctx, &cluster, name).await?;
        }
    }
    if let Some(a) = a {
        ctx.record(&step.id, addon_output(&a, name));
    }
    Ok(())
}

/// Bring an adopted, ACTIVE addon to the planned version and configuration values (UpdateAddon,
/// conflicts overwritten, as at create). Without a pinned version the addon follows AWS's default
/// for the cluster's Kubernetes version, upwards only (EKS does not downgrade addons). Returns
/// whether an update was made.
#[allow(clippy::too_many_arguments)]
async fn converge_addon(
    ctx: &Ctx,
    step: &Step,
    cluster: &str,
    name: &str,
    k8s: &str,
    version: Option<&str>,
    config: Option<&str>,
    a: &aws_sdk_eks::types::Addon,
) -> Result<bool, StepError> {
    let current = a.addon_version().unwrap_or_default();
    let new_version = match version {
        Some(v) if v != current => Some(v.to_string()),
        Some(_) => None,
        None => {
            let d = default_addon_version(ctx, name, k8s).await?;
            (drift::addon_version_cmp(&d, current) == Ordering::Greater).then_some(d)
        }
    };
    // No configuration planned but some set: `{}` resets it to the addon's defaults.
    let new_config = (!drift::same_configuration(a.configuration_values(), config)).then(|| config.unwrap_or("{}").to_string());
    if new_version.is_none() && new_config.is_none() {
        return Ok(false);
    }
    let mut what = Vec::new();
    if let Some(v) = &new_version {
        what.push(format!("version {current} -> {v}"));
    }
    if new_config.is_some() {
        what.push("configuration values".to_string());
    }
    ctx.say(format!("{}: updating addon {name}: {}", step.id, what.join(", ")));
    let o = ctx
        .eks
        .update_addon()
        .cluster_name(cluster)
        .addon_name(name)
        .set_addon_version(new_version)
        .set_configuration_values(new_config)
        .resolve_conflicts(ResolveConflicts::Overwrite)
        .send()
        .await
        .map_err(aws_err)?;
    wait_update(ctx, cluster, Scope::Addon(name), o.update(), &format!("the update of addon {name}"), ADDON_UPDATE_TIMEOUT).await?;
    addon_active(ctx, cluster, name, ADDON_UPDATE_TIMEOUT).await?;
    Ok(true)
}

pub(crate) async fn delete_addon(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    let cluster = ctx.cluster().to_string();
    gone(ctx.eks.delete_addon().cluster_name(&cluster).addon_name(&o.id).send().await)?;
    addon_deleted(ctx, &cluster, &o.id).await?;
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

fn nodegroup_issues(n: &aws_sdk_eks::types::Nodegroup) -> String {
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
            record(&n);
        }
    }
    let mut n = settle_nodegroup(ctx, &cluster, name, None, "", NODEGROUP_TIMEOUT).await?;
    if let (true, Some(current)) = (adopted, n.as_ref()) {
        if converge_nodegroup(ctx, step, ng, &cluster, current).await? {
            n = describe_nodegroup(ctx, &cluster, name).await?;
        }
    }
    if let Some(n) = n {
        record(&n);
    }
    Ok(())
}

/// Wait for a node group update (if any) to succeed and the group to be ACTIVE; describe it.
async fn settle_nodegroup(
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

fn taint_specs(n: &aws_sdk_eks::types::Nodegroup) -> Vec<drift::TaintSpec> {
    n.taints()
        .iter()
        .map(|t| (t.key().unwrap_or_default().to_string(), t.value().map(str::to_string), t.effect().map(|e| e.as_str().to_string()).unwrap_or_default()))
        .collect()
}

fn taint(t: &drift::TaintSpec) -> Taint {
    Taint::builder().key(&t.0).set_value(t.1.clone()).effect(TaintEffect::from(t.2.as_str())).build()
}

/// The settings of a node group that EKS cannot change in place (input names), where the
/// described group differs from the plan.
fn immutable_changes(n: &aws_sdk_eks::types::Nodegroup, ng: &NodeGroupAction, lt_id: &str, subnets: &[String], node_role: Option<&str>) -> Vec<&'static str> {
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
async fn converge_nodegroup(ctx: &Ctx, step: &Step, ng: &NodeGroupAction, cluster: &str, n: &aws_sdk_eks::types::Nodegroup) -> Result<bool, StepError> {
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
    if let (false, Some(p)) = (custom_ami, &ng.release_parameter) {
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

// ---------------------------------------------------------------- access entries

pub(crate) async fn access_entry(ctx: &Ctx, step: &Step, principal: &str, policy: &str, namespaces: &[String]) -> Result<(), StepError> {
    let cluster = ctx.dep_id("cluster", &step.id)?;
    if let Some(old) = ctx.retire_if_renamed(&step.id, principal) {
        ctx.say(format!("{}: the access entry for {} is replaced by one for {principal}; it is deleted once the run is done", step.id, old.id));
    }
    let existing = found(ctx.eks.describe_access_entry().cluster_name(&cluster).principal_arn(principal).send().await)?.and_then(|o| o.access_entry);
    let adopted = existing.is_some();
    let arn = match existing {
        Some(e) => {
            ctx.say(format!("{}: adopted access entry for {principal}", step.id));
            e.access_entry_arn
        }
        None => {
            let o = ctx
                .eks
                .create_access_entry()
                .cluster_name(&cluster)
                .principal_arn(principal)
                .set_tags(Some(eks_tags(ctx, &step.id)))
                .client_request_token(ctx.token_for(step, &[principal]))
                .send()
                .await
                .map_err(aws_err)?;
            ctx.say(format!("{}: created access entry for {principal}", step.id));
            o.access_entry.and_then(|e| e.access_entry_arn)
        }
    };
    // The policies earlier applies associated with this principal (by any access step: the
    // planner numbers them by position, so a principal can move between steps).
    let earlier: BTreeSet<String> = ctx.prior_for("access/", principal).iter().filter_map(|o| o.extra.get("policy").cloned()).collect();
    let mut o = out_arn(principal, arn.clone());
    if let Some(p) = earlier.first() {
        o = with(o, "policy", p.clone());
    }
    ctx.record(&step.id, o);
    let scope = if namespaces.is_empty() {
        AccessScope::builder().r#type(AccessScopeType::Cluster).build()
    } else {
        AccessScope::builder().r#type(AccessScopeType::Namespace).set_namespaces(Some(namespaces.to_vec())).build()
    };
    let policy_arn = format!("arn:{}:eks::aws:cluster-access-policy/{policy}", ctx.partition());
    let associated = if adopted {
        ctx.eks.list_associated_access_policies().cluster_name(&cluster).principal_arn(principal).send().await.map_err(aws_err)?.associated_access_policies.unwrap_or_default()
    } else {
        Vec::new()
    };
    let same_scope = |s: Option<&AccessScope>| {
        s.is_some_and(|s| s.r#type() == scope.r#type() && s.namespaces().iter().collect::<BTreeSet<_>>() == scope.namespaces().iter().collect::<BTreeSet<_>>())
    };
    if !associated.iter().any(|a| a.policy_arn() == Some(policy_arn.as_str()) && same_scope(a.access_scope())) {
        // Also changes the scope of an association of the same policy.
        ctx.eks
            .associate_access_policy()
            .cluster_name(&cluster)
            .principal_arn(principal)
            .policy_arn(&policy_arn)
            .access_scope(scope.clone())
            .send()
            .await
            .map_err(aws_err)?;
    }
    // The policy an earlier apply associated and the plan no longer names (e.g. ClusterAdmin
    // lowered to View) must go, or the principal keeps it. Associations made by others stay.
    for old in earlier.iter().filter(|p| p.as_str() != policy) {
        let old_arn = format!("arn:{}:eks::aws:cluster-access-policy/{old}", ctx.partition());
        if associated.iter().any(|a| a.policy_arn() == Some(old_arn.as_str())) {
            ctx.eks
                .disassociate_access_policy()
                .cluster_name(&cluster)
                .principal_arn(principal)
                .policy_arn(&old_arn)
                .send()
                .await
                .map_err(aws_err)?;
            ctx.say(format!("{}: removed {old} from {principal}", step.id));
        }
    }
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
