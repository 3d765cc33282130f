//! Three clusters in three regions (one explicit `pulumi:providers:secure-eks` per region, all on
//! the emulator) through the real Pulumi CLI with its default parallelism: `up` succeeds, each
//! region holds exactly one cluster, `destroy` leaves nothing in any region, and every provider
//! process stays under [`RSS_LIMIT_KB`] resident memory throughout (sampled from
//! `/proc/<pid>/status` every 50 ms during `up` and `destroy`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::cli::{provider_pids, Workspace, NOTHING_LEFT};
use common::emulator::Emulator;

const REGIONS: [&str; 3] = ["us-east-1", "us-west-2", "eu-west-1"];
/// The resident-memory ceiling for one provider process.
const RSS_LIMIT_KB: u64 = 60 * 1024;
const ONE_CLUSTER: &str = "vpcs=1 subnets=6 sgs=3 endpoints=9 launchTemplates=1 clusters=1";
const NOTHING: &str = NOTHING_LEFT;

/// Every `pulumi-resource-secure-eks` process whose working directory is `dir`, with its VmRSS (kB).
fn provider_rss(dir: &std::path::Path) -> Vec<(u32, u64)> {
    provider_pids(dir)
        .into_iter()
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let kb = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.split_whitespace().next()?.parse().ok()?;
            Some((pid, kb))
        })
        .collect()
}

/// Samples the providers' RSS every 50 ms until dropped; the maximum per pid.
struct Sampler {
    stop: Arc<AtomicBool>,
    max: Arc<Mutex<BTreeMap<u32, u64>>>,
    samples: Arc<Mutex<u64>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(dir: std::path::PathBuf) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let max: Arc<Mutex<BTreeMap<u32, u64>>> = Arc::default();
        let samples: Arc<Mutex<u64>> = Arc::default();
        let thread = {
            let (stop, max, samples) = (stop.clone(), max.clone(), samples.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    for (pid, kb) in provider_rss(&dir) {
                        let mut m = max.lock().unwrap();
                        let e = m.entry(pid).or_insert(0);
                        *e = (*e).max(kb);
                        *samples.lock().unwrap() += 1;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        Sampler { stop, max, samples, thread: Some(thread) }
    }

    fn finish(mut self) -> (BTreeMap<u32, u64>, u64) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        let max = self.max.lock().unwrap().clone();
        let n = *self.samples.lock().unwrap();
        (max, n)
    }
}

#[test]
fn three_clusters_in_three_regions_up_and_destroy_within_60_mb_per_provider() {
    let emu = Emulator::start();
    let ws = Workspace::new("tests/e2e/three-regions");
    let r = ws.pulumi(&["stack", "init", "dev", "--non-interactive"]);
    assert_eq!(r.code, Some(0), "stack init: {}", r.out);
    let r = ws.pulumi(&["config", "set", "endpoint", &emu.url]);
    assert_eq!(r.code, Some(0), "config set: {}", r.out);
    let dir = ws.dir.canonicalize().unwrap();

    let sampler = Sampler::start(dir.clone());
    let t = Instant::now();
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    let up_time = t.elapsed();
    let (up_max, up_samples) = sampler.finish();
    assert_eq!(up.code, Some(0), "up failed:\n{}", up.out);
    for region in REGIONS {
        let left = emu.leftovers_in(region);
        assert!(left.starts_with(ONE_CLUSTER), "{region}: {left}");
    }

    let sampler = Sampler::start(dir);
    let t = Instant::now();
    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    let destroy_time = t.elapsed();
    let (destroy_max, destroy_samples) = sampler.finish();
    assert_eq!(destroy.code, Some(0), "destroy failed:\n{}", destroy.out);
    for region in REGIONS {
        assert_eq!(emu.leftovers_in(region), NOTHING, "{region}");
    }

    let peak = |m: &BTreeMap<u32, u64>| m.values().copied().max().unwrap_or(0);
    eprintln!(
        "up: {up_time:?}, {} provider processes, {up_samples} samples, max VmRSS {} kB {up_max:?}",
        up_max.len(),
        peak(&up_max)
    );
    eprintln!(
        "destroy: {destroy_time:?}, {} provider processes, {destroy_samples} samples, max VmRSS {} kB {destroy_max:?}",
        destroy_max.len(),
        peak(&destroy_max)
    );
    assert!(up_samples > 0 && destroy_samples > 0, "the sampler saw no provider process");
    for (what, m) in [("up", &up_max), ("destroy", &destroy_max)] {
        for (pid, kb) in m {
            assert!(*kb < RSS_LIMIT_KB, "{what}: provider {pid} reached {kb} kB (limit {RSS_LIMIT_KB} kB)");
        }
    }
}
