//! IAM steps: roles (trust policy with the OIDC placeholders filled in, managed policies, an
//! inline policy, a permissions boundary) and the cluster's OIDC provider.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_iam::client::Waiters;
use aws_sdk_iam::types::Tag;
use secure_eks_core::plan::{Step, StepOutput};

use crate::ctx::{aws_err, code, found, gone, out_arn, with, Ctx, StepError, TAG_CLUSTER};
use crate::drift;

/// How long to wait for a new role to be visible to IAM reads.
pub(crate) const ROLE_VISIBLE_TIMEOUT: Duration = Duration::from_secs(2 * 60);
/// The name of the inline policy a role step puts.
pub(crate) const INLINE_POLICY_NAME: &str = "secure-eks";
/// The audience of the OIDC provider (IRSA).
pub(crate) const OIDC_CLIENT_ID: &str = "sts.amazonaws.com";

fn tags(ctx: &Ctx, step: &str) -> Result<Vec<Tag>, StepError> {
    ctx.tags(step)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| StepError::Invalid(e.to_string())))
        .collect()
}

/// The issuer URL without `https://` (what IAM conditions and provider ARNs use).
pub(crate) fn issuer_host(url: &str) -> &str {
    url.strip_prefix("https://").unwrap_or(url)
}

/// Fill in `${partition}`, and `${oidc_provider_arn}` / `${oidc_issuer_host}` from the OIDC and
/// cluster steps (only looked up when the document uses them).
fn fill(ctx: &Ctx, step: &str, doc: &str) -> Result<String, StepError> {
    let mut s = doc.replace("${partition}", ctx.partition());
    if s.contains("${oidc_provider_arn}") {
        s = s.replace("${oidc_provider_arn}", &ctx.dep_arn("oidc", step)?);
    }
    if s.contains("${oidc_issuer_host}") {
        let c = ctx.dep("cluster", step)?;
        let url = c.extra.get("oidcIssuerUrl").ok_or_else(|| StepError::Invalid(format!("the cluster has no OIDC issuer (needed by {step})")))?;
        s = s.replace("${oidc_issuer_host}", issuer_host(url));
    }
    Ok(s)
}

fn role_output(r: &aws_sdk_iam::types::Role) -> StepOutput {
    with(out_arn(r.role_name(), Some(r.arn().to_string())), "roleId", r.role_id())
}

/// `extra` key of a role output: the managed policy ARNs this provider attached (comma-separated).
pub(crate) const EXTRA_MANAGED_POLICIES: &str = "managedPolicies";
/// `extra` key of a role output: the permissions boundary this provider set.
pub(crate) const EXTRA_BOUNDARY: &str = "permissionsBoundary";

/// What earlier applies recorded under `key` for the role `name` (by any role step: the planner
/// names some roles by position, so a role can move between steps).
fn earlier(ctx: &Ctx, name: &str, key: &str) -> Vec<String> {
    ctx.prior_for("role/", name).iter().filter_map(|o| o.extra.get(key).cloned()).collect()
}

