//! End to end through the real Pulumi CLI (v3.259.0, built from its Go modules), offline, with a
//! file backend, against the local AWS emulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::{plugin_dir, provider_pids, pulumi_bin, users_vpc, Workspace, NOTHING_LEFT, ONE_MINIMAL_CLUSTER};
use common::emulator::Emulator;

/// Issue #12's done-when for the `up` of an example: the emulator's resources take simulated
/// minutes, so the output shows the provider's progress lines while it waits, and the run ends
/// with every node group and coredns ACTIVE (told by boto3, not by our code).
fn assert_up_waited_and_ended_active(emu: &Emulator, ws: &Workspace, up: &str) {
    assert!(up.contains("waiting for"), "no progress line while waiting:\n{up}");
    let name = ws.pulumi(&["stack", "output", "clusterName"]).out.trim().to_string();
    emu.assert_cluster_active("us-east-1", &name);
}

#[test]
fn yaml_minimal_previews_a_cluster_to_create() {
    let emu = Emulator::start();
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack(&emu.endpoints());
    let r = ws.pulumi(&["preview", "--non-interactive", "--diff"]);
    assert_eq!(r.code, Some(0), "preview failed:\n{}", r.out);
    assert!(r.out.contains("secure-eks:index:SecureEksCluster"), "{}", r.out);
    assert!(r.out.contains("+ secure-eks:index:SecureEksCluster"), "{}", r.out);
    // Defaults are visible in the plan.
    assert!(r.out.contains("imdsHopLimit"), "{}", r.out);
    // The kubeconfig output is secret.
    assert!(!r.out.contains("apiVersion: v1"), "{}", r.out);
}

#[test]
fn bad_program_is_refused_at_preview_with_rule_path_and_fix() {
    let emu = Emulator::start();
    let ws = Workspace::new("tests/e2e/bad-imds");
    ws.init_stack(&emu.endpoints());
    let r = ws.pulumi(&["preview", "--non-interactive"]);
    assert_ne!(r.code, Some(0), "preview must fail:\n{}", r.out);
    assert!(r.out.contains("SEKS-NODE-003"), "{}", r.out);
    assert!(r.out.contains("nodeGroups[0].imdsHopLimit"), "{}", r.out);
    assert!(r.out.contains("Fix:"), "{}", r.out);
}

#[test]
fn wrong_account_is_refused_at_configure() {
    let emu = Emulator::start();
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack(&emu.endpoints());
    let r = ws.pulumi(&["config", "set", "--path", "secure-eks:allowedAccountIds[0]", "111111111111"]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    let r = ws.pulumi(&["preview", "--non-interactive"]);
    assert_ne!(r.code, Some(0), "{}", r.out);
    assert!(r.out.contains("allowedAccountIds") && r.out.contains("123456789012"), "{}", r.out);
}

#[test]
fn package_get_schema_binds_the_schema() {
    let out = std::process::Command::new(pulumi_bin().join("pulumi"))
        .args(["package", "get-schema"])
        .arg(plugin_dir().join("pulumi-resource-secure-eks"))
        .env("PULUMI_SKIP_UPDATE_CHECK", "true")
        .env("PULUMI_HOME", std::env::temp_dir().join(format!("seks-gs-{}", std::process::id())))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "get-schema failed: {stderr}");
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["name"], "secure-eks");
    assert!(!stderr.contains("failed to bind"), "{stderr}");
}

