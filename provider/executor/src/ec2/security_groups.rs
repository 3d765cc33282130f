//! Security groups and their ingress rules; deletion and refresh.

use super::*;

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

/// The tag the AWS Load Balancer Controller looks for: when a node ENI has several security
/// groups, exactly one must carry `kubernetes.io/cluster/<cluster>` (it adds the load balancer's
/// ingress rules to that one), else it fails with "expect exactly one securityGroup tagged with
/// kubernetes.io/cluster/<name>". The node group is the one.
/// <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/subnet_discovery/>
/// and kubernetes-sigs/aws-load-balancer-controller#2902.
pub(crate) fn node_sg_cluster_tag(cluster: &str) -> (String, String) {
    (format!("kubernetes.io/cluster/{cluster}"), "owned".to_string())
}

pub(crate) async fn security_group(ctx: &Ctx, step: &Step, role: SgRole, description: &str) -> Result<(), StepError> {
    let vpc_id = ctx.dep_id("vpc", &step.id)?;
    let extra: Vec<(String, String)> = match role {
        SgRole::Node => vec![node_sg_cluster_tag(ctx.cluster())],
        SgRole::Cluster | SgRole::Endpoints => vec![],
    };
    let id = match locate(ctx, &step.id, |i| find_sg(ctx, i, &step.id)).await? {
        Some(g) => {
            let id = g.group_id.clone().ok_or_else(|| missing_id("security group"))?;
            adopted(ctx, &step.id, &id);
            // A group made before the tag existed gets it.
            let missing: Vec<Tag> = extra
                .iter()
                .filter(|(k, v)| !g.tags().iter().any(|t| t.key() == Some(k.as_str()) && t.value() == Some(v.as_str())))
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect();
            if !missing.is_empty() {
                ctx.ec2.create_tags().resources(&id).set_tags(Some(missing)).send().await.map_err(aws_err)?;
            }
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
                .tag_specifications(tag_spec(ctx, ResourceType::SecurityGroup, &step.id, &extra))
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

/// `extra` key of a [`Source::VpcCidrs`] rule step: every rule id it made, comma-separated (the
/// output's id is the first).
pub(crate) const EXTRA_RULE_IDS: &str = "ruleIds";

/// The CIDR blocks of a VPC that are associated (or being associated).
pub(crate) async fn vpc_cidrs(ctx: &Ctx, vpc_id: &str) -> Result<Vec<String>, StepError> {
    let o = ctx.ec2.describe_vpcs().vpc_ids(vpc_id).send().await.map_err(aws_err)?;
    let mut cidrs: Vec<String> = o
        .vpcs()
        .iter()
        .flat_map(|v| v.cidr_block_association_set())
        .filter(|a| a.cidr_block_state().and_then(|s| s.state()).is_some_and(|s| matches!(s.as_str(), "associated" | "associating")))
        .filter_map(|a| a.cidr_block().map(str::to_string))
        .collect();
    if cidrs.is_empty() {
        cidrs.extend(o.vpcs().iter().filter_map(|v| v.cidr_block().map(str::to_string)));
    }
    cidrs.sort();
    cidrs.dedup();
    Ok(cidrs)
}

/// One rule per CIDR block of the VPC (adopted when it exists): the step for
/// [`Source::VpcCidrs`].
async fn vpc_cidr_rules(ctx: &Ctx, step: &Step, group: &str, protocol: &str, from: i32, to: i32, description: &str) -> Result<(), StepError> {
    let vpc_id = ctx.dep_id("vpc", &step.id)?;
    let mut ids = Vec::new();
    for cidr in vpc_cidrs(ctx, &vpc_id).await? {
        let spec = RuleSpec { group: group.to_string(), protocol: protocol.to_string(), from, to, source_group: None, source_cidr: Some(cidr.clone()) };
        let id = match find_rule(ctx, &spec).await? {
            Some(id) => {
                adopted(ctx, &step.id, &id);
                id
            }
            None => {
                let perm = IpPermission::builder()
                    .ip_protocol(protocol)
                    .from_port(from)
                    .to_port(to)
                    .ip_ranges(IpRange::builder().cidr_ip(&cidr).description(description).build())
                    .build();
                let r = ctx
                    .ec2
                    .authorize_security_group_ingress()
                    .group_id(group)
                    .ip_permissions(perm)
                    .tag_specifications(tag_spec(ctx, ResourceType::SecurityGroupRule, &step.id, &[]))
                    .send()
                    .await;
                let id = match r {
                    Ok(o) => match o.security_group_rules().iter().find_map(|r| r.security_group_rule_id().map(str::to_string)) {
                        Some(id) => id,
                        None => find_rule(ctx, &spec).await?.ok_or_else(|| missing_id("security group rule"))?,
                    },
                    Err(e) if code(&e) == "InvalidPermission.Duplicate" => find_rule(ctx, &spec).await?.ok_or_else(|| aws_err(e))?,
                    Err(e) => return Err(aws_err(e)),
                };
                created(ctx, &step.id, &id);
                id
            }
        };
        ids.push(id);
        // Recorded as it goes, so a failure later still reports the rules made so far.
        let first = ids.first().cloned().unwrap_or_default();
        ctx.record(&step.id, with(with(out(&first), "groupId", group), EXTRA_RULE_IDS, ids.join(",")));
    }
    if ids.is_empty() {
        return Err(StepError::Invalid(format!("the VPC {vpc_id} has no CIDR block")));
    }
    Ok(())
}

/// An ingress rule step (`step.action` is an [`Action::IngressRule`]).
pub(crate) async fn ingress_rule(ctx: &Ctx, step: &Step) -> Result<(), StepError> {
    let Action::IngressRule { on, protocol, from_port, to_port, source, description } = &step.action else {
        return Err(StepError::Invalid("not an ingress rule".into()));
    };
    let (on, protocol, from, to) = (*on, protocol.as_str(), *from_port, *to_port);
    let group = ctx.dep_id(sg_step(on), &step.id)?;
    if *source == Source::VpcCidrs {
        return vpc_cidr_rules(ctx, step, &group, protocol, from, to, description).await;
    }
    let spec = RuleSpec {
        group: group.clone(),
        protocol: protocol.to_string(),
        from,
        to,
        source_group: match source {
            Source::Sg(r) => Some(ctx.dep_id(sg_step(*r), &step.id)?),
            Source::Cidr(_) | Source::VpcCidrs => None,
        },
        source_cidr: match source {
            Source::Cidr(c) => Some(c.clone()),
            Source::Sg(_) | Source::VpcCidrs => None,
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

// ---------------------------------------------------------------- deletion

pub(crate) async fn delete_sg(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    drain_enis(ctx, "group-id", &o.id).await?;
    delete_when_free(ctx, &format!("security group {}", o.id), || ctx.ec2.delete_security_group().group_id(&o.id).send()).await
}

pub(crate) async fn delete_rule(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    let Some(group) = o.extra.get("groupId") else { return Ok(()) };
    let ids: Vec<String> = match o.extra.get(EXTRA_RULE_IDS) {
        Some(all) => all.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        None => vec![o.id.clone()],
    };
    // One at a time: a rule already gone must not keep the others.
    for id in ids {
        let r = ctx.ec2.revoke_security_group_ingress().group_id(group).security_group_rule_ids(&id).send().await;
        match r {
            Err(e) if code(&e) == "InvalidPermission.NotFound" || code(&e).starts_with("InvalidGroup") => {}
            r => gone(r)?,
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- refresh

pub(crate) async fn refresh_sg(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(find_sg(ctx, Some(o.id.clone()), "").await?.map(|_| o.clone()))
}

pub(crate) async fn refresh_rule(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    let r = found(ctx.ec2.describe_security_group_rules().security_group_rule_ids(&o.id).send().await)?;
    Ok(r.filter(|r| !r.security_group_rules().is_empty()).map(|_| o.clone()))
}
