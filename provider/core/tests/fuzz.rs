//! Fuzzing the pure Check path with hostile property trees: the codec (`decode` with its
//! placeholder repair, `encode`/`restore`), the defaults and every rule, plus the input diff and
//! the preview outputs against a good spec.
//!
//! Each case is one `u64` seed (proptest draws it; a failure prints it, and
//! `SECURE_EKS_FUZZ_SEED=<seed>` replays one) from which a small generator builds the inputs:
//! a full, valid spec with a few fields replaced (wrong types at every field, unknowns of every
//! kind, secrets around anything, outputs, resource references, assets, huge strings, long lists,
//! deep nesting, odd keys and control characters), or a tree that is random throughout. The
//! properties: nothing panics, nothing takes long (a per-case time budget), a tree nested deeper
//! than the codec's cap is refused with a clear error, and a tree that decodes re-encodes.
//!
//! Invalid UTF-8 cannot be expressed as a `Value` (a Rust `String`); it is refused by prost
//! before the wire conversion, which the server's `wire_fuzz` test covers.
//!
//! The number of cases is `SECURE_EKS_FUZZ_CASES` (default 2,000 for `cargo test`);
//! `scripts/test.sh` runs 1,000,000 in a release build of this crate only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use secure_eks_core::codec::{self, MAX_DEPTH};
use secure_eks_core::model::{Autoname, ClusterArgs};
use secure_eks_core::rules::{self, RuleCtx};
use secure_eks_core::value::{Archive, Asset, OutputValue, PropertyMap, ResourceRef, UnknownKind, Value};
use serde_json::json;

// ---------------------------------------------------------------- a small deterministic generator

/// SplitMix64: fast, and the same sequence for the same seed everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// Strings that mean something somewhere: enum values, versions, ARNs, CIDRs, sentinels of
/// other kinds, markers of leaked Outputs, and plain junk.
const WORDS: &[&str] = &[
    "", " ", "general", "1.34", "1.99", "v1.19.2-eksbuild.1", "ClusterAdmin", "View", "NO_SCHEDULE", "SPOT", "ON_DEMAND",
    "AL2023_ARM_64_STANDARD", "m7g.large", "t2.micro", "10.0.0.0/16", "10.0.0.0/33", "0.0.0.0/0", "100.64.0.0/10",
    "arn:aws:iam::123456789012:role/admin", "arn:aws:kms:us-west-2:123456789012:key/abc", "arn:", "us-east-1a",
    "defer", "warn", "fail", "single", "perAz", "none", "SEKS-NET-001", "SEKS-CFG-000", "2000-01-01", "9999-12-31",
    "Calling [toString] on an [Output<T>] is not supported.", "<nil>", "[object Object]", "${var}", "%s", "\u{0}",
    "\u{feff}", "ünïcödé", "\u{202e}rtl", "a.b[0].c", "[", "]", ".", "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "1b47061264138c4ac30d75fd1eb44270", "4dabf18193072939515e22adb298388d", "-1", "NaN", "true", "null",
];

const KEYS: &[&str] = &[
    "", "name", "version", "value", "a.b", "[0]", "x[", "4dabf18193072939515e22adb298388d", "nodeGroups", "tags",
    "\u{0}", "ünï", "configuration", "secret", "urn", "id",
];

