//! What every step sees: the clients, the plan, the outputs recorded so far, and small helpers
//! (tags, client tokens, error mapping, cancellable waits, progress lines).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use secure_eks_core::plan::{Plan, Step, StepOutput, StepOutputs};
use tokio_util::sync::CancellationToken;

use crate::apply::Progress;
use crate::Aws;

/// The tag naming the cluster (set by the planner in `plan.tags`).
pub(crate) const TAG_CLUSTER: &str = "secure-eks:cluster";
/// The tag naming the step that created a resource.
pub(crate) const TAG_STEP: &str = "secure-eks:step";
/// `extra` key marking an output as a resource we did not create (never deleted).
pub(crate) const EXTRA_EXISTING: &str = "existing";
/// Separates the parts of the key of a resource a step no longer names ([`retired_key`]).
pub(crate) const RETIRED_SEP: char = '~';

/// The output key of resource `id` that step `step` no longer names: `<kind>~<step>~<id>`, e.g.
/// `role~role/sa/app/web~demo-sa-0`. It keeps the step's kind as its head (for destroy) and does
/// not start like any planner step id (so the outputs do not show it as, e.g., a service account
/// role).
pub(crate) fn retired_key(step: &str, id: &str) -> String {
    let head = step.split('/').next().unwrap_or_default();
    format!("{head}{RETIRED_SEP}{step}{RETIRED_SEP}{id}")
}

/// Why one step failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StepError {
    /// An AWS call failed (the text is [`crate::errors::describe`]: what went wrong, then `Fix:`).
    #[error("{0}")]
    Aws(String),
    /// Something the step needs is missing or wrong.
    #[error("{0}")]
    Invalid(String),
    /// The run was cancelled while the step waited.
    #[error("cancelled")]
    Cancelled,
}

/// An SDK error (or waiter error) as a step error, with its full context, named after the
/// operation that failed (`iam:CreateRole failed: ...`), so that an error after the SDK's
/// retries ran out says which call it was.
pub(crate) fn aws_err<E: std::error::Error + 'static>(e: E) -> StepError {
    let text = crate::errors::describe(&e);
    StepError::Aws(match operation_of(std::any::type_name::<E>()) {
        Some(op) => format!("{op} failed: {text}"),
        None => text,
    })
}

/// `service:Operation` from the type of an SDK error: `SdkError<aws_sdk_iam::operation::
/// create_role::CreateRoleError, ...>` (or a waiter error over one) is `iam:CreateRole`. The
/// operation is spelt as AWS spells it, from the error type (`GetOpenIDConnectProviderError`),
/// not from the snake-case module (`get_open_id_connect_provider`).
fn operation_of(type_name: &str) -> Option<String> {
    let rest = &type_name[type_name.find("aws_sdk_")? + "aws_sdk_".len()..];
    let (service, rest) = rest.split_once("::operation::")?;
    let service = match service {
        "cloudwatchlogs" => "logs",
        "elasticloadbalancingv2" => "elasticloadbalancing",
        s => s,
    };
    // Every `<module>::<Type>` after `::operation::`; the one whose type is `<Op>Error` names it.
    let from_type = std::iter::once(rest).chain(rest.split("::operation::").skip(1)).find_map(|r| {
        let mut parts = r.splitn(3, "::");
        let (_module, ty) = (parts.next()?, parts.next()?);
        let ty: String = ty.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        ty.strip_suffix("Error").filter(|op| !op.is_empty()).map(str::to_string)
    });
    let op = match from_type {
        Some(op) => op,
        None => rest
            .split("::")
            .next()?
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
            })
            .collect(),
    };
    Some(format!("{service}:{op}"))
}

/// The error code of an SDK error (`InvalidVpcID.NotFound`, `NoSuchEntity`, ...).
pub(crate) fn code<E: ProvideErrorMetadata>(e: &E) -> &str {
    e.code().unwrap_or_default()
}

/// Whether an error code means "this resource does not exist" (EC2 `*.NotFound*`, IAM
/// `NoSuchEntity`, EKS/Logs `ResourceNotFoundException`, KMS `NotFoundException`, SSM
/// `ParameterNotFound`).
pub(crate) fn is_not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    let c = code(e);
    c.contains("NotFound") || c == "NoSuchEntity"
}

