//! What Kubernetes, EKS and GuardDuty leave in the cluster's VPC, deleted by destroy as eksctl
//! does, between the cluster's deletion and the network's.
//!
//! - **Load balancers and target groups** (ELBv2) that the AWS Load Balancer Controller (tag
//!   `elbv2.k8s.aws/cluster=<name>`, kubernetes-sigs/aws-load-balancer-controller
//!   pkg/deploy/tracking) or the in-tree cloud provider (tag `kubernetes.io/cluster/<name>=owned`)
//!   made for `Service type=LoadBalancer` and Ingress objects. The DeleteCluster API says they are
//!   orphaned when the services are not deleted first, and block the VPC's deletion
//!   (https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteCluster.html); eksctl deletes
//!   them and then the orphaned security groups tagged for the cluster (eksctl pkg/elb/cleanup.go).
//! - **Security groups** tagged for this cluster: the controller's (`elbv2.k8s.aws/cluster`), and
//!   `kubernetes.io/cluster/<name>=owned` (the EKS cluster security group when EKS left it,
//!   aws/aws-cdk#14456; the in-tree provider's `k8s-elb-*`). `shared` means "not the cluster's
//!   alone" in the Kubernetes tag convention and is never deleted; neither is a group this stack
//!   recorded (its own step deletes it). Rules of our groups that reference a leftover group
//!   (the controller's ingress rule on the node group's SG) are revoked first.
//! - **GuardDuty Runtime Monitoring's** `com.amazonaws.<region>.guardduty-data` interface
//!   endpoint and its security group (tag `GuardDutyManaged`), which GuardDuty deletes only when
//!   Runtime Monitoring is disabled and which block the subnets
//!   (https://docs.aws.amazon.com/guardduty/latest/ug/using-iac-with-gdu-automated-agents-runtime-monitoring.html).
//!   Only in a VPC this stack created: in the user's VPC it serves the whole VPC and is kept.
//!
//! Deleting a leftover waits for it to go (the load balancer, the endpoint) and then for the
//! network interfaces of its security group ([`ec2::delete_sg`]). Anything else in a VPC this
//! stack created (not tagged for this cluster) is never deleted: before DeleteVpc,
//! [`check_vpc_free`] names it in the error instead of waiting out `DependencyViolation`.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_ec2::types::{Filter, IpPermission, SecurityGroup, UserIdGroupPair};

use crate::ctx::{aws_err, found, gone, out, poll, Ctx, StepError};
use crate::ec2;

/// The destroy graph's node that deletes the leftovers: after the cluster and its node groups,
/// before the VPC, its subnets and security groups.
pub(crate) const LEFTOVERS: &str = "leftovers";

/// How long a deleted load balancer may take to go.
const LB_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The AWS Load Balancer Controller's tag key (its value is the cluster name).
const TAG_LBC: &str = "elbv2.k8s.aws/cluster";
/// GuardDuty's tag key on what Runtime Monitoring makes.
const TAG_GUARDDUTY: &str = "GuardDutyManaged";

fn filter(name: &str, value: impl Into<String>) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// Whether tags say the resource belongs to cluster `cluster` alone.
fn tagged_for<'a>(mut tags: impl Iterator<Item = (&'a str, &'a str)>, cluster: &str) -> bool {
    let k8s = format!("kubernetes.io/cluster/{cluster}");
    tags.any(|(k, v)| (k == TAG_LBC && v == cluster) || (k == k8s && v == "owned"))
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
}

fn sg_label(g: &SecurityGroup) -> String {
    format!("security group {} ({})", g.group_id().unwrap_or_default(), g.group_name().unwrap_or_default())
}

/// Every security group of `vpc`.
async fn security_groups(ctx: &Ctx, vpc: &str) -> Result<Vec<SecurityGroup>, StepError> {
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let o = ctx.ec2.describe_security_groups().filters(filter("vpc-id", vpc)).set_next_token(token).send().await.map_err(aws_err)?;
        all.extend(o.security_groups().iter().cloned());
        token = o.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(all);
        }
    }
}

