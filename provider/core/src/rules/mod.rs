//! The preview-time policy: one rule per file, evaluated over the checked (defaulted) inputs.
//!
//! A rule is tri-state: it passes (no outcome), fails (a [`Finding`]), or is *deferred* because a
//! value it needs is unknown at preview. A deferred rule is never a failure; Check runs again at
//! `pulumi up` with real values, so it still blocks before any AWS call.

use std::fmt;

use crate::codec::Annotations;
use crate::model::ClusterArgs;
use crate::value::Path;

mod facts;
pub use facts::*;
mod strings;
pub use strings::StringRule;

mod add_002_versions;
mod add_003_cni_configuration;
mod cfg_001_region_arns;
mod aws_node_012_instance_types;
mod aws_node_013_ami_parameter;
mod aws_add_004_addon_versions;
mod aws_net_011_existing_subnets;
mod aws_net_012_zones;
mod aws_net_030_endpoint_services;
mod aws_node_014_pinned_ami_arch;
mod cfg_004_schema;
mod cfg_005_required;
mod cfg_006_waivers;
mod cfg_007_provider_config;
mod cost_001_tags;
mod cp_001_public_open;
mod cp_002_public_cidrs;
mod cp_003_private_access;
mod cp_004_version;
mod cp_005_version_jump;
mod cp_006_cluster_name;
mod cp_007_public_cidr_set;
mod cp_008_secrets_encryption;
pub mod audit;
mod iam_010_irsa_subjects;
mod iam_011_role_policies;
mod iam_012_not_action;
mod iam_013_service_wildcards;
mod iam_014_pass_role;
mod iam_015_admin_managed;
mod iam_016_unknown_actions;
mod iam_020_access_entries;
mod iam_021_principal_wildcards;
pub mod iam_catalogue;
mod iam_policy;
mod iam_030_no_admin;
mod net_001_azs;
mod net_002_cidrs;
mod net_003_vpc_source;
mod net_004_world_cidrs;
mod net_005_cidr_association;
mod net_006_private_egress;
mod net_010_pod_subnets;
mod net_021_extra_endpoints;
mod node_001_sizes;
mod node_002_spot;
mod node_003_hop_limit;
mod node_004_arch;
mod node_005_prefix_nitro;
mod node_006_labels;
mod node_007_unique_names;
mod node_008_ami_disk;
mod node_009_label_syntax;
mod node_010_userdata_output;
mod node_011_userdata_format;
mod node_020_userdata_decoded;
mod node_021_imdsv1;
mod node_022_al2_ami;
pub mod userdata_decode;
mod obs_001_log_types;
mod out_002_leaked_output;
mod rel_001_three_azs;
mod rel_002_single_nat;
mod add_005_named_addons;
mod auto_001_skipped;
mod auto_002_no_node_groups;
mod auto_003_builtin_addons;
mod auto_004_node_pools;
mod aws_add_006_addon_names;
mod cp_010_extended_support;
mod node_030_update_config;
mod node_031_gpu_ami;
mod node_032_accelerator_ami;

pub use cfg_004_schema::schema_failure;
pub use cfg_007_provider_config::check_provider_config;

#[cfg(test)]
mod fixtures;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "INFO",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        })
    }
}

/// Whether a finding blocks (a Check failure) or only warns (an engine log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A Check failure: preview and up fail.
    Error,
    /// A warning shown under Diagnostics.
    Warning,
}

/// A rule's stable metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMeta {
    /// The stable id, `SEKS-<AREA>-<NNN>`. Never reused.
    pub id: &'static str,
    /// A one-line title.
    pub title: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Error or warning.
    pub level: Level,
    /// Whether `policy.waivers` may waive it.
    pub waivable: bool,
    /// Equivalent checks elsewhere, where one exists (never invented): CIS EKS Benchmark section
    /// (`CIS 5.4.1`), Checkov id, Trivy/AVD id, KICS id, and the AWS EKS Best Practices Guide page
    /// (`EKS BPG security/iam`, its path under `latest/bpg/`).
    pub refs: &'static [&'static str],
}

/// One violation.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The offending property path.
    pub path: Path,
    /// What is wrong, with the actual value (never a secret or a whole userData blob).
    pub problem: String,
    /// What is expected.
    pub expected: String,
    /// One concrete change that fixes it.
    pub fix: String,
}

