//! The fault matrix: every distinct AWS operation that create, refresh, import, update and
//! destroy issue, crossed with throttling, a 5xx (refused before it took effect), a 5xx after the
//! request took effect (the response is lost: a retry must not create twice), a 2 s delay, and a
//! persistent 5xx that outlasts the SDK's retries, injected through the emulator's `/_fault` rules
//! (tests/emulator/README.md).
//!
//! The operation list is not written down here: a clean create, refresh, import, update and
//! destroy run first with the emulator's request log (`GET /_requests`) on, and every distinct
//! operation each phase issued is a row *of that phase* (faults reach every phase that issues the
//! operation). Crossings that would only repeat a case are skipped, each for a stated reason (see
//! [`faults_for`]), to keep the run within its budget.
//!
//! What each fault must give:
//! - throttling, and a 5xx on an operation the SDK retries: success *in the same run*
//!   (`ok-after-retry`). A 5xx may leave the run partial only on the creates that retry throttling
//!   alone ([`THROTTLING_ONLY`]: no idempotency token, no unique name; a blind retry could make a
//!   second resource); the next run must then converge (`partial-then-ok`).
//! - a 5xx after the request took effect: the same, and nothing exists twice.
//! - a delay: `ok`.
//! - a persistent 5xx: the run fails with an error that names the operation and keeps what
//!   exists (partial state), and the next run, with the fault gone, converges (`partial-then-ok`).
//! - a fault that is never consumed (`not-hit`) fails the case unless the crossing is on the short,
//!   commented [`NOT_HIT_ALLOWED`] list.
//!
//! After a create or update case the resources are counted by kind through the SDK and must equal
//! the clean run's counts (nothing was created twice); every create/update/destroy case ends with
//! a destroy that must leave nothing (every count zero, a superset of `leftovers()`). Refresh and
//! import cases share one standing cluster per emulator (they change nothing: the fresh outputs
//! must name exactly the recorded resources).
//!
//! The table is printed (see it with `--nocapture`) and written to `target/fault-matrix.md`, with
//! ok / ok-after-retry / partial-then-ok / not-hit / FAIL counts per phase.
//!
//! Cases run on `SECURE_EKS_FAULT_WORKERS` (default 3) emulators at once, each reset between
//! cases. `SECURE_EKS_FAULT_ONLY=<substring>` restricts the rows (for debugging one operation).
//! The emulators run at `SECURE_EKS_EMULATOR_TIME_SCALE=0` (instant state transitions) unless the
//! variable is set: the matrix is about faults, not waiting.
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
use support::{progress, Emulator, EmulatorAws};

use support::fault_ops::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Throttle,
    ServerError,
    /// The request takes effect, then the answer is a 5xx (`"after": true`).
    LostResponse,
    Delay,
    /// A 5xx on every attempt: the SDK's retries run out.
    Persistent,
}

const FAULTS: [Fault; 5] = [Fault::Throttle, Fault::ServerError, Fault::LostResponse, Fault::Delay, Fault::Persistent];
/// How many times a persistent rule fires (more than any run's attempts).
const PERSISTENT_COUNT: i64 = 1_000_000;

impl Fault {
    fn label(self) -> &'static str {
        match self {
            Fault::Throttle => "throttle",
            Fault::ServerError => "5xx",
            Fault::LostResponse => "5xx after commit",
            Fault::Delay => "delay 2s",
            Fault::Persistent => "5xx persistent",
        }
    }

    /// The `/_fault` rule, in the shape each service answers with.
    fn rule(self, op: &Op) -> serde_json::Value {
        let (status, code) = match (self, op.service.as_str()) {
            (Fault::Throttle, "ec2") => (503, "RequestLimitExceeded"),
            (Fault::Throttle, "iam" | "sts") => (400, "Throttling"),
            (Fault::Throttle, "eks") => (429, "TooManyRequestsException"),
            (Fault::Throttle, _) => (400, "ThrottlingException"),
            (_, "ec2") => (500, "InternalError"),
            (_, "iam" | "sts") => (500, "ServiceFailure"),
            (_, "eks") => (503, "ServiceUnavailableException"),
            (_, _) => (500, "InternalFailure"),
        };
        match self {
            Fault::Delay => json!({"match": op.regex, "status": 0, "delay_ms": 2000, "count": 1}),
            Fault::Persistent => json!({"match": op.regex, "status": status, "code": code, "message": "injected persistent fault", "count": PERSISTENT_COUNT}),
            _ => json!({"match": op.regex, "status": status, "code": code, "message": "injected fault", "count": 1, "after": self == Fault::LostResponse}),
        }
    }
}

