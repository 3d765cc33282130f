//! What the benches share: the full cluster spec they measure (every section set, 20
//! service-account roles, N node groups), the AWS facts that make it pass, percentiles, and the
//! `key value` metrics file that `bench/run.sh` collects (`SECURE_EKS_BENCH_METRICS`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;

use secure_eks_core::codec;
use secure_eks_core::model::{Autoname, ClusterArgs};
use secure_eks_core::rules::{instance_arch, AwsFacts};
use secure_eks_core::value::{PropertyMap, Value};
use serde_json::json;

pub const REGION: &str = "us-east-1";
pub const TODAY: &str = "2026-11-23";
pub const URN: &str = "urn:pulumi:dev::bench::secure-eks:index:SecureEksCluster::bench";

pub const ADDONS: [(&str, &str, &str); 4] = [
    ("vpcCni", "vpc-cni", "v1.19.2-eksbuild.1"),
    ("kubeProxy", "kube-proxy", "v1.34.1-eksbuild.1"),
    ("coreDns", "coredns", "v1.11.3-eksbuild.1"),
    ("podIdentityAgent", "eks-pod-identity-agent", "v1.3.4-eksbuild.1"),
];

pub const USER_DATA: &str = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      maxPods: 110\n      shutdownGracePeriod: 30s\n";

