//! The planner: checked inputs → a deterministic graph of AWS steps.
//!
//! Pure: the same spec always gives the byte-identical plan (`Plan::render`). The executor
//! interprets each [`Action`]; values only known at execution time (ids of earlier steps) are
//! referenced by step id ([`StepId`]) and resolved by the executor from the outputs of those steps.

use std::collections::BTreeMap;
use std::fmt::Write as _;

mod auto_mode;
mod build;
mod cidr;
mod daytwo;
mod imported;
pub mod names;
mod observed;
mod outputs;
mod summary;

pub use build::{endpoint_services, partition, plan, plan_owned, PlanError};
pub use auto_mode::{AUTO_MODE_CLUSTER_POLICIES, AUTO_MODE_NODE_POLICIES};
pub use cidr::Ipv4Cidr;
pub use daytwo::{ami_type, pod_identity_trust, ClusterSettings, NodeGroupControls};
pub use imported::{inputs_from, ObservedCluster, ObservedDayTwo, ObservedNodeGroup, ObservedVpc};
pub use observed::{apply_drift, input_drift, keys as drift_keys, Drift};
pub use outputs::{assemble, kubeconfig};
pub use summary::what_up_does;

/// A step id, unique in a plan, e.g. `subnet/node/us-east-1a`. Stable across runs: it names the
/// AWS resource (through the `secure-eks:step` tag), so a resumed create adopts what exists.
pub type StepId = String;

/// The role of a subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SubnetRole {
    /// Private subnet for nodes (and the interface endpoints).
    Node,
    /// Private subnet from the secondary CIDR, for pods (custom networking).
    Pod,
    /// Public subnet holding a NAT gateway (only with NAT).
    Public,
}

/// The role of a security group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SgRole {
    /// Attached to the EKS control plane ENIs.
    Cluster,
    /// Attached to the nodes (and pods, through ENIConfig).
    Node,
    /// Attached to the interface endpoints.
    Endpoints,
}

/// Where an ingress rule allows traffic from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Another (or the same) security group of this plan.
    Sg(SgRole),
    /// A CIDR.
    Cidr(String),
    /// Every CIDR block of the plan's VPC, as AWS describes it at apply (an existing VPC's
    /// blocks are not known to the planner). Interface endpoints with private DNS answer for the
    /// whole VPC, so everything in it must reach them.
    VpcCidrs,
}

/// One AWS resource to create (and later delete).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A new VPC with DNS support and DNS hostnames on.
    Vpc {
        /// The primary CIDR.
        cidr: String,
    },
    /// An existing VPC (nothing is created or deleted; its id is the output).
    ExistingVpc {
        /// The VPC id.
        vpc_id: String,
    },
    /// A secondary CIDR block on the VPC (for pods).
    VpcCidrBlock {
        /// The CIDR.
        cidr: String,
    },
    /// A subnet with `mapPublicIpOnLaunch=false` and the Kubernetes tags.
    Subnet {
        /// What it is for.
        role: SubnetRole,
        /// The availability zone.
        az: String,
        /// The CIDR.
        cidr: String,
    },
    /// An existing subnet (nothing is created or deleted).
    ExistingSubnet {
        /// What it is for.
        role: SubnetRole,
        /// The subnet id.
        subnet_id: String,
    },
    /// An internet gateway attached to the VPC (only with NAT).
    InternetGateway,
    /// An Elastic IP and a NAT gateway in a public subnet.
    NatGateway {
        /// The public subnet step.
        subnet: StepId,
    },
    /// A route table, its routes and its subnet associations.
    RouteTable {
        /// Subnet steps to associate.
        subnets: Vec<StepId>,
        /// The default route: an internet gateway or NAT step, or none (fully private).
        default_route: Option<StepId>,
    },
    /// A security group (its default egress rule is kept).
    SecurityGroup {
        /// Its role.
        role: SgRole,
        /// The description.
        description: String,
    },
    /// An ingress rule on a security group of this plan.
    IngressRule {
        /// The group the rule is on.
        on: SgRole,
        /// `tcp`, `udp` or `-1` (all).
        protocol: String,
        /// First port.
        from_port: i32,
        /// Last port.
        to_port: i32,
        /// Where traffic comes from.
        source: Source,
        /// Why the rule exists.
        description: String,
    },
    /// The S3 gateway endpoint on the private route tables.
    GatewayEndpoint {
        /// The short service name (`s3`).
        service: String,
        /// Route table steps.
        route_tables: Vec<StepId>,
        /// Subnet steps of an existing VPC whose route tables (the explicitly associated one,
        /// else the VPC's main one) get the endpoint too, as AWS describes them at apply.
        subnets: Vec<StepId>,
    },
    /// An interface endpoint with private DNS, in the endpoint subnets, with the endpoint SG.
    InterfaceEndpoint {
        /// The short service name (`ecr.api`, ...).
        service: String,
        /// Subnet steps (one per AZ).
        subnets: Vec<StepId>,
    },
    /// A customer managed KMS key with rotation, and an alias.
    KmsKey {
        /// The alias (`alias/...`).
        alias: String,
    },
    /// An existing KMS key (nothing is created or deleted).
    ExistingKmsKey {
        /// The key ARN.
        arn: String,
    },
    /// The control-plane log group, created before the cluster; a leftover group is adopted.
    LogGroup {
        /// `/aws/eks/<name>/cluster`.
        name: String,
        /// Retention in days.
        retention_days: i64,
    },
    /// An IAM role with managed policies attached (and an optional inline policy).
    Role {
        /// The role name.
        name: String,
        /// The trust policy document (JSON). May contain `${oidc_provider_arn}` and
        /// `${oidc_issuer_host}`, filled in by the executor from the OIDC step.
        trust_policy: String,
        /// Managed policy ARNs (`arn:${partition}:...` is filled in by the executor).
        managed_policies: Vec<String>,
        /// An inline policy document, if any (same placeholders).
        inline_policy: Option<String>,
        /// The permissions boundary, if any.
        permissions_boundary: Option<String>,
    },
    /// The EKS cluster: private access, logs, secrets encryption, authentication mode API.
    Cluster(ClusterAction),
    /// The IAM OIDC provider for the cluster's issuer.
    OidcProvider,
    /// An EKS addon. The executor adds `eniConfig` (pod subnet and node SG per AZ) to vpc-cni.
    Addon {
        /// The EKS addon name.
        name: String,
        /// A pinned version, or the AWS default for the cluster version.
        version: Option<String>,
        /// Configuration values (JSON), already merged with the user's.
        configuration: serde_json::Value,
        /// For vpc-cni with custom networking: (AZ, pod subnet step) pairs.
        eni_configs: Vec<(String, StepId)>,
        /// EKS Pod Identity associations made with the addon: (service account, role step).
        pod_identities: Vec<(String, StepId)>,
    },
    /// A launch template: IMDSv2 required, hop limit, node SG, encrypted gp3, no public IP.
    LaunchTemplate(LaunchTemplateAction),
    /// A managed node group.
    NodeGroup(NodeGroupAction),
    /// An EKS access entry and its policy association.
    AccessEntry {
        /// The principal ARN.
        principal_arn: String,
        /// The access policy name (`AmazonEKSClusterAdminPolicy`, ...).
        policy: String,
        /// Namespaces, or empty for cluster scope.
        namespaces: Vec<String>,
    },
}

