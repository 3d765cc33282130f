//! Launch templates (IMDSv2, encrypted disk, node SG, user data); deletion and refresh.

use super::*;

// ---------------------------------------------------------------- launch templates

async fn find_lt(ctx: &Ctx, id: Option<String>, name: &str) -> Result<Option<aws_sdk_ec2::types::LaunchTemplate>, StepError> {
    let req = match id {
        Some(i) => ctx.ec2.describe_launch_templates().launch_template_ids(i),
        None => ctx.ec2.describe_launch_templates().filters(filter("launch-template-name", name)),
    };
    Ok(found(req.send().await)?.and_then(|o| o.launch_templates.unwrap_or_default().into_iter().next()))
}

fn lt_output(lt: &aws_sdk_ec2::types::LaunchTemplate) -> Result<StepOutput, StepError> {
    let mut o = out(lt.launch_template_id().ok_or_else(|| missing_id("launch template"))?);
    if let Some(v) = lt.latest_version_number() {
        o = with(o, "latestVersion", v.to_string());
    }
    if let Some(n) = lt.launch_template_name() {
        o = with(o, "name", n);
    }
    Ok(o)
}

fn ebs(size: Option<i32>) -> LaunchTemplateEbsBlockDeviceRequest {
    LaunchTemplateEbsBlockDeviceRequest::builder()
        .encrypted(true)
        .volume_type(VolumeType::Gp3)
        .set_volume_size(size)
        .delete_on_termination(true)
        .build()
}

/// EKS does not return the service CIDR for every cluster; this is the rule EKS applies when
/// none is given (10.100.0.0/16, or 172.20.0.0/16 when the VPC uses 10.0.0.0/8).
fn default_service_cidr(vpc_cidr: Option<&str>) -> &'static str {
    if vpc_cidr.is_some_and(|c| c.starts_with("10.")) {
        "172.20.0.0/16"
    } else {
        "10.100.0.0/16"
    }
}

/// The max-pods rule for a pinned AMI, from the planned vpc-cni settings.
fn max_pods(plan: &Plan) -> userdata::MaxPods {
    let env = plan.steps.iter().find_map(|s| match &s.action {
        Action::Addon { name, configuration, .. } if name == "vpc-cni" => Some(configuration["env"].clone()),
        _ => None,
    });
    let on = |k: &str| env.as_ref().is_some_and(|e| e[k] == "true");
    if on("ENABLE_PREFIX_DELEGATION") {
        userdata::MaxPods::PrefixDelegation
    } else if on("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG") {
        userdata::MaxPods::CustomNetworking
    } else {
        userdata::MaxPods::Default
    }
}

/// What a launch template version must hold, as planned (compared with the latest version of an
/// adopted template).
struct LtWant {
    data: RequestLaunchTemplateData,
    hop: i32,
    /// The device that gets the planned size (the root volume, or Bottlerocket's data volume).
    sized_device: &'static str,
    size: i32,
    sg: String,
    image_id: Option<String>,
    /// Base64, as sent and as described.
    user_data: Option<String>,
}

/// The planned launch template data: IMDSv2 required with the hop limit, encrypted gp3 volumes,
/// the node security group, the pinned AMI (with its join user data) or none.
fn lt_want(ctx: &Ctx, step: &Step, lt: &LaunchTemplateAction) -> Result<LtWant, StepError> {
    let sg = ctx.dep_id("sg/node", &step.id)?;
    let bottlerocket = lt.ami_family.eq_ignore_ascii_case("BOTTLEROCKET");
    let size = i32::try_from(lt.disk_size_gib).map_err(|_| StepError::Invalid(format!("disk size {} GiB is out of range", lt.disk_size_gib)))?;
    let hop = i32::try_from(lt.hop_limit).map_err(|_| StepError::Invalid(format!("hop limit {} is out of range", lt.hop_limit)))?;
    // Bottlerocket: /dev/xvda is the OS volume, /dev/xvdb holds containers and gets the size.
    let (devices, sized_device) = if bottlerocket {
        (
            vec![
                LaunchTemplateBlockDeviceMappingRequest::builder().device_name("/dev/xvda").ebs(ebs(None)).build(),
                LaunchTemplateBlockDeviceMappingRequest::builder().device_name("/dev/xvdb").ebs(ebs(Some(size))).build(),
            ],
            "/dev/xvdb",
        )
    } else {
        (vec![LaunchTemplateBlockDeviceMappingRequest::builder().device_name("/dev/xvda").ebs(ebs(Some(size))).build()], "/dev/xvda")
    };
    let join_data;
    let join = match &lt.ami_id {
        Some(_) => {
            let c = ctx.dep("cluster", &step.id)?;
            let get = |k: &str| c.extra.get(k).cloned().ok_or_else(|| StepError::Invalid(format!("the cluster output has no {k} (needed by {})", step.id)));
            let vpc_cidr = ctx.get("vpc").and_then(|v| v.extra.get("cidr").cloned());
            join_data = (
                get("endpoint")?,
                get("certificateAuthorityData")?,
                c.extra.get("serviceIpv4Cidr").cloned().unwrap_or_else(|| default_service_cidr(vpc_cidr.as_deref()).to_string()),
            );
            Some(userdata::JoinInfo {
                cluster: ctx.cluster(),
                endpoint: &join_data.0,
                ca: &join_data.1,
                service_cidr: &join_data.2,
                max_pods: max_pods(&ctx.plan),
            })
        }
        None => None,
    };
    let user_data = userdata::try_render(&lt.ami_family, join.as_ref(), lt.user_data.as_deref())
        .map_err(|e| StepError::Invalid(format!("{}: {e}", step.id)))?
        .map(aws_smithy_types::base64::encode);
    let instance_tags = |rt: ResourceType| LaunchTemplateTagSpecificationRequest::builder().resource_type(rt).set_tags(Some(ctx.ec2_tags(&step.id))).build();
    let data = RequestLaunchTemplateData::builder()
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::Required)
                .http_put_response_hop_limit(hop)
                .http_endpoint(LaunchTemplateInstanceMetadataEndpointState::Enabled)
                .build(),
        )
        .set_block_device_mappings(Some(devices))
        // SecurityGroupIds rather than NetworkInterfaces: EKS managed node groups add their own
        // network interface settings; public IPs are off through the subnets' MapPublicIpOnLaunch.
        .security_group_ids(&sg)
        .set_image_id(lt.ami_id.clone())
        .set_user_data(user_data.clone())
        .tag_specifications(instance_tags(ResourceType::Instance))
        .tag_specifications(instance_tags(ResourceType::Volume))
        .build();
    Ok(LtWant { data, hop, sized_device, size, sg, image_id: lt.ami_id.clone(), user_data })
}