#[test]
fn yaml_minimal_up_is_idempotent_keeps_secrets_refreshes_and_destroys_everything() {
    let emu = Emulator::start();
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack(&emu.endpoints());
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    assert_eq!(emu.leftovers(), ONE_MINIMAL_CLUSTER, "after up");
    assert_up_waited_and_ended_active(&emu, &ws, &up.out);

    // A second up changes nothing.
    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "second preview shows changes:\n{}", again.out);

    // The kubeconfig is a secret output, and it is encrypted in the state file.
    let out = ws.pulumi(&["stack", "output", "kubeconfig"]);
    assert!(out.out.contains("[secret]"), "{}", out.out);
    let shown = ws.pulumi(&["stack", "output", "kubeconfig", "--show-secrets"]);
    assert!(shown.out.contains("get-token"), "{}", shown.out);
    let state = std::fs::read_dir(ws.root.join("state/.pulumi/stacks"))
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .filter_map(|f| std::fs::read_to_string(f.path()).ok())
        .collect::<String>();
    assert!(!state.is_empty(), "no state file found");
    assert!(!state.contains("get-token"), "kubeconfig is stored in plaintext");

    let refresh = ws.pulumi(&["refresh", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(refresh.code, Some(0), "refresh failed:\n{}", refresh.out);

    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "destroy failed:\n{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT, "after destroy");
}

#[test]
fn aws_backed_check_refuses_an_instance_type_the_region_does_not_offer() {
    let emu = Emulator::start();
    let ws = Workspace::new("tests/e2e/bad-instance-type");
    ws.init_stack(&emu.endpoints());
    let r = ws.pulumi(&["preview", "--non-interactive"]);
    assert_ne!(r.code, Some(0), "preview must fail:\n{}", r.out);
    assert!(r.out.contains("SEKS-NODE-012") && r.out.contains("m6g.huge9"), "{}", r.out);
}

#[test]
fn secrets_never_appear_in_state_or_logs() {
    let emu = Emulator::start();
    // The minimal cluster plus a userData literal in plain text: secret by the schema.
    let ws = Workspace::new("tests/e2e/secret-scan");
    ws.init_stack(&emu.endpoints());
    const SECRET_KEY: &str = "s3cr3t-value-for-the-secret-scan";
    const ACCESS_KEY: &str = "AKIASECRETSCAN00001";
    const EXTERNAL_ID: &str = "external-id-for-the-secret-scan";
    const USER_DATA: &str = "userdata-secret-for-the-scan";
    for (k, v) in [("secure-eks:accessKey", ACCESS_KEY), ("secure-eks:secretKey", SECRET_KEY), ("secure-eks:assumeRole.externalId", EXTERNAL_ID)] {
        let r = ws.pulumi(&["config", "set", "--path", "--secret", k, v]);
        assert_eq!(r.code, Some(0), "{}", r.out);
    }
    let r = ws.pulumi(&["config", "set", "--path", "secure-eks:assumeRole.roleArn", "arn:aws:iam::123456789012:role/deploy"]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview", "-v=9", "--logtostderr", "--logflow"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out.chars().rev().take(4000).collect::<String>().chars().rev().collect::<String>());
    let shown = ws.pulumi(&["stack", "output", "kubeconfig", "--show-secrets"]);
    let ca_line = shown.out.lines().find(|l| l.contains("certificate-authority-data")).unwrap_or("").trim().to_string();
    assert!(!ca_line.is_empty(), "{}", shown.out);
    let export = ws.pulumi(&["stack", "export"]);
    assert_eq!(export.code, Some(0));
    // The engine's own -v=9 protocol dump ("Marshaling/Unmarshaling property for RPC[...]")
    // prints every field it (un)marshals, the inside of secret objects included. That is the
    // Pulumi engine's logging, not ours: those lines are left out; every other line (our
    // provider's stderr, engine diagnostics, the CLI's output) must be clean.
    let logs: String = up
        .out
        .lines()
        .filter(|l| !l.contains("arshaling property for RPC["))
        .collect::<Vec<_>>()
        .join("\n");
    // The program has the user data in plain text; the engine's own dump of the program's
    // registration (before our Check marks it secret) is the engine's, like the lines above.
    assert!(export.out.contains("userData"), "no userData in the state: the scan below proves nothing");
    for (what, text) in [("state export", &export.out), ("provider and engine logs (-v=9)", &logs)] {
        for (name, secret) in [("secretKey", SECRET_KEY), ("accessKey", ACCESS_KEY), ("assumeRole.externalId", EXTERNAL_ID), ("userData", USER_DATA)] {
            if what != "state export" && name == "userData" {
                // The program's own registration carries it in plain text in the engine's log.
                continue;
            }
            let leaks: Vec<&str> = text.lines().filter(|l| l.contains(secret)).map(|l| &l[..l.len().min(300)]).take(5).collect();
            assert!(leaks.is_empty(), "{name} in plaintext in {what}:\n{}", leaks.join("\n"));
        }
        assert!(!text.contains(&ca_line), "kubeconfig in plaintext in {what}");
        assert!(!text.contains("get-token"), "kubeconfig in plaintext in {what}");
    }
    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
}

#[test]
fn changing_desired_size_updates_in_place() {
    let emu = Emulator::start();
    let ws = Workspace::new("tests/e2e/resize");
    ws.init_stack(&emu.endpoints());
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    let desired = || emu.boto3("print(client('eks').describe_nodegroup(clusterName='resize-demo', nodegroupName='general')['nodegroup']['scalingConfig']['desiredSize'])");
    assert_eq!(desired(), "2");
    let r = ws.pulumi(&["config", "set", "desired", "3"]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    let preview = ws.pulumi(&["preview", "--non-interactive", "--diff"]);
    assert_eq!(preview.code, Some(0), "{}", preview.out);
    assert!(preview.out.contains("~ secure-eks:index:SecureEksCluster") && preview.out.contains("~ 1 to update"), "{}", preview.out);
    assert!(!preview.out.contains("replace"), "a size change must not replace:\n{}", preview.out);
    let up2 = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up2.code, Some(0), "update failed:\n{}", up2.out);
    assert_eq!(desired(), "3");
    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "{}", again.out);
    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}

#[test]
fn byo_vpc_up_update_refresh_destroy_leaves_the_users_vpc_alone() {
    let emu = Emulator::start();
    let ids = users_vpc(&emu);
    let ws = Workspace::new("examples/yaml-byo-vpc");
    ws.init_stack(&emu.endpoints());
    ws.set_byo_vpc(&ids);
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    assert!(up.out.contains("waived SEKS-REL-001"), "the applied waiver is printed:\n{}", up.out);
    assert_up_waited_and_ended_active(&emu, &ws, &up.out);
    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "{}", again.out);
    let refresh = ws.pulumi(&["refresh", "--yes", "--non-interactive", "--skip-preview", "--expect-no-changes"]);
    assert_eq!(refresh.code, Some(0), "refresh shows drift:\n{}", refresh.out);
    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
    let still = emu.boto3(&format!(
        "ec2 = client('ec2')\nprint(len(ec2.describe_vpcs(VpcIds=['{}'])['Vpcs']), len(ec2.describe_subnets(SubnetIds=['{}', '{}'])['Subnets']))",
        ids[0], ids[1], ids[2]
    ));
    assert_eq!(still, "1 2", "the user's VPC and subnets must survive destroy");
}


