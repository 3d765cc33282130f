//! Audit: the rules judged against a cluster as AWS describes it, whoever built it.
//!
//! The executor reads a cluster and what is around it into [`AuditFacts`] (pure data; nothing
//! here does IO) and [`audit`] returns findings under the same rule ids as the preview-time
//! policy, with paths against the observed resources (`cluster.resourcesVpcConfig...`,
//! `nodegroups["general"].launchTemplate...`, `roles["app"].assumeRolePolicyDocument`), and the
//! rules it could not judge from AWS state, with the reason. Rules that only an audit can judge
//! (things secure-eks always does itself, such as secrets encryption) live in their own files
//! with [`AuditRule`] fixtures; the rules over inputs are reused by rebuilding the matching
//! inputs (IRSA policies, access entries, user data) and mapping the paths back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;
use crate::model::{AccessEntry, AccessPolicy, ClusterArgs, NodeGroup, ServiceAccountRole};

/// A subnet as EC2 describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditSubnet {
    /// `subnet-...`.
    pub id: String,
    /// Its zone.
    pub az: String,
    /// `MapPublicIpOnLaunch`.
    pub map_public_ip_on_launch: bool,
}

/// A launch template version as EC2 describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditLaunchTemplate {
    /// `lt-...`.
    pub id: String,
    /// `MetadataOptions.HttpTokens` (`required`, `optional`); `None` when unset (AWS then allows IMDSv1).
    pub http_tokens: Option<String>,
    /// `MetadataOptions.HttpEndpoint` (`enabled`, `disabled`).
    pub http_endpoint: Option<String>,
    /// `MetadataOptions.HttpPutResponseHopLimit`.
    pub hop_limit: Option<i64>,
    /// The user data, base64-decoded as EC2 returns it base64-encoded.
    pub user_data: Option<String>,
}

/// A managed node group as EKS describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditNodeGroup {
    /// Its name.
    pub name: String,
    /// `amiType` (`AL2_x86_64`, `AL2023_ARM_64_STANDARD`, `BOTTLEROCKET_ARM_64`, `CUSTOM`, ...).
    pub ami_type: String,
    /// Its subnets.
    pub subnets: Vec<AuditSubnet>,
    /// Its launch template, when it has one of its own.
    pub launch_template: Option<AuditLaunchTemplate>,
}

/// An IAM role that trusts the cluster's OIDC provider (an IRSA role).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRole {
    /// The role name.
    pub name: String,
    /// The trust policy (URL-decoded JSON).
    pub trust_policy: String,
    /// Inline policy documents (URL-decoded JSON), by policy name.
    pub inline_policies: BTreeMap<String, String>,
    /// Attached managed policy ARNs.
    pub attached_policies: Vec<String>,
}

/// What the executor read about one cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditFacts {
    /// The cluster name.
    pub cluster_name: String,
    /// The region.
    pub region: String,
    /// The Kubernetes version.
    pub version: String,
    /// `endpointPublicAccess`.
    pub public_access: bool,
    /// `endpointPrivateAccess`.
    pub private_access: bool,
    /// `publicAccessCidrs`.
    pub public_cidrs: Vec<String>,
    /// The enabled control-plane log types.
    pub log_types: Vec<String>,
    /// The KMS key of the `secrets` encryption config, if any.
    pub secrets_key_arn: Option<String>,
    /// The OIDC issuer URL, if any.
    pub oidc_issuer: Option<String>,
    /// The cluster's VPC.
    pub vpc_id: String,
    /// The cluster's subnets.
    pub cluster_subnets: Vec<AuditSubnet>,
    /// NAT gateways (available or pending) in the VPC.
    pub nat_gateways: usize,
    /// VPC endpoints of the VPC, by service short name (`ec2`, `ecr.api`, `s3`, ...).
    pub endpoint_services: Vec<String>,
    /// Managed node groups.
    pub node_groups: Vec<AuditNodeGroup>,
    /// IRSA roles (roles trusting the cluster's OIDC provider).
    pub irsa_roles: Vec<AuditRole>,
    /// Access entry principal ARNs.
    pub access_entries: Vec<String>,
    /// Things the executor could not read, with why (e.g. an AccessDenied).
    pub unread: Vec<(String, String)>,
}