/// The creates that retry throttling only (`retry::ThrottlingOnly` in the executor): neither an
/// idempotency token nor a unique name, so after an ambiguous 5xx the run stops partial and the
/// next run adopts the resource by its tags. A 5xx may leave these partial.
const THROTTLING_ONLY: [&str; 7] = [
    "ec2:CreateVpc",
    "ec2:AssociateVpcCidrBlock",
    "ec2:CreateInternetGateway",
    "ec2:AllocateAddress",
    "ec2:CreateRouteTable",
    "ec2:AssociateRouteTable",
    "kms:CreateKey",
];

/// Crossings whose fault may go unconsumed, each with the reason. Everything else that is not hit
/// fails: a row the run did not reach tests nothing.
const NOT_HIT_ALLOWED: [(&str, &str, &str); 0] = [];

/// Whether an operation only reads (the refresh and import phases issue nothing else).
fn is_read(op: &Op) -> bool {
    let action = op.name.split_once(':').map_or(op.name.as_str(), |(_, a)| a);
    ["Describe", "Get", "List", "GET "].iter().any(|p| action.starts_with(p))
}

/// The faults crossed with `op` in `phase`; `first` is whether no earlier phase issued it.
///
/// Skipped, because they would repeat a case:
/// - a delay outside the first phase that issues the operation: the SDK call and its timeout are
///   the same in every phase;
/// - a 5xx after commit on a read: it takes effect on nothing, so it is the plain 5xx case;
/// - in a later phase, the 5xx after commit and the persistent 5xx of an operation an earlier phase
///   already crossed them with, except in refresh and import (read-only runs with their own
///   error path) where the persistent fault is always crossed;
/// - in a later phase, throttling of an operation an earlier phase already throttled: the SDK
///   retries throttling and a 5xx alike on every call but the [`THROTTLING_ONLY`] creates (which
///   keep it), so the 5xx, crossed in every phase, stands for both there.
fn faults_for(phase: Phase, op: &Op, first: bool) -> Vec<Fault> {
    FAULTS
        .into_iter()
        .filter(|f| match f {
            Fault::Throttle => first || THROTTLING_ONLY.contains(&op.name.as_str()),
            Fault::ServerError => true,
            Fault::Delay => first,
            Fault::LostResponse => first && !is_read(op),
            Fault::Persistent => first || matches!(phase, Phase::Refresh | Phase::Import),
        })
        .collect()
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
    Refresh,
    Import,
    Update,
    Destroy,
}

