//! The deployer's IAM policy, proven. `docs/deployer-policy.json` is generated from what the
//! provider really calls: the lifecycle of `tests/e2e/deployer-policy` through the real CLI
//! (preview, create, an in-place update, refresh, import by name, the leftovers of Kubernetes and
//! GuardDuty, destroy) against the emulator,
//! whose request log (`/_requests`) lists every AWS operation. Each operation becomes its IAM
//! action, and `SCOPES` below puts each action into a statement scoped by resource ARN patterns and
//! tag conditions where AWS supports them. Regenerate with `scripts/gen-deployer-policy.sh`
//! (`UPDATE_EXPECT=1` on this test).
//!
//! Freshness: every action of the log must be in the committed policy, and the policy generated
//! from the log must equal it, so an executor that starts (or stops) calling something fails here.
//!
//! `the_deployer_needs_nothing_beyond_the_policy` runs the same lifecycle as an IAM user that holds
//! only that policy, with the emulator enforcing IAM authorization (moto's
//! `INITIAL_NO_AUTH_ACTION_COUNT`, set at run time through `POST /moto-api/reset-auth`); a missing
//! permission fails a step with `AccessDenied` and the test names the action
//! (`a_missing_permission_fails_up_with_the_action_name` proves it, for EKS). moto itself checked
//! signatures over a re-encoded form or the header dict, so every EKS GET/DELETE and IAM
//! CreateRole from the Rust SDK failed with SignatureDoesNotMatch; the emulator's `iam_auth`
//! module checks them over the body as sent, as AWS does, so all six services are enforced
//! (about 60 s). A service the emulator does not enforce (found by the probe below; none today)
//! is named, and its calls are checked against the policy's actions from the request log instead.
//!
//! What moto 5.2.5 can't check, and what the test does instead (moto/core/authorization.py,
//! moto/iam/access_control.py):
//! - it evaluates the Action of each statement, but passes `*` as the resource for every service
//!   except IAM roles that already exist, and it turns any statement with a Condition into an
//!   explicit deny for normal calls. So the user gets the policy's statements with `Resource: "*"`
//!   and no Condition: the emulator enforces the action list, not the ARN scoping or the tag
//!   conditions (those follow the AWS service authorization reference and are not exercised here).
//! - services whose calls the emulator does not authorize at all are found by a probe (a user
//!   without permissions calls one read of each service) and printed; their calls are checked
//!   against the committed policy from the request log (every logged action must be in it).
//! - permissions AWS checks without a call of their own (`iam:PassRole` when EKS gets a role,
//!   the service-linked roles EKS creates, the KMS grant for secrets encryption) never show in a
//!   request log: `IMPLIED` adds them, after the AWS documentation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::cli::{Workspace, NOTHING_LEFT};
use common::emulator::Emulator;
use serde_json::{json, Value};

const PROJECT: &str = "secure-eks-deployer-policy";
const TAG: &str = "secure-eks:cluster";

// ---------------------------------------------------------------- actions

