//! What `pulumi up` will do to AWS, said at preview: the AWS resources to create, change, replace
//! and delete, from the plan (and on update the resources the stack records and the plan of the
//! old inputs), with the reason for each replacement and deletion.

use std::collections::BTreeMap;

use super::{Action, Plan, StepOutputs};

/// A plural-able name for the kind of AWS resource a step makes.
fn kind(a: &Action) -> &'static str {
    match a {
        Action::Vpc { .. } => "VPC",
        Action::ExistingVpc { .. } => "existing VPC",
        Action::VpcCidrBlock { .. } => "VPC CIDR block",
        Action::Subnet { .. } => "subnet",
        Action::ExistingSubnet { .. } => "existing subnet",
        Action::InternetGateway => "internet gateway",
        Action::NatGateway { .. } => "NAT gateway",
        Action::RouteTable { .. } => "route table",
        Action::SecurityGroup { .. } => "security group",
        Action::IngressRule { .. } => "security group rule",
        Action::GatewayEndpoint { .. } => "gateway endpoint",
        Action::InterfaceEndpoint { .. } => "interface endpoint",
        Action::KmsKey { .. } => "KMS key",
        Action::ExistingKmsKey { .. } => "existing KMS key",
        Action::LogGroup { .. } => "log group",
        Action::Role { .. } => "IAM role",
        Action::Cluster(_) => "EKS cluster",
        Action::OidcProvider => "OIDC provider",
        Action::Addon { .. } => "addon",
        Action::LaunchTemplate(_) => "launch template",
        Action::NodeGroup(_) => "node group",
        Action::AccessEntry { .. } => "access entry",
    }
}

/// What names a step's AWS resource: when it changes, the resource is replaced (a new one is
/// made and the old one deleted), not changed in place.
fn identity(a: &Action) -> Option<(&'static str, String)> {
    Some(match a {
        Action::Vpc { cidr } => ("CIDR", cidr.clone()),
        Action::Subnet { az, cidr, .. } => ("zone and CIDR", format!("{az} {cidr}")),
        Action::VpcCidrBlock { cidr } => ("CIDR", cidr.clone()),
        Action::Role { name, .. } => ("name", name.clone()),
        Action::AccessEntry { principal_arn, .. } => ("principal", principal_arn.clone()),
        Action::KmsKey { alias } => ("alias", alias.clone()),
        Action::LogGroup { name, .. } => ("name", name.clone()),
        Action::Cluster(c) => ("name", c.name.clone()),
        Action::NodeGroup(n) => ("name", n.name.clone()),
        Action::InterfaceEndpoint { service, .. } => ("service", service.clone()),
        _ => return None,
    })
}

