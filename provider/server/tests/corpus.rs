//! The corpus: every program under `tests/corpus/` goes through the real Pulumi CLI
//! (`pulumi preview --non-interactive`) against one local AWS emulator, two at a time.
//!
//! A program's leading comment lines say what must happen:
//!
//! - `# expect: SEKS-NODE-003` — the preview fails and a printed error is that rule's;
//! - `# expect: fail` — the preview fails (refused before Check, e.g. by the YAML type checker);
//! - `# expect: pass` — the preview succeeds and no error names a `SEKS-` rule;
//! - `# output: <text>` — the output contains `<text>` (a warning's rule id, the deferral note);
//! - `# absent: <text>` — the output does not contain `<text>`;
//! - `# fixture: byo-vpc` — before the preview, make a VPC with subnets in the emulator and set
//!   their ids as stack config (`vpcId`, `nodeSubnetA..C`, `podSubnetA..C`, `publicSubnet`, a
//!   subnet mapping public IPs, and `otherVpcSubnet`, a subnet of another VPC);
//! - `# setup: <pulumi args>` — run before the preview and must succeed (e.g. an `up`, so that
//!   Check sees old inputs);
//! - `# known-gap: <why>` — a mismatch is reported in the table but does not fail the test.
//!
//! The test also requires that every rule id of the catalogue is exercised: each error-level rule
//! by a failing program, each warning by an `# output:` line. `CORPUS_FILTER=<substring>` runs only
//! the programs whose directory name contains it (the coverage check is then skipped).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use common::cli::Workspace;
use common::emulator::Emulator;
use secure_eks_core::rules::{all_meta, Level};

/// At most this many CLI runs at once (the reference machine has 2 cores).
const PARALLEL: usize = 2;

#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Pass,
    Fail,
    Rule(String),
}

#[derive(Debug, Clone)]
struct Program {
    dir: String,
    expect: Expect,
    outputs: Vec<String>,
    absent: Vec<String>,
    setup: Vec<String>,
    fixture: Option<String>,
    known_gap: Option<String>,
}

#[derive(Debug)]
struct Outcome {
    program: Program,
    code: Option<i32>,
    errors: BTreeSet<String>,
    warnings: BTreeSet<String>,
    problems: Vec<String>,
    out: String,
    secs: f64,
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

fn parse(dir: &str, text: &str) -> Program {
    let mut p = Program { dir: dir.to_string(), expect: Expect::Pass, outputs: vec![], absent: vec![], setup: vec![], fixture: None, known_gap: None };
    let mut expect = None;
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let Some((key, value)) = line.trim_start_matches('#').trim().split_once(':') else { continue };
        let value = value.trim().to_string();
        match key.trim() {
            "expect" => {
                expect = Some(match value.as_str() {
                    "pass" => Expect::Pass,
                    "fail" => Expect::Fail,
                    id if id.starts_with("SEKS-") => Expect::Rule(id.to_string()),
                    other => panic!("{dir}: unknown expectation {other:?}"),
                })
            }
            "output" => p.outputs.push(value),
            "absent" => p.absent.push(value),
            "setup" => p.setup.push(value),
            "fixture" => {
                assert!(value == "byo-vpc", "{dir}: unknown fixture {value:?}");
                p.fixture = Some(value)
            }
            "known-gap" => p.known_gap = Some(value),
            _ => {}
        }
    }
    p.expect = expect.unwrap_or_else(|| panic!("{dir}: the first line must be `# expect: ...`"));
    p
}

