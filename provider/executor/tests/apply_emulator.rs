//! The executor against the local AWS emulator (moto 5.2.5 + our extensions, see
//! tests/emulator/README.md): apply a defaulted plan, check what AWS now holds, apply again
//! (adoption, no duplicates), refresh, destroy (nothing tagged is left); partial failures through
//! `/_fault` and resuming from `ApplyError::done`.
//!
//! Emulator limits that shape these tests (all from the README's "Gaps"): every resource is
//! ACTIVE/available at once, so the waiters pass on their first poll and timeouts are not
//! exercised; there are no EC2 instances behind node groups and no leaked ENIs, so the ENI
//! cleanup before deleting subnets/SGs only ever sees an empty list. (EC2 `ClientToken`
//! idempotency is the emulator's own addition: moto ignores it.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{Filter, VpcAttributeName};
use secure_eks_core::model::{Autoname, ClusterArgs};
use secure_eks_core::plan::{Plan, StepOutputs};
use secure_eks_executor::ApplyError;
use serde_json::json;
use tokio_util::sync::CancellationToken;

mod support;
use support::{drain, progress, Emulator, EmulatorAws};

// ---------------------------------------------------------------- plans

const REGION: &str = "us-east-1";

fn plan_for(name: &str, extra: serde_json::Value) -> Plan {
    let mut spec = json!({
        "kubernetesVersion": "1.34",
        "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large", "m6g.large"]}],
        "accessEntries": [{"principalArn": "arn:aws:iam::123456789012:role/admin", "accessPolicy": "ClusterAdmin"}],
        "serviceAccountRoles": [{"namespace": "app", "name": "web", "policyArns": ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]}]
    });
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            s.insert(k.clone(), v.clone());
        }
    }
    let args: ClusterArgs = serde_json::from_value(spec).unwrap();
    let args = args.with_defaults(Autoname::Proposed(name), Some(REGION));
    secure_eks_core::plan::plan(&args, REGION, &BTreeMap::new()).unwrap()
}


fn tag_filter(cluster: &str) -> Filter {
    Filter::builder().name("tag:secure-eks:cluster").values(cluster).build()
}

async fn tagged_vpcs(ec2: &aws_sdk_ec2::Client, cluster: &str) -> usize {
    ec2.describe_vpcs().filters(tag_filter(cluster)).send().await.unwrap().vpcs().len()
}