fn counted(kinds: &BTreeMap<&'static str, usize>) -> String {
    kinds
        .iter()
        .map(|(k, n)| match (n, k.ends_with('s')) {
            (1, _) => format!("1 {k}"),
            (_, true) => format!("{n} {k}es"),
            _ => format!("{n} {k}s"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lines preview says about `new`: one summary line, then one line per replacement or
/// deletion with its reason. `old` is the plan of the old inputs and `recorded` what the stack
/// records (empty on create).
pub fn what_up_does(new: &Plan, old: Option<&Plan>, recorded: &StepOutputs) -> Vec<String> {
    let (mut create, mut change, mut replace, mut delete) = (BTreeMap::new(), Vec::new(), Vec::new(), Vec::new());
    for s in &new.steps {
        let before = old.and_then(|o| o.step(&s.id));
        match (recorded.contains_key(&s.id), before) {
            (false, _) => *create.entry(kind(&s.action)).or_insert(0usize) += 1,
            (true, Some(b)) if b.action != s.action => match (identity(&b.action), identity(&s.action)) {
                (Some((what, was)), Some((_, now))) if was != now => replace.push(format!("replaces {} {} ({what} {was} -> {now}): AWS cannot change its {what} in place", kind(&s.action), s.id)),
                _ => change.push(format!("{} ({})", s.id, kind(&s.action))),
            },
            _ => {}
        }
    }
    for (id, o) in recorded {
        if new.step(id).is_none() && !id.contains('~') {
            let what = old.and_then(|p| p.step(id)).map(|s| kind(&s.action)).unwrap_or("resource");
            delete.push(format!("deletes {what} {id} ({}): the program no longer has it", o.id));
        }
    }
    let created: usize = create.values().sum();
    let mut lines = Vec::new();
    if old.is_none() && recorded.is_empty() {
        lines.push(format!("`pulumi up` will create {created} AWS resources for cluster {}: {}", new.cluster_name, counted(&create)));
        return lines;
    }
    if created + change.len() + replace.len() + delete.len() == 0 {
        lines.push(format!("`pulumi up` changes no AWS resource of cluster {}", new.cluster_name));
        return lines;
    }
    let mut parts = Vec::new();
    if created > 0 {
        parts.push(format!("create {created} ({})", counted(&create)));
    }
    if !change.is_empty() {
        parts.push(format!("change {} in place ({})", change.len(), change.join(", ")));
    }
    if !replace.is_empty() {
        parts.push(format!("replace {}", replace.len()));
    }
    if !delete.is_empty() {
        parts.push(format!("delete {}", delete.len()));
    }
    lines.push(format!("`pulumi up` will {} AWS resources of cluster {}", parts.join(", "), new.cluster_name));
    lines.extend(replace.into_iter().map(|r| format!("`pulumi up` {r}")));
    lines.extend(delete.into_iter().map(|d| format!("`pulumi up` {d}")));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Autoname, ClusterArgs};
    use crate::plan::{plan, StepOutput};

    fn spec(j: serde_json::Value) -> ClusterArgs {
        serde_json::from_value::<ClusterArgs>(j).unwrap().with_defaults(Autoname::Proposed("demo"), Some("us-east-1"))
    }

    #[test]
    fn a_create_counts_every_resource_and_an_update_names_replacements_and_deletions() {
        let a = spec(serde_json::json!({"kubernetesVersion": "1.34", "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large"]}, {"name": "old", "instanceTypes": ["m7g.large"]}]}));
        let pa = plan(&a, "us-east-1", &BTreeMap::new()).unwrap();
        let lines = what_up_does(&pa, None, &StepOutputs::new());
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with(&format!("`pulumi up` will create {} AWS resources for cluster demo: ", pa.steps.len())), "{lines:?}");
        assert!(lines[0].contains("1 EKS cluster") && lines[0].contains("2 node groups") && lines[0].contains("6 subnets"), "{lines:?}");

        let recorded: StepOutputs = pa.steps.iter().map(|s| (s.id.clone(), StepOutput { id: format!("id-{}", s.id), ..Default::default() })).collect();
        assert_eq!(what_up_does(&pa, Some(&pa), &recorded), vec!["`pulumi up` changes no AWS resource of cluster demo".to_string()]);

        let b = spec(serde_json::json!({"kubernetesVersion": "1.34", "network": {"vpcCidr": "10.1.0.0/16"}, "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large"], "maxSize": 5}]}));
        let pb = plan(&b, "us-east-1", &BTreeMap::new()).unwrap();
        let lines = what_up_does(&pb, Some(&pa), &recorded);
        assert!(lines[0].contains("replace") && lines[0].contains("delete 2") && lines[0].contains("nodegroup/general (node group)"), "{lines:?}");
        assert!(lines.iter().any(|l| l == "`pulumi up` replaces VPC vpc (CIDR 10.0.0.0/16 -> 10.1.0.0/16): AWS cannot change its CIDR in place"), "{lines:?}");
        assert!(lines.iter().any(|l| l == "`pulumi up` deletes node group nodegroup/old (id-nodegroup/old): the program no longer has it"), "{lines:?}");
    }
}