/// One audit finding.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditFinding {
    /// The rule.
    pub meta: &'static RuleMeta,
    /// The path against the observed resource.
    pub path: String,
    /// The full message (same format as Check's).
    pub message: String,
    /// The finding itself.
    pub finding: Finding,
}

/// The result of an audit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditReport {
    /// The cluster.
    pub cluster_name: String,
    /// The region.
    pub region: String,
    /// Every finding, errors and warnings.
    pub findings: Vec<AuditFinding>,
    /// The rules judged.
    pub judged: Vec<&'static str>,
    /// The rules not judged, with why.
    pub not_judged: Vec<(&'static str, String)>,
}

impl AuditReport {
    /// True when an error-level rule failed.
    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.meta.level == Level::Error)
    }
}

/// A rule that only an audit judges: it reads [`AuditFacts`].
pub trait AuditRule: Sync {
    /// The metadata.
    fn meta(&self) -> &'static RuleMeta;
    /// The findings.
    fn audit(&self, facts: &AuditFacts) -> Vec<Finding>;
}

/// The audit-only rules.
pub fn audit_rules() -> [&'static dyn AuditRule; 4] {
    [&super::cp_008_secrets_encryption::RULE, &super::net_006_private_egress::RULE, &super::node_021_imdsv1::RULE, &super::node_022_al2_ami::RULE]
}

/// The path of the cluster's own fields.
pub fn cluster_path() -> Path {
    Path::key("cluster")
}

/// The path of a node group.
pub fn nodegroup_path(name: &str) -> Path {
    Path::key("nodegroups").k(name)
}

/// The path of a subnet.
pub fn subnet_path(id: &str) -> Path {
    Path::key("subnets").k(id)
}

/// The path of an IAM role.
pub fn role_path(name: &str) -> Path {
    Path::key("roles").k(name)
}

/// Why the catalogue rules the audit does not run cannot be judged from AWS state.
fn not_judged_reason(id: &str) -> &'static str {
    match id {
        "SEKS-CFG-001" | "SEKS-CFG-005" | "SEKS-CFG-006" | "SEKS-COST-001" | "SEKS-OUT-002" | "SEKS-NET-004" | "SEKS-NET-003" | "SEKS-NET-021" => {
            "it judges the program's inputs (ARNs, waivers, tags, strings, VPC source), which an existing cluster does not have"
        }
        "SEKS-CP-005" => "it needs the previous inputs of an update",
        "SEKS-CP-002" | "SEKS-CP-006" => "AWS already refused or accepted it when the cluster was made",
        _ => "the audit does not read what it needs yet",
    }
}

/// The ids of the catalogue rules the audit runs over rebuilt inputs.
const REUSED: [&str; 10] = [
    "SEKS-IAM-011", "SEKS-IAM-012", "SEKS-IAM-013", "SEKS-IAM-014", "SEKS-IAM-015", "SEKS-IAM-016", "SEKS-IAM-020", "SEKS-IAM-021", "SEKS-NODE-010", "SEKS-NODE-020",
];

/// The ids the audit judges directly from the facts.
const DIRECT: [&str; 8] = ["SEKS-CP-001", "SEKS-CP-003", "SEKS-CP-004", "SEKS-CP-007", "SEKS-OBS-001", "SEKS-NET-001", "SEKS-NET-011", "SEKS-IAM-010"];

