//! Through the real Pulumi CLI and the local AWS emulator (`bench/traced_emulator.py`: the
//! project's emulator plus a request trace):
//!
//! 1. **Preview overhead**: `pulumi preview` of `examples/yaml-minimal` against `pulumi preview`
//!    of an empty YAML program (`bench/empty-yaml`), median of N runs each, and the ratio.
//! 2. **Create vs critical path**: with a `/_fault` rule delaying every AWS call by 50 ms
//!    (status 0 = latency only), the executor's `apply` of the yaml-minimal plan in-process,
//!    where the SDK's operation spans nested under the executor's `step` span give each step's
//!    calls and how many of them run one after another; the plan's critical path weighted by
//!    those sequential calls (`Plan::critical_path_by`); then `pulumi up` of yaml-minimal through
//!    the CLI with the same delay. Reports wall ÷ (critical path in calls × 50 ms), the total
//!    call count and the peak number of calls in flight (from the emulator's trace).
//!
//! `cargo bench -p secure-eks-server --bench create_path -- [runs]` (default 5; the `up` runs
//! are at most 3). Needs the Pulumi CLI (`SECURE_EKS_PULUMI_BIN` or scripts/install-pulumi.sh)
//! and the emulator venv (`SECURE_EKS_EMULATOR_PYTHON` or scripts/install-emulator.sh). Prints
//! tables; never asserts on time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secure_eks_core::model::{Autoname, ClusterArgs, ProviderConfig};
use secure_eks_core::plan::Plan;
use secure_eks_executor::Aws;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tracing::span;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

#[allow(dead_code)]
#[path = "../tests/common/cli.rs"]
mod cli;
mod support;
use support::{metric, pct, sorted};

/// The injected latency of every AWS call.
const DELAY_MS: f64 = 50.0;
const REGION: &str = "us-east-1";

// ---------------------------------------------------------------- the traced emulator

