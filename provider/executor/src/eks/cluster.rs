//! The EKS cluster: create or adopt, converge (version, endpoint access, logging), delete, refresh.

use super::*;


pub(super) async fn describe_cluster(ctx: &Ctx, name: &str) -> Result<Option<aws_sdk_eks::types::Cluster>, StepError> {
    Ok(found(ctx.eks.describe_cluster().name(name).send().await)?.and_then(|o| o.cluster))
}

pub(super) fn cluster_output(c: &aws_sdk_eks::types::Cluster, name: &str) -> StepOutput {
    let mut o = out_arn(name, c.arn().map(str::to_string));
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            o.extra.insert(k.to_string(), v.to_string());
        }
    };
    put("endpoint", c.endpoint());
    put("certificateAuthorityData", c.certificate_authority().and_then(|ca| ca.data()));
    put("oidcIssuerUrl", c.identity().and_then(|i| i.oidc()).and_then(|o| o.issuer()));
    put("version", c.version());
    put("platformVersion", c.platform_version());
    put("serviceIpv4Cidr", c.kubernetes_network_config().and_then(|k| k.service_ipv4_cidr()));
    if let Some(t) = c.created_at() {
        o.extra.insert("createdAt".into(), t.secs().to_string());
    }
    // What refresh compares with the inputs (input drift, see core `plan::observed`).
    if let Some(v) = c.resources_vpc_config() {
        o.extra.insert(drift_keys::PRIVATE_ACCESS.into(), v.endpoint_private_access().to_string());
        o.extra.insert(drift_keys::PUBLIC_ACCESS.into(), v.endpoint_public_access().to_string());
        let mut cidrs: Vec<&str> = v.public_access_cidrs().iter().map(String::as_str).collect();
        cidrs.sort_unstable();
        if !cidrs.is_empty() {
            o.extra.insert(drift_keys::PUBLIC_CIDRS.into(), cidrs.join(","));
        }
    }
    if c.logging().is_some() {
        let types: Vec<String> = drift::enabled_log_types(c.logging()).into_iter().collect();
        o.extra.insert(drift_keys::LOG_TYPES.into(), types.join(","));
    }
    super::daytwo::record_cluster_settings(c, &mut o);
    o
}

/// Envelope encryption with our KMS key. `resources` is deprecated in the SDK (EKS now encrypts all
/// API data by default) but `secrets` is still its only accepted value and what DescribeCluster
/// reports, so it is sent explicitly.
#[allow(deprecated)]
pub(super) fn secrets_encryption(key_arn: String) -> EncryptionConfig {
    EncryptionConfig::builder().resources("secrets").provider(Provider::builder().key_arn(key_arn).build()).build()
}

