//! Check: the pure path the Check RPC runs — decode (`codec::decode`), secure defaults
//! (`with_defaults_around`), rule evaluation (`rules::evaluate` plus the waiver hygiene) and
//! encode (`codec::encode`) — and the Check RPC itself through the spawned provider binary, for a
//! full spec (every section set, 20 service-account roles) with 1, 5 and 20 node groups; and
//! Diff the same way (the pure path — Struct→Value of olds and news, then `diff::diff` — and the
//! Diff RPC), for a change of one node group's desired size against the checked inputs.
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
use secure_eks_core::rules::{self, AwsFacts, RuleCtx};
use secure_eks_core::value::{PropertyMap, Value};
use secure_eks_proto::pulumirpc::resource_provider_client::ResourceProviderClient;
use secure_eks_proto::pulumirpc::{CheckRequest, ConfigureRequest, DiffRequest};
use secure_eks_server::wire;
use serde_json::json;

mod support;
use support::{facts, metric, news, pct, REGION, TODAY, URN};

const SIZES: [usize; 3] = [1, 5, 20];

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

/// Print a table row; with `key`, also record `<key>.<n>.p50` and `.p99` (µs) as metrics.
fn row(label: &str, n: usize, mut v: Vec<f64>, key: Option<&str>) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("| {n} | {label} | {:.1} | {:.1} | {:.1} |", pct(&v, 0.5), pct(&v, 0.99), v[v.len() - 1]);
    if let Some(k) = key {
        metric(&format!("{k}.{n}.p50"), pct(&v, 0.5));
        metric(&format!("{k}.{n}.p99"), pct(&v, 0.99));
    }
}

/// The checked inputs Check returns for `news` (defaults filled in, the secret kept), and the
/// same with one change: node group 0's desired size (an in-place update).
fn diff_inputs(news: &PropertyMap) -> (PropertyMap, PropertyMap) {
    let d = codec::decode::<ClusterArgs>(&Value::Object(news.clone())).unwrap();
    let spec = d.value.with_defaults_around(Autoname::Proposed("bench-cluster"), Some(REGION), &d.annotations);
    let Value::Object(old) = codec::encode(&spec, &d.annotations).unwrap() else { unreachable!() };
    let mut new = old.clone();
    let Some(Value::Array(groups)) = new.get_mut("nodeGroups") else { panic!("no nodeGroups") };
    let Some(Value::Object(g)) = groups.first_mut() else { panic!("no node group") };
    g.insert("desiredSize".into(), Value::Number(3.0));
    (old, new)
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
            row(label, n, v, None);
        }
        row("**pure Check total**", n, total, Some("check.pure"));
        row("wire Struct→Value→Struct", n, wire_rt, None);
    }

    // Diff: what the Diff handler does before building its response.
    for n in SIZES {
        let (old, new) = diff_inputs(&news(n));
        let (old_s, new_s) = (wire::to_struct(&old), wire::to_struct(&new));
        let r = secure_eks_core::diff::diff(&old, &new);
        assert!(r.has_changes() && r.replaces.is_empty(), "the bench change is an update: {:?}", r.detailed);
        let mut v = Vec::with_capacity(iterations);
        for i in 0..warmup + iterations {
            let t = Instant::now();
            let o = wire::from_struct(&old_s).unwrap();
            let nw = wire::from_struct(&new_s).unwrap();
            black_box(secure_eks_core::diff::diff(&o, &nw));
            if i >= warmup {
                v.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        row("**pure Diff** (Struct→Value ×2 + diff)", n, v, Some("diff.pure"));
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
    row("GetPluginInfo round trip (transport only)", 0, v, Some("grpc.noop"));
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
        row("gRPC Check round trip", n, v, Some("check.grpc"));
    }
    for n in SIZES {
        let (old, new) = diff_inputs(&news(n));
        let req = DiffRequest {
            id: "bench-cluster".into(),
            urn: URN.into(),
            olds: Some(wire::to_struct(&old)),
            news: Some(wire::to_struct(&new)),
            old_inputs: Some(wire::to_struct(&old)),
            name: "bench".into(),
            r#type: "secure-eks:index:SecureEksCluster".into(),
            ..Default::default()
        };
        let first = c.diff(req.clone()).await.unwrap().into_inner();
        assert!(!first.diffs.is_empty() && first.replaces.is_empty(), "{first:?}");
        let mut v = Vec::with_capacity(iterations);
        for i in 0..warmup + iterations {
            let r = req.clone();
            let t = Instant::now();
            black_box(c.diff(r).await.unwrap());
            if i >= warmup {
                v.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        row("gRPC Diff round trip", n, v, Some("diff.grpc"));
    }
    let _ = child.kill();
    let _ = child.wait();
}
