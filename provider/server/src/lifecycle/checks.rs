//! Checking cluster inputs: decode once, fill the secure defaults around unknowns, read the AWS
//! facts the AWS-backed rules need, and run the rules (Check, and the gate before any AWS change).

use secure_eks_core::codec::{self, Annotations};
use secure_eks_core::model::{Autoname, ClusterArgs, PolicyReport};
use secure_eks_core::preview::{create_outputs, policy_report, Target};
use secure_eks_core::rules::{self, RuleCtx};
use secure_eks_core::value::{Path, PropertyMap, Value};

use super::{Configured, Notes, Result};
use crate::errors::ProviderError;

/// Cluster inputs decoded once, with the defaults applied around their unknowns.
pub(super) struct Prepared {
    pub spec: ClusterArgs,
    pub annotations: Annotations,
    olds: Option<ClusterArgs>,
}

/// The result of checking cluster inputs.
pub(super) struct Checked {
    pub spec: ClusterArgs,
    pub annotations: Annotations,
    pub report: rules::Report,
    pub hygiene: Vec<String>,
}

/// What Check answers: the checked inputs (defaults filled in, secrets where they came in), the
/// failures as `(property path, message)`, and warnings for the user.
pub struct CheckOutcome {
    /// The checked inputs.
    pub inputs: PropertyMap,
    /// `(property, reason)` per failure.
    pub failures: Vec<(String, String)>,
    /// Warnings (deferred and waived rules, waiver hygiene, AWS look-ups that failed).
    pub warnings: Notes,
}

/// Today's UTC date as `YYYY-MM-DD` (civil-from-days, proleptic Gregorian).
pub(super) fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

pub(super) fn prepare(
    news: &PropertyMap,
    olds: &PropertyMap,
    autoname: Autoname<'_>,
    region: Option<&str>,
) -> std::result::Result<Prepared, codec::DecodeError> {
    let decoded = codec::decode::<ClusterArgs>(&Value::Object(news.clone()))?;
    let olds = codec::decode::<ClusterArgs>(&Value::Object(olds.clone())).ok().map(|d| d.value);
    // A name chosen earlier stays: autonaming must be stable across updates.
    let autoname = match olds.as_ref().and_then(|o| o.cluster_name.as_deref()) {
        Some(n) => Autoname::Proposed(n),
        None => autoname,
    };
    let spec = decoded.value.with_defaults_around(autoname, region, &decoded.annotations);
    Ok(Prepared { spec, annotations: decoded.annotations, olds })
}

/// A schema error as an invalid-argument error (the rule's message, no value echoed).
pub(super) fn invalid(e: &codec::DecodeError) -> ProviderError {
    ProviderError::InvalidArgument(rules::schema_failure(e).1)
}

impl Prepared {
    /// Absent availability zones: the earlier ones, else the region's first three usable zones
    /// from AWS; without facts they stay absent (SEKS-NET-012 is deferred).
    pub fn with_zones(self, facts: Option<&rules::AwsFacts>) -> Self {
        let spec = self.spec.with_zones(self.olds.as_ref(), facts.and_then(|f| f.default_zones()));
        Prepared { spec, ..self }
    }

    /// An absent `deployerAdmin.principalArn`: the earlier one, else the deploying principal
    /// (STS, read at Configure). Left alone while `deployerAdmin` is unknown.
    pub fn with_deployer(self, configured: Option<&Configured>) -> Self {
        if self.annotations.touches_unknown(&Path::key("deployerAdmin")) {
            return self;
        }
        let caller = configured.and_then(|c| c.caller.as_ref()).and_then(|c| c.principal.as_deref());
        let spec = self.spec.with_deployer(self.olds.as_ref(), caller);
        Prepared { spec, ..self }
    }

    /// Run the rules (with the AWS facts, when there are any).
    pub fn evaluate(self, region: Option<&str>, aws_facts: Option<&rules::AwsFacts>) -> Checked {
        let today = today();
        let ctx = RuleCtx { spec: &self.spec, annotations: &self.annotations, olds: self.olds.as_ref(), region, today: &today, aws: aws_facts };
        let report = rules::evaluate(&ctx);
        let hygiene = rules::waiver_hygiene(&ctx, &report);
        Checked { spec: self.spec, annotations: self.annotations, report, hygiene }
    }

    /// Read the AWS facts the AWS-backed rules need. `Ok(None)` when the Kubernetes version is
    /// not known yet; `Err(note)` when the look-up failed (the rules are then deferred).
    pub async fn aws_facts(&self, configured: &Configured) -> std::result::Result<Option<rules::AwsFacts>, String> {
        let spec = &self.spec;
        let Some(version) = spec.kubernetes_version.clone().filter(|_| self.annotations.unknowns.keys().all(|p| p.top() != Some("kubernetesVersion"))) else {
            return Ok(None);
        };
        let (types, params, addons) = rules::AwsFacts::wanted(spec);
        let (images, subnets) = rules::AwsFacts::wanted_ids(spec);
        let deferred = |e: secure_eks_executor::ExecError| format!("SEKS-CFG-000 [INFO] the AWS-backed checks are deferred: {e}");
        let mut facts = configured.aws.facts(&types, &params, &addons, &version, &images, &subnets).await.map_err(deferred)?;
        facts.endpoint_services = Some(configured.aws.endpoint_services().await.map_err(deferred)?);
        Ok(Some(facts))
    }

