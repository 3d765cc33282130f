//! VPC endpoints (gateway and interface); deletion and refresh.

use super::*;

// ---------------------------------------------------------------- VPC endpoints

const DEAD_VPCE_STATES: [&str; 5] = ["deleting", "deleted", "failed", "rejected", "expired"];

async fn find_vpce(ctx: &Ctx, id: Option<String>, step: &str) -> Result<Option<aws_sdk_ec2::types::VpcEndpoint>, StepError> {
    let req = match id {
        Some(i) => ctx.ec2.describe_vpc_endpoints().vpc_endpoint_ids(i),
        None => ctx.ec2.describe_vpc_endpoints().set_filters(Some(ctx.ec2_tag_filters(step))),
    };
    Ok(found(req.send().await)?.and_then(|o| {
        o.vpc_endpoints
            .unwrap_or_default()
            .into_iter()
            .find(|e| !e.state().is_some_and(|s| DEAD_VPCE_STATES.contains(&s.as_str().to_ascii_lowercase().as_str())))
    }))
}

/// The endpoint id a CreateVpcEndpoint answered with.
fn vpce_id(o: &aws_sdk_ec2::operation::create_vpc_endpoint::CreateVpcEndpointOutput) -> Option<String> {
    o.vpc_endpoint().and_then(|e| e.vpc_endpoint_id()).map(str::to_string)
}

/// What EC2 describes of endpoint `id` (for [`replay::create`]): `deleting` and `deleted` are
/// dead; a `failed` or `rejected` one is reported by the wait.
async fn vpce_seen(ctx: &Ctx, id: String) -> Result<Seen, StepError> {
    let o = found(ctx.ec2.describe_vpc_endpoints().vpc_endpoint_ids(&id).send().await)?;
    Ok(match o.and_then(|o| o.vpc_endpoints.unwrap_or_default().into_iter().next()) {
        None => Seen::Missing,
        Some(e) if e.state().is_some_and(|s| matches!(s.as_str().to_ascii_lowercase().as_str(), "deleting" | "deleted")) => Seen::Dead,
        Some(_) => Seen::Live,
    })
}

/// `com.amazonaws.<region>.<svc>` (`cn.com.amazonaws...` in the China regions).
pub(crate) fn endpoint_service(region: &str, svc: &str) -> String {
    if region.starts_with("cn-") {
        format!("cn.com.amazonaws.{region}.{svc}")
    } else {
        format!("com.amazonaws.{region}.{svc}")
    }
}