#[test]
fn kill_9_mid_create_then_up_converges_without_duplicates() {
    let emu = Emulator::start();
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack(&emu.endpoints());
    // CreateCluster takes 4 s: the provider is killed while the network already exists.
    emu.fault(serde_json::json!({"match": "^POST /clusters ", "status": 0, "delay_ms": 4000, "count": 1}));
    let mut up = ws.spawn_pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    let start = std::time::Instant::now();
    let mut killed = false;
    while start.elapsed() < std::time::Duration::from_secs(60) {
        let vpcs = emu.boto3("print(len(client('ec2').describe_vpcs(Filters=[{'Name': 'tag-key', 'Values': ['secure-eks:cluster']}])['Vpcs']))");
        if vpcs == "1" {
            std::thread::sleep(std::time::Duration::from_millis(500));
            for pid in provider_pids(&ws.dir.canonicalize().unwrap()) {
                let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
                killed = true;
            }
            if killed {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(killed, "never saw the provider mid-create");
    let status = up.wait().unwrap();
    assert!(!status.success(), "up must fail when its provider is killed");
    emu.clear_faults();
    // The engine recorded a pending create; clear it, then `up` again: adoption by tags and names.
    let r = ws.pulumi(&["refresh", "--yes", "--non-interactive", "--skip-preview", "--clear-pending-creates"]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    let up2 = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up2.code, Some(0), "second up failed:\n{}", up2.out);
    assert_eq!(emu.leftovers(), ONE_MINIMAL_CLUSTER, "no duplicates after the crash");
    let refresh = ws.pulumi(&["refresh", "--yes", "--non-interactive", "--skip-preview", "--expect-no-changes"]);
    assert_eq!(refresh.code, Some(0), "drift after the crash:\n{}", refresh.out);
    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}

/// Drift: the public endpoint turned on by hand (outside Pulumi) shows in `refresh` and as an
/// input diff at the next preview; `up` turns it off again; then nothing differs.
#[test]
fn public_endpoint_turned_on_by_hand_shows_as_drift_and_up_reverts_it() {
    let emu = Emulator::start();
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack(&emu.endpoints());
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    let name = ws.pulumi(&["stack", "output", "clusterName"]).out.trim().to_string();
    let public = || emu.boto3(&format!("print(client('eks').describe_cluster(name='{name}')['cluster']['resourcesVpcConfig']['endpointPublicAccess'])"));
    assert_eq!(public(), "False");

    // A refresh right after up sees nothing new.
    let clean = ws.pulumi(&["refresh", "--yes", "--non-interactive", "--skip-preview", "--expect-no-changes"]);
    assert_eq!(clean.code, Some(0), "refresh after up shows changes:\n{}", clean.out);

    // Someone opens the API to the internet in the console.
    emu.boto3(&format!(
        "client('eks').update_cluster_config(name='{name}', resourcesVpcConfig={{'endpointPublicAccess': True, 'endpointPrivateAccess': True, 'publicAccessCidrs': ['0.0.0.0/0']}})"
    ));
    assert_eq!(public(), "True");

    let refresh = ws.pulumi(&["refresh", "--yes", "--non-interactive", "--skip-preview", "--diff"]);
    assert_eq!(refresh.code, Some(0), "refresh failed:\n{}", refresh.out);
    assert!(refresh.out.contains("apiAccess") && refresh.out.contains("false => true"), "refresh does not show the endpoint drift:\n{}", refresh.out);

    // The next preview shows the input diff against the program: an in-place update, no replace.
    let preview = ws.pulumi(&["preview", "--non-interactive", "--diff"]);
    assert_eq!(preview.code, Some(0), "{}", preview.out);
    assert!(preview.out.contains("apiAccess") && preview.out.contains("public"), "preview does not show the drift:\n{}", preview.out);
    assert!(!preview.out.contains("replace"), "drift must not replace:\n{}", preview.out);

    let fix = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(fix.code, Some(0), "up failed:\n{}", fix.out);
    assert_eq!(public(), "False", "up did not turn the public endpoint off");
    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "{}", again.out);

    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}

/// Partial failure through the real CLI: node group creation fails after everything before it
/// exists; `up` reports the partial state (the engine keeps the resource with its outputs), the
/// next `up` finishes the job, and nothing exists twice.
#[test]
fn node_group_failure_leaves_partial_state_and_the_next_up_completes_without_duplicates() {
    let emu = Emulator::start();
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack(&emu.endpoints());
    emu.fault(serde_json::json!({"match": "^POST /clusters/[^/]+/node-groups ", "status": 400, "code": "InvalidParameterException", "message": "injected: no capacity", "count": -1}));
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_ne!(up.code, Some(0), "up must fail:\n{}", up.out);
    assert!(up.out.contains("injected: no capacity"), "the AWS error is not shown:\n{}", up.out);
    assert!(up.out.contains("partial state:"), "no partial-state report:\n{}", up.out);
    // The state holds the resource with what exists so far (a pending-init resource with outputs).
    let export = ws.pulumi(&["stack", "export"]);
    let state: serde_json::Value = serde_json::from_str(&export.out).expect("stack export is JSON");
    let res = state["deployment"]["resources"].as_array().unwrap().iter().find(|r| r["type"] == "secure-eks:index:SecureEksCluster").cloned();
    let res = res.expect("the cluster resource is in the state after the partial failure");
    assert!(!res["initErrors"].as_array().map(Vec::is_empty).unwrap_or(true), "initErrors missing: {res}");
    // Everything before the node group was recorded: the cluster and the VPC among it.
    assert!(res["outputs"]["awsResources"]["cluster"]["id"].is_string(), "no partial outputs: {res}");
    assert!(res["outputs"]["awsResources"]["vpc"]["id"].as_str().is_some_and(|v| v.starts_with("vpc-")), "no partial outputs: {res}");
    assert!(res["outputs"]["awsResources"].get("nodegroup/general").is_none(), "the failed node group is recorded: {res}");
    assert_eq!(emu.leftovers(), ONE_MINIMAL_CLUSTER, "after the failed up");

    emu.clear_faults();
    let up2 = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up2.code, Some(0), "second up failed:\n{}", up2.out);
    assert_eq!(emu.leftovers(), ONE_MINIMAL_CLUSTER, "duplicates after resuming");
    let name = ws.pulumi(&["stack", "output", "clusterName"]).out.trim().to_string();
    let groups = emu.boto3(&format!("print(len(client('eks').list_nodegroups(clusterName='{name}')['nodegroups']))"));
    assert_eq!(groups, "1");
    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "{}", again.out);
    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}