pub(crate) async fn cluster(ctx: &Ctx, step: &Step, ca: &ClusterAction) -> Result<(), StepError> {
    let name = ca.name.as_str();
    let described = describe_cluster(ctx, name).await?;
    let adopted = described.is_some();
    match described {
        Some(c) => {
            match c.status() {
                Some(ClusterStatus::Deleting) => {
                    return Err(StepError::Invalid(format!("cluster {name} is being deleted; run again once it is gone")));
                }
                Some(ClusterStatus::Failed) => {
                    return Err(StepError::Invalid(format!("cluster {name} exists in state FAILED; delete it and run again")));
                }
                _ => {}
            }
            ctx.check_owner(&format!("EKS cluster {name}"), c.tags().and_then(|t| t.get(TAG_CLUSTER)).map(String::as_str))?;
            ctx.say(format!("{}: adopted cluster {name}", step.id));
            ctx.record(&step.id, cluster_output(&c, name));
        }
        None => {
            ctx.forget(&step.id);
            let role = ctx.dep_arn("role/cluster", &step.id)?;
            let sg = ctx.dep_id("sg/cluster", &step.id)?;
            let key = ctx.dep_arn("kms", &step.id)?;
            let mut vpc = VpcConfigRequest::builder()
                .set_subnet_ids(Some(subnet_ids(ctx, &ca.subnets, &step.id)?))
                .security_group_ids(sg)
                .endpoint_private_access(ca.private_access)
                .endpoint_public_access(ca.public_access);
            if ca.public_access && !ca.public_cidrs.is_empty() {
                vpc = vpc.set_public_access_cidrs(Some(ca.public_cidrs.clone()));
            }
            let logging = Logging::builder()
                .cluster_logging(
                    LogSetup::builder()
                        .set_types(Some(ca.log_types.iter().map(|t| LogType::from(t.as_str())).collect()))
                        .enabled(!ca.log_types.is_empty())
                        .build(),
                )
                .build();
            let vpc = vpc.build();
            let auto = super::daytwo::auto_mode(ctx, step, &ca.settings)?;
            let create = |token: String| {
                ctx.eks
                .create_cluster()
                .name(name)
                .version(&ca.version)
                .role_arn(&role)
                .resources_vpc_config(vpc.clone())
                .logging(logging.clone())
                .encryption_config(secrets_encryption(key.clone()))
                // Access entries only (no aws-auth ConfigMap); the creator gets no implicit admin:
                // admins come from explicit access entries.
                .access_config(
                    CreateAccessConfigRequest::builder()
                        .authentication_mode(AuthenticationMode::Api)
                        .bootstrap_cluster_creator_admin_permissions(false)
                        .build(),
                )
                // Managed addons (created next, before any node) replace the self-managed ones.
                .bootstrap_self_managed_addons(false)
                .upgrade_policy(super::daytwo::upgrade_policy(&ca.settings))
                .zonal_shift_config(super::daytwo::zonal_shift(&ca.settings))
                .deletion_protection(ca.settings.deletion_protection)
                .set_compute_config(auto.as_ref().map(|a| a.0.clone()))
                .set_storage_config(auto.as_ref().map(|a| a.1.clone()))
                .set_kubernetes_network_config(auto.as_ref().map(|a| a.2.clone()))
                .set_tags(Some(eks_tags(ctx, &step.id)))
                .client_request_token(token)
                .send()
            };
            let cluster_name = |c: &aws_sdk_eks::types::Cluster| c.name().map(str::to_string);
            let seen = |n: String| async move {
                Ok(match describe_cluster(ctx, &n).await? {
                    None => Seen::Missing,
                    Some(c) if c.status() == Some(&ClusterStatus::Deleting) => Seen::Dead,
                    Some(_) => Seen::Live,
                })
            };
            let attempt = |t: String| async move {
                match create(t).await {
                    Ok(o) => o.cluster.ok_or_else(|| StepError::Invalid("CreateCluster returned no cluster".into())),
                    // See `lost_create`: the cluster our lost call made.
                    Err(e) if super::lost_create::in_use(&e) => match describe_cluster(ctx, name).await? {
                        Some(c) if super::lost_create::made_by_us(ctx, &step.id, c.tags()) => Ok(c),
                        _ => Err(aws_err(e)),
                    },
                    Err(e) => Err(aws_err(e)),
                }
            };
            let c = replay::create(ctx, step, "the EKS cluster", ctx.token(step), attempt, cluster_name, seen).await?;
            ctx.say(format!("{}: creating cluster {name} (this takes about 10 minutes)", step.id));
            ctx.record(&step.id, cluster_output(&c, name));
        }
    }
    cluster_active(ctx, name, CLUSTER_CREATE_TIMEOUT).await?;
    let c = describe_cluster(ctx, name).await?.ok_or_else(|| StepError::Invalid(format!("cluster {name} disappeared")))?;
    ctx.record(&step.id, cluster_output(&c, name));
    if adopted {
        converge_cluster(ctx, step, ca, c).await?;
    }
    ctx.say(format!("{}: cluster {name} is ACTIVE", step.id));
    Ok(())
}

