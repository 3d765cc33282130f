//! The KMS key for Kubernetes secrets encryption: adopt by the prior id, the alias or the tags,
//! else create it with rotation on and an alias; delete = delete the alias and schedule deletion.
//! A key found by the alias is adopted only when it carries our ownership tag: our alias name on
//! someone else's key is an error, and that key is never changed or deleted.

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
        let Some(tags) = key_tags(ctx, id).await? else { continue };
        let tag = |key: &str| tags.iter().find(|t| t.tag_key() == key).map(|t| t.tag_value());
        if tag(TAG_CLUSTER) == Some(ctx.owner()) && tag(TAG_STEP) == Some(step.id.as_str()) {
            if let Some(m) = describe(ctx, id).await?.filter(|m| m.key_state() == Some(&KeyState::Enabled)) {
                return Ok(Some(m));
            }
        }
    }
    Ok(None)
}

/// The tags of a key; `None` for a key we may not read (another team's key policy) or that is gone.
async fn key_tags(ctx: &Ctx, id: &str) -> Result<Option<Vec<Tag>>, StepError> {
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        match ctx.kms.list_resource_tags().key_id(id).set_marker(marker.clone()).send().await {
            Ok(t) => {
                all.extend(t.tags().iter().cloned());
                match t.next_marker().filter(|_| t.truncated()) {
                    Some(m) => marker = Some(m.to_string()),
                    None => return Ok(Some(all)),
                }
            }
            Err(e) if code(&e) == "AccessDeniedException" || code(&e) == "NotFoundException" => return Ok(None),
            Err(e) => return Err(aws_err(e)),
        }
    }
}

/// The key our alias points at, if it is ours (tagged with our owner); an error naming the alias,
/// the key and the ways out if the alias points at a key that is not.
async fn by_alias(ctx: &Ctx, alias: &str) -> Result<Option<aws_sdk_kms::types::KeyMetadata>, StepError> {
    let Some(m) = describe(ctx, alias).await? else { return Ok(None) };
    let tags = key_tags(ctx, m.key_id()).await?.unwrap_or_default();
    let owner = tags.iter().find(|t| t.tag_key() == TAG_CLUSTER).map(|t| t.tag_value());
    ctx.check_owner_or(
        &format!("the KMS alias {alias} (key {})", m.key_id()),
        owner,
        ", set encryption.kmsKeyArn to use this key without owning it",
    )?;
    Ok(Some(m))
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
        meta = by_alias(ctx, alias).await?;
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
            match by_alias(ctx, alias).await? {
                Some(a) if a.key_id() == m.key_id() => {}
                // Our alias, pointing at an older key of this cluster: point it here.
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
            match ctx.kms.create_alias().alias_name(alias).target_key_id(m.key_id()).send().await {
                Ok(_) => {}
                // A retried CreateAlias whose first answer was lost: done if it names our key.
                Err(e) if code(&e) == "AlreadyExistsException" => {
                    if describe(ctx, alias).await?.is_none_or(|a| a.key_id() != m.key_id()) {
                        return Err(aws_err(e));
                    }
                }
                Err(e) => return Err(aws_err(e)),
            }
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