fn ids(o: &StepOutputs) -> BTreeMap<String, String> {
    o.iter().map(|(k, v)| (k.clone(), v.id.clone())).collect()
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apply_adopt_refresh_destroy_round_trip() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let sdk = emu.sdk().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let eks = aws_sdk_eks::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let kms = aws_sdk_kms::Client::new(&sdk);
    let plan = plan_for("rt", json!({}));
    let cancel = CancellationToken::new();
    let (tx, mut rx) = progress();

    // ---- apply
    let t = Instant::now();
    let outs = aws.apply(&plan, &StepOutputs::new(), &cancel, &tx).await.unwrap_or_else(|e| panic!("apply failed: {e:?}"));
    eprintln!("first apply: {} steps in {:?}", outs.len(), t.elapsed());
    assert_eq!(outs.len(), plan.steps.len(), "every step has an output");
    let lines = drain(&mut rx);
    assert!(lines.iter().any(|l| l.starts_with("vpc: created vpc-")), "{lines:?}");
    assert!(lines.iter().any(|l| l == "nodegroup/general: done"), "{lines:?}");

    // VPC with DNS support and hostnames.
    let vpc = outs["vpc"].id.clone();
    for (attr, get) in [
        (VpcAttributeName::EnableDnsSupport, (|o: &aws_sdk_ec2::operation::describe_vpc_attribute::DescribeVpcAttributeOutput| o.enable_dns_support().and_then(|a| a.value())) as fn(&_) -> _),
        (VpcAttributeName::EnableDnsHostnames, |o| o.enable_dns_hostnames().and_then(|a| a.value())),
    ] {
        let o = ec2.describe_vpc_attribute().vpc_id(&vpc).attribute(attr.clone()).send().await.unwrap();
        assert_eq!(get(&o), Some(true), "{attr:?}");
    }
    // Secondary CIDR for pods.
    let v = ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap();
    assert!(v.vpcs()[0].cidr_block_association_set().iter().any(|a| a.cidr_block() == Some("100.64.0.0/16")));
    // Subnets: no public IPs, Kubernetes tags, step tags.
    let subnets = ec2.describe_subnets().filters(tag_filter("rt")).send().await.unwrap();
    assert_eq!(subnets.subnets().len(), 6, "3 node + 3 pod subnets");
    for s in subnets.subnets() {
        assert_eq!(s.map_public_ip_on_launch(), Some(false), "{:?}", s.subnet_id());
        let tag = |k: &str| s.tags().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value()).map(str::to_string);
        assert_eq!(tag("kubernetes.io/cluster/rt").as_deref(), Some("shared"));
        let step = tag("secure-eks:step").unwrap();
        assert_eq!(tag("Name"), Some(format!("rt-{step}")));
        if step.starts_with("subnet/node/") {
            assert_eq!(tag("kubernetes.io/role/internal-elb").as_deref(), Some("1"));
        }
    }
    // Security group rules reference the right groups.
    let rules = ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(&outs["sg/cluster"].id).build())
        .send()
        .await
        .unwrap();
    assert!(rules
        .security_group_rules()
        .iter()
        .any(|r| r.is_egress() == Some(false) && r.from_port() == Some(443) && r.referenced_group_info().and_then(|g| g.group_id()) == Some(outs["sg/node"].id.as_str())));
    // Interface endpoints: private DNS, endpoint SG, all node subnets.
    let vpce = ec2.describe_vpc_endpoints().vpc_endpoint_ids(&outs["vpce/ecr.api"].id).send().await.unwrap();
    let e = &vpce.vpc_endpoints()[0];
    assert_eq!(e.service_name(), Some("com.amazonaws.us-east-1.ecr.api"));
    assert_eq!(e.private_dns_enabled(), Some(true));
    assert_eq!(e.groups()[0].group_id(), Some(outs["sg/endpoints"].id.as_str()));
    assert_eq!(e.subnet_ids().len(), 3);
    let s3 = ec2.describe_vpc_endpoints().vpc_endpoint_ids(&outs["vpce/s3"].id).send().await.unwrap();
    assert_eq!(s3.vpc_endpoints()[0].route_table_ids().len(), 3);
    // Launch template: IMDSv2 required, hop limit 2, encrypted gp3, node SG, no AMI.
    let ltv = ec2.describe_launch_template_versions().launch_template_id(&outs["lt/general"].id).versions("$Latest").send().await.unwrap();
    let data = ltv.launch_template_versions()[0].launch_template_data().unwrap();
    let md = data.metadata_options().unwrap();
    assert_eq!(md.http_tokens().map(|t| t.as_str()), Some("required"));
    assert_eq!(md.http_put_response_hop_limit(), Some(2));
    let ebs = data.block_device_mappings()[0].ebs().unwrap();
    assert_eq!((ebs.encrypted(), ebs.volume_size(), ebs.volume_type().map(|t| t.as_str())), (Some(true), Some(50), Some("gp3")));
    assert_eq!(data.security_group_ids(), [outs["sg/node"].id.clone()]);
    assert!(data.image_id().is_none() && data.user_data().is_none());
    // Cluster: ACTIVE, private only, secrets encrypted with our key, API auth, all log types.
    let c = eks.describe_cluster().name("rt").send().await.unwrap().cluster.unwrap();
    assert_eq!(c.status().map(|s| s.as_str()), Some("ACTIVE"));
    let enc = &c.encryption_config()[0];
    assert_eq!(enc.provider().and_then(|p| p.key_arn()), outs["kms"].arn.as_deref());
    #[allow(deprecated)]
    let resources = enc.resources().to_vec();
    assert_eq!(resources, ["secrets"]);
    assert_eq!(c.access_config().and_then(|a| a.authentication_mode()).map(|m| m.as_str()), Some("API"));
    assert_eq!(c.access_config().and_then(|a| a.bootstrap_cluster_creator_admin_permissions()), Some(false));
    let vpc_cfg = c.resources_vpc_config().unwrap();
    assert!(vpc_cfg.endpoint_private_access() && !vpc_cfg.endpoint_public_access());
    assert_eq!(vpc_cfg.security_group_ids(), [outs["sg/cluster"].id.clone()]);
    assert_eq!(c.role_arn(), outs["role/cluster"].arn.as_deref());
    let log_types: usize = c.logging().unwrap().cluster_logging().iter().filter(|l| l.enabled() == Some(true)).map(|l| l.types().len()).sum();
    assert_eq!(log_types, 5);
    for k in ["endpoint", "certificateAuthorityData", "oidcIssuerUrl", "version"] {
        assert!(outs["cluster"].extra.contains_key(k), "cluster output has {k}: {:?}", outs["cluster"]);
    }
    // KMS: rotation on, alias.
    let rot = kms.get_key_rotation_status().key_id(&outs["kms"].id).send().await.unwrap();
    assert!(rot.key_rotation_enabled());
    let alias = kms.describe_key().key_id("alias/secure-eks/rt").send().await.unwrap();
    assert_eq!(alias.key_metadata().map(|m| m.key_id()), Some(outs["kms"].id.as_str()));
    // Log group retention.
    let lg = logs.describe_log_groups().log_group_name_prefix("/aws/eks/rt/cluster").send().await.unwrap();
    assert_eq!(lg.log_groups()[0].retention_in_days(), Some(90));
    // Node group: release version from SSM, our launch template, autoscaler tags, sizes.
    let param = plan
        .steps
        .iter()
        .find_map(|s| match &s.action {
            secure_eks_core::plan::Action::NodeGroup(n) => n.release_parameter.clone(),
            _ => None,
        })
        .unwrap();
    let release = ssm.get_parameter().name(&param).send().await.unwrap().parameter.unwrap().value.unwrap();
    let ng = eks.describe_nodegroup().cluster_name("rt").nodegroup_name("general").send().await.unwrap().nodegroup.unwrap();
    assert_eq!(ng.release_version(), Some(release.as_str()));
    assert_eq!(outs["nodegroup/general"].extra.get("releaseVersion"), Some(&release));
    assert_eq!(ng.ami_type().map(|t| t.as_str()), Some("AL2023_ARM_64_STANDARD"));
    assert_eq!(ng.launch_template().and_then(|l| l.id()), Some(outs["lt/general"].id.as_str()));
    assert_eq!(ng.tags().unwrap().get("k8s.io/cluster-autoscaler/rt").map(String::as_str), Some("owned"));
    let sc = ng.scaling_config().unwrap();
    assert_eq!((sc.min_size(), sc.desired_size(), sc.max_size()), (Some(1), Some(2), Some(3)));
    // vpc-cni: custom networking with one ENIConfig per AZ (pod subnet + node SG).
    let cni = eks.describe_addon().cluster_name("rt").addon_name("vpc-cni").send().await.unwrap().addon.unwrap();
    let cfg: serde_json::Value = serde_json::from_str(cni.configuration_values().unwrap()).unwrap();
    assert_eq!(cfg["eniConfig"]["subnets"]["us-east-1a"]["id"], json!(outs["subnet/pod/us-east-1a"].id));
    assert_eq!(cfg["eniConfig"]["subnets"]["us-east-1b"]["securityGroups"], json!([outs["sg/node"].id]));
    assert_eq!(cfg["env"]["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"], "true");
    assert_eq!(outs["addon/vpc-cni"].extra.get("version").map(String::as_str), Some("v1.19.2-eksbuild.1"), "the AWS default");
    // OIDC provider and IRSA trust.
    let oidc_arn = outs["oidc"].arn.clone().unwrap();
    let issuer = outs["cluster"].extra["oidcIssuerUrl"].trim_start_matches("https://").to_string();
    assert!(oidc_arn.ends_with(&format!("oidc-provider/{issuer}")));
    let role = iam.get_role().role_name("rt-sa-0").send().await.unwrap().role.unwrap();
    let trust = role.assume_role_policy_document().unwrap().to_string();
    let trust = trust.replace("%3A", ":").replace("%2F", "/").replace("%22", "\"");
    assert!(trust.contains(&oidc_arn) && trust.contains(&format!("{issuer}:sub")), "{trust}");
    let attached = iam.list_attached_role_policies().role_name("rt-node").send().await.unwrap();
    assert_eq!(attached.attached_policies().len(), 4);
    // Access entry with its policy.
    let assoc = eks.list_associated_access_policies().cluster_name("rt").principal_arn("arn:aws:iam::123456789012:role/admin").send().await.unwrap();
    assert_eq!(assoc.associated_access_policies()[0].policy_arn(), Some("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"));
    assert_eq!(tagged_vpcs(&ec2, "rt").await, 1);

    // ---- apply again with the outputs as prior: everything adopted, nothing new
    let t = Instant::now();
    let again = aws.apply(&plan, &outs, &cancel, &tx).await.unwrap_or_else(|e| panic!("second apply failed: {e:?}"));
    eprintln!("second apply (all adopted): {:?}", t.elapsed());
    assert_eq!(ids(&again), ids(&outs));
    assert_eq!(again, outs, "same outputs, extras included");
    assert_eq!(tagged_vpcs(&ec2, "rt").await, 1);
    let lines = drain(&mut rx);
    assert!(!lines.iter().any(|l| l.contains(": created ")), "nothing created on the second apply: {lines:?}");

    // ---- and with no prior at all: found by tags and names
    let t = Instant::now();
    let by_tags = aws.apply(&plan, &StepOutputs::new(), &cancel, &tx).await.unwrap_or_else(|e| panic!("third apply failed: {e:?}"));
    eprintln!("third apply (found by tags/names): {:?}", t.elapsed());
    assert_eq!(ids(&by_tags), ids(&outs));
    assert_eq!(tagged_vpcs(&ec2, "rt").await, 1);

    // ---- refresh: everything still there; a deleted log group is dropped
    let t = Instant::now();
    let fresh = aws.refresh(&plan, &outs).await.unwrap();
    eprintln!("refresh: {:?}", t.elapsed());
    assert_eq!(ids(&fresh), ids(&outs));
    assert_eq!(fresh["nodegroup/general"].extra.get("releaseVersion"), Some(&release));
    logs.delete_log_group().log_group_name("/aws/eks/rt/cluster").send().await.unwrap();
    let fresh = aws.refresh(&plan, &outs).await.unwrap();
    assert!(!fresh.contains_key("loggroup") && fresh.len() == outs.len() - 1);

    // An ENI the VPC CNI leaked (detached, "available") in a node subnet with the node SG. The
    // emulator does not refuse DeleteSubnet/DeleteSecurityGroup while ENIs remain (AWS answers
    // DependencyViolation), so the check is that destroy deleted it.
    let leaked = ec2
        .create_network_interface()
        .subnet_id(&outs["subnet/node/us-east-1a"].id)
        .groups(&outs["sg/node"].id)
        .description("aws-K8S-i-0123456789abcdef0")
        .send()
        .await
        .unwrap()
        .network_interface
        .unwrap()
        .network_interface_id
        .unwrap();

    // ---- destroy: nothing tagged with the cluster is left
    let t = Instant::now();
    aws.destroy(&plan, &fresh, &cancel, &tx).await.unwrap_or_else(|e| panic!("destroy failed: {e:?}"));
    eprintln!("destroy: {:?}", t.elapsed());
    assert_eq!(tagged_vpcs(&ec2, "rt").await, 0);
    assert!(ec2.describe_network_interfaces().network_interface_ids(&leaked).send().await.is_err(), "the leaked ENI was deleted");
    assert!(ec2.describe_subnets().filters(tag_filter("rt")).send().await.unwrap().subnets().is_empty());
    assert!(ec2.describe_security_groups().filters(tag_filter("rt")).send().await.unwrap().security_groups().is_empty());
    assert!(ec2.describe_route_tables().filters(tag_filter("rt")).send().await.unwrap().route_tables().is_empty());
    assert!(ec2.describe_launch_templates().filters(tag_filter("rt")).send().await.unwrap().launch_templates().is_empty());
    let live_vpce = ec2.describe_vpc_endpoints().filters(tag_filter("rt")).send().await.unwrap();
    assert!(live_vpce.vpc_endpoints().iter().all(|e| e.state().map(|s| s.as_str()) == Some("deleted")));
    for r in ["rt-cluster", "rt-node", "rt-cluster-autoscaler", "rt-sa-0"] {
        let e = iam.get_role().role_name(r).send().await.unwrap_err();
        assert_eq!(aws_sdk_iam::error::ProvideErrorMetadata::code(&e), Some("NoSuchEntity"), "{r}");
    }
    assert!(iam.list_open_id_connect_providers().send().await.unwrap().open_id_connect_provider_list().is_empty());
    assert!(eks.list_clusters().send().await.unwrap().clusters().is_empty());
    assert!(logs.describe_log_groups().log_group_name_prefix("/aws/eks/rt/").send().await.unwrap().log_groups().is_empty());
    let key = kms.describe_key().key_id(&outs["kms"].id).send().await.unwrap();
    assert_eq!(key.key_metadata().and_then(|m| m.key_state()).map(|s| s.as_str()), Some("PendingDeletion"));
    assert!(kms.describe_key().key_id("alias/secure-eks/rt").send().await.is_err(), "alias deleted");
    // Idempotent: destroying again (everything already gone) succeeds.
    aws.destroy(&plan, &fresh, &cancel, &tx).await.unwrap_or_else(|e| panic!("second destroy failed: {e:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partial_failures_resume_from_done_without_duplicates() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let sdk = emu.sdk().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let eks = aws_sdk_eks::Client::new(&sdk);
    let plan = plan_for("pf", json!({}));
    let cancel = CancellationToken::new();
    let (tx, _rx) = progress();

    // 1. The AMI release parameter is missing: a clear reason, the cluster is in `done`.
    emu.fault(json!({"match": "AmazonSSM.GetParameter", "status": 400, "code": "ParameterNotFound", "message": "injected", "count": -1}));
    let t = Instant::now();
    let ApplyError { done, reasons } = aws.apply(&plan, &StepOutputs::new(), &cancel, &tx).await.unwrap_err();
    eprintln!("apply with a missing SSM parameter: {:?}", t.elapsed());
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].starts_with("nodegroup/general: the SSM parameter /aws/service/eks/optimized-ami/1.34/amazon-linux-2023/arm64/"), "{reasons:?}");
    assert!(done.contains_key("cluster") && done.contains_key("lt/general") && !done.contains_key("nodegroup/general"));
    assert!(!done.contains_key("addon/coredns"), "nothing after the failure started");
    emu.clear_faults();

    // 2. CreateNodegroup fails (non-retryable): done has the cluster and everything before.
    emu.fault(json!({"match": "^POST /clusters/pf/node-groups ", "status": 400, "code": "InvalidParameterException", "message": "injected: subnets are full", "count": -1}));
    let ApplyError { done: done2, reasons } = aws.apply(&plan, &done, &cancel, &tx).await.unwrap_err();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].starts_with("nodegroup/general: ") && reasons[0].contains("InvalidParameterException") && reasons[0].contains("subnets are full"), "{reasons:?}");
    assert_eq!(ids(&done2), ids(&done), "nothing re-created");
    emu.clear_faults();

    // 3. Resume from done: finishes, no second VPC or cluster.
    let cluster_arn = done2["cluster"].arn.clone();
    let outs = aws.apply(&plan, &done2, &cancel, &tx).await.unwrap_or_else(|e| panic!("resume failed: {e:?}"));
    assert_eq!(outs.len(), plan.steps.len());
    assert_eq!(outs["vpc"].id, done2["vpc"].id);
    assert_eq!(outs["cluster"].arn, cluster_arn);
    assert_eq!(tagged_vpcs(&ec2, "pf").await, 1);
    assert_eq!(eks.list_clusters().send().await.unwrap().clusters(), ["pf"]);
    assert_eq!(eks.list_nodegroups().cluster_name("pf").send().await.unwrap().nodegroups(), ["general"]);

    // 4. A failing delete: destroy stops with what still exists, and a second destroy finishes.
    emu.fault(json!({"match": "^DELETE /clusters/pf ", "status": 400, "code": "InvalidRequestException", "message": "injected", "count": 1}));
    let ApplyError { done: left, reasons } = aws.destroy(&plan, &outs, &cancel, &tx).await.unwrap_err();
    assert!(reasons.iter().any(|r| r.starts_with("cluster: ")), "{reasons:?}");
    assert!(left.contains_key("cluster") && left.contains_key("vpc") && left.contains_key("role/cluster"));
    assert!(!left.contains_key("nodegroup/general"), "the node group was deleted before the cluster");
    // 5. DependencyViolation (something still holds the VPC, e.g. an ENI on its way out) is
    //    retried within a budget, not a failure.
    emu.fault(json!({"match": "DeleteVpc$", "status": 400, "code": "DependencyViolation", "message": "injected: the vpc has dependencies", "count": 1}));
    aws.destroy(&plan, &left, &cancel, &tx).await.unwrap_or_else(|e| panic!("second destroy failed: {e:?}"));
    let rules = emu.fault(json!({"match": "^NEVER$", "count": 0}));
    let hit = rules.as_array().into_iter().flatten().any(|r| r["match"] == "DeleteVpc$" && r["count"] == 0);
    assert!(hit, "the DependencyViolation was not injected: {rules}");
    assert_eq!(tagged_vpcs(&ec2, "pf").await, 0);
    assert!(eks.list_clusters().send().await.unwrap().clusters().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nat_bring_your_own_key_pinned_ami_and_cancellation() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let sdk = emu.sdk().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let plan = plan_for(
        "nat",
        json!({
            "network": {"natGateways": "single"},
            "encryption": {"kmsKeyArn": key},
            "nodeGroups": [{"name": "pinned", "instanceTypes": ["m7i.large"], "amiId": "ami-ekslinux", "userData": "#!/bin/bash\necho hello"}]
        }),
    );
    let (tx, mut rx) = progress();

    // Cancelled before it starts: nothing happens, the reason says so.
    let cancelled = CancellationToken::new();
    cancelled.cancel();
    let e = aws.apply(&plan, &StepOutputs::new(), &cancelled, &tx).await.unwrap_err();
    assert_eq!(e.reasons, ["cancelled"]);
    assert!(e.done.is_empty());

    // A role with our name that someone else made is not adopted.
    let iam = aws_sdk_iam::Client::new(&sdk);
    iam.create_role().role_name("nat-node").assume_role_policy_document("{}").send().await.unwrap();
    let e = aws.apply(&plan, &StepOutputs::new(), &CancellationToken::new(), &tx).await.unwrap_err();
    assert!(e.reasons.iter().any(|r| r.starts_with("role/node: IAM role nat-node already exists and is not ours (it has no secure-eks:cluster tag")), "{:?}", e.reasons);
    assert!(!e.done.contains_key("role/node"));
    iam.delete_role().role_name("nat-node").send().await.unwrap();

    // IAM propagation: EKS does not see the new cluster role yet, twice; the SDK retries it.
    emu.fault(json!({"match": "^POST /clusters ", "status": 400, "code": "InvalidParameterException",
        "message": "Role with arn: arn:aws:iam::123456789012:role/nat-cluster, could not be assumed because it does not exist or the trusted entity is not correct", "count": 2}));
    let cancel = CancellationToken::new();
    let t = Instant::now();
    let outs = aws.apply(&plan, &StepOutputs::new(), &cancel, &tx).await.unwrap_or_else(|e| panic!("apply failed: {e:?}"));
    eprintln!("apply with NAT (and two IAM propagation retries): {} steps in {:?}", outs.len(), t.elapsed());
    let rules = emu.fault(json!({"match": "^NEVER$", "count": 0}));
    assert_eq!(rules[0]["count"], 0, "both injected CreateCluster failures were retried: {rules}");
    emu.clear_faults();
    // NAT: an internet gateway, a public subnet with a NAT gateway, private default routes via NAT.
    let nat = &outs["nat/us-east-1a"];
    let rt = ec2.describe_route_tables().route_table_ids(&outs["rtb/us-east-1b"].id).send().await.unwrap();
    assert!(rt.route_tables()[0].routes().iter().any(|r| r.destination_cidr_block() == Some("0.0.0.0/0") && r.nat_gateway_id() == Some(nat.id.as_str())));
    let public = ec2.describe_route_tables().route_table_ids(&outs["rtb/public"].id).send().await.unwrap();
    assert!(public.route_tables()[0].routes().iter().any(|r| r.gateway_id() == Some(outs["igw"].id.as_str())));
    // The existing key is used and marked as existing.
    assert_eq!(outs["kms"].arn.as_deref(), Some(key.as_str()));
    // Pinned AMI: image id and a nodeadm NodeConfig with the cluster's endpoint, then the user's script.
    let ltv = ec2.describe_launch_template_versions().launch_template_id(&outs["lt/pinned"].id).versions("$Latest").send().await.unwrap();
    let data = ltv.launch_template_versions()[0].launch_template_data().unwrap();
    assert_eq!(data.image_id(), Some("ami-ekslinux"));
    let ud = String::from_utf8(aws_smithy_types::base64::decode(data.user_data().unwrap()).unwrap()).unwrap();
    assert!(ud.contains("kind: NodeConfig") && ud.contains(&format!("apiServerEndpoint: {}", outs["cluster"].extra["endpoint"])), "{ud}");
    assert!(ud.contains("echo hello"));

    let t = Instant::now();
    aws.destroy(&plan, &outs, &cancel, &tx).await.unwrap_or_else(|e| panic!("destroy failed: {e:?}"));
    eprintln!("destroy with NAT: {:?}", t.elapsed());
    for l in drain(&mut rx).iter().filter(|l| l.contains("leftover") || l.contains("warning")) {
        eprintln!("{l}");
    }
    assert_eq!(tagged_vpcs(&ec2, "nat").await, 0);
    let addrs = ec2.describe_addresses().filters(tag_filter("nat")).send().await.unwrap();
    assert!(addrs.addresses().is_empty(), "the Elastic IP is released");
    // The existing key is never deleted.
    let m = kms.describe_key().key_id(&key).send().await.unwrap().key_metadata.unwrap();
    assert_eq!(m.key_state().map(|s| s.as_str()), Some("Enabled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_mid_run_keeps_what_was_created_and_resumes() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let sdk = emu.sdk().await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    let plan = plan_for("cx", json!({}));
    let (tx, mut rx) = progress();
    // DescribeCluster is slow, so the run is cancelled while the cluster step waits for ACTIVE.
    emu.fault(json!({"match": "^GET /clusters/cx ", "status": 0, "delay_ms": 1500, "count": -1}));
    let cancel = CancellationToken::new();
    let run = {
        let (aws, plan, cancel, tx) = (aws.clone(), plan.clone(), cancel.clone(), tx.clone());
        tokio::spawn(async move { aws.apply(&plan, &StepOutputs::new(), &cancel, &tx).await })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = tokio::time::timeout_at(deadline.into(), rx.recv()).await.unwrap().unwrap();
        if line.starts_with("cluster: creating cluster") {
            break;
        }
    }
    let t = Instant::now();
    cancel.cancel();
    let ApplyError { done, reasons } = run.await.unwrap().unwrap_err();
    eprintln!("cancel took effect after {:?}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(5), "a cancel does not wait for the cluster to become ACTIVE");
    assert_eq!(reasons, ["cancelled"]);
    assert!(done.contains_key("cluster"), "the cluster was created and is recorded: {:?}", done.keys());
    assert!(!done.contains_key("oidc") && !done.contains_key("addon/vpc-cni"));
    emu.clear_faults();

    let outs = aws.apply(&plan, &done, &CancellationToken::new(), &tx).await.unwrap_or_else(|e| panic!("resume failed: {e:?}"));
    assert_eq!(outs["cluster"].arn, done["cluster"].arn);
    assert_eq!(eks.list_clusters().send().await.unwrap().clusters(), ["cx"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn existing_vpc_and_subnets_are_used_and_never_deleted() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let sdk = emu.sdk().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let vpc = ec2.create_vpc().cidr_block("10.20.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
    // Private DNS for the interface endpoints needs DNS hostnames (off by default for a new VPC).
    let on = aws_sdk_ec2::types::AttributeBooleanValue::builder().value(true).build();
    ec2.modify_vpc_attribute().vpc_id(&vpc).enable_dns_hostnames(on).send().await.unwrap();
    let mut subnets = Vec::new();
    for (az, cidr) in [("us-east-1a", "10.20.0.0/20"), ("us-east-1b", "10.20.16.0/20")] {
        let s = ec2.create_subnet().vpc_id(&vpc).cidr_block(cidr).availability_zone(az).send().await.unwrap();
        subnets.push(s.subnet.unwrap().subnet_id.unwrap());
    }
    let plan = plan_for(
        "byo",
        json!({"network": {"existingVpc": {"vpcId": vpc, "nodeSubnetIds": subnets}, "availabilityZones": ["us-east-1a", "us-east-1b"]}}),
    );
    let (tx, _rx) = progress();
    let cancel = CancellationToken::new();
    let outs = aws.apply(&plan, &StepOutputs::new(), &cancel, &tx).await.unwrap_or_else(|e| panic!("apply failed: {e:?}"));
    assert_eq!(outs["vpc"].id, vpc);
    assert_eq!(outs["vpc"].extra.get("existing").map(String::as_str), Some("true"));
    assert_eq!(outs["subnet/node/0"].id, subnets[0]);
    let c = aws_sdk_eks::Client::new(&sdk).describe_cluster().name("byo").send().await.unwrap().cluster.unwrap();
    assert_eq!(c.resources_vpc_config().unwrap().subnet_ids(), subnets.as_slice());

    aws.destroy(&plan, &outs, &cancel, &tx).await.unwrap_or_else(|e| panic!("destroy failed: {e:?}"));
    let v = ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap();
    assert_eq!(v.vpcs().len(), 1, "the existing VPC is kept");
    assert!(!v.vpcs()[0].cidr_block_association_set().iter().any(|a| a.cidr_block() == Some("100.64.0.0/16")
        && a.cidr_block_state().and_then(|s| s.state()).map(|s| s.as_str()) == Some("associated")), "our pod CIDR is gone");
    assert_eq!(ec2.describe_subnets().subnet_ids(&subnets[0]).subnet_ids(&subnets[1]).send().await.unwrap().subnets().len(), 2, "existing subnets are kept");
    assert!(ec2.describe_subnets().filters(tag_filter("byo")).send().await.unwrap().subnets().is_empty(), "our pod subnets are gone");
}
