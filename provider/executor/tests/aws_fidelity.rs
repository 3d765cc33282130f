//! The executor against the emulator where it must do what AWS and Kubernetes need beyond what
//! the API refuses (issue #12): the Load Balancer Controller's node SG tag, waits that survive
//! DEGRADED addons and show progress. Each test runs only the steps it needs (a sub-plan).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;
use secure_eks_core::model::{Autoname, ClusterArgs};
use secure_eks_core::plan::{Plan, StepOutputs};
use serde_json::json;
use tokio_util::sync::CancellationToken;

mod support;
use support::{drain, progress, Emulator, EmulatorAws, TEST_REGION};

fn plan_for(name: &str, extra: serde_json::Value) -> Plan {
    let mut spec = json!({
        "kubernetesVersion": "1.34",
        "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large"]}],
        "network": {"availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"]}
    });
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            s.insert(k.clone(), v.clone());
        }
    }
    let args: ClusterArgs = serde_json::from_value(spec).unwrap();
    let args = args.with_defaults(Autoname::Proposed(name), Some(TEST_REGION));
    secure_eks_core::plan::plan(&args, TEST_REGION, &BTreeMap::new()).unwrap()
}

/// The plan cut down to `keep` and everything they depend on.
fn only(mut plan: Plan, keep: &[&str]) -> Plan {
    let mut want: std::collections::BTreeSet<String> = keep.iter().map(|s| s.to_string()).collect();
    for s in plan.steps.iter().rev() {
        if want.contains(&s.id) {
            want.extend(s.deps.iter().cloned());
        }
    }
    plan.steps.retain(|s| want.contains(&s.id));
    plan
}

fn tag<'a>(tags: &'a [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key() == Some(key)).and_then(|t| t.value())
}

/// The AWS Load Balancer Controller needs exactly one SG on a node ENI tagged
/// `kubernetes.io/cluster/<name>`: the node SG has it, the others do not. (~2 s)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_security_group_is_tagged_for_the_load_balancer_controller() {
    let emu = Emulator::start_with_time_scale(0.0);
    let aws = emu.aws().await;
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk().await);
    let plan = only(plan_for("lbc", json!({})), &["sg/node", "sg/cluster", "sg/endpoints"]);
    let (tx, _rx) = progress();
    let outs = aws.apply(&plan, &StepOutputs::new(), &CancellationToken::new(), &tx).await.unwrap();
    let groups = ec2
        .describe_security_groups()
        .filters(Filter::builder().name("tag:secure-eks:cluster").values("lbc").build())
        .send()
        .await
        .unwrap();
    let tagged: Vec<&str> = groups
        .security_groups()
        .iter()
        .filter(|g| tag(g.tags(), "kubernetes.io/cluster/lbc") == Some("owned"))
        .filter_map(|g| g.group_id())
        .collect();
    assert_eq!(tagged, [outs["sg/node"].id.as_str()]);

    // A node SG made before the tag existed gets it when adopted.
    ec2.delete_tags()
        .resources(&outs["sg/node"].id)
        .tags(aws_sdk_ec2::types::Tag::builder().key("kubernetes.io/cluster/lbc").build())
        .send()
        .await
        .unwrap();
    let again = aws.apply(&plan, &outs, &CancellationToken::new(), &tx).await.unwrap();
    assert_eq!(again["sg/node"].id, outs["sg/node"].id);
    let g = ec2.describe_security_groups().group_ids(&outs["sg/node"].id).send().await.unwrap();
    assert_eq!(tag(g.security_groups()[0].tags(), "kubernetes.io/cluster/lbc"), Some("owned"));
    let (tx, mut rx) = progress();
    aws.destroy(&plan, &again, &CancellationToken::new(), &tx).await.unwrap();
    drop(drain(&mut rx));
}

fn on() -> aws_sdk_ec2::types::AttributeBooleanValue {
    aws_sdk_ec2::types::AttributeBooleanValue::builder().value(true).build()
}

