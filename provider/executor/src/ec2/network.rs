//! EC2 network steps: the VPC, its secondary CIDR, subnets, internet and NAT gateways, route
//! tables; their deletion and refresh.

use super::*;

// ---------------------------------------------------------------- VPC

async fn find_vpc(ctx: &Ctx, id: Option<String>, step: &str) -> Result<Option<aws_sdk_ec2::types::Vpc>, StepError> {
    let req = match id {
        Some(i) => ctx.ec2.describe_vpcs().vpc_ids(i),
        None => ctx.ec2.describe_vpcs().set_filters(Some(ctx.ec2_tag_filters(step))),
    };
    Ok(found(req.send().await)?.and_then(|o| o.vpcs.unwrap_or_default().into_iter().next()))
}

pub(crate) async fn vpc(ctx: &Ctx, step: &Step, cidr: &str) -> Result<(), StepError> {
    let id = match locate(ctx, &step.id, |i| find_vpc(ctx, i, &step.id)).await? {
        Some(v) => {
            let id = v.vpc_id.ok_or_else(|| missing_id("VPC"))?;
            adopted(ctx, &step.id, &id);
            id
        }
        None => {
            let o = ctx
                .ec2
                .create_vpc()
                .cidr_block(cidr)
                .tag_specifications(tag_spec(ctx, ResourceType::Vpc, &step.id, &[]))
                .customize()
                .config_override(throttling_only!(aws_sdk_ec2))
                .send()
                .await
                .map_err(aws_err)?;
            let id = o.vpc.and_then(|v| v.vpc_id).ok_or_else(|| missing_id("VPC"))?;
            created(ctx, &step.id, &id);
            id
        }
    };
    ctx.record(&step.id, with(out(&id), "cidr", cidr));
    ctx.wait_for(&format!("VPC {id} to become available"), ctx.ec2.wait_until_vpc_available().vpc_ids(&id).wait(EC2_AVAILABLE_TIMEOUT)).await?;
    // One attribute per call (an API rule); only what is off.
    let attr = |a: VpcAttributeName| ctx.ec2.describe_vpc_attribute().vpc_id(&id).attribute(a).send();
    let support = attr(VpcAttributeName::EnableDnsSupport).await.map_err(aws_err)?;
    if support.enable_dns_support().and_then(|a| a.value()) != Some(true) {
        ctx.ec2.modify_vpc_attribute().vpc_id(&id).enable_dns_support(bool_attr(true)).send().await.map_err(aws_err)?;
    }
    let hostnames = attr(VpcAttributeName::EnableDnsHostnames).await.map_err(aws_err)?;
    if hostnames.enable_dns_hostnames().and_then(|a| a.value()) != Some(true) {
        ctx.ec2.modify_vpc_attribute().vpc_id(&id).enable_dns_hostnames(bool_attr(true)).send().await.map_err(aws_err)?;
    }
    Ok(())
}

pub(crate) async fn existing_vpc(ctx: &Ctx, step: &Step, vpc_id: &str) -> Result<(), StepError> {
    match find_vpc(ctx, Some(vpc_id.to_string()), &step.id).await? {
        Some(_) => {
            ctx.record(&step.id, with(out(vpc_id), EXTRA_EXISTING, "true"));
            Ok(())
        }
        None => Err(StepError::Invalid(format!("the existing VPC {vpc_id} does not exist in {}", ctx.region()))),
    }
}

// ---------------------------------------------------------------- secondary CIDR

fn cidr_association(v: &aws_sdk_ec2::types::Vpc, cidr: &str) -> Option<(String, String)> {
    v.cidr_block_association_set().iter().find_map(|a| {
        let state = a.cidr_block_state().and_then(|s| s.state()).map(|s| s.as_str().to_string()).unwrap_or_default();
        (a.cidr_block() == Some(cidr) && (state == "associated" || state == "associating"))
            .then(|| a.association_id().map(|id| (id.to_string(), state)))
            .flatten()
    })
}

