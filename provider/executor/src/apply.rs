//! Running a plan against AWS: create (or adopt) every step along the dependency graph, delete
//! in reverse, and re-read what exists.
//!
//! - **apply**: a step starts when all its dependencies finished (at most
//!   [`graph::MAX_CONCURRENCY`] at once, adaptively). Each step adopts what exists (the prior run's id, else the
//!   `secure-eks:cluster` + `secure-eks:step` tags, else the deterministic name) and creates only
//!   what is missing, then converges an adopted resource to the plan where AWS changes it in
//!   place (after a change of inputs, `apply(new_plan, prior_outputs)`): the cluster's Kubernetes
//!   version (one minor up), endpoint access and logging; node group sizes, labels, taints,
//!   version, AMI release and launch template version; addon version and configuration; log
//!   retention; a new launch template version; role trust, policies and boundary; access policy.
//!   Every setting is compared with what AWS describes first, so an apply with nothing to change
//!   makes no mutating call; what cannot change in place (e.g. a node group's instance types) is
//!   a step error naming the setting, before any call. Updates are waited for (DescribeUpdate,
//!   then Describe* polled until ACTIVE, with progress lines) with named timeouts, and
//!   cancellation stops the wait. Before the first step, `ec2::preflight` leaves out endpoints
//!   the region lacks and checks a user's VPC (DNS attributes, its own endpoints). A step
//!   records its output as soon as the AWS id is known, so a failure or cancellation later still
//!   reports the resource in [`ApplyError::done`]. After the first failure no new step starts;
//!   running ones finish.
//! - **destroy**: a recorded step is deleted once every step that depends on it (directly or
//!   through steps that were never created) is gone. Existing resources (`Existing*` steps) are
//!   never deleted; "not found" counts as deleted. Between the cluster and the network, what
//!   Kubernetes, EKS and GuardDuty left in the VPC is deleted (`leftovers.rs`), and before
//!   DeleteVpc anything else still in it is named in the error.
//! - **refresh**: every recorded step is described again; gone ones are dropped.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::StreamExt;
use secure_eks_core::plan::{Action, Plan, Step, StepOutput, StepOutputs};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::ctx::{Ctx, StepError, EXTRA_EXISTING, RETIRED_SEP};
use crate::graph::{self, Node};
use crate::{ec2, eks, iam, kms, leftovers, logs, Aws};

/// Progress lines for the engine's status display.
pub type Progress = tokio::sync::mpsc::UnboundedSender<String>;

/// A run that stopped part-way: what exists now, and why it stopped.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", reasons.join("; "))]
pub struct ApplyError {
    /// The outputs of every step that exists (created or adopted) at the time of the error.
    pub done: StepOutputs,
    /// What went wrong, one line per failed step (`<step id>: <AWS error>`).
    pub reasons: Vec<String>,
}

/// The reason given when a run is cancelled.
pub const CANCELLED: &str = "cancelled";

/// What kind of AWS resource a step made (from its action, or from the step id's prefix for
/// recorded steps the current plan no longer has).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Vpc,
    VpcCidr,
    Subnet,
    Igw,
    Nat,
    RouteTable,
    Sg,
    Rule,
    Vpce,
    Kms,
    LogGroup,
    Role,
    Cluster,
    Oidc,
    Addon,
    LaunchTemplate,
    NodeGroup,
    Access,
}

impl Kind {
    fn of_action(a: &Action) -> Kind {
        match a {
            Action::Vpc { .. } | Action::ExistingVpc { .. } => Kind::Vpc,
            Action::VpcCidrBlock { .. } => Kind::VpcCidr,
            Action::Subnet { .. } | Action::ExistingSubnet { .. } => Kind::Subnet,
            Action::InternetGateway => Kind::Igw,
            Action::NatGateway { .. } => Kind::Nat,
            Action::RouteTable { .. } => Kind::RouteTable,
            Action::SecurityGroup { .. } => Kind::Sg,
            Action::IngressRule { .. } => Kind::Rule,
            Action::GatewayEndpoint { .. } | Action::InterfaceEndpoint { .. } => Kind::Vpce,
            Action::KmsKey { .. } | Action::ExistingKmsKey { .. } => Kind::Kms,
            Action::LogGroup { .. } => Kind::LogGroup,
            Action::Role { .. } => Kind::Role,
            Action::Cluster(_) => Kind::Cluster,
            Action::OidcProvider => Kind::Oidc,
            Action::Addon { .. } => Kind::Addon,
            Action::LaunchTemplate(_) => Kind::LaunchTemplate,
            Action::NodeGroup(_) => Kind::NodeGroup,
            Action::AccessEntry { .. } => Kind::Access,
        }
    }

