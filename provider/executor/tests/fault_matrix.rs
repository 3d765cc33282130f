//! The fault matrix: every distinct AWS operation that create, update and destroy issue, crossed
//! with throttling, a 5xx (refused before it took effect), a 5xx after the request took effect
//! (the response is lost: a retry must not create twice) and a 2 s delay, each injected once
//! through the emulator's `/_fault` rules (tests/emulator/README.md).
//!
//! The operation list is not written down here: a clean create, update and destroy run first
//! with the emulator's request log (`GET /_requests`) on, and every distinct operation it saw is
//! a row (in the first phase that issued it: create, else update, else destroy). Then, for each
//! row and fault, on a reset emulator: the phase runs with the fault armed; it must succeed, or
//! fail with partial state after which the same phase run again succeeds. After that the
//! resources that exist are counted by kind through the SDK and must equal the clean run's counts
//! (nothing was created twice), and destroy must leave nothing: every count zero, a superset of
//! `leftovers()` (which the clean run checks, and which a failing case prints).
//!
//! Outcomes: `ok` (the fault was hit, nothing had to be retried: the delay), `ok-after-retry`
//! (the SDK retried the injected error and the run succeeded), `partial-then-ok` (the run failed
//! with partial state and the next run converged), `not-hit` (the fault was not consumed: the
//! operation is conditional), `FAIL` (anything else; the test fails). The table is printed (see it
//! with `--nocapture`) and written to `target/fault-matrix.md`.
//!
//! Cases run on `SECURE_EKS_FAULT_WORKERS` (default 3) emulators at once, each reset between
//! cases. `SECURE_EKS_FAULT_ONLY=<substring>` restricts the rows (for debugging one operation).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::Filter;
use futures::FutureExt;
use secure_eks_core::plan::{Plan, StepOutputs};
use secure_eks_executor::Aws;
use serde_json::json;

mod support;
use support::{Emulator, EmulatorAws};

use support::fault_ops::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Throttle,
    ServerError,
    /// The request takes effect, then the answer is a 5xx (`"after": true`).
    LostResponse,
    Delay,
}

const FAULTS: [Fault; 4] = [Fault::Throttle, Fault::ServerError, Fault::LostResponse, Fault::Delay];

impl Fault {
    fn label(self) -> &'static str {
        match self {
            Fault::Throttle => "throttle",
            Fault::ServerError => "5xx",
            Fault::LostResponse => "5xx after commit",
            Fault::Delay => "delay 2s",
        }
    }

    /// The `/_fault` rule, in the shape each service answers with.
    fn rule(self, op: &Op) -> serde_json::Value {
        let (status, code) = match (self, op.service.as_str()) {
            (Fault::Throttle, "ec2") => (503, "RequestLimitExceeded"),
            (Fault::Throttle, "iam" | "sts") => (400, "Throttling"),
            (Fault::Throttle, "eks") => (429, "TooManyRequestsException"),
            (Fault::Throttle, _) => (400, "ThrottlingException"),
            (Fault::ServerError | Fault::LostResponse, "ec2") => (500, "InternalError"),
            (Fault::ServerError | Fault::LostResponse, "iam" | "sts") => (500, "ServiceFailure"),
            (Fault::ServerError | Fault::LostResponse, "eks") => (503, "ServiceUnavailableException"),
            (Fault::ServerError | Fault::LostResponse, _) => (500, "InternalFailure"),
            (Fault::Delay, _) => (0, ""),
        };
        if self == Fault::Delay {
            json!({"match": op.regex, "status": 0, "delay_ms": 2000, "count": 1})
        } else {
            json!({"match": op.regex, "status": status, "code": code, "message": "injected fault", "count": 1, "after": self == Fault::LostResponse})
        }
    }
}

// ---------------------------------------------------------------- counting resources