/// A role step: adopt the role by name or create it, then converge the trust policy, managed
/// policies, inline policy and boundary. Each is compared first, so a run with nothing to change
/// makes no mutating call. Managed policies and a boundary that an earlier apply set and the plan
/// no longer lists are removed (the earlier set is recorded in the step output); ones attached by
/// someone else are left alone. The inline policy has our name ([`INLINE_POLICY_NAME`]) and is
/// deleted when the plan has none.
pub(crate) async fn role(
    ctx: &Ctx,
    step: &Step,
    name: &str,
    trust_policy: &str,
    managed: &[String],
    inline: Option<&str>,
    boundary: Option<&str>,
) -> Result<(), StepError> {
    let trust = fill(ctx, &step.id, trust_policy)?;
    if let Some(old) = ctx.retire_if_renamed(&step.id, name) {
        ctx.say(format!("{}: role {} is replaced by {name}; it is deleted once the run is done", step.id, old.id));
    }
    let existing = found(ctx.iam.get_role().role_name(name).send().await)?.and_then(|o| o.role);
    let r = match existing {
        Some(r) => {
            let owner = r.tags().iter().find(|t| t.key() == TAG_CLUSTER).map(|t| t.value());
            ctx.check_owner(&format!("IAM role {name}"), owner)?;
            ctx.say(format!("{}: adopted role {name}", step.id));
            // Keep what earlier applies set until this one has converged.
            let mut o = role_output(&r);
            for k in [EXTRA_MANAGED_POLICIES, EXTRA_BOUNDARY] {
                if let Some(v) = earlier(ctx, name, k).first() {
                    o = with(o, k, v.clone());
                }
            }
            ctx.record(&step.id, o);
            // The trust policy may name an OIDC provider that was re-created, or a changed
            // service account.
            if !drift::same_policy(r.assume_role_policy_document(), &trust) {
                ctx.iam.update_assume_role_policy().role_name(name).policy_document(&trust).send().await.map_err(aws_err)?;
                ctx.say(format!("{}: updated the trust policy of role {name}", step.id));
            }
            r
        }
        None => {
            ctx.forget(&step.id);
            let created = ctx
                .iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(&trust)
                .description(format!("secure-eks {}: {}", ctx.cluster(), step.id))
                .set_permissions_boundary(boundary.map(str::to_string))
                .set_tags(Some(tags(ctx, &step.id)?))
                .send()
                .await;
            match created {
                Ok(o) => {
                    let r = o.role.ok_or_else(|| StepError::Invalid("CreateRole returned no role".into()))?;
                    ctx.say(format!("{}: created role {name}", step.id));
                    ctx.record(&step.id, role_output(&r));
                    ctx.wait(ctx.iam.wait_until_role_exists().role_name(name).wait(ROLE_VISIBLE_TIMEOUT)).await?;
                    r
                }
                // The SDK retried a CreateRole whose first answer was lost (a 5xx after IAM made
                // the role): the role is ours if it carries our tag, so this run goes on with it.
                Err(e) if code(&e) == "EntityAlreadyExists" => {
                    let r = found(ctx.iam.get_role().role_name(name).send().await)?.and_then(|o| o.role).ok_or_else(|| aws_err(e))?;
                    let owner = r.tags().iter().find(|t| t.key() == TAG_CLUSTER).map(|t| t.value());
                    ctx.check_owner(&format!("IAM role {name}"), owner)?;
                    ctx.say(format!("{}: adopted role {name} (its create was retried)", step.id));
                    ctx.record(&step.id, role_output(&r));
                    if !drift::same_policy(r.assume_role_policy_document(), &trust) {
                        ctx.iam.update_assume_role_policy().role_name(name).policy_document(&trust).send().await.map_err(aws_err)?;
                    }
                    r
                }
                Err(e) => return Err(aws_err(e)),
            }
        }
    };

    // ---- managed policies
    let want: Vec<String> = managed.iter().map(|p| p.replace("${partition}", ctx.partition())).collect();
    let attached = ctx.iam.list_attached_role_policies().role_name(name).max_items(1000).send().await.map_err(aws_err)?;
    let is_attached = |arn: &str| attached.attached_policies().iter().any(|a| a.policy_arn() == Some(arn));
    for arn in want.iter().filter(|a| !is_attached(a)) {
        ctx.iam.attach_role_policy().role_name(name).policy_arn(arn).send().await.map_err(aws_err)?;
    }
    let before: BTreeSet<String> = earlier(ctx, name, EXTRA_MANAGED_POLICIES).iter().flat_map(|v| v.split(',')).filter(|s| !s.is_empty()).map(str::to_string).collect();
    for arn in before.iter().filter(|a| !want.contains(a) && is_attached(a)) {
        // Not attached (any more) is done: a retried detach whose first answer was lost says so.
        gone(ctx.iam.detach_role_policy().role_name(name).policy_arn(arn).send().await)?;
        ctx.say(format!("{}: detached {arn} from role {name}", step.id));
    }

    // ---- inline policy
    let current = found(ctx.iam.get_role_policy().role_name(name).policy_name(INLINE_POLICY_NAME).send().await)?;
    match inline {
        Some(doc) => {
            let doc = fill(ctx, &step.id, doc)?;
            if !drift::same_policy(current.as_ref().map(|c| c.policy_document()), &doc) {
                ctx.iam.put_role_policy().role_name(name).policy_name(INLINE_POLICY_NAME).policy_document(doc).send().await.map_err(aws_err)?;
            }
        }
        None if current.is_some() => {
            ctx.iam.delete_role_policy().role_name(name).policy_name(INLINE_POLICY_NAME).send().await.map_err(aws_err)?;
            ctx.say(format!("{}: deleted the inline policy {INLINE_POLICY_NAME} of role {name}", step.id));
        }
        None => {}
    }

    // ---- permissions boundary
    let current = r.permissions_boundary().and_then(|p| p.permissions_boundary_arn());
    match boundary {
        Some(b) if current != Some(b) => {
            ctx.iam.put_role_permissions_boundary().role_name(name).permissions_boundary(b).send().await.map_err(aws_err)?;
        }
        Some(_) => {}
        None => {
            let ours = earlier(ctx, name, EXTRA_BOUNDARY);
            if let Some(c) = current {
                if ours.iter().any(|o| o == c) {
                    ctx.iam.delete_role_permissions_boundary().role_name(name).send().await.map_err(aws_err)?;
                    ctx.say(format!("{}: removed the permissions boundary {c} of role {name}", step.id));
                }
            }
        }
    }

    let mut o = with(role_output(&r), EXTRA_MANAGED_POLICIES, want.join(","));
    if let Some(b) = boundary {
        o = with(o, EXTRA_BOUNDARY, b);
    }
    ctx.record(&step.id, o);
    Ok(())
}

