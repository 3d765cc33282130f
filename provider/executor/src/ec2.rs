//! EC2 steps: VPC, CIDR block, subnets, internet and NAT gateways, route tables, security groups
//! and rules, VPC endpoints, launch templates; their deletion and refresh; leaked ENI cleanup.

use std::future::Future;
use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, IpPermission, IpRange, LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataEndpointState, LaunchTemplateInstanceMetadataOptionsRequest,
    LaunchTemplateTagSpecificationRequest, RequestLaunchTemplateData, ResourceType, SecurityGroupRule, Tag, TagSpecification, UserIdGroupPair,
    VolumeType, VpcAttributeName, VpcEndpointType,
};
use secure_eks_core::plan::{Action, LaunchTemplateAction, Plan, SgRole, Source, Step, StepOutput, SubnetRole};

use crate::ctx::{aws_err, change_token, code, found, gone, out, poll, with, Ctx, StepError, EXTRA_EXISTING, TAG_CLUSTER};
use crate::retry::throttling_only;
use crate::userdata;

/// How long to wait for a VPC or subnet to become available.
pub(crate) const EC2_AVAILABLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How long to wait for a NAT gateway to become available or deleted.
pub(crate) const NAT_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// How long to wait for a VPC endpoint to become available or deleted (no SDK waiter exists).
pub(crate) const VPCE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long to wait for a secondary CIDR block to become associated (no SDK waiter exists).
pub(crate) const CIDR_TIMEOUT: Duration = Duration::from_secs(2 * 60);
/// How long to wait for ENIs left by EKS, the VPC CNI or endpoints to go away before deleting a
/// security group or subnet (no SDK waiter exists).
pub(crate) const ENI_DRAIN_TIMEOUT: Duration = Duration::from_secs(10 * 60);

fn filter(name: &str, value: impl Into<String>) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn tag_spec(ctx: &Ctx, rt: ResourceType, step: &str, extra: &[(String, String)]) -> TagSpecification {
    let mut tags = ctx.ec2_tags(step);
    tags.extend(extra.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()));
    TagSpecification::builder().resource_type(rt).set_tags(Some(tags)).build()
}

/// Look a resource up by the prior run's id, then by its tags. A prior id that no longer
/// exists is forgotten.
async fn locate<T, F, Fut>(ctx: &Ctx, step: &str, f: F) -> Result<Option<T>, StepError>
where
    F: Fn(Option<String>) -> Fut,
    Fut: Future<Output = Result<Option<T>, StepError>>,
{
    if let Some(p) = ctx.prior(step).map(|o| o.id.clone()) {
        if let Some(t) = f(Some(p)).await? {
            return Ok(Some(t));
        }
        ctx.forget(step);
    }
    f(None).await
}

fn adopted(ctx: &Ctx, step: &str, id: &str) {
    ctx.say(format!("{step}: adopted {id}"));
}

fn created(ctx: &Ctx, step: &str, id: &str) {
    ctx.say(format!("{step}: created {id}"));
}

fn missing_id(what: &str) -> StepError {
    StepError::Invalid(format!("AWS returned no {what} id"))
}