/// How many resources of each kind exist, through the plain SDK (not the executor's code).
async fn census(sdk: &aws_types::SdkConfig) -> BTreeMap<&'static str, usize> {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let eks = aws_sdk_eks::Client::new(sdk);
    let iam = aws_sdk_iam::Client::new(sdk);
    let kms = aws_sdk_kms::Client::new(sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    let f = || Filter::builder().name("tag-key").values("secure-eks:cluster").build();
    let mut c = BTreeMap::new();
    c.insert("vpc", ec2.describe_vpcs().filters(f()).send().await.unwrap().vpcs().len());
    let cidrs: usize = ec2
        .describe_vpcs()
        .filters(f())
        .send()
        .await
        .unwrap()
        .vpcs()
        .iter()
        .map(|v| v.cidr_block_association_set().iter().filter(|a| a.cidr_block_state().and_then(|s| s.state()).map(|s| s.as_str()) == Some("associated")).count())
        .sum();
    c.insert("vpc cidr", cidrs);
    c.insert("subnet", ec2.describe_subnets().filters(f()).send().await.unwrap().subnets().len());
    let rtbs = ec2.describe_route_tables().filters(f()).send().await.unwrap();
    c.insert("route table", rtbs.route_tables().len());
    c.insert("route table association", rtbs.route_tables().iter().map(|r| r.associations().len()).sum());
    c.insert("route", rtbs.route_tables().iter().map(|r| r.routes().len()).sum());
    c.insert("internet gateway", ec2.describe_internet_gateways().filters(f()).send().await.unwrap().internet_gateways().len());
    let nats = ec2.describe_nat_gateways().send().await.unwrap();
    c.insert("nat gateway", nats.nat_gateways().iter().filter(|n| !matches!(n.state().map(|s| s.as_str()), Some("deleted" | "deleting"))).count());
    c.insert("elastic ip", ec2.describe_addresses().send().await.unwrap().addresses().len());
    let sgs = ec2.describe_security_groups().filters(f()).send().await.unwrap();
    c.insert("security group", sgs.security_groups().len());
    let mut rules = 0;
    for g in sgs.security_groups() {
        rules += g.ip_permissions().iter().map(|p| p.user_id_group_pairs().len() + p.ip_ranges().len()).sum::<usize>();
    }
    c.insert("ingress rule", rules);
    let vpce = ec2.describe_vpc_endpoints().send().await.unwrap();
    c.insert("vpc endpoint", vpce.vpc_endpoints().iter().filter(|e| !matches!(e.state().map(|s| s.as_str().to_ascii_lowercase()).as_deref(), Some("deleted" | "deleting"))).count());
    c.insert("launch template", ec2.describe_launch_templates().filters(f()).send().await.unwrap().launch_templates().len());
    let clusters = eks.list_clusters().send().await.unwrap().clusters().to_vec();
    c.insert("cluster", clusters.len());
    let (mut ngs, mut addons, mut access) = (0, 0, 0);
    for cl in &clusters {
        ngs += eks.list_nodegroups().cluster_name(cl).send().await.unwrap().nodegroups().len();
        addons += eks.list_addons().cluster_name(cl).send().await.unwrap().addons().len();
        access += eks.list_access_entries().cluster_name(cl).send().await.unwrap().access_entries().len();
    }
    c.insert("node group", ngs);
    c.insert("addon", addons);
    c.insert("access entry", access);
    c.insert("iam role", iam.list_roles().send().await.unwrap().roles().len());
    c.insert("oidc provider", iam.list_open_id_connect_providers().send().await.unwrap().open_id_connect_provider_list().len());
    let mut keys = 0;
    for k in kms.list_keys().send().await.unwrap().keys() {
        let m = kms.describe_key().key_id(k.key_id().unwrap_or_default()).send().await.unwrap();
        keys += usize::from(m.key_metadata().and_then(|m| m.key_state()).map(|s| s.as_str()) == Some("Enabled"));
    }
    c.insert("kms key", keys);
    c.insert("kms alias", kms.list_aliases().send().await.unwrap().aliases().iter().filter(|a| a.alias_name().is_some_and(|n| n.starts_with("alias/secure-eks/"))).count());
    c.insert("log group", logs.describe_log_groups().send().await.unwrap().log_groups().len());
    c
}

