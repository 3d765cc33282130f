//! `pulumi-resource-secure-eks audit` against clusters made directly in the emulator with boto3
//! (not by secure-eks), each defect named under its rule id; and a cluster secure-eks built
//! audits clean. The SARIF output is checked against the SARIF 2.1.0 schema's required shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::cli::Workspace;
use common::emulator::Emulator;

fn audit(emu: &Emulator, cluster: &str, format: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pulumi-resource-secure-eks"))
        .args(["audit", "--cluster", cluster, "--region", "us-east-1", "--format", format])
        .env("AWS_ENDPOINT_URL", &emu.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run audit");
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// A cluster with every defect of issue #15, made with boto3.
const DEFECTIVE: &str = r#"
ec2, eks, iam = client('ec2'), client('eks'), client('iam')
vpc = ec2.create_vpc(CidrBlock='10.20.0.0/16')['Vpc']['VpcId']
a = ec2.create_subnet(VpcId=vpc, CidrBlock='10.20.1.0/24', AvailabilityZone='us-east-1a')['Subnet']['SubnetId']
b = ec2.create_subnet(VpcId=vpc, CidrBlock='10.20.2.0/24', AvailabilityZone='us-east-1b')['Subnet']['SubnetId']
ec2.modify_subnet_attribute(SubnetId=a, MapPublicIpOnLaunch={'Value': True})
trust = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Principal': {'Service': ['eks.amazonaws.com', 'ec2.amazonaws.com']}, 'Action': 'sts:AssumeRole'}]}
role = iam.create_role(RoleName='legacy-cluster', AssumeRolePolicyDocument=json.dumps(trust))['Role']['Arn']
c = eks.create_cluster(name='legacy', version='1.34', roleArn=role,
    resourcesVpcConfig={'subnetIds': [a, b], 'endpointPublicAccess': True, 'endpointPrivateAccess': False, 'publicAccessCidrs': ['0.0.0.0/0']})['cluster']
eks.get_waiter('cluster_active').wait(name='legacy', WaiterConfig={'Delay': 1, 'MaxAttempts': 120})
lt = ec2.create_launch_template(LaunchTemplateName='legacy-nodes', LaunchTemplateData={'MetadataOptions': {'HttpTokens': 'optional'}})['LaunchTemplate']['LaunchTemplateId']
eks.create_nodegroup(clusterName='legacy', nodegroupName='old', subnets=[a], nodeRole=role, amiType='AL2_x86_64',
    scalingConfig={'minSize': 1, 'maxSize': 2, 'desiredSize': 1}, launchTemplate={'id': lt, 'version': '1'})
issuer = c['identity']['oidc']['issuer'].replace('https://', '')
web = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Principal': {'Federated': 'arn:aws:iam::123456789012:oidc-provider/' + issuer},
    'Action': 'sts:AssumeRoleWithWebIdentity', 'Condition': {'StringEquals': {issuer + ':sub': 'system:serviceaccount:app:web'}}}]}
iam.create_role(RoleName='legacy-web', AssumeRolePolicyDocument=json.dumps(web))
print('ok')
"#;

#[test]
fn audit_names_every_defect_of_a_cluster_made_outside_secure_eks() {
    let emu = Emulator::start();
    assert_eq!(emu.boto3(DEFECTIVE), "ok");
    let (code, out) = audit(&emu, "legacy", "json");
    assert_eq!(code, 1, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let found: Vec<String> = report["findings"].as_array().unwrap().iter().map(|f| format!("{} {}", f["ruleId"].as_str().unwrap(), f["path"].as_str().unwrap())).collect();
    let want = [
        ("public endpoint open to the world", "SEKS-CP-001 cluster.resourcesVpcConfig.publicAccessCidrs[0]"),
        ("no logging", "SEKS-OBS-001 cluster.logging.clusterLogging"),
        ("no secrets encryption", "SEKS-CP-008 cluster.encryptionConfig"),
        ("a launch template allowing IMDSv1", "SEKS-NODE-021 nodegroups.old.launchTemplate.metadataOptions.httpTokens"),
        ("an AL2 AMI type", "SEKS-NODE-022 nodegroups.old.amiType"),
        ("one AZ", "SEKS-NET-001 nodegroups.old.subnets"),
        ("an IRSA role without aud", "SEKS-IAM-010 roles.legacy-web.assumeRolePolicyDocument"),
        ("subnets mapping public IPs", "SEKS-NET-011 subnets"),
        ("no VPC endpoints and no NAT", "SEKS-NET-006 vpc"),
    ];
    let missing: Vec<&str> = want.iter().filter(|(_, w)| !found.iter().any(|f| f.starts_with(w))).map(|(what, _)| *what).collect();
    assert!(missing.is_empty(), "not named: {missing:?}\nfound:\n{}", found.join("\n"));
    assert!(report["findings"].as_array().unwrap().iter().any(|f| f["ruleId"] == "SEKS-IAM-010" && f["message"].as_str().unwrap().contains(":aud = sts.amazonaws.com")), "{out}");
    assert!(report["notJudged"].as_array().unwrap().iter().any(|n| n["ruleId"] == "SEKS-CP-005"), "{out}");

    // The text form says the same; SARIF carries the same results.
    let (code, text) = audit(&emu, "legacy", "text");
    assert_eq!(code, 1);
    assert!(text.contains("SEKS-NODE-022") && text.contains("not judged"), "{text}");
    let (code, sarif) = audit(&emu, "legacy", "sarif");
    assert_eq!(code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    sarif_shape(&sarif);
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), report["findings"].as_array().unwrap().len());

    // A name that is no cluster: exit 2, said plainly.
    let (code, out) = audit(&emu, "nope", "text");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no EKS cluster named \"nope\""), "{out}");
}