/// EKS is a REST API: its operations are a method and a path. `*` is one path segment, `+` one or
/// more (an access entry's principal ARN). Any EKS request not listed fails the test.
const EKS_ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/clusters", "ListClusters"),
    ("POST", "/clusters", "CreateCluster"),
    ("GET", "/clusters/*", "DescribeCluster"),
    ("DELETE", "/clusters/*", "DeleteCluster"),
    ("POST", "/clusters/*/update-config", "UpdateClusterConfig"),
    ("POST", "/clusters/*/updates", "UpdateClusterVersion"),
    ("GET", "/clusters/*/updates", "ListUpdates"),
    ("GET", "/clusters/*/updates/*", "DescribeUpdate"),
    ("GET", "/clusters/*/node-groups", "ListNodegroups"),
    ("POST", "/clusters/*/node-groups", "CreateNodegroup"),
    ("GET", "/clusters/*/node-groups/*", "DescribeNodegroup"),
    ("DELETE", "/clusters/*/node-groups/*", "DeleteNodegroup"),
    ("POST", "/clusters/*/node-groups/*/update-config", "UpdateNodegroupConfig"),
    ("POST", "/clusters/*/node-groups/*/update-version", "UpdateNodegroupVersion"),
    ("GET", "/clusters/*/addons", "ListAddons"),
    ("POST", "/clusters/*/addons", "CreateAddon"),
    ("GET", "/clusters/*/addons/*", "DescribeAddon"),
    ("DELETE", "/clusters/*/addons/*", "DeleteAddon"),
    ("POST", "/clusters/*/addons/*/update", "UpdateAddon"),
    ("GET", "/addons/supported-versions", "DescribeAddonVersions"),
    ("GET", "/cluster-versions", "DescribeClusterVersions"),
    ("GET", "/clusters/*/access-entries", "ListAccessEntries"),
    ("POST", "/clusters/*/access-entries", "CreateAccessEntry"),
    ("GET", "/clusters/*/access-entries/+/access-policies", "ListAssociatedAccessPolicies"),
    ("POST", "/clusters/*/access-entries/+/access-policies", "AssociateAccessPolicy"),
    ("DELETE", "/clusters/*/access-entries/+/access-policies/+", "DisassociateAccessPolicy"),
    ("GET", "/clusters/*/access-entries/+", "DescribeAccessEntry"),
    ("POST", "/clusters/*/access-entries/+", "UpdateAccessEntry"),
    ("DELETE", "/clusters/*/access-entries/+", "DeleteAccessEntry"),
    ("GET", "/tags/+", "ListTagsForResource"),
    ("POST", "/tags/+", "TagResource"),
    ("DELETE", "/tags/+", "UntagResource"),
];

/// Does `path` (segments) match `pattern` (segments, with `*` and `+`)?
fn route_matches(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(&"+"), Some(_)) => (1..=path.len()).any(|n| route_matches(&pattern[1..], &path[n..])),
        (Some(&"*"), Some(_)) => route_matches(&pattern[1..], &path[1..]),
        (Some(p), Some(s)) if p == s => route_matches(&pattern[1..], &path[1..]),
        _ => false,
    }
}

/// The IAM action of one request-log entry (`METHOD PATH TARGET ACTION`, service), or why not.
fn iam_action(key: &str, service: &str) -> Result<String, String> {
    let mut parts = key.splitn(4, ' ');
    let (method, path, target, action) =
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !action.is_empty() {
        return Ok(format!("{service}:{action}")); // query protocol: EC2, IAM, STS
    }
    if let Some((_, op)) = target.split_once('.') {
        return Ok(format!("{service}:{op}")); // JSON protocol: SSM, KMS, Logs
    }
    let path = path.split('?').next().unwrap_or("");
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    EKS_ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && route_matches(&p.trim_start_matches('/').split('/').collect::<Vec<_>>(), &segs))
        .map(|(_, _, a)| format!("eks:{a}"))
        .ok_or_else(|| format!("no IAM action for the {service} request `{key}`: add its route to EKS_ROUTES"))
}

// ---------------------------------------------------------------- the policy

/// Permissions AWS checks without a request of their own, keyed by the action that needs them
/// (EKS user guide: cluster IAM role, service-linked roles, envelope encryption).
const IMPLIED: &[(&str, &[&str])] = &[
    ("eks:CreateCluster", &["iam:PassRole", "iam:CreateServiceLinkedRole", "kms:CreateGrant", "kms:DescribeKey"]),
    ("eks:CreateNodegroup", &["iam:PassRole", "iam:CreateServiceLinkedRole"]),
];

/// A statement of the policy: which actions (by exact name or by verb prefix) go in it, on which
/// resources, under which condition. The first scope that takes an action gets it.
struct Scope {
    sid: &'static str,
    takes: fn(&str, &str) -> bool,
    resources: &'static [&'static str],
    condition: fn(&BTreeSet<String>) -> Option<Value>,
}

fn verb(op: &str, verbs: &[&str]) -> bool {
    verbs.iter().any(|v| op.starts_with(v))
}

fn none(_: &BTreeSet<String>) -> Option<Value> {
    None
}

