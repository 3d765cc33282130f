//! EKS access entries and their access policies.

use super::*;


pub(crate) async fn access_entry(ctx: &Ctx, step: &Step, principal: &str, policy: &str, namespaces: &[String]) -> Result<(), StepError> {
    let cluster = ctx.dep_id("cluster", &step.id)?;
    if let Some(old) = ctx.retire_if_renamed(&step.id, principal) {
        ctx.say(format!("{}: the access entry for {} is replaced by one for {principal}; it is deleted once the run is done", step.id, old.id));
    }
    let existing = found(ctx.eks.describe_access_entry().cluster_name(&cluster).principal_arn(principal).send().await)?.and_then(|o| o.access_entry);
    let adopted = existing.is_some();
    let arn = match existing {
        Some(e) => {
            ctx.say(format!("{}: adopted access entry for {principal}", step.id));
            e.access_entry_arn
        }
        None => {
            let create = |token: String| {
                ctx.eks
                    .create_access_entry()
                    .cluster_name(&cluster)
                    .principal_arn(principal)
                    .set_tags(Some(eks_tags(ctx, &step.id)))
                    .client_request_token(token)
                    .send()
            };
            let principal_of = |e: &aws_sdk_eks::types::AccessEntry| e.principal_arn().map(str::to_string);
            let seen = |p: String| {
                let cluster = &cluster;
                async move {
                    let e = found(ctx.eks.describe_access_entry().cluster_name(cluster).principal_arn(&p).send().await)?;
                    Ok(if e.and_then(|o| o.access_entry).is_some() { Seen::Live } else { Seen::Missing })
                }
            };
            let attempt = |t: String| {
                let cluster = &cluster;
                async move {
                    match create(t).await {
                        Ok(o) => Ok(o.access_entry),
                        // See `lost_create`: the entry our lost call made.
                        Err(e) if super::lost_create::in_use(&e) => {
                            match found(ctx.eks.describe_access_entry().cluster_name(cluster).principal_arn(principal).send().await)?.and_then(|o| o.access_entry) {
                                Some(a) if super::lost_create::made_by_us(ctx, &step.id, a.tags()) => Ok(Some(a)),
                                _ => Err(aws_err(e)),
                            }
                        }
                        Err(e) => Err(aws_err(e)),
                    }
                }
            };
            let token = ctx.token_for(step, &[principal]);
            let entry = replay::create(ctx, step, "the access entry", token, attempt, |e: &Option<aws_sdk_eks::types::AccessEntry>| e.as_ref().and_then(principal_of), seen).await?;
            ctx.say(format!("{}: created access entry for {principal}", step.id));
            entry.and_then(|e| e.access_entry_arn)
        }
    };
    // The policies earlier applies associated with this principal (by any access step: the
    // planner numbers them by position, so a principal can move between steps).
    let earlier: BTreeSet<String> = ctx.prior_for("access/", principal).iter().filter_map(|o| o.extra.get("policy").cloned()).collect();
    let mut o = out_arn(principal, arn.clone());
    if let Some(p) = earlier.first() {
        o = with(o, "policy", p.clone());
    }
    ctx.record(&step.id, o);
    let scope = if namespaces.is_empty() {
        AccessScope::builder().r#type(AccessScopeType::Cluster).build()
    } else {
        AccessScope::builder().r#type(AccessScopeType::Namespace).set_namespaces(Some(namespaces.to_vec())).build()
    };
    let policy_arn = format!("arn:{}:eks::aws:cluster-access-policy/{policy}", ctx.partition());
    let associated = if adopted {
        ctx.eks.list_associated_access_policies().cluster_name(&cluster).principal_arn(principal).send().await.map_err(aws_err)?.associated_access_policies.unwrap_or_default()
    } else {
        Vec::new()
    };
    let same_scope = |s: Option<&AccessScope>| {
        s.is_some_and(|s| s.r#type() == scope.r#type() && s.namespaces().iter().collect::<BTreeSet<_>>() == scope.namespaces().iter().collect::<BTreeSet<_>>())
    };
    if !associated.iter().any(|a| a.policy_arn() == Some(policy_arn.as_str()) && same_scope(a.access_scope())) {
        // Also changes the scope of an association of the same policy.
        ctx.eks
            .associate_access_policy()
            .cluster_name(&cluster)
            .principal_arn(principal)
            .policy_arn(&policy_arn)
            .access_scope(scope.clone())
            .send()
            .await
            .map_err(aws_err)?;
    }
    // The policy an earlier apply associated and the plan no longer names (e.g. ClusterAdmin
    // lowered to View) must go, or the principal keeps it. Associations made by others stay.
    for old in earlier.iter().filter(|p| p.as_str() != policy) {
        let old_arn = format!("arn:{}:eks::aws:cluster-access-policy/{old}", ctx.partition());
        if associated.iter().any(|a| a.policy_arn() == Some(old_arn.as_str())) {
            ctx.eks
                .disassociate_access_policy()
                .cluster_name(&cluster)
                .principal_arn(principal)
                .policy_arn(&old_arn)
                .send()
                .await
                .map_err(aws_err)?;
            ctx.say(format!("{}: removed {old} from {principal}", step.id));
        }
    }
    ctx.record(&step.id, with(out_arn(principal, arn), "policy", policy));
    Ok(())
}

pub(crate) async fn delete_access_entry(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    gone(ctx.eks.delete_access_entry().cluster_name(ctx.cluster()).principal_arn(&o.id).send().await)
}

pub(crate) async fn refresh_access_entry(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(found(ctx.eks.describe_access_entry().cluster_name(ctx.cluster()).principal_arn(&o.id).send().await)?
        .and_then(|r| r.access_entry)
        .map(|_| o.clone()))
}
