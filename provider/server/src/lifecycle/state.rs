//! The resource's state: the plan of its inputs, the AWS resources recorded in its outputs
//! (`awsResources`), the outputs assembled from them, and the Diff that also sees recorded parts
//! gone from AWS.

use secure_eks_core::codec;
use secure_eks_core::diff::{diff as input_diff, DiffResult};
use secure_eks_core::model::{Autoname, ClusterArgs, PolicyReport};
use secure_eks_core::plan::{Plan, StepOutputs};
use secure_eks_core::value::{PropertyMap, Value};

use super::checks::invalid;
use super::{Configured, Result};
use crate::errors::ProviderError;

/// The plan of a checked spec, owned by the owner recorded in `outputs` (else a new one for this
/// URN and region, or the cluster name for a stack made before owners were recorded:
/// `plan::names::resolve_owner`).
pub(super) fn plan_of(spec: &ClusterArgs, configured: &Configured, urn: &str, outputs: &PropertyMap) -> Result<Plan> {
    let tags = configured.config.default_tags.clone().unwrap_or_default();
    let recorded_owner = outputs.get("owner").map(|v| codec::strip(&v.unsecret()).0).and_then(|j| j.as_str().map(str::to_string));
    let owner = spec.cluster_name.as_deref().map(|name| {
        secure_eks_core::plan::names::resolve_owner(recorded_owner.as_deref(), !recorded(outputs).is_empty(), urn, &configured.region, name)
    });
    secure_eks_core::plan::plan_owned(spec, &configured.region, &tags, owner.as_deref()).map_err(|e| ProviderError::InvalidArgument(e.to_string()))
}

/// The checked spec (with its defaults) of fully known inputs, and its plan (owner as in
/// [`plan_of`]).
pub(super) fn spec_and_plan(props: &PropertyMap, configured: &Configured, urn: &str, outputs: &PropertyMap) -> Result<(ClusterArgs, Plan)> {
    let decoded = codec::decode::<ClusterArgs>(&Value::Object(props.clone())).map_err(|e| invalid(&e))?;
    if !decoded.annotations.unknowns.is_empty() {
        return Err(ProviderError::Internal("unknown values outside preview".into()));
    }
    let spec = decoded.value.with_defaults(Autoname::Disabled, Some(&configured.region));
    let plan = plan_of(&spec, configured, urn, outputs)?;
    Ok((spec, plan))
}

/// The step outputs recorded in earlier outputs (`awsResources`).
pub(super) fn recorded(outputs: &PropertyMap) -> StepOutputs {
    outputs
        .get("awsResources")
        .map(|v| codec::strip(&v.unsecret()).0)
        .and_then(|j| serde_json::from_value(j).ok())
        .unwrap_or_default()
}

/// The policy report recorded in earlier outputs.
pub(super) fn recorded_report(outputs: &PropertyMap) -> Option<PolicyReport> {
    outputs.get("policyReport").map(|v| codec::strip(v).0).and_then(|j| serde_json::from_value(j).ok())
}

/// The resource outputs for the steps that exist (the kubeconfig secret).
pub(super) fn encode_outputs(plan: &Plan, steps: &StepOutputs, report: Option<PolicyReport>, configured: &Configured) -> Result<PropertyMap> {
    let mut outs = secure_eks_core::plan::assemble(plan, steps);
    outs.policy_report = report;
    // The kubeconfig authenticates as the provider did: its profile and role.
    if let (Some(e), Some(c)) = (outs.endpoint.clone(), outs.certificate_authority_data.clone()) {
        let auth = secure_eks_core::kubeconfig::KubeconfigAuth::of_provider(&configured.config);
        outs.kubeconfig = Some(secure_eks_core::kubeconfig::kubeconfig_yaml(&plan.cluster_name, &plan.region, &e, &c, &auth));
        outs.kubeconfig_json = Some(secure_eks_core::kubeconfig::kubeconfig_json(&plan.cluster_name, &plan.region, &e, &c, &auth));
    }
    let mut map = match serde_json::to_value(&outs).map(|j| codec::from_json(&j)) {
        Ok(Value::Object(m)) => m,
        Ok(_) => PropertyMap::new(),
        Err(e) => return Err(ProviderError::Internal(e.to_string())),
    };
    for key in ["kubeconfig", "kubeconfigJson"] {
        if let Some(k) = map.get_mut(key) {
            *k = Value::Secret(Box::new(k.clone()));
        }
    }
    Ok(map)
}

/// A Diff: the input diff, plus the parts the plan has that the outputs no longer record.
pub struct DiffOutcome {
    /// The input diff.
    pub inputs: DiffResult,
    /// Step ids of the plan with no recorded AWS resource (deleted outside Pulumi, or never
    /// created): the resource needs an update even when its inputs did not change.
    pub missing: Vec<String>,
}

/// Diff old and new inputs; with the provider configured and the new inputs fully known, also
/// the planned parts that the recorded outputs lack (after a refresh found them gone).
pub fn diff(configured: Option<&Configured>, urn: &str, old_inputs: &PropertyMap, old_outputs: &PropertyMap, news: &PropertyMap) -> DiffOutcome {
    let inputs = input_diff(old_inputs, news);
    let missing = match configured {
        Some(c) if old_outputs.contains_key("awsResources") && !news.values().any(Value::contains_unknowns) => {
            let steps = recorded(old_outputs);
            spec_and_plan(news, c, urn, old_outputs)
                .map(|(_, plan)| plan.steps.iter().filter(|s| !steps.contains_key(&s.id)).map(|s| s.id.clone()).collect())
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    DiffOutcome { inputs, missing }
}
