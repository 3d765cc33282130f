//! The control-plane log group: created before the cluster (so retention applies from the
//! first line); a leftover group (EKS re-creates it after a cluster is deleted) is adopted.

use secure_eks_core::plan::{Step, StepOutput};

use crate::ctx::{aws_err, code, gone, out_arn, with, Ctx, StepError};

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

pub(crate) async fn log_group(ctx: &Ctx, step: &Step, name: &str, retention_days: i64) -> Result<(), StepError> {
    let days = i32::try_from(retention_days).map_err(|_| StepError::Invalid(format!("retention {retention_days} days is out of range")))?;
    // Describe first, so that a run with nothing to change makes no mutating call.
    let current = match describe(ctx, name).await? {
        Some(g) => {
            ctx.say(format!("{}: adopted log group {name}", step.id));
            g.retention_in_days()
        }
        None => {
            match ctx.logs.create_log_group().log_group_name(name).set_tags(Some(ctx.tags(&step.id).into_iter().collect())).send().await {
                Ok(_) => ctx.say(format!("{}: created log group {name}", step.id)),
                // Created meanwhile (EKS re-creates it while a cluster of this name logs).
                Err(e) if code(&e) == "ResourceAlreadyExistsException" => ctx.say(format!("{}: adopted log group {name}", step.id)),
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
