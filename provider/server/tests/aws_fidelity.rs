//! Check against the emulator where AWS's facts decide (issue #12): the default availability
//! zones come from DescribeAvailabilityZones (regions whose zone letters are not a/b/c), and a
//! zone the region lacks is refused at preview (~3 s: one emulator, two plugins); destroy deletes
//! what Kubernetes and GuardDuty left in the cluster VPC and names what it may not delete
//! (through the real CLI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::{Workspace, NOTHING_LEFT};
use common::emulator::Emulator;
use common::*;
use secure_eks_proto::pulumirpc;
use serde_json::json;

const URN: &str = "urn:pulumi:dev::proj::secure-eks:index:SecureEksCluster::demo";

fn check_req(news: serde_json::Value) -> pulumirpc::CheckRequest {
    pulumirpc::CheckRequest {
        urn: URN.into(),
        olds: Some(st(&json!({}))),
        news: Some(st(&news)),
        random_seed: vec![1],
        name: "demo".into(),
        r#type: "secure-eks:index:SecureEksCluster".into(),
        autonaming: None,
    }
}

/// The region's usable zones as the emulator reports them (boto3, not the provider's code).
fn usable_zones(emu: &Emulator, region: &str) -> Vec<String> {
    let out = emu.boto3_in(
        region,
        "zs = client('ec2').describe_availability_zones(AllAvailabilityZones=True)['AvailabilityZones']\n\
         print(' '.join(sorted(z['ZoneName'] for z in zs if z['State'] == 'available' and z.get('ZoneType', 'availability-zone') == 'availability-zone' and z.get('OptInStatus', 'opt-in-not-required') == 'opt-in-not-required')))",
    );
    out.split_whitespace().map(str::to_string).collect()
}

#[tokio::test]
async fn default_zones_come_from_aws_and_a_zone_the_region_lacks_is_refused() {
    let emu = Emulator::start();
    // Each with the letter its region lacks (ca-central-1: a, b, d; ap-northeast-1: a, c, d).
    for (region, lacks) in [("ca-central-1", "c"), ("ap-northeast-1", "b")] {
        let zones = usable_zones(&emu, region);
        assert!(zones.len() >= 3, "{region}: {zones:?}");
        let (_engine, addr) = FakeEngine::start().await;
        let mut p = Plugin::spawn(&[&addr], &[("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")]).await;
        p.client
            .configure(pulumirpc::ConfigureRequest {
                args: Some(st(&json!({"region": region, "endpoints": emu.endpoints()}))),
                accept_secrets: true,
                accept_resources: true,
                ..Default::default()
            })
            .await
            .unwrap();
        let spec = json!({"kubernetesVersion": "1.34", "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large"]}]});
        let r = p.client.check(check_req(spec.clone())).await.unwrap().into_inner();
        let inputs = sj(&r.inputs.unwrap());
        assert_eq!(inputs["network"]["availabilityZones"], json!(zones[..3]), "{region}");
        // A zone the region lacks: refused at preview, with the real ones named.
        let mut bad = spec.clone();
        bad["network"] = json!({"availabilityZones": [format!("{region}a"), format!("{region}{lacks}"), format!("{region}d")]});
        let r = p.client.check(check_req(bad)).await.unwrap().into_inner();
        let f: Vec<_> = r.failures.iter().filter(|f| f.reason.contains("SEKS-NET-012")).collect();
        assert_eq!(f.len(), 1, "{region}: {:?}", r.failures);
        assert_eq!(f[0].property, "network");
        assert!(f[0].reason.contains("network.availabilityZones[1]"), "{}", f[0].reason);
        assert!(f[0].reason.contains(&format!("{region}{lacks} is not a zone of {region}")), "{}", f[0].reason);
    }
}

const DESTROY: &[&str] = &["destroy", "--yes", "--non-interactive", "--skip-preview"];