pub(crate) async fn vpc_cidr(ctx: &Ctx, step: &Step, cidr: &str) -> Result<(), StepError> {
    let vpc_id = ctx.dep_id("vpc", &step.id)?;
    let vpc = find_vpc(ctx, Some(vpc_id.clone()), &step.id).await?.ok_or_else(|| StepError::Invalid(format!("VPC {vpc_id} does not exist")))?;
    let assoc = match cidr_association(&vpc, cidr) {
        Some((id, _)) => {
            adopted(ctx, &step.id, &id);
            id
        }
        None => {
            let o = ctx
                .ec2
                .associate_vpc_cidr_block()
                .vpc_id(&vpc_id)
                .cidr_block(cidr)
                .customize()
                .config_override(throttling_only!(aws_sdk_ec2))
                .send()
                .await
                .map_err(aws_err)?;
            let id = o.cidr_block_association.and_then(|a| a.association_id).ok_or_else(|| missing_id("CIDR block association"))?;
            created(ctx, &step.id, &id);
            id
        }
    };
    ctx.record(&step.id, with(with(out(&assoc), "cidr", cidr), "vpcId", &vpc_id));
    poll(ctx, &format!("{cidr} to be associated with {vpc_id}"), CIDR_TIMEOUT, || async {
        let v = find_vpc(ctx, Some(vpc_id.clone()), &step.id).await?;
        Ok(v.and_then(|v| cidr_association(&v, cidr)).filter(|(_, s)| s == "associated").map(|_| ()))
    })
    .await
}

// ---------------------------------------------------------------- subnets

async fn find_subnet(ctx: &Ctx, id: Option<String>, step: &str) -> Result<Option<aws_sdk_ec2::types::Subnet>, StepError> {
    let req = match id {
        Some(i) => ctx.ec2.describe_subnets().subnet_ids(i),
        None => ctx.ec2.describe_subnets().set_filters(Some(ctx.ec2_tag_filters(step))),
    };
    Ok(found(req.send().await)?.and_then(|o| o.subnets.unwrap_or_default().into_iter().next()))
}

fn subnet_output(s: &aws_sdk_ec2::types::Subnet, existing: bool) -> Result<StepOutput, StepError> {
    let mut o = out(s.subnet_id().ok_or_else(|| missing_id("subnet"))?);
    if let Some(az) = s.availability_zone() {
        o = with(o, "az", az);
    }
    if let Some(c) = s.cidr_block() {
        o = with(o, "cidr", c);
    }
    if existing {
        o = with(o, EXTRA_EXISTING, "true");
    }
    Ok(o)
}

pub(crate) async fn subnet(ctx: &Ctx, step: &Step, role: SubnetRole, az: &str, cidr: &str) -> Result<(), StepError> {
    let vpc_id = ctx.dep_id("vpc", &step.id)?;
    let s = match locate(ctx, &step.id, |i| find_subnet(ctx, i, &step.id)).await? {
        Some(s) => {
            adopted(ctx, &step.id, s.subnet_id().unwrap_or_default());
            s
        }
        None => {
            let mut k8s = vec![(format!("kubernetes.io/cluster/{}", ctx.cluster()), "shared".to_string())];
            match role {
                SubnetRole::Node => k8s.push(("kubernetes.io/role/internal-elb".into(), "1".into())),
                SubnetRole::Public => k8s.push(("kubernetes.io/role/elb".into(), "1".into())),
                SubnetRole::Pod => {}
            }
            let r = ctx
                .ec2
                .create_subnet()
                .vpc_id(&vpc_id)
                .cidr_block(cidr)
                .availability_zone(az)
                .tag_specifications(tag_spec(ctx, ResourceType::Subnet, &step.id, &k8s))
                .send()
                .await;
            match r {
                Ok(o) => {
                    let s = o.subnet.ok_or_else(|| missing_id("subnet"))?;
                    created(ctx, &step.id, s.subnet_id().unwrap_or_default());
                    s
                }
                // A retry after a lost answer: the first attempt made the subnet (with our tags,
                // set in the same call), so the CIDR now conflicts with it. Adopt it when it is
                // ours, in this VPC with this CIDR; a conflict with anything else stays an error.
                Err(e) if code(&e) == "InvalidSubnet.Conflict" => match find_subnet(ctx, None, &step.id).await? {
                    Some(s) if s.vpc_id() == Some(vpc_id.as_str()) && s.cidr_block() == Some(cidr) => {
                        adopted(ctx, &step.id, s.subnet_id().unwrap_or_default());
                        s
                    }
                    _ => return Err(aws_err(e)),
                },
                Err(e) => return Err(aws_err(e)),
            }
        }
    };
    let id = s.subnet_id().ok_or_else(|| missing_id("subnet"))?.to_string();
    ctx.record(&step.id, subnet_output(&s, false)?);
    ctx.wait_for(&format!("subnet {id} to become available"), ctx.ec2.wait_until_subnet_available().subnet_ids(&id).wait(EC2_AVAILABLE_TIMEOUT)).await?;
    // Nodes never get public IPs: off is the default for new subnets; turned off when it is on.
    if s.map_public_ip_on_launch() != Some(false) {
        ctx.ec2.modify_subnet_attribute().subnet_id(&id).map_public_ip_on_launch(bool_attr(false)).send().await.map_err(aws_err)?;
    }
    Ok(())
}