/// Audit one cluster.
pub fn audit(facts: &AuditFacts) -> AuditReport {
    let mut r = AuditReport { cluster_name: facts.cluster_name.clone(), region: facts.region.clone(), ..Default::default() };
    let mut push = |meta: &'static RuleMeta, f: Finding| {
        r.findings.push(AuditFinding { meta, path: f.path.to_string(), message: message(meta, &f), finding: f });
    };
    for (id, f) in direct(facts) {
        if let Some(meta) = all_meta().into_iter().find(|m| m.id == id) {
            push(meta, f);
        }
    }
    for rule in audit_rules() {
        for f in rule.audit(facts) {
            push(rule.meta(), f);
        }
    }
    for (meta, f) in reused(facts) {
        push(meta, f);
    }
    r.judged = DIRECT.iter().chain(REUSED.iter()).copied().chain(audit_rules().iter().map(|a| a.meta().id)).collect();
    r.judged.sort();
    for m in catalogue().iter().map(|c| c.meta()) {
        if !r.judged.contains(&m.id) {
            r.not_judged.push((m.id, not_judged_reason(m.id).to_string()));
        }
    }
    for (what, why) in &facts.unread {
        r.not_judged.push(("SEKS-CFG-000", format!("{what} could not be read: {why}")));
    }
    r
}

fn fail(path: Path, problem: String, expected: &str, fix: &str) -> Finding {
    Finding { path, problem, expected: expected.into(), fix: fix.into() }
}

fn direct(facts: &AuditFacts) -> Vec<(&'static str, Finding)> {
    let mut out = Vec::new();
    let vpc = cluster_path().k("resourcesVpcConfig");
    if facts.public_access {
        for (i, c) in facts.public_cidrs.iter().enumerate() {
            if is_open_cidr(c) {
                out.push(("SEKS-CP-001", fail(vpc.k("publicAccessCidrs").i(i), format!("the public endpoint is open to {c}"), "specific office or VPN CIDRs, or no public endpoint", "aws eks update-cluster-config --resources-vpc-config publicAccessCidrs=<your egress CIDRs>, or endpointPublicAccess=false")));
            }
        }
        let nets: Vec<ipnet::Ipv4Net> = facts.public_cidrs.iter().filter_map(|c| c.parse().ok()).collect();
        if !nets.iter().any(|n| n.prefix_len() == 0) {
            for (i, n) in nets.iter().enumerate() {
                if n.prefix_len() < 8 {
                    out.push(("SEKS-CP-007", fail(vpc.k("publicAccessCidrs").i(i), format!("{n} is a /{}, a large part of the internet", n.prefix_len()), "blocks of /8 or longer", "replace it with your egress CIDRs")));
                }
            }
            if ipnet::Ipv4Net::aggregate(&nets).iter().any(|n| n.prefix_len() == 0) {
                out.push(("SEKS-CP-007", fail(vpc.k("publicAccessCidrs"), "together the entries cover 0.0.0.0/0: the public endpoint is open to the whole internet".into(), "specific office or VPN CIDRs, or no public endpoint", "list only your egress CIDRs")));
            }
        }
    }
    if !facts.private_access {
        out.push(("SEKS-CP-003", fail(vpc.k("endpointPrivateAccess"), "private endpoint access is off, so nodes reach the API server over the internet".into(), "endpointPrivateAccess true", "aws eks update-cluster-config --resources-vpc-config endpointPrivateAccess=true")));
    }
    if !SUPPORTED_VERSIONS.contains(&facts.version.as_str()) {
        out.push(("SEKS-CP-004", fail(cluster_path().k("version"), format!("Kubernetes {} is not a supported EKS version", facts.version), &format!("one of {}", SUPPORTED_VERSIONS.join(", ")), "upgrade the cluster one minor version at a time")));
    }
    let missing: Vec<&str> = crate::model::ALL_LOG_TYPES.iter().copied().filter(|t| !facts.log_types.iter().any(|l| l == t)).collect();
    if !missing.is_empty() {
        out.push(("SEKS-OBS-001", fail(cluster_path().k("logging").k("clusterLogging"), format!("control-plane log types not enabled: {}", missing.join(", ")), "all five log types enabled (api, audit, authenticator, controllerManager, scheduler)", "aws eks update-cluster-config --logging with all five types enabled")));
    }
    let zones = |subnets: &[AuditSubnet]| {
        let mut z: Vec<String> = subnets.iter().map(|s| s.az.clone()).collect();
        z.sort();
        z.dedup();
        z
    };
    let z = zones(&facts.cluster_subnets);
    if z.len() < 2 {
        out.push(("SEKS-NET-001", fail(vpc.k("subnetIds"), format!("the cluster's subnets are in {} zone(s) ({})", z.len(), z.join(", ")), "subnets in at least 2 zones (3 survive a zone loss)", "aws eks update-cluster-config with subnets in two more zones")));
    }
    for ng in &facts.node_groups {
        let z = zones(&ng.subnets);
        if z.len() < 2 {
            out.push(("SEKS-NET-001", fail(nodegroup_path(&ng.name).k("subnets"), format!("node group {} has all its nodes in {} zone(s) ({}), so one zone outage takes them all", ng.name, z.len(), z.join(", ")), "node subnets in at least 2 zones (3 survive a zone loss)", "create the node group again with subnets in three zones")));
        }
    }
    let mut seen = Vec::new();
    for ng in &facts.node_groups {
        for s in &ng.subnets {
            if s.map_public_ip_on_launch && !seen.contains(&s.id) {
                seen.push(s.id.clone());
                out.push(("SEKS-NET-011", fail(subnet_path(&s.id).k("mapPublicIpOnLaunch"), format!("node group {} launches nodes in {}, which gives every instance a public IP", ng.name, s.id), "node subnets that map no public IPs (private subnets behind NAT or endpoints)", "aws ec2 modify-subnet-attribute --no-map-public-ip-on-launch, or move the node group to private subnets")));
            }
        }
    }
    for role in &facts.irsa_roles {
        out.extend(irsa_trust(role).into_iter().map(|f| ("SEKS-IAM-010", f)));
    }
    out
}