/// A user's VPC: 10.30.0.0/16 plus a second block, two node subnets (one with its own route
/// table, one on the main route table); DNS hostnames off as EC2 leaves a new VPC.
async fn users_vpc(ec2: &aws_sdk_ec2::Client) -> (String, Vec<String>, String) {
    let vpc = ec2.create_vpc().cidr_block("10.30.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
    ec2.associate_vpc_cidr_block().vpc_id(&vpc).cidr_block("10.31.0.0/16").send().await.unwrap();
    let mut subnets = Vec::new();
    for (az, cidr) in [("us-east-1a", "10.30.0.0/20"), ("us-east-1b", "10.31.0.0/20")] {
        let s = ec2.create_subnet().vpc_id(&vpc).cidr_block(cidr).availability_zone(az).send().await.unwrap();
        subnets.push(s.subnet.unwrap().subnet_id.unwrap());
    }
    let rtb = ec2.create_route_table().vpc_id(&vpc).send().await.unwrap().route_table.unwrap().route_table_id.unwrap();
    ec2.associate_route_table().route_table_id(&rtb).subnet_id(&subnets[0]).send().await.unwrap();
    (vpc, subnets, rtb)
}

/// Bring-your-own VPC, before any create: DNS hostnames off is refused with nothing created; an
/// endpoint the VPC already has is used (not duplicated) only when its SG admits the VPC's
/// CIDRs; the endpoint SG admits every CIDR of the VPC; the S3 gateway endpoint is on the route
/// tables of the user's node subnets (their own and the main one). (~10 s)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_vpc_is_checked_before_any_create_and_its_endpoints_are_used() {
    let emu = Emulator::start_with_time_scale(0.0);
    let aws = emu.aws().await;
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk().await);
    let (vpc, subnets, rtb) = users_vpc(&ec2).await;
    let spec = json!({"network": {"existingVpc": {"vpcId": vpc, "nodeSubnetIds": subnets}, "availabilityZones": ["us-east-1a", "us-east-1b"], "podCidr": null}});
    let plan = only(plan_for("byo2", spec), &["vpce/s3", "vpce/sts", "vpce/ecr.api", "sgrule/endpoints-from-vpc-443", "sgrule/endpoints-from-node-443"]);
    let cancel = CancellationToken::new();
    let (tx, _rx) = progress();

    // DNS hostnames off: refused before anything exists.
    let e = aws.apply(&plan, &StepOutputs::new(), &cancel, &tx).await.unwrap_err();
    assert!(e.reasons[0].contains("enableDnsHostnames off") && e.reasons[0].contains(&vpc), "{e:?}");
    assert!(e.done.is_empty(), "{e:?}");
    let ours = ec2.describe_security_groups().filters(Filter::builder().name("tag:secure-eks:cluster").values("byo2").build()).send().await.unwrap();
    assert!(ours.security_groups().is_empty(), "nothing was created");
    ec2.modify_vpc_attribute().vpc_id(&vpc).enable_dns_hostnames(on()).send().await.unwrap();

    // The user's own STS endpoint with private DNS, whose SG admits only part of the VPC.
    let their_sg = ec2.create_security_group().group_name("theirs").description("theirs").vpc_id(&vpc).send().await.unwrap().group_id.unwrap();
    let rule = |cidr: &str| {
        aws_sdk_ec2::types::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(443)
            .to_port(443)
            .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip(cidr).build())
            .build()
    };
    ec2.authorize_security_group_ingress().group_id(&their_sg).ip_permissions(rule("10.30.0.0/16")).send().await.unwrap();
    let theirs = ec2
        .create_vpc_endpoint()
        .vpc_id(&vpc)
        .service_name("com.amazonaws.us-east-1.sts")
        .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
        .subnet_ids(&subnets[0])
        .security_group_ids(&their_sg)
        .private_dns_enabled(true)
        .send()
        .await
        .unwrap()
        .vpc_endpoint
        .unwrap()
        .vpc_endpoint_id
        .unwrap();
    let e = aws.apply(&plan, &StepOutputs::new(), &cancel, &tx).await.unwrap_err();
    assert!(e.reasons[0].contains(&theirs) && e.reasons[0].contains("10.31.0.0/16") && e.reasons[0].contains(&their_sg), "{e:?}");
    assert!(e.done.is_empty(), "{e:?}");
    ec2.authorize_security_group_ingress().group_id(&their_sg).ip_permissions(rule("10.31.0.0/16")).send().await.unwrap();

    let outs = aws.apply(&plan, &StepOutputs::new(), &cancel, &tx).await.unwrap_or_else(|e| panic!("{e:?}"));
    // Used, not duplicated, and marked as not ours.
    assert_eq!(outs["vpce/sts"].id, theirs);
    assert_eq!(outs["vpce/sts"].extra.get("existing").map(String::as_str), Some("true"));
    let sts = ec2
        .describe_vpc_endpoints()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .filters(Filter::builder().name("service-name").values("com.amazonaws.us-east-1.sts").build())
        .send()
        .await
        .unwrap();
    assert_eq!(sts.vpc_endpoints().len(), 1);
    // The endpoint SG admits both CIDR blocks of the VPC.
    let rules = ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(&outs["sg/endpoints"].id).build())
        .send()
        .await
        .unwrap();
    let mut cidrs: Vec<&str> = rules.security_group_rules().iter().filter(|r| r.is_egress() == Some(false)).filter_map(|r| r.cidr_ipv4()).collect();
    cidrs.sort();
    assert_eq!(cidrs, ["10.30.0.0/16", "10.31.0.0/16"]);
    // S3 on the node subnets' route tables: the explicit one and the main one.
    let main = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .filters(Filter::builder().name("association.main").values("true").build())
        .send()
        .await
        .unwrap()
        .route_tables()[0]
        .route_table_id()
        .unwrap()
        .to_string();
    let s3 = ec2.describe_vpc_endpoints().vpc_endpoint_ids(&outs["vpce/s3"].id).send().await.unwrap();
    let mut rtbs: Vec<String> = s3.vpc_endpoints()[0].route_table_ids().to_vec();
    rtbs.sort();
    let mut want = vec![rtb.clone(), main];
    want.sort();
    assert_eq!(rtbs, want);

    // Destroy keeps the user's endpoint.
    aws.destroy(&plan, &outs, &cancel, &tx).await.unwrap_or_else(|e| panic!("{e:?}"));
    let left = ec2.describe_vpc_endpoints().vpc_endpoint_ids(&theirs).send().await.unwrap();
    assert_eq!(left.vpc_endpoints().len(), 1, "the user's endpoint is kept");
    assert!(ec2.describe_security_groups().group_ids(&their_sg).send().await.is_ok());
}