pub(crate) async fn existing_subnet(ctx: &Ctx, step: &Step, subnet_id: &str) -> Result<(), StepError> {
    match find_subnet(ctx, Some(subnet_id.to_string()), &step.id).await? {
        Some(s) => {
            if let (Ok(vpc), Some(v)) = (ctx.dep_id("vpc", &step.id), s.vpc_id()) {
                if vpc != v {
                    return Err(StepError::Invalid(format!("the existing subnet {subnet_id} is in {v}, not in {vpc}")));
                }
            }
            ctx.record(&step.id, subnet_output(&s, true)?);
            Ok(())
        }
        None => Err(StepError::Invalid(format!("the existing subnet {subnet_id} does not exist in {}", ctx.region()))),
    }
}

// ---------------------------------------------------------------- internet gateway

async fn find_igw(ctx: &Ctx, id: Option<String>, step: &str) -> Result<Option<aws_sdk_ec2::types::InternetGateway>, StepError> {
    let req = match id {
        Some(i) => ctx.ec2.describe_internet_gateways().internet_gateway_ids(i),
        None => ctx.ec2.describe_internet_gateways().set_filters(Some(ctx.ec2_tag_filters(step))),
    };
    Ok(found(req.send().await)?.and_then(|o| o.internet_gateways.unwrap_or_default().into_iter().next()))
}

pub(crate) async fn internet_gateway(ctx: &Ctx, step: &Step) -> Result<(), StepError> {
    let vpc_id = ctx.dep_id("vpc", &step.id)?;
    let igw = match locate(ctx, &step.id, |i| find_igw(ctx, i, &step.id)).await? {
        Some(g) => {
            adopted(ctx, &step.id, g.internet_gateway_id().unwrap_or_default());
            g
        }
        None => {
            let o = ctx
                .ec2
                .create_internet_gateway()
                .tag_specifications(tag_spec(ctx, ResourceType::InternetGateway, &step.id, &[]))
                .customize()
                .config_override(throttling_only!(aws_sdk_ec2))
                .send()
                .await
                .map_err(aws_err)?;
            let g = o.internet_gateway.ok_or_else(|| missing_id("internet gateway"))?;
            created(ctx, &step.id, g.internet_gateway_id().unwrap_or_default());
            g
        }
    };
    let id = igw.internet_gateway_id().ok_or_else(|| missing_id("internet gateway"))?.to_string();
    ctx.record(&step.id, with(out(&id), "vpcId", &vpc_id));
    if !igw.attachments().iter().any(|a| a.vpc_id() == Some(vpc_id.as_str())) {
        match ctx.ec2.attach_internet_gateway().internet_gateway_id(&id).vpc_id(&vpc_id).send().await {
            Ok(_) => {}
            // A retry after a lost answer: the first attempt attached it, and EC2 answers
            // `Resource.AlreadyAssociated` (EC2 API reference, "Error codes":
            // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html). Done
            // when the gateway is attached to this VPC; any other attachment stays an error.
            Err(e) if code(&e) == "Resource.AlreadyAssociated" && attached_to(ctx, &id, &vpc_id).await? => {}
            Err(e) => return Err(aws_err(e)),
        }
    }
    Ok(())
}

/// Whether internet gateway `id` is attached to `vpc_id` now.
async fn attached_to(ctx: &Ctx, id: &str, vpc_id: &str) -> Result<bool, StepError> {
    let g = find_igw(ctx, Some(id.to_string()), "").await?;
    Ok(g.is_some_and(|g| g.attachments().iter().any(|a| a.vpc_id() == Some(vpc_id))))
}

// ---------------------------------------------------------------- NAT gateway

const LIVE_NAT_STATES: [&str; 2] = ["pending", "available"];

