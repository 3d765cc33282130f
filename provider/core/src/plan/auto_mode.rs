//! EKS Auto Mode planning (issue #14): the plan of a cluster with managed node groups, adjusted.
//! The cluster role gets the Auto Mode policies (its trust already has `sts:TagSession`), the node
//! role becomes the minimal one Auto Mode nodes need, the cluster turns compute, block storage and
//! load balancing on with the built-in node pools (and so waits for the node role), and the
//! vpc-cni, kube-proxy, coredns and Pod Identity agent addons, node groups and launch templates
//! go (Auto Mode runs its own). EKS user guide: "Create a cluster IAM role for EKS Auto Mode",
//! "Create a node IAM role for EKS Auto Mode".

use super::{Action, Step};
use crate::model::ClusterArgs;

/// The managed policies the cluster role gets in Auto Mode, next to AmazonEKSClusterPolicy.
pub const AUTO_MODE_CLUSTER_POLICIES: [&str; 4] = ["AmazonEKSComputePolicy", "AmazonEKSBlockStoragePolicy", "AmazonEKSLoadBalancingPolicy", "AmazonEKSNetworkingPolicy"];
/// The node role's managed policies in Auto Mode.
pub const AUTO_MODE_NODE_POLICIES: [&str; 2] = ["AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly"];

/// The steps Auto Mode does without.
fn not_in_auto_mode(id: &str) -> bool {
    matches!(id, "addon/vpc-cni" | "addon/kube-proxy" | "addon/eks-pod-identity-agent" | "addon/coredns") || id.starts_with("lt/") || id.starts_with("nodegroup/")
}

/// Adjust a plan's steps for Auto Mode (unchanged when it is off).
pub(super) fn adjust(mut steps: Vec<Step>, spec: &ClusterArgs, partition: &str) -> Vec<Step> {
    let Some(pools) = spec.auto_mode.as_ref().filter(|a| a.enabled == Some(true)).map(|a| a.node_pools.clone().unwrap_or_default()) else {
        return steps;
    };
    let managed = |n: &str| format!("arn:{partition}:iam::aws:policy/{n}");
    steps.retain(|s| !not_in_auto_mode(&s.id));
    for s in &mut steps {
        let before = s.deps.len();
        s.deps.retain(|d| !not_in_auto_mode(d));
        // What waited for the nodes (addons by name) now waits for the cluster.
        if s.deps.len() != before && !s.deps.iter().any(|d| d == "cluster") {
            s.deps.push("cluster".into());
        }
        match (&mut s.action, s.id.as_str()) {
            (Action::Role { managed_policies, .. }, "role/cluster") => managed_policies.extend(AUTO_MODE_CLUSTER_POLICIES.iter().map(|p| managed(p))),
            (Action::Role { managed_policies, .. }, "role/node") => *managed_policies = AUTO_MODE_NODE_POLICIES.iter().map(|p| managed(p)).collect(),
            (Action::Cluster(ca), _) => {
                ca.settings.auto_mode_node_pools = Some(pools.clone());
                // The compute config names the node role.
                s.deps.push("role/node".into());
            }
            _ => {}
        }
        s.deps.sort();
        s.deps.dedup();
    }
    steps
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use expect_test::expect_file;
    use serde_json::json;

    use super::super::plan;
    use super::*;
    use crate::model::Autoname;

    #[test]
    fn auto_mode_plan_snapshot() {
        let s: ClusterArgs = serde_json::from_value(json!({"kubernetesVersion": "1.34", "autoMode": {"enabled": true}, "addons": {"extra": [{"name": "metrics-server"}]}})).unwrap();
        let p = plan(&s.with_defaults(Autoname::Proposed("auto"), Some("us-east-1")), "us-east-1", &BTreeMap::new()).unwrap();
        expect_file!["snapshots/auto-mode.plan"].assert_eq(&p.render());
        for id in ["addon/vpc-cni", "addon/kube-proxy", "addon/coredns", "addon/eks-pod-identity-agent", "addon/aws-ebs-csi-driver", "role/autoscaler"] {
            assert!(p.step(id).is_none(), "{id} in an Auto Mode plan");
        }
        let Some(Step { action: Action::Cluster(ca), deps, .. }) = p.step("cluster") else { panic!("no cluster") };
        assert_eq!(ca.settings.auto_mode_node_pools.as_deref(), Some(&["general-purpose".to_string(), "system".to_string()][..]));
        assert!(deps.contains(&"role/node".to_string()));
        assert_eq!(p.step("addon/metrics-server").map(|s| s.deps.clone()), Some(vec!["cluster".to_string()]));
    }
}