/// The cluster step's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterAction {
    /// The cluster name.
    pub name: String,
    /// The Kubernetes version.
    pub version: String,
    /// Private endpoint access.
    pub private_access: bool,
    /// Public endpoint access.
    pub public_access: bool,
    /// CIDRs for the public endpoint.
    pub public_cidrs: Vec<String>,
    /// Enabled log types.
    pub log_types: Vec<String>,
    /// Subnet steps for the control plane ENIs.
    pub subnets: Vec<StepId>,    /// Support policy, deletion protection, zonal shift.
    pub settings: ClusterSettings,
}

/// A launch template's settings. `Debug` redacts `user_data` (`redact.rs`).
#[derive(Clone, PartialEq)]
pub struct LaunchTemplateAction {
    /// The template name.
    pub name: String,
    /// IMDS hop limit.
    pub hop_limit: i64,
    /// Root volume size (GiB), gp3, encrypted.
    pub disk_size_gib: i64,
    /// A pinned AMI id (then the user data is rendered by us).
    pub ami_id: Option<String>,
    /// Extra user data from the user.
    pub user_data: Option<String>,
    /// The AMI family.
    pub ami_family: String,
}

/// A node group's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeGroupAction {
    /// The node group name.
    pub name: String,
    /// Instance types.
    pub instance_types: Vec<String>,
    /// `ON_DEMAND` or `SPOT`.
    pub capacity_type: String,
    /// Sizes.
    pub min_size: i64,
    /// Sizes.
    pub desired_size: i64,
    /// Sizes.
    pub max_size: i64,
    /// The EKS AMI type (`AL2023_ARM_64_STANDARD`, `BOTTLEROCKET_x86_64`, `CUSTOM`, ...).
    pub ami_type: String,
    /// The SSM parameter holding the release version for this version/family/arch, if not pinned.
    pub release_parameter: Option<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Taints as (key, value, effect).
    pub taints: Vec<(String, Option<String>, String)>,
    /// Subnet steps.
    pub subnets: Vec<StepId>,
    /// The launch template step.
    pub launch_template: StepId,    /// Update budget, auto repair, pinned AMI release.
    pub controls: NodeGroupControls,
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The stable id.
    pub id: StepId,
    /// What to create.
    pub action: Action,
    /// Steps that must finish first.
    pub deps: Vec<StepId>,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The cluster name.
    pub cluster_name: String,
    /// The region.
    pub region: String,
    /// Tags on every resource (user tags, default tags, and `secure-eks:cluster` = the owner, see
    /// [`names`]).
    pub tags: BTreeMap<String, String>,
    /// Steps in a topological order (every dependency comes earlier).
    pub steps: Vec<Step>,
}