async fn find_nat(ctx: &Ctx, id: Option<String>, step: &str) -> Result<Option<aws_sdk_ec2::types::NatGateway>, StepError> {
    let req = match id {
        Some(i) => ctx.ec2.describe_nat_gateways().nat_gateway_ids(i),
        None => ctx.ec2.describe_nat_gateways().set_filter(Some(ctx.ec2_tag_filters(step))),
    };
    Ok(found(req.send().await)?.and_then(|o| {
        o.nat_gateways
            .unwrap_or_default()
            .into_iter()
            .find(|n| n.state().is_some_and(|s| LIVE_NAT_STATES.contains(&s.as_str())))
    }))
}

pub(crate) async fn nat_gateway(ctx: &Ctx, step: &Step, subnet_step: &str) -> Result<(), StepError> {
    let subnet_id = ctx.dep_id(subnet_step, &step.id)?;
    let (id, alloc) = match locate(ctx, &step.id, |i| find_nat(ctx, i, &step.id)).await? {
        Some(n) => {
            let id = n.nat_gateway_id().ok_or_else(|| missing_id("NAT gateway"))?.to_string();
            adopted(ctx, &step.id, &id);
            let alloc = n.nat_gateway_addresses().iter().find_map(|a| a.allocation_id().map(str::to_string)).unwrap_or_default();
            (id, alloc)
        }
        None => {
            // The Elastic IP: adopt a tagged one (from a run that stopped after allocating it).
            let eips = ctx.ec2.describe_addresses().set_filters(Some(ctx.ec2_tag_filters(&step.id))).send().await.map_err(aws_err)?;
            let alloc = match eips.addresses().iter().find_map(|a| a.allocation_id().map(str::to_string)) {
                Some(a) => a,
                None => ctx
                    .ec2
                    .allocate_address()
                    .domain(DomainType::Vpc)
                    .tag_specifications(tag_spec(ctx, ResourceType::ElasticIp, &step.id, &[]))
                    .customize()
                    .config_override(throttling_only!(aws_sdk_ec2))
                    .send()
                    .await
                    .map_err(aws_err)?
                    .allocation_id
                    .ok_or_else(|| missing_id("Elastic IP allocation"))?,
            };
            let create = |token: String| {
                ctx.ec2
                    .create_nat_gateway()
                    .subnet_id(&subnet_id)
                    .allocation_id(&alloc)
                    .client_token(token)
                    .tag_specifications(tag_spec(ctx, ResourceType::Natgateway, &step.id, &[]))
                    .send()
            };
            let nat_id = |o: &aws_sdk_ec2::operation::create_nat_gateway::CreateNatGatewayOutput| o.nat_gateway().and_then(|n| n.nat_gateway_id()).map(str::to_string);
            let o = replay::create(ctx, step, "the NAT gateway", ctx.token(step), |t| async move { create(t).await.map_err(aws_err) }, nat_id, |id| nat_seen(ctx, id)).await?;
            let id = nat_id(&o).ok_or_else(|| missing_id("NAT gateway"))?;
            created(ctx, &step.id, &id);
            (id, alloc)
        }
    };
    ctx.record(&step.id, with(out(&id), "allocationId", &alloc));
    nat_state(ctx, &id, "available").await
}

/// What EC2 describes of NAT gateway `id` (for [`replay::create`]): `deleting` and `deleted` are
/// dead (a deleted gateway stays visible for a while); a `failed` one is reported by the wait.
async fn nat_seen(ctx: &Ctx, id: String) -> Result<Seen, StepError> {
    let n = found(ctx.ec2.describe_nat_gateways().nat_gateway_ids(&id).send().await)?.and_then(|o| o.nat_gateways.unwrap_or_default().into_iter().next());
    Ok(match n.as_ref().and_then(|n| n.state()).map(|s| s.as_str()) {
        None if n.is_none() => Seen::Missing,
        Some("deleting" | "deleted") => Seen::Dead,
        _ => Seen::Live,
    })
}

