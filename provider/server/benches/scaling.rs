//! Scaling: plan time (decode, defaults, `plan::plan`) and pure Check time (decode, defaults,
//! rules with waiver hygiene, encode) for the full spec with 1, 10 and 100 node groups, and the
//! time per node group, to show that both grow linearly.
//!
//! `cargo bench -p secure-eks-server --bench scaling -- [iterations]` (default 300). Prints p50 in
//! microseconds; never asserts on time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use secure_eks_core::codec;
use secure_eks_core::model::{Autoname, ClusterArgs};
use secure_eks_core::rules::{self, RuleCtx};
use secure_eks_core::value::{PropertyMap, Value};

mod support;
use support::{facts, metric, news, pct, sorted, REGION, TODAY};

const SIZES: [usize; 3] = [1, 10, 100];

fn plan_once(news: &PropertyMap) -> usize {
    let d = codec::decode::<ClusterArgs>(&Value::Object(news.clone())).unwrap();
    let spec = d.value.with_defaults(Autoname::Proposed("bench-cluster"), Some(REGION));
    secure_eks_core::plan::plan(&spec, REGION, &BTreeMap::new()).unwrap().steps.len()
}

fn check_once(news: &PropertyMap, facts: &rules::AwsFacts) -> usize {
    let d = codec::decode::<ClusterArgs>(&Value::Object(news.clone())).unwrap();
    let spec = d.value.with_defaults_around(Autoname::Proposed("bench-cluster"), Some(REGION), &d.annotations);
    let ctx = RuleCtx { spec: &spec, annotations: &d.annotations, olds: None, region: Some(REGION), today: TODAY, aws: Some(facts) };
    let report = rules::evaluate(&ctx);
    let hygiene = rules::waiver_hygiene(&ctx, &report);
    let out = codec::encode(&spec, &d.annotations).unwrap();
    black_box((&hygiene, &out));
    report.failures.len()
}

fn p50_us(iterations: usize, mut f: impl FnMut()) -> f64 {
    let warmup = (iterations / 10).max(3);
    let v: Vec<f64> = (0..warmup + iterations)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .skip(warmup)
        .collect();
    pct(&sorted(&v), 0.5)
}

fn main() {
    let iterations: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(300).max(5);
    println!("Scaling, p50 of {iterations} iterations; times in µs");
    println!("| node groups | plan steps | plan p50 | plan per group | Check p50 | Check per group |");
    println!("|---|---|---|---|---|---|");
    let mut points = Vec::new();
    for n in SIZES {
        let news = news(n);
        let facts = facts(&news);
        let steps = plan_once(&news);
        let plan = p50_us(iterations, || {
            black_box(plan_once(&news));
        });
        let check = p50_us(iterations, || {
            black_box(check_once(&news, &facts));
        });
        println!("| {n} | {steps} | {plan:.1} | {:.2} | {check:.1} | {:.2} |", plan / n as f64, check / n as f64);
        metric(&format!("scale.plan.{n}.p50"), plan);
        metric(&format!("scale.check.{n}.p50"), check);
        metric(&format!("scale.steps.{n}"), steps as f64);
        points.push((n, plan, check));
    }
    // Marginal cost of a node group between sizes: constant if the growth is linear.
    println!();
    println!("| from → to | plan µs per added group | Check µs per added group |");
    println!("|---|---|---|");
    for w in points.windows(2) {
        let ((a, pa, ca), (b, pb, cb)) = (w[0], w[1]);
        let d = (b - a) as f64;
        println!("| {a} → {b} | {:.2} | {:.2} |", (pb - pa) / d, (cb - ca) / d);
        metric(&format!("scale.plan.marginal.{a}-{b}"), (pb - pa) / d);
        metric(&format!("scale.check.marginal.{a}-{b}"), (cb - ca) / d);
    }
}