/// What one rule said about one place.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A violation.
    Fail(Finding),
    /// The rule could not be evaluated at this path because a value is unknown.
    Deferred(Path),
}

/// What a rule sees.
#[derive(Debug, Clone, Copy)]
pub struct RuleCtx<'a> {
    /// The checked inputs, defaults applied.
    pub spec: &'a ClusterArgs,
    /// Where the unknowns and secrets in the inputs are.
    pub annotations: &'a Annotations,
    /// The previous inputs on update, `None` on create.
    pub olds: Option<&'a ClusterArgs>,
    /// The provider's region, if known.
    pub region: Option<&'a str>,
    /// Today's date as `YYYY-MM-DD` (for waiver expiry); passed in so rules stay pure.
    pub today: &'a str,
    /// Facts read from AWS by the executor (instance types, SSM parameters, addon versions), when
    /// the provider has credentials. `None`: the AWS-backed rules are deferred.
    pub aws: Option<&'a AwsFacts>,
}

/// What the executor looked up in AWS for the AWS-backed rules. Pure data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsFacts {
    /// Instance type → its architectures as AWS reports them (`x86_64`, `arm64`); a type missing
    /// from the map does not exist in the region.
    pub instance_types: std::collections::BTreeMap<String, Vec<String>>,
    /// SSM parameter name → whether it exists.
    pub ssm_parameters: std::collections::BTreeMap<String, bool>,
    /// EKS addon name → versions compatible with the cluster's Kubernetes version.
    pub addon_versions: std::collections::BTreeMap<String, Vec<String>>,
    /// Pinned AMI id → its architecture (`x86_64`, `arm64`); absent: no such image.
    pub images: std::collections::BTreeMap<String, String>,
    /// Existing subnet id → what AWS says about it; absent: no such subnet.
    pub subnets: std::collections::BTreeMap<String, SubnetFacts>,
    /// Every zone of the region, opt-in ones included (DescribeAvailabilityZones with
    /// `AllAvailabilityZones`); `None`: not looked up.
    pub zones: Option<Vec<ZoneFacts>>,
    /// Every VPC endpoint service the region offers, by full name (`com.amazonaws.<region>.eks`;
    /// DescribeVpcEndpointServices); `None`: not looked up.
    pub endpoint_services: Option<std::collections::BTreeSet<String>>,
}

/// What DescribeAvailabilityZones says about one zone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZoneFacts {
    /// Its name, e.g. `us-east-1a`.
    pub name: String,
    /// `available`, `information`, `impaired`, `unavailable`, `constrained`.
    pub state: String,
    /// `availability-zone`, `local-zone` or `wavelength-zone`.
    pub zone_type: String,
    /// `opt-in-not-required`, `opted-in` or `not-opted-in`.
    pub opt_in_status: String,
}

impl ZoneFacts {
    /// A zone a cluster may take by default: an ordinary AZ (not a Local or Wavelength Zone)
    /// that is available and needs no opt-in (EC2 API_AvailabilityZone).
    pub fn is_default_candidate(&self) -> bool {
        self.state == "available" && self.zone_type == "availability-zone" && self.opt_in_status == "opt-in-not-required"
    }
}

/// What AWS reports about an existing subnet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubnetFacts {
    /// Its availability zone.
    pub az: String,
    /// Whether instances launched in it get a public IP.
    pub map_public_ip_on_launch: bool,
    /// Its VPC.
    pub vpc_id: String,
}

impl AwsFacts {
    /// The default zones: the first three (by name) that [`ZoneFacts::is_default_candidate`];
    /// `None` when the zones were not looked up.
    pub fn default_zones(&self) -> Option<Vec<String>> {
        let mut names: Vec<String> = self.zones.as_ref()?.iter().filter(|z| z.is_default_candidate()).map(|z| z.name.clone()).collect();
        names.sort();
        names.truncate(3);
        Some(names)
    }