/// Import from the id alone: the stack loses the cluster (`pulumi state delete`), `pulumi import`
/// rebuilds its inputs and outputs from AWS (creating and changing nothing), the program then
/// previews with no changes, and `destroy` removes every part of it.
#[test]
fn a_lost_cluster_is_imported_by_name_and_then_destroyed_completely() {
    let emu = Emulator::start();
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack(&emu.endpoints());
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    let name = ws.pulumi(&["stack", "output", "clusterName"]).out.trim().to_string();
    let before = emu.leftovers();

    let urn = "urn:pulumi:dev::secure-eks-yaml-minimal::secure-eks:index:SecureEksCluster::cluster";
    let lost = ws.pulumi(&["state", "delete", urn, "--yes", "--force"]);
    assert_eq!(lost.code, Some(0), "{}", lost.out);

    let import = ws.pulumi(&["import", "secure-eks:index:SecureEksCluster", "cluster", &name, "--yes", "--non-interactive", "--generate-code=false", "--protect=false"]);
    assert_eq!(import.code, Some(0), "import failed:\n{}", import.out);
    assert_eq!(emu.leftovers(), before, "import must not create or delete anything");

    // The imported inputs are the program's: nothing to change.
    let preview = ws.pulumi(&["preview", "--non-interactive", "--diff", "--expect-no-changes"]);
    assert_eq!(preview.code, Some(0), "the program differs from the imported cluster:\n{}", preview.out);
    let refresh = ws.pulumi(&["refresh", "--yes", "--non-interactive", "--skip-preview", "--expect-no-changes"]);
    assert_eq!(refresh.code, Some(0), "{}", refresh.out);

    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);

    // A cluster that does not exist is a clear failure.
    let missing = ws.pulumi(&["import", "secure-eks:index:SecureEksCluster", "ghost", "no-such-cluster", "--yes", "--non-interactive", "--generate-code=false"]);
    assert_ne!(missing.code, Some(0), "{}", missing.out);
}

