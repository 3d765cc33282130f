//! EKS addons: default versions, configuration (ENIConfigs for custom networking), create or adopt, converge, delete, refresh.

use super::*;


pub(super) async fn describe_addon(ctx: &Ctx, cluster: &str, name: &str) -> Result<Option<aws_sdk_eks::types::Addon>, StepError> {
    Ok(found(ctx.eks.describe_addon().cluster_name(cluster).addon_name(name).send().await)?.and_then(|o| o.addon))
}

pub(super) fn addon_output(a: &aws_sdk_eks::types::Addon, name: &str) -> StepOutput {
    let o = out_arn(name, a.addon_arn().map(str::to_string));
    match a.addon_version() {
        Some(v) => with(o, "version", v),
        None => o,
    }
}

pub(super) fn health(issues: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = issues.collect();
    if v.is_empty() {
        "no health issues reported".into()
    } else {
        v.join("; ")
    }
}

/// AWS's default version of an addon for a Kubernetes version: the one whose compatibility entry
/// for that version has `defaultVersion`; else the first listed (the newest).
pub(crate) async fn default_addon_version(ctx: &Ctx, addon: &str, k8s: &str) -> Result<String, StepError> {
    let o = ctx.eks.describe_addon_versions().addon_name(addon).kubernetes_version(k8s).send().await.map_err(aws_err)?;
    let versions: Vec<&aws_sdk_eks::types::AddonVersionInfo> = o.addons().iter().filter(|a| a.addon_name() == Some(addon)).flat_map(|a| a.addon_versions()).collect();
    let default = versions.iter().find(|v| v.compatibilities().iter().any(|c| c.cluster_version() == Some(k8s) && c.default_version()));
    default
        .or(versions.first())
        .and_then(|v| v.addon_version())
        .map(str::to_string)
        .ok_or_else(|| StepError::Invalid(format!("EKS lists no version of addon {addon} for Kubernetes {k8s}")))
}

/// The addon's configuration values: the planned JSON plus, for vpc-cni with custom networking,
/// `eniConfig` (one ENIConfig per AZ: the pod subnet and the node security group).
pub(super) fn addon_configuration(ctx: &Ctx, step: &Step, configuration: &serde_json::Value, eni_configs: &[(String, String)]) -> Result<Option<String>, StepError> {
    let mut cfg = configuration.clone();
    if !eni_configs.is_empty() {
        let sg = ctx.dep_id("sg/node", &step.id)?;
        let mut subnets = serde_json::Map::new();
        for (az, subnet_step) in eni_configs {
            let subnet = ctx.dep(subnet_step, &step.id)?;
            // The ENIConfig name must be the subnet's real AZ (nodes pick it by their zone
            // label): prefer what AWS reported for the subnet over the planned AZ.
            let az = subnet.extra.get("az").unwrap_or(az);
            subnets.insert(az.clone(), serde_json::json!({"id": subnet.id, "securityGroups": [sg]}));
        }
        let eni = serde_json::json!({"create": true, "region": ctx.region(), "subnets": subnets});
        match cfg.as_object_mut() {
            Some(m) => {
                m.insert("eniConfig".into(), eni);
            }
            None => cfg = serde_json::json!({"eniConfig": eni}),
        }
    }
    let empty = cfg.is_null() || cfg.as_object().is_some_and(|m| m.is_empty());
    if empty {
        return Ok(None);
    }
    serde_json::to_string(&cfg).map(Some).map_err(|e| StepError::Invalid(format!("addon configuration: {e}")))
}