impl Plan {
    /// The owner: the value of the `secure-eks:cluster` tag (the cluster name when unset).
    pub fn owner(&self) -> &str {
        self.tags.get("secure-eks:cluster").map_or(self.cluster_name.as_str(), String::as_str)
    }

    /// A step by id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The length of the longest dependency chain (in steps).
    pub fn critical_path_len(&self) -> usize {
        let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &self.steps {
            let d = s.deps.iter().filter_map(|d| depth.get(d.as_str())).max().copied().unwrap_or(0) + 1;
            depth.insert(&s.id, d);
        }
        depth.values().max().copied().unwrap_or(0)
    }

    /// The longest dependency chain when a step costs `cost(step)` (e.g. the AWS calls it makes
    /// one after another): the chain's total cost and its step ids, first to last. With a cost
    /// of 1 per step the total is [`Plan::critical_path_len`].
    pub fn critical_path_by(&self, cost: impl Fn(&Step) -> u64) -> (u64, Vec<&str>) {
        // (total cost of the heaviest chain ending here, the dependency it came through)
        let mut best: BTreeMap<&str, (u64, Option<&str>)> = BTreeMap::new();
        for s in &self.steps {
            let via = s
                .deps
                .iter()
                .filter_map(|d| best.get_key_value(d.as_str()).map(|(k, (c, _))| (*c, *k)))
                .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)));
            let total = via.map(|v| v.0).unwrap_or(0) + cost(s);
            best.insert(&s.id, (total, via.map(|v| v.1)));
        }
        // The heaviest end; on a tie, the first in plan order (deterministic).
        let Some((&end, &(total, _))) = best.iter().max_by(|a, b| a.1 .0.cmp(&b.1 .0).then(b.0.cmp(a.0))) else {
            return (0, Vec::new());
        };
        let mut chain = vec![end];
        let mut at = end;
        while let Some(prev) = best.get(at).and_then(|b| b.1) {
            chain.push(prev);
            at = prev;
        }
        chain.reverse();
        (total, chain)
    }

    /// The plan's width: the most steps at one depth (a step's depth is the length of the
    /// longest dependency chain ending at it). That many steps can run at once when every step
    /// takes the same time; the executor runs at most its concurrency limit.
    pub fn max_width(&self) -> usize {
        let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
        let mut per_depth: BTreeMap<usize, usize> = BTreeMap::new();
        for s in &self.steps {
            let d = s.deps.iter().filter_map(|d| depth.get(d.as_str())).max().copied().unwrap_or(0) + 1;
            depth.insert(&s.id, d);
            *per_depth.entry(d).or_default() += 1;
        }
        per_depth.values().max().copied().unwrap_or(0)
    }

    /// A stable text rendering (for snapshots and `pulumi preview` logs).
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "plan {} in {} ({} steps, critical path {})", self.cluster_name, self.region, self.steps.len(), self.critical_path_len());
        for step in &self.steps {
            let _ = writeln!(s, "{} <- [{}]", step.id, step.deps.join(", "));
            let _ = writeln!(s, "    {:?}", step.action);
        }
        s
    }
}

/// The CIDRs a public endpoint admits: the given ones, or everything when none are given (what
/// EKS does, and reports, when `publicAccessCidrs` is not set).
pub fn effective_public_cidrs(cidrs: &[String]) -> std::collections::BTreeSet<String> {
    if cidrs.is_empty() {
        std::collections::BTreeSet::from(["0.0.0.0/0".to_string()])
    } else {
        cidrs.iter().cloned().collect()
    }
}

/// What the executor recorded for one step (the `awsResources` output entries).
pub use crate::model::AwsResource as StepOutput;

/// Step outputs by step id.
pub type StepOutputs = BTreeMap<StepId, StepOutput>;

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(steps: &[(&str, &[&str])]) -> Plan {
        let steps = steps
            .iter()
            .map(|(id, deps)| Step { id: id.to_string(), action: Action::InternetGateway, deps: deps.iter().map(|d| d.to_string()).collect() })
            .collect();
        Plan { cluster_name: "c".into(), region: "us-east-1".into(), tags: BTreeMap::new(), steps }
    }

    #[test]
    fn weighted_critical_path_follows_the_heaviest_chain() {
        // a -> b -> d, a -> c -> d; c is expensive, so the chain goes through c.
        let p = plan(&[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("d", &["b", "c"]), ("e", &[])]);
        let cost = |s: &Step| if s.id == "c" { 5 } else { 1 };
        assert_eq!(p.critical_path_by(cost), (7, vec!["a", "c", "d"]));
        // Unit costs give the unweighted length.
        assert_eq!(p.critical_path_by(|_| 1).0, p.critical_path_len() as u64);
        assert_eq!(p.critical_path_by(|_| 1).1, vec!["a", "b", "d"]);
        assert_eq!(plan(&[]).critical_path_by(|_| 1), (0, vec![]));
    }

    #[test]
    fn width_is_the_most_steps_at_one_depth() {
        let p = plan(&[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("d", &["a"]), ("e", &[]), ("f", &["b", "c"])]);
        assert_eq!(p.max_width(), 3); // depth 2: b, c, d
        assert_eq!(plan(&[]).max_width(), 0);
    }
}