fn leaf(r: &mut Rng) -> Value {
    match r.below(16) {
        0 => Value::Null,
        1 => Value::Bool(r.chance(2)),
        2 => Value::Number(*r.pick(&[0.0, -1.0, 1.0, 0.5, 1e300, -1e300, f64::MAX, f64::MIN_POSITIVE, 9.1e15, 65536.0, 2.0, 100.0])),
        3 => Value::Number(f64::from_bits(r.next())), // NaN, infinities, subnormals
        4 => Value::Number((r.below(2000) as f64) - 1000.0),
        5 | 6 => Value::String(r.pick(WORDS).to_string()),
        7 => Value::String((0..r.below(40)).map(|_| char::from_u32(r.below(0x11_0000) as u32).unwrap_or('?')).collect()),
        8 => Value::Unknown(*r.pick(&UnknownKind::ALL)),
        9 => Value::Secret(Box::new(Value::String(r.pick(WORDS).to_string()))),
        10 => Value::Output(OutputValue { value: None, secret: r.chance(2), dependencies: vec!["urn:a".into()] }),
        11 => Value::Output(OutputValue { value: Some(Box::new(Value::String(r.pick(WORDS).to_string()))), secret: r.chance(2), dependencies: vec![] }),
        12 => Value::ResourceRef(ResourceRef { urn: "urn:pulumi:s::p::t::n".into(), id: r.chance(2).then(String::new), ..Default::default() }),
        13 => Value::Asset(Asset { text: Some("x".into()), ..Default::default() }),
        14 => Value::Archive(Archive { assets: Some(PropertyMap::new()), ..Default::default() }),
        _ => Value::String(r.pick(WORDS).repeat(1 + r.below(4) as usize)),
    }
}

/// A random tree of at most `depth` levels.
fn tree(r: &mut Rng, depth: u32) -> Value {
    if depth == 0 || r.chance(3) {
        return leaf(r);
    }
    match r.below(5) {
        0 | 1 => Value::Array((0..r.below(5)).map(|_| tree(r, depth - 1)).collect()),
        2 | 3 => Value::Object((0..r.below(5)).map(|_| (r.pick(KEYS).to_string(), tree(r, depth - 1))).collect()),
        _ => Value::Secret(Box::new(tree(r, depth - 1))),
    }
}

/// Something hostile: mostly small, sometimes huge, long or deep.
fn hostile(r: &mut Rng) -> Value {
    match r.below(200) {
        // A huge string (up to 1 MiB).
        0 => Value::String("A".repeat(1 << (10 + r.below(11)))),
        // A long list of something plausible.
        1 => Value::Array((0..(64 + r.below(2000))).map(|_| leaf(r)).collect()),
        // Deep nesting: under the cap, at it, or far beyond it.
        2 => nested(r.below(u64::from(MAX_DEPTH) * 3) as u32),
        // Unknown or secret around a whole structure.
        3..=10 => Value::Secret(Box::new(tree(r, 3))),
        _ => tree(r, 3),
    }
}

/// `{"a": [{"a": [...]}]}`, `depth` containers deep (built without recursion).
fn nested(depth: u32) -> Value {
    let mut v = Value::String("bottom".into());
    for i in 0..depth {
        v = if i % 2 == 0 { Value::Array(vec![v]) } else { Value::Object(BTreeMap::from([("a".to_string(), v)])) };
    }
    v
}

/// A valid spec that sets (nearly) every field, as a plain tree.
fn full_spec() -> Value {
    let spec = json!({
        "clusterName": "fuzz",
        "kubernetesVersion": "1.34",
        "network": {"vpcCidr": "10.0.0.0/16", "natGateways": "single", "availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"]},
        "apiAccess": {"private": true, "public": true, "publicCidrs": ["203.0.113.0/24"]},
        "logging": {"types": ["api", "audit"], "retentionDays": 90},
        "encryption": {"kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/abc"},
        "nodeGroups": [
            {"name": "general", "instanceTypes": ["m7g.large"], "minSize": 1, "desiredSize": 2, "maxSize": 3,
             "labels": {"team": "a"}, "taints": [{"key": "k", "value": "v", "effect": "NO_SCHEDULE"}], "diskSizeGb": 50,
             "imdsHopLimit": 2, "capacityType": "ON_DEMAND"},
            {"name": "pinned", "instanceTypes": ["m7i.large"], "amiId": "ami-ekslinux", "userData": "#!/bin/bash\necho hi"}
        ],
        "addons": {"vpcCni": {"version": "v1.19.2-eksbuild.1", "configuration": {"env": {"WARM_IP_TARGET": "5"}}}},
        "accessEntries": [{"principalArn": "arn:aws:iam::123456789012:role/admin", "accessPolicy": "ClusterAdmin"},
                          {"principalArn": "arn:aws:iam::123456789012:role/dev", "accessPolicy": "View", "namespaces": ["app"]}],
        "serviceAccountRoles": [{"namespace": "app", "name": "web", "policyArns": ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]}],
        "tags": {"team": "platform"},
        "policy": {"unknowns": "defer", "waivers": [{"rule": "SEKS-NET-001", "reason": "a good enough reason for the fuzzer", "expires": "2999-01-01"}]}
    });
    codec::from_json(&spec)
}

