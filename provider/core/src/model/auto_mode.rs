//! EKS Auto Mode (issue #14): an alternative to managed node groups. EKS runs the compute
//! (Karpenter node pools), block storage, load balancing, pod networking, DNS and the Pod
//! Identity agent itself; the three capabilities are turned on together (EKS user guide,
//! "Automate cluster infrastructure with EKS Auto Mode").

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ClusterArgs;

/// The built-in node pools of EKS Auto Mode.
pub const BUILT_IN_NODE_POOLS: [&str; 2] = ["general-purpose", "system"];

/// EKS Auto Mode settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutoMode {
    /// Turn on EKS Auto Mode (default false): compute, block storage and load balancing together,
    /// instead of managed node groups. Changing it replaces the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("replaceOnChanges" = true))]
    pub enabled: Option<bool>,
    /// The built-in node pools: `general-purpose` and `system` (default both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_pools: Option<Vec<String>>,
}

impl ClusterArgs {
    /// True when EKS Auto Mode is on.
    pub fn auto_mode_on(&self) -> bool {
        self.auto_mode.as_ref().and_then(|a| a.enabled).unwrap_or(false)
    }

    /// The Auto Mode defaults: off; when on, both built-in node pools, no custom pod networking
    /// (Auto Mode runs its own), no cluster autoscaler role (Auto Mode scales the nodes) and no
    /// EBS CSI driver addon (block storage is built in).
    pub(super) fn with_auto_mode_defaults(mut self) -> Self {
        let am = self.auto_mode.get_or_insert_with(AutoMode::default);
        let on = *am.enabled.get_or_insert(false);
        if !on {
            return self;
        }
        am.node_pools.get_or_insert_with(|| BUILT_IN_NODE_POOLS.iter().map(|s| s.to_string()).collect());
        if let Some(ca) = self.cluster_autoscaler.as_mut() {
            ca.enabled = Some(false);
        }
        self
    }
}