    /// The gate before the first mutating call: every rule, the AWS-backed ones included, with
    /// real values. Returns the checked spec (zones Check could not read are the region's default
    /// zones now) and the policy report recorded in the outputs.
    pub async fn gate(self, configured: &Configured) -> Result<(ClusterArgs, PolicyReport)> {
        let why = match self.aws_facts(configured).await {
            Ok(Some(facts)) => {
                let checked = self.with_zones(Some(&facts)).with_deployer(Some(configured)).evaluate(Some(&configured.region), Some(&facts));
                if let Some(f) = checked.report.failures.first() {
                    return Err(ProviderError::InvalidArgument(f.message.clone()));
                }
                let mut report = policy_report(&checked.report, &checked.hygiene);
                report.admins = checked.spec.cluster_admins();
                return Ok((checked.spec, report));
            }
            Ok(None) => "the Kubernetes version is not known".to_string(),
            Err(note) => note,
        };
        Err(ProviderError::FailedPrecondition(format!(
            "the AWS-backed checks (instance types, AMI parameters, addon versions) could not run, so nothing was changed in AWS ({why})"
        )))
    }
}

/// Check: the inputs with their secure defaults, the rule failures and the warnings. The
/// AWS-backed rules run when the provider is configured with an account (else they are deferred).
pub async fn check(
    configured: Option<&Configured>,
    region: Option<&str>,
    news: &PropertyMap,
    olds: &PropertyMap,
    autoname: Autoname<'_>,
) -> Result<CheckOutcome> {
    let prepared = match prepare(news, olds, autoname, region) {
        Ok(p) => p,
        Err(e) => {
            let (p, m) = rules::schema_failure(&e);
            return Ok(CheckOutcome { inputs: news.clone(), failures: vec![(p, m)], warnings: Vec::new() });
        }
    };
    let mut warnings = Vec::new();
    let facts = match configured {
        Some(c) if c.account.is_some() => match prepared.aws_facts(c).await {
            Ok(f) => f,
            Err(note) => {
                warnings.push(note);
                None
            }
        },
        _ => None,
    };
    let checked = prepared.with_zones(facts.as_ref()).with_deployer(configured).evaluate(region, facts.as_ref());
    warnings.extend(checked.report.warnings.iter().map(|w| w.message.clone()));
    warnings.extend(checked.hygiene.iter().cloned());
    for (item, reason) in &checked.report.waived {
        warnings.push(format!("waived {} on {}: {reason}", item.meta.id, item.path));
    }
    if let Some(note) = checked.report.deferred_note() {
        warnings.push(note);
    }
    if let Some(note) = checked.report.skipped_note() {
        warnings.push(note);
    }
    let inputs = match codec::encode(&checked.spec, &checked.annotations) {
        Ok(Value::Object(m)) => m,
        Ok(_) => news.clone(),
        Err(e) => return Err(ProviderError::Internal(e.to_string())),
    };
    let failures = checked.report.failures.iter().map(|f| (f.property.clone(), f.message.clone())).collect();
    Ok(CheckOutcome { inputs, failures, warnings })
}

/// The outputs of a create at preview: known values, explicit unknowns, the policy report.
pub fn preview_create(configured: Option<&Configured>, props: &PropertyMap) -> Result<PropertyMap> {
    let region = configured.map(|c| c.region.clone());
    let checked = prepare(props, &PropertyMap::new(), Autoname::Disabled, region.as_deref())
        .map_err(|e| invalid(&e))?
        .evaluate(region.as_deref(), None);
    let ann = &checked.annotations;
    let known = |top: &str| !ann.touches_unknown(&Path::key(top));
    let target = Target { region: region.as_deref(), account: configured.and_then(|c| c.account.as_deref()), partition: "aws" };
    let mut report = policy_report(&checked.report, &checked.hygiene);
    report.admins = checked.spec.cluster_admins();
    Ok(create_outputs(&checked.spec, &known, &target, report))
}

/// The outputs of an update at preview: as for a create, but outputs of the running cluster
/// that the change does not touch stay known.
pub fn preview_update(configured: Option<&Configured>, news: &PropertyMap, olds: PropertyMap) -> Result<PropertyMap> {
    let mut outputs = preview_create(configured, news)?;
    for (k, v) in olds {
        if matches!(outputs.get(&k), Some(Value::Unknown(_))) && !v.contains_unknowns() {
            let stable = matches!(
                k.as_str(),
                "clusterArn" | "endpoint" | "certificateAuthorityData" | "oidcIssuerUrl" | "oidcProviderArn" | "vpcId" | "clusterRoleArn" | "nodeRoleArn"
            );
            if stable {
                outputs.insert(k, v);
            }
        }
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn today_is_a_date() {
        let t = super::today();
        assert_eq!(t.len(), 10);
        assert!(t.starts_with("20"));
    }
}