    /// The planner's step id conventions.
    pub(crate) fn of_id(id: &str) -> Option<Kind> {
        // A retired resource's key starts with its kind and `~` (see `ctx::retired_key`).
        let head = id.split('/').next().unwrap_or_default();
        let head = head.split(RETIRED_SEP).next().unwrap_or_default();
        Some(match head {
            "vpc" if id.contains('/') => Kind::VpcCidr,
            "vpc" => Kind::Vpc,
            "subnet" => Kind::Subnet,
            "igw" => Kind::Igw,
            "nat" => Kind::Nat,
            "rtb" => Kind::RouteTable,
            "sg" => Kind::Sg,
            "sgrule" => Kind::Rule,
            "vpce" => Kind::Vpce,
            "kms" => Kind::Kms,
            "loggroup" => Kind::LogGroup,
            "role" => Kind::Role,
            "cluster" => Kind::Cluster,
            "oidc" => Kind::Oidc,
            "addon" => Kind::Addon,
            "lt" => Kind::LaunchTemplate,
            "nodegroup" => Kind::NodeGroup,
            "access" => Kind::Access,
            _ => return None,
        })
    }

    /// Creation tier, used only to order recorded steps that are not in the plan: a step of a
    /// higher tier may depend on lower tiers, never the reverse.
    fn tier(self) -> u8 {
        match self {
            Kind::Vpc | Kind::Kms | Kind::LogGroup | Kind::Role => 0,
            Kind::VpcCidr => 1,
            Kind::Subnet | Kind::Igw | Kind::Sg => 2,
            Kind::RouteTable | Kind::Rule => 3,
            Kind::Nat | Kind::Vpce | Kind::LaunchTemplate => 4,
            Kind::Cluster => 5,
            Kind::Oidc | Kind::Access => 6,
            Kind::Addon => 7,
            Kind::NodeGroup => 8,
        }
    }
}

/// Whether the recorded step `id` is a resource we did not create (the user's VPC, subnets or
/// KMS key): never deleted, and not a sign that the cluster still exists.
pub fn is_existing(plan: &Plan, id: &str, o: &StepOutput) -> bool {
    let by_action = matches!(
        plan.step(id).map(|s| &s.action),
        Some(Action::ExistingVpc { .. } | Action::ExistingSubnet { .. } | Action::ExistingKmsKey { .. })
    );
    by_action || o.extra.get(EXTRA_EXISTING).is_some_and(|v| v == "true")
}

/// The step of `plan`, other than `id`, that now owns the resource recorded as `o` under `id`,
/// if any. Roles and access entries are named from inputs that can move between steps (the
/// planner numbers them by position): such a resource must not be deleted with the step that no
/// longer names it, since the other step adopted it.
fn claimed_by<'p>(plan: &'p Plan, id: &str, kind: Kind, o: &StepOutput) -> Option<&'p str> {
    plan.steps
        .iter()
        .filter(|s| s.id != id)
        .find(|s| match (&s.action, kind) {
            (Action::Role { name, .. }, Kind::Role) => *name == o.id,
            (Action::AccessEntry { principal_arn, .. }, Kind::Access) => *principal_arn == o.id,
            _ => false,
        })
        .map(|s| s.id.as_str())
}

fn kind(plan: &Plan, id: &str) -> Option<Kind> {
    plan.step(id).map(|s| Kind::of_action(&s.action)).or_else(|| Kind::of_id(id))
}