/// One HTTP/1.0 exchange with the emulator's control surface; returns the body.
fn http(port: u16, method: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    assert!(buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200"), "{method} {path}: {buf}");
    buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

struct Emulator {
    child: Child,
    port: u16,
}

impl Emulator {
    fn start() -> Emulator {
        let py = secure_eks_testkit::python();
        let script = secure_eks_testkit::repo_root().join("bench/traced_emulator.py");
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut child = Command::new(&py)
                .arg(&script)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                // AWS's own durations are not what this measures (the injected 50 ms per call
                // is): resources reach their end states at once, as before the time scale.
                .env("SECURE_EKS_EMULATOR_TIME_SCALE", "0")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn the traced emulator");
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(60) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    let e = Emulator { child, port };
                    e.trace_clear();
                    return e;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("the traced emulator did not start");
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn endpoints(&self) -> serde_json::Value {
        secure_eks_testkit::SERVICES.iter().map(|s| (s.to_string(), json!(self.url()))).collect::<serde_json::Map<_, _>>().into()
    }

    /// AWS state and the trace cleared; the fault rules stay.
    fn reset(&self) {
        http(self.port, "POST", "/moto-api/reset", "");
        self.trace_clear();
    }

    fn delay_every_call(&self, ms: f64) {
        http(self.port, "POST", "/_fault", &json!({"match": ".", "status": 0, "delay_ms": ms, "count": -1}).to_string());
    }

    fn clear_faults(&self) {
        http(self.port, "DELETE", "/_fault", "");
    }

    fn trace_clear(&self) {
        http(self.port, "DELETE", "/_trace", "");
    }

    /// (key, start s, end s) of every AWS call since the last clear.
    fn trace(&self) -> Vec<(String, f64, f64)> {
        // The body may be chunk-framed: take the JSON list itself.
        let body = http(self.port, "GET", "/_trace", "");
        let (a, b) = (body.find('[').unwrap(), body.rfind(']').unwrap());
        serde_json::from_str(&body[a..=b]).unwrap()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The most intervals open at one instant.
fn peak_overlap(iv: &[(f64, f64)]) -> usize {
    let mut ev: Vec<(f64, i32)> = iv.iter().flat_map(|&(a, b)| [(a, 1), (b, -1)]).collect();
    // At equal times, ends before starts.
    ev.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)));
    let (mut cur, mut peak) = (0i32, 0i32);
    for (_, d) in ev {
        cur += d;
        peak = peak.max(cur);
    }
    peak as usize
}

/// The longest chain of intervals that run one after another (greedy by earliest end).
fn sequential_depth(iv: &[(f64, f64)]) -> usize {
    let mut v = iv.to_vec();
    v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap());
    let (mut n, mut last_end) = (0, f64::NEG_INFINITY);
    for (a, b) in v {
        if a >= last_end {
            n += 1;
            last_end = b;
        }
    }
    n
}

// ---------------------------------------------------------------- AWS calls per step (tracing)

/// Step id → [(operation, start, end)], times in seconds since the log's origin.
type CallsByStep = BTreeMap<String, Vec<(String, f64, f64)>>;

/// Every SDK operation (span with `rpc.system`) under an executor `step` span.
#[derive(Clone)]
struct CallLog {
    origin: Instant,
    calls: Arc<Mutex<CallsByStep>>,
}

/// Kept in each span's extensions.
struct StepId(String);
struct Call {
    step: Option<String>,
    name: String,
    start: f64,
}

struct IdVisitor(Option<String>);
impl tracing::field::Visit for IdVisitor {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "id" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CallLog {
    fn enabled(&self, m: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        m.is_span() && (m.name() == "step" || m.fields().field("rpc.system").is_some())
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if span.name() == "step" {
            let mut v = IdVisitor(None);
            attrs.record(&mut v);
            span.extensions_mut().insert(StepId(v.0.unwrap_or_default()));
            return;
        }
        let step = span.scope().skip(1).find_map(|s| s.extensions().get::<StepId>().map(|x| x.0.clone()));
        let start = self.origin.elapsed().as_secs_f64();
        span.extensions_mut().insert(Call { step, name: span.name().to_string(), start });
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let ext = span.extensions();
        if let Some(c) = ext.get::<Call>() {
            let end = self.origin.elapsed().as_secs_f64();
            let key = c.step.clone().unwrap_or_else(|| "(outside a step)".into());
            self.calls.lock().unwrap().entry(key).or_default().push((c.name.clone(), c.start, end));
        }
    }
}

/// The plan of examples/yaml-minimal's cluster, as Create builds it.
fn minimal_plan(name: &str) -> Plan {
    let spec: ClusterArgs = serde_json::from_value(json!({
        "kubernetesVersion": "1.34",
        "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large", "m6g.large"]}]
    }))
    .unwrap();
    let spec = spec.with_defaults(Autoname::Proposed(name), Some(REGION));
    secure_eks_core::plan::plan(&spec, REGION, &BTreeMap::new()).unwrap()
}

/// What the in-process apply measured.
struct Apply {
    wall_s: f64,
    plan: Plan,
    /// step id → (calls, calls one after another)
    per_step: BTreeMap<String, (usize, usize)>,
    client_peak: usize,
    mean_call_ms: f64,
}

async fn apply_in_process(emu: &Emulator, log: &CallLog, run: usize) -> Apply {
    let cfg = ProviderConfig {
        region: Some(REGION.into()),
        access_key: Some("testing".into()),
        secret_key: Some("testing".into()),
        endpoints: Some(secure_eks_testkit::SERVICES.iter().map(|s| (s.to_string(), emu.url())).collect()),
        ..Default::default()
    };
    let aws = Aws::new(&cfg, REGION).await;
    let plan = minimal_plan(&format!("bench-{run}"));
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    log.calls.lock().unwrap().clear();
    let t = Instant::now();
    aws.apply(&plan, &BTreeMap::new(), &CancellationToken::new(), &tx).await.unwrap();
    let wall_s = t.elapsed().as_secs_f64();
    let calls = log.calls.lock().unwrap().clone();
    let mut all = Vec::new();
    let per_step = calls
        .iter()
        .map(|(id, v)| {
            let iv: Vec<(f64, f64)> = v.iter().map(|c| (c.1, c.2)).collect();
            all.extend(iv.iter().copied());
            (id.clone(), (v.len(), sequential_depth(&iv)))
        })
        .collect();
    let mean_call_ms = all.iter().map(|(a, b)| b - a).sum::<f64>() / all.len().max(1) as f64 * 1000.0;
    Apply { wall_s, plan, per_step, client_peak: peak_overlap(&all), mean_call_ms }
}

// ---------------------------------------------------------------- main