    /// The pinned AMI ids and existing subnet ids a spec needs looked up.
    pub fn wanted_ids(spec: &ClusterArgs) -> (Vec<String>, Vec<String>) {
        let images = spec.node_groups.iter().flatten().filter_map(|n| n.ami_id.clone()).collect();
        let subnets = spec
            .network
            .as_ref()
            .and_then(|n| n.existing_vpc.as_ref())
            .map(|e| {
                e.node_subnet_ids
                    .iter()
                    .chain(e.pod_subnet_ids.iter().flatten())
                    .chain(e.endpoint_subnet_ids.iter().flatten())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        (images, subnets)
    }

    /// The instance types, SSM parameters and addons a spec needs looked up.
    pub fn wanted(spec: &ClusterArgs) -> (Vec<String>, Vec<String>, Vec<String>) {
        let mut types: Vec<String> = spec.node_groups.iter().flatten().flat_map(|n| n.instance_types.clone()).collect();
        types.sort();
        types.dedup();
        let params = spec.node_groups.iter().flatten().filter_map(|n| ami_parameter(spec, n)).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let mut addons: Vec<String> = ["vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent"].iter().map(|s| s.to_string()).collect();
        // Addons by name (SEKS-ADD-005), each looked up once.
        let extra = spec.addons.as_ref().and_then(|a| a.extra.as_ref());
        for a in extra.into_iter().flatten().filter(|a| a.enabled.unwrap_or(true)) {
            if !addons.contains(&a.name) {
                addons.push(a.name.clone());
            }
        }
        (types, params, addons)
    }
}

/// The SSM parameter holding the AMI release for a node group (none for a pinned AMI).
pub fn ami_parameter(spec: &ClusterArgs, ng: &crate::model::NodeGroup) -> Option<String> {
    use crate::model::AmiFamily;
    if ng.ami_id.is_some() {
        return None;
    }
    let version = spec.kubernetes_version.as_deref()?;
    let arch = ng.instance_types.first().and_then(|t| instance_arch(t))?;
    // The accelerated variant (NVIDIA, Neuron) when there is one; else the standard AMI
    // (SEKS-NODE-032 refuses an accelerator without an AMI).
    let family = ng.ami_family.unwrap_or(AmiFamily::Al2023);
    let accelerator = ng.accelerator.unwrap_or_else(|| crate::model::Accelerator::of_instance_types(&ng.instance_types));
    crate::plan::ami_type(version, family, arch, accelerator)
        .or_else(|| crate::plan::ami_type(version, family, arch, crate::model::Accelerator::None))
        .map(|(_, p)| p)
}

impl RuleCtx<'_> {
    /// True when nothing at, above or below `path` is unknown.
    pub fn known(&self, path: &Path) -> bool {
        !self.annotations.touches_unknown(path)
    }

    /// True when the value at `path` is secret.
    pub fn is_secret(&self, path: &Path) -> bool {
        self.annotations.is_secret(path)
    }
}

/// A rule.
pub trait Rule: Sync {
    /// The rule's metadata.
    fn meta(&self) -> &'static RuleMeta;
    /// Evaluate. No outcome means pass.
    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome>;
    /// The rule as a string scanner, when it judges every string input: [`evaluate`] then walks
    /// the spec once for all such rules instead of calling `check` on each.
    fn strings(&self) -> Option<&dyn StringRule> {
        None
    }
}

/// Every rule, in id order.
pub fn catalogue() -> &'static [&'static dyn Rule] {
    &CATALOGUE
}

