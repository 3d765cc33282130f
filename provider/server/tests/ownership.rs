//! Never adopt what isn't ours, through the real Pulumi CLI against the emulator:
//!
//! - a KMS alias and a log group with the cluster's names that someone else made (boto3, without
//!   our ownership tag) make `up` fail with an error naming them and the ways out; both are
//!   untouched afterwards, and `destroy` leaves them alone;
//! - two clusters with the same explicit name in two regions (two stacks) get their own IAM roles
//!   and ownership tags: destroying one leaves the other's roles and resources intact, and the
//!   other still refreshes with no changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::{Workspace, NOTHING_LEFT};
use common::emulator::Emulator;

/// A workspace of `tests/e2e/ownership` for cluster `name` in `region`, on the emulator.
fn workspace(emu: &Emulator, name: &str, region: &str) -> Workspace {
    let ws = Workspace::new("tests/e2e/ownership");
    ws.init_stack_quick(&emu.endpoints());
    for (k, v) in [("clusterName", name), ("secure-eks:region", region)] {
        let r = ws.pulumi(&["config", "set", k, v]);
        assert_eq!(r.code, Some(0), "config set {k}: {}", r.out);
    }
    ws
}

const UP: [&str; 4] = ["up", "--yes", "--non-interactive", "--skip-preview"];
const DESTROY: [&str; 4] = ["destroy", "--yes", "--non-interactive", "--skip-preview"];

/// The foreign key's state, where its alias points, whether it is tagged, and the foreign log
/// group's retention and tags.
fn foreign_state(emu: &Emulator, key: &str) -> String {
    emu.boto3(&format!(
        "kms = client('kms')\n\
         m = kms.describe_key(KeyId='{key}')['KeyMetadata']\n\
         a = [x.get('TargetKeyId') for x in kms.list_aliases()['Aliases'] if x['AliasName'] == 'alias/secure-eks/taken']\n\
         t = sorted(x['TagKey'] for x in kms.list_resource_tags(KeyId='{key}').get('Tags', []))\n\
         g = [x for x in client('logs').describe_log_groups(logGroupNamePrefix='/aws/eks/taken/cluster')['logGroups']]\n\
         gt = client('logs').list_tags_log_group(logGroupName='/aws/eks/taken/cluster')['tags'] if g else None\n\
         print(m['KeyState'], a == ['{key}'], t, len(g), g[0].get('retentionInDays') if g else None, sorted(gt or {{}}))"
    ))
}

/// Takes about 15 s (one failed `up`, one `destroy`).
#[test]
fn a_foreign_kms_alias_and_log_group_are_refused_and_left_untouched() {
    let emu = Emulator::start();
    let key = emu.boto3(
        "kms = client('kms')\n\
         k = kms.create_key(Description='another team', Tags=[{'TagKey': 'team', 'TagValue': 'other'}])['KeyMetadata']['KeyId']\n\
         kms.create_alias(AliasName='alias/secure-eks/taken', TargetKeyId=k)\n\
         logs = client('logs')\n\
         logs.create_log_group(logGroupName='/aws/eks/taken/cluster', tags={'team': 'other'})\n\
         logs.put_retention_policy(logGroupName='/aws/eks/taken/cluster', retentionInDays=5)\n\
         print(k)",
    );
    let before = foreign_state(&emu, &key);
    assert_eq!(before, "Enabled True ['team'] 1 5 ['team']");

    let ws = workspace(&emu, "taken", "us-east-1");
    let up = ws.pulumi(&UP);
    assert_ne!(up.code, Some(0), "up must refuse the foreign alias and log group:\n{}", up.out);
    let flat = up.out.replace('\n', " ");
    assert!(
        flat.contains(&format!("the KMS alias alias/secure-eks/taken (key {key}) already exists and is not ours (it has no secure-eks:cluster tag")),
        "the KMS alias is not named:\n{}",
        up.out
    );
    assert!(flat.contains("set encryption.kmsKeyArn to use this key"), "no way out for the key:\n{}", up.out);
    assert!(
        flat.contains("the log group /aws/eks/taken/cluster already exists and is not ours (it has no secure-eks:cluster tag"),
        "the log group is not named:\n{}",
        up.out
    );
    assert!(flat.contains("choose another clusterName") && flat.contains("`pulumi import`"), "no way out:\n{}", up.out);
    assert_eq!(foreign_state(&emu, &key), before, "the foreign key, alias or log group changed");

    // Whatever the failed up recorded is destroyed; the foreign resources stay as they were.
    let destroy = ws.pulumi(&DESTROY);
    assert_eq!(destroy.code, Some(0), "destroy failed:\n{}", destroy.out);
    assert_eq!(foreign_state(&emu, &key), before, "destroy touched the foreign key, alias or log group");
    // Nothing of ours is left (the one log group counted is the foreign one).
    assert_eq!(emu.leftovers(), NOTHING_LEFT.replace("logGroups=0", "logGroups=1"));
}

