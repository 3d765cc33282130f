//! State safety through the real Pulumi CLI against the emulator: whatever stops or surprises a
//! run, the stack records every AWS resource that exists, and `destroy` leaves nothing.
//!
//! - a create that reaches its `customTimeouts.create` limit records what it made (the
//!   resource is saved with init errors and exactly the resources that exist), then `up`
//!   converges and `destroy` leaves nothing;
//! - parts deleted by hand (the cluster; a node group and a role): `refresh`
//!   keeps the resource with what survives, the next preview shows an update, `up` recreates the
//!   parts and `destroy` leaves nothing.
//!
//! The tests wait on AWS state (never fixed sleeps), so they hold whether the emulator makes
//! resources ACTIVE at once or after simulated minutes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::cli::{Workspace, NOTHING_LEFT, ONE_MINIMAL_CLUSTER};
use common::emulator::Emulator;
use serde_json::json;

const UP: &[&str] = &["up", "--yes", "--non-interactive", "--skip-preview"];
const REFRESH: &[&str] = &["refresh", "--yes", "--non-interactive", "--skip-preview"];
const DESTROY: &[&str] = &["destroy", "--yes", "--non-interactive", "--skip-preview"];

/// The cluster resource in `pulumi stack export`, if the stack has it.
fn cluster_resource(ws: &Workspace) -> Option<serde_json::Value> {
    let export = ws.pulumi(&["stack", "export"]);
    let state: serde_json::Value = serde_json::from_str(&export.out).expect("stack export is JSON");
    state["deployment"]["resources"].as_array()?.iter().find(|r| r["type"] == "secure-eks:index:SecureEksCluster").cloned()
}