/// ELBv2 load balancers of `vpc`: (arn, name).
async fn load_balancers(ctx: &Ctx, vpc: &str) -> Result<Vec<(String, String)>, StepError> {
    let mut all = Vec::new();
    let mut marker = None;
    loop {
        let o = ctx.elbv2.describe_load_balancers().set_marker(marker).send().await.map_err(aws_err)?;
        for lb in o.load_balancers() {
            if lb.vpc_id() == Some(vpc) {
                if let Some(arn) = lb.load_balancer_arn() {
                    all.push((arn.to_string(), lb.load_balancer_name().unwrap_or_default().to_string()));
                }
            }
        }
        marker = o.next_marker().map(str::to_string);
        if marker.is_none() {
            return Ok(all);
        }
    }
}

/// ELBv2 target groups of `vpc`: (arn, name).
async fn target_groups(ctx: &Ctx, vpc: &str) -> Result<Vec<(String, String)>, StepError> {
    let mut all = Vec::new();
    let mut marker = None;
    loop {
        let o = ctx.elbv2.describe_target_groups().set_marker(marker).send().await.map_err(aws_err)?;
        for tg in o.target_groups() {
            if tg.vpc_id() == Some(vpc) {
                if let Some(arn) = tg.target_group_arn() {
                    all.push((arn.to_string(), tg.target_group_name().unwrap_or_default().to_string()));
                }
            }
        }
        marker = o.next_marker().map(str::to_string);
        if marker.is_none() {
            return Ok(all);
        }
    }
}

/// The ELBv2 resources among `arns` tagged for this cluster (DescribeTags takes 20 at a time).
async fn elbv2_tagged_for(ctx: &Ctx, arns: &[(String, String)]) -> Result<Vec<(String, String)>, StepError> {
    let mut mine = BTreeSet::new();
    for chunk in arns.chunks(20) {
        let o = ctx.elbv2.describe_tags().set_resource_arns(Some(chunk.iter().map(|(a, _)| a.clone()).collect())).send().await;
        let Some(o) = found(o)? else { continue };
        for d in o.tag_descriptions() {
            let tags = d.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()));
            if tagged_for(tags, ctx.cluster()) {
                mine.insert(d.resource_arn().unwrap_or_default().to_string());
            }
        }
    }
    Ok(arns.iter().filter(|(a, _)| mine.contains(a)).cloned().collect())
}

/// The ids this stack still records (its own resources, deleted by their own steps).
fn recorded(ctx: &Ctx) -> BTreeSet<String> {
    ctx.outputs().values().map(|o| o.id.clone()).collect()
}