fn programs() -> Vec<Program> {
    let filter = std::env::var("CORPUS_FILTER").unwrap_or_default();
    let mut out: Vec<Program> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus")
        .flatten()
        .filter(|e| e.path().join("Pulumi.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|d| d.contains(&filter))
        .map(|d| {
            let text = std::fs::read_to_string(corpus_dir().join(&d).join("Pulumi.yaml")).unwrap();
            parse(&d, &text)
        })
        .collect();
    out.sort_by(|a, b| a.dir.cmp(&b.dir));
    out
}

/// The rule id that opens each printed error / warning. The engine prints a Check failure as
/// "property X value {...} has a problem: <message>", and the value or the message may name other
/// rules (a waiver's `rule`), so the id is the first one of the message.
fn ids_after(out: &str, marker: &str) -> BTreeSet<String> {
    out.lines()
        .filter_map(|l| l.split_once(marker).map(|(_, rest)| rest))
        .map(|rest| rest.split_once("has a problem: ").map_or(rest, |(_, m)| m))
        .filter_map(|rest| {
            let at = rest.find("SEKS-")?;
            let id: String = rest[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            Some(id)
        })
        .collect()
}

/// The `byo-vpc` fixture: a VPC of the user's, made in the emulator; `key=value` lines.
const BYO_VPC: &str = "\
ec2 = client('ec2')
v = ec2.create_vpc(CidrBlock='10.1.0.0/16')['Vpc']['VpcId']
o = ec2.create_vpc(CidrBlock='10.2.0.0/16')['Vpc']['VpcId']
def sub(cidr, az, vpc=None, public=False):
    s = ec2.create_subnet(VpcId=vpc or v, CidrBlock=cidr, AvailabilityZone=az)['Subnet']['SubnetId']
    if public:
        ec2.modify_subnet_attribute(SubnetId=s, MapPublicIpOnLaunch={'Value': True})
    return s
ids = {'vpcId': v}
for i, z in enumerate('abc'):
    ids['nodeSubnet' + z.upper()] = sub(f'10.1.{16 * i}.0/20', 'us-east-1' + z)
    ids['podSubnet' + z.upper()] = sub(f'10.1.{64 + 16 * i}.0/20', 'us-east-1' + z)
ids['publicSubnet'] = sub('10.1.128.0/20', 'us-east-1a', public=True)
ids['otherVpcSubnet'] = sub('10.2.0.0/20', 'us-east-1c', vpc=o)
for k, x in ids.items():
    print(f'{k}={x}')
";

fn run(program: Program, emu: &Emulator) -> Outcome {
    let start = Instant::now();
    let ws = Workspace::new(&format!("tests/corpus/{}", program.dir));
    ws.init_stack_quick(&emu.endpoints());
    let mut problems = Vec::new();
    if program.fixture.is_some() {
        let ids = emu.boto3(BYO_VPC);
        let mut args = vec!["config", "set-all"];
        for line in ids.lines() {
            args.extend(["--plaintext", line]);
        }
        let r = ws.pulumi(&args);
        assert_eq!(r.code, Some(0), "{}: config set-all: {}", program.dir, r.out);
    }
    for step in &program.setup {
        let args: Vec<&str> = step.split_whitespace().collect();
        let r = ws.pulumi(&args);
        if r.code != Some(0) {
            problems.push(format!("setup `pulumi {step}` failed:\n{}", r.out));
        }
    }
    let r = ws.pulumi(&["preview", "--non-interactive"]);
    let errors = ids_after(&r.out, "error:");
    let warnings = ids_after(&r.out, "warning:");
    match &program.expect {
        Expect::Pass => {
            if r.code != Some(0) {
                problems.push(format!("expected the preview to pass, it exited {:?}", r.code));
            }
            if !errors.is_empty() {
                problems.push(format!("expected no SEKS- error, got {errors:?}"));
            }
        }
        Expect::Fail => {
            if r.code == Some(0) {
                problems.push("expected the preview to fail, it passed".into());
            }
        }
        Expect::Rule(id) => {
            if r.code == Some(0) {
                problems.push(format!("expected {id} to fail the preview, it passed"));
            }
            if !errors.contains(id) {
                problems.push(format!("expected an error from {id}, got {errors:?}"));
            }
        }
    }
    for text in &program.outputs {
        if !r.out.contains(text.as_str()) {
            problems.push(format!("expected the output to contain {text:?}"));
        }
    }
    for text in &program.absent {
        if r.out.contains(text.as_str()) {
            problems.push(format!("expected the output not to contain {text:?}"));
        }
    }
    Outcome { program, code: r.code, errors, warnings, problems, out: r.out, secs: start.elapsed().as_secs_f64() }
}

fn expected(p: &Program) -> String {
    let mut s = match &p.expect {
        Expect::Pass => "pass".to_string(),
        Expect::Fail => "fail".to_string(),
        Expect::Rule(id) => id.clone(),
    };
    for o in &p.outputs {
        s.push_str(&format!(" +{o:?}"));
    }
    for a in &p.absent {
        s.push_str(&format!(" -{a:?}"));
    }
    s
}

fn got(o: &Outcome) -> String {
    let status = match o.code {
        Some(0) => "pass".to_string(),
        Some(c) => format!("exit {c}"),
        None => "killed".to_string(),
    };
    let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(" ");
    let mut s = status;
    if !o.errors.is_empty() {
        s.push_str(&format!("; errors: {}", join(&o.errors)));
    }
    if !o.warnings.is_empty() {
        s.push_str(&format!("; warnings: {}", join(&o.warnings)));
    }
    s
}

/// Every catalogue id must be exercised: errors by a failing program, warnings by an output line.
fn coverage(all: &[Program]) -> (Vec<String>, Vec<String>) {
    let mut covered = Vec::new();
    let mut missing = Vec::new();
    for m in all_meta() {
        let hit = match m.level {
            Level::Error => all.iter().any(|p| p.expect == Expect::Rule(m.id.to_string())),
            Level::Warning => all.iter().any(|p| p.outputs.iter().any(|o| o.contains(m.id))),
        };
        if hit { covered.push(m.id.to_string()) } else { missing.push(m.id.to_string()) }
    }
    (covered, missing)
}

#[test]
fn corpus_previews_refuse_every_defect_and_pass_every_good_program() {
    let all = programs();
    assert!(!all.is_empty(), "no programs in tests/corpus (CORPUS_FILTER={:?})", std::env::var("CORPUS_FILTER").ok());
    let filtered = std::env::var("CORPUS_FILTER").is_ok_and(|f| !f.is_empty());
    let started = Instant::now();
    let emu = Arc::new(Emulator::start());
    // Build the CLI (or find it) once, before the workers race for it.
    let _ = common::cli::pulumi_bin();

    let queue = Arc::new(Mutex::new(all.iter().cloned().collect::<VecDeque<_>>()));
    let results = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let workers: Vec<_> = (0..PARALLEL)
        .map(|_| {
            let (queue, results, emu) = (queue.clone(), results.clone(), emu.clone());
            std::thread::spawn(move || loop {
                let Some(p) = queue.lock().unwrap().pop_front() else { break };
                let o = run(p, &emu);
                results.lock().unwrap().push(o);
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a corpus worker panicked");
    }
    let wall = started.elapsed();
    let mut results = Arc::try_unwrap(results).unwrap().into_inner().unwrap();
    results.sort_by(|a, b| a.program.dir.cmp(&b.program.dir));

    let mut failed = Vec::new();
    let mut gaps = Vec::new();
    println!("\n| program | expected | got | s | ok |");
    println!("|---|---|---|---|---|");
    for o in &results {
        let ok = match (o.problems.is_empty(), &o.program.known_gap) {
            (true, _) => "ok",
            (false, Some(_)) => "KNOWN GAP",
            (false, None) => "FAIL",
        };
        println!("| {} | {} | {} | {:.1} | {ok} |", o.program.dir, expected(&o.program), got(o), o.secs);
        if !o.problems.is_empty() {
            match &o.program.known_gap {
                Some(why) => gaps.push(format!("{}: {why}: {}", o.program.dir, o.problems.join("; "))),
                None => failed.push(o),
            }
        }
    }
    let bad = results.iter().filter(|o| o.program.expect != Expect::Pass).count();
    println!(
        "\n{} programs ({bad} refused, {} passing) in {:.1}s with {PARALLEL} in parallel",
        results.len(),
        results.len() - bad,
        wall.as_secs_f64()
    );
    for g in &gaps {
        println!("known gap: {g}");
    }
    let (covered, missing) = coverage(&all);
    println!("rule ids covered ({}): {}", covered.len(), covered.join(" "));
    println!("rule ids not covered ({}): {}", missing.len(), missing.join(" "));

    if !failed.is_empty() {
        let detail: Vec<String> = failed
            .iter()
            .map(|o| format!("== {}\n{}\n-- output:\n{}", o.program.dir, o.problems.join("\n"), o.out))
            .collect();
        panic!("{} corpus program(s) did not behave as expected:\n{}", failed.len(), detail.join("\n"));
    }
    if !filtered {
        assert!(missing.is_empty(), "rules without a corpus program: {missing:?}");
    }
}
