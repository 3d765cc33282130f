//! Issue #14 end to end through the real Pulumi CLI against the local AWS emulator: one lean
//! lifecycle checks the day-two controls together (create, a refused destroy, update, destroy).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::{Workspace, NOTHING_LEFT};
use common::emulator::Emulator;

const DESCRIBE: &str = "eks = client('eks')\n\
c = eks.describe_cluster(name='daytwo-demo')['cluster']\n\
g = eks.describe_nodegroup(clusterName='daytwo-demo', nodegroupName='general')['nodegroup']\n\
gpu = eks.describe_nodegroup(clusterName='daytwo-demo', nodegroupName='gpu')['nodegroup']\n\
ebs = eks.describe_addon(clusterName='daytwo-demo', addonName='aws-ebs-csi-driver')['addon']\n\
eks.describe_addon(clusterName='daytwo-demo', addonName='metrics-server')\n\
sas = sorted(a['serviceAccount'] for a in eks.list_pod_identity_associations(clusterName='daytwo-demo')['associations'])\n\
print(c['upgradePolicy']['supportType'], c['zonalShiftConfig']['enabled'], c['deletionProtection'], g['updateConfig'], g['nodeRepairConfig']['enabled'], gpu['updateConfig'], gpu['amiType'], gpu['releaseVersion'], len(ebs['podIdentityAssociations']), sas)";

/// The addon roles (Pod Identity) that exist.
const ADDON_ROLES: &str = "print(sorted(r['RoleName'].split('-addon-')[1] for r in client('iam').list_roles()['Roles'] if '-addon-' in r['RoleName']))";

#[test]
fn day_two_controls_create_refuse_a_protected_destroy_update_and_destroy_everything() {
    let emu = Emulator::start();
    let ws = Workspace::new("tests/e2e/daytwo");
    ws.init_stack(&emu.endpoints());
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    assert_eq!(
        emu.boto3(DESCRIBE),
        "STANDARD True True {'maxUnavailable': 1} True {'maxUnavailablePercentage': 33} AL2023_x86_64_NVIDIA 1.34.0-20261101 1 ['ebs-csi-controller-sa']"
    );
    assert_eq!(emu.boto3(ADDON_ROLES), "['aws-ebs-csi-driver']");

    // Deletion protection: destroy refuses before deleting anything and says how to turn it off.
    let refused = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_ne!(refused.code, Some(0), "destroy of a protected cluster must fail:\n{}", refused.out);
    assert!(refused.out.contains("deletion protection is on") && refused.out.contains("deletionProtection: false"), "{}", refused.out);
    let nodegroups = "print(len(client('eks').list_nodegroups(clusterName='daytwo-demo')['nodegroups']), len(client('eks').list_addons(clusterName='daytwo-demo')['addons']))";
    assert_eq!(emu.boto3(nodegroups), "2 6", "nothing may be deleted while the cluster is protected");

    // Update in place: protection off, extended support (a warning), the GPU group rolled to a new AMI release.
    for (k, v) in [("protect", "false"), ("support", "EXTENDED"), ("release", "1.34.0-20261201")] {
        let r = ws.pulumi(&["config", "set", k, v]);
        assert_eq!(r.code, Some(0), "{}", r.out);
    }
    let preview = ws.pulumi(&["preview", "--non-interactive", "--diff"]);
    assert_eq!(preview.code, Some(0), "{}", preview.out);
    assert!(preview.out.contains("SEKS-CP-010") && !preview.out.contains("replace"), "{}", preview.out);
    let up2 = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up2.code, Some(0), "update failed:\n{}", up2.out);
    assert_eq!(
        emu.boto3(DESCRIBE),
        "EXTENDED True False {'maxUnavailable': 1} True {'maxUnavailablePercentage': 33} AL2023_x86_64_NVIDIA 1.34.0-20261201 1 ['ebs-csi-controller-sa']"
    );
    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "{}", again.out);

    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
    assert_eq!(emu.boto3(ADDON_ROLES), "[]");
}

/// EKS Auto Mode through the CLI: the example creates a cluster with compute, block storage and
/// load balancing on, the Auto Mode roles, no core addons and no node groups; destroy leaves nothing.
#[test]
fn auto_mode_example_creates_an_auto_mode_cluster_and_destroys_everything() {
    let emu = Emulator::start();
    let ws = Workspace::new("examples/yaml-auto-mode");
    ws.init_stack(&emu.endpoints());
    let preview = ws.pulumi(&["preview", "--non-interactive"]);
    assert_eq!(preview.code, Some(0), "{}", preview.out);
    assert!(preview.out.contains("SEKS-AUTO-001") && preview.out.contains("checks skipped for EKS Auto Mode"), "{}", preview.out);
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    let name = ws.pulumi(&["stack", "output", "clusterName"]).out.trim().to_string();
    let got = emu.boto3(&format!(
        "eks, iam = client('eks'), client('iam')\n\
c = eks.describe_cluster(name='{name}')['cluster']\n\
cc = c['computeConfig']\n\
pol = lambda arn: sorted(p['PolicyName'] for p in iam.list_attached_role_policies(RoleName=arn.split('/')[-1])['AttachedPolicies'])\n\
print(cc['enabled'], cc['nodePools'], c['storageConfig']['blockStorage']['enabled'], c['kubernetesNetworkConfig']['elasticLoadBalancing']['enabled'])\n\
print(pol(c['roleArn']))\n\
print(pol(cc['nodeRoleArn']))\n\
print(eks.list_addons(clusterName='{name}')['addons'], eks.list_nodegroups(clusterName='{name}')['nodegroups'])"
    ));
    assert_eq!(
        got,
        "True ['general-purpose', 'system'] True True\n\
['AmazonEKSBlockStoragePolicy', 'AmazonEKSClusterPolicy', 'AmazonEKSComputePolicy', 'AmazonEKSLoadBalancingPolicy', 'AmazonEKSNetworkingPolicy', 'AmazonEKSVPCResourceController']\n\
['AmazonEC2ContainerRegistryPullOnly', 'AmazonEKSWorkerNodeMinimalPolicy']\n\
['metrics-server'] []"
    );
    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "{}", again.out);
    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}