fn bool_attr(v: bool) -> AttributeBooleanValue {
    AttributeBooleanValue::builder().value(v).build()
}

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
    ctx.wait(ctx.ec2.wait_until_vpc_available().vpc_ids(&id).wait(EC2_AVAILABLE_TIMEOUT)).await?;
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
            let o = ctx
                .ec2
                .create_subnet()
                .vpc_id(&vpc_id)
                .cidr_block(cidr)
                .availability_zone(az)
                .tag_specifications(tag_spec(ctx, ResourceType::Subnet, &step.id, &k8s))
                .send()
                .await
                .map_err(aws_err)?;
            let s = o.subnet.ok_or_else(|| missing_id("subnet"))?;
            created(ctx, &step.id, s.subnet_id().unwrap_or_default());
            s
        }
    };
    let id = s.subnet_id().ok_or_else(|| missing_id("subnet"))?.to_string();
    ctx.record(&step.id, subnet_output(&s, false)?);
    ctx.wait(ctx.ec2.wait_until_subnet_available().subnet_ids(&id).wait(EC2_AVAILABLE_TIMEOUT)).await?;
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
        ctx.ec2.attach_internet_gateway().internet_gateway_id(&id).vpc_id(&vpc_id).send().await.map_err(aws_err)?;
    }
    Ok(())
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
            let o = ctx
                .ec2
                .create_nat_gateway()
                .subnet_id(&subnet_id)
                .allocation_id(&alloc)
                .client_token(ctx.token(step))
                .tag_specifications(tag_spec(ctx, ResourceType::Natgateway, &step.id, &[]))
                .send()
                .await
                .map_err(aws_err)?;
            let id = o.nat_gateway.and_then(|n| n.nat_gateway_id).ok_or_else(|| missing_id("NAT gateway"))?;
            created(ctx, &step.id, &id);
            (id, alloc)
        }
    };
    ctx.record(&step.id, with(out(&id), "allocationId", &alloc));
    ctx.wait(ctx.ec2.wait_until_nat_gateway_available().nat_gateway_ids(&id).wait(NAT_TIMEOUT)).await?;
    Ok(())
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
                req.send().await.map_err(aws_err)?;
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

// ---------------------------------------------------------------- security groups

fn sg_step(role: SgRole) -> &'static str {
    match role {
        SgRole::Cluster => "sg/cluster",
        SgRole::Node => "sg/node",
        SgRole::Endpoints => "sg/endpoints",
    }
}

async fn find_sg(ctx: &Ctx, id: Option<String>, step: &str) -> Result<Option<aws_sdk_ec2::types::SecurityGroup>, StepError> {
    let req = match id {
        Some(i) => ctx.ec2.describe_security_groups().group_ids(i),
        None => ctx.ec2.describe_security_groups().set_filters(Some(ctx.ec2_tag_filters(step))),
    };
    Ok(found(req.send().await)?.and_then(|o| o.security_groups.unwrap_or_default().into_iter().next()))
}

pub(crate) async fn security_group(ctx: &Ctx, step: &Step, role: SgRole, description: &str) -> Result<(), StepError> {
    let vpc_id = ctx.dep_id("vpc", &step.id)?;
    let id = match locate(ctx, &step.id, |i| find_sg(ctx, i, &step.id)).await? {
        Some(g) => {
            let id = g.group_id.ok_or_else(|| missing_id("security group"))?;
            adopted(ctx, &step.id, &id);
            id
        }
        None => {
            let suffix = match role {
                SgRole::Cluster => "cluster",
                SgRole::Node => "node",
                SgRole::Endpoints => "endpoints",
            };
            let o = ctx
                .ec2
                .create_security_group()
                .group_name(format!("secure-eks-{}-{suffix}", ctx.cluster()))
                .description(description)
                .vpc_id(&vpc_id)
                .tag_specifications(tag_spec(ctx, ResourceType::SecurityGroup, &step.id, &[]))
                .send()
                .await;
            match o {
                Ok(o) => {
                    let id = o.group_id.ok_or_else(|| missing_id("security group"))?;
                    created(ctx, &step.id, &id);
                    id
                }
                // The SDK retried a create whose first answer was lost (the name is unique in
                // the VPC): the group is ours if it carries this step's tags, so the run goes on.
                Err(e) if code(&e) == "InvalidGroup.Duplicate" => {
                    let g = find_sg(ctx, None, &step.id).await?.ok_or_else(|| aws_err(e))?;
                    let id = g.group_id.ok_or_else(|| missing_id("security group"))?;
                    adopted(ctx, &step.id, &id);
                    id
                }
                Err(e) => return Err(aws_err(e)),
            }
        }
    };
    ctx.record(&step.id, with(out(&id), "vpcId", &vpc_id));
    Ok(())
}