const PHASES: [Phase; 5] = [Phase::Create, Phase::Refresh, Phase::Import, Phase::Update, Phase::Destroy];

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Phase::Create => "create",
            Phase::Refresh => "refresh",
            Phase::Import => "import",
            Phase::Update => "update",
            Phase::Destroy => "destroy",
        }
    }

    /// Refresh and import only read: their cases share a standing cluster.
    fn reads_only(self) -> bool {
        matches!(self, Phase::Refresh | Phase::Import)
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
fn hit(emu: &Emulator, fault: Fault) -> bool {
    let rules = emu.fault(json!({"match": "^NEVER$", "count": 0}));
    let left = rules.as_array().unwrap().first().and_then(|r| r["count"].as_i64());
    let armed = if fault == Fault::Persistent { PERSISTENT_COUNT } else { 1 };
    left.is_some_and(|n| n < armed)
}

/// The import of the standing cluster, as the server does it: observe, rebuild the inputs, plan
/// with the owner the cluster carries, adopt through read-only clients.
async fn import(aws: &Aws) -> Result<StepOutputs, String> {
    let observed = aws.observe_cluster(CLUSTER, REGION).await.map_err(|e| format!("observe: {e}"))?.ok_or("the cluster is gone")?;
    let spec = secure_eks_core::plan::inputs_from(&observed, REGION);
    let owner = observed.tags.get("secure-eks:cluster").cloned();
    let plan = secure_eks_core::plan::plan_owned(&spec, REGION, &BTreeMap::new(), owner.as_deref()).map_err(|e| e.to_string())?;
    let (tx, _rx) = progress();
    aws.import(&plan, &tx).await.map_err(|e| e.to_string())
}

/// `step -> id` of some outputs (what refresh and import must name again).
fn ids(outs: &StepOutputs) -> BTreeMap<String, String> {
    outs.iter().map(|(k, v)| (k.clone(), v.id.clone())).collect()
}

/// The steps whose ids differ between `got` and `want` (`step: got (want)`), or `None`.
fn ids_diff(got: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> Option<String> {
    let keys: BTreeSet<&String> = got.keys().chain(want.keys()).collect();
    let d: Vec<String> = keys
        .into_iter()
        .filter(|k| got.get(*k) != want.get(*k))
        .map(|k| format!("{k}: {} (recorded: {})", got.get(k).map_or("-", String::as_str), want.get(k).map_or("-", String::as_str)))
        .collect();
    (!d.is_empty()).then(|| d.join(", "))
}

/// How a phase run went under the fault.
enum Run {
    /// It succeeded.
    Ok,
    /// It failed with these reasons, and the next run (fault cleared) converged.
    PartialThenOk(String),
}

/// The verdict for a case, from how the run went and whether the fault was consumed.
fn judge(case: &Case, run: Run, consumed: bool) -> Result<String, String> {
    let allowed_not_hit = NOT_HIT_ALLOWED.iter().any(|(p, o, f)| *p == case.phase.label() && *o == case.op.name && *f == case.fault.label());
    if !consumed {
        return if allowed_not_hit { Ok("not-hit".into()) } else { fail("the fault was not hit: this phase never reached the operation") };
    }
    let partial_allowed = THROTTLING_ONLY.contains(&case.op.name.as_str());
    match (case.fault, run) {
        (Fault::Delay, Run::Ok) => Ok("ok".into()),
        (Fault::Throttle | Fault::ServerError | Fault::LostResponse, Run::Ok) => Ok("ok-after-retry".into()),
        (Fault::ServerError | Fault::LostResponse, Run::PartialThenOk(_)) if partial_allowed => Ok("partial-then-ok".into()),
        (Fault::Persistent, Run::PartialThenOk(reasons)) => {
            // The error names the operation (`ec2:CreateVpc failed: ...`; EKS's REST operations
            // by their SDK name) and what AWS said.
            let action = case.op.name.split_once(':').map_or("", |(_, a)| a);
            let named = if case.op.service == "eks" { reasons.contains("eks:") } else { reasons.contains(action) };
            if named && reasons.contains("injected persistent fault") {
                Ok("partial-then-ok".into())
            } else {
                fail(format!("the error does not name the operation and the fault: {reasons}"))
            }
        }
        (Fault::Persistent, Run::Ok) => fail("a persistent fault did not fail the run"),
        (_, Run::PartialThenOk(reasons)) => fail(format!("not retried in the same run: {reasons}")),
    }
}

/// Run one create, update or destroy case on a reset emulator; `Ok(outcome)` or `Err(why it
/// failed)`.
async fn run_case(emu: &Emulator, aws: &Aws, sdk: &aws_types::SdkConfig, base: &Baseline, case: &Case) -> Result<String, String> {
    emu.reset();
    let rule = case.fault.rule(&case.op);
    let empty = StepOutputs::new();
    let (plan, prior, want) = match case.phase {
        Phase::Create => (&base.a, empty.clone(), &base.after_create),
        _ => {
            let outs = up(aws, &base.a, &empty).await.map_err(|e| format!("clean create failed: {e}"))?;
            if case.phase == Phase::Update {
                (&base.b, outs, &base.after_update)
            } else {
                (&base.a, outs, &base.after_create)
            }
        }
    };
    emu.fault(rule);
    let run;
    let outs = if case.phase == Phase::Destroy {
        match destroy(aws, plan, &prior).await {
            Ok(()) => run = Run::Ok,
            Err(e) => {
                emu.clear_faults();
                // What still exists is recorded: the next destroy removes exactly that.
                destroy(aws, plan, &e.done).await.map_err(|e2| format!("destroy failed ({e}), and again: {e2}"))?;
                run = Run::PartialThenOk(e.to_string());
            }
        }
        None
    } else {
        let outs = match up(aws, plan, &prior).await {
            Ok(o) => {
                run = Run::Ok;
                o
            }
            Err(e) => {
                emu.clear_faults();
                let o = up(aws, plan, &e.done).await.map_err(|e2| format!("failed ({e}), then the next run failed too: {e2}"))?;
                run = Run::PartialThenOk(e.to_string());
                o
            }
        };
        Some(outs)
    };
    // Whether the fault was consumed, then it goes: the checks below are not under it.
    let consumed = hit(emu, case.fault);
    emu.clear_faults();
    if let Some(outs) = &outs {
        if outs.len() != plan.steps.len() {
            return fail(format!("{} outputs for {} steps", outs.len(), plan.steps.len()));
        }
        if let Some(d) = census_diff(want, &census(sdk).await) {
            return fail(format!("resource counts differ: {d}"));
        }
    }
    if let Some(outs) = outs {
        destroy(aws, plan, &outs).await.map_err(|e| format!("destroy failed: {e}"))?;
    }
    // Nothing is left: every count is zero. The census covers every kind `leftovers()` counts
    // (and more) without a python start per case; `leftovers()` itself names what is left.
    if census(sdk).await.values().any(|n| *n > 0) {
        return fail(format!("leftovers after destroy: {} ({:?})", emu.leftovers(), census(sdk).await));
    }
    judge(case, run, consumed)
}

/// Run one refresh or import case against the standing cluster `outs` (made by a clean create
/// on this emulator): the fresh outputs must name exactly the recorded resources.
async fn run_read_case(emu: &Emulator, aws: &Aws, base: &Baseline, outs: &StepOutputs, case: &Case) -> Result<String, String> {
    let read = || async {
        match case.phase {
            Phase::Refresh => aws.refresh(&base.a, outs).await.map_err(|e| e.to_string()),
            _ => import(aws).await,
        }
    };
    emu.fault(case.fault.rule(&case.op));
    let first = read().await;
    let consumed = hit(emu, case.fault);
    emu.clear_faults();
    let (run, fresh) = match first {
        Ok(f) => (Run::Ok, f),
        Err(e) => (Run::PartialThenOk(e), read().await.map_err(|e2| format!("the next {} failed too: {e2}", case.phase.label()))?),
    };
    // Both name exactly what `up` recorded for this standing cluster (resource ids differ from
    // one emulator, and one reset, to the next: the clean run's ids are not comparable).
    if let Some(d) = ids_diff(&ids(&fresh), &ids(outs)) {
        return fail(format!("{} named other resources: {d}", case.phase.label()));
    }
    judge(case, run, consumed)
}

/// The clean run: the operations of each phase and the resource counts.
async fn discover(emu: &Emulator) -> (Baseline, Vec<Case>) {
    let aws = emu.aws().await;
    let sdk = emu.sdk().await;
    let (a, b) = (plan_a(), plan_b());
    emu.reset();
    let mut logs: BTreeMap<Phase, Vec<(String, u16, String)>> = BTreeMap::new();
    let mut timed = |phase: Phase, t: Instant| {
        let log = emu.requests();
        eprintln!("clean {}: {} requests in {:?}", phase.label(), log.len(), t.elapsed());
        emu.clear_requests();
        logs.insert(phase, log);
    };
    let t = Instant::now();
    let outs = up(&aws, &a, &StepOutputs::new()).await.unwrap_or_else(|e| panic!("clean create: {e}"));
    // The log first: the census's own List/Describe calls are not the executor's operations.
    timed(Phase::Create, t);
    let after_create = census(&sdk).await;
    emu.clear_requests();
    let t = Instant::now();
    let fresh = aws.refresh(&a, &outs).await.unwrap_or_else(|e| panic!("clean refresh: {e}"));
    assert_eq!(ids(&fresh), ids(&outs), "clean refresh");
    timed(Phase::Refresh, t);
    let t = Instant::now();
    let imported = import(&aws).await.unwrap_or_else(|e| panic!("clean import: {e}"));
    // Import records exactly what `up` recorded; the import cases hold it to that too.
    assert_eq!(ids_diff(&ids(&imported), &ids(&outs)), None, "the clean import named other resources than the create");
    timed(Phase::Import, t);
    let t = Instant::now();
    let outs_b = up(&aws, &b, &outs).await.unwrap_or_else(|e| panic!("clean update: {e}"));
    timed(Phase::Update, t);
    let after_update = census(&sdk).await;
    emu.clear_requests();
    let t = Instant::now();
    destroy(&aws, &b, &outs_b).await.unwrap_or_else(|e| panic!("clean destroy: {e}"));
    timed(Phase::Destroy, t);
    assert_eq!(emu.leftovers(), NO_LEFTOVERS);
    for (phase, log) in &logs {
        let bad: Vec<_> = log.iter().filter(|(_, s, _)| *s >= 500).collect();
        assert!(bad.is_empty(), "the clean {} saw server errors: {bad:?}", phase.label());
    }
    let only = std::env::var("SECURE_EKS_FAULT_ONLY").unwrap_or_default();
    let mut seen = BTreeSet::new();
    let mut cases = Vec::new();
    for phase in PHASES {
        for op in ops_of(&logs[&phase]) {
            let first = seen.insert(op.name.clone());
            if !op.name.contains(only.as_str()) {
                continue;
            }
            for fault in faults_for(phase, &op, first) {
                cases.push(Case { phase, op: op.clone(), fault });
            }
        }
    }
    (Baseline { a, b, after_create, after_update }, cases)
}

#[test]
fn every_operation_survives_throttling_server_errors_delays_and_persistent_faults() {
    if std::env::var_os("SECURE_EKS_EMULATOR_TIME_SCALE").is_none() {
        // Read by the emulators this test starts (children inherit it); set before any starts.
        std::env::set_var("SECURE_EKS_EMULATOR_TIME_SCALE", "0");
    }
    if std::env::var_os("SECURE_EKS_RETRY_BACKOFF_MS").is_none() {
        // The SDK's backoff at 100 ms (read by every session this test makes): the same 5
        // attempts, without waiting ~10 s through each persistent fault.
        std::env::set_var("SECURE_EKS_RETRY_BACKOFF_MS", "100");
    }
    let workers: usize = std::env::var("SECURE_EKS_FAULT_WORKERS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    let rt = || tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = Instant::now();
    let first = Emulator::start_with_time_scale(0.0); // time is not the subject here
    let (base, cases) = rt().block_on(discover(&first));
    let n = cases.len();
    let rows: BTreeSet<(Phase, &str)> = cases.iter().map(|c| (c.phase, c.op.name.as_str())).collect();
    eprintln!("{} rows, {n} cases on {workers} emulators", rows.len());
    let base = Arc::new(base);
    // The read-only cases first: each emulator makes its standing cluster once for them.
    let mut order: Vec<(usize, Case)> = cases.iter().cloned().enumerate().collect();
    order.sort_by_key(|(i, c)| (!c.phase.reads_only(), *i));
    let queue = Arc::new(Mutex::new(order.into_iter().collect::<VecDeque<_>>()));
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
                    let mut standing: Option<StepOutputs> = None;
                    loop {
                        let Some((i, case)) = queue.lock().unwrap().pop_front() else { break };
                        let t = Instant::now();
                        let run = async {
                            if case.phase.reads_only() {
                                if standing.is_none() {
                                    emu.reset();
                                    standing = Some(up(&aws, &base.a, &StepOutputs::new()).await.map_err(|e| format!("standing cluster: {e}"))?);
                                }
                                let outs = standing.clone().unwrap_or_default();
                                run_read_case(&emu, &aws, &base, &outs, &case).await
                            } else {
                                standing = None;
                                run_case(&emu, &aws, &sdk, &base, &case).await
                            }
                        };
                        // A hang is a failure too: no case needs anywhere near this long.
                        // A panic in a case (an emulator call that failed) is that case's failure.
                        let run = std::panic::AssertUnwindSafe(run).catch_unwind();
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

    // ---- the table: one row per phase and operation, one column per fault ("-": not crossed)
    let mut md = String::from("# Fault matrix\n\nGenerated by `cargo test --workspace --test fault_matrix -- --nocapture`: each AWS operation \
        the executor issued in a clean create / refresh / import / update / destroy run, with one injected fault, in every phase that issues it \
        (`-`: a crossing skipped as a repeat, see `faults_for`).\n\n");
    md.push_str("| phase | operation |");
    for f in FAULTS {
        md.push_str(&format!(" {} |", f.label()));
    }
    md.push_str("\n|---|---|");
    md.push_str(&"---|".repeat(FAULTS.len()));
    md.push('\n');
    let mut failures = Vec::new();
    const KINDS: [&str; 5] = ["ok", "ok-after-retry", "partial-then-ok", "not-hit", "FAIL"];
    let mut tally: BTreeMap<Phase, BTreeMap<&str, usize>> = BTreeMap::new();
    for (phase, op) in &rows {
        md.push_str(&format!("| {} | `{op}` |", phase.label()));
        for f in FAULTS {
            let Some((i, case)) = cases.iter().enumerate().find(|(_, c)| c.phase == *phase && c.op.name == *op && c.fault == f) else {
                md.push_str(" - |");
                continue;
            };
            let o = &results[&i];
            let kind = KINDS.iter().find(|k| **k == o.result).copied().unwrap_or("FAIL");
            *tally.entry(*phase).or_default().entry(kind).or_default() += 1;
            md.push_str(&format!(" {} |", o.result));
            if o.result == "FAIL" {
                failures.push(format!("{} {} {}: {}", case.phase.label(), case.op.name, case.fault.label(), o.detail));
            }
        }
        md.push('\n');
    }
    md.push_str("\n| phase |");
    for k in KINDS {
        md.push_str(&format!(" {k} |"));
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(KINDS.len()));
    md.push('\n');
    for (phase, t) in &tally {
        md.push_str(&format!("| {} |", phase.label()));
        for k in KINDS {
            md.push_str(&format!(" {} |", t.get(k).copied().unwrap_or(0)));
        }
        md.push('\n');
    }
    let total: f64 = results.values().map(|o| o.secs).sum();
    md.push_str(&format!("\n{n} cases. Wall time {:.0} s on {workers} emulators ({total:.0} s of case time).\n", started.elapsed().as_secs_f64()));
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