/// Poll a NAT gateway until it is in `want` (`available`, or `deleted`, which also covers a gateway
/// EC2 no longer describes); `failed` ends the wait with EC2's reason.
async fn nat_state(ctx: &Ctx, id: &str, want: &str) -> Result<(), StepError> {
    poll(ctx, &format!("NAT gateway {id} to be {want}"), NAT_TIMEOUT, || async {
        let n = found(ctx.ec2.describe_nat_gateways().nat_gateway_ids(id).send().await)?.and_then(|o| o.nat_gateways.unwrap_or_default().into_iter().next());
        let Some(n) = n else { return if want == "deleted" { Ok(Some(())) } else { Ok(None) } };
        let state = n.state().map(|s| s.as_str().to_string()).unwrap_or_default();
        // A failed gateway is gone as far as deleting goes (EC2 removes it on its own).
        if state == want || (want == "deleted" && state == "failed") {
            return Ok(Some(()));
        }
        if state == "failed" {
            let why = format!("{}: {}", n.failure_code().unwrap_or_default(), n.failure_message().unwrap_or_default());
            return Err(StepError::Aws(format!("NAT gateway {id} failed ({why})")));
        }
        Ok(None)
    })
    .await
}

// ---------------------------------------------------------------- route tables

async fn find_rtb(ctx: &Ctx, id: Option<String>, step: &str) -> Result<Option<aws_sdk_ec2::types::RouteTable>, StepError> {
    let req = match id {
        Some(i) => ctx.ec2.describe_route_tables().route_table_ids(i),
        None => ctx.ec2.describe_route_tables().set_filters(Some(ctx.ec2_tag_filters(step))),
    };
    Ok(found(req.send().await)?.and_then(|o| o.route_tables.unwrap_or_default().into_iter().next()))
}

pub(crate) async fn route_table(ctx: &Ctx, step: &Step, subnets: &[String], default_route: Option<&String>) -> Result<(), StepError> {
    let vpc_id = ctx.dep_id("vpc", &step.id)?;
    let rt = match locate(ctx, &step.id, |i| find_rtb(ctx, i, &step.id)).await? {
        Some(r) => {
            adopted(ctx, &step.id, r.route_table_id().unwrap_or_default());
            r
        }
        None => {
            let o = ctx
                .ec2
                .create_route_table()
                .vpc_id(&vpc_id)
                .tag_specifications(tag_spec(ctx, ResourceType::RouteTable, &step.id, &[]))
                .customize()
                .config_override(throttling_only!(aws_sdk_ec2))
                .send()
                .await
                .map_err(aws_err)?;
            let r = o.route_table.ok_or_else(|| missing_id("route table"))?;
            created(ctx, &step.id, r.route_table_id().unwrap_or_default());
            r
        }
    };
    let id = rt.route_table_id().ok_or_else(|| missing_id("route table"))?.to_string();
    ctx.record(&step.id, with(out(&id), "vpcId", &vpc_id));
    if let Some(target_step) = default_route {
        let target = ctx.dep_id(target_step, &step.id)?;
        let nat = matches!(ctx.plan.step(target_step).map(|s| &s.action), Some(Action::NatGateway { .. }));
        let current = rt.routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"));
        let same = current.is_some_and(|r| r.gateway_id() == Some(target.as_str()) || r.nat_gateway_id() == Some(target.as_str()));
        if !same {
            if current.is_some() {
                let req = ctx.ec2.replace_route().route_table_id(&id).destination_cidr_block("0.0.0.0/0");
                let req = if nat { req.nat_gateway_id(&target) } else { req.gateway_id(&target) };
                req.send().await.map_err(aws_err)?;
            } else {
                let req = ctx.ec2.create_route().route_table_id(&id).destination_cidr_block("0.0.0.0/0");
                let req = if nat { req.nat_gateway_id(&target) } else { req.gateway_id(&target) };
                match req.send().await {
                    Ok(_) => {}
                    // A retry after a lost answer: the first attempt made the route. Done when
                    // it goes to this target; a route to anything else stays an error.
                    Err(e) if code(&e) == "RouteAlreadyExists" && default_route_to(ctx, &id, &target).await? => {}
                    Err(e) => return Err(aws_err(e)),
                }
            }
        }
    }
    for s in subnets {
        let sid = ctx.dep_id(s, &step.id)?;
        if rt.associations().iter().any(|a| a.subnet_id() == Some(sid.as_str())) {
            continue;
        }
        // No idempotency token: a second association after a lost answer would not be a no-op.
        ctx.ec2
            .associate_route_table()
            .route_table_id(&id)
            .subnet_id(&sid)
            .customize()
            .config_override(throttling_only!(aws_sdk_ec2))
            .send()
            .await
            .map_err(aws_err)?;
    }
    Ok(())
}

