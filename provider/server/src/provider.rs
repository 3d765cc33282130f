//! The `ResourceProvider` service: decode the wire request, call the pure core (or the executor),
//! encode the answer. Every handler runs on its own task, so a panic becomes an INTERNAL status.

use std::future::Future;
use std::sync::Arc;

use secure_eks_core::codec;
use secure_eks_core::diff::{diff, ChangeKind, DiffResult};
use secure_eks_core::model::{Autoname, ProviderConfig};
use secure_eks_core::rules;
use secure_eks_core::value::{PropertyMap, Value};
use secure_eks_core::{schema, CLUSTER_TOKEN, PACKAGE, VERSION};
use secure_eks_executor::Aws;
use secure_eks_proto::pulumirpc::{self, resource_provider_server::ResourceProvider};
use tokio::sync::{Notify, RwLock};
use tonic::{Request, Response, Status};

use crate::engine::EngineLog;
use crate::errors::ProviderError;
use crate::lifecycle::{self, Read};
use crate::wire;

pub use crate::lifecycle::Configured;

type Result<T> = std::result::Result<T, ProviderError>;

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

/// The output that records every AWS resource of the cluster.
const AWS_RESOURCES: &str = "awsResources";

fn diff_response(mut r: DiffResult, replace_keys: &[&str]) -> pulumirpc::DiffResponse {
    use pulumirpc::property_diff::Kind;
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

impl Inner {
    async fn configured(&self) -> Option<Arc<Configured>> {
        self.configured.read().await.clone()
    }

    async fn require_configured(&self) -> Result<Arc<Configured>> {
        self.configured().await.ok_or(ProviderError::NotConfigured)
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

    /// What drives one lifecycle run: the configured provider, progress to the engine, a child
    /// of the Cancel token, and the engine's timeout.
    async fn run_for(&self, urn: &str, op: lifecycle::Op, timeout: f64) -> Result<lifecycle::Run> {
        let timeout = lifecycle::Timeout::from_engine(op, timeout)?;
        Ok(lifecycle::Run { urn: urn.to_string(), configured: self.require_configured().await?, progress: self.progress(urn), cancel: self.cancel.child_token(), timeout })
    }

    async fn warn_all(&self, urn: &str, notes: Vec<String>) {
        for n in notes {
            self.engine.warn(urn, n).await;
        }
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
        let outcome = lifecycle::check(configured.as_deref(), region.as_deref(), &news, &olds, autoname).await?;
        self.warn_all(&req.urn, outcome.warnings).await;
        let failures = outcome.failures.into_iter().map(|(p, m)| failure(p, m)).collect();
        Ok(pulumirpc::CheckResponse { inputs: Some(wire::to_struct(&outcome.inputs)), failures })
    }

    /// `secure-eks:index:auditCluster`: audit an existing cluster (read-only) and return the
    /// report; a cluster that does not exist or cannot be read is a failure, not an error status.
    async fn invoke_audit(&self, req: pulumirpc::InvokeRequest) -> Result<pulumirpc::InvokeResponse> {
        let args = wire::from_opt_struct(req.args.as_ref())?;
        let text = |k: &str| match args.get(k).map(Value::unsecret) {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        let Some(name) = text("clusterName") else {
            return Ok(pulumirpc::InvokeResponse {
                r#return: None,
                failures: vec![pulumirpc::CheckFailure { property: "clusterName".into(), reason: "clusterName is required: the name of the EKS cluster to audit".into() }],
            });
        };
        let configured = self.require_configured().await?;
        let region = text("region").unwrap_or_else(|| configured.region.clone());
        let aws = if region == configured.region { configured.aws.clone() } else { crate::audit::session(&configured.config, &region).await };
        match crate::audit::run(&aws, &name, &region).await {
            Ok(report) => {
                let v = secure_eks_core::codec::from_json(&crate::audit::to_json(&report));
                let Value::Object(map) = v else { return Err(ProviderError::InvalidArgument("the audit report is not an object".into())) };
                Ok(pulumirpc::InvokeResponse { r#return: Some(wire::to_struct(&map)), failures: vec![] })
            }
            Err(e) => Ok(pulumirpc::InvokeResponse { r#return: None, failures: vec![pulumirpc::CheckFailure { property: "clusterName".into(), reason: e.to_string() }] }),
        }
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
        let caller = if cfg.skip_credentials_validation == Some(true) {
            None
        } else {
            Some(aws.caller(cfg.allowed_account_ids.as_deref()).await?)
        };
        let account = caller.as_ref().map(|c| c.account.clone());
        *self.configured.write().await = Some(Arc::new(Configured { config: cfg, region, account, caller, aws }));
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
        let (id, outputs) = if req.preview {
            let configured = self.configured().await;
            for line in lifecycle::what_up_does(configured.as_deref(), &req.urn, &props, None) {
                self.engine.info(&req.urn, line).await;
            }
            (String::new(), lifecycle::preview_create(configured.as_deref(), &props)?)
        } else {
            lifecycle::create(&self.run_for(&req.urn, lifecycle::Op::Create, req.timeout).await?, &props).await?
        };
        Ok(pulumirpc::CreateResponse { id, properties: Some(wire::to_struct(&outputs)), refresh_before_update: false })
    }

    async fn update(&self, req: pulumirpc::UpdateRequest) -> Result<pulumirpc::UpdateResponse> {
        let news = wire::from_opt_struct(req.news.as_ref())?;
        let olds = wire::from_opt_struct(req.olds.as_ref())?;
        let outputs = if req.preview {
            let configured = self.configured().await;
            let old_inputs = if req.old_inputs.is_some() { wire::from_opt_struct(req.old_inputs.as_ref())? } else { olds.clone() };
            for line in lifecycle::what_up_does(configured.as_deref(), &req.urn, &news, Some((&old_inputs, &olds))) {
                self.engine.info(&req.urn, line).await;
            }
            lifecycle::preview_update(configured.as_deref(), &news, olds)?
        } else {
            let old_inputs = wire::from_opt_struct(req.old_inputs.as_ref())?;
            lifecycle::update(&self.run_for(&req.urn, lifecycle::Op::Update, req.timeout).await?, &news, &olds, old_inputs).await?
        };
        Ok(pulumirpc::UpdateResponse { properties: Some(wire::to_struct(&outputs)), refresh_before_update: false })
    }

    async fn diff(&self, req: pulumirpc::DiffRequest) -> Result<pulumirpc::DiffResponse> {
        let olds = wire::from_opt_struct(req.olds.as_ref())?;
        let old = if req.old_inputs.is_some() { wire::from_opt_struct(req.old_inputs.as_ref())? } else { olds.clone() };
        let new = wire::from_opt_struct(req.news.as_ref())?;
        let outcome = lifecycle::diff(self.configured().await.as_deref(), &req.urn, &old, &olds, &new);
        let mut r = diff_response(outcome.inputs, &[]);
        if !outcome.missing.is_empty() {
            // Parts a refresh found gone: an update recreates them, even with the same inputs.
            self.engine
                .warn(&req.urn, format!("these parts of the cluster do not exist in AWS and `pulumi up` recreates them: {}", outcome.missing.join(", ")))
                .await;
            r.changes = pulumirpc::diff_response::DiffChanges::DiffSome as i32;
            r.diffs.push(AWS_RESOURCES.to_string());
            r.detailed_diff.insert(
                AWS_RESOURCES.to_string(),
                pulumirpc::PropertyDiff { kind: pulumirpc::property_diff::Kind::Update as i32, input_diff: false },
            );
        }
        Ok(r)
    }

    async fn delete(&self, req: pulumirpc::DeleteRequest) -> Result<()> {
        let run = self.run_for(&req.urn, lifecycle::Op::Delete, req.timeout).await?;
        let outputs = wire::from_opt_struct(req.properties.as_ref())?;
        let inputs = wire::from_opt_struct(req.old_inputs.as_ref())?;
        lifecycle::delete(&run, &outputs, &inputs).await
    }

    async fn read(&self, req: pulumirpc::ReadRequest) -> Result<pulumirpc::ReadResponse> {
        let run = self.run_for(&req.urn, lifecycle::Op::Read, req.timeout).await?;
        let outputs = wire::from_opt_struct(req.properties.as_ref())?;
        let inputs = wire::from_opt_struct(req.inputs.as_ref())?;
        let (read, notes) = lifecycle::read(&run, &req.id, &outputs, &inputs).await?;
        self.warn_all(&req.urn, notes).await;
        Ok(match read {
            // Gone: an empty id tells the engine so.
            Read::Gone => pulumirpc::ReadResponse { id: String::new(), properties: None, inputs: None, refresh_before_update: false },
            Read::Found { id, outputs, inputs } => pulumirpc::ReadResponse {
                id,
                properties: Some(wire::to_struct(&outputs)),
                inputs: Some(wire::to_struct(&inputs)),
                refresh_before_update: false,
            },
        })
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
            Ok(diff_response(diff(&drop_version(old), &drop_version(new)), &["region"]))
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
        let req = request.into_inner();
        if req.tok == crate::audit::AUDIT_TOKEN {
            return self.run("Invoke", move |inner| async move { inner.invoke_audit(req).await }).await;
        }
        if req.tok != secure_eks_core::kubeconfig::GET_KUBECONFIG_TOKEN {
            return not_served(&format!(
                "the function {:?} (the schema has {} and {})",
                req.tok,
                crate::audit::AUDIT_TOKEN,
                secure_eks_core::kubeconfig::GET_KUBECONFIG_TOKEN
            ));
        }
        self.run("Invoke", move |inner| async move {
            let args = wire::from_opt_struct(req.args.as_ref())?;
            let result = lifecycle::get_kubeconfig(inner.configured().await.as_deref(), &args, req.preview).await?;
            Ok(pulumirpc::InvokeResponse { r#return: Some(wire::to_struct(&result)), failures: vec![] })
        })
        .await
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
        self.run("Diff", move |inner| async move { inner.diff(req).await })
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
}
