//! Read: refresh (describe every recorded resource again) and import (rebuild a cluster's inputs
//! and outputs from AWS by its name). Neither changes anything in AWS.

use secure_eks_core::codec;
use secure_eks_core::value::{PropertyMap, Value};

use super::state::{encode_outputs, recorded, recorded_report, spec_and_plan};
use secure_eks_executor::is_existing;

use super::{Configured, Notes, Result, Run};
use crate::errors::ProviderError;

/// What Read found.
#[derive(Debug)]
pub enum Read {
    /// The resource no longer exists (the engine drops it from the state).
    Gone,
    /// The resource with its fresh outputs and inputs (drift written in).
    Found {
        /// The resource id.
        id: String,
        /// The outputs.
        outputs: PropertyMap,
        /// The inputs.
        inputs: PropertyMap,
    },
}

/// Refresh `id` from its recorded `outputs` and `inputs`, or import it when there are none.
/// Parts gone from AWS are dropped from the outputs (the next Diff reports them, `up` recreates
/// them); the resource is gone only when no part we own is left. Returns notes for the user.
pub async fn read(run: &Run, id: &str, outputs: &PropertyMap, inputs: &PropertyMap) -> Result<(Read, Notes)> {
    let configured = &run.configured;
    if outputs.is_empty() || inputs.is_empty() {
        return run.timeout.read(import(run, id, configured)).await?.map(|r| (r, Notes::new()));
    }
    let (spec, plan) = spec_and_plan(inputs, configured, &run.urn, outputs)?;
    let steps = recorded(outputs);
    let fresh = run.timeout.read(configured.aws.refresh(&plan, &steps)).await?.map_err(|e| ProviderError::FailedPrecondition(e.to_string()))?;
    if !fresh.iter().any(|(k, o)| !is_existing(&plan, k, o)) {
        // Nothing we own is left: tell the engine the resource is gone (empty id).
        return Ok((Read::Gone, Notes::new()));
    }
    let gone: Vec<&str> = steps.keys().filter(|k| !fresh.contains_key(*k)).map(String::as_str).collect();
    let mut notes = Notes::new();
    if !gone.is_empty() {
        notes.push(format!(
            "{} part(s) of cluster {} no longer exist in AWS and are dropped from the state: {}; the rest is kept, and the next `pulumi up` recreates them",
            gone.len(),
            plan.cluster_name,
            gone.join(", ")
        ));
    }
    let props = encode_outputs(&plan, &fresh, recorded_report(outputs), &run.configured)?;
    // Settings changed outside Pulumi go into the inputs, so the next preview shows them as a
    // diff against the program and `up` puts them back.
    let drift = secure_eks_core::plan::input_drift(&spec, &plan, &fresh);
    for d in &drift {
        tracing::info!(path = %d.path, "input drift: AWS reports a value the inputs do not have");
    }
    let inputs = secure_eks_core::plan::apply_drift(inputs, &drift);
    Ok((Read::Found { id: id.to_string(), outputs: props, inputs }, notes))
}

/// Import (Read from the id alone): rebuild the inputs from what AWS describes, then adopt every
/// part of the cluster through the apply with read-only clients.
async fn import(run: &Run, id: &str, configured: &Configured) -> Result<Read> {
    let observed = configured
        .aws
        .observe_cluster(id, &configured.region)
        .await
        .map_err(|e| ProviderError::FailedPrecondition(format!("import of cluster {id}: {e}")))?;
    let Some(observed) = observed else { return Ok(Read::Gone) };
    let mut spec = secure_eks_core::plan::inputs_from(&observed, &configured.region);
    // Tags that come from the provider's defaultTags are not the resource's own.
    let defaults = configured.config.default_tags.clone().unwrap_or_default();
    if let Some(tags) = spec.tags.as_mut() {
        tags.retain(|k, v| defaults.get(k) != Some(v));
        if tags.is_empty() {
            spec.tags = None;
        }
    }
    // Adopt by the owner the cluster carries (`observe_cluster` checked it is one of this name).
    let owner = observed.tags.get("secure-eks:cluster").cloned();
    let plan = secure_eks_core::plan::plan_owned(&spec, &configured.region, &defaults, owner.as_deref())
        .map_err(|e| ProviderError::FailedPrecondition(format!("import of cluster {id}: {e}")))?;
    let steps = configured.aws.import(&plan, &run.progress).await.map_err(|e| {
        ProviderError::FailedPrecondition(format!(
            "import of cluster {id}: these parts are missing or differ from what secure-eks would manage ({}); import adopts complete secure-eks clusters only",
            e.reasons.join("; ")
        ))
    })?;
    let props = encode_outputs(&plan, &steps, None, configured)?;
    let inputs = match codec::encode(&spec, &codec::Annotations::default()) {
        Ok(Value::Object(m)) => m,
        Ok(_) => PropertyMap::new(),
        Err(e) => return Err(ProviderError::Internal(e.to_string())),
    };
    Ok(Read::Found { id: id.to_string(), outputs: props, inputs })
}
