//! The secure defaults. Applied in Check, so the checked inputs (and thus state and Diff) always
//! carry the full, explicit configuration.

use sha2::{Digest, Sha256};

use super::*;

/// The default VPC CIDR.
pub const DEFAULT_VPC_CIDR: &str = "10.0.0.0/16";
/// The default pod CIDR (custom networking).
pub const DEFAULT_POD_CIDR: &str = "100.64.0.0/16";
/// All control-plane log types.
pub const ALL_LOG_TYPES: [&str; 5] = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
/// Default log retention in days.
pub const DEFAULT_RETENTION_DAYS: i64 = 90;
/// Default IMDS hop limit.
pub const DEFAULT_IMDS_HOP_LIMIT: i64 = 2;

/// How a missing `clusterName` is filled.
#[derive(Debug, Clone, PartialEq)]
pub enum Autoname<'a> {
    /// The engine proposed (or enforces) this name.
    Proposed(&'a str),
    /// Derive `<resource name>-<7 hex>` from the resource name and a stable seed.
    Derived {
        /// The Pulumi resource name.
        resource_name: &'a str,
        /// A seed that stays the same for the resource across updates (the server passes the URN,
        /// so a crashed create finds its resources again under the same name).
        seed: &'a [u8],
    },
    /// Autonaming is disabled: no name is filled in.
    Disabled,
}

/// Derive an autoname: the resource name plus 7 hex characters from the seed, clipped to EKS's 100.
pub fn derive_name(resource_name: &str, seed: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(seed);
    h.update(resource_name.as_bytes());
    let digest = hex::encode(h.finalize());
    let base: String = resource_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .take(92)
        .collect();
    format!("{base}-{}", &digest[..7])
}

impl ClusterArgs {
    /// Like [`ClusterArgs::with_defaults`], but a default that depends on another value is not
    /// filled in while that value is unknown (e.g. no `vpcCidr` while `existingVpc` is unknown).
    ///
    /// The availability zones are not filled in here: they come from AWS (see
    /// [`ClusterArgs::with_zones`]).
    pub fn with_defaults_around(self, autoname: Autoname<'_>, region: Option<&str>, annotations: &crate::codec::Annotations) -> Self {
        use crate::value::Path;
        let had_vpc_cidr = self.network.as_ref().is_some_and(|n| n.vpc_cidr.is_some());
        let had_zones = self.network.as_ref().is_some_and(|n| n.availability_zones.is_some());
        let mut out = self.with_defaults(autoname, region);
        let existing_unknown = annotations.is_unknown(&Path::key("network").k("existingVpc"));
        if let Some(n) = out.network.as_mut() {
            if existing_unknown && !had_vpc_cidr {
                n.vpc_cidr = None;
            }
            if !had_zones {
                n.availability_zones = None;
            }
        }
        out
    }

    /// Fill absent availability zones: the zones chosen earlier (`olds`, so a running cluster
    /// never moves), else `defaults` (the first three usable zones of the region, read from
    /// DescribeAvailabilityZones: [`crate::rules::AwsFacts::default_zones`]). With neither, they
    /// stay absent: unknown until AWS can be asked.
    pub fn with_zones(mut self, olds: Option<&ClusterArgs>, defaults: Option<Vec<String>>) -> Self {
        let net = self.network.get_or_insert_with(Network::default);
        if net.availability_zones.is_none() {
            net.availability_zones = olds.and_then(|o| o.network.as_ref()).and_then(|n| n.availability_zones.clone()).or(defaults);
        }
        self
    }

    /// Fill every absent setting with its secure default. `region` chooses the offline default AZs.
    pub fn with_defaults(mut self, autoname: Autoname<'_>, region: Option<&str>) -> Self {
        if self.cluster_name.is_none() {
            self.cluster_name = match autoname {
                Autoname::Proposed(n) => Some(n.to_string()),
                Autoname::Derived { resource_name, seed } => Some(derive_name(resource_name, seed)),
                Autoname::Disabled => None,
            };
        }
        let net = self.network.get_or_insert_with(Network::default);
        if net.vpc_cidr.is_none() && net.existing_vpc.is_none() {
            net.vpc_cidr = Some(DEFAULT_VPC_CIDR.to_string());
        }
        // Offline callers (tests, benchmarks, tools) get `<region>a/b/c`. The provider never
        // relies on it: Check fills the zones from DescribeAvailabilityZones
        // ([`ClusterArgs::with_zones`]) and Create plans only checked inputs.
        if net.availability_zones.is_none() {
            if let Some(r) = region {
                net.availability_zones = Some(["a", "b", "c"].iter().map(|s| format!("{r}{s}")).collect());
            }
        }
        // EKS Auto Mode runs its own pod networking: no custom networking by default.
        let auto_mode = self.auto_mode.as_ref().and_then(|a| a.enabled).unwrap_or(false);
        if net.pod_cidr.is_absent() {
            net.pod_cidr = if auto_mode { Nullable::Null } else { Nullable::Value(DEFAULT_POD_CIDR.to_string()) };
        }
        net.prefix_delegation.get_or_insert(true);
        net.nat_gateways.get_or_insert(NatGateways::None);
        net.network_policy.get_or_insert(true);

        let api = self.api_access.get_or_insert_with(ApiAccess::default);
        api.private.get_or_insert(true);
        api.public.get_or_insert(false);
        api.public_cidrs.get_or_insert_with(Vec::new);

        self.encryption.get_or_insert_with(Encryption::default);

        let logging = self.logging.get_or_insert_with(Logging::default);
        logging
            .types
            .get_or_insert_with(|| ALL_LOG_TYPES.iter().map(|s| s.to_string()).collect());
        logging.retention_days.get_or_insert(DEFAULT_RETENTION_DAYS);

        for ng in self.node_groups.iter_mut().flatten() {
            ng.capacity_type.get_or_insert(CapacityType::OnDemand);
            ng.min_size.get_or_insert(1);
            ng.desired_size.get_or_insert(2);
            ng.max_size.get_or_insert(3);
            ng.ami_family.get_or_insert(AmiFamily::Al2023);
            ng.disk_size_gib.get_or_insert(50);
            ng.imds_hop_limit.get_or_insert(DEFAULT_IMDS_HOP_LIMIT);
        }

        let ca = self.cluster_autoscaler.get_or_insert_with(ClusterAutoscaler::default);
        ca.enabled.get_or_insert(true);
        ca.namespace.get_or_insert_with(|| "kube-system".to_string());
        ca.service_account.get_or_insert_with(|| "cluster-autoscaler".to_string());

        self.deployer_admin.get_or_insert_with(DeployerAdmin::default).enabled.get_or_insert(true);

        let policy = self.policy.get_or_insert_with(Policy::default);
        policy.unknowns.get_or_insert(UnknownsMode::Defer);
        self.with_daytwo_defaults().with_auto_mode_defaults()
    }
}
