//! IAM steps: roles (trust policy with the OIDC placeholders filled in, managed policies, an
//! inline policy, a permissions boundary) and the cluster's OIDC provider.

use std::time::Duration;

use aws_sdk_iam::client::Waiters;
use aws_sdk_iam::types::Tag;
use secure_eks_core::plan::{Step, StepOutput};

use crate::ctx::{aws_err, found, gone, out_arn, with, Ctx, StepError, TAG_CLUSTER};

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

/// A role step: adopt the role by name or create it, then converge the trust policy, managed
/// policies, inline policy and boundary (all idempotent).
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
    let existing = found(ctx.iam.get_role().role_name(name).send().await)?.and_then(|o| o.role);
    let r = match existing {
        Some(r) => {
            let owner = r.tags().iter().find(|t| t.key() == TAG_CLUSTER).map(|t| t.value());
            ctx.check_owner(&format!("IAM role {name}"), owner)?;
            ctx.say(format!("{}: adopted role {name}", step.id));
            ctx.record(&step.id, role_output(&r));
            // The trust policy may name an OIDC provider that was re-created.
            ctx.iam.update_assume_role_policy().role_name(name).policy_document(&trust).send().await.map_err(aws_err)?;
            r
        }
        None => {
            ctx.forget(&step.id);
            let o = ctx
                .iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(&trust)
                .description(format!("secure-eks {}: {}", ctx.cluster(), step.id))
                .set_permissions_boundary(boundary.map(str::to_string))
                .set_tags(Some(tags(ctx, &step.id)?))
                .send()
                .await
                .map_err(aws_err)?;
            let r = o.role.ok_or_else(|| StepError::Invalid("CreateRole returned no role".into()))?;
            ctx.say(format!("{}: created role {name}", step.id));
            ctx.record(&step.id, role_output(&r));
            ctx.wait(ctx.iam.wait_until_role_exists().role_name(name).wait(ROLE_VISIBLE_TIMEOUT)).await?;
            r
        }
    };
    let attached = ctx.iam.list_attached_role_policies().role_name(name).max_items(1000).send().await.map_err(aws_err)?;
    for p in managed {
        let arn = p.replace("${partition}", ctx.partition());
        if attached.attached_policies().iter().any(|a| a.policy_arn() == Some(arn.as_str())) {
            continue;
        }
        ctx.iam.attach_role_policy().role_name(name).policy_arn(&arn).send().await.map_err(aws_err)?;
    }
    if let Some(doc) = inline {
        let doc = fill(ctx, &step.id, doc)?;
        ctx.iam.put_role_policy().role_name(name).policy_name(INLINE_POLICY_NAME).policy_document(doc).send().await.map_err(aws_err)?;
    }
    if let Some(b) = boundary {
        let current = r.permissions_boundary().and_then(|p| p.permissions_boundary_arn());
        if current != Some(b) {
            ctx.iam.put_role_permissions_boundary().role_name(name).permissions_boundary(b).send().await.map_err(aws_err)?;
        }
    }
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
        if p.ends_with(&suffix) && found(ctx.iam.get_open_id_connect_provider().open_id_connect_provider_arn(&p).send().await)?.is_some() {
            ctx.say(format!("{}: adopted {p}", step.id));
            ctx.record(&step.id, with(out_arn(&p, Some(p.clone())), "issuer", &url));
            return Ok(());
        }
        ctx.forget(&step.id);
    }
    let list = ctx.iam.list_open_id_connect_providers().send().await.map_err(aws_err)?;
    let existing = list.open_id_connect_provider_list().iter().filter_map(|p| p.arn()).find(|a| a.ends_with(&suffix)).map(str::to_string);
    let arn = match existing {
        Some(a) => {
            ctx.say(format!("{}: adopted {a}", step.id));
            a
        }
        None => {
            let o = ctx
                .iam
                .create_open_id_connect_provider()
                .url(&url)
                .client_id_list(OIDC_CLIENT_ID)
                .set_tags(Some(tags(ctx, &step.id)?))
                .send()
                .await
                .map_err(aws_err)?;
            let a = o.open_id_connect_provider_arn.ok_or_else(|| StepError::Invalid("CreateOpenIDConnectProvider returned no ARN".into()))?;
            ctx.say(format!("{}: created {a}", step.id));
            a
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