/// Resources that carry the provider's ownership tag (every resource it creates does).
fn owned(_: &BTreeSet<String>) -> Option<Value> {
    Some(json!({"Null": {format!("aws:ResourceTag/{TAG}"): "false"}}))
}

/// Creates whose request carries the ownership tag (tag-on-create).
fn tagged_request(_: &BTreeSet<String>) -> Option<Value> {
    Some(json!({"Null": {format!("aws:RequestTag/{TAG}"): "false"}}))
}

/// `ec2:CreateTags` only as part of one of the EC2 creates in the policy.
fn ec2_create_action(all: &BTreeSet<String>) -> Option<Value> {
    let creates: Vec<&str> =
        all.iter().filter_map(|a| a.strip_prefix("ec2:")).filter(|op| op.starts_with("Create") && *op != "CreateTags" || *op == "AllocateAddress").collect();
    Some(json!({"StringEquals": {"ec2:CreateAction": creates}}))
}

fn eks_services(_: &BTreeSet<String>) -> Option<Value> {
    Some(json!({"StringEquals": {"iam:PassedToService": ["eks.amazonaws.com"]}}))
}

fn linked_roles(_: &BTreeSet<String>) -> Option<Value> {
    Some(json!({"StringEquals": {"iam:AWSServiceName": ["eks.amazonaws.com", "eks-nodegroup.amazonaws.com"]}}))
}

fn via_eks(_: &BTreeSet<String>) -> Option<Value> {
    Some(json!({"StringLike": {"kms:ViaService": "eks.*.amazonaws.com"}}))
}

