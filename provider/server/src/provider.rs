//! The `ResourceProvider` service: decode the wire request, call the pure core (or the executor),
//! encode the answer. Every handler runs on its own task, so a panic becomes an INTERNAL status.

use std::future::Future;
use std::sync::Arc;

use secure_eks_core::codec::{self, Annotations};
use secure_eks_core::diff::{diff, ChangeKind};
use secure_eks_core::model::{Autoname, ClusterArgs, ProviderConfig};
use secure_eks_core::preview::{create_outputs, policy_report, Target};
use secure_eks_core::rules::{self, RuleCtx};
use secure_eks_core::value::{Path, PropertyMap, Value};
use secure_eks_core::{schema, CLUSTER_TOKEN, PACKAGE, VERSION};
use secure_eks_executor::Aws;
use secure_eks_proto::pulumirpc::{self, resource_provider_server::ResourceProvider};
use tokio::sync::{Notify, RwLock};
use tonic::{Request, Response, Status};

use crate::engine::EngineLog;
use crate::errors::ProviderError;
use crate::wire;

type Result<T> = std::result::Result<T, ProviderError>;

/// The state of a configured provider.
#[derive(Clone, Debug)]
pub struct Configured {
    /// The checked config.
    pub config: ProviderConfig,
    /// The resolved region.
    pub region: String,
    /// The account id, when STS was called.
    pub account: Option<String>,
    /// The AWS session.
    pub aws: Aws,
}

/// Shared provider state.
#[derive(Default)]
pub struct Inner {
    /// Engine logging.
    pub engine: EngineLog,
    configured: RwLock<Option<Arc<Configured>>>,
    /// Notified on Cancel; the server shuts down unless attached.
    pub cancelled: Arc<Notify>,
    /// Cancelled on Cancel: in-flight AWS work stops at the next step boundary.
    pub cancel: tokio_util::sync::CancellationToken,
    attached: std::sync::atomic::AtomicBool,
}

/// The gRPC service.
#[derive(Clone, Default)]
pub struct SecureEksProvider {
    inner: Arc<Inner>,
}

impl SecureEksProvider {
    /// A provider that logs to `engine_address` (when known).
    pub async fn new(engine_address: Option<&str>) -> Self {
        let p = SecureEksProvider::default();
        if let Some(a) = engine_address {
            p.inner.engine.set_address(a).await;
        }
        p
    }

    /// Notified when the engine sends Cancel (outside attach mode).
    pub fn shutdown_signal(&self) -> Arc<Notify> {
        self.inner.cancelled.clone()
    }

    /// Run a handler on its own task; errors and panics become statuses here and nowhere else.
    async fn run<T, F, Fut>(&self, name: &'static str, f: F) -> std::result::Result<Response<T>, Status>
    where
        F: FnOnce(Arc<Inner>) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let fut = f(self.inner.clone());
        match tokio::spawn(fut).await {
            Ok(Ok(v)) => Ok(Response::new(v)),
            Ok(Err(e)) => {
                tracing::debug!(rpc = name, "error: {e}");
                Err(e.into_status())
            }
            Err(je) if je.is_panic() => {
                let payload = je.into_panic();
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(ProviderError::Internal(format!("{name} panicked: {msg}")).into_status())
            }
            Err(_) => Err(ProviderError::Cancelled(format!("{name} was cancelled")).into_status()),
        }
    }
}

