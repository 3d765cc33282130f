//! What `Create`/`Update` return during preview: every output that is known now, and explicit
//! unknowns for the rest.

use crate::model::{ClusterArgs, ClusterOutputs};
use crate::rules::Report;
use crate::value::{PropertyMap, UnknownKind, Value};

/// Facts about the target account known at preview.
#[derive(Debug, Clone, Default)]
pub struct Target<'a> {
    /// The region.
    pub region: Option<&'a str>,
    /// The account id (from STS in Configure).
    pub account: Option<&'a str>,
    /// The AWS partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub partition: &'a str,
}

/// Build the policy report output.
pub fn policy_report(r: &Report, hygiene: &[String]) -> crate::model::PolicyReport {
    crate::model::PolicyReport {
        rules_evaluated: r.rules_evaluated as i64,
        failures: r.failures.iter().map(|f| f.message.clone()).collect(),
        warnings: r.warnings.iter().map(|w| w.message.clone()).chain(hygiene.iter().cloned()).collect(),
        deferred: r.deferred.iter().map(|(id, p)| format!("{id} {p}")).collect(),
        waived: r.waived.iter().map(|(f, reason)| format!("{} {}: {reason}", f.meta.id, f.path)).collect(),
        admins: Vec::new(),
    }
}

fn unknown(k: UnknownKind) -> Value {
    Value::Unknown(k)
}

/// The preview outputs of a new cluster. `spec_known(path)` says whether an input is known.
pub fn create_outputs(
    spec: &ClusterArgs,
    known: &dyn Fn(&str) -> bool,
    target: &Target<'_>,
    report: crate::model::PolicyReport,
) -> PropertyMap {
    let name = spec.cluster_name.as_deref().filter(|_| known("clusterName"));
    let known_outputs = ClusterOutputs {
        cluster_name: name.map(String::from),
        log_group_name: name.map(|n| format!("/aws/eks/{n}/cluster")),
        cluster_arn: match (name, target.region, target.account) {
            (Some(n), Some(r), Some(a)) => Some(format!("arn:{}:eks:{r}:{a}:cluster/{n}", target.partition)),
            _ => None,
        },
        kms_key_arn: spec
            .encryption
            .as_ref()
            .and_then(|e| e.kms_key_arn.clone())
            .filter(|_| known("encryption")),
        vpc_id: spec
            .network
            .as_ref()
            .and_then(|n| n.existing_vpc.as_ref())
            .map(|v| v.vpc_id.clone())
            .filter(|_| known("network")),
        policy_report: Some(report),
        ..Default::default()
    };
    let mut out = match serde_json::to_value(&known_outputs).map(|j| crate::codec::from_json(&j)) {
        Ok(Value::Object(m)) => m,
        _ => PropertyMap::new(),
    };
    let autoscaler = spec.cluster_autoscaler.as_ref().and_then(|c| c.enabled).unwrap_or(true);
    let mut unknown_keys: Vec<(&str, UnknownKind)> = vec![
        ("clusterName", UnknownKind::String),
        ("logGroupName", UnknownKind::String),
        ("clusterArn", UnknownKind::String),
        ("endpoint", UnknownKind::String),
        ("certificateAuthorityData", UnknownKind::String),
        ("oidcIssuerUrl", UnknownKind::String),
        ("oidcProviderArn", UnknownKind::String),
        ("vpcId", UnknownKind::String),
        ("nodeSubnetIds", UnknownKind::Array),
        ("podSubnetIds", UnknownKind::Array),
        ("endpointSubnetIds", UnknownKind::Array),
        ("securityGroupIds", UnknownKind::Object),
        ("vpcEndpointIds", UnknownKind::Object),
        ("clusterRoleArn", UnknownKind::String),
        ("nodeRoleArn", UnknownKind::String),
        ("serviceAccountRoleArns", UnknownKind::Object),
        ("kmsKeyArn", UnknownKind::String),
        ("addonVersions", UnknownKind::Object),
        ("nodeGroups", UnknownKind::Object),
    ];
    if autoscaler {
        unknown_keys.push(("autoscalerRoleArn", UnknownKind::String));
    }
    for (k, kind) in unknown_keys {
        out.entry(k.to_string()).or_insert_with(|| unknown(kind));
    }
    out.insert("kubeconfig".into(), Value::Secret(Box::new(unknown(UnknownKind::String))));
    out.insert("kubeconfigJson".into(), Value::Secret(Box::new(unknown(UnknownKind::String))));
    out
}