/// `Ok(None)` for "not found", the value for success, an error otherwise.
pub(crate) fn found<T, E: ProvideErrorMetadata + std::error::Error + 'static>(r: Result<T, E>) -> Result<Option<T>, StepError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(aws_err(e)),
    }
}

/// `Ok(())` for success or "not found" (deletes are idempotent).
pub(crate) fn gone<T, E: ProvideErrorMetadata + std::error::Error + 'static>(r: Result<T, E>) -> Result<(), StepError> {
    found(r).map(|_| ())
}

pub(crate) use secure_eks_core::plan::partition;

/// FNV-1a, 64 bits: a stable, dependency-free hash for client tokens (not for security).
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Shared state of one apply / destroy / refresh run.
pub(crate) struct Ctx {
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    pub eks: aws_sdk_eks::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub kms: aws_sdk_kms::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub plan: Plan,
    prior: StepOutputs,
    outputs: Mutex<StepOutputs>,
    progress: Option<Progress>,
    cancel: CancellationToken,
}

impl Ctx {
    pub(crate) fn new(aws: &Aws, plan: &Plan, prior: &StepOutputs, progress: Option<&Progress>, cancel: &CancellationToken) -> Arc<Ctx> {
        Arc::new(Ctx {
            ec2: aws.ec2(),
            iam: aws.iam(),
            eks: aws.eks(),
            ssm: aws.ssm(),
            kms: aws.kms(),
            logs: aws.logs(),
            elbv2: aws.elbv2(),
            plan: plan.clone(),
            prior: prior.clone(),
            outputs: Mutex::new(prior.clone()),
            progress: progress.cloned(),
            cancel: cancel.clone(),
        })
    }

    /// A progress line for the engine (send errors are ignored: nobody may be listening).
    pub(crate) fn say(&self, line: impl Into<String>) {
        let line = line.into();
        tracing::info!("{line}");
        if let Some(p) = &self.progress {
            let _ = p.send(line);
        }
    }