/// Which planned settings the described launch template data lacks (empty: nothing to do).
fn lt_drift(have: &aws_sdk_ec2::types::ResponseLaunchTemplateData, want: &LtWant) -> Vec<&'static str> {
    let mut out = Vec::new();
    let md = have.metadata_options();
    if md.and_then(|m| m.http_put_response_hop_limit()) != Some(want.hop) {
        out.push("imdsHopLimit");
    }
    if md.and_then(|m| m.http_tokens()) != Some(&LaunchTemplateHttpTokensState::Required)
        || md.and_then(|m| m.http_endpoint()).is_some_and(|e| e != &LaunchTemplateInstanceMetadataEndpointState::Enabled)
    {
        out.push("IMDSv2");
    }
    let sized = have.block_device_mappings().iter().find(|b| b.device_name() == Some(want.sized_device)).and_then(|b| b.ebs());
    if sized.and_then(|e| e.volume_size()) != Some(want.size) {
        out.push("diskSizeGb");
    }
    let all_encrypted = !have.block_device_mappings().is_empty() && have.block_device_mappings().iter().all(|b| b.ebs().and_then(|e| e.encrypted()) == Some(true));
    if !all_encrypted {
        out.push("volume encryption");
    }
    if have.security_group_ids() != [want.sg.clone()] {
        out.push("security group");
    }
    if have.image_id().filter(|i| !i.is_empty()) != want.image_id.as_deref() {
        out.push("amiId");
    }
    if have.user_data().filter(|u| !u.is_empty()) != want.user_data.as_deref() {
        out.push("userData");
    }
    out
}

pub(crate) async fn launch_template(ctx: &Ctx, step: &Step, lt: &LaunchTemplateAction) -> Result<(), StepError> {
    let want = lt_want(ctx, step, lt)?;
    if let Some(existing) = locate(ctx, &step.id, |i| find_lt(ctx, i, &lt.name)).await? {
        let owner = existing.tags().iter().find(|t| t.key() == Some(TAG_CLUSTER)).and_then(|t| t.value());
        ctx.check_owner(&format!("launch template {}", lt.name), owner)?;
        let id = existing.launch_template_id().ok_or_else(|| missing_id("launch template"))?.to_string();
        adopted(ctx, &step.id, &id);
        ctx.record(&step.id, lt_output(&existing)?);
        return converge_lt(ctx, step, &existing, &id, want).await;
    }
    let create = |token: String| {
        ctx.ec2
            .create_launch_template()
            .launch_template_name(&lt.name)
            .version_description("secure-eks")
            .client_token(token)
            .launch_template_data(want.data.clone())
            .tag_specifications(tag_spec(ctx, ResourceType::LaunchTemplate, &step.id, &[]))
            .send()
    };
    let lt_id = |o: &aws_sdk_ec2::operation::create_launch_template::CreateLaunchTemplateOutput| o.launch_template().and_then(|t| t.launch_template_id()).map(str::to_string);
    let o = replay::create(ctx, step, "the launch template", ctx.token(step), |t| async move { create(t).await.map_err(aws_err) }, lt_id, |id| lt_seen(ctx, id)).await?;
    let t = o.launch_template.ok_or_else(|| missing_id("launch template"))?;
    created(ctx, &step.id, t.launch_template_id().unwrap_or_default());
    ctx.record(&step.id, lt_output(&t)?);
    Ok(())
}

