//! Plugin start: spawn-to-port time and RSS after GetSchema, over N runs (median and p90).
//! `cargo bench -p secure-eks-server --bench plugin_start -- [runs]` (default 20).
//! Prints a table; never asserts on time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use secure_eks_proto::pulumirpc::resource_provider_client::ResourceProviderClient;
use secure_eks_proto::pulumirpc::GetSchemaRequest;

mod support;
use support::metric;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(String::from))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20);
    let bin = std::env::var("SECURE_EKS_PLUGIN").unwrap_or_else(|_| {
        let exe = std::env::current_exe().unwrap();
        // target/<profile>/deps/plugin_start-xxxx -> target/<profile>/pulumi-resource-secure-eks
        exe.parent().unwrap().parent().unwrap().join("pulumi-resource-secure-eks").display().to_string()
    });
    let mut start_ms = Vec::new();
    let mut rss_mib = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut child = Command::new(&bin).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn plugin");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        start_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let port: u16 = line.trim().parse().unwrap();
        let mut c = ResourceProviderClient::connect(format!("http://127.0.0.1:{port}")).await.unwrap();
        let s = c.get_schema(GetSchemaRequest::default()).await.unwrap().into_inner().schema;
        assert!(!s.is_empty());
        rss_mib.push(rss_kib(child.id()) as f64 / 1024.0);
        let _ = child.kill();
        let _ = child.wait();
    }
    println!("plugin: {bin}");
    println!("| metric ({runs} runs) | median | p90 |");
    println!("|---|---|---|");
    println!("| spawn to port line (ms) | {:.2} | {:.2} |", pct(&mut start_ms.clone(), 0.5), pct(&mut start_ms, 0.9));
    println!("| RSS after GetSchema (MiB) | {:.1} | {:.1} |", pct(&mut rss_mib.clone(), 0.5), pct(&mut rss_mib.clone(), 0.9));
    metric("start.ms.p50", pct(&mut start_ms.clone(), 0.5));
    metric("start.ms.p90", pct(&mut start_ms, 0.9));
    metric("start.rss_mib.p50", pct(&mut rss_mib.clone(), 0.5));
    metric("start.rss_mib.p90", pct(&mut rss_mib, 0.9));
}