fn census_diff(want: &BTreeMap<&'static str, usize>, got: &BTreeMap<&'static str, usize>) -> Option<String> {
    let d: Vec<String> = want.iter().filter(|(k, v)| got.get(*k) != Some(v)).map(|(k, v)| format!("{k}: {} (clean run: {v})", got.get(k).copied().unwrap_or(0))).collect();
    (!d.is_empty()).then(|| d.join(", "))
}

// ---------------------------------------------------------------- cases

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Create,
    Update,
    Destroy,
}

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Phase::Create => "create",
            Phase::Update => "update",
            Phase::Destroy => "destroy",
        }
    }
}

/// What the clean run established.
struct Baseline {
    a: Plan,
    b: Plan,
    after_create: BTreeMap<&'static str, usize>,
    after_update: BTreeMap<&'static str, usize>,
}

#[derive(Debug, Clone)]
struct Case {
    phase: Phase,
    op: Op,
    fault: Fault,
}

#[derive(Debug, Clone)]
struct Outcome {
    result: String,
    detail: String,
    secs: f64,
}

fn fail(detail: impl Into<String>) -> Result<String, String> {
    Err(detail.into())
}

/// Whether the armed rule was consumed.
fn hit(emu: &Emulator) -> bool {
    let rules = emu.fault(json!({"match": "^NEVER$", "count": 0}));
    rules.as_array().unwrap().first().is_some_and(|r| r["count"] == 0)
}

/// Run one case on a reset emulator; `Ok(outcome)` or `Err(why it failed)`.
async fn run_case(emu: &Emulator, aws: &Aws, sdk: &aws_types::SdkConfig, base: &Baseline, case: &Case) -> Result<String, String> {
    emu.reset();
    let rule = case.fault.rule(&case.op);
    let empty = StepOutputs::new();
    let retried_ok = if case.fault == Fault::Delay { "ok" } else { "ok-after-retry" };
    let (plan, prior, want) = match case.phase {
        Phase::Create => (&base.a, empty.clone(), &base.after_create),
        Phase::Update | Phase::Destroy => {
            let outs = up(aws, &base.a, &empty).await.map_err(|e| format!("clean create failed: {e}"))?;
            if case.phase == Phase::Update {
                (&base.b, outs, &base.after_update)
            } else {
                (&base.a, outs, &base.after_create)
            }
        }
    };
    emu.fault(rule);
    let mut result = String::new();
    let outs = if case.phase == Phase::Destroy {
        match destroy(aws, plan, &prior).await {
            Ok(()) => result = retried_ok.into(),
            Err(e) => {
                emu.clear_faults();
                destroy(aws, plan, &e.done).await.map_err(|e2| format!("destroy failed ({e}), and again: {e2}"))?;
                result = "partial-then-ok".into();
            }
        }
        None
    } else {
        let outs = match up(aws, plan, &prior).await {
            Ok(o) => {
                result = retried_ok.into();
                o
            }
            Err(e) => {
                emu.clear_faults();
                let o = up(aws, plan, &e.done).await.map_err(|e2| format!("failed ({e}), then the next run failed too: {e2}"))?;
                result.push_str("partial-then-ok");
                o
            }
        };
        if outs.len() != plan.steps.len() {
            return fail(format!("{} outputs for {} steps", outs.len(), plan.steps.len()));
        }
        if let Some(d) = census_diff(want, &census(sdk).await) {
            return fail(format!("resource counts differ: {d}"));
        }
        Some(outs)
    };
    let consumed = hit(emu);
    emu.clear_faults();
    if let Some(outs) = outs {
        destroy(aws, plan, &outs).await.map_err(|e| format!("destroy failed: {e}"))?;
    }
    // Nothing is left: every count is zero. The census covers every kind `leftovers()` counts
    // (and more) without a python start per case; `leftovers()` itself names what is left.
    if census(sdk).await.values().any(|n| *n > 0) {
        return fail(format!("leftovers after destroy: {} ({:?})", emu.leftovers(), census(sdk).await));
    }
    if !consumed {
        return Ok("not-hit".into());
    }
    Ok(result)
}