/// Whether route table `id`'s 0.0.0.0/0 route goes to `target` (a gateway or a NAT gateway) now.
async fn default_route_to(ctx: &Ctx, id: &str, target: &str) -> Result<bool, StepError> {
    let rt = find_rtb(ctx, Some(id.to_string()), "").await?;
    Ok(rt.is_some_and(|rt| {
        rt.routes()
            .iter()
            .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0") && (r.gateway_id() == Some(target) || r.nat_gateway_id() == Some(target)))
    }))
}

// ---------------------------------------------------------------- deletion

pub(crate) async fn delete_vpc(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    delete_when_free(ctx, &format!("VPC {}", o.id), || ctx.ec2.delete_vpc().vpc_id(&o.id).send()).await
}

pub(crate) async fn delete_vpc_cidr(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    gone(ctx.ec2.disassociate_vpc_cidr_block().association_id(&o.id).send().await)
}

pub(crate) async fn delete_subnet(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    drain_enis(ctx, "subnet-id", &o.id).await?;
    delete_when_free(ctx, &format!("subnet {}", o.id), || ctx.ec2.delete_subnet().subnet_id(&o.id).send()).await
}

pub(crate) async fn delete_igw(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    if let Some(g) = find_igw(ctx, Some(o.id.clone()), "").await? {
        for a in g.attachments() {
            if let Some(vpc) = a.vpc_id() {
                match ctx.ec2.detach_internet_gateway().internet_gateway_id(&o.id).vpc_id(vpc).send().await {
                    // Already detached (e.g. a retried detach whose first answer was lost) is done.
                    Err(e) if code(&e) == "Gateway.NotAttached" => {}
                    r => gone(r)?,
                }
            }
        }
        delete_when_free(ctx, &format!("internet gateway {}", o.id), || ctx.ec2.delete_internet_gateway().internet_gateway_id(&o.id).send()).await?;
    }
    Ok(())
}

pub(crate) async fn delete_nat(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    gone(ctx.ec2.delete_nat_gateway().nat_gateway_id(&o.id).send().await)?;
    nat_state(ctx, &o.id, "deleted").await?;
    if let Some(alloc) = o.extra.get("allocationId").filter(|a| !a.is_empty()) {
        gone(ctx.ec2.release_address().allocation_id(alloc).send().await)?;
    }
    Ok(())
}

pub(crate) async fn delete_rtb(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    let Some(rt) = find_rtb(ctx, Some(o.id.clone()), "").await? else { return Ok(()) };
    for a in rt.associations() {
        if a.main() == Some(true) {
            continue;
        }
        if let Some(aid) = a.route_table_association_id() {
            gone(ctx.ec2.disassociate_route_table().association_id(aid).send().await)?;
        }
    }
    gone(ctx.ec2.delete_route_table().route_table_id(&o.id).send().await)
}

// ---------------------------------------------------------------- refresh

pub(crate) async fn refresh_vpc(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(find_vpc(ctx, Some(o.id.clone()), "").await?.map(|v| {
        let mut n = o.clone();
        if let Some(c) = v.cidr_block() {
            n.extra.insert("cidr".into(), c.to_string());
        }
        n
    }))
}

pub(crate) async fn refresh_vpc_cidr(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    let (Some(vpc), Some(cidr)) = (o.extra.get("vpcId"), o.extra.get("cidr")) else { return Ok(Some(o.clone())) };
    Ok(find_vpc(ctx, Some(vpc.clone()), "").await?.and_then(|v| cidr_association(&v, cidr)).map(|_| o.clone()))
}

pub(crate) async fn refresh_subnet(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    let existing = o.extra.get(EXTRA_EXISTING).is_some_and(|v| v == "true");
    find_subnet(ctx, Some(o.id.clone()), "").await?.map(|s| subnet_output(&s, existing)).transpose()
}

pub(crate) async fn refresh_igw(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(find_igw(ctx, Some(o.id.clone()), "").await?.map(|_| o.clone()))
}

pub(crate) async fn refresh_nat(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(find_nat(ctx, Some(o.id.clone()), "").await?.map(|_| o.clone()))
}

pub(crate) async fn refresh_rtb(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(find_rtb(ctx, Some(o.id.clone()), "").await?.map(|_| o.clone()))
}
