//! Assemble the resource outputs from what the executor recorded.

use std::collections::BTreeMap;

use super::{Action, Plan, StepOutputs};
use crate::model::{ClusterOutputs, NodeGroupOutput, SecurityGroupIds};

/// A kubeconfig with exec authentication through `aws eks get-token` (no static credentials),
/// with the ambient AWS identity ([`crate::kubeconfig`] renders it for a profile and role).
pub fn kubeconfig(name: &str, region: &str, endpoint: &str, ca_data: &str) -> String {
    crate::kubeconfig::kubeconfig_yaml(name, region, endpoint, ca_data, &Default::default())
}

/// The outputs for the steps that exist. Absent steps give absent outputs.
pub fn assemble(plan: &Plan, outs: &StepOutputs) -> ClusterOutputs {
    let id = |k: &str| outs.get(k).map(|o| o.id.clone());
    let arn = |k: &str| outs.get(k).and_then(|o| o.arn.clone());
    let extra = |k: &str, e: &str| outs.get(k).and_then(|o| o.extra.get(e).cloned());
    let ids_with_prefix = |prefix: &str| -> Option<Vec<String>> {
        let v: Vec<String> = plan
            .steps
            .iter()
            .filter(|s| s.id.starts_with(prefix))
            .filter_map(|s| outs.get(&s.id).map(|o| o.id.clone()))
            .collect();
        (!v.is_empty()).then_some(v)
    };
    let endpoint_subnets = plan.steps.iter().find_map(|s| match &s.action {
        Action::InterfaceEndpoint { subnets, .. } => Some(subnets.iter().filter_map(|x| outs.get(x).map(|o| o.id.clone())).collect::<Vec<_>>()),
        _ => None,
    });
    let vpce: BTreeMap<String, String> = outs
        .iter()
        .filter_map(|(k, o)| k.strip_prefix("vpce/").map(|svc| (svc.to_string(), o.id.clone())))
        .collect();
    let sa_roles: BTreeMap<String, String> = outs
        .iter()
        .filter_map(|(k, o)| k.strip_prefix("role/sa/").and_then(|nsname| o.arn.clone().map(|a| (nsname.to_string(), a))))
        .collect();
    let addons: BTreeMap<String, String> = outs
        .iter()
        .filter_map(|(k, o)| k.strip_prefix("addon/").and_then(|n| o.extra.get("version").map(|v| (n.to_string(), v.clone()))))
        .collect();
    let node_groups: BTreeMap<String, NodeGroupOutput> = plan
        .steps
        .iter()
        .filter_map(|s| s.id.strip_prefix("nodegroup/").map(|n| (n.to_string(), s)))
        .filter_map(|(n, s)| {
            let o = outs.get(&s.id)?;
            Some((
                n.clone(),
                NodeGroupOutput {
                    arn: o.arn.clone(),
                    ami_release_version: o.extra.get("releaseVersion").cloned(),
                    launch_template_id: outs.get(&format!("lt/{n}")).map(|l| l.id.clone()),
                },
            ))
        })
        .collect();
    let sgs = SecurityGroupIds { cluster: id("sg/cluster"), node: id("sg/node"), endpoints: id("sg/endpoints") };
    let endpoint = extra("cluster", "endpoint");
    let ca = extra("cluster", "certificateAuthorityData");
    ClusterOutputs {
        cluster_name: id("cluster"),
        cluster_arn: arn("cluster"),
        kubeconfig: match (&endpoint, &ca) {
            (Some(e), Some(c)) => Some(kubeconfig(&plan.cluster_name, &plan.region, e, c)),
            _ => None,
        },
        kubeconfig_json: match (&endpoint, &ca) {
            (Some(e), Some(c)) => Some(crate::kubeconfig::kubeconfig_json(&plan.cluster_name, &plan.region, e, c, &Default::default())),
            _ => None,
        },
        endpoint,
        certificate_authority_data: ca,
        oidc_issuer_url: extra("cluster", "oidcIssuerUrl"),
        oidc_provider_arn: arn("oidc"),
        vpc_id: id("vpc"),
        node_subnet_ids: ids_with_prefix("subnet/node/"),
        pod_subnet_ids: ids_with_prefix("subnet/pod/"),
        endpoint_subnet_ids: endpoint_subnets.filter(|v| !v.is_empty()),
        security_group_ids: (sgs != SecurityGroupIds::default()).then_some(sgs),
        vpc_endpoint_ids: (!vpce.is_empty()).then_some(vpce),
        cluster_role_arn: arn("role/cluster"),
        node_role_arn: arn("role/node"),
        autoscaler_role_arn: arn("role/autoscaler"),
        service_account_role_arns: (!sa_roles.is_empty()).then_some(sa_roles),
        kms_key_arn: arn("kms"),
        log_group_name: id("loggroup"),
        addon_versions: (!addons.is_empty()).then_some(addons),
        node_groups: (!node_groups.is_empty()).then_some(node_groups),
        policy_report: None,
        owner: Some(plan.owner().to_string()),
        aws_resources: (!outs.is_empty()).then(|| outs.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::StepOutput;

    #[test]
    fn kubeconfig_uses_exec_auth_and_no_credentials() {
        let k = kubeconfig("demo", "us-east-1", "https://x.eks.amazonaws.com", "Q0E=");
        assert!(k.contains("command: aws"));
        assert!(k.contains("\"get-token\", \"--cluster-name\", \"demo\""));
        assert!(!k.contains("token:"));
    }

    #[test]
    fn partial_outputs_only_name_what_exists() {
        let plan = Plan { cluster_name: "demo".into(), region: "us-east-1".into(), tags: BTreeMap::new(), steps: vec![] };
        let mut outs = StepOutputs::new();
        outs.insert("vpc".into(), StepOutput { id: "vpc-1".into(), ..Default::default() });
        let o = assemble(&plan, &outs);
        assert_eq!(o.vpc_id.as_deref(), Some("vpc-1"));
        assert!(o.cluster_arn.is_none() && o.kubeconfig.is_none());
    }
}