/// The clean run: the operations of each phase and the resource counts.
async fn discover(emu: &Emulator) -> (Baseline, Vec<Case>) {
    let aws = emu.aws().await;
    let sdk = emu.sdk().await;
    let (a, b) = (plan_a(), plan_b());
    emu.reset();
    let t = Instant::now();
    let outs = up(&aws, &a, &StepOutputs::new()).await.unwrap_or_else(|e| panic!("clean create: {e}"));
    let create_log = emu.requests();
    let after_create = census(&sdk).await;
    eprintln!("clean create: {} requests in {:?}", create_log.len(), t.elapsed());
    emu.clear_requests();
    let t = Instant::now();
    let outs_b = up(&aws, &b, &outs).await.unwrap_or_else(|e| panic!("clean update: {e}"));
    let update_log = emu.requests();
    let after_update = census(&sdk).await;
    eprintln!("clean update: {} requests in {:?}", update_log.len(), t.elapsed());
    emu.clear_requests();
    let t = Instant::now();
    destroy(&aws, &b, &outs_b).await.unwrap_or_else(|e| panic!("clean destroy: {e}"));
    let destroy_log = emu.requests();
    eprintln!("clean destroy: {} requests in {:?}", destroy_log.len(), t.elapsed());
    assert_eq!(emu.leftovers(), NO_LEFTOVERS);
    for (log, what) in [(&create_log, "create"), (&update_log, "update"), (&destroy_log, "destroy")] {
        let bad: Vec<_> = log.iter().filter(|(_, s, _)| *s >= 500).collect();
        assert!(bad.is_empty(), "the clean {what} saw server errors: {bad:?}");
    }
    let only = std::env::var("SECURE_EKS_FAULT_ONLY").unwrap_or_default();
    let mut seen = BTreeSet::new();
    let mut cases = Vec::new();
    for (phase, log) in [(Phase::Create, &create_log), (Phase::Update, &update_log), (Phase::Destroy, &destroy_log)] {
        for op in ops_of(log) {
            if !seen.insert(op.name.clone()) || !op.name.contains(only.as_str()) {
                continue;
            }
            for fault in FAULTS {
                cases.push(Case { phase, op: op.clone(), fault });
            }
        }
    }
    (Baseline { a, b, after_create, after_update }, cases)
}