/// An endpoint service the region does not offer (as `eks` PrivateLink in some regions) is left
/// out with a warning; the others are made. (~3 s)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_the_region_lacks_is_left_out_with_a_warning() {
    let emu = Emulator::start_with_time_scale(0.0);
    emu.hide_endpoint_services(TEST_REGION, &["eks"]);
    let aws = emu.aws().await;
    let plan = only(plan_for("noeks", json!({})), &["vpce/eks", "vpce/sts"]);
    let (tx, mut rx) = progress();
    let outs = aws.apply(&plan, &StepOutputs::new(), &CancellationToken::new(), &tx).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(outs.contains_key("vpce/sts"));
    assert!(!outs.contains_key("vpce/eks"), "{outs:?}");
    let lines = drain(&mut rx);
    assert!(lines.iter().any(|l| l.starts_with("warning:") && l.contains("com.amazonaws.us-east-1.eks") && l.contains("vpce/eks is left out")), "{lines:?}");
    aws.destroy(&plan, &outs, &CancellationToken::new(), &tx).await.unwrap_or_else(|e| panic!("{e:?}"));
}

/// An addon update is Successful, then the addon is DEGRADED while its new pods roll out (the
/// emulator does what EKS does): the executor waits through DEGRADED, with a progress line, until
/// ACTIVE, instead of failing at once. (~15 s)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_addon_passing_through_degraded_during_an_update_is_waited_for() {
    let emu = Emulator::start_with_time_scale(0.2);
    let aws = emu.aws().await;
    let pinned = |v: &str| only(plan_for("degraded", json!({"addons": {"vpcCni": {"version": v}}})), &["addon/vpc-cni"]);
    let cancel = CancellationToken::new();
    let (tx, _rx) = progress();
    let outs = aws.apply(&pinned("v1.18.3-eksbuild.1"), &StepOutputs::new(), &cancel, &tx).await.unwrap_or_else(|e| panic!("{e:?}"));

    // The update takes a (scaled) minute, the rollout after it another.
    emu.set_time_scale(1.0);
    let (tx, mut rx) = progress();
    let newer = pinned("v1.19.2-eksbuild.1");
    let outs = aws.apply(&newer, &outs, &cancel, &tx).await.unwrap_or_else(|e| panic!("the DEGRADED rollout must be waited for: {e:?}"));
    let lines = drain(&mut rx);
    assert!(lines.iter().any(|l| l.contains("waiting for addon vpc-cni to become ACTIVE")), "no wait through DEGRADED: {lines:?}");
    let status = emu.boto3("a = client('eks').describe_addon(clusterName='degraded', addonName='vpc-cni')['addon']\nprint(a['status'], a['addonVersion'])");
    assert_eq!(status, "ACTIVE v1.19.2-eksbuild.1");

    emu.set_time_scale(0.2);
    let (tx, _rx) = progress();
    aws.destroy(&newer, &outs, &cancel, &tx).await.unwrap_or_else(|e| panic!("{e:?}"));
}