/// Create or adopt one step.
async fn create(ctx: &Ctx, step: &Step) -> Result<(), StepError> {
    match &step.action {
        Action::Vpc { cidr } => ec2::vpc(ctx, step, cidr).await,
        Action::ExistingVpc { vpc_id } => ec2::existing_vpc(ctx, step, vpc_id).await,
        Action::VpcCidrBlock { cidr } => ec2::vpc_cidr(ctx, step, cidr).await,
        Action::Subnet { role, az, cidr } => ec2::subnet(ctx, step, *role, az, cidr).await,
        Action::ExistingSubnet { subnet_id, .. } => ec2::existing_subnet(ctx, step, subnet_id).await,
        Action::InternetGateway => ec2::internet_gateway(ctx, step).await,
        Action::NatGateway { subnet } => ec2::nat_gateway(ctx, step, subnet).await,
        Action::RouteTable { subnets, default_route } => ec2::route_table(ctx, step, subnets, default_route.as_ref()).await,
        Action::SecurityGroup { role, description } => ec2::security_group(ctx, step, *role, description).await,
        Action::IngressRule { .. } => ec2::ingress_rule(ctx, step).await,
        Action::GatewayEndpoint { service, route_tables, subnets } => ec2::gateway_endpoint(ctx, step, service, route_tables, subnets).await,
        Action::InterfaceEndpoint { service, subnets } => ec2::interface_endpoint(ctx, step, service, subnets).await,
        Action::KmsKey { alias } => kms::kms_key(ctx, step, alias).await,
        Action::ExistingKmsKey { arn } => kms::existing_kms_key(ctx, step, arn).await,
        Action::LogGroup { name, retention_days } => logs::log_group(ctx, step, name, *retention_days).await,
        Action::Role { name, trust_policy, managed_policies, inline_policy, permissions_boundary } => {
            iam::role(ctx, step, name, trust_policy, managed_policies, inline_policy.as_deref(), permissions_boundary.as_deref()).await
        }
        Action::Cluster(c) => eks::cluster(ctx, step, c).await,
        Action::OidcProvider => iam::oidc_provider(ctx, step).await,
        Action::Addon { name, version, configuration, eni_configs, pod_identities } => {
            eks::addon(ctx, step, name, version.as_deref(), configuration, eni_configs, pod_identities).await
        }
        Action::LaunchTemplate(lt) => ec2::launch_template(ctx, step, lt).await,
        Action::NodeGroup(ng) => eks::nodegroup(ctx, step, ng).await,
        Action::AccessEntry { principal_arn, policy, namespaces } => eks::access_entry(ctx, step, principal_arn, policy, namespaces).await,
    }
}

/// Delete one recorded step.
async fn delete(ctx: &Ctx, kind: Kind, o: &StepOutput) -> Result<(), StepError> {
    match kind {
        Kind::Vpc => ec2::delete_vpc(ctx, o).await,
        Kind::VpcCidr => ec2::delete_vpc_cidr(ctx, o).await,
        Kind::Subnet => ec2::delete_subnet(ctx, o).await,
        Kind::Igw => ec2::delete_igw(ctx, o).await,
        Kind::Nat => ec2::delete_nat(ctx, o).await,
        Kind::RouteTable => ec2::delete_rtb(ctx, o).await,
        Kind::Sg => ec2::delete_sg(ctx, o).await,
        Kind::Rule => ec2::delete_rule(ctx, o).await,
        Kind::Vpce => ec2::delete_vpce(ctx, o).await,
        Kind::Kms => kms::delete_key(ctx, o).await,
        Kind::LogGroup => logs::delete_log_group(ctx, o).await,
        Kind::Role => iam::delete_role(ctx, o).await,
        Kind::Cluster => eks::delete_cluster(ctx, o).await,
        Kind::Oidc => iam::delete_oidc(ctx, o).await,
        Kind::Addon => eks::delete_addon(ctx, o).await,
        Kind::LaunchTemplate => ec2::delete_lt(ctx, o).await,
        Kind::NodeGroup => eks::delete_nodegroup(ctx, o).await,
        Kind::Access => eks::delete_access_entry(ctx, o).await,
    }
}

/// Describe one recorded step again: `None` when it is gone.
async fn describe(ctx: &Ctx, kind: Kind, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    match kind {
        Kind::Vpc => ec2::refresh_vpc(ctx, o).await,
        Kind::VpcCidr => ec2::refresh_vpc_cidr(ctx, o).await,
        Kind::Subnet => ec2::refresh_subnet(ctx, o).await,
        Kind::Igw => ec2::refresh_igw(ctx, o).await,
        Kind::Nat => ec2::refresh_nat(ctx, o).await,
        Kind::RouteTable => ec2::refresh_rtb(ctx, o).await,
        Kind::Sg => ec2::refresh_sg(ctx, o).await,
        Kind::Rule => ec2::refresh_rule(ctx, o).await,
        Kind::Vpce => ec2::refresh_vpce(ctx, o).await,
        Kind::Kms => kms::refresh_key(ctx, o).await,
        Kind::LogGroup => logs::refresh_log_group(ctx, o).await,
        Kind::Role => iam::refresh_role(ctx, o).await,
        Kind::Cluster => eks::refresh_cluster(ctx, o).await,
        Kind::Oidc => iam::refresh_oidc(ctx, o).await,
        Kind::Addon => eks::refresh_addon(ctx, o).await,
        Kind::LaunchTemplate => ec2::refresh_lt(ctx, o).await,
        Kind::NodeGroup => eks::refresh_nodegroup(ctx, o).await,
        Kind::Access => eks::refresh_access_entry(ctx, o).await,
    }
}

