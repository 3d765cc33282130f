//! Issue #13, day one: the deploying principal can use the cluster. Through the real CLI against
//! the emulator: create, update, destroy with nothing left.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::{Workspace, NOTHING_LEFT, ONE_MINIMAL_CLUSTER};
use common::emulator::Emulator;

/// The emulator's caller (an IAM user, as STS GetCallerIdentity reports one).
const DEPLOYER: &str = "arn:aws:iam::123456789012:user/moto";

/// `principal policy-arn` per access entry of `cluster`.
fn access(emu: &Emulator, cluster: &str) -> String {
    emu.boto3(&format!(
        "eks = client('eks')\n\
         for p in eks.list_access_entries(clusterName='{cluster}')['accessEntries']:\n\
         \x20   for a in eks.list_associated_access_policies(clusterName='{cluster}', principalArn=p)['associatedAccessPolicies']:\n\
         \x20       print(p, a['policyArn'].rsplit('/', 1)[1], a['accessScope']['type'])"
    ))
}

#[test]
fn the_deployer_is_cluster_admin_by_default_and_one_input_turns_it_off() {
    let emu = Emulator::start();
    let ws = Workspace::new("tests/e2e/dayone");
    ws.init_stack_quick(&emu.endpoints());

    // Preview shows who becomes admin (an AWS-backed fact from STS).
    let preview = ws.pulumi(&["preview", "--non-interactive", "--diff"]);
    assert_eq!(preview.code, Some(0), "{}", preview.out);
    assert!(preview.out.contains(DEPLOYER), "the preview does not name the deployer:\n{}", preview.out);

    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    assert_eq!(emu.leftovers(), ONE_MINIMAL_CLUSTER);
    let name = ws.pulumi(&["stack", "output", "clusterName"]).out.trim().to_string();
    assert_eq!(access(&emu, &name).trim(), format!("{DEPLOYER} AmazonEKSClusterAdminPolicy cluster"));
    let admins = ws.pulumi(&["stack", "output", "admins", "--json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&admins.out).unwrap(), serde_json::json!([DEPLOYER]), "{}", admins.out);
    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "a second preview shows changes:\n{}", again.out);

    // Off: the preview warns that nobody is admin, and `up` removes the entry.
    assert_eq!(ws.pulumi(&["config", "set", "deployerAdmin", "false"]).code, Some(0));
    let off = ws.pulumi(&["preview", "--non-interactive"]);
    assert_eq!(off.code, Some(0), "{}", off.out);
    assert!(off.out.contains("SEKS-IAM-030"), "no warning for a cluster without admin:\n{}", off.out);
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    assert_eq!(access(&emu, &name).trim(), "", "the deployer's entry is still there");

    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "destroy failed:\n{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}
