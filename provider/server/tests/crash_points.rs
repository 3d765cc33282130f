//! `kill -9` of the provider through the real Pulumi CLI against the emulator.
//!
//! During a create: after the VPC exists, after the EKS cluster exists, and while the node group
//! is being waited for. Each time the next `up` converges with no duplicates, `refresh` shows no
//! drift, and `destroy` leaves nothing. As in `e2e_cli.rs`, the engine records the interrupted
//! create as pending: `refresh --clear-pending-creates` drops it, and the next `up` adopts what
//! exists by tags and names (stable autonames, stable step ids).
//!
//! Beyond create, on one stack: during an update (a second node group being waited for), then
//! `up` again; during a refresh, then `refresh` again; during a destroy (the cluster being
//! deleted), then `destroy` again, which must leave nothing.
//!
//! A latency rule on the call *after* the point holds the provider there (the emulator is
//! otherwise too fast to catch); the test polls the emulator (boto3, or its request log) until
//! the point is reached, then kills every provider process of the workspace.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::cli::{provider_pids, Workspace, NOTHING_LEFT, ONE_MINIMAL_CLUSTER};
use common::emulator::Emulator;
use serde_json::json;

/// One crash point: the latency rule that holds the provider, and the boto3 expression that is
/// `True` once the point is reached (and the next resource does not exist yet).
struct Point {
    name: &'static str,
    hold: serde_json::Value,
    reached: &'static str,
}

fn points() -> Vec<Point> {
    vec![
        Point {
            name: "after the VPC",
            // The pod CIDR association and the subnets come right after the VPC.
            hold: json!({"match": "AssociateVpcCidrBlock|CreateSubnet", "status": 0, "delay_ms": 15000, "count": -1}),
            reached: "len(client('ec2').describe_vpcs(Filters=[{'Name': 'tag-key', 'Values': ['secure-eks:cluster']}])['Vpcs']) == 1 \
                      and not client('eks').list_clusters()['clusters']",
        },
        Point {
            name: "after the cluster",
            // The OIDC provider and the addons come after the cluster.
            hold: json!({"match": "CreateOpenIDConnectProvider|^POST /clusters/[^/ ]+/addons ", "status": 0, "delay_ms": 15000, "count": -1}),
            reached: "len(client('eks').list_clusters()['clusters']) == 1 \
                      and not client('iam').list_open_id_connect_providers()['OpenIDConnectProviderList']",
        },
        Point {
            name: "during the node group",
            // Every DescribeNodegroup (the ACTIVE waiter) is slow.
            hold: json!({"match": "^GET /clusters/[^/ ]+/node-groups/[^/ ]+ ", "status": 0, "delay_ms": 8000, "count": -1}),
            reached: "any(client('eks').list_nodegroups(clusterName=c)['nodegroups'] for c in client('eks').list_clusters()['clusters'])",
        },
    ]
}

const UP: &[&str] = &["up", "--yes", "--non-interactive", "--skip-preview"];
const REFRESH: &[&str] = &["refresh", "--yes", "--non-interactive", "--skip-preview"];
const DESTROY: &[&str] = &["destroy", "--yes", "--non-interactive", "--skip-preview"];

/// Run `pulumi <args>` and kill -9 every provider process of the workspace once `reached()`
/// holds; the command must then fail. The emulator's fault rules are cleared afterwards.
fn kill_at(emu: &Emulator, ws: &Workspace, args: &[&str], what: &str, reached: impl Fn() -> bool) -> Vec<u32> {
    let mut cmd = ws.spawn_pulumi(args);
    let dir = ws.dir.canonicalize().unwrap();
    let start = Instant::now();
    let mut killed = Vec::new();
    while start.elapsed() < Duration::from_secs(180) && killed.is_empty() {
        if reached() {
            for pid in provider_pids(&dir) {
                let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
                killed.push(pid);
            }
        }
        if cmd.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!killed.is_empty(), "{what}: never saw the provider at the crash point");
    let status = cmd.wait().unwrap();
    assert!(!status.success(), "{what}: `pulumi {}` must fail when its provider is killed", args[0]);
    emu.clear_faults();
    killed
}

/// True once a request whose key (`METHOD PATH TARGET ACTION`) satisfies `m` has arrived at the
/// emulator, answered or still in flight.
fn arrived(emu: &Emulator, m: impl Fn(&str) -> bool) -> bool {
    emu.requests().iter().any(|(key, _, _)| m(key))
}

/// The EKS cluster path of a request key (`/clusters/<name>`, nothing below it).
fn is_cluster_call(key: &str, method: &str) -> bool {
    let mut parts = key.split(' ');
    parts.next() == Some(method) && parts.next().is_some_and(|p| p.starts_with("/clusters/") && p.matches('/').count() == 2)
}