/// Destroy deletes what Kubernetes and GuardDuty left in the cluster's VPC, as eksctl does: the
/// Load Balancer Controller's load balancer, target group and security group (with its rule on
/// the node SG), GuardDuty's `guardduty-data` endpoint and its SG. A security group nobody tagged
/// for the cluster is not deleted: the error names it (no DependencyViolation loop), everything
/// else is gone, and once it is removed the next destroy finishes. (~60 s: one up, two destroys.)
#[test]
fn destroy_deletes_what_kubernetes_left_and_names_what_it_may_not_delete() {
    let emu = Emulator::start();
    let (ws, name) = Workspace::minimal_cluster_up(&emu.endpoints());
    emu.k8s_load_balancer("us-east-1", &name);
    emu.k8s_guardduty("us-east-1", &name);
    let left = emu.leftovers();
    assert!(left.contains("sgs=5 endpoints=10") && left.ends_with("loadBalancers=1 targetGroups=1"), "the hooks made their leftovers: {left}");
    let vpc = emu.boto3("print(client('ec2').describe_vpcs(Filters=[{'Name': 'tag-key', 'Values': ['secure-eks:cluster']}])['Vpcs'][0]['VpcId'])");
    let foreign = emu.boto3(&format!(
        "print(client('ec2').create_security_group(GroupName='someone-elses', Description='not the cluster', VpcId='{vpc}')['GroupId'])"
    ));

    let t = std::time::Instant::now();
    let destroy = ws.pulumi(DESTROY);
    eprintln!("destroy with a foreign SG took {:?}", t.elapsed());
    assert_ne!(destroy.code, Some(0), "destroy must stop at the foreign security group:\n{}", destroy.out);
    assert!(
        destroy.out.contains(&format!("security group {foreign} (someone-elses)")) && destroy.out.contains("did not create"),
        "the error must name the foreign security group:\n{}",
        destroy.out
    );
    assert!(!destroy.out.contains("DependencyViolation"), "{}", destroy.out);
    // Everything but the VPC is gone, the leftovers included; the foreign SG is untouched.
    assert_eq!(emu.leftovers(), NOTHING_LEFT.replace("vpcs=0", "vpcs=1"), "after the stopped destroy");
    let groups = emu.boto3(&format!(
        "print(sorted(g['GroupName'] for g in client('ec2').describe_security_groups(Filters=[{{'Name': 'vpc-id', 'Values': ['{vpc}']}}])['SecurityGroups']))"
    ));
    assert_eq!(groups, "['default', 'someone-elses']", "the EKS cluster SG and the leftovers' SGs are deleted, the foreign one kept");

    emu.boto3(&format!("client('ec2').delete_security_group(GroupId='{foreign}')"));
    let destroy = ws.pulumi(DESTROY);
    assert_eq!(destroy.code, Some(0), "destroy failed:\n{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT, "after destroy");
}

/// The emulator can say no (issue #12's done-when): with the region's `ecr.dkr` endpoint service
/// hidden (the test-only switch), the preview warns (SEKS-NET-030), `up` leaves the endpoint out,
/// the nodes have no path to ECR, EKS fails the node group with NodeCreationFailure and the
/// provider's error shows that health issue; destroy then leaves nothing. (~40 s)
#[test]
fn a_missing_endpoint_fails_the_node_group_with_ekss_health_issue() {
    let emu = Emulator::start();
    emu.hide_endpoint_services("us-east-1", &["ecr.dkr"]);
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack_quick(&emu.endpoints());
    let preview = ws.pulumi(&["preview", "--non-interactive"]);
    assert_eq!(preview.code, Some(0), "a missing endpoint service is a warning at preview:\n{}", preview.out);
    assert!(preview.out.contains("SEKS-NET-030") && preview.out.contains("com.amazonaws.us-east-1.ecr.dkr"), "{}", preview.out);

    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_ne!(up.code, Some(0), "the node group must fail:\n{}", up.out);
    assert!(
        up.out.contains("NodeCreationFailure") && up.out.contains("Instances failed to join the kubernetes cluster"),
        "the error must show EKS's health issue:\n{}",
        up.out
    );
    let name = emu.boto3("print(client('eks').list_clusters()['clusters'][0])");
    let verdict = emu.nodegroup_verdict("us-east-1", &name, "general");
    assert!(verdict.contains("CREATE_FAILED") && verdict.contains("ecr.dkr"), "{verdict}");

    let destroy = ws.pulumi(DESTROY);
    assert_eq!(destroy.code, Some(0), "destroy failed:\n{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT, "after destroy");
}
