//! Issue #13, day one: the deploying principal can use the cluster, with a kubeconfig that works
//! where the program ran. Through the real CLI against the emulator: create, update, destroy with
//! nothing left.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::{Workspace, NOTHING_LEFT, ONE_MINIMAL_CLUSTER};
use common::emulator::Emulator;

/// The role the provider assumes (`assumeRole.roleArn`, without the path, as a user may write it).
const ROLE: &str = "arn:aws:iam::123456789012:role/deploy";
/// The principal behind the assumed-role session: the role with its path (from iam:GetRole).
const DEPLOYER: &str = "arn:aws:iam::123456789012:role/ops/deploy";

/// `principal policy-name scope` per access policy association of `cluster`.
fn access(emu: &Emulator, cluster: &str) -> String {
    emu.boto3(&format!(
        "eks = client('eks')\n\
         for p in eks.list_access_entries(clusterName='{cluster}')['accessEntries']:\n\
         \x20   for a in eks.list_associated_access_policies(clusterName='{cluster}', principalArn=p)['associatedAccessPolicies']:\n\
         \x20       print(p, a['policyArn'].rsplit('/', 1)[1], a['accessScope']['type'])"
    ))
}

/// Load `kubeconfig` (YAML) and `kubeconfigJson` with the Kubernetes Python client's own loader
/// (kubernetes==36.0.0, pinned in tests/emulator/requirements.txt). Its exec plugin runs `aws`:
/// a stand-in on PATH records its arguments and AWS_PROFILE and prints an ExecCredential.
/// Returns what the loader configured and what `aws` was called with.
fn load_with_kubernetes_client(ws: &Workspace, yaml: &str, json: &str) -> String {
    let dir = ws.root.join("kube");
    std::fs::create_dir_all(&dir).unwrap();
    let aws = dir.join("aws");
    std::fs::write(
        &aws,
        "#!/bin/sh\necho \"$* AWS_PROFILE=$AWS_PROFILE\" >> \"$(dirname \"$0\")/calls\"\n\
         echo '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"k8s-aws-v1.fake\"}}'\n",
    )
    .unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&aws).status().unwrap();
    std::fs::write(dir.join("config.yaml"), yaml).unwrap();
    std::fs::write(dir.join("config.json"), json).unwrap();
    let script = "import json, os, sys\n\
        from kubernetes import client, config\n\
        d = sys.argv[1]\n\
        for how in ('yaml', 'json'):\n\
        \x20   c = client.Configuration()\n\
        \x20   if how == 'yaml':\n\
        \x20       config.load_kube_config(config_file=os.path.join(d, 'config.yaml'), client_configuration=c)\n\
        \x20   else:\n\
        \x20       config.load_kube_config_from_dict(json.load(open(os.path.join(d, 'config.json'))), client_configuration=c)\n\
        \x20   print(how, c.host, c.api_key.get('authorization'))\n\
        print(open(os.path.join(d, 'calls')).read().strip())\n";
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new(secure_eks_testkit::python()).arg("-c").arg(script).arg(&dir).env("PATH", path).env_remove("AWS_PROFILE").output().unwrap();
    assert!(out.status.success(), "the kubeconfig loader failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn the_deployer_is_cluster_admin_with_a_kubeconfig_that_works_and_one_input_turns_it_off() {
    let emu = Emulator::start();
    // The role the provider assumes has a path: the session ARN does not say it, iam:GetRole does.
    emu.boto3("client('iam').create_role(RoleName='deploy', Path='/ops/', AssumeRolePolicyDocument='{}')");
    let mut ws = Workspace::new("tests/e2e/dayone");
    // A named profile (credentials for the emulator) in a config file of this workspace.
    let aws_config = ws.root.join("aws-config");
    std::fs::write(&aws_config, "[profile dayone]\naws_access_key_id = testing\naws_secret_access_key = testing\n").unwrap();
    ws.set_env("AWS_CONFIG_FILE", &aws_config.display().to_string());
    ws.init_stack_quick(&emu.endpoints());
    for (k, v) in [("secure-eks:profile", "dayone"), ("secure-eks:assumeRole.roleArn", ROLE)] {
        let r = ws.pulumi(&["config", "set", "--path", k, v]);
        assert_eq!(r.code, Some(0), "{}", r.out);
    }

    // Preview shows who becomes admin (an AWS-backed fact from STS and IAM).
    let preview = ws.pulumi(&["preview", "--non-interactive", "--diff"]);
    assert_eq!(preview.code, Some(0), "{}", preview.out);
    assert!(preview.out.contains(DEPLOYER), "the preview does not name the deployer:\n{}", preview.out);
    // ... and what `up` will make in AWS.
    assert!(preview.out.contains("`pulumi up` will create ") && preview.out.contains(" AWS resources for cluster ") && preview.out.contains("1 access entry"), "{}", preview.out);

    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    assert_eq!(emu.leftovers(), ONE_MINIMAL_CLUSTER);
    let name = ws.pulumi(&["stack", "output", "clusterName"]).out.trim().to_string();
    assert_eq!(access(&emu, &name).trim(), format!("{DEPLOYER} AmazonEKSClusterAdminPolicy cluster"));
    let admins = ws.pulumi(&["stack", "output", "admins", "--json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&admins.out).unwrap(), serde_json::json!([DEPLOYER]), "{}", admins.out);

    // Both kubeconfigs are secret, and a real client loads them and runs `aws eks get-token`
    // as the provider's profile and role.
    for k in ["kubeconfig", "kubeconfigJson"] {
        let hidden = ws.pulumi(&["stack", "output", k]);
        assert!(hidden.out.contains("[secret]"), "{k}: {}", hidden.out);
    }
    let yaml = ws.pulumi(&["stack", "output", "kubeconfig", "--show-secrets"]).out;
    let json = ws.pulumi(&["stack", "output", "kubeconfigJson", "--show-secrets"]).out;
    let endpoint = emu.boto3(&format!("print(client('eks').describe_cluster(name='{name}')['cluster']['endpoint'])"));
    let loaded = load_with_kubernetes_client(&ws, &yaml, json.trim());
    let get_token = format!("eks get-token --cluster-name {name} --region us-east-1 --output json --role-arn {ROLE} AWS_PROFILE=dayone");
    assert_eq!(
        loaded.trim(),
        format!("yaml {0} Bearer k8s-aws-v1.fake\njson {0} Bearer k8s-aws-v1.fake\n{get_token}\n{get_token}", endpoint.trim().trim_end_matches('/')),
    );

    // getKubeconfig: another team's stack gets the same cluster for its own identity, a secret too.
    let other = Workspace::new("tests/e2e/dayone-kubeconfig");
    other.init_stack_quick(&emu.endpoints());
    assert_eq!(other.pulumi(&["config", "set", "clusterName", &name]).code, Some(0));
    let r = other.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    assert!(other.pulumi(&["stack", "output", "teamBKubeconfig"]).out.contains("[secret]"));
    let team_b: serde_json::Value = serde_json::from_str(other.pulumi(&["stack", "output", "teamBKubeconfig", "--show-secrets"]).out.trim()).unwrap();
    let exec = &team_b["users"][0]["user"]["exec"];
    assert_eq!(exec["args"][9], "arn:aws:iam::123456789012:role/team-b", "{team_b}");
    assert_eq!(exec["env"], serde_json::json!([{"name": "AWS_PROFILE", "value": "team-b"}]), "{team_b}");
    assert_eq!(team_b["clusters"][0]["cluster"]["server"], endpoint.trim(), "{team_b}");

    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "a second preview shows changes:\n{}", again.out);

    // Off: the preview warns that nobody is admin, and `up` removes the entry.
    assert_eq!(ws.pulumi(&["config", "set", "deployerAdmin", "false"]).code, Some(0));
    let off = ws.pulumi(&["preview", "--non-interactive"]);
    assert_eq!(off.code, Some(0), "{}", off.out);
    assert!(off.out.contains("SEKS-IAM-030"), "no warning for a cluster without admin:\n{}", off.out);
    assert!(off.out.contains("`pulumi up` will delete 1 AWS resources of cluster") && off.out.contains("deletes access entry access/deployer"), "{}", off.out);
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    assert_eq!(access(&emu, &name).trim(), "", "the deployer's entry is still there");

    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "destroy failed:\n{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT);
}