/// The step ids recorded in the resource's `awsResources` output.
fn recorded_steps(res: &serde_json::Value) -> Vec<String> {
    res["outputs"]["awsResources"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

/// What the recorded steps hold, counted as `Emulator::leftovers` counts what exists (a retired
/// resource, `<kind>~<step>~<id>`, counts for its kind).
fn recorded_counts(steps: &[String]) -> String {
    let head = |s: &str| s.split('/').next().unwrap_or_default().split('~').next().unwrap_or_default().to_string();
    let n = |kind: &str| steps.iter().filter(|s| head(s) == kind && !(kind == "vpc" && s.contains('/'))).count();
    format!(
        "vpcs={} subnets={} sgs={} endpoints={} launchTemplates={} clusters={} roles={} oidc={} keys={} logGroups={} loadBalancers=0 targetGroups=0",
        n("vpc"),
        n("subnet"),
        n("sg"),
        n("vpce"),
        n("lt"),
        n("cluster"),
        n("role"),
        n("oidc"),
        n("kms"),
        n("loggroup")
    )
}

/// Poll a boto3 expression until it prints `True`.
fn wait_for(emu: &Emulator, what: &str, expr: &str) {
    let start = Instant::now();
    while emu.boto3(&format!("print({expr})")) != "True" {
        assert!(start.elapsed() < Duration::from_secs(300), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The program's cluster resource gets `options: customTimeouts: create: <create>` (or loses it).
fn set_create_timeout(ws: &Workspace, create: Option<&str>) {
    set_custom_timeouts(ws, create.map(|c| vec![("create", c)]).unwrap_or_default().as_slice());
}

/// The program's cluster resource gets `options: customTimeouts:` with `limits` (op, duration),
/// replacing any it had; none removes the options.
fn set_custom_timeouts(ws: &Workspace, limits: &[(&str, &str)]) {
    let yaml = ws.dir.join("Pulumi.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    let mut out = Vec::new();
    let mut in_options = false;
    for line in text.lines() {
        if in_options && line.starts_with("      ") {
            continue;
        }
        in_options = line == "    options:";
        if in_options {
            continue;
        }
        out.push(line.to_string());
        if line == "    type: secure-eks:index:SecureEksCluster" && !limits.is_empty() {
            out.extend(["    options:".to_string(), "      customTimeouts:".to_string()]);
            out.extend(limits.iter().map(|(op, d)| format!("        {op}: {d}")));
        }
    }
    std::fs::write(&yaml, out.join("\n") + "\n").unwrap();
}

/// A create that reaches `customTimeouts.create` stops, and the stack records exactly the AWS
/// resources that exist by then (the run is cancelled, then awaited, not dropped). The next `up`
/// converges without duplicates and `destroy` leaves nothing.
#[test]
fn a_create_past_its_custom_timeout_records_what_exists_then_up_converges_and_destroy_leaves_nothing() {
    let emu = Emulator::start();
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack_quick(&emu.endpoints());
    set_create_timeout(&ws, Some("20s"));
    // The node group waiter is slow: the create cannot finish within 20 s, and the limit passes
    // while the run waits (or, on a slower emulator, earlier, e.g. while the cluster is created).
    // The first DescribeNodegroup (adopt by name) passes; the waiter's are held.
    let describe_ng = "^GET /clusters/[^/ ]+/node-groups/[^/ ]+ ";
    emu.fault(json!({"match": describe_ng, "status": 0, "count": 1}));
    emu.fault(json!({"match": describe_ng, "status": 0, "delay_ms": 60000, "count": -1}));
    let t = Instant::now();
    let up = ws.pulumi(UP);
    eprintln!("timed-out up took {:?}", t.elapsed());
    assert_ne!(up.code, Some(0), "up must fail at its timeout:\n{}", up.out);
    assert!(up.out.contains("customTimeouts.create") && up.out.contains("timed out after 20 s"), "the timeout is not named:\n{}", up.out);
    emu.clear_faults();
    assert!(t.elapsed() < Duration::from_secs(55), "the run was not stopped at its timeout (it took {:?})", t.elapsed());

    let res = cluster_resource(&ws).expect("the stack records the resource after a create that timed out");
    assert!(!res["initErrors"].as_array().map(Vec::is_empty).unwrap_or(true), "no init errors: {res}");
    let steps = recorded_steps(&res);
    assert!(steps.iter().any(|s| s == "vpc"), "the VPC is not recorded: {steps:?}");
    let exists = emu.leftovers();
    assert_ne!(exists, NOTHING_LEFT);
    assert_eq!(recorded_counts(&steps), exists, "the stack must record exactly what exists (recorded: {steps:?})");

    set_create_timeout(&ws, None);
    let up2 = ws.pulumi(UP);
    assert_eq!(up2.code, Some(0), "the next up failed:\n{}", up2.out);
    assert_eq!(emu.leftovers(), ONE_MINIMAL_CLUSTER, "duplicates after the timed-out create");
    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "{}", again.out);
    let destroy = ws.pulumi(DESTROY);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}

/// After a refresh that found parts gone, the resource stays with what survives, the preview
/// shows an update (not "no changes"), and `up` recreates exactly the missing parts.
fn refresh_preview_and_up_recreate(emu: &Emulator, ws: &Workspace, gone: &[&str], what: &str) {
    let r = ws.pulumi(REFRESH);
    assert_eq!(r.code, Some(0), "{what}: refresh failed:\n{}", r.out);
    let res = cluster_resource(ws).unwrap_or_else(|| panic!("{what}: refresh dropped the resource (and with it every surviving AWS resource)"));
    let steps = recorded_steps(&res);
    for g in gone {
        assert!(!steps.iter().any(|s| s == g), "{what}: refresh still records {g}: {steps:?}");
    }
    for kept in ["vpc", "kms", "loggroup", "role/node"] {
        assert!(steps.iter().any(|s| s == kept), "{what}: refresh dropped {kept}, which still exists: {steps:?}");
    }
    assert_eq!(recorded_counts(&steps), emu.leftovers(), "{what}: the refreshed stack must record exactly what exists");

    let preview = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_ne!(preview.code, Some(0), "{what}: the preview must show the missing parts as a change:\n{}", preview.out);
    assert!(preview.out.contains("1 to update"), "{what}: the preview must show an update:\n{}", preview.out);
    assert!(!preview.out.contains("to create") && !preview.out.contains("replace"), "{what}: an update, not a create or replace:\n{}", preview.out);

    let up = ws.pulumi(UP);
    assert_eq!(up.code, Some(0), "{what}: up failed:\n{}", up.out);
    assert_eq!(emu.leftovers(), ONE_MINIMAL_CLUSTER, "{what}: up must recreate the missing parts, once");
    let name = ws.pulumi(&["stack", "output", "clusterName"]).out.trim().to_string();
    let ngs = emu.boto3(&format!("print(client('eks').list_nodegroups(clusterName='{name}')['nodegroups'])"));
    assert_eq!(ngs, "['general']", "{what}: one node group");
    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "{what}: changes left after up:\n{}", again.out);
}

/// Delete node group `ng` of `cluster` by hand and wait until it is gone.
fn delete_nodegroup_by_hand(emu: &Emulator, cluster: &str, ng: &str) {
    emu.boto3(&format!("client('eks').delete_nodegroup(clusterName='{cluster}', nodegroupName='{ng}')"));
    wait_for(emu, "the node group to be deleted", &format!("'{ng}' not in client('eks').list_nodegroups(clusterName='{cluster}')['nodegroups']"));
}

/// Someone deletes the EKS cluster in the console (its node group first, as AWS requires).
/// Refresh keeps the VPC, NAT, roles and KMS key in the stack; `up` recreates the cluster and
/// what went with it; `destroy` leaves nothing.
#[test]
fn a_cluster_deleted_by_hand_is_recreated_by_up_and_nothing_is_forgotten() {
    let emu = Emulator::start();
    let (ws, name) = Workspace::minimal_cluster_up(&emu.endpoints());

    delete_nodegroup_by_hand(&emu, &name, "general");
    emu.boto3(&format!("client('eks').delete_cluster(name='{name}')"));
    wait_for(&emu, "the cluster to be deleted", &format!("'{name}' not in client('eks').list_clusters()['clusters']"));

    refresh_preview_and_up_recreate(&emu, &ws, &["cluster", "nodegroup/general"], "cluster deleted by hand");
    let destroy = ws.pulumi(DESTROY);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}

/// Someone deletes a node group and the autoscaler's IAM role by hand: refresh
/// drops just those, the preview shows an update, `up` recreates them, `destroy` leaves nothing.
#[test]
fn a_node_group_and_a_role_deleted_by_hand_are_recreated_by_up() {
    let emu = Emulator::start();
    let (ws, name) = Workspace::minimal_cluster_up(&emu.endpoints());
    let res = cluster_resource(&ws).unwrap();
    let role = res["outputs"]["awsResources"]["role/autoscaler"]["id"].as_str().expect("the autoscaler role is recorded").to_string();

    delete_nodegroup_by_hand(&emu, &name, "general");
    emu.boto3(&format!(
        "iam = client('iam')\n\
         for p in iam.list_attached_role_policies(RoleName='{role}')['AttachedPolicies']:\n\
         \x20   iam.detach_role_policy(RoleName='{role}', PolicyArn=p['PolicyArn'])\n\
         for p in iam.list_role_policies(RoleName='{role}')['PolicyNames']:\n\
         \x20   iam.delete_role_policy(RoleName='{role}', PolicyName=p)\n\
         iam.delete_role(RoleName='{role}')"
    ));
    refresh_preview_and_up_recreate(&emu, &ws, &["nodegroup/general", "role/autoscaler"], "parts deleted by hand");
    let destroy = ws.pulumi(DESTROY);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}

/// Delete VPC endpoint `step` (recorded in the stack) by hand and wait until EC2 no longer
/// describes it as live.
fn delete_endpoint_by_hand(emu: &Emulator, ws: &Workspace, step: &str) -> String {
    let res = cluster_resource(ws).unwrap();
    let id = res["outputs"]["awsResources"][step]["id"].as_str().unwrap_or_else(|| panic!("{step} is recorded: {res}")).to_string();
    emu.boto3(&format!("client('ec2').delete_vpc_endpoints(VpcEndpointIds=['{id}'])"));
    wait_for(
        emu,
        &format!("endpoint {id} to be deleted"),
        &format!("all(e['State'].lower() in ('deleted', 'deleting') for e in client('ec2').describe_vpc_endpoints()['VpcEndpoints'] if e['VpcEndpointId'] == '{id}')"),
    );
    id
}

/// Someone deletes an interface endpoint and the S3 gateway endpoint by hand. Their creates
/// carried client tokens, and EC2 answers a repeated token with the first call's response, i.e.
/// the deleted endpoint (EC2 API idempotency,
/// https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html): `up` must notice
/// that and create new ones. Refresh drops them, the preview shows an update, `up` recreates
/// them (live, with new ids), `destroy` leaves nothing.
#[test]
fn endpoints_deleted_by_hand_are_recreated_by_up_despite_their_client_tokens() {
    let emu = Emulator::start();
    let (ws, _name) = Workspace::minimal_cluster_up(&emu.endpoints());
    let old: Vec<String> = ["vpce/sts", "vpce/s3"].iter().map(|s| delete_endpoint_by_hand(&emu, &ws, s)).collect();

    refresh_preview_and_up_recreate(&emu, &ws, &["vpce/sts", "vpce/s3"], "endpoints deleted by hand");
    let res = cluster_resource(&ws).unwrap();
    for (step, old) in ["vpce/sts", "vpce/s3"].iter().zip(&old) {
        let id = res["outputs"]["awsResources"][step]["id"].as_str().unwrap_or_else(|| panic!("{step} is not recorded after up: {res}")).to_string();
        assert_ne!(&id, old, "{step}: up recorded the endpoint deleted by hand");
        let state = emu.boto3(&format!("print(client('ec2').describe_vpc_endpoints(VpcEndpointIds=['{id}'])['VpcEndpoints'][0]['State'].lower())"));
        assert_eq!(state, "available", "{step}: the recorded endpoint {id} is not live");
    }
    let destroy = ws.pulumi(DESTROY);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}

/// For each kind, what the recorded steps hold is at least what exists: no existing resource is
/// missing from the state (recorded parts already deleted are fine: deleting them again is a
/// no-op).
fn records_all_that_exists(recorded: &str, exists: &str) -> bool {
    let counts = |s: &str| -> Vec<(String, u32)> { s.split(' ').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.parse().unwrap())).collect() };
    let (r, e) = (counts(recorded), counts(exists));
    assert_eq!(r.len(), e.len());
    r.iter().zip(&e).all(|((rk, rv), (ek, ev))| rk == ek && rv >= ev)
}

/// `customTimeouts.read` and `customTimeouts.delete` are honoured (the engine sends them with Read
/// and Delete): a refresh held on DescribeCluster and a destroy held on DescribeNodegroup both
/// stop at their 10 s limit with an error that names it. The refresh leaves the state as it was;
/// the stopped destroy leaves every resource that still exists in the state, and the next
/// `destroy` leaves nothing.
#[test]
fn read_and_delete_timeouts_stop_the_run_and_keep_what_exists_in_the_state() {
    let emu = Emulator::start();
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack_quick(&emu.endpoints());
    set_custom_timeouts(&ws, &[("read", "10s"), ("delete", "10s")]);
    let up = ws.pulumi(UP);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    let before = recorded_steps(&cluster_resource(&ws).unwrap());

    // Refresh: every DescribeCluster is held for a minute.
    emu.fault(json!({"match": "^GET /clusters/[^/ ]+ ", "status": 0, "delay_ms": 60000, "count": -1}));
    let t = Instant::now();
    let r = ws.pulumi(REFRESH);
    let took = t.elapsed();
    emu.clear_faults();
    assert_ne!(r.code, Some(0), "refresh must fail at its timeout:\n{}", r.out);
    assert!(r.out.contains("customTimeouts.read") && r.out.contains("timed out after 10 s"), "the read timeout is not named:\n{}", r.out);
    assert!(took < Duration::from_secs(50), "the refresh was not stopped at its timeout (it took {took:?})");
    assert_eq!(recorded_steps(&cluster_resource(&ws).expect("the resource is kept")), before, "a stopped refresh changed the state");

    // Destroy: the node group's deletion is never seen to finish.
    emu.fault(json!({"match": "^GET /clusters/[^/ ]+/node-groups/[^/ ]+ ", "status": 0, "delay_ms": 60000, "count": -1}));
    let t = Instant::now();
    let d = ws.pulumi(DESTROY);
    let took = t.elapsed();
    emu.clear_faults();
    assert_ne!(d.code, Some(0), "destroy must fail at its timeout:\n{}", d.out);
    assert!(d.out.contains("customTimeouts.delete") && d.out.contains("timed out after 10 s"), "the delete timeout is not named:\n{}", d.out);
    assert!(took < Duration::from_secs(50), "the destroy was not stopped at its timeout (it took {took:?})");
    let res = cluster_resource(&ws).expect("a stopped destroy keeps the resource in the state");
    let (recorded, exists) = (recorded_counts(&recorded_steps(&res)), emu.leftovers());
    assert_ne!(exists, NOTHING_LEFT, "the destroy was stopped before it deleted everything");
    assert!(records_all_that_exists(&recorded, &exists), "the state must record everything that still exists:\nrecorded: {recorded}\nexists:   {exists}");

    let d = ws.pulumi(DESTROY);
    assert_eq!(d.code, Some(0), "{}", d.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}

/// With `natGateways: single`, someone deletes the NAT gateway by hand. Its create carried a
/// client token too: `up` must make a new one rather than record the deleted one again; destroy
/// then leaves no NAT gateway and nothing else.
#[test]
fn a_nat_gateway_deleted_by_hand_is_recreated_by_up() {
    let emu = Emulator::start();
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack_quick(&emu.endpoints());
    let yaml = ws.dir.join("Pulumi.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    let at = "      kubernetesVersion: \"1.34\"\n";
    assert!(text.contains(at), "{text}");
    std::fs::write(&yaml, text.replace(at, &format!("{at}      network:\n        natGateways: single\n"))).unwrap();
    let up = ws.pulumi(UP);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    let live_nats = "sorted(n['NatGatewayId'] for n in client('ec2').describe_nat_gateways()['NatGateways'] if n['State'] not in ('deleted', 'deleting'))";
    let res = cluster_resource(&ws).unwrap();
    let (step, old) = res["outputs"]["awsResources"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with("nat"))
        .map(|(k, v)| (k.clone(), v["id"].as_str().unwrap().to_string()))
        .unwrap_or_else(|| panic!("no NAT gateway recorded: {res}"));
    assert_eq!(emu.boto3(&format!("print({live_nats})")), format!("['{old}']"));

    emu.boto3(&format!("client('ec2').delete_nat_gateway(NatGatewayId='{old}')"));
    wait_for(&emu, "the NAT gateway to be deleted", &format!("{live_nats} == []"));
    let r = ws.pulumi(REFRESH);
    assert_eq!(r.code, Some(0), "refresh failed:\n{}", r.out);
    assert!(!recorded_steps(&cluster_resource(&ws).unwrap()).contains(&step), "refresh still records {step}");
    let up = ws.pulumi(UP);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    let res = cluster_resource(&ws).unwrap();
    let new = res["outputs"]["awsResources"][&step]["id"].as_str().unwrap_or_else(|| panic!("{step} is not recorded after up: {res}")).to_string();
    assert_ne!(new, old, "up recorded the NAT gateway deleted by hand");
    assert_eq!(emu.boto3(&format!("print({live_nats})")), format!("['{new}']"), "one live NAT gateway, the recorded one");
    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "changes left after up:\n{}", again.out);

    let destroy = ws.pulumi(DESTROY);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
    assert_eq!(emu.boto3(&format!("print({live_nats})")), "[]", "destroy left a NAT gateway");
}
