//! The KMS key for Kubernetes secrets encryption: adopt by the prior id, the alias or the tags,
//! else create it with rotation on and an alias; delete = delete the alias and schedule deletion.

use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, Tag};
use secure_eks_core::plan::{Step, StepOutput};

use crate::ctx::{aws_err, code, found, gone, out_arn, with, Ctx, StepError, EXTRA_EXISTING, TAG_CLUSTER, TAG_STEP};
use crate::retry::throttling_only;

/// Days before a scheduled key deletion happens (the AWS minimum).
pub(crate) const KEY_DELETION_WINDOW_DAYS: i32 = 7;

async fn describe(ctx: &Ctx, key: &str) -> Result<Option<aws_sdk_kms::types::KeyMetadata>, StepError> {
    Ok(found(ctx.kms.describe_key().key_id(key).send().await)?.and_then(|o| o.key_metadata))
}

fn key_output(m: &aws_sdk_kms::types::KeyMetadata) -> StepOutput {
    out_arn(m.key_id(), m.arn().map(str::to_string))
}

/// An enabled key this step created but never aliased (the run stopped between CreateKey and
/// CreateAlias, or CreateKey's answer was lost), found by its `secure-eks:cluster` and
/// `secure-eks:step` tags. KMS cannot filter keys by tag, so this reads the tags of each key in the
/// region; it runs only when neither the prior id nor the alias finds the key.
async fn find_tagged(ctx: &Ctx, step: &Step) -> Result<Option<aws_sdk_kms::types::KeyMetadata>, StepError> {
    let mut keys = ctx.kms.list_keys().into_paginator().items().send();
    while let Some(k) = keys.next().await {
        let k = k.map_err(aws_err)?;
        let Some(id) = k.key_id() else { continue };
        let tags = match ctx.kms.list_resource_tags().key_id(id).send().await {
            Ok(t) => t,
            // Keys we may not read (another team's key policy) are not ours.
            Err(e) if code(&e) == "AccessDeniedException" || code(&e) == "NotFoundException" => continue,
            Err(e) => return Err(aws_err(e)),
        };
        let tag = |key: &str| tags.tags().iter().find(|t| t.tag_key() == key).map(|t| t.tag_value());
        if tag(TAG_CLUSTER) == Some(ctx.cluster()) && tag(TAG_STEP) == Some(step.id.as_str()) {
            if let Some(m) = describe(ctx, id).await?.filter(|m| m.key_state() == Some(&KeyState::Enabled)) {
                return Ok(Some(m));
            }
        }
    }
    Ok(None)
}

pub(crate) async fn kms_key(ctx: &Ctx, step: &Step, alias: &str) -> Result<(), StepError> {
    let mut meta = None;
    if let Some(p) = ctx.prior(&step.id).map(|o| o.id.clone()) {
        meta = describe(ctx, &p).await?;
        if meta.is_none() {
            ctx.forget(&step.id);
        }
    }
    if meta.is_none() {
        meta = describe(ctx, alias).await?;
    }
    if meta.is_none() {
        meta = find_tagged(ctx, step).await?;
    }
    let key = match meta {
        Some(m) => {
            ctx.say(format!("{}: adopted key {}", step.id, m.key_id()));
            if m.key_state() == Some(&KeyState::PendingDeletion) {
                // Left by an interrupted destroy: take it back (cancelling leaves it disabled).
                ctx.kms.cancel_key_deletion().key_id(m.key_id()).send().await.map_err(aws_err)?;
                ctx.kms.enable_key().key_id(m.key_id()).send().await.map_err(aws_err)?;
            }
            ctx.record(&step.id, with(key_output(&m), "alias", alias));
            match describe(ctx, alias).await? {
                Some(a) if a.key_id() == m.key_id() => {}
                // Our alias name, pointing at an older key of this cluster: point it here.
                Some(_) => {
                    ctx.kms.update_alias().alias_name(alias).target_key_id(m.key_id()).send().await.map_err(aws_err)?;
                }
                None => {
                    ctx.kms.create_alias().alias_name(alias).target_key_id(m.key_id()).send().await.map_err(aws_err)?;
                }
            }
            m
        }
        None => {
            let tags = ctx
                .tags(&step.id)
                .into_iter()
                .map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build().map_err(|e| StepError::Invalid(e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            let o = ctx
                .kms
                .create_key()
                .description(format!("secure-eks {}: Kubernetes secrets encryption", ctx.cluster()))
                .key_usage(KeyUsageType::EncryptDecrypt)
                .key_spec(KeySpec::SymmetricDefault)
                .set_tags(Some(tags))
                .customize()
                .config_override(throttling_only!(aws_sdk_kms))
                .send()
                .await
                .map_err(aws_err)?;
            let m = o.key_metadata.ok_or_else(|| StepError::Invalid("CreateKey returned no key".into()))?;
            ctx.say(format!("{}: created key {}", step.id, m.key_id()));
            ctx.record(&step.id, with(key_output(&m), "alias", alias));
            ctx.kms.create_alias().alias_name(alias).target_key_id(m.key_id()).send().await.map_err(aws_err)?;
            m
        }
    };
    let rotation = ctx.kms.get_key_rotation_status().key_id(key.key_id()).send().await.map_err(aws_err)?;
    if !rotation.key_rotation_enabled() {
        ctx.kms.enable_key_rotation().key_id(key.key_id()).send().await.map_err(aws_err)?;
    }
    Ok(())
}

pub(crate) async fn existing_kms_key(ctx: &Ctx, step: &Step, arn: &str) -> Result<(), StepError> {
    let m = describe(ctx, arn).await?.ok_or_else(|| StepError::Invalid(format!("the KMS key {arn} does not exist")))?;
    if m.key_state() != Some(&KeyState::Enabled) {
        let state = m.key_state().map(|s| s.as_str().to_string()).unwrap_or_default();
        return Err(StepError::Invalid(format!("the KMS key {arn} is {state}, not Enabled")));
    }
    ctx.record(&step.id, with(key_output(&m), EXTRA_EXISTING, "true"));
    Ok(())
}

pub(crate) async fn delete_key(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    if let Some(alias) = o.extra.get("alias") {
        // Only our alias, and only while it still points at our key.
        if describe(ctx, alias).await?.is_some_and(|m| m.key_id() == o.id) {
            gone(ctx.kms.delete_alias().alias_name(alias).send().await)?;
        }
    }
    match ctx.kms.schedule_key_deletion().key_id(&o.id).pending_window_in_days(KEY_DELETION_WINDOW_DAYS).send().await {
        // Already pending deletion.
        Err(e) if code(&e) == "KMSInvalidStateException" => Ok(()),
        r => gone(r),
    }
}

pub(crate) async fn refresh_key(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(describe(ctx, &o.id).await?.map(|m| {
        let mut n = key_output(&m);
        n.extra = o.extra.clone();
        n
    }))
}