/// The route tables AWS uses for `subnet_ids` of `vpc_id`: each subnet's explicitly associated
/// one, else the VPC's main route table (VPC UG, "Subnet route tables").
pub(crate) async fn subnet_route_tables(ctx: &Ctx, vpc_id: &str, subnet_ids: &[String]) -> Result<Vec<String>, StepError> {
    let mut out = Vec::new();
    let mut main_needed = false;
    for sn in subnet_ids {
        let o = ctx.ec2.describe_route_tables().filters(filter("association.subnet-id", sn)).send().await.map_err(aws_err)?;
        match o.route_tables().first().and_then(|r| r.route_table_id()) {
            Some(id) => out.push(id.to_string()),
            None => main_needed = true,
        }
    }
    if main_needed {
        let o = ctx
            .ec2
            .describe_route_tables()
            .filters(filter("vpc-id", vpc_id))
            .filters(filter("association.main", "true"))
            .send()
            .await
            .map_err(aws_err)?;
        let main = o.route_tables().first().and_then(|r| r.route_table_id()).ok_or_else(|| StepError::Invalid(format!("the VPC {vpc_id} has no main route table")))?;
        out.push(main.to_string());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

pub(crate) async fn gateway_endpoint(ctx: &Ctx, step: &Step, service: &str, route_tables: &[String], subnets: &[String]) -> Result<(), StepError> {
    let vpc_id = ctx.dep_id("vpc", &step.id)?;
    let mut rtbs = route_tables.iter().map(|r| ctx.dep_id(r, &step.id)).collect::<Result<Vec<_>, _>>()?;
    let subnet_ids = subnets.iter().map(|s| ctx.dep_id(s, &step.id)).collect::<Result<Vec<_>, _>>()?;
    rtbs.extend(subnet_route_tables(ctx, &vpc_id, &subnet_ids).await?);
    rtbs.sort();
    rtbs.dedup();
    let id = match locate(ctx, &step.id, |i| find_vpce(ctx, i, &step.id)).await? {
        Some(e) => {
            let id = e.vpc_endpoint_id().ok_or_else(|| missing_id("VPC endpoint"))?.to_string();
            adopted(ctx, &step.id, &id);
            let missing: Vec<String> = rtbs.iter().filter(|r| !e.route_table_ids().contains(r)).cloned().collect();
            if !missing.is_empty() {
                ctx.ec2.modify_vpc_endpoint().vpc_endpoint_id(&id).set_add_route_table_ids(Some(missing)).send().await.map_err(aws_err)?;
            }
            id
        }
        None => {
            let create = |token: String| {
                ctx.ec2
                    .create_vpc_endpoint()
                    .vpc_id(&vpc_id)
                    .service_name(endpoint_service(ctx.region(), service))
                    .vpc_endpoint_type(VpcEndpointType::Gateway)
                    .set_route_table_ids(Some(rtbs.clone()))
                    .client_token(token)
                    .tag_specifications(tag_spec(ctx, ResourceType::VpcEndpoint, &step.id, &[]))
                    .send()
            };
            let o = replay::create(ctx, step, "the VPC endpoint", ctx.token(step), |t| async move { create(t).await.map_err(aws_err) }, vpce_id, |id| vpce_seen(ctx, id)).await?;
            let id = vpce_id(&o).ok_or_else(|| missing_id("VPC endpoint"))?;
            created(ctx, &step.id, &id);
            id
        }
    };
    ctx.record(&step.id, with(out(&id), "service", service));
    Ok(())
}

pub(crate) async fn interface_endpoint(ctx: &Ctx, step: &Step, service: &str, subnets: &[String]) -> Result<(), StepError> {
    let vpc_id = ctx.dep_id("vpc", &step.id)?;
    let sg = ctx.dep_id("sg/endpoints", &step.id)?;
    let subnet_ids = subnets.iter().map(|s| ctx.dep_id(s, &step.id)).collect::<Result<Vec<_>, _>>()?;
    let id = match locate(ctx, &step.id, |i| find_vpce(ctx, i, &step.id)).await? {
        Some(e) => {
            let id = e.vpc_endpoint_id().ok_or_else(|| missing_id("VPC endpoint"))?.to_string();
            adopted(ctx, &step.id, &id);
            id
        }
        None => {
            let create = |token: String| {
                ctx.ec2
                    .create_vpc_endpoint()
                    .vpc_id(&vpc_id)
                    .service_name(endpoint_service(ctx.region(), service))
                    .vpc_endpoint_type(VpcEndpointType::Interface)
                    .set_subnet_ids(Some(subnet_ids.clone()))
                    .security_group_ids(&sg)
                    .private_dns_enabled(true)
                    .client_token(token)
                    .tag_specifications(tag_spec(ctx, ResourceType::VpcEndpoint, &step.id, &[]))
                    .send()
            };
            let o = replay::create(ctx, step, "the VPC endpoint", ctx.token(step), |t| async move { create(t).await.map_err(aws_err) }, vpce_id, |id| vpce_seen(ctx, id)).await?;
            let id = vpce_id(&o).ok_or_else(|| missing_id("VPC endpoint"))?;
            created(ctx, &step.id, &id);
            id
        }
    };
    ctx.record(&step.id, with(out(&id), "service", service));
    poll(ctx, &format!("VPC endpoint {id} to become available"), VPCE_TIMEOUT, || async {
        let o = ctx.ec2.describe_vpc_endpoints().vpc_endpoint_ids(&id).send().await.map_err(aws_err)?;
        let state = o.vpc_endpoints().first().and_then(|e| e.state()).map(|s| s.as_str().to_ascii_lowercase()).unwrap_or_default();
        match state.as_str() {
            "available" => Ok(Some(())),
            "failed" | "rejected" | "deleted" | "deleting" | "expired" => Err(StepError::Invalid(format!("VPC endpoint {id} is {state}"))),
            _ => Ok(None),
        }
    })
    .await
}

// ---------------------------------------------------------------- before any create

/// What [`preflight`] decided about the plan's endpoints.
#[derive(Debug, Default)]
pub(crate) struct Preflight {
    /// Endpoint steps left out, with the warning said for each (the region offers no such
    /// service).
    pub skipped: Vec<(String, String)>,
    /// Endpoint steps whose endpoint the existing VPC already has: recorded as existing (used,
    /// never deleted), not created.
    pub existing: Vec<(String, StepOutput)>,
}

/// The endpoint step ids and services of the plan: (step, short service, gateway?).
fn endpoint_steps(plan: &Plan) -> Vec<(String, String, bool)> {
    plan.steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::InterfaceEndpoint { service, .. } => Some((s.id.clone(), service.clone(), false)),
            Action::GatewayEndpoint { service, .. } => Some((s.id.clone(), service.clone(), true)),
            _ => None,
        })
        .collect()
}