/// A complete, valid spec: every section set, `node_groups` groups, 20 IRSA roles, one secret
/// tag, and one waived finding (group 0's IMDS hop limit).
pub fn spec(node_groups: usize) -> serde_json::Value {
    let groups: Vec<serde_json::Value> = (0..node_groups)
        .map(|i| {
            let types = if i % 2 == 0 { json!(["m7g.large", "m6g.large"]) } else { json!(["m7i.large", "m6i.large"]) };
            json!({
                "name": format!("ng-{i:02}"),
                "instanceTypes": types,
                "capacityType": if i % 3 == 2 { "SPOT" } else { "ON_DEMAND" },
                "minSize": 1, "desiredSize": 2, "maxSize": 5,
                "amiFamily": "AL2023",
                "diskSizeGb": 80,
                "labels": {"example.com/team": format!("team-{i}"), "example.com/tier": "web", "workload": "general"},
                "taints": [{"key": "dedicated", "value": format!("team-{i}"), "effect": "NO_SCHEDULE"}],
                "imdsHopLimit": if i == 0 { 3 } else { 2 },
                "userData": USER_DATA,
            })
        })
        .collect();
    let roles: Vec<serde_json::Value> = (0..20)
        .map(|i| {
            json!({
                "namespace": format!("team-{}", i % 5),
                "name": format!("app-{i}"),
                "policyArns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", format!("arn:aws:iam::123456789012:policy/app-{i}")],
                "inlinePolicy": json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": format!("arn:aws:s3:::bucket-{i}/*")},
                        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": format!("arn:aws:sqs:us-east-1:123456789012:queue-{i}")}
                    ]
                }).to_string(),
            })
        })
        .collect();
    let mut tags = serde_json::Map::new();
    for i in 0..10 {
        tags.insert(format!("tag-{i}"), json!(format!("value-{i}")));
    }
    let addons: serde_json::Map<String, serde_json::Value> = ADDONS
        .iter()
        .map(|(key, _, version)| {
            let mut a = json!({"version": version});
            if *key == "vpcCni" {
                a["configuration"] = json!({"env": {"WARM_PREFIX_TARGET": "1", "WARM_IP_TARGET": "5"}});
            }
            (key.to_string(), a)
        })
        .collect();
    json!({
        "clusterName": "bench-cluster",
        "kubernetesVersion": "1.34",
        "network": {
            "vpcCidr": "10.20.0.0/16",
            "podCidr": "100.64.0.0/16",
            "availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"],
            "prefixDelegation": true,
            "natGateways": "perAz",
            "networkPolicy": true,
            "extraEndpoints": ["ssm", "ssmmessages", "ec2messages", "sqs"]
        },
        "apiAccess": {"private": true, "public": true, "publicCidrs": ["203.0.113.0/24", "198.51.100.0/24"]},
        "encryption": {"kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        "logging": {"types": ["api", "audit", "authenticator", "controllerManager", "scheduler"], "retentionDays": 365},
        "nodeGroups": groups,
        "addons": addons,
        "serviceAccountRoles": roles,
        "clusterAutoscaler": {"enabled": true, "namespace": "kube-system", "serviceAccount": "cluster-autoscaler"},
        "accessEntries": [
            {"principalArn": "arn:aws:iam::123456789012:role/platform-admins", "accessPolicy": "ClusterAdmin"},
            {"principalArn": "arn:aws:iam::123456789012:role/team-a", "accessPolicy": "Edit", "namespaces": ["team-a", "team-a-*"]},
            {"principalArn": "arn:aws:iam::123456789012:user/ci", "accessPolicy": "View"}
        ],
        "permissionsBoundary": "arn:aws:iam::123456789012:policy/eks-boundary",
        "tags": tags,
        "policy": {
            "unknowns": "defer",
            "waivers": [{
                "rule": "SEKS-NODE-003",
                "reason": "the GPU agent reads IMDS through a sidecar; tracked SEC-123",
                "target": "nodeGroups[0]",
                "approvedBy": "security-team"
            }]
        }
    })
}

/// The inputs as the engine sends them: one tag value is secret.
pub fn news(node_groups: usize) -> PropertyMap {
    let Value::Object(mut m) = codec::from_json(&spec(node_groups)) else { unreachable!() };
    if let Some(Value::Object(tags)) = m.get_mut("tags") {
        tags.insert("owner".into(), Value::Secret(Box::new(Value::String("platform-team".into()))));
    }
    m
}

/// What the executor would have looked up in AWS for this spec (everything exists).
pub fn facts(news: &PropertyMap) -> AwsFacts {
    let d = codec::decode::<ClusterArgs>(&Value::Object(news.clone())).unwrap();
    let spec = d.value.with_defaults(Autoname::Disabled, Some(REGION));
    let (types, params, addons) = AwsFacts::wanted(&spec);
    let mut f = AwsFacts::default();
    for t in types {
        let arch = instance_arch(&t).unwrap().to_string();
        f.instance_types.insert(t, vec![arch]);
    }
    for p in params {
        f.ssm_parameters.insert(p, true);
    }
    for (_, name, version) in ADDONS {
        f.addon_versions.insert(name.into(), vec![version.into()]);
    }
    // Every other addon the spec names (the EBS CSI driver is on by default): one version each,
    // as DescribeAddonVersions would list it.
    for name in addons {
        f.addon_versions.entry(name).or_insert_with(|| vec!["v1.0.0-eksbuild.1".into()]);
    }
    // The region's zones (SEKS-NET-012), as DescribeAvailabilityZones gives them for us-east-1.
    f.zones = Some(
        "abcdef"
            .chars()
            .map(|c| secure_eks_core::rules::ZoneFacts {
                name: format!("{REGION}{c}"),
                state: "available".into(),
                zone_type: "availability-zone".into(),
                opt_in_status: "opt-in-not-required".into(),
            })
            .collect(),
    );
    f
}

/// The `p` percentile (0..=1, nearest rank) of sorted values.
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Sorted copy.
pub fn sorted(v: &[f64]) -> Vec<f64> {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

/// Record `key value` in the metrics file named by `SECURE_EKS_BENCH_METRICS`, if any (one line
/// each; `bench/run.sh` builds its summary and docs/performance.md from them).
pub fn metric(key: &str, value: f64) {
    let Ok(path) = std::env::var("SECURE_EKS_BENCH_METRICS") else { return };
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    writeln!(f, "{key} {value}").unwrap();
}