    /// Await `fut` unless the run is cancelled first (used around the SDK waiters).
    pub(crate) async fn wait<T, E: std::error::Error + 'static>(&self, fut: impl Future<Output = Result<T, E>>) -> Result<T, StepError> {
        tokio::select! {
            r = fut => r.map_err(aws_err),
            _ = self.cancel.cancelled() => Err(StepError::Cancelled),
        }
    }

    /// Await an SDK waiter for `what` unless the run is cancelled first, with progress lines:
    /// one when the wait starts, one every [`PROGRESS_EVERY`] while it lasts, one at the end.
    pub(crate) async fn wait_for<T, E: std::error::Error + 'static>(&self, what: &str, fut: impl Future<Output = Result<T, E>>) -> Result<T, StepError> {
        self.say(format!("waiting for {what}"));
        let start = tokio::time::Instant::now();
        let mut tick = tokio::time::interval_at(start + PROGRESS_EVERY, PROGRESS_EVERY);
        tokio::pin!(fut);
        loop {
            tokio::select! {
                r = &mut fut => {
                    let r = r.map_err(aws_err);
                    if r.is_ok() {
                        self.say(format!("{what}: done after {}s", start.elapsed().as_secs()));
                    }
                    return r;
                }
                _ = tick.tick() => self.say(format!("still waiting for {what} ({}s)", start.elapsed().as_secs())),
                _ = self.cancel.cancelled() => return Err(StepError::Cancelled),
            }
        }
    }

    /// Await `fut` unless the run is cancelled first (for our own futures: their errors are kept).
    pub(crate) async fn unless_cancelled<T>(&self, fut: impl Future<Output = Result<T, StepError>>) -> Result<T, StepError> {
        tokio::select! {
            r = fut => r,
            _ = self.cancel.cancelled() => Err(StepError::Cancelled),
        }
    }

    /// Sleep for `d` unless the run is cancelled first.
    pub(crate) async fn sleep(&self, d: Duration) -> Result<(), StepError> {
        tokio::select! {
            _ = tokio::time::sleep(d) => Ok(()),
            _ = self.cancel.cancelled() => Err(StepError::Cancelled),
        }
    }

    /// The output an earlier run recorded for `id`.
    pub(crate) fn prior(&self, id: &str) -> Option<&StepOutput> {
        self.prior.get(id)
    }

    /// Outputs an earlier run recorded for resource `resource` under any step whose id starts with
    /// `prefix` (e.g. `role/`): what was done to a resource is known by its name even when the
    /// step that owns the name changed (the planner names some resources by position).
    pub(crate) fn prior_for(&self, prefix: &str, resource: &str) -> Vec<&StepOutput> {
        self.prior.iter().filter(|(k, o)| k.starts_with(prefix) && o.id == resource).map(|(_, o)| o).collect()
    }

    /// The step's prior output when it names another resource than `resource` (the inputs changed
    /// the name): that resource is moved to its own key ([`retired_key`]), which no plan has, so it
    /// is deleted with the other orphans after the run converged (unless a step of the plan now
    /// owns it, see `apply::claimed_by`). Returns the retired output.
    pub(crate) fn retire_if_renamed(&self, step: &str, resource: &str) -> Option<StepOutput> {
        let old = self.prior(step).filter(|p| p.id != resource)?.clone();
        let mut outs = self.outputs.lock().unwrap_or_else(PoisonError::into_inner);
        outs.remove(step);
        outs.insert(retired_key(step, &old.id), old.clone());
        Some(old)
    }

    /// Move the step's prior output to its own key ([`retired_key`]): the resource still exists
    /// but the step will make another, so it is deleted with the other orphans after the run
    /// converged.
    pub(crate) fn retire(&self, step: &str) {
        let mut outs = self.outputs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = outs.remove(step) {
            outs.insert(retired_key(step, &old.id), old);
        }
    }

    /// The output recorded for step `id` in this run (or carried over from the prior run).
    pub(crate) fn get(&self, id: &str) -> Option<StepOutput> {
        self.outputs.lock().unwrap_or_else(PoisonError::into_inner).get(id).cloned()
    }

    /// The output of a step this step depends on.
    pub(crate) fn dep(&self, id: &str, by: &str) -> Result<StepOutput, StepError> {
        self.get(id).ok_or_else(|| StepError::Invalid(format!("step {id} (needed by {by}) has no recorded output")))
    }

    /// The primary id of a dependency.
    pub(crate) fn dep_id(&self, id: &str, by: &str) -> Result<String, StepError> {
        self.dep(id, by).map(|o| o.id)
    }

    /// The ARN of a dependency.
    pub(crate) fn dep_arn(&self, id: &str, by: &str) -> Result<String, StepError> {
        self.dep(id, by)?.arn.ok_or_else(|| StepError::Invalid(format!("step {id} (needed by {by}) has no ARN")))
    }

    /// Record (or update) the output of a step. Steps record as soon as the AWS id is known, so a
    /// failure or cancellation later in the step still leaves the resource in `done`.
    pub(crate) fn record(&self, id: &str, out: StepOutput) {
        self.outputs.lock().unwrap_or_else(PoisonError::into_inner).insert(id.to_string(), out);
    }

    /// Forget a step's output (the resource is gone).
    pub(crate) fn forget(&self, id: &str) {
        self.outputs.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    /// Everything recorded so far.
    pub(crate) fn outputs(&self) -> StepOutputs {
        self.outputs.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn cluster(&self) -> &str {
        &self.plan.cluster_name
    }

    /// The value of our ownership tag (`secure-eks:cluster`): what the planner put in
    /// `plan.tags` (unique per region and stack), else the cluster name.
    pub(crate) fn owner(&self) -> &str {
        self.plan.tags.get(TAG_CLUSTER).map_or(self.plan.cluster_name.as_str(), String::as_str)
    }

    pub(crate) fn region(&self) -> &str {
        &self.plan.region
    }

    pub(crate) fn partition(&self) -> &'static str {
        partition(&self.plan.region)
    }

    /// `plan.tags` plus the step tag.
    pub(crate) fn tags(&self, step: &str) -> BTreeMap<String, String> {
        let mut t = self.plan.tags.clone();
        t.insert(TAG_CLUSTER.into(), self.owner().to_string());
        t.insert(TAG_STEP.into(), step.into());
        t
    }

    /// Refuse to adopt, by its name alone, a resource some other owner made: it must carry our
    /// `secure-eks:cluster` tag (`tag` is its value there, if any).
    pub(crate) fn check_owner(&self, what: &str, tag: Option<&str>) -> Result<(), StepError> {
        self.check_owner_or(what, tag, "")
    }

    /// [`Ctx::check_owner`] with one more way out (`also`, e.g. "set encryption.kmsKeyArn to use
    /// this key") named in the error.
    pub(crate) fn check_owner_or(&self, what: &str, tag: Option<&str>, also: &str) -> Result<(), StepError> {
        if tag == Some(self.owner()) {
            return Ok(());
        }
        let whose = match tag {
            Some(t) => format!("it is tagged {TAG_CLUSTER}={t}"),
            None => format!("it has no {TAG_CLUSTER} tag"),
        };
        Err(StepError::Invalid(format!(
            "{what} already exists and is not ours ({whose}, not {}): refusing to adopt it, so it is neither changed nor deleted; \
             choose another clusterName{also}, delete it if nobody needs it, or, if it belongs to a secure-eks cluster of another stack, `pulumi import` that cluster",
            self.owner()
        )))
    }

    /// EC2 tags: [`Ctx::tags`] plus `Name=<cluster>-<step id>`.
    pub(crate) fn ec2_tags(&self, step: &str) -> Vec<aws_sdk_ec2::types::Tag> {
        let mut t = self.tags(step);
        t.insert("Name".into(), format!("{}-{}", self.plan.cluster_name, step));
        t.into_iter().map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build()).collect()
    }

    /// The EC2 filters that find what step `id` created.
    pub(crate) fn ec2_tag_filters(&self, step: &str) -> Vec<aws_sdk_ec2::types::Filter> {
        vec![
            aws_sdk_ec2::types::Filter::builder().name(format!("tag:{TAG_CLUSTER}")).values(self.owner()).build(),
            aws_sdk_ec2::types::Filter::builder().name(format!("tag:{TAG_STEP}")).values(step).build(),
        ]
    }

    /// An idempotency token for a create call: a hash of the cluster name and step id, plus a hash
    /// of the step's dependency outputs (ids, ARNs and `createdAt`). The second half changes when a
    /// dependency is re-created, so a cluster that is destroyed and created again does not get
    /// back the deleted resource from the API's idempotency cache; retries within one generation
    /// reuse the token. At most 43 ASCII characters (EC2 allows 64).
    pub(crate) fn token(&self, step: &Step) -> String {
        self.token_for(step, &[])
    }

    /// [`Ctx::token`] that also covers `names`: the inputs that name the resource when they can
    /// change while the step id stays (an access entry's principal is planned by position), so
    /// that a create for a new name never meets the cached answer for the old one.
    pub(crate) fn token_for(&self, step: &Step, names: &[&str]) -> String {
        let outs = self.outputs();
        let mut parts: Vec<String> = Vec::new();
        for d in &step.deps {
            if let Some(o) = outs.get(d) {
                parts.push(d.clone());
                parts.push(o.id.clone());
                parts.push(o.arn.clone().unwrap_or_default());
                parts.push(o.extra.get("createdAt").cloned().unwrap_or_default());
            }
        }
        let mut refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        refs.extend_from_slice(names);
        format!("secure-eks-{:016x}{:016x}", fnv1a(&[&self.plan.cluster_name, &step.id]), fnv1a(&refs))
    }

    /// The token after `token` when its create was answered with `dead`, a resource that no
    /// longer exists (see `replay.rs`): a hash of both, so every run derives the same one.
    pub(crate) fn next_token(&self, step: &Step, token: &str, dead: &str) -> String {
        format!("secure-eks-{:016x}{:016x}", fnv1a(&[&self.plan.cluster_name, &step.id]), fnv1a(&[token, dead]))
    }
}