/// Keep the `existing` marker and any values the describe call does not give back.
fn merge(old: &StepOutput, mut new: StepOutput) -> StepOutput {
    for (k, v) in &old.extra {
        new.extra.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if new.arn.is_none() {
        new.arn = old.arn.clone();
    }
    new
}

fn reasons(failures: Vec<(String, StepError)>, aborted: Vec<String>, cancelled: bool) -> Vec<String> {
    let mut cancelled = cancelled;
    let mut out = Vec::new();
    for (id, e) in failures {
        match e {
            StepError::Cancelled => cancelled = true,
            e => out.push(format!("{id}: {e}")),
        }
    }
    out.extend(aborted);
    if cancelled {
        out.push(CANCELLED.to_string());
    }
    out
}

/// The plan's own consistency: unique ids, dependencies that exist.
fn check_plan(plan: &Plan) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for s in &plan.steps {
        if !seen.insert(s.id.as_str()) {
            problems.push(format!("{}: duplicate step id in the plan", s.id));
        }
    }
    for s in &plan.steps {
        for d in s.deps.iter().filter(|d| !seen.contains(d.as_str())) {
            problems.push(format!("{}: depends on {d}, which is not in the plan", s.id));
        }
    }
    problems
}

impl Aws {
    /// Create or adopt every step of `plan`. `prior` holds the outputs of an earlier (possibly
    /// partial) run; steps found there or by their tags are adopted, not duplicated. Prior
    /// outputs of steps the plan no longer has are kept (so that nothing is forgotten; `destroy`
    /// deletes them).
    pub async fn apply(
        &self,
        plan: &Plan,
        prior: &StepOutputs,
        cancel: &CancellationToken,
        progress: &Progress,
    ) -> Result<StepOutputs, ApplyError> {
        let problems = check_plan(plan);
        if !problems.is_empty() {
            return Err(ApplyError { done: prior.clone(), reasons: problems });
        }
        let ctx = Ctx::new(self, plan, prior, Some(progress), cancel);
        ctx.say(format!("applying {} steps for cluster {}", plan.steps.len(), plan.cluster_name));
        // Before any create: endpoints the region lacks are left out, those an existing VPC has
        // are used; an existing VPC without DNS support fails here.
        let pre = match ec2::preflight(&ctx).await {
            Ok(p) => p,
            Err(e) => return Err(ApplyError { done: prior.clone(), reasons: vec![format!("preflight: {e}")] }),
        };
        let mut left_out: BTreeSet<String> = pre.skipped.iter().map(|(id, _)| id.clone()).collect();
        for (id, o) in pre.existing {
            ctx.record(&id, o);
            left_out.insert(id);
        }
        let run: Vec<Step> = plan
            .steps
            .iter()
            .filter(|s| !left_out.contains(&s.id))
            .map(|s| Step { deps: s.deps.iter().filter(|d| !left_out.contains(*d)).cloned().collect(), ..s.clone() })
            .collect();
        let nodes: Vec<Node> = run.iter().map(|s| Node { id: s.id.clone(), deps: s.deps.clone() }).collect();
        let steps: Arc<Vec<Step>> = Arc::new(run);
        let outcome = graph::run(&nodes, graph::MAX_CONCURRENCY, cancel, |id| {
            let ctx = Arc::clone(&ctx);
            let steps = Arc::clone(&steps);
            // The SDK's per-operation spans nest under this one: `bench/` counts the AWS calls of
            // each step (and their overlap) from them.
            let span = tracing::debug_span!("step", id = %id);
            async move {
                let Some(step) = steps.iter().find(|s| s.id == id) else {
                    return Err(StepError::Invalid("not in the plan".into()));
                };
                ctx.say(format!("{id}: started"));
                let r = create(&ctx, step).await;
                match &r {
                    Ok(()) if ctx.get(&id).is_none() => return Err(StepError::Invalid("the step recorded no output".into())),
                    Ok(()) => ctx.say(format!("{id}: done")),
                    Err(StepError::Cancelled) => ctx.say(format!("{id}: cancelled")),
                    Err(e) => ctx.say(format!("{id}: failed: {e}")),
                }
                r
            }
            .instrument(span)
        })
        .await;
        let done = ctx.outputs();
        let reasons = reasons(outcome.failures, outcome.aborted, outcome.cancelled);
        if reasons.is_empty() {
            ctx.say(format!("cluster {}: all {} steps done", plan.cluster_name, plan.steps.len()));
            Ok(done)
        } else {
            Err(ApplyError { done, reasons })
        }
    }

