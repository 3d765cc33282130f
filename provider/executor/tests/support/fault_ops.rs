//! What the fault matrix (`fault_matrix.rs`) and the focused fault cases (`fault_cases.rs`) share:
//! the two plans a case converges between, create and destroy through the executor, and the operations of the
//! emulator's request log with the `/_fault` regex that hits each.

use std::collections::{BTreeMap, BTreeSet};

use secure_eks_core::model::{Autoname, ClusterArgs};
use secure_eks_core::plan::{Plan, StepOutputs};
use secure_eks_executor::{ApplyError, Aws};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::progress;

pub const REGION: &str = "us-east-1";
pub const CLUSTER: &str = "fm";
/// `leftovers()` after a clean destroy.
pub const NO_LEFTOVERS: &str = "vpcs=0 subnets=0 sgs=0 endpoints=0 launchTemplates=0 clusters=0 roles=0 oidc=0 keys=0 logGroups=0 loadBalancers=0 targetGroups=0";

// ---------------------------------------------------------------- plans

pub fn plan_from(spec: serde_json::Value) -> Plan {
    let args: ClusterArgs = serde_json::from_value(spec).unwrap();
    let args = args.with_defaults(Autoname::Proposed(CLUSTER), Some(REGION));
    secure_eks_core::plan::plan(&args, REGION, &BTreeMap::new()).unwrap()
}

/// The create spec: every kind of step (NAT, node group, addons, access entry, IRSA role).
pub fn plan_a() -> Plan {
    plan_from(json!({
        "kubernetesVersion": "1.34",
        "network": {"natGateways": "single"},
        "logging": {"types": ["api", "audit"], "retentionDays": 90},
        "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large"], "minSize": 1, "desiredSize": 2, "maxSize": 3,
                        "labels": {"team": "a"}}],
        "addons": {"vpcCni": {"version": "v1.18.3-eksbuild.1"}},
        "accessEntries": [{"principalArn": "arn:aws:iam::123456789012:role/admin", "accessPolicy": "ClusterAdmin"}],
        "serviceAccountRoles": [{"namespace": "app", "name": "web", "policyArns": ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]}]
    }))
}

/// The update spec: what EKS, EC2, IAM and Logs change in place, and one service account role
/// swapped for another (an orphan to delete).
pub fn plan_b() -> Plan {
    plan_from(json!({
        "kubernetesVersion": "1.35",
        "network": {"natGateways": "single"},
        "apiAccess": {"private": true, "public": true, "publicCidrs": ["203.0.113.0/24"]},
        "logging": {"types": ["api", "audit", "authenticator"], "retentionDays": 30},
        "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large"], "minSize": 2, "desiredSize": 3, "maxSize": 5,
                        "labels": {"team": "b"}, "diskSizeGb": 80}],
        "addons": {"vpcCni": {"version": "v1.19.2-eksbuild.1", "configuration": {"env": {"WARM_IP_TARGET": "5"}}}},
        "accessEntries": [{"principalArn": "arn:aws:iam::123456789012:role/admin", "accessPolicy": "View"}],
        "serviceAccountRoles": [{"namespace": "app", "name": "api", "policyArns": ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]}]
    }))
}

// ---------------------------------------------------------------- runs

/// What the server does on `pulumi up`: apply, then destroy the outputs the plan no longer has.
pub async fn up(aws: &Aws, plan: &Plan, prior: &StepOutputs) -> Result<StepOutputs, ApplyError> {
    let (tx, _rx) = progress();
    let cancel = CancellationToken::new();
    let steps = aws.apply(plan, prior, &cancel, &tx).await?;
    let orphans: StepOutputs = steps.iter().filter(|(k, _)| plan.step(k).is_none()).map(|(k, v)| (k.clone(), v.clone())).collect();
    if !orphans.is_empty() {
        aws.destroy(plan, &orphans, &cancel, &tx).await.map_err(|e| ApplyError {
            done: steps.iter().filter(|(k, _)| !orphans.contains_key(*k) || e.done.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone())).collect(),
            reasons: e.reasons,
        })?;
    }
    Ok(steps.into_iter().filter(|(k, _)| !orphans.contains_key(k)).collect())
}

pub async fn destroy(aws: &Aws, plan: &Plan, outs: &StepOutputs) -> Result<(), ApplyError> {
    let (tx, _rx) = progress();
    aws.destroy(plan, outs, &CancellationToken::new(), &tx).await
}

// ---------------------------------------------------------------- operations

/// One AWS operation as the emulator sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Op {
    /// `ec2:CreateVpc`, `ssm:GetParameter`, `eks:GET /clusters/{}/node-groups/{}`.
    pub name: String,
    /// The service, for the fault's error shape.
    pub service: String,
    /// A Python regex over the `/_fault` key that matches this operation only.
    pub regex: String,
}

pub fn py_escape(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '/' || c == '-' || c == ' ' { c.to_string() } else { format!("\\{c}") }).collect()
}

/// EKS REST segments after which comes a name (of one segment, or of the rest of the path).
pub const EKS_ONE: [&str; 6] = ["clusters", "node-groups", "addons", "updates", "pod-identity-associations", "fargate-profiles"];

/// The operation of a request-log entry (`METHOD PATH TARGET ACTION` and the service).
pub fn op_of(key: &str, service: &str) -> Op {
    let mut parts = key.splitn(4, ' ');
    let (method, path, target, action) =
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let service = if service.is_empty() { "unknown" } else { service };
    if !action.is_empty() {
        // Query protocol (EC2, IAM, STS): the action names the operation.
        return Op { name: format!("{service}:{action}"), service: service.into(), regex: format!("^{method} {path} {} {}$", py_escape(target), py_escape(action)) };
    }
    if !target.is_empty() {
        // JSON protocol (SSM, KMS, Logs): the target names it.
        let op = target.split_once('.').map_or(target, |(_, op)| op);
        return Op { name: format!("{service}:{op}"), service: service.into(), regex: format!("^{method} {path} {} $", py_escape(target)) };
    }
    // REST (EKS): the path with the names taken out.
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (mut tpl, mut re) = (String::new(), String::new());
    let mut i = 0;
    while i < segs.len() {
        let s = segs[i];
        tpl.push('/');
        re.push('/');
        tpl.push_str(s);
        re.push_str(&py_escape(s));
        if EKS_ONE.contains(&s) && i + 1 < segs.len() {
            tpl.push_str("/{}");
            re.push_str("/[^/ ]+");
            i += 2;
            continue;
        }
        if s == "access-entries" && i + 1 < segs.len() {
            // a principal ARN (with slashes), up to /access-policies
            let rest = &segs[i + 1..];
            let n = rest.iter().position(|x| *x == "access-policies").unwrap_or(rest.len());
            tpl.push_str("/{}");
            re.push_str("/(?:(?!/access-policies)[^ ])+");
            i += 1 + n;
            continue;
        }
        if (s == "access-policies" || s == "tags") && i + 1 < segs.len() {
            tpl.push_str("/{}");
            re.push_str("/[^ ]+");
            break;
        }
        i += 1;
    }
    Op { name: format!("{service}:{method} {tpl}"), service: service.into(), regex: format!("^{method} {re}  $") }
}

/// The distinct operations of a request log, in first-seen order.
pub fn ops_of(log: &[(String, u16, String)]) -> Vec<Op> {
    let mut seen = BTreeSet::new();
    log.iter().map(|(k, _, s)| op_of(k, s)).filter(|o| seen.insert(o.name.clone())).collect()
}

// ---------------------------------------------------------------- faults