/// The IRSA trust policy admits one service account, for STS: `:aud` = `sts.amazonaws.com` and an
/// exact `:sub`.
fn irsa_trust(role: &AuditRole) -> Vec<Finding> {
    let path = role_path(&role.name).k("assumeRolePolicyDocument");
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&role.trust_policy) else { return vec![] };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        s => vec![s.clone()],
    };
    let mut out = Vec::new();
    for (i, st) in statements.iter().enumerate() {
        let federated = super::iam_policy::strs(st.get("Principal").and_then(|p| p.get("Federated")));
        if !federated.iter().any(|f| f.contains("oidc-provider/")) || st["Effect"] != "Allow" {
            continue;
        }
        let conds: Vec<(&String, &serde_json::Value, &String)> = st["Condition"].as_object().into_iter().flatten().flat_map(|(op, m)| m.as_object().into_iter().flatten().map(move |(k, v)| (op, v, k))).collect();
        let aud = conds.iter().any(|(op, v, k)| k.ends_with(":aud") && op.as_str() == "StringEquals" && super::iam_policy::strs(Some(v)) == ["sts.amazonaws.com"]);
        let sub = conds.iter().find(|(_, _, k)| k.ends_with(":sub"));
        if !aud {
            out.push(fail(path.clone(), format!("Statement[{i}] trusts the cluster's OIDC provider without a StringEquals :aud = sts.amazonaws.com condition, so a token minted for any audience is accepted"), "StringEquals on <issuer>:aud = sts.amazonaws.com and <issuer>:sub = system:serviceaccount:<namespace>:<name>", "add the :aud condition to the trust policy (aws iam update-assume-role-policy)"));
        }
        match sub {
            None => out.push(fail(path.clone(), format!("Statement[{i}] has no :sub condition, so every service account of the cluster can assume the role"), "StringEquals <issuer>:sub = system:serviceaccount:<namespace>:<name>", "add the :sub condition naming the one service account")),
            Some((op, v, _)) if op.as_str() != "StringEquals" || super::iam_policy::strs(Some(v)).iter().any(|s| s.contains(['*', '?'])) => out.push(fail(path.clone(), format!("Statement[{i}] matches :sub with {op} or a wildcard, so more than one service account can assume the role"), "StringEquals on one exact system:serviceaccount:<namespace>:<name>", "name the one service account with StringEquals")),
            Some(_) => {}
        }
    }
    out
}