    /// Delete every step recorded in `outputs`, in reverse dependency order. On error, `done`
    /// holds the outputs of the steps that still exist.
    pub async fn destroy(
        &self,
        plan: &Plan,
        outputs: &StepOutputs,
        cancel: &CancellationToken,
        progress: &Progress,
    ) -> Result<(), ApplyError> {
        let ctx = Ctx::new(self, plan, outputs, Some(progress), cancel);
        // The forward graph: the plan's steps, then recorded steps the plan does not have, which
        // are ordered after every step of a lower creation tier.
        let mut forward: Vec<Node> = plan.steps.iter().map(|s| Node { id: s.id.clone(), deps: s.deps.clone() }).collect();
        let mut unknown = Vec::new();
        for id in outputs.keys().filter(|id| plan.step(id).is_none()) {
            match Kind::of_id(id) {
                Some(k) => {
                    let deps = forward.iter().filter(|n| kind(plan, &n.id).is_some_and(|nk| nk.tier() < k.tier())).map(|n| n.id.clone()).collect();
                    forward.push(Node { id: id.clone(), deps });
                }
                None => unknown.push(format!("{id}: not in the plan and of an unknown kind; delete it by hand")),
            }
        }
        // A cluster with deletion protection on stops the destroy before anything is deleted.
        match eks::deletion_protected(&ctx, outputs).await {
            Ok(None) => {}
            Ok(Some(why)) => return Err(ApplyError { done: outputs.clone(), reasons: vec![why] }),
            Err(e) => return Err(ApplyError { done: outputs.clone(), reasons: vec![format!("cluster: {e}")] }),
        }
        let mut present: BTreeSet<String> = outputs.keys().cloned().collect();
        // What Kubernetes, EKS and GuardDuty left in the VPC goes after the cluster and its node
        // groups, before the VPC, its subnets and security groups (leftovers.rs).
        if outputs.contains_key("vpc") {
            let network: Vec<String> =
                forward.iter().filter(|n| matches!(kind(plan, &n.id), Some(Kind::Vpc | Kind::VpcCidr | Kind::Subnet | Kind::Sg))).map(|n| n.id.clone()).collect();
            for n in forward.iter_mut().filter(|n| matches!(kind(plan, &n.id), Some(Kind::Cluster | Kind::NodeGroup))) {
                n.deps.push(leftovers::LEFTOVERS.to_string());
            }
            forward.push(Node { id: leftovers::LEFTOVERS.to_string(), deps: network });
            present.insert(leftovers::LEFTOVERS.to_string());
        }
        let nodes = graph::reverse(&forward, &present);
        ctx.say(format!("destroying {} recorded steps of cluster {}", nodes.iter().filter(|n| n.id != leftovers::LEFTOVERS).count(), plan.cluster_name));
        let outcome = graph::run(&nodes, graph::MAX_CONCURRENCY, cancel, |id| {
            let ctx = Arc::clone(&ctx);
            async move {
                if id == leftovers::LEFTOVERS {
                    let r = leftovers::delete_leftovers(&ctx).await;
                    if let Err(e) = &r {
                        ctx.say(format!("{id}: failed: {e}"));
                    }
                    return r;
                }
                let Some(o) = ctx.get(&id) else { return Ok(()) };
                if is_existing(&ctx.plan, &id, &o) {
                    ctx.say(format!("{id}: existing resource {} is kept", o.id));
                    return Ok(());
                }
                let Some(k) = kind(&ctx.plan, &id) else {
                    return Err(StepError::Invalid("unknown kind of step".into()));
                };
                if let Some(owner) = claimed_by(&ctx.plan, &id, k, &o) {
                    ctx.say(format!("{id}: {} now belongs to step {owner}; kept", o.id));
                    ctx.forget(&id);
                    return Ok(());
                }
                if k == Kind::Vpc {
                    // Name what this stack may not delete instead of waiting out DependencyViolation.
                    leftovers::check_vpc_free(&ctx, &o.id).await.inspect_err(|e| ctx.say(format!("{id}: delete failed: {e}")))?;
                }
                ctx.say(format!("{id}: deleting {}", o.id));
                match delete(&ctx, k, &o).await {
                    Ok(()) => {
                        ctx.forget(&id);
                        ctx.say(format!("{id}: deleted"));
                        Ok(())
                    }
                    Err(e) => {
                        ctx.say(format!("{id}: delete failed: {e}"));
                        Err(e)
                    }
                }
            }
        })
        .await;
        let mut reasons = reasons(outcome.failures, outcome.aborted, outcome.cancelled);
        reasons.extend(unknown);
        if reasons.is_empty() {
            ctx.say(format!("cluster {}: destroyed", plan.cluster_name));
            Ok(())
        } else {
            Err(ApplyError { done: ctx.outputs(), reasons })
        }
    }

