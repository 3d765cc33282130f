//! `plan-stats [spec.json] [--calls calls.json]`: the shape of a plan — steps, critical path and
//! width — for a cluster spec (default: examples/yaml-minimal's inputs). With `--calls` (a JSON
//! object: step id → AWS calls the step makes one after another, as `bench/run.sh` writes it to
//! `target/bench/calls.json`) also the critical path in calls and its chain.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use secure_eks_core::model::{Autoname, ClusterArgs};

/// The cluster inputs of examples/yaml-minimal.
const MINIMAL: &str = r#"{"kubernetesVersion": "1.34", "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large", "m6g.large"]}]}"#;

const REGION: &str = "us-east-1";

/// The report, as text.
pub fn plan_stats(args: &[String]) -> Result<String> {
    let mut spec_file = None;
    let mut calls_file = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--calls" => calls_file = Some(it.next().context("--calls needs a file")?),
            f => spec_file = Some(f),
        }
    }
    let text = match spec_file {
        Some(f) => std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?,
        None => MINIMAL.to_string(),
    };
    let spec: ClusterArgs = serde_json::from_str(&text).context("parsing the cluster spec")?;
    let spec = spec.with_defaults(Autoname::Proposed("stats"), Some(REGION));
    let plan = secure_eks_core::plan::plan(&spec, REGION, &BTreeMap::new())?;
    let mut out = format!(
        "steps: {}\ncritical path (steps): {}\nmax width (steps at one depth): {}\n",
        plan.steps.len(),
        plan.critical_path_len(),
        plan.max_width()
    );
    if let Some(f) = calls_file {
        let text = std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?;
        let calls: BTreeMap<String, u64> = serde_json::from_str(&text).context("parsing the calls file")?;
        let cost = |id: &str| calls.get(id).copied().unwrap_or(0);
        let (total, chain) = plan.critical_path_by(|s| cost(&s.id));
        let chain: Vec<String> = chain.iter().map(|id| format!("{id} x{}", cost(id))).collect();
        out.push_str(&format!("critical path (sequential AWS calls): {total}\nchain: {}\n", chain.join(" -> ")));
    }
    Ok(out)
}