fn env_region() -> Option<String> {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

/// Today's UTC date as `YYYY-MM-DD` (civil-from-days, proleptic Gregorian).
fn today() -> String {
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

fn coerce_config(map: &PropertyMap) -> PropertyMap {
    schema::coerce_config(map)
}

fn failure(property: impl Into<String>, reason: impl Into<String>) -> pulumirpc::CheckFailure {
    pulumirpc::CheckFailure { property: property.into(), reason: reason.into() }
}

fn decode_config(news: &PropertyMap) -> std::result::Result<codec::Decoded<ProviderConfig>, codec::DecodeError> {
    codec::decode::<ProviderConfig>(&Value::Object(coerce_config(news)))
}

/// Config keys whose values are always secret.
const SECRET_CONFIG: [&str; 3] = ["accessKey", "secretKey", "token"];

fn check_config(req: pulumirpc::CheckRequest) -> Result<pulumirpc::CheckResponse> {
    let news = wire::from_opt_struct(req.news.as_ref())?;
    let mut inputs = coerce_config(&news);
    for k in SECRET_CONFIG {
        if let Some(v) = inputs.get_mut(k) {
            if !matches!(v, Value::Secret(_)) {
                *v = Value::Secret(Box::new(v.clone()));
            }
        }
    }
    let failures = match decode_config(&news) {
        Err(e) => {
            let (p, m) = rules::schema_failure(&e);
            vec![failure(p, m)]
        }
        Ok(d) => {
            let mut cfg = d.value;
            // Unknown values are checked again when they are known.
            for p in d.annotations.unknowns.keys() {
                if let Some(top) = p.top() {
                    match top {
                        "region" => cfg.region = None,
                        "endpoints" => cfg.endpoints = None,
                        _ => {}
                    }
                }
            }
            rules::check_provider_config(&cfg).into_iter().map(|(p, m)| failure(p, m)).collect()
        }
    };
    Ok(pulumirpc::CheckResponse { inputs: Some(wire::to_struct(&inputs)), failures })
}

fn diff_response(old: &PropertyMap, new: &PropertyMap, replace_keys: &[&str]) -> pulumirpc::DiffResponse {
    use pulumirpc::property_diff::Kind;
    let mut r = diff(old, new);
    for (p, k) in r.detailed.iter_mut() {
        if p.top().is_some_and(|t| replace_keys.contains(&t)) && !k.is_replace() {
            *k = match k {
                ChangeKind::Add => ChangeKind::AddReplace,
                ChangeKind::Delete => ChangeKind::DeleteReplace,
                _ => ChangeKind::UpdateReplace,
            };
            if let Some(t) = p.top() {
                if !r.replaces.iter().any(|x| x == t) {
                    r.replaces.push(t.to_string());
                }
            }
        }
    }
    let detailed_diff: std::collections::HashMap<String, pulumirpc::PropertyDiff> = r
        .detailed
        .iter()
        .map(|(p, k)| {
            let kind = match k {
                ChangeKind::Add => Kind::Add,
                ChangeKind::AddReplace => Kind::AddReplace,
                ChangeKind::Delete => Kind::Delete,
                ChangeKind::DeleteReplace => Kind::DeleteReplace,
                ChangeKind::Update => Kind::Update,
                ChangeKind::UpdateReplace => Kind::UpdateReplace,
            };
            (p.to_string(), pulumirpc::PropertyDiff { kind: kind as i32, input_diff: true })
        })
        .collect();
    pulumirpc::DiffResponse {
        replaces: r.replaces.clone(),
        stables: vec![],
        delete_before_replace: r.delete_before_replace,
        changes: if r.has_changes() {
            pulumirpc::diff_response::DiffChanges::DiffSome as i32
        } else {
            pulumirpc::diff_response::DiffChanges::DiffNone as i32
        },
        diffs: r.diffs,
        detailed_diff,
        has_detailed_diff: true,
    }
}

/// The result of checking cluster inputs.
struct Checked {
    spec: ClusterArgs,
    annotations: Annotations,
    report: rules::Report,
    hygiene: Vec<String>,
}

/// Cluster inputs decoded once, with the defaults applied around their unknowns.
struct Prepared {
    spec: ClusterArgs,
    annotations: Annotations,
    olds: Option<ClusterArgs>,
}

/// `props` with `network.availabilityZones` set to `zones` when it has none.
fn props_with_zones(props: &PropertyMap, zones: Option<&[String]>) -> PropertyMap {
    let mut out = props.clone();
    let Some(zones) = zones else { return out };
    let net = out.entry("network".to_string()).or_insert_with(|| Value::Object(PropertyMap::new()));
    if let Value::Object(n) = net {
        n.entry("availabilityZones".to_string()).or_insert_with(|| Value::Array(zones.iter().map(|z| Value::String(z.clone())).collect()));
    }
    out
}

fn prepare_cluster(
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

impl Prepared {
    /// Absent availability zones: the earlier ones, else the region's first three usable zones
    /// from AWS; without facts they stay absent (SEKS-NET-012 is deferred).
    fn with_zones(self, facts: Option<&rules::AwsFacts>) -> Self {
        let spec = self.spec.with_zones(self.olds.as_ref(), facts.and_then(|f| f.default_zones()));
        Prepared { spec, ..self }
    }

    /// Run the rules (with the AWS facts, when there are any).
    fn evaluate(self, region: Option<&str>, aws_facts: Option<&rules::AwsFacts>) -> Checked {
        let today = today();
        let ctx = RuleCtx { spec: &self.spec, annotations: &self.annotations, olds: self.olds.as_ref(), region, today: &today, aws: aws_facts };
        let report = rules::evaluate(&ctx);
        let hygiene = rules::waiver_hygiene(&ctx, &report);
        Checked { spec: self.spec, annotations: self.annotations, report, hygiene }
    }
}

impl Inner {
    async fn configured(&self) -> Option<Arc<Configured>> {
        self.configured.read().await.clone()
    }

    async fn check(&self, req: pulumirpc::CheckRequest) -> Result<pulumirpc::CheckResponse> {
        if req.r#type != CLUSTER_TOKEN && !req.urn.contains(CLUSTER_TOKEN) {
            return Err(ProviderError::InvalidArgument(format!("unknown resource type {:?}", req.r#type)));
        }
        let news = wire::from_opt_struct(req.news.as_ref())?;
        let olds = wire::from_opt_struct(req.olds.as_ref())?;
        let configured = self.configured().await;
        let region = configured.as_ref().map(|c| c.region.clone()).or_else(env_region);
        let autoname = match req.autonaming.as_ref() {
            Some(a) if a.mode == pulumirpc::check_request::autonaming_options::Mode::Disable as i32 => Autoname::Disabled,
            Some(a) if !a.proposed_name.is_empty() => Autoname::Proposed(&a.proposed_name),
            // The suffix comes from the URN, not the engine's per-update random seed: a create
            // that crashed half-way must find its resources under the same name on the next
            // `up`. Replacements keep the name and delete first (see Diff).
            _ => Autoname::Derived { resource_name: &req.name, seed: req.urn.as_bytes() },
        };
        let prepared = match prepare_cluster(&news, &olds, autoname, region.as_deref()) {
            Ok(p) => p,
            Err(e) => {
                let (p, m) = rules::schema_failure(&e);
                return Ok(pulumirpc::CheckResponse { inputs: Some(wire::to_struct(&news)), failures: vec![failure(p, m)] });
            }
        };
        let facts = match configured.as_ref() {
            Some(c) if c.account.is_some() => self.aws_facts(c, &prepared, &req.urn).await,
            _ => None,
        };
        let prepared = prepared.with_zones(facts.as_ref());
        let checked = prepared.evaluate(region.as_deref(), facts.as_ref());
        for w in checked.report.warnings.iter().map(|w| w.message.clone()).chain(checked.hygiene.iter().cloned()) {
            self.engine.warn(&req.urn, w).await;
        }
        for (item, reason) in &checked.report.waived {
            self.engine
                .warn(&req.urn, format!("waived {} on {}: {reason}", item.meta.id, item.path))
                .await;
        }
        if let Some(note) = checked.report.deferred_note() {
            self.engine.warn(&req.urn, note).await;
        }
        let inputs = match codec::encode(&checked.spec, &checked.annotations) {
            Ok(Value::Object(m)) => m,
            Ok(_) => news.clone(),
            Err(e) => return Err(ProviderError::Internal(e.to_string())),
        };
        let failures = checked.report.failures.iter().map(|f| failure(f.property.clone(), f.message.clone())).collect();
        Ok(pulumirpc::CheckResponse { inputs: Some(wire::to_struct(&inputs)), failures })
    }

    async fn configure(&self, req: pulumirpc::ConfigureRequest) -> Result<pulumirpc::ConfigureResponse> {
        let args = wire::from_opt_struct(req.args.as_ref())?;
        let plain: PropertyMap = args.iter().map(|(k, v)| (k.clone(), v.unsecret())).collect();
        let plain = if plain.is_empty() {
            // Old engines send only `variables` ("secure-eks:config:<key>" -> string).
            req.variables
                .iter()
                .map(|(k, v)| (k.rsplit(':').next().unwrap_or(k).to_string(), Value::String(v.clone())))
                .collect()
        } else {
            plain
        };
        let cfg = decode_config(&plain)
            .map_err(|e| ProviderError::InvalidArgument(rules::schema_failure(&e).1))?
            .value;
        let Some(region) = cfg.region.clone().or_else(env_region) else {
            return Err(ProviderError::MissingConfig(vec![(
                format!("{PACKAGE}:region"),
                "The AWS region to build in (or set AWS_REGION).".into(),
            )]));
        };
        let aws = Aws::new(&cfg, &region).await;
        let account = if cfg.skip_credentials_validation == Some(true) {
            None
        } else {
            Some(aws.validate_account(cfg.allowed_account_ids.as_deref()).await?)
        };
        *self.configured.write().await = Some(Arc::new(Configured { config: cfg, region, account, aws }));
        Ok(pulumirpc::ConfigureResponse {
            accept_secrets: true,
            supports_preview: true,
            accept_resources: true,
            accept_outputs: false,
            supports_autonaming_configuration: true,
        })
    }

    async fn create(&self, req: pulumirpc::CreateRequest) -> Result<pulumirpc::CreateResponse> {
        let props = wire::from_opt_struct(req.properties.as_ref())?;
        if !req.preview {
            let (id, outputs) = self.apply(&req.urn, &props, &PropertyMap::new(), req.timeout).await?;
            return Ok(pulumirpc::CreateResponse { id, properties: Some(wire::to_struct(&outputs)), refresh_before_update: false });
        }
        let outputs = self.preview_outputs(&props).await?;
        Ok(pulumirpc::CreateResponse { id: String::new(), properties: Some(wire::to_struct(&outputs)), refresh_before_update: false })
    }

    async fn update(&self, req: pulumirpc::UpdateRequest) -> Result<pulumirpc::UpdateResponse> {
        let news = wire::from_opt_struct(req.news.as_ref())?;
        let olds = wire::from_opt_struct(req.olds.as_ref())?;
        if !req.preview {
            // The tags of the last run, to tell whether every resource must be retagged.
            let old_inputs = wire::from_opt_struct(req.old_inputs.as_ref())?;
            let old_tags = self.configured().await.and_then(|c| Self::plan_for(&old_inputs, &c).ok()).map(|p| p.tags);
            let (_, outputs) = self.apply_with(&req.urn, &news, &olds, req.timeout, old_tags.map(|t| (t, old_inputs))).await?;
            return Ok(pulumirpc::UpdateResponse { properties: Some(wire::to_struct(&outputs)), refresh_before_update: false });
        }
        let mut outputs = self.preview_outputs(&news).await?;
        // Outputs of the running cluster that the change does not touch stay known.
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
        Ok(pulumirpc::UpdateResponse { properties: Some(wire::to_struct(&outputs)), refresh_before_update: false })
    }

    /// Read the AWS facts the AWS-backed rules need; `None` (rules deferred) if the look-up fails.
    async fn aws_facts(&self, configured: &Configured, prepared: &Prepared, urn: &str) -> Option<rules::AwsFacts> {
        let spec = &prepared.spec;
        let version = spec.kubernetes_version.clone().filter(|_| prepared.annotations.unknowns.keys().all(|p| p.top() != Some("kubernetesVersion")))?;
        let (types, params, addons) = rules::AwsFacts::wanted(spec);
        let (images, subnets) = rules::AwsFacts::wanted_ids(spec);
        match configured.aws.facts(&types, &params, &addons, &version, &images, &subnets).await {
            Ok(f) => Some(f),
            Err(e) => {
                self.engine.warn(urn, format!("SEKS-CFG-000 [INFO] the AWS-backed checks are deferred: {e}")).await;
                None
            }
        }
    }

    async fn require_configured(&self) -> Result<Arc<Configured>> {
        self.configured().await.ok_or(ProviderError::NotConfigured)
    }

    /// The plan for checked, fully known inputs.
    fn plan_for(props: &PropertyMap, configured: &Configured) -> Result<secure_eks_core::plan::Plan> {
        Self::spec_and_plan(props, configured).map(|(_, plan)| plan)
    }

    /// The checked spec (with its defaults) and its plan.
    fn spec_and_plan(props: &PropertyMap, configured: &Configured) -> Result<(ClusterArgs, secure_eks_core::plan::Plan)> {
        let decoded = codec::decode::<ClusterArgs>(&Value::Object(props.clone()))
            .map_err(|e| ProviderError::InvalidArgument(rules::schema_failure(&e).1))?;
        if !decoded.annotations.unknowns.is_empty() {
            return Err(ProviderError::Internal("unknown values outside preview".into()));
        }
        let spec = decoded.value.with_defaults(Autoname::Disabled, Some(&configured.region));
        let tags = configured.config.default_tags.clone().unwrap_or_default();
        let plan = secure_eks_core::plan::plan(&spec, &configured.region, &tags).map_err(|e| ProviderError::InvalidArgument(e.to_string()))?;
        Ok((spec, plan))
    }

    /// Recorded step outputs from earlier state (`awsResources`).
    fn prior_steps(olds: &PropertyMap) -> secure_eks_core::plan::StepOutputs {
        olds.get("awsResources")
            .map(|v| codec::strip(&v.unsecret()).0)
            .and_then(|j| serde_json::from_value(j).ok())
            .unwrap_or_default()
    }

    /// Forward executor progress lines to the engine as ephemeral status messages.
    fn progress(&self, urn: &str) -> secure_eks_executor::Progress {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let engine = self.engine.clone();
        let urn = urn.to_string();
        tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                engine.status(&urn, line).await;
            }
        });
        tx
    }

    fn encode_outputs(plan: &secure_eks_core::plan::Plan, steps: &secure_eks_core::plan::StepOutputs, report: Option<secure_eks_core::model::PolicyReport>) -> Result<PropertyMap> {
        let mut outs = secure_eks_core::plan::assemble(plan, steps);
        outs.policy_report = report;
        let mut map = match serde_json::to_value(&outs).map(|j| codec::from_json(&j)) {
            Ok(Value::Object(m)) => m,
            Ok(_) => PropertyMap::new(),
            Err(e) => return Err(ProviderError::Internal(e.to_string())),
        };
        if let Some(k) = map.get_mut("kubeconfig") {
            *k = Value::Secret(Box::new(k.clone()));
        }
        Ok(map)
    }

    /// Create or continue: plan, run the executor, and report partial state as init errors.
    async fn apply(&self, urn: &str, props: &PropertyMap, olds: &PropertyMap, timeout: f64) -> Result<(String, PropertyMap)> {
        self.apply_with(urn, props, olds, timeout, None).await
    }

    /// [`Self::apply`]; with `retag` (the last run's tags and inputs), every resource is retagged
    /// when the tags changed.
    async fn apply_with(
        &self,
        urn: &str,
        props: &PropertyMap,
        olds: &PropertyMap,
        timeout: f64,
        retag: Option<(std::collections::BTreeMap<String, String>, PropertyMap)>,
    ) -> Result<(String, PropertyMap)> {
        let configured = self.require_configured().await?;
        // Deferred rules run here with real values, before the first mutating call.
        let prepared = prepare_cluster(props, &PropertyMap::new(), Autoname::Disabled, Some(&configured.region))
            .map_err(|e| ProviderError::InvalidArgument(rules::schema_failure(&e).1))?;
        let facts = self.aws_facts(&configured, &prepared, urn).await;
        if facts.is_none() {
            return Err(ProviderError::FailedPrecondition(
                "the AWS-backed checks (instance types, AMI parameters, addon versions) could not run; nothing was created".into(),
            ));
        }
        // Zones Check could not read (no facts then) are the region's default zones now.
        let zones = facts.as_ref().and_then(|f| f.default_zones());
        let props = &props_with_zones(props, zones.as_deref());
        let plan = Self::plan_for(props, &configured)?;
        let prepared = prepared.with_zones(facts.as_ref());
        let checked = prepared.evaluate(Some(&configured.region), facts.as_ref());
        if let Some(f) = checked.report.failures.first() {
            return Err(ProviderError::InvalidArgument(f.message.clone()));
        }
        let report = policy_report(&checked.report, &checked.hygiene);
        let prior = Self::prior_steps(olds);
        let progress = self.progress(urn);
        let cancel = self.cancel.child_token();
        let run = configured.aws.apply(&plan, &prior, &cancel, &progress);
        let result = if timeout > 0.0 {
            match tokio::time::timeout(std::time::Duration::from_secs_f64(timeout), run).await {
                Ok(r) => r,
                Err(_) => {
                    cancel.cancel();
                    Err(secure_eks_executor::ApplyError { done: prior.clone(), reasons: vec![format!("timed out after {timeout} s (customTimeouts)")] })
                }
            }
        } else {
            run.await
        };
        let id = plan.cluster_name.clone();
        // Resources the new plan no longer has (e.g. a removed node group) are deleted after
        // everything else converged.
        let result = match result {
            Ok(steps) => {
                let orphans: secure_eks_core::plan::StepOutputs =
                    steps.iter().filter(|(k, _)| plan.step(k).is_none()).map(|(k, v)| (k.clone(), v.clone())).collect();
                if orphans.is_empty() {
                    Ok(steps)
                } else {
                    match configured.aws.destroy(&plan, &orphans, &cancel, &progress).await {
                        Ok(()) => Ok(steps.into_iter().filter(|(k, _)| !orphans.contains_key(k)).collect()),
                        Err(e) => {
                            let mut done: secure_eks_core::plan::StepOutputs =
                                steps.into_iter().filter(|(k, _)| !orphans.contains_key(k)).collect();
                            done.extend(e.done);
                            Err(secure_eks_executor::ApplyError { done, reasons: e.reasons })
                        }
                    }
                }
            }
            Err(e) => Err(e),
        };
        // Tags changed: retag what exists. On failure the last run's inputs stay in the state, so
        // the next up sees the tag change again and retries.
        let mut inputs_on_failure = props.clone();
        let result = match (result, retag) {
            (Ok(steps), Some((old_tags, old_inputs))) if old_tags != plan.tags => {
                let removed: Vec<String> = old_tags.keys().filter(|k| !plan.tags.contains_key(*k)).cloned().collect();
                match configured.aws.retag(&plan, &steps, &removed, &progress).await {
                    Ok(()) => Ok(steps),
                    Err(e) => {
                        inputs_on_failure = old_inputs;
                        Err(e)
                    }
                }
            }
            (r, _) => r,
        };
        match result {
            Ok(steps) => Ok((id, Self::encode_outputs(&plan, &steps, Some(report))?)),
            Err(e) if e.done.is_empty() => Err(ProviderError::FailedPrecondition(format!("nothing was created: {e}"))),
            Err(e) => {
                let mut reasons = e.reasons;
                let done = e.done.keys().filter(|k| plan.step(k).is_some()).count();
                reasons.push(format!(
                    "partial state: {done} of {} AWS resources of cluster {id} exist and are recorded in the stack; run `pulumi up` again to finish (it resumes and adopts them), or `pulumi destroy` to remove them",
                    plan.steps.len()
                ));
                Err(ProviderError::InitFailed { id, properties: Self::encode_outputs(&plan, &e.done, Some(report))?, reasons, inputs: inputs_on_failure })
            }
        }
    }

    async fn delete(&self, req: pulumirpc::DeleteRequest) -> Result<()> {
        let configured = self.require_configured().await?;
        let outputs = wire::from_opt_struct(req.properties.as_ref())?;
        let inputs = wire::from_opt_struct(req.old_inputs.as_ref())?;
        let steps = Self::prior_steps(&outputs);
        if steps.is_empty() {
            return Ok(());
        }
        let plan = Self::plan_for(&inputs, &configured)?;
        let progress = self.progress(&req.urn);
        configured
            .aws
            .destroy(&plan, &steps, &self.cancel.child_token(), &progress)
            .await
            .map_err(|e| ProviderError::FailedPrecondition(format!("delete stopped; these resources still exist and the next destroy continues: {}: {e}", e.done.keys().cloned().collect::<Vec<_>>().join(", "))))
    }

    async fn read(&self, req: pulumirpc::ReadRequest) -> Result<pulumirpc::ReadResponse> {
        let configured = self.require_configured().await?;
        let outputs = wire::from_opt_struct(req.properties.as_ref())?;
        let inputs = wire::from_opt_struct(req.inputs.as_ref())?;
        if outputs.is_empty() || inputs.is_empty() {
            return self.import(&req.id, &req.urn, &configured).await;
        }
        let (spec, plan) = Self::spec_and_plan(&inputs, &configured)?;
        let steps = Self::prior_steps(&outputs);
        let fresh = configured.aws.refresh(&plan, &steps).await.map_err(|e| ProviderError::FailedPrecondition(e.to_string()))?;
        if !fresh.contains_key("cluster") {
            // The cluster is gone: tell the engine so (empty id).
            return Ok(pulumirpc::ReadResponse { id: String::new(), properties: None, inputs: None, refresh_before_update: false });
        }
        let report = outputs.get("policyReport").map(|v| codec::strip(v).0).and_then(|j| serde_json::from_value(j).ok());
        let props = Self::encode_outputs(&plan, &fresh, report)?;
        // Settings changed outside Pulumi go into the inputs, so the next preview shows them as a
        // diff against the program and `up` puts them back.
        let drift = secure_eks_core::plan::input_drift(&spec, &plan, &fresh);
        for d in &drift {
            tracing::info!(path = %d.path, "input drift: AWS reports a value the inputs do not have");
        }
        let inputs = secure_eks_core::plan::apply_drift(&inputs, &drift);
        Ok(pulumirpc::ReadResponse { id: req.id, properties: Some(wire::to_struct(&props)), inputs: Some(wire::to_struct(&inputs)), refresh_before_update: false })
    }

    /// Import (Read from the id alone): rebuild the inputs from what AWS describes, then adopt
    /// every part of the cluster through the apply with read-only clients.
    async fn import(&self, id: &str, urn: &str, configured: &Configured) -> Result<pulumirpc::ReadResponse> {
        let gone = pulumirpc::ReadResponse { id: String::new(), properties: None, inputs: None, refresh_before_update: false };
        let observed = configured.aws.observe_cluster(id, &configured.region).await.map_err(|e| ProviderError::FailedPrecondition(format!("import of cluster {id}: {e}")))?;
        let Some(observed) = observed else { return Ok(gone) };
        let mut spec = secure_eks_core::plan::inputs_from(&observed, &configured.region);
        // Tags that come from the provider's defaultTags are not the resource's own.
        let defaults = configured.config.default_tags.clone().unwrap_or_default();
        if let Some(tags) = spec.tags.as_mut() {
            tags.retain(|k, v| defaults.get(k) != Some(v));
            if tags.is_empty() {
                spec.tags = None;
            }
        }
        let plan = secure_eks_core::plan::plan(&spec, &configured.region, &defaults).map_err(|e| ProviderError::FailedPrecondition(format!("import of cluster {id}: {e}")))?;
        let steps = configured.aws.import(&plan, &self.progress(urn)).await.map_err(|e| {
            ProviderError::FailedPrecondition(format!(
                "import of cluster {id}: these parts are missing or differ from what secure-eks would manage ({}); import adopts complete secure-eks clusters only",
                e.reasons.join("; ")
            ))
        })?;
        let props = Self::encode_outputs(&plan, &steps, None)?;
        let inputs = match codec::encode(&spec, &codec::Annotations::default()) {
            Ok(Value::Object(m)) => m,
            Ok(_) => PropertyMap::new(),
            Err(e) => return Err(ProviderError::Internal(e.to_string())),
        };
        Ok(pulumirpc::ReadResponse { id: id.to_string(), properties: Some(wire::to_struct(&props)), inputs: Some(wire::to_struct(&inputs)), refresh_before_update: false })
    }

    async fn preview_outputs(&self, props: &PropertyMap) -> Result<PropertyMap> {
        let configured = self.configured().await;
        let region = configured.as_ref().map(|c| c.region.clone());
        let checked = prepare_cluster(props, &PropertyMap::new(), Autoname::Disabled, region.as_deref())
            .map_err(|e| ProviderError::InvalidArgument(rules::schema_failure(&e).1))?
            .evaluate(region.as_deref(), None);
        let ann = &checked.annotations;
        let known = |top: &str| !ann.touches_unknown(&Path::key(top));
        let target = Target {
            region: region.as_deref(),
            account: configured.as_ref().and_then(|c| c.account.as_deref()),
            partition: "aws",
        };
        Ok(create_outputs(&checked.spec, &known, &target, policy_report(&checked.report, &checked.hygiene)))
    }
}

fn not_served<T>(what: &str) -> std::result::Result<Response<T>, Status> {
    Err(Status::unimplemented(format!("secure-eks does not implement {what}")))
}

#[tonic::async_trait]
impl ResourceProvider for SecureEksProvider {
    async fn handshake(
        &self,
        request: Request<pulumirpc::ProviderHandshakeRequest>,
    ) -> std::result::Result<Response<pulumirpc::ProviderHandshakeResponse>, Status> {
        let req = request.into_inner();
        self.run("Handshake", move |inner| async move {
            inner.engine.set_address(&req.engine_address).await;
            Ok(pulumirpc::ProviderHandshakeResponse {
                accept_secrets: true,
                accept_resources: true,
                accept_outputs: false,
                supports_autonaming_configuration: true,
                accepts_byte_string: false,
            })
        })
        .await
    }

    async fn parameterize(
        &self,
        _request: Request<pulumirpc::ParameterizeRequest>,
    ) -> std::result::Result<Response<pulumirpc::ParameterizeResponse>, Status> {
        not_served("Parameterize (secure-eks is not a parameterized package)")
    }

    async fn get_schema(
        &self,
        request: Request<pulumirpc::GetSchemaRequest>,
    ) -> std::result::Result<Response<pulumirpc::GetSchemaResponse>, Status> {
        let req = request.into_inner();
        self.run("GetSchema", move |_| async move {
            if !req.subpackage_name.is_empty() && req.subpackage_name != PACKAGE {
                return Err(ProviderError::InvalidArgument(format!("no subpackage {:?}", req.subpackage_name)));
            }
            Ok(pulumirpc::GetSchemaResponse { schema: crate::SCHEMA.to_string() })
        })
        .await
    }

    async fn check_config(
        &self,
        request: Request<pulumirpc::CheckRequest>,
    ) -> std::result::Result<Response<pulumirpc::CheckResponse>, Status> {
        let req = request.into_inner();
        self.run("CheckConfig", move |_| async move { check_config(req) }).await
    }

    async fn diff_config(
        &self,
        request: Request<pulumirpc::DiffRequest>,
    ) -> std::result::Result<Response<pulumirpc::DiffResponse>, Status> {
        let req = request.into_inner();
        self.run("DiffConfig", move |_| async move {
            let old = if req.old_inputs.is_some() { wire::from_opt_struct(req.old_inputs.as_ref())? } else { wire::from_opt_struct(req.olds.as_ref())? };
            let old = coerce_config(&old);
            let new = coerce_config(&wire::from_opt_struct(req.news.as_ref())?);
            let drop_version = |m: PropertyMap| m.into_iter().filter(|(k, _)| k != "version").collect::<PropertyMap>();
            // A new region means every resource of this provider lives elsewhere: replace.
            Ok(diff_response(&drop_version(old), &drop_version(new), &["region"]))
        })
        .await
    }

    async fn configure(
        &self,
        request: Request<pulumirpc::ConfigureRequest>,
    ) -> std::result::Result<Response<pulumirpc::ConfigureResponse>, Status> {
        let req = request.into_inner();
        self.run("Configure", move |inner| async move { inner.configure(req).await }).await
    }

    async fn invoke(
        &self,
        request: Request<pulumirpc::InvokeRequest>,
    ) -> std::result::Result<Response<pulumirpc::InvokeResponse>, Status> {
        not_served(&format!("the function {:?} (the schema has no functions)", request.get_ref().tok))
    }

    async fn check(
        &self,
        request: Request<pulumirpc::CheckRequest>,
    ) -> std::result::Result<Response<pulumirpc::CheckResponse>, Status> {
        let req = request.into_inner();
        self.run("Check", move |inner| async move { inner.check(req).await }).await
    }

    async fn diff(
        &self,
        request: Request<pulumirpc::DiffRequest>,
    ) -> std::result::Result<Response<pulumirpc::DiffResponse>, Status> {
        let req = request.into_inner();
        self.run("Diff", move |_| async move {
            let old = if req.old_inputs.is_some() { wire::from_opt_struct(req.old_inputs.as_ref())? } else { wire::from_opt_struct(req.olds.as_ref())? };
            let new = wire::from_opt_struct(req.news.as_ref())?;
            Ok(diff_response(&old, &new, &[]))
        })
        .await
    }

    async fn create(
        &self,
        request: Request<pulumirpc::CreateRequest>,
    ) -> std::result::Result<Response<pulumirpc::CreateResponse>, Status> {
        let req = request.into_inner();
        self.run("Create", move |inner| async move { inner.create(req).await }).await
    }

    async fn read(
        &self,
        request: Request<pulumirpc::ReadRequest>,
    ) -> std::result::Result<Response<pulumirpc::ReadResponse>, Status> {
        let req = request.into_inner();
        self.run("Read", move |inner| async move { inner.read(req).await }).await
    }

    async fn update(
        &self,
        request: Request<pulumirpc::UpdateRequest>,
    ) -> std::result::Result<Response<pulumirpc::UpdateResponse>, Status> {
        let req = request.into_inner();
        self.run("Update", move |inner| async move { inner.update(req).await }).await
    }

    async fn delete(&self, request: Request<pulumirpc::DeleteRequest>) -> std::result::Result<Response<()>, Status> {
        let req = request.into_inner();
        self.run("Delete", move |inner| async move { inner.delete(req).await }).await
    }

    async fn cancel(&self, _request: Request<()>) -> std::result::Result<Response<()>, Status> {
        self.inner.cancel.cancel();
        if !self.inner.attached.load(std::sync::atomic::Ordering::SeqCst) {
            self.inner.cancelled.notify_one();
        }
        Ok(Response::new(()))
    }

    async fn get_plugin_info(&self, _request: Request<()>) -> std::result::Result<Response<pulumirpc::PluginInfo>, Status> {
        Ok(Response::new(pulumirpc::PluginInfo { version: VERSION.to_string() }))
    }

    async fn attach(&self, request: Request<pulumirpc::PluginAttach>) -> std::result::Result<Response<()>, Status> {
        let addr = request.into_inner().address;
        self.inner.attached.store(true, std::sync::atomic::Ordering::SeqCst);
        self.inner.engine.set_address(&addr).await;
        Ok(Response::new(()))
    }

    async fn get_mapping(
        &self,
        _request: Request<pulumirpc::GetMappingRequest>,
    ) -> std::result::Result<Response<pulumirpc::GetMappingResponse>, Status> {
        Ok(Response::new(pulumirpc::GetMappingResponse { provider: String::new(), data: Vec::new() }))
    }

    async fn get_mappings(
        &self,
        _request: Request<pulumirpc::GetMappingsRequest>,
    ) -> std::result::Result<Response<pulumirpc::GetMappingsResponse>, Status> {
        Ok(Response::new(pulumirpc::GetMappingsResponse { providers: Vec::new() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_becomes_an_internal_status() {
        let p = SecureEksProvider::default();
        let r: std::result::Result<Response<()>, Status> = p
            .run("Boom", |_| async {
                let v: Vec<u8> = Vec::new();
                #[allow(clippy::indexing_slicing)]
                let _ = v[1];
                Ok(())
            })
            .await;
        let e = r.unwrap_err();
        assert_eq!(e.code(), tonic::Code::Internal);
        assert!(e.message().contains("Boom panicked"), "{}", e.message());
        // The provider still answers afterwards.
        let ok: std::result::Result<Response<u8>, Status> = p.run("Ok", |_| async { Ok(1) }).await;
        assert!(ok.is_ok());
    }

    #[test]
    fn today_is_a_date() {
        let t = today();
        assert_eq!(t.len(), 10);
        assert!(t.starts_with("20"));
    }
}
