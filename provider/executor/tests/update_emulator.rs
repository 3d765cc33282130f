//! Updates against the local AWS emulator (moto 5.2.5 + our extensions, see
//! tests/emulator/README.md): apply a spec, then apply a changed spec with the first run's
//! outputs as prior (what `pulumi up` does after a change of inputs), and check through the SDK
//! that every adopted resource converged; then that an apply with nothing to change makes no
//! mutating call at all, that the autoscaler's desired size is left alone, and that changes EKS
//! cannot make in place fail with a clear reason before any call.
//!
//! Mutating calls are counted with the emulator's `/_fault` middleware: a latency-only rule
//! (`status: 0`, no delay) whose regex matches every mutating request decrements its count on each
//! hit, and `POST /_fault` returns the remaining count.
//!
//! Emulator gaps that shape these tests (README "Gaps"): every update is `Successful` at once
//! and resources never leave ACTIVE, so the DescribeUpdate polls and the ACTIVE waiters pass on
//! their first call and the update timeouts are not exercised; UpdateNodegroupConfig is moto's
//! own call and records no update, so DescribeUpdate answers "not found" for it (the executor
//! then relies on the node group ACTIVE waiter); no EC2 instances run behind node groups, so a
//! version or launch template update replaces no node; addon `resolveConflicts` is ignored and
//! `configurationValues` are not validated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use secure_eks_core::model::{Autoname, ClusterArgs};
use secure_eks_core::plan::{Plan, StepOutputs};
use secure_eks_executor::{ApplyError, Aws};
use serde_json::json;
use tokio_util::sync::CancellationToken;

mod support;
use support::{drain, progress, Emulator, EmulatorAws};

// ---------------------------------------------------------------- counting mutating calls

/// Every mutating request, as the `/_fault` middleware sees it (`METHOD PATH TARGET ACTION`):
/// EKS (REST: any POST/PUT/DELETE), EC2/IAM (query: the `Action`), KMS/Logs/SSM (JSON: the target).
const MUTATING: &str = concat!(
    r"^(POST|PUT|DELETE) /(clusters|tags)",
    r"|^POST /  (Create|Modify|Associate|Disassociate|Authorize|Revoke|Replace|Attach|Detach|Allocate|Release|Delete|Put|Update|Tag|Untag|Enable|Disable|Cancel|Schedule|Add|Remove|Set)",
    r"|\.(Create|Put|Delete|Associate|Disassociate|Enable|Disable|Update|Cancel|Schedule|Tag|Untag)[A-Za-z]* $",
);
const BIG: i64 = 1_000_000;

/// Start counting mutating calls (clears other fault rules).
fn count_mutations(emu: &Emulator) {
    emu.clear_faults();
    emu.fault(json!({"match": MUTATING, "status": 0, "count": BIG}));
}

/// Mutating calls since [`count_mutations`].
fn mutations(emu: &Emulator) -> i64 {
    let rules = emu.fault(json!({"match": "^NEVER$", "count": 0}));
    let left = rules.as_array().unwrap().iter().find(|r| r["match"] == MUTATING).unwrap()["count"].as_i64().unwrap();
    BIG - left
}

// ---------------------------------------------------------------- plans

const REGION: &str = "us-east-1";
const ADMIN: &str = "arn:aws:iam::123456789012:role/admin";

fn plan_from(name: &str, spec: serde_json::Value) -> Plan {
    let args: ClusterArgs = serde_json::from_value(spec).unwrap();
    let args = args.with_defaults(Autoname::Proposed(name), Some(REGION));
    secure_eks_core::plan::plan(&args, REGION, &BTreeMap::new()).unwrap()
}

/// The first spec.
fn spec_a() -> serde_json::Value {
    json!({
        "kubernetesVersion": "1.34",
        "apiAccess": {"private": true, "public": false},
        "logging": {"types": ["api", "audit"], "retentionDays": 90},
        "nodeGroups": [{
            "name": "general", "instanceTypes": ["m7g.large"], "minSize": 1, "desiredSize": 2, "maxSize": 3,
            "labels": {"team": "a", "old": "x"},
            "taints": [{"key": "dedicated", "value": "a", "effect": "NO_SCHEDULE"}]
        }],
        "addons": {"vpcCni": {"version": "v1.18.3-eksbuild.1"}},
        "accessEntries": [{"principalArn": ADMIN, "accessPolicy": "ClusterAdmin"}],
        "serviceAccountRoles": [{
            "namespace": "app", "name": "web", "policyArns": ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"],
            "inlinePolicy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}"
        }]
    })
}