pub(crate) async fn delete_role(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    let name = o.id.as_str();
    let Some(attached) = found(ctx.iam.list_attached_role_policies().role_name(name).max_items(1000).send().await)? else { return Ok(()) };
    for p in attached.attached_policies() {
        if let Some(arn) = p.policy_arn() {
            gone(ctx.iam.detach_role_policy().role_name(name).policy_arn(arn).send().await)?;
        }
    }
    if let Some(inline) = found(ctx.iam.list_role_policies().role_name(name).max_items(1000).send().await)? {
        for p in inline.policy_names() {
            gone(ctx.iam.delete_role_policy().role_name(name).policy_name(p).send().await)?;
        }
    }
    if let Some(profiles) = found(ctx.iam.list_instance_profiles_for_role().role_name(name).max_items(1000).send().await)? {
        for p in profiles.instance_profiles() {
            gone(ctx.iam.remove_role_from_instance_profile().role_name(name).instance_profile_name(p.instance_profile_name()).send().await)?;
        }
    }
    gone(ctx.iam.delete_role().role_name(name).send().await)
}

pub(crate) async fn refresh_role(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(found(ctx.iam.get_role().role_name(&o.id).send().await)?.and_then(|r| r.role).map(|r| role_output(&r)))
}

/// The OIDC provider for the cluster's issuer. No thumbprint is sent: IAM no longer needs one
/// for OIDC providers and, when none is given, takes the issuer's top intermediate CA itself
/// (IAM CreateOpenIDConnectProvider: "ThumbprintList ... optional"); a made-up thumbprint would
/// only be wrong.
pub(crate) async fn oidc_provider(ctx: &Ctx, step: &Step) -> Result<(), StepError> {
    let c = ctx.dep("cluster", &step.id)?;
    let url = c.extra.get("oidcIssuerUrl").cloned().ok_or_else(|| StepError::Invalid("the cluster has no OIDC issuer URL".into()))?;
    let suffix = format!("oidc-provider/{}", issuer_host(&url));
    if let Some(p) = ctx.prior(&step.id).map(|o| o.id.clone()) {
        if !p.ends_with(&suffix) {
            // The provider of an earlier cluster (deleted and re-created since, so its issuer
            // changed): retired, not forgotten, and deleted with the other orphans once the run
            // converged.
            ctx.retire(&step.id);
        } else if found(ctx.iam.get_open_id_connect_provider().open_id_connect_provider_arn(&p).send().await)?.is_some() {
            ctx.say(format!("{}: adopted {p}", step.id));
            ctx.record(&step.id, with(out_arn(&p, Some(p.clone())), "issuer", &url));
            return Ok(());
        } else {
            ctx.forget(&step.id);
        }
    }
    let list = ctx.iam.list_open_id_connect_providers().send().await.map_err(aws_err)?;
    let existing = list.open_id_connect_provider_list().iter().filter_map(|p| p.arn()).find(|a| a.ends_with(&suffix)).map(str::to_string);
    let arn = match existing {
        Some(a) => {
            ctx.say(format!("{}: adopted {a}", step.id));
            a
        }
        None => {
            let created = ctx
                .iam
                .create_open_id_connect_provider()
                .url(&url)
                .client_id_list(OIDC_CLIENT_ID)
                .set_tags(Some(tags(ctx, &step.id)?))
                .send()
                .await;
            match created {
                Ok(o) => {
                    let a = o.open_id_connect_provider_arn.ok_or_else(|| StepError::Invalid("CreateOpenIDConnectProvider returned no ARN".into()))?;
                    ctx.say(format!("{}: created {a}", step.id));
                    a
                }
                // A retried create whose first answer was lost: the provider for this cluster's
                // own issuer (unique to the cluster) exists now.
                Err(e) if code(&e) == "EntityAlreadyExists" => {
                    let list = ctx.iam.list_open_id_connect_providers().send().await.map_err(aws_err)?;
                    let a = list.open_id_connect_provider_list().iter().filter_map(|p| p.arn()).find(|a| a.ends_with(&suffix)).map(str::to_string).ok_or_else(|| aws_err(e))?;
                    ctx.say(format!("{}: adopted {a} (its create was retried)", step.id));
                    a
                }
                Err(e) => return Err(aws_err(e)),
            }
        }
    };
    ctx.record(&step.id, with(out_arn(&arn, Some(arn.clone())), "issuer", &url));
    Ok(())
}

pub(crate) async fn delete_oidc(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    gone(ctx.iam.delete_open_id_connect_provider().open_id_connect_provider_arn(&o.id).send().await)
}

pub(crate) async fn refresh_oidc(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(found(ctx.iam.get_open_id_connect_provider().open_id_connect_provider_arn(&o.id).send().await)?.map(|_| o.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_host_strips_the_scheme() {
        assert_eq!(issuer_host("https://oidc.eks.us-east-1.amazonaws.com/id/ABC"), "oidc.eks.us-east-1.amazonaws.com/id/ABC");
    }
}