/// Valid against the published SARIF 2.1.0 schema (tests/data, from scripts/gen-sarif-schema.sh),
/// checked by Python's `jsonschema` (in the emulator's venv): the `jsonschema` crate would change
/// the features of `hashbrown` in the shared build and rebuild every AWS SDK crate. Each result's
/// ruleIndex names its rule.
fn sarif_shape(s: &serde_json::Value) {
    let check = |doc: &serde_json::Value| -> String {
        let script = "import json, sys, jsonschema\nschema = json.load(open(sys.argv[1]))\nv = jsonschema.Draft4Validator(schema)\nprint('\\n'.join(f'{list(e.path)}: {e.message}' for e in v.iter_errors(json.load(sys.stdin))) or 'valid')";
        let schema = secure_eks_testkit::repo_root().join("provider/server/tests/data/sarif-schema-2.1.0.json");
        let mut child = Command::new(secure_eks_testkit::python())
            .args(["-c", script])
            .arg(schema)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("run python");
        use std::io::Write;
        child.stdin.take().unwrap().write_all(doc.to_string().as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(check(s), "valid");
    assert_ne!(check(&serde_json::json!({"version": "2.1.0"})), "valid", "the schema must refuse a log without runs");
    assert_eq!(s["version"], "2.1.0");
    let run = &s["runs"][0];
    assert!(run["tool"]["driver"]["name"].is_string());
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().all(|r| r["id"].is_string()));
    for r in run["results"].as_array().unwrap() {
        assert!(r["message"]["text"].is_string());
        assert!(["none", "note", "warning", "error"].contains(&r["level"].as_str().unwrap()));
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
    }
}

#[test]
fn a_cluster_secure_eks_built_audits_clean() {
    let emu = Emulator::start();
    let (_ws, name) = Workspace::minimal_cluster_up(&emu.endpoints());
    let (code, out) = audit(&emu, &name, "json");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(report["findings"], serde_json::json!([]), "{out}");
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_audit_cluster_function_returns_the_same_findings_to_a_program() {
    let emu = Emulator::start();
    assert_eq!(emu.boto3(DEFECTIVE), "ok");
    let ws = Workspace::new("tests/e2e/audit-invoke");
    ws.init_stack_quick(&emu.endpoints());
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    assert_eq!(ws.pulumi(&["stack", "output", "failed"]).out.trim(), "true");
    let findings: serde_json::Value = serde_json::from_str(&ws.pulumi(&["stack", "output", "findings", "--json"]).out).unwrap();
    let ids: Vec<&str> = findings.as_array().unwrap().iter().map(|f| f["ruleId"].as_str().unwrap()).collect();
    for id in ["SEKS-CP-001", "SEKS-CP-008", "SEKS-NODE-021", "SEKS-NODE-022", "SEKS-IAM-010", "SEKS-NET-006"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(findings[0]["refs"].is_array() && findings[0]["path"].is_string(), "{findings}");
}

#[tokio::test]
async fn the_invoke_without_a_cluster_name_is_a_failure_on_that_property() {
    use secure_eks_proto::pulumirpc;
    let mut p = common::Plugin::spawn(&[], &[]).await;
    let r = p.client.invoke(pulumirpc::InvokeRequest { tok: "secure-eks:index:auditCluster".into(), ..Default::default() }).await.unwrap().into_inner();
    assert!(r.r#return.is_none());
    assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
    assert_eq!(r.failures[0].property, "clusterName");
}