static CATALOGUE: [&dyn Rule; 62] = [
    &aws_net_011_existing_subnets::RULE,
    &aws_net_012_zones::RULE,
    &aws_net_030_endpoint_services::RULE,
    &aws_node_014_pinned_ami_arch::RULE,
    &aws_node_012_instance_types::RULE,
    &aws_node_013_ami_parameter::RULE,
    &aws_add_004_addon_versions::RULE,
        &add_002_versions::RULE,
        &add_003_cni_configuration::RULE,
        &cfg_001_region_arns::RULE,
        &cfg_005_required::RULE,
        &cfg_006_waivers::RULE,
        &cost_001_tags::RULE,
        &cp_001_public_open::RULE,
        &cp_002_public_cidrs::RULE,
        &cp_003_private_access::RULE,
        &cp_004_version::RULE,
        &cp_005_version_jump::RULE,
        &cp_006_cluster_name::RULE,
        &cp_007_public_cidr_set::RULE,
        &iam_010_irsa_subjects::RULE,
        &iam_011_role_policies::RULE,
        &iam_012_not_action::RULE,
        &iam_013_service_wildcards::RULE,
        &iam_014_pass_role::RULE,
        &iam_015_admin_managed::RULE,
        &iam_016_unknown_actions::RULE,
        &iam_020_access_entries::RULE,
        &iam_021_principal_wildcards::RULE,
        &iam_030_no_admin::RULE,
        &net_001_azs::RULE,
        &net_002_cidrs::RULE,
        &net_003_vpc_source::RULE,
        &net_004_world_cidrs::RULE,
        &net_005_cidr_association::RULE,
        &net_010_pod_subnets::RULE,
        &net_021_extra_endpoints::RULE,
        &node_001_sizes::RULE,
        &node_002_spot::RULE,
        &node_003_hop_limit::RULE,
        &node_004_arch::RULE,
        &node_005_prefix_nitro::RULE,
        &node_006_labels::RULE,
        &node_007_unique_names::RULE,
        &node_008_ami_disk::RULE,
        &node_009_label_syntax::RULE,
        &node_010_userdata_output::RULE,
        &node_011_userdata_format::RULE,
        &node_020_userdata_decoded::RULE,
        &obs_001_log_types::RULE,
        &out_002_leaked_output::RULE,
        &rel_001_three_azs::RULE,
        &rel_002_single_nat::RULE,
        &aws_add_006_addon_names::RULE,
        &add_005_named_addons::RULE,
        &cp_010_extended_support::RULE,
        &node_030_update_config::RULE,
        &node_031_gpu_ami::RULE,
        &node_032_accelerator_ami::RULE,
        &auto_002_no_node_groups::RULE,
        &auto_003_builtin_addons::RULE,
        &auto_004_node_pools::RULE,
];

/// Metadata of every id, including those not in [`catalogue`] (schema failures, deferral notes).
pub fn all_meta() -> Vec<&'static RuleMeta> {
    let mut v: Vec<&'static RuleMeta> = catalogue().iter().map(|r| r.meta()).collect();
    v.push(&cfg_004_schema::META);
    v.push(&DEFERRED_META);
    v.push(&cfg_006_waivers::EXPIRED);
    v.push(&cfg_006_waivers::STALE);
    v.push(&cfg_007_provider_config::META);
    v.push(&auto_001_skipped::META);
    v.sort_by_key(|m| m.id);
    v
}

/// Metadata of every id, the audit-only rules ([`audit::audit_rules`]) included: for the docs,
/// the schema and the SARIF rule list.
pub fn all_meta_with_audit() -> Vec<&'static RuleMeta> {
    let mut v = all_meta();
    v.extend(audit::audit_rules().iter().map(|r| r.meta()));
    v.sort_by_key(|m| m.id);
    v
}

/// The note listing deferred rules.
pub static DEFERRED_META: RuleMeta = RuleMeta {
    id: "SEKS-CFG-000",
    title: "Checks deferred because values are unknown at preview",
    severity: Severity::Info,
    level: Level::Warning,
    waivable: false,
    refs: &[],
};

/// Render the user-facing message of a finding.
pub fn message(meta: &RuleMeta, f: &Finding) -> String {
    let refs = if meta.refs.is_empty() {
        "none".to_string()
    } else {
        meta.refs.join(", ")
    };
    let path = if f.path.segments().is_empty() {
        "(resource)".to_string()
    } else {
        f.path.to_string()
    };
    format!(
        "{} [{}] {}: {}; expected {}. Fix: {}. Refs: {}",
        meta.id, meta.severity, path, f.problem, f.expected, f.fix, refs
    )
}

/// One reported item.
#[derive(Debug, Clone, PartialEq)]
pub struct Reported {
    /// The rule.
    pub meta: &'static RuleMeta,
    /// The top-level input key for `CheckFailure.property` (empty for sensitive or root paths).
    pub property: String,
    /// The full message.
    pub message: String,
    /// The path.
    pub path: Path,
}

/// The result of evaluating the catalogue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// How many rules ran.
    pub rules_evaluated: usize,
    /// Blocking findings.
    pub failures: Vec<Reported>,
    /// Warnings.
    pub warnings: Vec<Reported>,
    /// Deferred rules and the unknown paths that deferred them.
    pub deferred: Vec<(&'static str, Path)>,
    /// Waived findings, with the waiver's reason.
    pub waived: Vec<(Reported, String)>,
    /// Rules skipped because they don't apply (EKS Auto Mode), with the reason.
    pub skipped: Vec<(&'static str, &'static str)>,
}