/// The changed spec: everything EKS, EC2, IAM and Logs can change in place.
fn spec_b() -> serde_json::Value {
    json!({
        "kubernetesVersion": "1.35",
        "apiAccess": {"private": true, "public": true, "publicCidrs": ["203.0.113.0/24"]},
        "logging": {"types": ["api", "audit", "authenticator"], "retentionDays": 30},
        "nodeGroups": [{
            "name": "general", "instanceTypes": ["m7g.large"], "minSize": 2, "desiredSize": 3, "maxSize": 5,
            "labels": {"team": "b", "new": "y"},
            "taints": [{"key": "dedicated", "value": "b", "effect": "NO_SCHEDULE"}, {"key": "gpu", "effect": "NO_EXECUTE"}],
            "imdsHopLimit": 1, "diskSizeGb": 80
        }],
        "addons": {"vpcCni": {"version": "v1.19.2-eksbuild.1", "configuration": {"env": {"WARM_IP_TARGET": "5"}}}},
        "accessEntries": [{"principalArn": ADMIN, "accessPolicy": "View"}],
        "serviceAccountRoles": [{"namespace": "app", "name": "web", "policyArns": ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]}]
    })
}

fn with_node_group(mut spec: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
    spec["nodeGroups"][0][key] = value;
    spec
}


/// What the server does on `pulumi up` (provider.rs `apply`): apply, then destroy what the new
/// plan no longer has (orphans), keeping the rest.
async fn up(aws: &Aws, plan: &Plan, prior: &StepOutputs) -> Result<StepOutputs, ApplyError> {
    let (tx, _rx) = progress();
    let cancel = CancellationToken::new();
    let steps = aws.apply(plan, prior, &cancel, &tx).await?;
    let orphans: StepOutputs = steps.iter().filter(|(k, _)| plan.step(k).is_none()).map(|(k, v)| (k.clone(), v.clone())).collect();
    if !orphans.is_empty() {
        aws.destroy(plan, &orphans, &cancel, &tx).await?;
    }
    Ok(steps.into_iter().filter(|(k, _)| !orphans.contains_key(k)).collect())
}