struct RuleSpec {
    group: String,
    protocol: String,
    from: i32,
    to: i32,
    source_group: Option<String>,
    source_cidr: Option<String>,
}

fn rule_matches(r: &SecurityGroupRule, s: &RuleSpec) -> bool {
    let ports = s.protocol == "-1" || (r.from_port() == Some(s.from) && r.to_port() == Some(s.to));
    let source = match (&s.source_group, &s.source_cidr) {
        (Some(g), _) => r.referenced_group_info().and_then(|i| i.group_id()) == Some(g.as_str()),
        (None, Some(c)) => r.cidr_ipv4() == Some(c.as_str()),
        (None, None) => false,
    };
    r.is_egress() == Some(false) && r.group_id() == Some(s.group.as_str()) && r.ip_protocol() == Some(s.protocol.as_str()) && ports && source
}

async fn find_rule(ctx: &Ctx, spec: &RuleSpec) -> Result<Option<String>, StepError> {
    let o = ctx.ec2.describe_security_group_rules().filters(filter("group-id", &spec.group)).send().await.map_err(aws_err)?;
    Ok(o.security_group_rules().iter().find(|r| rule_matches(r, spec)).and_then(|r| r.security_group_rule_id().map(str::to_string)))
}

/// An ingress rule step (`step.action` is an [`Action::IngressRule`]).
pub(crate) async fn ingress_rule(ctx: &Ctx, step: &Step) -> Result<(), StepError> {
    let Action::IngressRule { on, protocol, from_port, to_port, source, description } = &step.action else {
        return Err(StepError::Invalid("not an ingress rule".into()));
    };
    let (on, protocol, from, to) = (*on, protocol.as_str(), *from_port, *to_port);
    let group = ctx.dep_id(sg_step(on), &step.id)?;
    let spec = RuleSpec {
        group: group.clone(),
        protocol: protocol.to_string(),
        from,
        to,
        source_group: match source {
            Source::Sg(r) => Some(ctx.dep_id(sg_step(*r), &step.id)?),
            Source::Cidr(_) => None,
        },
        source_cidr: match source {
            Source::Cidr(c) => Some(c.clone()),
            Source::Sg(_) => None,
        },
    };
    if let Some(p) = ctx.prior(&step.id).map(|o| o.id.clone()) {
        let r = found(ctx.ec2.describe_security_group_rules().security_group_rule_ids(&p).send().await)?;
        if r.is_some_and(|o| o.security_group_rules().iter().any(|r| rule_matches(r, &spec))) {
            adopted(ctx, &step.id, &p);
            ctx.record(&step.id, with(out(&p), "groupId", &group));
            return Ok(());
        }
        ctx.forget(&step.id);
    }
    let id = match find_rule(ctx, &spec).await? {
        Some(id) => {
            adopted(ctx, &step.id, &id);
            id
        }
        None => {
            let mut perm = IpPermission::builder().ip_protocol(protocol).from_port(from).to_port(to);
            if let Some(g) = &spec.source_group {
                perm = perm.user_id_group_pairs(UserIdGroupPair::builder().group_id(g).description(description).build());
            }
            if let Some(c) = &spec.source_cidr {
                perm = perm.ip_ranges(IpRange::builder().cidr_ip(c).description(description).build());
            }
            let r = ctx
                .ec2
                .authorize_security_group_ingress()
                .group_id(&group)
                .ip_permissions(perm.build())
                .tag_specifications(tag_spec(ctx, ResourceType::SecurityGroupRule, &step.id, &[]))
                .send()
                .await;
            match r {
                Ok(o) => {
                    let id = match o.security_group_rules().iter().find_map(|r| r.security_group_rule_id().map(str::to_string)) {
                        Some(id) => id,
                        None => find_rule(ctx, &spec).await?.ok_or_else(|| missing_id("security group rule"))?,
                    };
                    created(ctx, &step.id, &id);
                    id
                }
                // A concurrent or earlier identical rule: adopt it.
                Err(e) if code(&e) == "InvalidPermission.Duplicate" => {
                    let id = find_rule(ctx, &spec).await?.ok_or_else(|| aws_err(e))?;
                    adopted(ctx, &step.id, &id);
                    id
                }
                Err(e) => return Err(aws_err(e)),
            }
        }
    };
    ctx.record(&step.id, with(out(&id), "groupId", &group));
    Ok(())
}

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