/// Tags change in place: every resource the cluster owns gets the new tags and loses removed
/// keys (EC2, EKS, IAM, KMS, Logs); nothing is replaced.
#[test]
fn changing_tags_retags_every_resource_in_place() {
    let emu = Emulator::start();
    let ws = Workspace::new("tests/e2e/retag");
    ws.init_stack(&emu.endpoints());
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    let tags = || {
        emu.boto3(
            "vpc = client('ec2').describe_vpcs(Filters=[{'Name': 'tag-key', 'Values': ['secure-eks:cluster']}])['Vpcs'][0]\n\
             t = {x['Key']: x['Value'] for x in vpc['Tags']}\n\
             c = client('eks').describe_cluster(name='retag-demo')['cluster']['tags']\n\
             node = [x['RoleName'] for x in client('iam').list_roles()['Roles'] if x['RoleName'].startswith('retag-demo-') and x['RoleName'].endswith('-node')]\n\
             r = {x['Key']: x['Value'] for x in client('iam').list_role_tags(RoleName=node[0])['Tags']}\n\
             print(t.get('team'), t.get('owner'), c.get('team'), c.get('owner'), r.get('team'), r.get('owner'))",
        )
    };
    assert_eq!(tags(), "platform alice platform alice platform alice");
    // Setting one key replaces the default object: `owner` goes away.
    let r = ws.pulumi(&["config", "set", "--path", "tags.team", "data"]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    let preview = ws.pulumi(&["preview", "--non-interactive", "--diff"]);
    assert_eq!(preview.code, Some(0), "{}", preview.out);
    assert!(!preview.out.contains("replace"), "a tag change must not replace:\n{}", preview.out);
    let up2 = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up2.code, Some(0), "update failed:\n{}", up2.out);
    assert_eq!(tags(), "data None data None data None");
    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "{}", again.out);
    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}