/// Whether EC2 still describes launch template `id` (for [`replay::create`]).
async fn lt_seen(ctx: &Ctx, id: String) -> Result<Seen, StepError> {
    let o = found(ctx.ec2.describe_launch_templates().launch_template_ids(&id).send().await)?;
    Ok(if o.is_some_and(|o| !o.launch_templates().is_empty()) { Seen::Live } else { Seen::Missing })
}

/// Launch template versions are immutable: when the latest version lacks a planned setting, add a
/// version with the planned data and record it as `latestVersion` (the node group step then rolls
/// the group to it).
async fn converge_lt(ctx: &Ctx, step: &Step, existing: &aws_sdk_ec2::types::LaunchTemplate, id: &str, want: LtWant) -> Result<(), StepError> {
    let latest = existing.latest_version_number().map(|v| v.to_string()).unwrap_or_else(|| "$Latest".into());
    let o = ctx.ec2.describe_launch_template_versions().launch_template_id(id).versions(&latest).send().await.map_err(aws_err)?;
    let have = o.launch_template_versions().first().and_then(|v| v.launch_template_data());
    let drift = match have {
        Some(h) => lt_drift(h, &want),
        None => vec!["launch template data"],
    };
    if drift.is_empty() {
        return Ok(());
    }
    // The token covers the version it starts from and the new data: a retry is deduplicated, a
    // later change (even back to an earlier setting) makes a new version.
    let token = change_token(
        ctx,
        step,
        &[
            &latest,
            &want.hop.to_string(),
            &want.size.to_string(),
            &want.sg,
            want.image_id.as_deref().unwrap_or_default(),
            want.user_data.as_deref().unwrap_or_default(),
        ],
    );
    let o = ctx
        .ec2
        .create_launch_template_version()
        .launch_template_id(id)
        .version_description("secure-eks")
        .client_token(token)
        .launch_template_data(want.data)
        .send()
        .await
        .map_err(aws_err)?;
    let v = o.launch_template_version().and_then(|v| v.version_number()).ok_or_else(|| missing_id("launch template version"))?;
    ctx.say(format!("{}: launch template {id} version {v} ({} changed; was version {latest})", step.id, drift.join(", ")));
    let mut out = lt_output(existing)?;
    out.extra.insert("latestVersion".into(), v.to_string());
    ctx.record(&step.id, out);
    Ok(())
}

// ---------------------------------------------------------------- deletion

pub(crate) async fn delete_lt(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    gone(ctx.ec2.delete_launch_template().launch_template_id(&o.id).send().await)
}

// ---------------------------------------------------------------- refresh

pub(crate) async fn refresh_lt(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    find_lt(ctx, Some(o.id.clone()), "").await?.map(|t| lt_output(&t)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_template_drift_names_what_differs() {
        use aws_sdk_ec2::types::{LaunchTemplateBlockDeviceMapping, LaunchTemplateEbsBlockDevice, LaunchTemplateInstanceMetadataOptions, ResponseLaunchTemplateData};
        let want = |hop: i32, size: i32, user_data: Option<&str>| LtWant {
            data: RequestLaunchTemplateData::builder().build(),
            hop,
            sized_device: "/dev/xvda",
            size,
            sg: "sg-1".into(),
            image_id: None,
            user_data: user_data.map(str::to_string),
        };
        let have = ResponseLaunchTemplateData::builder()
            .metadata_options(
                LaunchTemplateInstanceMetadataOptions::builder()
                    .http_tokens(LaunchTemplateHttpTokensState::Required)
                    .http_put_response_hop_limit(2)
                    .http_endpoint(LaunchTemplateInstanceMetadataEndpointState::Enabled)
                    .build(),
            )
            .block_device_mappings(
                LaunchTemplateBlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(LaunchTemplateEbsBlockDevice::builder().encrypted(true).volume_size(50).build())
                    .build(),
            )
            .security_group_ids("sg-1")
            .build();
        assert!(lt_drift(&have, &want(2, 50, None)).is_empty());
        assert_eq!(lt_drift(&have, &want(1, 80, Some("dXNlcg=="))), ["imdsHopLimit", "diskSizeGb", "userData"]);
        let optional = ResponseLaunchTemplateData::builder()
            .metadata_options(LaunchTemplateInstanceMetadataOptions::builder().http_tokens(aws_sdk_ec2::types::LaunchTemplateHttpTokensState::Optional).http_put_response_hop_limit(2).build())
            .set_block_device_mappings(Some(have.block_device_mappings().to_vec()))
            .security_group_ids("sg-2")
            .image_id("ami-1")
            .build();
        assert_eq!(lt_drift(&optional, &want(2, 50, None)), ["IMDSv2", "security group", "amiId"]);
    }

    #[test]
    fn service_cidr_default_follows_eks() {
        assert_eq!(default_service_cidr(Some("10.0.0.0/16")), "172.20.0.0/16");
        assert_eq!(default_service_cidr(Some("192.168.0.0/16")), "10.100.0.0/16");
    }
}
