//! A driver for profiling the pure Check path (decode, secure defaults, rules, encode) without the
//! server or a runtime: the same stages and the same spec as the `check` bench
//! (`provider/server/benches/check.rs`), built on its own so that it compiles in seconds and can
//! run under `valgrind --tool=callgrind`, whose instruction counts repeat under load.
//!
//! ```sh
//! cargo build -p secure-eks-core --profile profiling --example check_profile
//! valgrind --tool=callgrind target/profiling/examples/check_profile 5 200
//! target/profiling/examples/check_profile 5 2000 --time
//! ```
//!
//! Arguments: node groups (default 5), iterations (default 200); `--time` prints p50/p99 in µs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Instant;

use secure_eks_core::codec;
use secure_eks_core::model::{Autoname, ClusterArgs};
use secure_eks_core::rules::{self, AwsFacts, RuleCtx};
use secure_eks_core::value::{PropertyMap, Value};

#[path = "../../server/benches/support/mod.rs"]
mod support;
use support::{facts, news, pct, REGION, TODAY};

fn pure_check(news: &PropertyMap, olds: &PropertyMap, facts: &AwsFacts) {
    let decoded = codec::decode::<ClusterArgs>(&Value::Object(news.clone())).unwrap();
    let olds = codec::decode::<ClusterArgs>(&Value::Object(olds.clone())).ok().map(|d| d.value);
    let spec = decoded.value.with_defaults_around(
        Autoname::Derived { resource_name: "bench", seed: &[1, 2, 3] },
        Some(REGION),
        &decoded.annotations,
    );
    let ctx = RuleCtx { spec: &spec, annotations: &decoded.annotations, olds: olds.as_ref(), region: Some(REGION), today: TODAY, aws: Some(facts) };
    let report = rules::evaluate(&ctx);
    let hygiene = rules::waiver_hygiene(&ctx, &report);
    black_box((&report, &hygiene));
    black_box(codec::encode(&spec, &decoded.annotations).unwrap());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let nums: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let groups = nums.first().copied().unwrap_or(5);
    let iterations = nums.get(1).copied().unwrap_or(200);
    let time = args.iter().any(|a| a == "--time");
    let news = news(groups);
    let facts = facts(&news);
    let olds = PropertyMap::new();
    let mut v = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        pure_check(&news, &olds, &facts);
        v.push(t.elapsed().as_secs_f64() * 1e6);
    }
    if time {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("pure Check, {groups} node groups, {iterations} iterations: p50 {:.1} µs, p99 {:.1} µs", pct(&v, 0.5), pct(&v, 0.99));
    }
}