fn crash_at(emu: &Emulator, p: &Point) {
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack_quick(&emu.endpoints());
    emu.fault(p.hold.clone());
    let start = Instant::now();
    let killed = kill_at(emu, &ws, UP, p.name, || emu.boto3(&format!("print({})", p.reached)) == "True");
    eprintln!("{}: killed {killed:?} after {:?}; state then: {}", p.name, start.elapsed(), emu.leftovers());

    let r = ws.pulumi(&[REFRESH, &["--clear-pending-creates"]].concat());
    assert_eq!(r.code, Some(0), "{}: refresh --clear-pending-creates:\n{}", p.name, r.out);
    let up2 = ws.pulumi(UP);
    assert_eq!(up2.code, Some(0), "{}: the next up failed:\n{}", p.name, up2.out);
    assert_eq!(emu.leftovers(), ONE_MINIMAL_CLUSTER, "{}: no duplicates after the crash", p.name);
    let ngs = emu.boto3("e = client('eks')\nprint(sum(len(e.list_nodegroups(clusterName=c)['nodegroups']) for c in e.list_clusters()['clusters']))");
    assert_eq!(ngs, "1", "{}: one node group", p.name);
    let refresh = ws.pulumi(&[REFRESH, &["--expect-no-changes"]].concat());
    assert_eq!(refresh.code, Some(0), "{}: drift after the crash:\n{}", p.name, refresh.out);
    let destroy = ws.pulumi(DESTROY);
    assert_eq!(destroy.code, Some(0), "{}: destroy:\n{}", p.name, destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT, "{}: destroy left something", p.name);
}

#[test]
fn kill_9_after_the_vpc_the_cluster_and_during_the_node_group_then_up_converges() {
    let emu = Emulator::start();
    for p in points() {
        let t = Instant::now();
        emu.reset();
        crash_at(&emu, &p);
        eprintln!("{}: crash, recovery and destroy in {:?}", p.name, t.elapsed());
    }
}

/// kill -9 during an update, a refresh and a destroy of one stack, each followed by what a user
/// runs next (`up`, `refresh`, `destroy` again); the stack converges each time and the last
/// `destroy` leaves nothing.
#[test]
fn kill_9_during_update_refresh_and_destroy_then_the_users_next_run_recovers() {
    let emu = Emulator::start();
    let (ws, name) = Workspace::minimal_cluster_up(&emu.endpoints());
    let two_groups = ONE_MINIMAL_CLUSTER.replace("launchTemplates=1", "launchTemplates=2");

    // Update: a second node group; killed while its waiter is held (it exists in AWS, the
    // stack does not know it yet).
    let t = Instant::now();
    let yaml = ws.dir.join("Pulumi.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    let group = "          instanceTypes: [\"m7g.large\", \"m6g.large\"]";
    assert!(text.contains(group), "{text}");
    std::fs::write(&yaml, text.replace(group, &format!("{group}\n        - name: batch\n          instanceTypes: [\"m7g.large\"]"))).unwrap();
    emu.fault(json!({"match": "^GET /clusters/[^/ ]+/node-groups/batch ", "status": 0, "count": 1}));
    emu.fault(json!({"match": "^GET /clusters/[^/ ]+/node-groups/batch ", "status": 0, "delay_ms": 15000, "count": -1}));
    emu.clear_requests();
    kill_at(&emu, &ws, UP, "update", || arrived(&emu, |k| k.starts_with("POST /clusters/") && k.contains("/node-groups ")));
    let up = ws.pulumi(UP);
    assert_eq!(up.code, Some(0), "update: the next up failed:\n{}", up.out);
    assert_eq!(emu.leftovers(), two_groups, "update: no duplicates after the crash");
    let ngs = emu.boto3(&format!("print(sorted(client('eks').list_nodegroups(clusterName='{name}')['nodegroups']))"));
    assert_eq!(ngs, "['batch', 'general']", "update: two node groups");
    let clean = ws.pulumi(&[REFRESH, &["--expect-no-changes"]].concat());
    assert_eq!(clean.code, Some(0), "update: drift after the crash:\n{}", clean.out);
    eprintln!("kill -9 during update and recovery in {:?}", t.elapsed());

    // Refresh: killed while DescribeCluster is held.
    let t = Instant::now();
    emu.fault(json!({"match": "^GET /clusters/[^/ ]+ ", "status": 0, "delay_ms": 15000, "count": -1}));
    emu.clear_requests();
    kill_at(&emu, &ws, REFRESH, "refresh", || arrived(&emu, |k| is_cluster_call(k, "GET")));
    let again = ws.pulumi(&[REFRESH, &["--expect-no-changes"]].concat());
    assert_eq!(again.code, Some(0), "refresh: the next refresh failed or found changes:\n{}", again.out);
    let preview = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(preview.code, Some(0), "refresh: changes after the crash:\n{}", preview.out);
    assert_eq!(emu.leftovers(), two_groups, "refresh changed AWS");
    eprintln!("kill -9 during refresh and recovery in {:?}", t.elapsed());

    // Destroy: killed once DeleteCluster was sent (the node groups are gone by then, the VPC,
    // roles and key still exist).
    let t = Instant::now();
    emu.fault(json!({"match": "^DELETE /clusters/[^/ ]+ ", "status": 0, "delay_ms": 15000, "count": 1}));
    emu.clear_requests();
    kill_at(&emu, &ws, DESTROY, "destroy", || arrived(&emu, |k| is_cluster_call(k, "DELETE")));
    assert_ne!(emu.leftovers(), NOTHING_LEFT, "destroy: killed too late to test anything");
    let destroy = ws.pulumi(DESTROY);
    assert_eq!(destroy.code, Some(0), "destroy: the next destroy failed:\n{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT, "destroy left something after the crash");
    eprintln!("kill -9 during destroy and recovery in {:?}", t.elapsed());
}