/// Wait for a cluster update to succeed and the cluster to be ACTIVE again; record and return
/// the cluster as it is now.
pub(super) async fn settle_cluster(ctx: &Ctx, step: &Step, name: &str, update: Option<&aws_sdk_eks::types::Update>, what: &str) -> Result<aws_sdk_eks::types::Cluster, StepError> {
    wait_update(ctx, name, Scope::Cluster, update, what, CLUSTER_UPDATE_TIMEOUT).await?;
    cluster_active(ctx, name, CLUSTER_UPDATE_TIMEOUT).await?;
    let c = describe_cluster(ctx, name).await?.ok_or_else(|| StepError::Invalid(format!("cluster {name} disappeared")))?;
    ctx.record(&step.id, cluster_output(&c, name));
    Ok(c)
}

/// Bring an adopted, ACTIVE cluster to the planned settings that EKS changes in place, one update
/// at a time (EKS refuses a second update while one runs): the Kubernetes version (one minor up),
/// endpoint access, control-plane logging. Nothing is called when nothing differs.
pub(super) async fn converge_cluster(ctx: &Ctx, step: &Step, ca: &ClusterAction, c: aws_sdk_eks::types::Cluster) -> Result<(), StepError> {
    let name = ca.name.as_str();
    let mut c = c;
    let current = c.version().unwrap_or_default().to_string();
    if let Some(v) = drift::version_step(&current, &ca.version).map_err(StepError::Invalid)? {
        ctx.say(format!("{}: upgrading cluster {name} from Kubernetes {current} to {v} (this takes 10 to 25 minutes)", step.id));
        let update = match ctx.eks.update_cluster_version().name(name).version(&v).send().await {
            Ok(o) => o.update,
            // A lost answer: the SDK's retry is refused because the first attempt's upgrade is
            // done (the cluster runs `v`, and EKS refuses an update to the version it runs).
            // The cluster is then waited for like any upgrade; any other refusal is an error.
            Err(e) if describe_cluster(ctx, name).await?.is_some_and(|c| c.version() == Some(v.as_str())) => {
                ctx.say(format!("{}: cluster {name} runs Kubernetes {v} already ({})", step.id, aws_smithy_types::error::metadata::ProvideErrorMetadata::message(&e).unwrap_or_default()));
                None
            }
            Err(e) => return Err(aws_err(e)),
        };
        c = settle_cluster(ctx, step, name, update.as_ref(), &format!("the upgrade of cluster {name} to Kubernetes {v}")).await?;
        ctx.say(format!("{}: cluster {name} runs Kubernetes {}", step.id, c.version().unwrap_or(v.as_str())));
    }
    if let Some(vpc) = drift::endpoint_change(c.resources_vpc_config(), ca) {
        let access = match (ca.private_access, ca.public_access) {
            (true, true) => format!("private and public ({})", vpc.public_access_cidrs().join(", ")),
            (true, false) => "private only".to_string(),
            (false, _) => format!("public only ({})", vpc.public_access_cidrs().join(", ")),
        };
        ctx.say(format!("{}: changing the API endpoint access of cluster {name} to {access}", step.id));
        let o = ctx.eks.update_cluster_config().name(name).resources_vpc_config(vpc).send().await.map_err(aws_err)?;
        c = settle_cluster(ctx, step, name, o.update(), &format!("the endpoint access update of cluster {name}")).await?;
    }
    if let Some(logging) = drift::logging_change(c.logging(), &ca.log_types) {
        ctx.say(format!("{}: changing the control-plane log types of cluster {name} to [{}]", step.id, ca.log_types.join(", ")));
        let o = ctx.eks.update_cluster_config().name(name).logging(logging).send().await.map_err(aws_err)?;
        c = settle_cluster(ctx, step, name, o.update(), &format!("the logging update of cluster {name}")).await?;
    }
    super::daytwo::converge_cluster_settings(ctx, step, ca, c).await
}

pub(crate) async fn delete_cluster(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    gone(ctx.eks.delete_cluster().name(&o.id).send().await)?;
    cluster_deleted(ctx, &o.id).await?;
    Ok(())
}

pub(crate) async fn refresh_cluster(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(describe_cluster(ctx, &o.id).await?.map(|c| cluster_output(&c, &o.id)))
}