/// Delete what Kubernetes, EKS and GuardDuty left in the cluster's VPC (see the module docs).
pub(crate) async fn delete_leftovers(ctx: &Ctx) -> Result<(), StepError> {
    let Some(vpc) = ctx.get("vpc") else { return Ok(()) };
    let users_vpc = crate::apply::is_existing(&ctx.plan, "vpc", &vpc);
    let vpc = vpc.id;
    let cluster = ctx.cluster().to_string();
    // Only once the cluster is gone (destroy deletes it first): while it runs, what Kubernetes
    // made is in use (e.g. a destroy of parts an update no longer needs).
    if found(ctx.eks.describe_cluster().name(&cluster).send().await)?.is_some() {
        ctx.say(format!("{LEFTOVERS}: cluster {cluster} still exists; what Kubernetes made in {vpc} is kept"));
        return Ok(());
    }
    let ours = recorded(ctx);

    // Load balancers first (their listeners go with them), then their target groups.
    let lbs = elbv2_tagged_for(ctx, &load_balancers(ctx, &vpc).await?).await?;
    for (arn, name) in &lbs {
        ctx.say(format!("{LEFTOVERS}: deleting load balancer {name} that Kubernetes left in {vpc}"));
        gone(ctx.elbv2.delete_load_balancer().load_balancer_arn(arn).send().await)?;
    }
    for (arn, name) in &lbs {
        poll(ctx, &format!("load balancer {name} to be deleted"), LB_TIMEOUT, || async {
            let o = found(ctx.elbv2.describe_load_balancers().load_balancer_arns(arn).send().await)?;
            Ok(o.is_none_or(|o| o.load_balancers().is_empty()).then_some(()))
        })
        .await?;
    }
    for (arn, name) in elbv2_tagged_for(ctx, &target_groups(ctx, &vpc).await?).await? {
        ctx.say(format!("{LEFTOVERS}: deleting target group {name} that Kubernetes left in {vpc}"));
        gone(ctx.elbv2.delete_target_group().target_group_arn(&arn).send().await)?;
    }

    // GuardDuty's endpoint, in a VPC of ours only.
    let service = ec2::endpoint_service(ctx.region(), "guardduty-data");
    let o = ctx.ec2.describe_vpc_endpoints().filters(filter("vpc-id", &vpc)).filters(filter("service-name", &service)).send().await.map_err(aws_err)?;
    for e in o.vpc_endpoints() {
        let (Some(id), state) = (e.vpc_endpoint_id(), e.state().map(|s| s.as_str().to_ascii_lowercase()).unwrap_or_default()) else { continue };
        if ours.contains(id) || state == "deleted" || !e.tags().iter().any(|t| t.key() == Some(TAG_GUARDDUTY)) {
            continue;
        }
        if users_vpc {
            ctx.say(format!("{LEFTOVERS}: GuardDuty's endpoint {id} in your VPC {vpc} is kept (it serves the whole VPC)"));
            continue;
        }
        ctx.say(format!("{LEFTOVERS}: deleting GuardDuty's endpoint {id} in {vpc}"));
        ec2::delete_vpce(ctx, &out(id)).await?;
    }

    // Security groups tagged for this cluster (and GuardDuty's, in a VPC of ours).
    let groups = security_groups(ctx, &vpc).await?;
    let leftover: Vec<&SecurityGroup> = groups
        .iter()
        .filter(|g| g.group_id().is_some_and(|id| !ours.contains(id)) && g.group_name() != Some("default"))
        .filter(|g| tagged_for(ec2_tags(g.tags()), &cluster) || (!users_vpc && g.tags().iter().any(|t| t.key() == Some(TAG_GUARDDUTY))))
        .collect();
    let leftover_ids: BTreeSet<&str> = leftover.iter().filter_map(|g| g.group_id()).collect();
    // Rules that reference a leftover group: revoked on our groups and on the leftovers; a rule
    // of anyone else's group is theirs, and named.
    let mut foreign = Vec::new();
    for g in &groups {
        let Some(gid) = g.group_id() else { continue };
        for (egress, perms) in [(false, g.ip_permissions()), (true, g.ip_permissions_egress())] {
            for p in perms {
                for pair in p.user_id_group_pairs() {
                    let Some(target) = pair.group_id().filter(|t| leftover_ids.contains(t) && *t != gid) else { continue };
                    if !(ours.contains(gid) || leftover_ids.contains(gid)) {
                        foreign.push(format!("{} has a rule that references {target}", sg_label(g)));
                        continue;
                    }
                    let perm = IpPermission::builder()
                        .set_ip_protocol(p.ip_protocol().map(str::to_string))
                        .set_from_port(p.from_port())
                        .set_to_port(p.to_port())
                        .user_id_group_pairs(UserIdGroupPair::builder().group_id(target).build())
                        .build();
                    ctx.say(format!("{LEFTOVERS}: revoking the rule of {gid} that references {target}"));
                    // A rule already gone (InvalidPermission.NotFound) counts as revoked.
                    if egress {
                        gone(ctx.ec2.revoke_security_group_egress().group_id(gid).ip_permissions(perm).send().await)?;
                    } else {
                        gone(ctx.ec2.revoke_security_group_ingress().group_id(gid).ip_permissions(perm).send().await)?;
                    }
                }
            }
        }
    }
    if !foreign.is_empty() {
        return Err(StepError::Invalid(format!(
            "security groups that Kubernetes left for cluster {cluster} are still referenced by groups this stack did not create: {}; fix: remove those rules, then run destroy again",
            foreign.join("; ")
        )));
    }
    for g in leftover {
        let id = g.group_id().unwrap_or_default();
        ctx.say(format!("{LEFTOVERS}: deleting {} left in {vpc}", sg_label(g)));
        ec2::delete_sg(ctx, &out(id)).await?;
    }
    Ok(())
}

