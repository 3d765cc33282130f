//! The control-plane log group: created before the cluster (so retention applies from the
//! first line). A group that already exists under the name is adopted only when it carries our
//! ownership tag (a group of ours whose create answer was lost, or one an interrupted destroy
//! left); any other is an error, and is neither changed nor deleted.

use secure_eks_core::plan::{Step, StepOutput};

use crate::ctx::{aws_err, code, gone, out_arn, with, Ctx, StepError, TAG_CLUSTER};

async fn describe(ctx: &Ctx, name: &str) -> Result<Option<aws_sdk_cloudwatchlogs::types::LogGroup>, StepError> {
    let o = ctx.logs.describe_log_groups().log_group_name_prefix(name).send().await.map_err(aws_err)?;
    Ok(o.log_groups.unwrap_or_default().into_iter().find(|g| g.log_group_name() == Some(name)))
}

fn group_output(g: &aws_sdk_cloudwatchlogs::types::LogGroup, name: &str) -> StepOutput {
    let arn = g.log_group_arn().or(g.arn()).map(|a| a.trim_end_matches(":*").to_string());
    let mut o = out_arn(name, arn);
    if let Some(d) = g.retention_in_days() {
        o = with(o, "retentionDays", d.to_string());
    }
    o
}

/// Refuse a group that is not tagged with our owner.
async fn check_ours(ctx: &Ctx, g: &aws_sdk_cloudwatchlogs::types::LogGroup, name: &str) -> Result<(), StepError> {
    let arn = g.log_group_arn().or(g.arn()).map(|a| a.trim_end_matches(":*").to_string()).ok_or_else(|| StepError::Invalid(format!("the log group {name} has no ARN")))?;
    let tags = ctx.logs.list_tags_for_resource().resource_arn(&arn).send().await.map_err(aws_err)?;
    let owner = tags.tags().and_then(|t| t.get(TAG_CLUSTER)).map(String::as_str);
    ctx.check_owner(&format!("the log group {name}"), owner)
}

pub(crate) async fn log_group(ctx: &Ctx, step: &Step, name: &str, retention_days: i64) -> Result<(), StepError> {
    let days = i32::try_from(retention_days).map_err(|_| StepError::Invalid(format!("retention {retention_days} days is out of range")))?;
    // Describe first, so that a run with nothing to change makes no mutating call.
    let current = match describe(ctx, name).await? {
        Some(g) => {
            if ctx.prior(&step.id).is_none_or(|p| p.id != name) {
                check_ours(ctx, &g, name).await?;
            }
            ctx.say(format!("{}: adopted log group {name}", step.id));
            g.retention_in_days()
        }
        None => {
            match ctx.logs.create_log_group().log_group_name(name).set_tags(Some(ctx.tags(&step.id).into_iter().collect())).send().await {
                Ok(_) => ctx.say(format!("{}: created log group {name}", step.id)),
                // Created meanwhile (by our own earlier call whose answer was lost, or by someone
                // else): adopted only if it is ours.
                Err(e) if code(&e) == "ResourceAlreadyExistsException" => {
                    let g = describe(ctx, name).await?.ok_or_else(|| aws_err(e))?;
                    check_ours(ctx, &g, name).await?;
                    ctx.say(format!("{}: adopted log group {name}", step.id));
                }
                Err(e) => return Err(aws_err(e)),
            }
            None
        }
    };
    ctx.record(&step.id, out_arn(name, None));
    if current != Some(days) {
        ctx.logs.put_retention_policy().log_group_name(name).retention_in_days(days).send().await.map_err(aws_err)?;
        if let Some(d) = current {
            ctx.say(format!("{}: retention of {name} changed from {d} to {days} days", step.id));
        }
    }
    if let Some(g) = describe(ctx, name).await? {
        ctx.record(&step.id, group_output(&g, name));
    }
    Ok(())
}

pub(crate) async fn delete_log_group(ctx: &Ctx, o: &StepOutput) -> Result<(), StepError> {
    gone(ctx.logs.delete_log_group().log_group_name(&o.id).send().await)
}

pub(crate) async fn refresh_log_group(ctx: &Ctx, o: &StepOutput) -> Result<Option<StepOutput>, StepError> {
    Ok(describe(ctx, &o.id).await?.map(|g| group_output(&g, &o.id)))
}