/// `com.amazonaws.<region>.<svc>` (`cn.com.amazonaws...` in the China regions).
pub(crate) fn endpoint_service(region: &str, svc: &str) -> String {
    if region.starts_with("cn-") {
        format!("cn.com.amazonaws.{region}.{svc}")
    } else {
        format!("com.amazonaws.{region}.{svc}")
    }
}

pub(crate) async fn gateway_endpoint(ctx: &Ctx, step: &Step, service: &str, route_tables: &[String]) -> Result<(), StepError> {
    let vpc_id = ctx.dep_id("vpc", &step.id)?;
    let rtbs = route_tables.iter().map(|r| ctx.dep_id(r, &step.id)).collect::<Result<Vec<_>, _>>()?;
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
            let o = ctx
                .ec2
                .create_vpc_endpoint()
                .vpc_id(&vpc_id)
                .service_name(endpoint_service(ctx.region(), service))
                .vpc_endpoint_type(VpcEndpointType::Gateway)
                .set_route_table_ids(Some(rtbs))
                .client_token(ctx.token(step))
                .tag_specifications(tag_spec(ctx, ResourceType::VpcEndpoint, &step.id, &[]))
                .send()
                .await
                .map_err(aws_err)?;
            let id = o.vpc_endpoint.and_then(|e| e.vpc_endpoint_id).ok_or_else(|| missing_id("VPC endpoint"))?;
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
            let o = ctx
                .ec2
                .create_vpc_endpoint()
                .vpc_id(&vpc_id)
                .service_name(endpoint_service(ctx.region(), service))
                .vpc_endpoint_type(VpcEndpointType::Interface)
                .set_subnet_ids(Some(subnet_ids))
                .security_group_ids(&sg)
                .private_dns_enabled(true)
                .client_token(ctx.token(step))
                .tag_specifications(tag_spec(ctx, ResourceType::VpcEndpoint, &step.id, &[]))
                .send()
                .await
                .map_err(aws_err)?;
            let id = o.vpc_endpoint.and_then(|e| e.vpc_endpoint_id).ok_or_else(|| missing_id("VPC endpoint"))?;
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
    let user_data = userdata::render(&lt.ami_family, join.as_ref(), lt.user_data.as_deref()).map(aws_smithy_types::base64::encode);
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
    let o = ctx
        .ec2
        .create_launch_template()
        .launch_template_name(&lt.name)
        .version_description("secure-eks")
        .client_token(ctx.token(step))
        .launch_template_data(want.data)
        .tag_specifications(tag_spec(ctx, ResourceType::LaunchTemplate, &step.id, &[]))
        .send()
        .await
        .map_err(aws_err)?;
    let t = o.launch_template.ok_or_else(|| missing_id("launch template"))?;
    created(ctx, &step.id, t.launch_template_id().unwrap_or_default());
    ctx.record(&step.id, lt_output(&t)?);
    Ok(())
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

/// Delete the ENIs that `name`=`value` (`group-id` or `subnet-id`) still has and that nobody
/// uses, and wait (up to [`ENI_DRAIN_TIMEOUT`]) for the ones in use (EKS control plane, VPC CNI,
/// endpoints) to be released by their owners.
async fn drain_enis(ctx: &Ctx, name: &str, value: &str) -> Result<(), StepError> {
    let what = format!("network interfaces with {name}={value} to be released");
    let r = poll(ctx, &what, ENI_DRAIN_TIMEOUT, || async {
        let o = found(ctx.ec2.describe_network_interfaces().filters(filter(name, value)).send().await)?;
        let enis = o.map(|o| o.network_interfaces.unwrap_or_default()).unwrap_or_default();
        let mut in_use = 0;
        for eni in &enis {
            let available = eni.status().is_some_and(|s| s.as_str() == "available");
            match (available, eni.network_interface_id()) {
                (true, Some(id)) => {
                    ctx.say(format!("deleting leftover network interface {id} ({name}={value})"));
                    gone(ctx.ec2.delete_network_interface().network_interface_id(id).send().await)?;
                }
                _ => in_use += 1,
            }
        }
        Ok((in_use == 0).then_some(()))
    })
    .await;
    match r {
        // Let the delete call report the real DependencyViolation.
        Err(StepError::Invalid(m)) => {
            ctx.say(format!("warning: {m}"));
            Ok(())
        }
        other => other,
    }
}

/// How long a delete keeps retrying while AWS answers `DependencyViolation` (something still uses
/// the resource: an ENI on its way out, a rule of another group, a mapping being released).
pub(crate) const DEPENDENCY_BUDGET: Duration = Duration::from_secs(10 * 60);

/// Run a delete call until it stops answering `DependencyViolation` (within
/// [`DEPENDENCY_BUDGET`]); "not found" is success.
async fn delete_when_free<T, E, F, Fut>(ctx: &Ctx, what: &str, mut call: F) -> Result<(), StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error,
{
    let last = std::sync::Mutex::new(String::new());
    let r = poll(ctx, &format!("{what} to lose its dependencies"), DEPENDENCY_BUDGET, || {
        let fut = call();
        let last = &last;
        async move {
            match fut.await {
                Ok(_) => Ok(Some(())),
                Err(e) if code(&e) == "DependencyViolation" => {
                    *last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = e.message().unwrap_or_default().to_string();
                    Ok(None)
                }
                Err(e) => gone(Err::<T, E>(e)).map(Some),
            }
        }
    })
    .await;
    let last = last.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    match r {
        Err(StepError::Invalid(m)) if !last.is_empty() => Err(StepError::Invalid(format!("{m}: DependencyViolation: {last}"))),
        r => r,
    }
}

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
    ctx.wait(ctx.ec2.wait_until_nat_gateway_deleted().nat_gateway_ids(&o.id).wait(NAT_TIMEOUT)).await?;
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

pub(crate) async fn delete_sg(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    drain_enis(ctx, "group-id", &o.id).await?;
    delete_when_free(ctx, &format!("security group {}", o.id), || ctx.ec2.delete_security_group().group_id(&o.id).send()).await
}

pub(crate) async fn delete_rule(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    let Some(group) = o.extra.get("groupId") else { return Ok(()) };
    let r = ctx.ec2.revoke_security_group_ingress().group_id(group).security_group_rule_ids(&o.id).send().await;
    match r {
        Err(e) if code(&e) == "InvalidPermission.NotFound" || code(&e).starts_with("InvalidGroup") => Ok(()),
        r => gone(r),
    }
}

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

pub(crate) async fn delete_lt(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    gone(ctx.ec2.delete_launch_template().launch_template_id(&o.id).send().await)
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

pub(crate) async fn refresh_sg(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(find_sg(ctx, Some(o.id.clone()), "").await?.map(|_| o.clone()))
}

pub(crate) async fn refresh_rule(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    let r = found(ctx.ec2.describe_security_group_rules().security_group_rule_ids(&o.id).send().await)?;
    Ok(r.filter(|r| !r.security_group_rules().is_empty()).map(|_| o.clone()))
}

pub(crate) async fn refresh_vpce(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(find_vpce(ctx, Some(o.id.clone()), "").await?.map(|_| o.clone()))
}

pub(crate) async fn refresh_lt(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    find_lt(ctx, Some(o.id.clone()), "").await?.map(|t| lt_output(&t)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names() {
        assert_eq!(endpoint_service("us-east-1", "ecr.api"), "com.amazonaws.us-east-1.ecr.api");
        assert_eq!(endpoint_service("cn-north-1", "s3"), "cn.com.amazonaws.cn-north-1.s3");
    }

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