fn decoded(doc: &str) -> String {
    doc.replace("%3A", ":").replace("%2F", "/").replace("%22", "\"").replace("%2C", ",").replace("%7B", "{").replace("%7D", "}")
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changed_inputs_converge_adopted_resources_and_a_repeat_changes_nothing() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let sdk = emu.sdk().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let eks = aws_sdk_eks::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let cancel = CancellationToken::new();
    let (tx, mut rx) = progress();

    // ---- the first spec
    let a = plan_from("up", spec_a());
    let t = Instant::now();
    let outs = aws.apply(&a, &StepOutputs::new(), &cancel, &tx).await.unwrap_or_else(|e| panic!("first apply failed: {e:?}"));
    eprintln!("first apply: {} steps in {:?}", outs.len(), t.elapsed());
    assert_eq!(outs["cluster"].extra["version"], "1.34");
    assert_eq!(outs["lt/general"].extra["latestVersion"], "1");
    drain(&mut rx);

    // ---- the changed spec, with the first run's outputs as prior
    let b = plan_from("up", spec_b());
    count_mutations(&emu);
    let t = Instant::now();
    let outs2 = aws.apply(&b, &outs, &cancel, &tx).await.unwrap_or_else(|e| panic!("update failed: {e:?}"));
    eprintln!("update apply: {:?}, {} mutating calls", t.elapsed(), mutations(&emu));
    let lines = drain(&mut rx);
    assert!(!lines.iter().any(|l| l.contains(": created ")), "nothing is created by an update: {lines:?}");
    for l in lines.iter().filter(|l| l.contains("upgrading") || l.contains("changing") || l.contains("updating") || l.contains("rolling") || l.contains("changed")) {
        eprintln!("  {l}");
    }
    let ids = |o: &StepOutputs| o.iter().map(|(k, v)| (k.clone(), v.id.clone())).collect::<BTreeMap<_, _>>();
    assert_eq!(ids(&outs2), ids(&outs), "every resource adopted, none replaced");

    // Cluster: one minor up, recorded; public endpoint with the CIDR; three log types.
    let c = eks.describe_cluster().name("up").send().await.unwrap().cluster.unwrap();
    assert_eq!(c.version(), Some("1.35"));
    assert_eq!(outs2["cluster"].extra["version"], "1.35", "the new version is recorded");
    let vpc = c.resources_vpc_config().unwrap();
    assert!(vpc.endpoint_private_access() && vpc.endpoint_public_access());
    assert_eq!(vpc.public_access_cidrs(), ["203.0.113.0/24"]);
    assert_eq!(vpc.subnet_ids().len(), 3, "the subnets are kept");
    let on: BTreeSet<&str> = c
        .logging()
        .unwrap()
        .cluster_logging()
        .iter()
        .filter(|l| l.enabled() == Some(true))
        .flat_map(|l| l.types().iter().map(|t| t.as_str()))
        .collect();
    assert_eq!(on, BTreeSet::from(["api", "audit", "authenticator"]));
    let updates = eks.list_updates().name("up").send().await.unwrap();
    let mut kinds = Vec::new();
    for id in updates.update_ids() {
        let u = eks.describe_update().name("up").update_id(id).send().await.unwrap().update.unwrap();
        assert_eq!(u.status().map(|s| s.as_str()), Some("Successful"));
        kinds.push(u.r#type().map(|t| t.as_str().to_string()).unwrap_or_default());
    }
    kinds.sort();
    // UpdateNodegroupConfig (size, labels, taints) is a `ConfigUpdate`, as on AWS; the emulator
    // records it since it models updates in progress.
    assert_eq!(
        kinds,
        ["AddonUpdate", "ConfigUpdate", "EndpointAccessUpdate", "LoggingUpdate", "VersionUpdate", "VersionUpdate"],
        "vpc-cni, node group config, endpoint, logging, cluster version, node group version"
    );

    // Launch template: a second version with hop limit 1 and 80 GiB, still IMDSv2 and encrypted.
    assert_eq!(outs2["lt/general"].extra["latestVersion"], "2");
    let ltv = ec2.describe_launch_template_versions().launch_template_id(&outs["lt/general"].id).versions("2").send().await.unwrap();
    let data = ltv.launch_template_versions()[0].launch_template_data().unwrap();
    let md = data.metadata_options().unwrap();
    assert_eq!((md.http_put_response_hop_limit(), md.http_tokens().map(|t| t.as_str())), (Some(1), Some("required")));
    let ebs = data.block_device_mappings()[0].ebs().unwrap();
    assert_eq!((ebs.volume_size(), ebs.encrypted()), (Some(80), Some(true)));

    // Node group: sizes, labels, taints, Kubernetes 1.35 with the 1.35 AMI release, LT version 2.
    let ng = eks.describe_nodegroup().cluster_name("up").nodegroup_name("general").send().await.unwrap().nodegroup.unwrap();
    let sc = ng.scaling_config().unwrap();
    assert_eq!((sc.min_size(), sc.desired_size(), sc.max_size()), (Some(2), Some(3), Some(5)));
    let labels: BTreeMap<&str, &str> = ng.labels().unwrap().iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(labels, BTreeMap::from([("new", "y"), ("team", "b")]));
    let mut taints: Vec<(String, Option<String>, String)> =
        ng.taints().iter().map(|t| (t.key().unwrap().to_string(), t.value().map(str::to_string), t.effect().unwrap().as_str().to_string())).collect();
    taints.sort();
    assert_eq!(taints, [("dedicated".into(), Some("b".into()), "NO_SCHEDULE".into()), ("gpu".into(), None, "NO_EXECUTE".into())]);
    let release = ssm
        .get_parameter()
        .name("/aws/service/eks/optimized-ami/1.35/amazon-linux-2023/arm64/standard/recommended/release_version")
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap()
        .value
        .unwrap();
    assert_eq!((ng.version(), ng.release_version()), (Some("1.35"), Some(release.as_str())));
    assert_eq!(outs2["nodegroup/general"].extra["releaseVersion"], release);
    assert_eq!(outs2["nodegroup/general"].extra["plannedDesiredSize"], "3");
    assert_eq!(ng.launch_template().and_then(|l| l.version()), Some("2"));

    // Addons: vpc-cni upgraded with the new configuration (custom networking kept); the others keep
    // the AWS default.
    let cni = eks.describe_addon().cluster_name("up").addon_name("vpc-cni").send().await.unwrap().addon.unwrap();
    assert_eq!(cni.addon_version(), Some("v1.19.2-eksbuild.1"));
    assert_eq!(outs2["addon/vpc-cni"].extra["version"], "v1.19.2-eksbuild.1");
    let cfg: serde_json::Value = serde_json::from_str(cni.configuration_values().unwrap()).unwrap();
    assert_eq!(cfg["env"]["WARM_IP_TARGET"], "5");
    assert_eq!(cfg["env"]["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"], "true");
    assert!(cfg["eniConfig"]["subnets"]["us-east-1a"]["id"].is_string());
    assert_eq!(outs2["addon/kube-proxy"].extra["version"], outs["addon/kube-proxy"].extra["version"]);

    // Log group retention.
    let lg = logs.describe_log_groups().log_group_name_prefix("/aws/eks/up/cluster").send().await.unwrap();
    assert_eq!(lg.log_groups()[0].retention_in_days(), Some(30));
    assert_eq!(outs2["loggroup"].extra["retentionDays"], "30");

    // IRSA role: the removed policy is detached, the new one attached, the inline policy deleted.
    let attached = iam.list_attached_role_policies().role_name("up-sa-0").send().await.unwrap();
    let arns: Vec<&str> = attached.attached_policies().iter().filter_map(|p| p.policy_arn()).collect();
    assert_eq!(arns, ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]);
    let inline = iam.get_role_policy().role_name("up-sa-0").policy_name("secure-eks").send().await.unwrap_err();
    assert_eq!(aws_sdk_iam::error::ProvideErrorMetadata::code(&inline), Some("NoSuchEntity"));
    // The node role's policies are untouched.
    assert_eq!(iam.list_attached_role_policies().role_name("up-node").send().await.unwrap().attached_policies().len(), 4);

    // Access entry: View instead of ClusterAdmin (not both).
    let assoc = eks.list_associated_access_policies().cluster_name("up").principal_arn(ADMIN).send().await.unwrap();
    let pols: Vec<&str> = assoc.associated_access_policies().iter().filter_map(|p| p.policy_arn()).collect();
    assert_eq!(pols, ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"]);

    // ---- the same spec again: no mutating call at all, the same outputs
    count_mutations(&emu);
    let t = Instant::now();
    let outs3 = aws.apply(&b, &outs2, &cancel, &tx).await.unwrap_or_else(|e| panic!("repeat failed: {e:?}"));
    eprintln!("repeat apply (nothing to change): {:?}", t.elapsed());
    assert_eq!(mutations(&emu), 0, "an apply with nothing to change makes no mutating call: {:?}", drain(&mut rx));
    assert_eq!(outs3, outs2);

    // ---- the autoscaler moved the desired size: a repeat keeps it
    eks.update_nodegroup_config()
        .cluster_name("up")
        .nodegroup_name("general")
        .scaling_config(aws_sdk_eks::types::NodegroupScalingConfig::builder().min_size(2).desired_size(4).max_size(5).build())
        .send()
        .await
        .unwrap();
    count_mutations(&emu);
    aws.apply(&b, &outs3, &cancel, &tx).await.unwrap_or_else(|e| panic!("apply after scaling failed: {e:?}"));
    assert_eq!(mutations(&emu), 0);
    let ng = eks.describe_nodegroup().cluster_name("up").nodegroup_name("general").send().await.unwrap().nodegroup.unwrap();
    assert_eq!(ng.scaling_config().unwrap().desired_size(), Some(4), "the autoscaler's desired size is kept");

    // ---- what EKS cannot change in place fails with a clear reason, before any call
    count_mutations(&emu);
    let c_plan = plan_from("up", with_node_group(spec_b(), "instanceTypes", json!(["m7g.xlarge"])));
    let ApplyError { done, reasons } = aws.apply(&c_plan, &outs3, &cancel, &tx).await.unwrap_err();
    assert_eq!(reasons, ["nodegroup/general: instanceTypes cannot change in place; rename the node group to replace it"]);
    assert_eq!(ids(&done), ids(&outs3));
    let spot = plan_from("up", with_node_group(with_node_group(spec_b(), "instanceTypes", json!(["m7i.large"])), "capacityType", json!("SPOT")));
    let ApplyError { reasons, .. } = aws.apply(&spot, &outs3, &cancel, &tx).await.unwrap_err();
    assert_eq!(reasons, ["nodegroup/general: instanceTypes, capacityType, amiType cannot change in place; rename the node group to replace it"]);
    let mut jump = spec_b();
    jump["kubernetesVersion"] = json!("1.37");
    let ApplyError { reasons, .. } = aws.apply(&plan_from("up", jump), &outs3, &cancel, &tx).await.unwrap_err();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].starts_with("cluster: kubernetesVersion cannot go from 1.35 to 1.37 in one update"), "{reasons:?}");
    let mut down = spec_b();
    down["kubernetesVersion"] = json!("1.34");
    let ApplyError { reasons, .. } = aws.apply(&plan_from("up", down), &outs3, &cancel, &tx).await.unwrap_err();
    assert!(reasons[0].starts_with("cluster: kubernetesVersion 1.34 is older than the cluster's 1.35: EKS cannot downgrade"), "{reasons:?}");
    assert_eq!(mutations(&emu), 0, "refused changes make no call");
    emu.clear_faults();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn renamed_roles_and_access_entries_move_between_steps_without_losing_any() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let sdk = emu.sdk().await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let other = "arn:aws:iam::123456789012:role/ops";
    let base = |entries: serde_json::Value, roles: serde_json::Value| {
        json!({
            "kubernetesVersion": "1.34",
            "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large"]}],
            "accessEntries": entries,
            "serviceAccountRoles": roles
        })
    };
    let web = json!({"namespace": "app", "name": "web", "policyArns": ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]});
    let api = json!({"namespace": "app", "name": "api", "policyArns": ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]});
    let first = plan_from(
        "mv",
        base(json!([{"principalArn": ADMIN, "accessPolicy": "ClusterAdmin"}, {"principalArn": other, "accessPolicy": "View"}]), json!([web, api])),
    );
    let t = Instant::now();
    let outs = up(&aws, &first, &StepOutputs::new()).await.unwrap_or_else(|e| panic!("first up failed: {e:?}"));
    eprintln!("first up: {:?}", t.elapsed());
    assert_eq!(outs["role/sa/app/web"].id, "mv-sa-0");
    assert_eq!(outs["role/sa/app/api"].id, "mv-sa-1");

    // The first entry and the first role go: the planner numbers both by position, so the second
    // ones move to index 0 (`access/0` now names `ops`; `role/sa/app/api` is now named mv-sa-0).
    let second = plan_from("mv", base(json!([{"principalArn": other, "accessPolicy": "View"}]), json!([api])));
    let t = Instant::now();
    let outs2 = up(&aws, &second, &outs).await.unwrap_or_else(|e| panic!("second up failed: {e:?}"));
    eprintln!("second up (moves): {:?}", t.elapsed());
    assert_eq!(outs2["access/0"].id, other);
    assert!(!outs2.contains_key("access/1") && !outs2.keys().any(|k| k.contains('~')), "{:?}", outs2.keys());
    let entries = eks.list_access_entries().cluster_name("mv").send().await.unwrap();
    assert_eq!(entries.access_entries(), [other], "the removed principal lost its access, the kept one did not");
    let assoc = eks.list_associated_access_policies().cluster_name("mv").principal_arn(other).send().await.unwrap();
    let pols: Vec<&str> = assoc.associated_access_policies().iter().filter_map(|p| p.policy_arn()).collect();
    assert_eq!(pols, ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"]);

    assert_eq!(outs2["role/sa/app/api"].id, "mv-sa-0");
    let role = iam.get_role().role_name("mv-sa-0").send().await.unwrap().role.unwrap();
    let trust = decoded(role.assume_role_policy_document().unwrap());
    assert!(trust.contains("system:serviceaccount:app:api") && !trust.contains("app:web"), "{trust}");
    let attached = iam.list_attached_role_policies().role_name("mv-sa-0").send().await.unwrap();
    let arns: Vec<&str> = attached.attached_policies().iter().filter_map(|p| p.policy_arn()).collect();
    assert_eq!(arns, ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"], "web's policy is detached from the role api now uses");
    let gone = iam.get_role().role_name("mv-sa-1").send().await.unwrap_err();
    assert_eq!(aws_sdk_iam::error::ProvideErrorMetadata::code(&gone), Some("NoSuchEntity"), "the role api used before is deleted");

    // Nothing left to change.
    count_mutations(&emu);
    let outs3 = up(&aws, &second, &outs2).await.unwrap_or_else(|e| panic!("third up failed: {e:?}"));
    assert_eq!(mutations(&emu), 0);
    assert_eq!(outs3, outs2);
    emu.clear_faults();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_while_waiting_for_an_upgrade_then_resume() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let sdk = emu.sdk().await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    let spec = |v: &str| {
        json!({
            "kubernetesVersion": v,
            "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large"]}]
        })
    };
    let outs = up(&aws, &plan_from("cu", spec("1.34")), &StepOutputs::new()).await.unwrap_or_else(|e| panic!("first up failed: {e:?}"));

    // DescribeUpdate hangs (the emulator's updates succeed at once, so a slow answer stands in for
    // a long upgrade): the run is cancelled while the cluster step waits for the upgrade.
    emu.fault(json!({"match": "^GET /clusters/cu/updates/", "status": 0, "delay_ms": 20000, "count": -1}));
    let plan = plan_from("cu", spec("1.35"));
    let (tx, mut rx) = progress();
    let cancel = CancellationToken::new();
    let run = {
        let (aws, plan, outs, cancel, tx) = (aws.clone(), plan.clone(), outs.clone(), cancel.clone(), tx.clone());
        tokio::spawn(async move { aws.apply(&plan, &outs, &cancel, &tx).await })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = tokio::time::timeout_at(deadline.into(), rx.recv()).await.unwrap().unwrap();
        if line.starts_with("cluster: upgrading cluster cu from Kubernetes 1.34 to 1.35") {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    cancel.cancel();
    let ApplyError { done, reasons } = run.await.unwrap().unwrap_err();
    eprintln!("cancel during the upgrade wait took effect after {:?}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(3), "a cancel does not wait for the update");
    assert_eq!(reasons, ["cancelled"]);
    let ids = |o: &StepOutputs| o.iter().map(|(k, v)| (k.clone(), v.id.clone())).collect::<BTreeMap<_, _>>();
    assert_eq!(ids(&done), ids(&outs), "everything is still recorded");
    assert_eq!(done["cluster"].extra["version"], "1.34", "the upgrade was not seen to finish");
    emu.clear_faults();

    // Resume: the upgrade is not started again (the cluster already runs 1.35), the rest converges.
    count_mutations(&emu);
    let resumed = aws.apply(&plan, &done, &CancellationToken::new(), &tx).await.unwrap_or_else(|e| panic!("resume failed: {e:?}"));
    let lines = drain(&mut rx);
    assert!(!lines.iter().any(|l| l.contains("upgrading cluster")), "{lines:?}");
    assert_eq!(resumed["cluster"].extra["version"], "1.35");
    let ng = eks.describe_nodegroup().cluster_name("cu").nodegroup_name("general").send().await.unwrap().nodegroup.unwrap();
    assert_eq!(ng.version(), Some("1.35"), "the node group follows the cluster");
    assert_eq!(mutations(&emu), 1, "only UpdateNodegroupVersion");
    emu.clear_faults();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_pinned_ami_rolls_the_node_group_to_a_new_launch_template_version() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let sdk = emu.sdk().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let eks = aws_sdk_eks::Client::new(&sdk);
    let spec = |ami: &str, user: &str| {
        json!({
            "kubernetesVersion": "1.34",
            "nodeGroups": [{"name": "pinned", "instanceTypes": ["m7i.large"], "amiId": ami, "userData": user}]
        })
    };
    let outs = up(&aws, &plan_from("pa", spec("ami-ekslinux", "#!/bin/bash\necho one")), &StepOutputs::new())
        .await
        .unwrap_or_else(|e| panic!("first up failed: {e:?}"));
    count_mutations(&emu);
    let outs2 = up(&aws, &plan_from("pa", spec("ami-0123456789abcdef0", "#!/bin/bash\necho two")), &outs)
        .await
        .unwrap_or_else(|e| panic!("second up failed: {e:?}"));
    assert_eq!(mutations(&emu), 2, "CreateLaunchTemplateVersion and UpdateNodegroupVersion");
    let lt = &outs2["lt/pinned"];
    assert_eq!((lt.id.as_str(), lt.extra["latestVersion"].as_str()), (outs["lt/pinned"].id.as_str(), "2"));
    let v = ec2.describe_launch_template_versions().launch_template_id(&lt.id).versions("2").send().await.unwrap();
    let data = v.launch_template_versions()[0].launch_template_data().unwrap();
    assert_eq!(data.image_id(), Some("ami-0123456789abcdef0"));
    let ud = String::from_utf8(aws_smithy_types::base64::decode(data.user_data().unwrap()).unwrap()).unwrap();
    assert!(ud.contains("kind: NodeConfig") && ud.contains("echo two") && !ud.contains("echo one"), "{ud}");
    let ng = eks.describe_nodegroup().cluster_name("pa").nodegroup_name("pinned").send().await.unwrap().nodegroup.unwrap();
    assert_eq!(ng.launch_template().and_then(|l| l.version()), Some("2"));
    assert_eq!(ng.ami_type().map(|t| t.as_str()), Some("CUSTOM"));
    emu.clear_faults();
}