/// Rebuild the inputs the reused rules read and run them; paths mapped back to the resources.
fn reused(facts: &AuditFacts) -> Vec<(&'static RuleMeta, Finding)> {
    let mut spec = ClusterArgs::default();
    let mut role_paths = Vec::new();
    let mut roles = Vec::new();
    for r in &facts.irsa_roles {
        if r.inline_policies.is_empty() {
            roles.push(ServiceAccountRole { namespace: "audit".into(), name: "audit".into(), policy_arns: Some(r.attached_policies.clone()), inline_policy: None });
            role_paths.push((role_path(&r.name), String::new()));
        }
        for (pname, doc) in &r.inline_policies {
            roles.push(ServiceAccountRole { namespace: "audit".into(), name: "audit".into(), policy_arns: Some(r.attached_policies.clone()), inline_policy: Some(doc.clone()) });
            role_paths.push((role_path(&r.name), pname.clone()));
        }
    }
    spec.service_account_roles = Some(roles);
    spec.access_entries = Some(facts.access_entries.iter().map(|p| AccessEntry { principal_arn: p.clone(), access_policy: AccessPolicy::View, namespaces: None }).collect());
    spec.node_groups = Some(facts.node_groups.iter().map(|n| NodeGroup { name: n.name.clone(), user_data: n.launch_template.as_ref().and_then(|l| l.user_data.clone()), ..Default::default() }).collect());
    let annotations = crate::codec::Annotations::default();
    let ctx = RuleCtx { spec: &spec, annotations: &annotations, olds: None, region: Some(&facts.region), today: "", aws: None };
    let mut out = Vec::new();
    for rule in catalogue().iter().filter(|r| REUSED.contains(&r.meta().id)) {
        for o in rule.check(&ctx) {
            let Outcome::Fail(mut f) = o else { continue };
            f.path = map_path(&f.path, facts, &role_paths);
            out.push((rule.meta(), f));
        }
    }
    out
}

