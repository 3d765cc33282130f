//! EKS steps: the cluster (`cluster.rs`), addons (`addons.rs`), managed node groups
//! (`nodegroups.rs`) and access entries (`access.rs`); this file holds what they share: the
//! timeouts, the update waits and the polled state waits.

mod access;
mod addons;
mod cluster;
mod daytwo;
mod lost_create;
mod nodegroups;

pub(crate) use access::*;
pub(crate) use addons::*;
pub(crate) use cluster::*;
pub(crate) use daytwo::deletion_protected;
pub(crate) use nodegroups::*;

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
use crate::replay::{self, Seen};
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