fn median(v: &[f64]) -> f64 {
    pct(&sorted(v), 0.5)
}

/// `pulumi <args>` in `ws`, timed; panics (with the output) on failure.
fn timed(ws: &cli::Workspace, args: &[&str]) -> f64 {
    let t = Instant::now();
    let r = ws.pulumi(args);
    let s = t.elapsed().as_secs_f64();
    assert_eq!(r.code, Some(0), "pulumi {args:?} failed:\n{}", r.out);
    s
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(5).max(1);
    let up_runs = runs.min(3);
    let log = CallLog { origin: Instant::now(), calls: Arc::default() };
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(log.clone())).unwrap();
    let emu = Emulator::start();

    // 1. Preview overhead (no injected latency).
    let minimal = cli::Workspace::new("examples/yaml-minimal");
    minimal.init_stack_quick(&emu.endpoints());
    let empty = cli::Workspace::new("bench/empty-yaml");
    let r = empty.pulumi(&["stack", "init", "dev", "--non-interactive"]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    let preview = ["preview", "--non-interactive"];
    // One warm-up each (plugin and page caches), then alternate so drift hits both alike.
    timed(&minimal, &preview);
    timed(&empty, &preview);
    let (mut pm, mut pe) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        pm.push(timed(&minimal, &preview));
        pe.push(timed(&empty, &preview));
    }
    let (m, e) = (median(&pm), median(&pe));
    println!("Preview through the CLI, median of {runs} runs (s)");
    println!("| program | median | min | max |");
    println!("|---|---|---|---|");
    for (name, v) in [("examples/yaml-minimal", &pm), ("empty YAML program", &pe)] {
        let s = sorted(v);
        println!("| {name} | {:.3} | {:.3} | {:.3} |", median(v), s[0], s[s.len() - 1]);
    }
    println!("| **ratio** minimal ÷ empty | {:.2} | | |", m / e);
    metric("preview.minimal.s", m);
    metric("preview.empty.s", e);
    metric("preview.ratio", m / e);
    drop(minimal);

    // 2. Create vs critical path, every AWS call delayed.
    emu.reset();
    emu.delay_every_call(DELAY_MS);
    // In-process: the executor alone, with per-step calls from the SDK spans.
    let mut applies = Vec::new();
    for run in 0..up_runs {
        emu.reset();
        applies.push(apply_in_process(&emu, &log, run).await);
    }
    let server_calls = emu.trace();
    let a = applies.iter().min_by(|x, y| x.wall_s.partial_cmp(&y.wall_s).unwrap()).unwrap();
    let seq = |id: &str| a.per_step.get(id).map(|c| c.1 as u64).unwrap_or(0);
    let all = |id: &str| a.per_step.get(id).map(|c| c.0 as u64).unwrap_or(0);
    let (chain_calls, chain) = a.plan.critical_path_by(|s| seq(&s.id));
    let total_calls: usize = a.per_step.values().map(|c| c.0).sum();
    let outside = a.per_step.get("(outside a step)").map(|c| c.0).unwrap_or(0);
    let apply_walls: Vec<f64> = applies.iter().map(|x| x.wall_s).collect();
    let apply_wall = median(&apply_walls);

    // Through the CLI: `pulumi up` of yaml-minimal, a fresh stack and emulator state each run.
    let mut up = Vec::new();
    let mut up_trace = Vec::new();
    for _ in 0..up_runs {
        emu.reset();
        let ws = cli::Workspace::new("examples/yaml-minimal");
        ws.init_stack_quick(&emu.endpoints());
        emu.trace_clear();
        up.push(timed(&ws, &["up", "--yes", "--non-interactive", "--skip-preview"]));
        up_trace = emu.trace();
    }
    // The same CLI steps on the empty program: the engine's own share of an `up`.
    let mut up_empty = Vec::new();
    for _ in 0..up_runs {
        let ws = cli::Workspace::new("bench/empty-yaml");
        let r = ws.pulumi(&["stack", "init", "dev", "--non-interactive"]);
        assert_eq!(r.code, Some(0), "{}", r.out);
        up_empty.push(timed(&ws, &["up", "--yes", "--non-interactive", "--skip-preview"]));
    }
    emu.clear_faults();
    let up_wall = median(&up);
    let up_empty_wall = median(&up_empty);
    let ideal = chain_calls as f64 * DELAY_MS / 1000.0;
    let iv: Vec<(f64, f64)> = up_trace.iter().map(|c| (c.1, c.2)).collect();
    let up_peak = peak_overlap(&iv);
    let up_span = iv.iter().map(|c| c.1).fold(f64::MIN, f64::max) - iv.iter().map(|c| c.0).fold(f64::MAX, f64::min);
    // Calls before the first call of the create itself (Configure's STS check, Check's look-ups).
    let first_create = up_trace.iter().position(|c| c.0.contains("CreateVpc") || c.0.contains("CreateKey")).unwrap_or(0);

    println!();
    println!("Create of examples/yaml-minimal, every AWS call delayed {DELAY_MS} ms");
    println!("| figure | value |");
    println!("|---|---|");
    println!("| plan steps / critical path in steps / max width | {} / {} / {} |", a.plan.steps.len(), a.plan.critical_path_len(), a.plan.max_width());
    // The trace holds the last apply only (every run resets the emulator first).
    println!("| AWS calls of the create (in-process apply; server-side count) | {total_calls} ({outside} outside steps); {} |", server_calls.len());
    println!("| critical path in sequential calls | {chain_calls} (by all calls of each step: {}) |", a.plan.critical_path_by(|s| all(&s.id)).0);
    println!("| chain | {} |", chain.iter().map(|id| format!("{id} ×{}", seq(id))).collect::<Vec<_>>().join(" → "));
    println!("| ideal: chain × {DELAY_MS} ms | {ideal:.3} s |");
    println!("| mean call latency seen by the SDK | {:.1} ms |", a.mean_call_ms);
    println!("| in-process apply wall (median of {up_runs}) | {apply_wall:.3} s |");
    println!("| **apply ÷ ideal** | {:.2} |", apply_wall / ideal);
    println!("| apply ÷ (chain × mean call latency) | {:.2} |", apply_wall / (chain_calls as f64 * a.mean_call_ms / 1000.0));
    println!("| peak calls in flight (in-process, client side) | {} |", a.client_peak);
    println!("| `pulumi up` wall (median of {up_runs}) | {up_wall:.3} s |");
    println!("| **`pulumi up` ÷ ideal** | {:.2} |", up_wall / ideal);
    println!("| `pulumi up` of the empty program (engine alone) | {up_empty_wall:.3} s |");
    println!("| (`up` − empty `up`) ÷ ideal | {:.2} |", (up_wall - up_empty_wall) / ideal);
    println!("| AWS calls of `pulumi up` (server side) / before the first create call | {} / {first_create} |", up_trace.len());
    println!("| first to last AWS call of `pulumi up` | {up_span:.3} s |");
    println!("| peak calls in flight during `pulumi up` (server side) | {up_peak} |");
    println!();
    println!("Calls per step (in-process apply): all / one after another");
    println!("| step | calls | sequential |");
    println!("|---|---|---|");
    for s in &a.plan.steps {
        println!("| {} | {} | {} |", s.id, all(&s.id), seq(&s.id));
    }
    // For `cargo run -p xtask -- plan-stats --calls <file>`.
    if let Ok(path) = std::env::var("SECURE_EKS_BENCH_CALLS") {
        let calls: BTreeMap<&str, u64> = a.plan.steps.iter().map(|s| (s.id.as_str(), seq(&s.id))).collect();
        std::fs::write(path, serde_json::to_string_pretty(&calls).unwrap()).unwrap();
    }
    metric("create.steps", a.plan.steps.len() as f64);
    metric("create.chain_steps", a.plan.critical_path_len() as f64);
    metric("create.width", a.plan.max_width() as f64);
    metric("create.chain_calls", chain_calls as f64);
    metric("create.calls", total_calls as f64);
    metric("create.apply.s", apply_wall);
    metric("create.apply.ratio", apply_wall / ideal);
    metric("create.apply.peak", a.client_peak as f64);
    metric("create.up.s", up_wall);
    metric("create.up.ratio", up_wall / ideal);
    metric("create.up_empty.s", up_empty_wall);
    metric("create.up_minus_empty.ratio", (up_wall - up_empty_wall) / ideal);
    metric("create.up.calls", up_trace.len() as f64);
    metric("create.up.calls_before_create", first_create as f64);
    metric("create.up.peak", up_peak as f64);
    metric("create.call_ms", a.mean_call_ms);
}
