//! `kill -9` of the provider at several points of a create, through the real Pulumi CLI against
//! the emulator: after the VPC exists, after the EKS cluster exists, and while the node group is
//! being waited for. Each time the next `up` converges with no duplicates, `refresh` shows no
//! drift, and `destroy` leaves nothing.
//!
//! A latency rule on the call *after* the point holds the provider there (the emulator is
//! otherwise too fast to catch); the test polls the emulator (boto3) until the point's resource
//! exists, then kills every provider process of the workspace. As in `e2e_cli.rs`, the engine
//! records the interrupted create as pending: `refresh --clear-pending-creates` drops it, and the
//! next `up` adopts what exists by tags and names (stable autonames, stable step ids).
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

fn crash_at(emu: &Emulator, p: &Point) {
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack_quick(&emu.endpoints());
    emu.fault(p.hold.clone());
    let mut up = ws.spawn_pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    let dir = ws.dir.canonicalize().unwrap();
    let start = Instant::now();
    let mut killed = Vec::new();
    while start.elapsed() < Duration::from_secs(120) && killed.is_empty() {
        if emu.boto3(&format!("print({})", p.reached)) == "True" {
            for pid in provider_pids(&dir) {
                let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
                killed.push(pid);
            }
        }
        if up.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!killed.is_empty(), "{}: never saw the provider at the crash point", p.name);
    let status = up.wait().unwrap();
    assert!(!status.success(), "{}: up must fail when its provider is killed", p.name);
    emu.clear_faults();
    eprintln!("{}: killed {killed:?} after {:?}; state then: {}", p.name, start.elapsed(), emu.leftovers());

    let r = ws.pulumi(&["refresh", "--yes", "--non-interactive", "--skip-preview", "--clear-pending-creates"]);
    assert_eq!(r.code, Some(0), "{}: refresh --clear-pending-creates:\n{}", p.name, r.out);
    let up2 = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up2.code, Some(0), "{}: the next up failed:\n{}", p.name, up2.out);
    assert_eq!(emu.leftovers(), ONE_MINIMAL_CLUSTER, "{}: no duplicates after the crash", p.name);
    let ngs = emu.boto3("e = client('eks')\nprint(sum(len(e.list_nodegroups(clusterName=c)['nodegroups']) for c in e.list_clusters()['clusters']))");
    assert_eq!(ngs, "1", "{}: one node group", p.name);
    let refresh = ws.pulumi(&["refresh", "--yes", "--non-interactive", "--skip-preview", "--expect-no-changes"]);
    assert_eq!(refresh.code, Some(0), "{}: drift after the crash:\n{}", p.name, refresh.out);
    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
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