/// Before DeleteVpc of a VPC this stack created: anything still in it that this stack may not
/// delete (not recorded, not tagged for this cluster) is named in the error, rather than waiting
/// out `DependencyViolation` (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpc.html:
/// every subnet, security group, gateway, endpoint and route table must go first).
pub(crate) async fn check_vpc_free(ctx: &Ctx, vpc: &str) -> Result<(), StepError> {
    let ours = recorded(ctx);
    let mut blockers = Vec::new();
    for g in security_groups(ctx, vpc).await? {
        if g.group_name() != Some("default") && g.group_id().is_some_and(|id| !ours.contains(id)) {
            blockers.push(sg_label(&g));
        }
    }
    let o = ctx.ec2.describe_subnets().filters(filter("vpc-id", vpc)).send().await.map_err(aws_err)?;
    for s in o.subnets() {
        if let Some(id) = s.subnet_id().filter(|id| !ours.contains(*id)) {
            blockers.push(format!("subnet {id}"));
        }
    }
    let o = ctx.ec2.describe_vpc_endpoints().filters(filter("vpc-id", vpc)).send().await.map_err(aws_err)?;
    for e in o.vpc_endpoints() {
        let state = e.state().map(|s| s.as_str().to_ascii_lowercase()).unwrap_or_default();
        if let Some(id) = e.vpc_endpoint_id().filter(|id| !ours.contains(*id) && !matches!(state.as_str(), "deleted" | "deleting")) {
            blockers.push(format!("VPC endpoint {id} ({})", e.service_name().unwrap_or_default()));
        }
    }
    let o = ctx.ec2.describe_nat_gateways().filter(filter("vpc-id", vpc)).send().await.map_err(aws_err)?;
    for n in o.nat_gateways() {
        let state = n.state().map(|s| s.as_str().to_string()).unwrap_or_default();
        if let Some(id) = n.nat_gateway_id().filter(|id| !ours.contains(*id) && !matches!(state.as_str(), "deleted" | "deleting" | "failed")) {
            blockers.push(format!("NAT gateway {id}"));
        }
    }
    let o = ctx.ec2.describe_internet_gateways().filters(filter("attachment.vpc-id", vpc)).send().await.map_err(aws_err)?;
    for g in o.internet_gateways() {
        if let Some(id) = g.internet_gateway_id().filter(|id| !ours.contains(*id)) {
            blockers.push(format!("internet gateway {id}"));
        }
    }
    let o = ctx.ec2.describe_route_tables().filters(filter("vpc-id", vpc)).send().await.map_err(aws_err)?;
    for rt in o.route_tables() {
        let main = rt.associations().iter().any(|a| a.main() == Some(true));
        if let Some(id) = rt.route_table_id().filter(|id| !main && !ours.contains(*id)) {
            blockers.push(format!("route table {id}"));
        }
    }
    for (_, name) in load_balancers(ctx, vpc).await? {
        blockers.push(format!("load balancer {name}"));
    }
    if blockers.is_empty() {
        return Ok(());
    }
    let cluster = ctx.cluster();
    Err(StepError::Invalid(format!(
        "VPC {vpc} still holds resources this stack did not create: {}. They are not tagged for cluster {cluster} \
         (kubernetes.io/cluster/{cluster}=owned or {TAG_LBC}={cluster}), so destroy does not delete them; \
         fix: delete them or move them out of the VPC, then run destroy again",
        blockers.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_resources_of_this_cluster_alone_are_leftovers() {
        let t = |pairs: &[(&'static str, &'static str)]| tagged_for(pairs.iter().copied(), "demo");
        assert!(t(&[("elbv2.k8s.aws/cluster", "demo")]));
        assert!(t(&[("kubernetes.io/cluster/demo", "owned")]));
        assert!(!t(&[("kubernetes.io/cluster/demo", "shared")]), "shared is not the cluster's alone");
        assert!(!t(&[("elbv2.k8s.aws/cluster", "demo2")]));
        assert!(!t(&[("kubernetes.io/cluster/demo2", "owned")]));
        assert!(!t(&[("Name", "demo")]));
    }
}
