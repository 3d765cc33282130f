//! Check: the pure path the Check RPC runs — decode (`codec::decode`), secure defaults
//! (`with_defaults_around`), rule evaluation (`rules::evaluate` plus the waiver hygiene) and
//! encode (`codec::encode`) — and the Check RPC itself through the spawned provider binary, for a
//! full spec (every section set, 20 service-account roles) with 1, 5 and 20 node groups.
//!
//! `cargo bench -p secure-eks-server --bench check -- [iterations]` (default 2000; e.g. 200 for a
//! light run). Prints p50/p99 in microseconds per stage; never asserts on time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use secure_eks_core::codec;
use secure_eks_core::model::{Autoname, ClusterArgs};
use secure_eks_core::rules::{self, instance_arch, AwsFacts, RuleCtx};
use secure_eks_core::value::{PropertyMap, Value};
use secure_eks_proto::pulumirpc::resource_provider_client::ResourceProviderClient;
use secure_eks_proto::pulumirpc::{CheckRequest, ConfigureRequest};
use secure_eks_server::wire;
use serde_json::json;

const REGION: &str = "us-east-1";
const TODAY: &str = "2026-11-23";
const URN: &str = "urn:pulumi:dev::bench::secure-eks:index:SecureEksCluster::bench";
const SIZES: [usize; 3] = [1, 5, 20];

const ADDONS: [(&str, &str, &str); 4] = [
    ("vpcCni", "vpc-cni", "v1.19.2-eksbuild.1"),
    ("kubeProxy", "kube-proxy", "v1.34.1-eksbuild.1"),
    ("coreDns", "coredns", "v1.11.3-eksbuild.1"),
    ("podIdentityAgent", "eks-pod-identity-agent", "v1.3.4-eksbuild.1"),
];

const USER_DATA: &str = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      maxPods: 110\n      shutdownGracePeriod: 30s\n";