/// What the AWS Load Balancer Controller made (destroy deletes it: executor leftovers.rs).
fn lbc_tagged(_: &BTreeSet<String>) -> Option<Value> {
    Some(json!({"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}))
}

/// Statements beyond `SCOPES` for actions on resources that others made and tagged (what
/// Kubernetes, EKS and GuardDuty leave in the cluster VPC, which destroy deletes), added when the
/// log shows the trigger: (trigger, sid, actions, the tag key the resources carry).
const LEFTOVER_STATEMENTS: &[(&str, &str, &[&str], &str)] = &[
    ("elasticloadbalancing:DeleteLoadBalancer", "Ec2DeleteKubernetesLeftovers", &["ec2:DeleteSecurityGroup"], "elbv2.k8s.aws/cluster"),
    ("elasticloadbalancing:DescribeLoadBalancers", "Ec2DeleteEksClusterSecurityGroup", &["ec2:DeleteSecurityGroup"], "aws:eks:cluster-name"),
    ("elasticloadbalancing:DescribeLoadBalancers", "Ec2DeleteGuardDutyLeftovers", &["ec2:DeleteSecurityGroup", "ec2:DeleteVpcEndpoints"], "GuardDutyManaged"),
];

const READ: &[&str] = &["Describe", "Get", "List"];

const SCOPES: &[Scope] = &[
    Scope { sid: "Identity", takes: |s, op| s == "sts" && op == "GetCallerIdentity", resources: &["*"], condition: none },
    Scope {
        sid: "EksAmiParameters",
        takes: |s, op| s == "ssm" && verb(op, &["GetParameter"]),
        resources: &["arn:aws:ssm:*::parameter/aws/service/eks/*", "arn:aws:ssm:*::parameter/aws/service/bottlerocket/*"],
        condition: none,
    },
    Scope { sid: "Ec2Read", takes: |s, op| s == "ec2" && verb(op, READ), resources: &["*"], condition: none },
    Scope {
        sid: "Ec2CreateTagged",
        takes: |s, op| s == "ec2" && (op.starts_with("Create") && op != "CreateTags" || op == "AllocateAddress"),
        resources: &["*"],
        condition: tagged_request,
    },
    Scope { sid: "Ec2TagOnCreate", takes: |s, op| s == "ec2" && op == "CreateTags", resources: &["*"], condition: ec2_create_action },
    Scope {
        sid: "Ec2ChangeOwned",
        takes: |s, op| s == "ec2" && (verb(op, &["Delete", "Release", "Detach"]) || op == "DeleteTags"),
        resources: &["*"],
        condition: owned,
    },
    Scope { sid: "Ec2Change", takes: |s, _| s == "ec2", resources: &["*"], condition: none },
    Scope {
        sid: "EksAccountRead",
        takes: |s, op| s == "eks" && matches!(op, "ListClusters" | "DescribeAddonVersions" | "DescribeClusterVersions"),
        resources: &["*"],
        condition: none,
    },
    Scope {
        sid: "EksClusters",
        takes: |s, _| s == "eks",
        resources: &[
            "arn:aws:eks:*:*:cluster/*",
            "arn:aws:eks:*:*:nodegroup/*/*/*",
            "arn:aws:eks:*:*:addon/*/*/*",
            "arn:aws:eks:*:*:access-entry/*/*/*/*/*",
            "arn:aws:eks::aws:cluster-access-policy/*",
        ],
        condition: none,
    },
    Scope { sid: "IamPassRolesToEks", takes: |s, op| s == "iam" && op == "PassRole", resources: &["arn:aws:iam::*:role/*"], condition: eks_services },
    Scope {
        sid: "IamEksServiceLinkedRoles",
        takes: |s, op| s == "iam" && op == "CreateServiceLinkedRole",
        resources: &["arn:aws:iam::*:role/aws-service-role/eks.amazonaws.com/*", "arn:aws:iam::*:role/aws-service-role/eks-nodegroup.amazonaws.com/*"],
        condition: linked_roles,
    },
    Scope {
        sid: "IamOidcProviders",
        takes: |s, op| s == "iam" && op.contains("OpenIDConnectProvider"),
        resources: &["arn:aws:iam::*:oidc-provider/oidc.eks.*.amazonaws.com/id/*"],
        condition: none,
    },
    Scope { sid: "IamRead", takes: |s, op| s == "iam" && verb(op, READ), resources: &["*"], condition: none },
    Scope { sid: "IamCreateTaggedRoles", takes: |s, op| s == "iam" && op == "CreateRole", resources: &["arn:aws:iam::*:role/*"], condition: tagged_request },
    Scope { sid: "IamChangeOwnedRoles", takes: |s, _| s == "iam", resources: &["arn:aws:iam::*:role/*"], condition: owned },
    Scope { sid: "KmsCreateTaggedKeys", takes: |s, op| s == "kms" && op == "CreateKey", resources: &["*"], condition: tagged_request },
    Scope { sid: "KmsGrantToEks", takes: |s, op| s == "kms" && op == "CreateGrant", resources: &["arn:aws:kms:*:*:key/*"], condition: via_eks },
    Scope { sid: "KmsAccountRead", takes: |s, op| s == "kms" && matches!(op, "ListKeys" | "ListAliases"), resources: &["*"], condition: none },
    Scope { sid: "KmsRead", takes: |s, op| s == "kms" && verb(op, READ), resources: &["arn:aws:kms:*:*:key/*"], condition: none },
    Scope {
        sid: "KmsAliases",
        takes: |s, op| s == "kms" && op.ends_with("Alias"),
        resources: &["arn:aws:kms:*:*:alias/secure-eks/*", "arn:aws:kms:*:*:key/*"],
        condition: none,
    },
    Scope { sid: "KmsChangeOwnedKeys", takes: |s, _| s == "kms", resources: &["arn:aws:kms:*:*:key/*"], condition: owned },
    Scope { sid: "ElbRead", takes: |s, op| s == "elasticloadbalancing" && verb(op, READ), resources: &["*"], condition: none },
    Scope {
        sid: "ElbDeleteKubernetesLeftovers",
        takes: |s, _| s == "elasticloadbalancing",
        resources: &["arn:aws:elasticloadbalancing:*:*:loadbalancer/*", "arn:aws:elasticloadbalancing:*:*:targetgroup/*"],
        condition: lbc_tagged,
    },
    Scope { sid: "LogsAccountRead", takes: |s, op| s == "logs" && op == "DescribeLogGroups", resources: &["*"], condition: none },
    Scope { sid: "LogsEksLogGroups", takes: |s, _| s == "logs", resources: &["arn:aws:logs:*:*:log-group:/aws/eks/*"], condition: none },
];

/// The policy for a set of actions (implied ones added), or the actions no scope takes.
fn policy(observed: &BTreeSet<String>) -> Result<Value, Vec<String>> {
    let mut all = observed.clone();
    for (trigger, extra) in IMPLIED {
        if observed.contains(*trigger) {
            all.extend(extra.iter().map(|s| s.to_string()));
        }
    }
    let mut by_sid: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    let mut orphans = Vec::new();
    for a in &all {
        let (svc, op) = a.split_once(':').unwrap_or(("", a));
        match SCOPES.iter().position(|s| (s.takes)(svc, op)) {
            Some(i) => {
                by_sid.entry(i).or_default().insert(a.clone());
            }
            None => orphans.push(format!("{a}: no scope takes it (add one to SCOPES)")),
        }
    }
    if !orphans.is_empty() {
        return Err(orphans);
    }
    let mut statements: Vec<Value> = by_sid
        .into_iter()
        .map(|(i, actions)| {
            let s = &SCOPES[i];
            let resource = if s.resources.len() == 1 { json!(s.resources[0]) } else { json!(s.resources) };
            let mut st = json!({"Sid": s.sid, "Effect": "Allow", "Action": actions, "Resource": resource});
            if let Some(c) = (s.condition)(&all) {
                st["Condition"] = c;
            }
            st
        })
        .collect();
    for (trigger, sid, actions, tag) in LEFTOVER_STATEMENTS {
        if observed.contains(*trigger) {
            statements.push(json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": "*", "Condition": {"Null": {format!("aws:ResourceTag/{tag}"): "false"}}}));
        }
    }
    Ok(json!({"Version": "2012-10-17", "Statement": statements}))
}

/// Every action a policy allows.
fn actions_of(policy: &Value) -> BTreeSet<String> {
    policy["Statement"].as_array().into_iter().flatten().flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default()).filter_map(|a| a.as_str().map(String::from)).collect()
}

/// What the emulator can evaluate: the same statements on `*` without conditions (see above).
fn as_the_emulator_evaluates(policy: &Value) -> Value {
    let mut p = policy.clone();
    for st in p["Statement"].as_array_mut().unwrap() {
        st["Resource"] = json!("*");
        st.as_object_mut().unwrap().remove("Condition");
    }
    p
}

// ---------------------------------------------------------------- the emulator's IAM

/// Create an IAM user with `policy` and an access key (before authorization is on); its key pair.
fn user_with(emu: &Emulator, name: &str, policy: Option<&Value>) -> (String, String) {
    let attach = match policy {
        Some(p) => format!(
            "iam.put_user_policy(UserName='{name}', PolicyName='only', PolicyDocument=json.dumps(json.loads({:?})))\n",
            p.to_string()
        ),
        None => String::new(),
    };
    let out = emu.boto3(&format!(
        "iam = client('iam')\niam.create_user(UserName='{name}')\n{attach}k = iam.create_access_key(UserName='{name}')['AccessKey']\nprint(k['AccessKeyId'], k['SecretAccessKey'])"
    ));
    let mut it = out.split_whitespace().map(String::from);
    (it.next().unwrap(), it.next().unwrap())
}

/// Turn moto's IAM authorization on (every request from now on) or off.
fn enforce_iam(emu: &Emulator, on: bool) {
    let body = if on { "0" } else { "inf" };
    let out = std::process::Command::new("curl")
        .args(["-sS", "-X", "POST", "-H", "Content-Type: text/plain", "--data", body, &format!("{}/moto-api/reset-auth", emu.url)])
        .output()
        .expect("curl");
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"), "reset-auth: {out:?}");
}

/// With authorization on: the services that let a user without any permission read (not enforced).
fn unenforced_services(emu: &Emulator, key: &(String, String)) -> Vec<String> {
    let out = emu.boto3(&format!(
        "import botocore\n\
         calls = {{'ec2': lambda c: c.describe_vpcs(), 'iam': lambda c: c.list_roles(), 'eks': lambda c: c.list_clusters(),\n\
         \x20   'ssm': lambda c: c.describe_parameters(), 'kms': lambda c: c.list_keys(), 'logs': lambda c: c.describe_log_groups()}}\n\
         open_ = []\n\
         for svc, call in calls.items():\n\
         \x20   c = boto3.client(svc, region_name='us-east-1', endpoint_url='{}', aws_access_key_id='{}', aws_secret_access_key='{}')\n\
         \x20   try:\n\
         \x20       call(c); open_.append(svc)\n\
         \x20   except botocore.exceptions.ClientError:\n\
         \x20       pass\n\
         print(' '.join(open_))",
        emu.url, key.0, key.1
    ));
    out.split_whitespace().map(String::from).collect()
}

// ---------------------------------------------------------------- the lifecycle

fn ok(ws: &Workspace, args: &[&str]) -> String {
    let r = ws.pulumi(args);
    assert_eq!(r.code, Some(0), "pulumi {}:\n{}", args.join(" "), r.out);
    r.out
}

/// The actions behind a run's failure, from the request log: every request the emulator refused
/// as unauthorized.
fn denied(emu: &Emulator) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    for (key, status, svc) in emu.requests() {
        if status == 403 {
            out.insert(iam_action(&key, &svc).unwrap_or_else(|e| e));
        }
    }
    out.into_iter().collect()
}

/// Preview, up, an in-place update, refresh, import by name, destroy; `check` runs after each
/// command and gets its name.
fn lifecycle(ws: &Workspace, emu: &Emulator) {
    let step = |args: &[&str]| {
        let r = ws.pulumi(args);
        if r.code != Some(0) {
            let d = denied(emu);
            assert!(d.is_empty(), "`pulumi {}` was refused permissions the deployer policy lacks: {d:?}\n(regenerate with scripts/gen-deployer-policy.sh)\n{}", args.join(" "), r.out);
            panic!("pulumi {}:\n{}", args.join(" "), r.out);
        }
        r.out
    };
    step(&["preview", "--non-interactive"]);
    step(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    for (k, v) in [
        ("kubernetesMinor", "35"),
        ("cniVersion", "v1.19.2-eksbuild.1"),
        ("desiredSize", "3"),
        ("retentionDays", "30"),
        ("team", "b"),
        ("publicApi", "true"),
        ("accessPolicy", "View"),
    ] {
        ok(ws, &["config", "set", k, v]);
    }
    ok(ws, &["config", "set", "--path", "publicCidrs[0]", "203.0.113.0/24"]);
    step(&["up", "--yes", "--non-interactive"]);
    step(&["refresh", "--yes", "--non-interactive", "--skip-preview"]);
    let name = step(&["stack", "output", "clusterName"]).trim().to_string();
    let urn = format!("urn:pulumi:dev::{PROJECT}::secure-eks:index:SecureEksCluster::cluster");
    ok(ws, &["state", "delete", &urn, "--yes", "--force"]);
    step(&["import", "secure-eks:index:SecureEksCluster", "cluster", &name, "--yes", "--non-interactive", "--generate-code=false", "--protect=false"]);
    // What Kubernetes and GuardDuty leave in the VPC: destroy deletes it too.
    emu.k8s_load_balancer("us-east-1", &name);
    emu.k8s_guardduty("us-east-1", &name);
    step(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
}

/// Actions the executor issues only when AWS's timing makes them needed, so a lifecycle may or may
/// not log them; the policy always grants them. `ec2:DeleteNetworkInterface`: destroy's ENI drain
/// (`executor/src/ec2/mod.rs`, `drain_enis`) deletes a leftover interface only if one is already
/// detached ("available") when it looks.
const CONDITIONAL: &[&str] = &["ec2:DeleteNetworkInterface"];

/// Every IAM action of the request log.
fn logged_actions(emu: &Emulator) -> BTreeSet<String> {
    let mut unmapped = Vec::new();
    let mut out = BTreeSet::new();
    for (key, _, svc) in emu.requests() {
        match iam_action(&key, &svc) {
            Ok(a) => {
                out.insert(a);
            }
            Err(e) => unmapped.push(e),
        }
    }
    assert!(unmapped.is_empty(), "{}", unmapped.join("\n"));
    out
}

/// The lifecycle as an IAM user holding only `committed` (as the emulator evaluates it), with
/// authorization on; the IAM actions of the request log, and the services the emulator did not
/// enforce.
fn lifecycle_as_the_deployer(emu: &Emulator, ws: &Workspace, committed: &Value) -> (BTreeSet<String>, Vec<String>) {
    let deployer = user_with(emu, "deployer", Some(&as_the_emulator_evaluates(committed)));
    let nobody = user_with(emu, "nobody", None);
    ok(ws, &["config", "set", "--secret", "secure-eks:accessKey", &deployer.0]);
    ok(ws, &["config", "set", "--secret", "secure-eks:secretKey", &deployer.1]);
    enforce_iam(emu, true);
    let open = unenforced_services(emu, &nobody);
    eprintln!("the emulator authorizes ec2, iam, eks, ssm, kms, logs except {open:?} (those are checked from the request log only)");
    emu.clear_requests();
    lifecycle(ws, emu);
    let observed = logged_actions(emu);
    enforce_iam(emu, false);
    (observed, open)
}

fn committed_policy() -> Value {
    let path = secure_eks_testkit::repo_root().join("docs/deployer-policy.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|_| "{}".into())).expect("docs/deployer-policy.json is JSON")
}

/// Generation and freshness: every call of the lifecycle is in the committed policy (the request
/// log covers every service, enforced or not), and the policy generated from this run is the
/// committed one (`UPDATE_EXPECT=1`, i.e. `scripts/gen-deployer-policy.sh`, rewrites it).
#[test]
fn the_deployer_policy_is_generated_from_every_call_and_fresh() {
    let generate = std::env::var("UPDATE_EXPECT").is_ok_and(|v| v == "1");
    let committed = committed_policy();
    let emu = Emulator::start();
    let ws = Workspace::new("tests/e2e/deployer-policy");
    ws.init_stack_quick(&emu.endpoints());
    emu.clear_requests();
    lifecycle(&ws, &emu);
    let mut observed = logged_actions(&emu);
    assert_eq!(emu.leftovers(), NOTHING_LEFT, "destroy left resources");
    observed.extend(CONDITIONAL.iter().map(|a| a.to_string()));

    let missing: Vec<&String> = observed.iter().filter(|a| !actions_of(&committed).contains(*a)).collect();
    assert!(generate || missing.is_empty(), "docs/deployer-policy.json lacks {missing:?}: regenerate with scripts/gen-deployer-policy.sh");
    let generated = policy(&observed).unwrap_or_else(|e| panic!("{}", e.join("\n")));
    let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
    expect_test::expect_file!["../../../docs/deployer-policy.json"].assert_eq(&text);
}

/// `up`, an update, `refresh`, import and `destroy` as a user holding only the policy, with the
/// emulator enforcing IAM: a missing permission fails with the action's name.
///
/// Every service the provider calls is enforced by the emulator (the probe finds none open, and
/// the test fails if EKS, the one moto could not enforce, is open again). For any service that is
/// open, its calls from the request log are checked against the policy's actions instead, and the
/// failure names the service and the actions.
#[test]
fn the_deployer_needs_nothing_beyond_the_policy() {
    let committed = committed_policy();
    let emu = Emulator::start();
    let ws = Workspace::new("tests/e2e/deployer-policy");
    ws.init_stack_quick(&emu.endpoints());
    let (observed, open) = lifecycle_as_the_deployer(&emu, &ws, &committed);
    assert_eq!(emu.leftovers(), NOTHING_LEFT, "destroy left resources");
    assert!(!open.iter().any(|s| s == "eks"), "the emulator no longer enforces IAM for EKS (see tests/emulator/moto_ext/iam_auth.py)");
    let allowed = actions_of(&committed);
    for svc in &open {
        let missing: Vec<&String> = observed.iter().filter(|a| a.starts_with(&format!("{svc}:")) && !allowed.contains(*a)).collect();
        assert!(missing.is_empty(), "{svc} (not enforced by the emulator, checked from the request log): docs/deployer-policy.json lacks {missing:?}");
    }
    let missing: Vec<&String> = observed.iter().filter(|a| !allowed.contains(*a)).collect();
    assert!(missing.is_empty(), "docs/deployer-policy.json lacks {missing:?}: regenerate with scripts/gen-deployer-policy.sh");
}

/// The enforcement is real, for EKS too: a deployer whose policy lacks `eks:CreateNodegroup` gets
/// an `up` that fails, and the refused action is named; `destroy` (which needs no such action)
/// then leaves nothing.
#[test]
fn a_missing_permission_fails_up_with_the_action_name() {
    let mut policy = committed_policy();
    for st in policy["Statement"].as_array_mut().unwrap() {
        if let Some(actions) = st["Action"].as_array_mut() {
            actions.retain(|a| a != "eks:CreateNodegroup");
        }
    }
    assert!(!actions_of(&policy).contains("eks:CreateNodegroup"));
    let emu = Emulator::start();
    let ws = Workspace::new("tests/e2e/deployer-policy");
    ws.init_stack_quick(&emu.endpoints());
    let deployer = user_with(&emu, "deployer", Some(&as_the_emulator_evaluates(&policy)));
    ok(&ws, &["config", "set", "--secret", "secure-eks:accessKey", &deployer.0]);
    ok(&ws, &["config", "set", "--secret", "secure-eks:secretKey", &deployer.1]);
    enforce_iam(&emu, true);
    emu.clear_requests();
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_ne!(up.code, Some(0), "up must fail without eks:CreateNodegroup:\n{}", up.out);
    assert_eq!(denied(&emu), ["eks:CreateNodegroup"], "the refused action is not the missing one:\n{}", up.out);
    assert!(up.out.contains("CreateNodegroup"), "the error does not name the operation:\n{}", up.out);
    ok(&ws, &["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    enforce_iam(&emu, false);
    assert_eq!(emu.leftovers(), NOTHING_LEFT, "destroy left resources");
}

#[test]
fn every_eks_route_names_an_action_and_scopes_take_every_kind() {
    assert_eq!(iam_action("POST /clusters/c/node-groups/g/update-config  ", "eks").unwrap(), "eks:UpdateNodegroupConfig");
    assert_eq!(
        iam_action("DELETE /clusters/c/access-entries/arn:aws:iam::1:role/a/b/access-policies/arn:aws:eks::aws:cluster-access-policy/X  ", "eks").unwrap(),
        "eks:DisassociateAccessPolicy"
    );
    assert_eq!(iam_action("GET /clusters/c/access-entries/arn:aws:iam::1:role/a  ", "eks").unwrap(), "eks:DescribeAccessEntry");
    assert_eq!(iam_action("POST / AmazonSSM.GetParameter ", "ssm").unwrap(), "ssm:GetParameter");
    assert_eq!(iam_action("POST /  CreateVpc", "ec2").unwrap(), "ec2:CreateVpc");
    assert!(iam_action("PATCH /clusters/c/unknown  ", "eks").is_err());
    let p = policy(&["eks:CreateCluster", "ec2:CreateVpc", "ec2:DeleteVpc", "ec2:CreateTags"].map(String::from).into()).unwrap();
    let actions = actions_of(&p);
    assert!(actions.contains("iam:PassRole") && actions.contains("kms:CreateGrant"), "{p:#}");
    assert_eq!(p["Statement"].as_array().unwrap().iter().find(|s| s["Sid"] == "Ec2TagOnCreate").unwrap()["Condition"]["StringEquals"]["ec2:CreateAction"], json!(["CreateVpc"]));
    assert!(policy(&["s3:CreateBucket".to_string()].into()).is_err());
    let moto = as_the_emulator_evaluates(&p);
    assert!(moto["Statement"].as_array().unwrap().iter().all(|s| s["Resource"] == "*" && s.get("Condition").is_none()));
}