pub(crate) async fn addon(
    ctx: &Ctx,
    step: &Step,
    name: &str,
    version: Option<&str>,
    configuration: &serde_json::Value,
    eni_configs: &[(String, String)],
    pod_identities: &[(String, String)],
) -> Result<(), StepError> {
    let cluster = ctx.dep_id("cluster", &step.id)?;
    let k8s = ctx.dep("cluster", &step.id)?.extra.get("version").cloned().unwrap_or_default();
    let config = addon_configuration(ctx, step, configuration, eni_configs)?;
    let described = describe_addon(ctx, &cluster, name).await?;
    let adopted = described.is_some();
    match described {
        Some(a) => {
            if a.status() == Some(&AddonStatus::CreateFailed) {
                let issues = a.health().map(|h| h.issues()).unwrap_or_default().iter().map(|i| i.message().unwrap_or_default().to_string());
                return Err(StepError::Invalid(format!("addon {name} exists in state CREATE_FAILED ({})", health(issues))));
            }
            ctx.say(format!("{}: adopted addon {name}", step.id));
            ctx.record(&step.id, addon_output(&a, name));
        }
        None => {
            ctx.forget(&step.id);
            let version = match version {
                Some(v) => v.to_string(),
                None => default_addon_version(ctx, name, &k8s).await?,
            };
            let pia = super::daytwo::pod_identity_associations(ctx, step, pod_identities)?;
            let create = |token: String| {
                ctx.eks
                    .create_addon()
                    .cluster_name(&cluster)
                    .addon_name(name)
                    .addon_version(&version)
                    .set_configuration_values(config.clone())
                    .set_pod_identity_associations(pia.clone())
                    .resolve_conflicts(ResolveConflicts::Overwrite)
                    .client_request_token(token)
                    .set_tags(Some(eks_tags(ctx, &step.id)))
                    .send()
            };
            let addon_name = |a: &aws_sdk_eks::types::Addon| a.addon_name().map(str::to_string);
            let seen = |n: String| {
                let cluster = &cluster;
                async move {
                    Ok(match describe_addon(ctx, cluster, &n).await? {
                        None => Seen::Missing,
                        Some(a) if a.status() == Some(&AddonStatus::Deleting) => Seen::Dead,
                        Some(_) => Seen::Live,
                    })
                }
            };
            let attempt = |t: String| {
                let cluster = &cluster;
                async move {
                    match create(t).await {
                        Ok(o) => o.addon.ok_or_else(|| StepError::Invalid("CreateAddon returned no addon".into())),
                        // See `lost_create`: the addon our lost call made.
                        Err(e) if super::lost_create::in_use(&e) => match describe_addon(ctx, cluster, name).await? {
                            Some(a) if super::lost_create::made_by_us(ctx, &step.id, a.tags()) => Ok(a),
                            _ => Err(aws_err(e)),
                        },
                        Err(e) => Err(aws_err(e)),
                    }
                }
            };
            let a = replay::create(ctx, step, "the addon", ctx.token(step), attempt, addon_name, seen).await?;
            ctx.say(format!("{}: created addon {name} {version}", step.id));
            ctx.record(&step.id, addon_output(&a, name));
        }
    }
    addon_active(ctx, &cluster, name, ADDON_TIMEOUT).await?;
    let mut a = describe_addon(ctx, &cluster, name).await?;
    if let (true, Some(current)) = (adopted, a.as_ref()) {
        if converge_addon(ctx, step, &cluster, name, &k8s, version, config.as_deref(), current).await? {
            a = describe_addon(ctx, &cluster, name).await?;
        }
    }
    if let Some(a) = a {
        ctx.record(&step.id, addon_output(&a, name));
    }
    Ok(())
}

/// Bring an adopted, ACTIVE addon to the planned version and configuration values (UpdateAddon,
/// conflicts overwritten, as at create). Without a pinned version the addon follows AWS's default
/// for the cluster's Kubernetes version, upwards only (EKS does not downgrade addons). Returns
/// whether an update was made.
#[allow(clippy::too_many_arguments)]
pub(super) async fn converge_addon(
    ctx: &Ctx,
    step: &Step,
    cluster: &str,
    name: &str,
    k8s: &str,
    version: Option<&str>,
    config: Option<&str>,
    a: &aws_sdk_eks::types::Addon,
) -> Result<bool, StepError> {
    let current = a.addon_version().unwrap_or_default();
    let new_version = match version {
        Some(v) if v != current => Some(v.to_string()),
        Some(_) => None,
        None => {
            let d = default_addon_version(ctx, name, k8s).await?;
            (drift::addon_version_cmp(&d, current) == Ordering::Greater).then_some(d)
        }
    };
    // No configuration planned but some set: `{}` resets it to the addon's defaults.
    let new_config = (!drift::same_configuration(a.configuration_values(), config)).then(|| config.unwrap_or("{}").to_string());
    if new_version.is_none() && new_config.is_none() {
        return Ok(false);
    }
    let mut what = Vec::new();
    if let Some(v) = &new_version {
        what.push(format!("version {current} -> {v}"));
    }
    if new_config.is_some() {
        what.push("configuration values".to_string());
    }
    ctx.say(format!("{}: updating addon {name}: {}", step.id, what.join(", ")));
    let o = ctx
        .eks
        .update_addon()
        .cluster_name(cluster)
        .addon_name(name)
        .set_addon_version(new_version)
        .set_configuration_values(new_config)
        .resolve_conflicts(ResolveConflicts::Overwrite)
        .send()
        .await
        .map_err(aws_err)?;
    wait_update(ctx, cluster, Scope::Addon(name), o.update(), &format!("the update of addon {name}"), ADDON_UPDATE_TIMEOUT).await?;
    addon_active(ctx, cluster, name, ADDON_UPDATE_TIMEOUT).await?;
    Ok(true)
}

pub(crate) async fn delete_addon(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    let cluster = ctx.cluster().to_string();
    gone(ctx.eks.delete_addon().cluster_name(&cluster).addon_name(&o.id).send().await)?;
    addon_deleted(ctx, &cluster, &o.id).await?;
    Ok(())
}

pub(crate) async fn refresh_addon(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(describe_addon(ctx, ctx.cluster(), &o.id).await?.map(|a| addon_output(&a, &o.id)))
}