/// A complete, valid spec: every section set, `node_groups` groups, 20 IRSA roles, one secret
/// tag, and one waived finding (group 0's IMDS hop limit).
fn spec(node_groups: usize) -> serde_json::Value {
    let groups: Vec<serde_json::Value> = (0..node_groups)
        .map(|i| {
            let types = if i % 2 == 0 { json!(["m7g.large", "m6g.large"]) } else { json!(["m7i.large", "m6i.large"]) };
            json!({
                "name": format!("ng-{i:02}"),
                "instanceTypes": types,
                "capacityType": if i % 3 == 2 { "SPOT" } else { "ON_DEMAND" },
                "minSize": 1, "desiredSize": 2, "maxSize": 5,
                "amiFamily": "AL2023",
                "diskSizeGiB": 80,
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
fn news(node_groups: usize) -> PropertyMap {
    let Value::Object(mut m) = codec::from_json(&spec(node_groups)) else { unreachable!() };
    if let Some(Value::Object(tags)) = m.get_mut("tags") {
        tags.insert("owner".into(), Value::Secret(Box::new(Value::String("platform-team".into()))));
    }
    m
}

/// What the executor would have looked up in AWS for this spec (everything exists).
fn facts(news: &PropertyMap) -> AwsFacts {
    let d = codec::decode::<ClusterArgs>(&Value::Object(news.clone())).unwrap();
    let spec = d.value.with_defaults(Autoname::Disabled, Some(REGION));
    let (types, params, _) = AwsFacts::wanted(&spec);
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
    f
}

/// Stage times of one pure Check, in µs: [decode, defaults, rules, encode].
fn pure_check(news: &PropertyMap, olds: &PropertyMap, facts: &AwsFacts) -> [f64; 4] {
    let us = |t: Instant| t.elapsed().as_secs_f64() * 1e6;
    let t = Instant::now();
    let decoded = codec::decode::<ClusterArgs>(&Value::Object(news.clone())).unwrap();
    let olds = codec::decode::<ClusterArgs>(&Value::Object(olds.clone())).ok().map(|d| d.value);
    let decode = us(t);

    let t = Instant::now();
    let spec = decoded.value.with_defaults_around(
        Autoname::Derived { resource_name: "bench", seed: &[1, 2, 3] },
        Some(REGION),
        &decoded.annotations,
    );
    let defaults = us(t);

    let t = Instant::now();
    let ctx = RuleCtx { spec: &spec, annotations: &decoded.annotations, olds: olds.as_ref(), region: Some(REGION), today: TODAY, aws: Some(facts) };
    let report = rules::evaluate(&ctx);
    let hygiene = rules::waiver_hygiene(&ctx, &report);
    let rules = us(t);
    black_box((&report, &hygiene));

    let t = Instant::now();
    let inputs = codec::encode(&spec, &decoded.annotations).unwrap();
    let encode = us(t);
    black_box(inputs);
    [decode, defaults, rules, encode]
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn row(label: &str, n: usize, mut v: Vec<f64>) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("| {n} | {label} | {:.1} | {:.1} | {:.1} |", pct(&v, 0.5), pct(&v, 0.99), v[v.len() - 1]);
}

#[tokio::main]
async fn main() {
    let iterations: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(2000).max(10);
    let warmup = (iterations / 10).max(5);

    // The spec must be what we mean to measure: it passes, with exactly the one waived finding.
    for n in SIZES {
        let news = news(n);
        let d = codec::decode::<ClusterArgs>(&Value::Object(news.clone())).unwrap();
        let spec = d.value.with_defaults_around(Autoname::Proposed("bench-cluster"), Some(REGION), &d.annotations);
        let facts = facts(&news);
        let ctx = RuleCtx { spec: &spec, annotations: &d.annotations, olds: None, region: Some(REGION), today: TODAY, aws: Some(&facts) };
        let r = rules::evaluate(&ctx);
        let msgs: Vec<&str> = r.failures.iter().chain(r.warnings.iter()).map(|f| f.message.as_str()).collect();
        assert!(msgs.is_empty() && r.deferred.is_empty(), "the bench spec must pass: {msgs:#?} {:?}", r.deferred);
        assert_eq!(r.waived.len(), 1, "one waived finding");
    }

    println!("Check, {iterations} iterations after {warmup} warm-up; times in µs");
    println!("| node groups | stage | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    let olds = PropertyMap::new();
    for n in SIZES {
        let news = news(n);
        let facts = facts(&news);
        let mut stages: [Vec<f64>; 4] = Default::default();
        let mut total = Vec::with_capacity(iterations);
        let mut wire_rt = Vec::with_capacity(iterations);
        let request = wire::to_struct(&news);
        for i in 0..warmup + iterations {
            let t = Instant::now();
            let s = pure_check(&news, &olds, &facts);
            let all = t.elapsed().as_secs_f64() * 1e6;
            // The server's own share: Struct -> Value on the way in, Value -> Struct on the way out.
            let t = Instant::now();
            let m = wire::from_struct(&request).unwrap();
            black_box(wire::to_struct(&m));
            let w = t.elapsed().as_secs_f64() * 1e6;
            if i >= warmup {
                for (k, v) in s.into_iter().enumerate() {
                    stages[k].push(v);
                }
                total.push(all);
                wire_rt.push(w);
            }
        }
        for (label, v) in ["decode", "defaults", "rules (evaluate + hygiene)", "encode"].iter().zip(stages) {
            row(label, n, v);
        }
        row("**pure Check total**", n, total);
        row("wire Struct→Value→Struct", n, wire_rt);
    }

    // Where the rule time goes: each rule of the catalogue on its own, at 5 node groups.
    {
        let news = news(5);
        let facts = facts(&news);
        let d = codec::decode::<ClusterArgs>(&Value::Object(news.clone())).unwrap();
        let spec = d.value.with_defaults_around(Autoname::Proposed("bench-cluster"), Some(REGION), &d.annotations);
        let ctx = RuleCtx { spec: &spec, annotations: &d.annotations, olds: None, region: Some(REGION), today: TODAY, aws: Some(&facts) };
        let mut per_rule: Vec<(&str, f64)> = rules::catalogue()
            .iter()
            .map(|rule| {
                let mut v: Vec<f64> = (0..warmup + iterations)
                    .map(|_| {
                        let t = Instant::now();
                        black_box(rule.check(&ctx));
                        t.elapsed().as_secs_f64() * 1e6
                    })
                    .skip(warmup)
                    .collect();
                v.sort_by(|a, b| a.partial_cmp(b).unwrap());
                (rule.meta().id, pct(&v, 0.5))
            })
            .collect();
        per_rule.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
        let sum: f64 = per_rule.iter().map(|(_, t)| t).sum();
        let top: Vec<String> = per_rule.iter().take(6).map(|(id, t)| format!("{id} {t:.1}")).collect();
        println!("| 5 | rules, p50 per rule (sum {sum:.1}; top: {}) | | | |", top.join(", "));
    }

    // The same through the real binary: Configure once (no credentials check, so the AWS-backed
    // rules are deferred), then Check over gRPC on one connection.
    let bin = std::env::var("SECURE_EKS_PLUGIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_pulumi-resource-secure-eks").to_string());
    let mut child = Command::new(&bin).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn plugin");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let port: u16 = line.trim().parse().unwrap();
    let mut c = ResourceProviderClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap()
        .max_decoding_message_size(64 << 20);
    let cfg = json!({"region": REGION, "skipCredentialsValidation": "true"});
    c.configure(ConfigureRequest {
        args: Some(wire::to_struct(&match codec::from_json(&cfg) {
            Value::Object(m) => m,
            _ => unreachable!(),
        })),
        accept_secrets: true,
        accept_resources: true,
        ..Default::default()
    })
    .await
    .unwrap();
    println!("| | **gRPC** (spawned {}) | | | |", bin.rsplit('/').next().unwrap_or(&bin));
    // The transport alone: an RPC that does no work.
    let mut v = Vec::with_capacity(iterations);
    for i in 0..warmup + iterations {
        let t = Instant::now();
        black_box(c.get_plugin_info(()).await.unwrap());
        if i >= warmup {
            v.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    row("GetPluginInfo round trip (transport only)", 0, v);
    for n in SIZES {
        let req = CheckRequest {
            urn: URN.into(),
            olds: Some(wire::to_struct(&PropertyMap::new())),
            news: Some(wire::to_struct(&news(n))),
            random_seed: vec![1, 2, 3],
            name: "bench".into(),
            r#type: "secure-eks:index:SecureEksCluster".into(),
            autonaming: None,
        };
        let first = c.check(req.clone()).await.unwrap().into_inner();
        assert!(first.failures.is_empty(), "{:?}", first.failures);
        let mut v = Vec::with_capacity(iterations);
        for i in 0..warmup + iterations {
            let r = req.clone();
            let t = Instant::now();
            let resp = c.check(r).await.unwrap();
            let us = t.elapsed().as_secs_f64() * 1e6;
            black_box(resp);
            if i >= warmup {
                v.push(us);
            }
        }
        row("gRPC Check round trip", n, v);
    }
    let _ = child.kill();
    let _ = child.wait();
}