impl Report {
    /// The single SEKS-AUTO-001 note listing the rules skipped for EKS Auto Mode, if any.
    pub fn skipped_note(&self) -> Option<String> {
        if self.skipped.is_empty() {
            return None;
        }
        let mut groups: Vec<(Vec<&str>, &str)> = Vec::new();
        for (id, why) in &self.skipped {
            match groups.iter_mut().find(|(_, w)| w == why) {
                Some((ids, _)) => ids.push(id),
                None => groups.push((vec![id], why)),
            }
        }
        let items: Vec<String> = groups.iter().map(|(ids, why)| format!("{} ({why})", ids.join(", "))).collect();
        Some(format!("SEKS-AUTO-001 [INFO] {} checks skipped for EKS Auto Mode: {}", self.skipped.len(), items.join("; ")))
    }

    /// The single SEKS-CFG-000 note listing deferred rules, if any were deferred.
    pub fn deferred_note(&self) -> Option<String> {
        if self.deferred.is_empty() {
            return None;
        }
        let items: Vec<String> = self
            .deferred
            .iter()
            .map(|(id, p)| format!("{id} ({p})"))
            .collect();
        Some(format!(
            "SEKS-CFG-000 [INFO] {} checks deferred (values unknown at preview): {}. They run again at `pulumi up` before any AWS call",
            self.deferred.len(),
            items.join(", ")
        ))
    }
}

fn property_for(path: &Path, ctx: &RuleCtx<'_>) -> String {
    let sensitive = ctx.is_secret(path)
        || path
            .segments()
            .iter()
            .any(|s| matches!(s, crate::value::Seg::Key(k) if k == "userData" || k == "inlinePolicy"));
    match path.top() {
        Some(top) if !sensitive => top.to_string(),
        _ => String::new(),
    }
}

/// Evaluate every rule and apply the unknowns mode and waivers.
pub fn evaluate(ctx: &RuleCtx<'_>) -> Report {
    use crate::model::UnknownsMode;
    let mode = ctx
        .spec
        .policy
        .as_ref()
        .and_then(|p| p.unknowns)
        .unwrap_or_default();
    let waivers = ctx
        .spec
        .policy
        .as_ref()
        .and_then(|p| p.waivers.clone())
        .unwrap_or_default();
    let mut report = Report::default();
    // The string-scanning rules share one walk over the spec.
    let scanners: Vec<&dyn StringRule> = catalogue().iter().filter_map(|r| r.strings()).collect();
    let mut scanned = strings::scan(ctx, &scanners).into_iter();
    for rule in catalogue() {
        let meta = rule.meta();
        if let Some(why) = auto_001_skipped::skipped(ctx, meta.id) {
            report.skipped.push((meta.id, why));
            if rule.strings().is_some() {
                scanned.next();
            }
            continue;
        }
        report.rules_evaluated += 1;
        let outcomes = match rule.strings() {
            Some(_) => scanned.next().unwrap_or_default(),
            None => rule.check(ctx),
        };
        for outcome in outcomes {
            match outcome {
                Outcome::Fail(f) => {
                    let item = Reported {
                        meta,
                        property: property_for(&f.path, ctx),
                        message: message(meta, &f),
                        path: f.path.clone(),
                    };
                    let waiver = if meta.waivable {
                        waivers.iter().find(|w| {
                            w.rule == meta.id
                                && w.reason.trim().len() >= cfg_006_waivers::MIN_REASON
                                && w.expires.as_deref().is_none_or(|e| e >= ctx.today)
                                && w.target
                                    .as_deref()
                                    .is_none_or(|t| f.path.to_string().starts_with(t))
                        })
                    } else {
                        None
                    };
                    match (waiver, meta.level) {
                        (Some(w), _) => report.waived.push((item, w.reason.clone())),
                        (None, Level::Error) => report.failures.push(item),
                        (None, Level::Warning) => report.warnings.push(item),
                    }
                }
                Outcome::Deferred(path) => match mode {
                    UnknownsMode::Defer => report.deferred.push((meta.id, path)),
                    UnknownsMode::Warn | UnknownsMode::Fail => {
                        let f = Finding {
                            path: path.clone(),
                            problem: "the value is unknown at preview, so this check cannot run".into(),
                            expected: "a value known at preview (policy.unknowns is not `defer`)".into(),
                            fix: "pass a plain value, or set policy.unknowns to `defer`".into(),
                        };
                        let item = Reported {
                            meta,
                            property: property_for(&path, ctx),
                            message: message(meta, &f),
                            path,
                        };
                        if mode == UnknownsMode::Fail {
                            report.failures.push(item);
                        } else {
                            report.warnings.push(item);
                        }
                    }
                },
            }
        }
    }
    report
}