    /// Re-read the recorded steps: returns the outputs of those that still exist, with fresh values.
    pub async fn refresh(&self, plan: &Plan, outputs: &StepOutputs) -> Result<StepOutputs, ApplyError> {
        let ctx = Ctx::new(self, plan, outputs, None, &CancellationToken::new());
        // Owned items keep the stream's future `Send` for callers that spawn it.
        let items: Vec<(String, StepOutput)> = outputs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let results: Vec<(String, Result<Option<StepOutput>, StepError>)> = futures::stream::iter(items)
            .map(|(id, o)| {
                let ctx = Arc::clone(&ctx);
                async move {
                    let (id, o) = (&id, &o);
                    let r = match kind(&ctx.plan, id) {
                        Some(k) => describe(&ctx, k, o).await.map(|n| n.map(|n| merge(o, n))),
                        // Unknown kind: keep it as it is.
                        None => Ok(Some(o.clone())),
                    };
                    (id.clone(), r)
                }
            })
            .buffer_unordered(graph::CONCURRENCY)
            .collect()
            .await;
        let mut fresh = outputs.clone();
        let mut reasons = Vec::new();
        for (id, r) in results {
            match r {
                Ok(Some(o)) => {
                    fresh.insert(id, o);
                }
                Ok(None) => {
                    fresh.remove(&id);
                }
                Err(e) => reasons.push(format!("{id}: {e}")),
            }
        }
        if reasons.is_empty() {
            Ok(fresh)
        } else {
            Err(ApplyError { done: fresh, reasons })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_ids_follow_the_planner() {
        assert_eq!(Kind::of_id("vpc"), Some(Kind::Vpc));
        assert_eq!(Kind::of_id("vpc/pod-cidr"), Some(Kind::VpcCidr));
        assert_eq!(Kind::of_id("subnet/node/us-east-1a"), Some(Kind::Subnet));
        assert_eq!(Kind::of_id("role/sa/app/web"), Some(Kind::Role));
        assert_eq!(Kind::of_id("nodegroup/general"), Some(Kind::NodeGroup));
        assert_eq!(Kind::of_id("mystery"), None);
        // Resources a step no longer names are kept as `<kind>~<step>~<id>`.
        assert_eq!(Kind::of_id(&crate::ctx::retired_key("access/0", "arn:aws:iam::123456789012:role/admin")), Some(Kind::Access));
        assert_eq!(Kind::of_id(&crate::ctx::retired_key("role/sa/app/web", "demo-sa-0")), Some(Kind::Role));
        assert_eq!(crate::ctx::retired_key("role/sa/app/web", "demo-sa-0"), "role~role/sa/app/web~demo-sa-0");
    }

    #[test]
    fn cancelled_steps_give_one_cancelled_reason() {
        let r = reasons(vec![("cluster".into(), StepError::Cancelled), ("vpc".into(), StepError::Aws("boom".into()))], vec![], false);
        assert_eq!(r, vec!["vpc: boom".to_string(), "cancelled".to_string()]);
    }
}