/// Delay between polls of the hand-written waits ([`poll`]).
pub(crate) const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The delay between polls: [`POLL_INTERVAL`], or `SECURE_EKS_POLL_INTERVAL_MS` (at least 10 ms)
/// when set: the tests run against an emulator whose clock is scaled down (one second per real
/// AWS minute), where polling every 5 s would make every wait minutes long.
pub(crate) fn poll_interval() -> Duration {
    static INTERVAL: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *INTERVAL.get_or_init(|| {
        std::env::var("SECURE_EKS_POLL_INTERVAL_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|ms| Duration::from_millis(ms.max(10)))
            .unwrap_or(POLL_INTERVAL)
    })
}

/// How often a long wait says that it is still waiting.
pub(crate) const PROGRESS_EVERY: Duration = Duration::from_secs(20);

/// Poll `f` until it returns `Some`, for conditions the SDK has no waiter for. Each call is
/// retried by the SDK itself; this only waits between observations, and stops at once when the
/// run is cancelled (also while an observation is in flight).
pub(crate) async fn poll<T, F, Fut>(ctx: &Ctx, what: &str, timeout: Duration, mut f: F) -> Result<T, StepError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, StepError>>,
{
    let start = tokio::time::Instant::now();
    let mut said = None;
    loop {
        let observed = tokio::select! {
            r = f() => r?,
            _ = ctx.cancel.cancelled() => return Err(StepError::Cancelled),
        };
        if let Some(v) = observed {
            if said.is_some() {
                ctx.say(format!("{what}: done after {}s", start.elapsed().as_secs()));
            }
            return Ok(v);
        }
        if start.elapsed() >= timeout {
            return Err(StepError::Invalid(format!("timed out after {}s waiting for {what}", timeout.as_secs())));
        }
        // Progress: when the wait starts, then every PROGRESS_EVERY.
        match said {
            None => {
                ctx.say(format!("waiting for {what}"));
                said = Some(start);
            }
            Some(at) if at.elapsed() >= PROGRESS_EVERY => {
                ctx.say(format!("still waiting for {what} ({}s)", start.elapsed().as_secs()));
                said = Some(tokio::time::Instant::now());
            }
            Some(_) => {}
        }
        ctx.sleep(poll_interval().min(timeout.saturating_sub(start.elapsed()))).await?;
    }
}

/// An idempotency token for a later change of an existing resource (e.g. a new launch template
/// version): the cluster and step, and `parts` (what the change starts from and what it sets), so
/// that a retried call is deduplicated but a different change is not. 43 ASCII characters.
pub(crate) fn change_token(ctx: &Ctx, step: &Step, parts: &[&str]) -> String {
    format!("secure-eks-{:016x}{:016x}", fnv1a(&[ctx.cluster(), &step.id]), fnv1a(parts))
}

/// A new output with just an id.
pub(crate) fn out(id: impl Into<String>) -> StepOutput {
    StepOutput { id: id.into(), arn: None, extra: BTreeMap::new() }
}

/// A new output with an id and an ARN.
pub(crate) fn out_arn(id: impl Into<String>, arn: Option<String>) -> StepOutput {
    StepOutput { id: id.into(), arn, extra: BTreeMap::new() }
}

/// Add an `extra` value.
pub(crate) fn with(mut o: StepOutput, key: &str, value: impl Into<String>) -> StepOutput {
    o.extra.insert(key.to_string(), value.into());
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable_and_separates_parts() {
        assert_eq!(fnv1a(&["a", "b"]), fnv1a(&["a", "b"]));
        assert_ne!(fnv1a(&["ab", ""]), fnv1a(&["a", "b"]));
    }

    #[test]
    fn errors_name_the_operation() {
        assert_eq!(
            operation_of("aws_smithy_runtime_api::client::result::SdkError<aws_sdk_iam::operation::create_role::CreateRoleError, aws_smithy_runtime_api::http::Response>").as_deref(),
            Some("iam:CreateRole")
        );
        assert_eq!(operation_of("aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupError").as_deref(), Some("logs:CreateLogGroup"));
        assert_eq!(operation_of("std::io::Error"), None);
    }

    #[test]
    fn errors_name_the_operation_as_aws_spells_it() {
        // The module is snake case (`get_open_id_connect_provider`), the operation is not
        // (`GetOpenIDConnectProvider`): the name comes from the error type.
        assert_eq!(
            operation_of("aws_smithy_runtime_api::client::result::SdkError<aws_sdk_iam::operation::get_open_id_connect_provider::GetOpenIDConnectProviderError, aws_smithy_runtime_api::http::Response>").as_deref(),
            Some("iam:GetOpenIDConnectProvider")
        );
        // A waiter error names its output type first.
        assert_eq!(
            operation_of("aws_smithy_runtime_api::client::waiters::error::WaiterError<aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput, aws_sdk_eks::operation::describe_cluster::DescribeClusterError>").as_deref(),
            Some("eks:DescribeCluster")
        );
    }

    #[test]
    fn partitions() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }
}