/// EKS leaves its cluster security group behind when a rule of another group references it
/// (aws/aws-cdk#14456; the emulator does the same): destroy revokes our group's rule that
/// references it, deletes it, and the VPC goes. (~10 s)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_deletes_the_cluster_security_group_eks_left() {
    let emu = Emulator::start_with_time_scale(0.2);
    let aws = emu.aws().await;
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk().await);
    let plan = only(plan_for("leftsg", json!({})), &["cluster", "sg/node"]);
    let cancel = CancellationToken::new();
    let (tx, _rx) = progress();
    let outs = aws.apply(&plan, &StepOutputs::new(), &cancel, &tx).await.unwrap_or_else(|e| panic!("{e:?}"));
    let eks = aws_sdk_eks::Client::new(&emu.sdk().await);
    let c = eks.describe_cluster().name("leftsg").send().await.unwrap().cluster.unwrap();
    let csg = c.resources_vpc_config().and_then(|v| v.cluster_security_group_id()).unwrap().to_string();
    // A rule of our node SG that references the cluster SG (as a user might add).
    ec2.authorize_security_group_ingress()
        .group_id(&outs["sg/node"].id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("-1")
                .user_id_group_pairs(aws_sdk_ec2::types::UserIdGroupPair::builder().group_id(&csg).build())
                .build(),
        )
        .send()
        .await
        .unwrap();

    let (tx, mut rx) = progress();
    aws.destroy(&plan, &outs, &cancel, &tx).await.unwrap_or_else(|e| panic!("{e:?}\n{:?}", drain(&mut rx)));
    let left = ec2.describe_security_groups().filters(Filter::builder().name("group-id").values(&csg).build()).send().await.unwrap();
    assert!(left.security_groups().is_empty(), "the cluster SG EKS left is deleted");
    let vpcs = ec2.describe_vpcs().vpc_ids(&outs["vpc"].id).send().await;
    assert!(vpcs.map(|o| o.vpcs().is_empty()).unwrap_or(true), "the VPC is deleted");
}