/// The stale-waiver and expired-waiver warnings, computed after evaluation.
pub fn waiver_hygiene(ctx: &RuleCtx<'_>, report: &Report) -> Vec<String> {
    cfg_006_waivers::hygiene(ctx, report)
}

/// The node groups with their paths. Empty when `nodeGroups` is absent or unknown.
pub(crate) fn node_groups<'a>(
    ctx: &RuleCtx<'a>,
) -> impl Iterator<Item = (Path, &'a crate::model::NodeGroup)> {
    ctx.spec
        .node_groups
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, ng)| (Path::key("nodeGroups").i(i), ng))
}

/// Evaluate `f` only when `path` is known; otherwise defer.
pub(crate) fn when_known(
    ctx: &RuleCtx<'_>,
    path: &Path,
    f: impl FnOnce() -> Option<Finding>,
) -> Option<Outcome> {
    if ctx.known(path) {
        f().map(Outcome::Fail)
    } else {
        Some(Outcome::Deferred(path.clone()))
    }
}

/// Per-rule prose that lives in the rule files (read by `xtask`): why the rule exists, and an
/// example message (which carries the fix).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleDocs {
    /// Why the rule exists (the rule file's module documentation).
    pub why: String,
    /// An example failure message from the rule's `fail` fixture.
    pub example: Option<String>,
}

/// The rule catalogue as Markdown (`docs/rules.md`): a summary table, then one section per rule
/// with why, the fix (inside the example message) and the references.
pub fn rules_doc(docs: &dyn Fn(&str) -> RuleDocs) -> String {
    let level = |m: &RuleMeta| match m.level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let mut s = String::from(
        "# secure-eks rules\n\nGenerated by `cargo run -p xtask -- rules-doc` from the rule metadata and the rule files; do not edit. Ids are never reused.\n\n| id | severity | kind | waivable | title | refs |\n|---|---|---|---|---|---|\n",
    );
    let metas = all_meta_with_audit();
    for m in &metas {
        s.push_str(&format!(
            "| [{}](#{}) | {} | {} | {} | {} | {} |\n",
            m.id,
            m.id.to_ascii_lowercase(),
            m.severity,
            level(m),
            if m.waivable { "yes" } else { "no" },
            m.title,
            m.refs.join(", ")
        ));
    }
    for m in &metas {
        let d = docs(m.id);
        s.push_str(&format!("\n## {}\n\n**{}** ({}, {}, {})\n\n", m.id, m.title, m.severity, level(m), if m.waivable { "waivable" } else { "not waivable" }));
        if !d.why.is_empty() {
            s.push_str(&format!("Why: {}\n\n", d.why));
        }
        if let Some(e) = d.example {
            s.push_str(&format!("Example (the message ends with the fix):\n\n```\n{e}\n```\n\n"));
        }
        if !m.refs.is_empty() {
            s.push_str(&format!("References: {}\n", m.refs.join(", ")));
        }
    }
    s
}

/// Scan every string input (after defaults) and every unknown with one [`StringRule`]: unknown
/// paths it does not skip are deferred, and it may turn a known string into a finding.
pub(crate) fn scan_strings(ctx: &RuleCtx<'_>, rule: &dyn StringRule) -> Vec<Outcome> {
    strings::scan(ctx, &[rule]).pop().unwrap_or_default()
}

/// The finding for a node group whose instance types span more than one architecture, given
/// each type's architecture (from the static table or from AWS). `None` when there is one.
pub(crate) fn mixed_arch_finding(group: &Path, mut archs: Vec<(String, &str)>, source: &str) -> Option<Finding> {
    archs.sort();
    archs.dedup_by(|a, b| a.0 == b.0);
    (archs.len() > 1).then(|| Finding {
        path: group.k("instanceTypes"),
        problem: format!(
            "{source} mixes architectures ({})",
            archs.iter().map(|(a, t)| format!("{t} is {a}")).collect::<Vec<_>>().join(", ")
        ),
        expected: "all instance types of one architecture (the AMI follows it)".into(),
        fix: format!("split {group} into one group per architecture"),
    })
}
