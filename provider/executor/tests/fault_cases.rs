//! Focused fault cases: one per executor fix the strict fault matrix (`fault_matrix.rs`)
//! led to, each a single injected fault in one phase, so the fix has a test of its own that
//! failed before it (and runs in seconds, without the whole matrix).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use secure_eks_core::plan::StepOutputs;
use serde_json::json;

mod support;
use support::fault_ops::*;
use support::{Emulator, EmulatorAws};

/// The SDK's backoff at 50 ms (the same attempts, no real waiting: see `retry::retry_config`),
/// set before any session is made.
fn fast_retries() {
    std::env::set_var("SECURE_EKS_RETRY_BACKOFF_MS", "50");
}

/// A 5xx answered after the request took effect (the SDK retries the call).
fn lost_answer(op: &Op) -> serde_json::Value {
    json!({"match": op.regex, "status": 500, "code": "InternalError", "message": "injected fault", "count": 1, "after": true})
}

/// Whether every armed rule was consumed.
fn consumed(emu: &Emulator) -> bool {
    let rules = emu.fault(json!({"match": "^NEVER$", "count": 0}));
    rules.as_array().unwrap().iter().filter(|r| r["match"] != "^NEVER$").all(|r| r["count"].as_i64() == Some(0))
}

#[tokio::test(flavor = "current_thread")]
async fn a_lost_attach_internet_gateway_answer_is_done_in_the_same_run() {
    // The retry is answered Resource.AlreadyAssociated: the gateway is attached to this VPC.
    fast_retries();
    let emu = Emulator::start_with_time_scale(0.0);
    let aws = emu.aws().await;
    let plan = plan_a();
    emu.fault(lost_answer(&op_of("POST /  AttachInternetGateway", "ec2")));
    let outs = up(&aws, &plan, &StepOutputs::new()).await.unwrap_or_else(|e| panic!("the create failed: {e}"));
    assert!(consumed(&emu), "the fault was not hit");
    emu.clear_faults();
    let igw = &outs["igw"].id;
    let vpc = &outs["vpc"].id;
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk().await);
    let g = ec2.describe_internet_gateways().internet_gateway_ids(igw).send().await.unwrap();
    let attached: Vec<_> = g.internet_gateways()[0].attachments().iter().filter_map(|a| a.vpc_id()).collect();
    assert_eq!(attached, [vpc.as_str()]);
    let all = ec2.describe_internet_gateways().send().await.unwrap();
    assert_eq!(all.internet_gateways().len(), 1, "one internet gateway, made once");
    destroy(&aws, &plan, &outs).await.unwrap();
    assert_eq!(emu.leftovers(), NO_LEFTOVERS);
}

#[tokio::test(flavor = "current_thread")]
async fn an_import_whose_addon_default_lookup_fails_is_an_error_not_a_pinned_addon() {
    // A persistent fault on DescribeAddonVersions: import can't tell a pinned addon from a
    // default one, so it must fail naming the call (it pinned every addon instead).
    fast_retries();
    let emu = Emulator::start_with_time_scale(0.0);
    let aws = emu.aws().await;
    let plan = plan_a();
    let outs = up(&aws, &plan, &StepOutputs::new()).await.unwrap();
    let clean = aws.observe_cluster(CLUSTER, REGION).await.unwrap().unwrap();
    let versions = op_of("GET /addons/supported-versions  ", "eks");
    emu.fault(json!({"match": versions.regex, "status": 503, "code": "ServiceUnavailableException", "message": "injected persistent fault", "count": 1_000_000}));
    let faulted = aws.observe_cluster(CLUSTER, REGION).await;
    emu.clear_faults();
    let e = match faulted {
        Ok(o) => panic!("the import succeeded under the fault, pinning {:?} (clean: {:?})", o.map(|o| o.pinned_addons), clean.pinned_addons),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("eks:DescribeAddonVersions") && e.contains("injected persistent fault"), "{e}");
    destroy(&aws, &plan, &outs).await.unwrap();
    assert_eq!(emu.leftovers(), NO_LEFTOVERS);
}

/// Create with one lost answer on `op`: the run must succeed by itself. The emulator, the
/// outputs and a plain EC2 client on it, for the caller's checks before [`destroy_all`].
async fn create_with_lost_answer(op: &Op) -> (Emulator, StepOutputs, aws_sdk_ec2::Client) {
    fast_retries();
    let emu = Emulator::start_with_time_scale(0.0);
    let aws = emu.aws().await;
    emu.fault(lost_answer(op));
    let outs = up(&aws, &plan_a(), &StepOutputs::new()).await.unwrap_or_else(|e| panic!("the create failed: {e}"));
    assert!(consumed(&emu), "the fault was not hit");
    emu.clear_faults();
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk().await);
    (emu, outs, ec2)
}