/// The IAM roles whose names start with `name-`, sorted, with their ownership tag.
fn roles(emu: &Emulator, name: &str) -> Vec<(String, String)> {
    let out = emu.boto3(&format!(
        "iam = client('iam')\n\
         for r in sorted(x['RoleName'] for x in iam.list_roles()['Roles'] if x['RoleName'].startswith('{name}-')):\n\
         \x20   t = {{x['Key']: x['Value'] for x in iam.list_role_tags(RoleName=r)['Tags']}}\n\
         \x20   print(r, t.get('secure-eks:cluster'))"
    ));
    out.lines().map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())).unwrap()).collect()
}

/// Takes about 40 s (two `up`s, a `refresh`, a preview, two `destroy`s).
#[test]
fn same_named_clusters_in_two_regions_keep_their_own_roles_and_resources() {
    let emu = Emulator::start();
    let east = workspace(&emu, "twin", "us-east-1");
    let west = workspace(&emu, "twin", "us-west-2");
    for (ws, region) in [(&east, "us-east-1"), (&west, "us-west-2")] {
        let up = ws.pulumi(&UP);
        assert_eq!(up.code, Some(0), "up in {region} failed:\n{}", up.out);
    }
    // Each region's cluster is owned by its own owner, and IAM holds two sets of roles.
    let all = roles(&emu, "twin");
    assert_eq!(all.len(), 8, "four roles per cluster (cluster, node, cluster autoscaler, the EBS CSI driver's Pod Identity role): {all:?}");
    let owners: std::collections::BTreeSet<&str> = all.iter().map(|(_, o)| o.as_str()).collect();
    assert_eq!(owners.len(), 2, "the two clusters share an ownership tag: {all:?}");
    assert!(owners.iter().any(|o| o.starts_with("twin@us-east-1/")) && owners.iter().any(|o| o.starts_with("twin@us-west-2/")), "{all:?}");
    for (name, _) in &all {
        assert!(name.len() <= 64 && ["-cluster", "-node", "-cluster-autoscaler", "-addon-aws-ebs-csi-driver"].iter().any(|s| name.ends_with(s)), "{name}");
    }
    // IAM roles and OIDC providers are global: compare the regional counts only.
    let regional = |region: &str| emu.leftovers_in(region).split(' ').filter(|t| !t.starts_with("roles=") && !t.starts_with("oidc=")).collect::<Vec<_>>().join(" ");
    let west_left = regional("us-west-2");
    assert!(west_left.contains("clusters=1") && west_left.contains("keys=1"), "{west_left}");
    let west_roles: Vec<(String, String)> = all.iter().filter(|(_, o)| o.starts_with("twin@us-west-2/")).cloned().collect();

    let destroy = east.pulumi(&DESTROY);
    assert_eq!(destroy.code, Some(0), "destroy in us-east-1 failed:\n{}", destroy.out);
    assert_eq!(roles(&emu, "twin"), west_roles, "destroying us-east-1 touched the us-west-2 roles");
    assert_eq!(regional("us-west-2"), west_left, "destroying us-east-1 touched us-west-2");
    assert_eq!(regional("us-east-1"), "vpcs=0 subnets=0 sgs=0 endpoints=0 launchTemplates=0 clusters=0 keys=0 logGroups=0 loadBalancers=0 targetGroups=0");
    let oidc = emu.boto3("print(len(client('iam').list_open_id_connect_providers()['OpenIDConnectProviderList']))");
    assert_eq!(oidc, "1", "the us-west-2 OIDC provider must survive");

    // The other cluster still refreshes with no changes, and previews none.
    let refresh = west.pulumi(&["refresh", "--yes", "--non-interactive", "--skip-preview", "--expect-no-changes"]);
    assert_eq!(refresh.code, Some(0), "refresh of us-west-2 shows changes:\n{}", refresh.out);
    let preview = west.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(preview.code, Some(0), "preview of us-west-2 shows changes:\n{}", preview.out);

    let destroy = west.pulumi(&DESTROY);
    assert_eq!(destroy.code, Some(0), "destroy in us-west-2 failed:\n{}", destroy.out);
    assert_eq!(emu.leftovers_in("us-west-2"), NOTHING_LEFT);
    assert_eq!(emu.leftovers_in("us-east-1"), NOTHING_LEFT);
}