#[test]
fn every_operation_survives_throttling_server_errors_and_delays() {
    let workers: usize = std::env::var("SECURE_EKS_FAULT_WORKERS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    let rt = || tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = Instant::now();
    let first = Emulator::start_with_time_scale(0.0); // time is not the subject here
    let (base, cases) = rt().block_on(discover(&first));
    let n = cases.len();
    eprintln!("{} operations x {} faults = {n} cases on {workers} emulators", n / FAULTS.len(), FAULTS.len());
    let base = Arc::new(base);
    let queue = Arc::new(Mutex::new(cases.iter().cloned().enumerate().collect::<VecDeque<_>>()));
    let results: Arc<Mutex<BTreeMap<usize, Outcome>>> = Arc::default();
    let mut first = Some(first);
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let emu = first.take();
            let (base, queue, results) = (base.clone(), queue.clone(), results.clone());
            std::thread::spawn(move || {
                let emu = emu.unwrap_or_else(|| Emulator::start_with_time_scale(0.0));
                rt().block_on(async {
                    let aws = emu.aws().await;
                    let sdk = emu.sdk().await;
                    loop {
                        let Some((i, case)) = queue.lock().unwrap().pop_front() else { break };
                        let t = Instant::now();
                        // A hang is a failure too: no case needs anywhere near this long.
                        // A panic in a case (an emulator call that failed) is that case's failure.
                        let run = std::panic::AssertUnwindSafe(run_case(&emu, &aws, &sdk, &base, &case)).catch_unwind();
                        let r = match tokio::time::timeout(Duration::from_secs(300), run).await {
                            Ok(Ok(r)) => r,
                            Ok(Err(p)) => Err(format!("panicked: {}", p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default())),
                            Err(_) => Err("timed out after 300 s".into()),
                        };
                        let (result, detail) = match r {
                            Ok(r) => (r, String::new()),
                            Err(d) => ("FAIL".to_string(), d),
                        };
                        let secs = t.elapsed().as_secs_f64();
                        eprintln!("[{}/{n}] {} {} {}: {result} ({secs:.1}s) {detail}", i + 1, case.phase.label(), case.op.name, case.fault.label());
                        results.lock().unwrap().insert(i, Outcome { result, detail, secs });
                    }
                });
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let results = results.lock().unwrap().clone();

    // ---- the table: one row per operation, one column per fault
    let mut md = String::from("# Fault matrix\n\nGenerated by `cargo test -p secure-eks-executor --test fault_matrix -- --nocapture`: each AWS operation \
        the executor issued in a clean create / update / destroy run, with one injected fault, in the phase that first issues it.\n\n");
    md.push_str("| phase | operation |");
    for f in FAULTS {
        md.push_str(&format!(" {} |", f.label()));
    }
    md.push_str("\n|---|---|");
    md.push_str(&"---|".repeat(FAULTS.len()));
    md.push('\n');
    let mut failures = Vec::new();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for (row, chunk) in cases.chunks(FAULTS.len()).enumerate() {
        md.push_str(&format!("| {} | `{}` |", chunk[0].phase.label(), chunk[0].op.name));
        for (j, case) in chunk.iter().enumerate() {
            let o = &results[&(row * FAULTS.len() + j)];
            *tally.entry(o.result.clone()).or_default() += 1;
            md.push_str(&format!(" {} |", o.result));
            if o.result == "FAIL" {
                failures.push(format!("{} {} {}: {}", case.phase.label(), case.op.name, case.fault.label(), o.detail));
            }
        }
        md.push('\n');
    }
    let total: f64 = results.values().map(|o| o.secs).sum();
    md.push_str(&format!(
        "\n{n} cases: {}. Wall time {:.0} s on {workers} emulators ({total:.0} s of case time).\n",
        tally.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", "),
        started.elapsed().as_secs_f64()
    ));
    if !failures.is_empty() {
        md.push_str("\nFailures:\n\n");
        for f in &failures {
            md.push_str(&format!("- {f}\n"));
        }
    }
    println!("{md}");
    let target = std::env::var("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|_| secure_eks_testkit::repo_root().join("target"));
    let _ = std::fs::create_dir_all(&target);
    std::fs::write(target.join("fault-matrix.md"), &md).unwrap();
    assert!(failures.is_empty(), "{} of {n} cases failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn operation_names_and_regexes() {
    let vpc = op_of("POST /  CreateVpc", "ec2");
    assert_eq!((vpc.name.as_str(), vpc.regex.as_str()), ("ec2:CreateVpc", "^POST /  CreateVpc$"));
    assert_eq!(op_of("POST /  CreateRole", "iam").name, "iam:CreateRole");
    let ssm = op_of("POST / AmazonSSM.GetParameter ", "ssm");
    assert_eq!((ssm.name.as_str(), ssm.regex.as_str()), ("ssm:GetParameter", "^POST / AmazonSSM\\.GetParameter $"));
    let ng = op_of("GET /clusters/fm/node-groups/general  ", "eks");
    assert_eq!((ng.name.as_str(), ng.regex.as_str()), ("eks:GET /clusters/{}/node-groups/{}", "^GET /clusters/[^/ ]+/node-groups/[^/ ]+  $"));
    assert_eq!(op_of("POST /clusters  ", "eks").name, "eks:POST /clusters");
    let ae = op_of("POST /clusters/fm/access-entries/arn:aws:iam::123456789012:role/admin/access-policies  ", "eks");
    assert_eq!(ae.name, "eks:POST /clusters/{}/access-entries/{}/access-policies");
    let ap = op_of("DELETE /clusters/fm/access-entries/arn:aws:iam::1:role/a/access-policies/arn:aws:eks::aws:cluster-access-policy/X  ", "eks");
    assert_eq!(ap.name, "eks:DELETE /clusters/{}/access-entries/{}/access-policies/{}");
}