/// Destroy leaves nothing.
async fn destroy_all(emu: &Emulator, outs: &StepOutputs) {
    destroy(&emu.aws().await, &plan_a(), outs).await.unwrap();
    assert_eq!(emu.leftovers(), NO_LEFTOVERS);
}

#[tokio::test(flavor = "current_thread")]
async fn a_lost_create_subnet_answer_adopts_our_subnet_in_the_same_run() {
    // The retry is answered InvalidSubnet.Conflict (its CIDR is taken by the subnet the first
    // attempt made, with our tags).
    let (emu, outs, ec2) = create_with_lost_answer(&op_of("POST /  CreateSubnet", "ec2")).await;
    let planned = outs.keys().filter(|k| k.starts_with("subnet/")).count();
    let in_vpc = aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(&outs["vpc"].id).build();
    let made = ec2.describe_subnets().filters(in_vpc).send().await.unwrap().subnets().len();
    assert_eq!(made, planned, "one subnet per subnet step (the lost one made once)");
    destroy_all(&emu, &outs).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_lost_create_route_answer_is_done_in_the_same_run() {
    // The retry is answered RouteAlreadyExists: the route goes to our gateway.
    let (emu, outs, ec2) = create_with_lost_answer(&op_of("POST /  CreateRoute", "ec2")).await;
    let rt = ec2.describe_route_tables().route_table_ids(&outs["rtb/public"].id).send().await.unwrap();
    let default: Vec<_> = rt.route_tables()[0].routes().iter().filter(|r| r.destination_cidr_block() == Some("0.0.0.0/0")).filter_map(|r| r.gateway_id()).collect();
    assert_eq!(default, [outs["igw"].id.as_str()]);
    destroy_all(&emu, &outs).await;
}

#[tokio::test(flavor = "current_thread")]
async fn lost_eks_create_answers_adopt_what_our_call_made_in_the_same_run() {
    // The retries are answered ResourceInUseException: the cluster, node group, addon and access
    // entry the first attempts made carry our owner and step tags. One emulator, one create,
    // all four lost (each rule fires once).
    fast_retries();
    let emu = Emulator::start_with_time_scale(0.0);
    let aws = emu.aws().await;
    let ops = ["POST /clusters  ", "POST /clusters/fm/node-groups  ", "POST /clusters/fm/addons  ", "POST /clusters/fm/access-entries  "];
    for key in ops {
        emu.fault(lost_answer(&op_of(key, "eks")));
    }
    let outs = up(&aws, &plan_a(), &StepOutputs::new()).await.unwrap_or_else(|e| panic!("the create failed: {e}"));
    assert!(consumed(&emu), "a fault was not hit");
    emu.clear_faults();
    let eks = aws_sdk_eks::Client::new(&emu.sdk().await);
    assert_eq!(eks.list_clusters().send().await.unwrap().clusters(), [CLUSTER]);
    assert_eq!(eks.list_nodegroups().cluster_name(CLUSTER).send().await.unwrap().nodegroups(), ["general"]);
    assert_eq!(eks.list_access_entries().cluster_name(CLUSTER).send().await.unwrap().access_entries().len(), 1);
    let addons = outs.keys().filter(|k| k.starts_with("addon/")).count();
    assert_eq!(eks.list_addons().cluster_name(CLUSTER).send().await.unwrap().addons().len(), addons);
    destroy_all(&emu, &outs).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_lost_update_cluster_version_answer_is_done_in_the_same_run() {
    // The retry is refused (EKS won't "upgrade" to the version the cluster runs now).
    fast_retries();
    let emu = Emulator::start_with_time_scale(0.0);
    let aws = emu.aws().await;
    let outs = up(&aws, &plan_a(), &StepOutputs::new()).await.unwrap();
    emu.fault(lost_answer(&op_of("POST /clusters/fm/updates  ", "eks")));
    let outs = up(&aws, &plan_b(), &outs).await.unwrap_or_else(|e| panic!("the update failed: {e}"));
    assert!(consumed(&emu), "the fault was not hit");
    emu.clear_faults();
    let eks = aws_sdk_eks::Client::new(&emu.sdk().await);
    let c = eks.describe_cluster().name(CLUSTER).send().await.unwrap();
    assert_eq!(c.cluster().and_then(|c| c.version()), Some("1.35"));
    destroy(&aws, &plan_b(), &outs).await.unwrap();
    assert_eq!(emu.leftovers(), NO_LEFTOVERS);
}