fn map_path(p: &Path, facts: &AuditFacts, role_paths: &[(Path, String)]) -> Path {
    use crate::value::Seg;
    match p.segments() {
        [Seg::Key(k), Seg::Index(i), rest @ ..] if k == "serviceAccountRoles" => {
            let Some((base, pname)) = role_paths.get(*i) else { return p.clone() };
            match rest.first() {
                Some(Seg::Key(x)) if x == "inlinePolicy" => base.k("inlinePolicies").k(pname.clone()),
                Some(Seg::Key(x)) if x == "policyArns" => match rest.get(1) {
                    Some(Seg::Index(j)) => base.k("attachedPolicies").i(*j),
                    _ => base.k("attachedPolicies"),
                },
                _ => base.clone(),
            }
        }
        [Seg::Key(k), Seg::Index(i), ..] if k == "accessEntries" => Path::key("accessEntries").k(facts.access_entries.get(*i).cloned().unwrap_or_default()).k("principalArn"),
        [Seg::Key(k), Seg::Index(i), ..] if k == "nodeGroups" => nodegroup_path(&facts.node_groups.get(*i).map(|n| n.name.clone()).unwrap_or_default()).k("launchTemplate").k("userData"),
        _ => p.clone(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use expect_test::expect;

    /// An audit-only rule's messages for `f`, one per line, or `pass` (the rule files' fixtures).
    pub(crate) fn run(rule: &dyn AuditRule, f: &AuditFacts) -> String {
        let out: Vec<String> = rule.audit(f).iter().map(|x| super::super::message(rule.meta(), x)).collect();
        if out.is_empty() {
            "pass".into()
        } else {
            out.join("\n")
        }
    }

    /// A clean cluster as secure-eks builds it.
    pub(crate) fn clean() -> AuditFacts {
        let subnet = |id: &str, az: &str| AuditSubnet { id: id.into(), az: az.into(), map_public_ip_on_launch: false };
        let subnets = vec![subnet("subnet-a", "us-east-1a"), subnet("subnet-b", "us-east-1b"), subnet("subnet-c", "us-east-1c")];
        AuditFacts {
            cluster_name: "prod".into(),
            region: "us-east-1".into(),
            version: "1.34".into(),
            public_access: false,
            private_access: true,
            public_cidrs: vec![],
            log_types: crate::model::ALL_LOG_TYPES.iter().map(|s| s.to_string()).collect(),
            secrets_key_arn: Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
            oidc_issuer: Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into()),
            vpc_id: "vpc-1".into(),
            cluster_subnets: subnets.clone(),
            nat_gateways: 0,
            endpoint_services: super::super::net_006_private_egress::REQUIRED.iter().map(|s| s.to_string()).collect(),
            node_groups: vec![AuditNodeGroup {
                name: "general".into(),
                ami_type: "AL2023_ARM_64_STANDARD".into(),
                subnets,
                launch_template: Some(AuditLaunchTemplate { id: "lt-1".into(), http_tokens: Some("required".into()), http_endpoint: Some("enabled".into()), hop_limit: Some(2), user_data: None }),
            }],
            irsa_roles: vec![AuditRole {
                name: "prod-sa-0".into(),
                trust_policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud":"sts.amazonaws.com","oidc.eks.us-east-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:app:web"}}}]}"#.into(),
                inline_policies: [("secure-eks".to_string(), r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/*"}]}"#.to_string())].into_iter().collect(),
                attached_policies: vec![],
            }],
            access_entries: vec!["arn:aws:iam::123456789012:role/admins".into()],
            unread: vec![],
        }
    }

    fn ids(r: &AuditReport) -> String {
        r.findings.iter().map(|f| format!("{} {}", f.meta.id, f.path)).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn a_clean_cluster_audits_clean() {
        let r = audit(&clean());
        assert_eq!(ids(&r), "");
        assert!(!r.failed());
        assert!(r.not_judged.iter().any(|(id, _)| *id == "SEKS-CP-005"));
    }

    #[test]
    fn every_defect_is_named() {
        let mut f = clean();
        f.public_access = true;
        f.public_cidrs = vec!["0.0.0.0/0".into()];
        f.log_types.clear();
        f.secrets_key_arn = None;
        f.cluster_subnets.truncate(1);
        f.node_groups[0].subnets.truncate(1);
        f.node_groups[0].subnets[0].map_public_ip_on_launch = true;
        f.node_groups[0].ami_type = "AL2_x86_64".into();
        if let Some(lt) = f.node_groups[0].launch_template.as_mut() {
            lt.http_tokens = Some("optional".into());
        }
        f.irsa_roles[0].trust_policy = f.irsa_roles[0].trust_policy.replace(r#""oidc.eks.us-east-1.amazonaws.com/id/ABC:aud":"sts.amazonaws.com","#, "");
        f.irsa_roles[0].attached_policies = vec!["arn:aws:iam::aws:policy/IAMFullAccess".into()];
        f.endpoint_services.clear();
        f.access_entries.push("arn:aws:iam::123456789012:role/*".into());
        let r = audit(&f);
        expect![[r#"
            SEKS-CP-001 cluster.resourcesVpcConfig.publicAccessCidrs[0]
            SEKS-OBS-001 cluster.logging.clusterLogging
            SEKS-NET-001 cluster.resourcesVpcConfig.subnetIds
            SEKS-NET-001 nodegroups.general.subnets
            SEKS-NET-011 subnets.subnet-a.mapPublicIpOnLaunch
            SEKS-IAM-010 roles.prod-sa-0.assumeRolePolicyDocument
            SEKS-CP-008 cluster.encryptionConfig
            SEKS-NET-006 vpc.vpc-1
            SEKS-NODE-021 nodegroups.general.launchTemplate.metadataOptions.httpTokens
            SEKS-NODE-022 nodegroups.general.amiType
            SEKS-IAM-015 roles.prod-sa-0.attachedPolicies[0]
            SEKS-IAM-021 accessEntries["arn:aws:iam::123456789012:role/*"].principalArn"#]]
        .assert_eq(&ids(&r));
        assert!(r.failed());
    }
}
