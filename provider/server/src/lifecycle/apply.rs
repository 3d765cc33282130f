//! Create, update and delete: plan the inputs, gate them on every rule, run the executor, delete
//! what the new plan no longer has, retag after a tag change, and turn a partial run into an
//! error that records what exists.

use std::collections::BTreeMap;

use secure_eks_core::model::{Autoname, PolicyReport};
use secure_eks_core::plan::{Plan, StepOutputs};
use secure_eks_core::value::PropertyMap;
use secure_eks_executor::ApplyError;

use super::checks::{invalid, prepare};
use super::state::{encode_outputs, plan_of, recorded, spec_and_plan};
use super::{Configured, Result, Run};
use crate::errors::ProviderError;

/// Create (or continue a partial create): returns the resource id and its outputs.
pub async fn create(run: &Run, props: &PropertyMap) -> Result<(String, PropertyMap)> {
    apply(run, props, &PropertyMap::new(), None).await
}

/// Update: converge the recorded resources (`olds`, the current outputs) to `news`. `old_inputs`
/// are the last run's inputs: when their tags differ, every resource is retagged.
pub async fn update(run: &Run, news: &PropertyMap, olds: &PropertyMap, old_inputs: PropertyMap) -> Result<PropertyMap> {
    let old_tags = spec_and_plan(&old_inputs, &run.configured, &run.urn, olds).ok().map(|(_, p)| p.tags);
    let (_, outputs) = apply(run, news, olds, old_tags.map(|t| (t, old_inputs))).await?;
    Ok(outputs)
}

/// Delete every recorded resource. On failure, the state keeps them all and the next destroy
/// continues ("not found" counts as deleted).
pub async fn delete(run: &Run, outputs: &PropertyMap, inputs: &PropertyMap) -> Result<()> {
    let steps = recorded(outputs);
    if steps.is_empty() {
        return Ok(());
    }
    let (_, plan) = spec_and_plan(inputs, &run.configured, &run.urn, outputs)?;
    let (result, timed_out) = run.timeout.run(&run.cancel, run.configured.aws.destroy(&plan, &steps, &run.cancel, &run.progress)).await;
    result.map_err(|e| if timed_out { timed_out_error(run, e) } else { e }).map_err(|e| {
        ProviderError::FailedPrecondition(format!(
            "delete stopped; these resources still exist and the next destroy continues: {}: {e}",
            e.done.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })
}

/// The inputs decoded once: the spec with its defaults, its plan, and the gate on every rule
/// (the deferred and AWS-backed ones with real values) before the first mutating call.
async fn plan_and_gate(run: &Run, props: &PropertyMap, olds: &PropertyMap) -> Result<(Plan, PolicyReport)> {
    let configured = &run.configured;
    let prepared = prepare(props, &PropertyMap::new(), Autoname::Disabled, Some(&configured.region)).map_err(|e| invalid(&e))?;
    if !prepared.annotations.unknowns.is_empty() {
        return Err(ProviderError::Internal("unknown values outside preview".into()));
    }
    let (spec, report) = prepared.gate(configured).await?;
    let plan = plan_of(&spec, configured, &run.urn, olds)?;
    Ok((plan, report))
}

/// Create or converge: plan, run the executor, delete orphans, retag; report partial state as
/// an init error. With `retag` (the last run's tags and inputs), every resource is retagged when
/// the tags changed.
async fn apply(
    run: &Run,
    props: &PropertyMap,
    olds: &PropertyMap,
    retag: Option<(BTreeMap<String, String>, PropertyMap)>,
) -> Result<(String, PropertyMap)> {
    let configured = &run.configured;
    let (plan, report) = plan_and_gate(run, props, olds).await?;
    let prior = recorded(olds);
    let (progress, cancel) = (&run.progress, &run.cancel);
    // Past the deadline the run is cancelled and then awaited: it reports every resource it
    // recorded, including those whose create call was in flight.
    let (result, mut timed_out) = run.timeout.run(cancel, configured.aws.apply(&plan, &prior, cancel, progress)).await;
    let id = plan.cluster_name.clone();
    let result = match result {
        Ok(steps) => {
            let (r, t) = run.timeout.run(cancel, delete_orphans(run, &plan, steps)).await;
            timed_out |= t;
            r
        }
        Err(e) => Err(e),
    };
    // Tags changed: retag what exists. On failure the last run's inputs stay in the state, so
    // the next up sees the tag change again and retries.
    let mut inputs_on_failure = props.clone();
    let result = match (result, retag) {
        (Ok(steps), Some((old_tags, old_inputs))) if old_tags != plan.tags => {
            let removed: Vec<String> = old_tags.keys().filter(|k| !plan.tags.contains_key(*k)).cloned().collect();
            // Retagging changes tags only; it runs to its end even past the deadline.
            match configured.aws.retag(&plan, &steps, &removed, progress).await {
                Ok(()) => Ok(steps),
                Err(e) => {
                    inputs_on_failure = old_inputs;
                    Err(e)
                }
            }
        }
        (r, _) => r,
    };
    let result = result.map_err(|e| if timed_out { timed_out_error(run, e) } else { e });
    match result {
        Ok(steps) => Ok((id, encode_outputs(&plan, &steps, Some(report), &run.configured)?)),
        Err(e) if e.done.is_empty() => Err(ProviderError::FailedPrecondition(format!("nothing was created: {e}"))),
        Err(e) => Err(partial(id, &plan, e, report, inputs_on_failure, &run.configured)?),
    }
}

/// A run stopped by its deadline: the cancellation is reported as the timeout it was.
fn timed_out_error(run: &Run, e: ApplyError) -> ApplyError {
    let mut reasons: Vec<String> = e.reasons.into_iter().filter(|r| r != secure_eks_executor::apply::CANCELLED).collect();
    reasons.push(run.timeout.reached());
    ApplyError { done: e.done, reasons }
}

/// Resources the plan no longer has (e.g. a removed node group, a retired role) are deleted after
/// everything else converged; on failure, the ones still there stay recorded.
async fn delete_orphans(run: &Run, plan: &Plan, steps: StepOutputs) -> std::result::Result<StepOutputs, ApplyError> {
    let orphans: StepOutputs = steps.iter().filter(|(k, _)| plan.step(k).is_none()).map(|(k, v)| (k.clone(), v.clone())).collect();
    if orphans.is_empty() {
        return Ok(steps);
    }
    let kept: StepOutputs = steps.into_iter().filter(|(k, _)| !orphans.contains_key(k)).collect();
    match run.configured.aws.destroy(plan, &orphans, &run.cancel, &run.progress).await {
        Ok(()) => Ok(kept),
        Err(e) => {
            let mut done = kept;
            done.extend(e.done);
            Err(ApplyError { done, reasons: e.reasons })
        }
    }
}

/// A run that stopped with resources in place: the init error that records them.
fn partial(id: String, plan: &Plan, e: ApplyError, report: PolicyReport, inputs: PropertyMap, configured: &Configured) -> Result<ProviderError> {
    let mut reasons = e.reasons;
    let done = e.done.keys().filter(|k| plan.step(k).is_some()).count();
    reasons.push(format!(
        "partial state: {done} of {} AWS resources of cluster {id} exist and are recorded in the stack; run `pulumi up` again to finish (it resumes and adopts them), or `pulumi destroy` to remove them",
        plan.steps.len()
    ));
    Ok(ProviderError::InitFailed { id, properties: encode_outputs(plan, &e.done, Some(report), configured)?, reasons, inputs })
}