/// Every path of a tree (objects and arrays), root first.
fn paths(v: &Value, here: Vec<PathSeg>, out: &mut Vec<Vec<PathSeg>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let mut p = here.clone();
                p.push(PathSeg::Key(k.clone()));
                paths(c, p, out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                let mut p = here.clone();
                p.push(PathSeg::Index(i));
                paths(c, p, out);
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum PathSeg {
    Key(String),
    Index(usize),
}

fn slot<'a>(v: &'a mut Value, path: &[PathSeg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in path {
        cur = match (cur, s) {
            (Value::Object(m), PathSeg::Key(k)) => m.get_mut(k)?,
            (Value::Array(a), PathSeg::Index(i)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The good spec and its paths, built once.
fn base() -> &'static (Value, Vec<Vec<PathSeg>>) {
    static BASE: std::sync::OnceLock<(Value, Vec<Vec<PathSeg>>)> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        let base = full_spec();
        let mut all = Vec::new();
        paths(&base, Vec::new(), &mut all);
        (base, all)
    })
}

/// The case for one seed: new inputs, and old inputs (the good spec, or none).
fn case(seed: u64) -> (Value, Option<Value>) {
    let mut r = Rng(seed);
    let (base, all) = base();
    let news = if r.chance(8) {
        // Random throughout (usually an object at the root, as the engine sends).
        match tree(&mut r, 5) {
            v @ Value::Object(_) => v,
            v => Value::Object(BTreeMap::from([(r.pick(KEYS).to_string(), v)])),
        }
    } else {
        let mut v = base.clone();
        for _ in 0..(1 + r.below(4)) {
            let p = r.pick(&all[1..]).clone();
            let action = r.below(10);
            if let Some(s) = slot(&mut v, &p) {
                *s = match action {
                    0 => Value::Unknown(*r.pick(&UnknownKind::ALL)),
                    1 => Value::Secret(Box::new(s.clone())),
                    2 => Value::Output(OutputValue { value: r.chance(2).then(|| Box::new(s.clone())), secret: r.chance(2), dependencies: vec![] }),
                    _ => hostile(&mut r),
                };
            }
        }
        if r.chance(4) {
            // An unexpected top-level key.
            if let Value::Object(m) = &mut v {
                m.insert(r.pick(KEYS).to_string(), hostile(&mut r));
            }
        }
        v
    };
    let olds = r.chance(3).then(|| base.clone());
    (news, olds)
}

// ---------------------------------------------------------------- the Check path

/// What the server's Check does with decoded inputs, minus the wire and the AWS facts.
fn check(news: &Value, olds: Option<&Value>) {
    let decoded = match codec::decode::<ClusterArgs>(news) {
        Ok(d) => d,
        Err(e) => {
            // A schema failure: the message names a path, never panics.
            let _ = rules::schema_failure(&e);
            assert!(!e.message.is_empty());
            return;
        }
    };
    let olds = olds.and_then(|o| codec::decode::<ClusterArgs>(o).ok()).map(|d| d.value);
    let spec = decoded.value.with_defaults_around(Autoname::Derived { resource_name: "fuzz", seed: b"urn:fuzz" }, Some("us-east-1"), &decoded.annotations);
    let ctx = RuleCtx { spec: &spec, annotations: &decoded.annotations, olds: olds.as_ref(), region: Some("us-east-1"), today: "2026-01-01", aws: None };
    let report = rules::evaluate(&ctx);
    let _ = rules::waiver_hygiene(&ctx, &report);
    let _ = report.deferred_note();
    // The checked inputs go back to the engine: they must encode.
    let encoded = codec::encode(&spec, &decoded.annotations).expect("checked inputs encode");
    assert!(matches!(encoded, Value::Object(_)), "checked inputs are an object");
}

/// The time one case may take. Generous (a debug build, a busy machine); a quadratic blow-up
/// or a hang on a 1 MiB input blows through it.
const CASE_BUDGET: Duration = Duration::from_secs(5);

fn run_one(seed: u64) -> Result<(), TestCaseError> {
    let (news, olds) = case(seed);
    let t = Instant::now();
    check(&news, olds.as_ref());
    let took = t.elapsed();
    prop_assert!(took < CASE_BUDGET, "seed {seed}: the case took {took:?}");
    Ok(())
}

fn cases() -> u32 {
    std::env::var("SECURE_EKS_FUZZ_CASES").ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(2_000)
}

#[test]
fn check_never_panics_or_hangs_on_hostile_inputs() {
    if let Some(seed) = std::env::var("SECURE_EKS_FUZZ_SEED").ok().and_then(|s| s.parse::<u64>().ok()) {
        run_one(seed).unwrap();
        return;
    }
    let n = cases();
    // One runner per core, each with its own share of the cases and its own random seeds.
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get()).clamp(1, 8) as u32;
    let t = Instant::now();
    let runs: Vec<_> = (0..threads)
        .map(|i| {
            let share = n / threads + u32::from(i < n % threads);
            std::thread::spawn(move || {
                let mut runner = TestRunner::new(Config { cases: share, failure_persistence: None, ..Config::default() });
                runner.run(&any::<u64>(), run_one).map_err(|e| e.to_string())
            })
        })
        .collect();
    let failures: Vec<String> = runs.into_iter().filter_map(|h| h.join().unwrap().err()).collect();
    let took = t.elapsed();
    eprintln!("fuzz: {n} cases on {threads} threads in {took:.1?} ({:.0} cases/s)", f64::from(n) / took.as_secs_f64());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------- the caps, directly

#[test]
fn nesting_beyond_the_cap_is_refused_with_a_clear_error() {
    // At the cap: decodes (as a schema error about the type, not about depth).
    let mut at = PropertyMap::new();
    at.insert("tags".into(), nested(MAX_DEPTH - 2));
    let e = codec::decode::<ClusterArgs>(&Value::Object(at)).unwrap_err();
    assert!(!e.message.contains("nested"), "{e}");
    // Beyond it, even far beyond (no stack overflow): refused, naming the limit.
    for depth in [MAX_DEPTH, MAX_DEPTH + 1, 100_000] {
        let mut m = PropertyMap::new();
        m.insert("tags".into(), nested(depth));
        let v = Value::Object(m);
        let e = codec::decode::<ClusterArgs>(&v).unwrap_err();
        assert!(e.message.contains(&format!("nested more than {MAX_DEPTH} levels deep")), "{depth}: {e}");
        assert_eq!(e.path.top(), Some("tags"), "the error names where: {e}");
        // Dropping a very deep tree must not overflow the stack either.
        drop_deep(v);
    }
}

/// Drop a deep tree iteratively (the default recursive drop overflows the stack at this depth,
/// which is why the wire conversion refuses such trees before building them).
fn drop_deep(v: Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => stack.extend(m.into_values()),
            Value::Secret(b) => stack.push(*b),
            _ => {}
        }
    }
}

#[test]
fn many_unknowns_in_a_long_list_decode_quickly() {
    // Every element's required field is unknown: the placeholder repair must not go quadratic.
    let n = 5_000;
    let groups: Vec<Value> = (0..n)
        .map(|_| Value::Object(BTreeMap::from([("name".to_string(), Value::Unknown(UnknownKind::String)), ("instanceTypes".to_string(), Value::Unknown(UnknownKind::Array))])))
        .collect();
    let v = Value::Object(BTreeMap::from([("nodeGroups".to_string(), Value::Array(groups))]));
    let t = Instant::now();
    let r = codec::decode::<ClusterArgs>(&v);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
    let d = r.unwrap();
    assert_eq!(d.value.node_groups.map(|g| g.len()), Some(n));
    assert_eq!(d.annotations.unknowns.len(), 2 * n);
}