/// Whether `rules` (of an endpoint's security groups) admit TCP 443 from all of `cidr`.
fn admits_443(rules: &[SecurityGroupRule], cidr: &str) -> bool {
    let Some(want) = secure_eks_core::plan::Ipv4Cidr::parse(cidr) else { return false };
    rules.iter().any(|r| {
        let port = r.ip_protocol() == Some("-1") || (r.ip_protocol() == Some("tcp") && r.from_port().unwrap_or(0) <= 443 && r.to_port().unwrap_or(0) >= 443);
        let from = r.cidr_ipv4().and_then(secure_eks_core::plan::Ipv4Cidr::parse).is_some_and(|c| c.contains(&want));
        r.is_egress() == Some(false) && port && from
    })
}

/// Checks and decisions before any create (AWS documents each as a cause of nodes that never
/// join, or of a refused CreateVpcEndpoint):
///
/// - An endpoint service the region does not offer (e.g. `eks` PrivateLink in some regions;
///   DescribeVpcEndpointServices) is left out with a warning rather than failing the create.
/// - An existing VPC must have `enableDnsSupport` and `enableDnsHostnames`: private DNS of
///   interface endpoints needs both (EC2 API_CreateVpcEndpoint).
/// - An endpoint the existing VPC already has for a planned service is used, not duplicated (a
///   second private-DNS endpoint is refused: "conflicting DNS domain"), provided its security
///   groups admit HTTPS from every CIDR of the VPC (the nodes and pods); an S3 gateway endpoint
///   must be on the route tables of the node subnets.
///
/// Only Describe calls. The error names what to change.
pub(crate) async fn preflight(ctx: &Ctx) -> Result<Preflight, StepError> {
    let plan = &ctx.plan;
    let mut pre = Preflight::default();
    let steps = endpoint_steps(plan);
    if steps.is_empty() {
        return Ok(pre);
    }
    let region = ctx.region().to_string();
    let names: Vec<String> = steps.iter().map(|(_, s, _)| endpoint_service(&region, s)).collect();
    let mut offered = std::collections::BTreeSet::new();
    let mut token = None;
    loop {
        // All of the region's services (a few hundred, one or two pages): a `ServiceNames` list
        // with one unknown name fails the whole call (InvalidServiceName).
        let o = ctx
            .ec2
            .describe_vpc_endpoint_services()
            .set_next_token(token)
            .send()
            .await
            .map_err(aws_err)?;
        offered.extend(o.service_names().iter().cloned());
        offered.extend(o.service_details().iter().filter_map(|d| d.service_name().map(str::to_string)));
        token = o.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    for ((step, svc, _), full) in steps.iter().zip(&names) {
        if !offered.contains(full) {
            let why = format!(
                "warning: {region} offers no {full} endpoint service (DescribeVpcEndpointServices): {step} is left out; what calls the {svc} API from the nodes needs a NAT gateway (network.natGateways) to reach it"
            );
            ctx.say(why.clone());
            pre.skipped.push((step.clone(), why));
        }
    }
    let Some(vpc_id) = plan.steps.iter().find_map(|s| match &s.action {
        Action::ExistingVpc { vpc_id } => Some(vpc_id.clone()),
        _ => None,
    }) else {
        return Ok(pre);
    };
    for (attr, flag) in [(VpcAttributeName::EnableDnsSupport, "enableDnsSupport"), (VpcAttributeName::EnableDnsHostnames, "enableDnsHostnames")] {
        let o = ctx.ec2.describe_vpc_attribute().vpc_id(&vpc_id).attribute(attr.clone()).send().await.map_err(aws_err)?;
        let on = match attr {
            VpcAttributeName::EnableDnsSupport => o.enable_dns_support().and_then(|a| a.value()),
            _ => o.enable_dns_hostnames().and_then(|a| a.value()),
        };
        if on != Some(true) {
            let cli = if flag == "enableDnsSupport" { "--enable-dns-support" } else { "--enable-dns-hostnames" };
            return Err(StepError::Invalid(format!(
                "the existing VPC {vpc_id} has {flag} off: the interface endpoints' private DNS names (and EKS nodes) need enableDnsSupport and enableDnsHostnames; turn it on (aws ec2 modify-vpc-attribute --vpc-id {vpc_id} {cli}) and run again; nothing was created"
            )));
        }
    }
    let live = |e: &&aws_sdk_ec2::types::VpcEndpoint| !e.state().is_some_and(|s| DEAD_VPCE_STATES.contains(&s.as_str().to_ascii_lowercase().as_str()));
    let o = ctx.ec2.describe_vpc_endpoints().filters(filter("vpc-id", &vpc_id)).send().await.map_err(aws_err)?;
    let theirs: Vec<&aws_sdk_ec2::types::VpcEndpoint> = o
        .vpc_endpoints()
        .iter()
        .filter(live)
        .filter(|e| !e.tags().iter().any(|t| t.key() == Some(TAG_CLUSTER) && t.value() == Some(ctx.cluster())))
        .collect();
    if theirs.is_empty() {
        return Ok(pre);
    }
    let cidrs = vpc_cidrs(ctx, &vpc_id).await?;
    let mut problems = Vec::new();
    for ((step, svc, gateway), full) in steps.iter().zip(&names) {
        let found = theirs.iter().find(|e| {
            e.service_name() == Some(full.as_str())
                && if *gateway { e.vpc_endpoint_type() == Some(&VpcEndpointType::Gateway) } else { e.vpc_endpoint_type() == Some(&VpcEndpointType::Interface) && e.private_dns_enabled() == Some(true) }
        });
        let Some(e) = found else { continue };
        let id = e.vpc_endpoint_id().unwrap_or_default().to_string();
        if *gateway {
            let Some(Step { action: Action::GatewayEndpoint { subnets, .. }, .. }) = plan.step(step) else { continue };
            let subnet_ids: Vec<String> = subnets
                .iter()
                .filter_map(|s| match plan.step(s).map(|s| &s.action) {
                    Some(Action::ExistingSubnet { subnet_id, .. }) => Some(subnet_id.clone()),
                    _ => None,
                })
                .collect();
            let want = subnet_route_tables(ctx, &vpc_id, &subnet_ids).await?;
            let missing: Vec<&String> = want.iter().filter(|r| !e.route_table_ids().contains(r)).collect();
            if !missing.is_empty() {
                let missing = missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
                problems.push(format!(
                    "the VPC's S3 gateway endpoint {id} is not on the route tables of the node subnets ({missing}), so nodes cannot pull image layers; add them (aws ec2 modify-vpc-endpoint --vpc-endpoint-id {id} --add-route-table-ids {missing})"
                ));
                continue;
            }
        } else {
            let groups: Vec<String> = e.groups().iter().filter_map(|g| g.group_id().map(str::to_string)).collect();
            let rules = if groups.is_empty() {
                Vec::new()
            } else {
                ctx.ec2
                    .describe_security_group_rules()
                    .filters(Filter::builder().name("group-id").set_values(Some(groups.clone())).build())
                    .send()
                    .await
                    .map_err(aws_err)?
                    .security_group_rules()
                    .to_vec()
            };
            let blocked: Vec<&String> = cidrs.iter().filter(|c| !admits_443(&rules, c)).collect();
            if !blocked.is_empty() {
                let blocked = blocked.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                problems.push(format!(
                    "the VPC already has the {svc} endpoint {id} with private DNS (a second one is refused), but its security groups ({}) do not admit HTTPS (TCP 443) from {blocked}, where the nodes and pods are; add an inbound rule for TCP 443 from {blocked} to one of them",
                    groups.join(", ")
                ));
                continue;
            }
        }
        ctx.say(format!("{step}: using the VPC's existing endpoint {id} for {svc}"));
        pre.existing.push((step.clone(), with(with(out(&id), "service", svc.as_str()), EXTRA_EXISTING, "true")));
    }
    if !problems.is_empty() {
        return Err(StepError::Invalid(format!("{}; nothing was created", problems.join("; "))));
    }
    Ok(pre)
}

// ---------------------------------------------------------------- deletion

pub(crate) async fn delete_vpce(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    let r = ctx.ec2.delete_vpc_endpoints().vpc_endpoint_ids(&o.id).send().await;
    let r = found(r)?;
    if let Some(u) = r.as_ref().and_then(|r| r.unsuccessful().first()) {
        let c = u.error().and_then(|e| e.code()).unwrap_or_default();
        if !c.contains("NotFound") {
            let m = u.error().and_then(|e| e.message()).unwrap_or_default();
            return Err(StepError::Aws(format!("DeleteVpcEndpoints {}: {c}: {m}", o.id)));
        }
    }
    // Interface endpoints release their ENIs asynchronously; subnets and SGs wait for that.
    poll(ctx, &format!("VPC endpoint {} to be deleted", o.id), VPCE_TIMEOUT, || async {
        Ok(find_vpce(ctx, Some(o.id.clone()), "").await?.is_none().then_some(()))
    })
    .await
}

// ---------------------------------------------------------------- refresh

pub(crate) async fn refresh_vpce(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(find_vpce(ctx, Some(o.id.clone()), "").await?.map(|_| o.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names() {
        assert_eq!(endpoint_service("us-east-1", "ecr.api"), "com.amazonaws.us-east-1.ecr.api");
        assert_eq!(endpoint_service("cn-north-1", "s3"), "cn.com.amazonaws.cn-north-1.s3");
    }
}
