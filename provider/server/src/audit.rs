//! The audit of an existing cluster, for the `secure-eks:index:auditCluster` Invoke and the
//! `pulumi-resource-secure-eks audit` command: read through the executor's read-only clients,
//! judge with the core's rules (same ids as Check), and render as the Invoke's result, text, JSON
//! or SARIF 2.1.0.

use secure_eks_core::model::ProviderConfig;
use secure_eks_core::rules::audit::{audit, AuditReport};
use secure_eks_core::rules::{all_meta_with_audit, Level, RuleMeta};
use secure_eks_executor::Aws;
use serde_json::{json, Value};

/// The Invoke's token.
pub const AUDIT_TOKEN: &str = "secure-eks:index:auditCluster";

/// Why an audit could not run.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// No such cluster.
    #[error("there is no EKS cluster named {name:?} in {region}")]
    NotFound {
        /// The name asked for.
        name: String,
        /// The region.
        region: String,
    },
    /// Reading the cluster failed.
    #[error("reading cluster {name:?} failed: {reason}")]
    Read {
        /// The name asked for.
        name: String,
        /// The executor's error.
        reason: String,
    },
}

/// Read and judge cluster `name` in `region` with the session `aws` (made read-only here).
pub async fn run(aws: &Aws, name: &str, region: &str) -> Result<AuditReport, AuditError> {
    let facts = aws.read_only().audit_facts(name, region).await.map_err(|e| AuditError::Read { name: name.into(), reason: e.to_string() })?;
    let facts = facts.ok_or_else(|| AuditError::NotFound { name: name.into(), region: region.into() })?;
    Ok(audit(&facts))
}

/// A session for `region` from the provider config (the Invoke's region may differ from the
/// provider's).
pub async fn session(cfg: &ProviderConfig, region: &str) -> Aws {
    Aws::new(cfg, region).await
}

fn level(m: &RuleMeta) -> &'static str {
    match m.level {
        Level::Error => "error",
        Level::Warning => "warning",
    }
}

/// The report as the Invoke returns it (and as `--format json` prints it).
pub fn to_json(r: &AuditReport) -> Value {
    json!({
        "clusterName": r.cluster_name,
        "region": r.region,
        "failed": r.failed(),
        "findings": r.findings.iter().map(|f| json!({
            "ruleId": f.meta.id,
            "title": f.meta.title,
            "severity": f.meta.severity.to_string(),
            "level": level(f.meta),
            "path": f.path,
            "message": f.message,
            "refs": f.meta.refs,
        })).collect::<Vec<_>>(),
        "rulesJudged": r.judged,
        "notJudged": r.not_judged.iter().map(|(id, why)| json!({"ruleId": id, "reason": why})).collect::<Vec<_>>(),
    })
}

/// The report as text: one line per finding, then what was not judged.
pub fn to_text(r: &AuditReport) -> String {
    let mut s = format!("secure-eks audit of cluster {} in {}\n", r.cluster_name, r.region);
    for f in &r.findings {
        s.push_str(&format!("{}: {}\n", level(f.meta), f.message));
    }
    s.push_str(&format!(
        "{} finding(s) ({} error(s)); {} rule(s) judged, {} not judged:\n",
        r.findings.len(),
        r.findings.iter().filter(|f| f.meta.level == Level::Error).count(),
        r.judged.len(),
        r.not_judged.len()
    ));
    for (id, why) in &r.not_judged {
        s.push_str(&format!("  {id}: {why}\n"));
    }
    s
}

/// The SARIF 2.1.0 log: one run, the rule catalogue as the driver's rules, one result per
/// finding with its path as a logical location against the observed cluster.
pub fn to_sarif(r: &AuditReport) -> Value {
    let metas = all_meta_with_audit();
    let rules: Vec<Value> = metas
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "name": m.id.replace('-', ""),
                "shortDescription": {"text": m.title},
                "helpUri": format!("https://github.com/secure-eks/pulumi-secure-eks/blob/main/docs/rules.md#{}", m.id.to_ascii_lowercase()),
                "defaultConfiguration": {"level": level(m)},
                "properties": {"severity": m.severity.to_string(), "equivalents": m.refs},
            })
        })
        .collect();
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.meta.id,
                "ruleIndex": metas.iter().position(|m| m.id == f.meta.id).unwrap_or(0),
                "level": level(f.meta),
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": format!("eks://{}/{}", r.region, r.cluster_name)}},
                    "logicalLocations": [{"fullyQualifiedName": f.path, "kind": "resource"}],
                }],
                "partialFingerprints": {"secureEksPath/v1": format!("{}:{}:{}", r.cluster_name, f.meta.id, f.path)},
            })
        })
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "secure-eks",
                "informationUri": "https://github.com/secure-eks/pulumi-secure-eks",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
            "properties": {"notJudged": r.not_judged.iter().map(|(id, why)| json!({"ruleId": id, "reason": why})).collect::<Vec<_>>()},
        }],
    })
}

/// `pulumi-resource-secure-eks audit --cluster NAME [--region R] [--format text|json|sarif]`:
/// prints the report on stdout and returns the exit code (0 clean, 1 an error-level finding,
/// 2 the audit could not run or the arguments are wrong). Credentials, region and endpoints come
/// from the usual AWS environment (`AWS_REGION`, `AWS_PROFILE`, ...); `AWS_ENDPOINT_URL` points
/// every service at one endpoint (an emulator).
pub async fn cli(args: &[String]) -> (i32, String) {
    let mut cluster = None;
    let mut region = std::env::var("AWS_REGION").ok().or_else(|| std::env::var("AWS_DEFAULT_REGION").ok());
    let mut format = "text".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (k, inline) = match a.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (a.as_str(), None),
        };
        let mut val = || inline.clone().or_else(|| it.next().cloned());
        match k {
            "--cluster" => cluster = val(),
            "--region" => region = val(),
            "--format" => format = val().unwrap_or_default(),
            other => return (2, format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let Some(cluster) = cluster else { return (2, format!("--cluster is required\n{USAGE}")) };
    let Some(region) = region else { return (2, format!("no region: pass --region or set AWS_REGION\n{USAGE}")) };
    if !matches!(format.as_str(), "text" | "json" | "sarif") {
        return (2, format!("--format must be text, json or sarif\n{USAGE}"));
    }
    let mut cfg = ProviderConfig::default();
    if let Ok(url) = std::env::var("AWS_ENDPOINT_URL") {
        cfg.endpoints = Some(secure_eks_core::model::ENDPOINT_SERVICES.iter().map(|s| (s.to_string(), url.clone())).collect());
    }
    let aws = session(&cfg, &region).await;
    match run(&aws, &cluster, &region).await {
        Ok(r) => {
            let out = match format.as_str() {
                "json" => serde_json::to_string_pretty(&to_json(&r)).unwrap_or_default(),
                "sarif" => serde_json::to_string_pretty(&to_sarif(&r)).unwrap_or_default(),
                _ => to_text(&r),
            };
            (i32::from(r.failed()), out)
        }
        Err(e) => (2, format!("secure-eks audit: {e}")),
    }
}

/// The command's usage line.
pub const USAGE: &str = "usage: pulumi-resource-secure-eks audit --cluster NAME [--region REGION] [--format text|json|sarif]";
