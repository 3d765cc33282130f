//! Tags changed in place: after an update whose tags differ from the last run's, every recorded
//! resource gets the plan's tags (added or overwritten) and loses the removed keys. Resources the
//! user brought (`existing`) are left alone, as are the per-resource `secure-eks:step` tag and
//! tags other tools own (AWS adds `aws:*`, Kubernetes its own). Only called when the tags changed,
//! so an update that keeps them makes no tagging call.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use secure_eks_core::plan::{Plan, StepOutputs};
use tokio_util::sync::CancellationToken;

use crate::apply::{is_existing, ApplyError, Kind, Progress};
use crate::ctx::{aws_err, gone, Ctx, StepError};
use crate::Aws;

/// At most this many resource ids per EC2 CreateTags / DeleteTags call (the API's limit is 1000).
const EC2_BATCH: usize = 500;

async fn retag_one(ctx: &Ctx, kind: Kind, id: &str, arn: Option<&str>, tags: &BTreeMap<String, String>, removed: &[String]) -> Result<(), StepError> {
    let arn_or = |what: &str| arn.map(str::to_string).ok_or_else(|| StepError::Invalid(format!("{what} {id} has no recorded ARN to tag")));
    match kind {
        // An access entry recorded without its ARN keeps its tags (they name nothing billable).
        Kind::Access if arn.is_none() => {}
        Kind::Cluster | Kind::NodeGroup | Kind::Addon | Kind::Access => {
            let arn = arn_or("EKS resource")?;
            if !tags.is_empty() {
                gone(ctx.eks.tag_resource().resource_arn(&arn).set_tags(Some(tags.clone().into_iter().collect())).send().await)?;
            }
            if !removed.is_empty() {
                gone(ctx.eks.untag_resource().resource_arn(&arn).set_tag_keys(Some(removed.to_vec())).send().await)?;
            }
        }
        Kind::Role => {
            let t: Vec<_> = tags.iter().map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build()).collect::<Result<_, _>>().map_err(aws_err)?;
            if !t.is_empty() {
                gone(ctx.iam.tag_role().role_name(id).set_tags(Some(t)).send().await)?;
            }
            if !removed.is_empty() {
                gone(ctx.iam.untag_role().role_name(id).set_tag_keys(Some(removed.to_vec())).send().await)?;
            }
        }
        Kind::Oidc => {
            let t: Vec<_> = tags.iter().map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build()).collect::<Result<_, _>>().map_err(aws_err)?;
            if !t.is_empty() {
                gone(ctx.iam.tag_open_id_connect_provider().open_id_connect_provider_arn(id).set_tags(Some(t)).send().await)?;
            }
            if !removed.is_empty() {
                gone(ctx.iam.untag_open_id_connect_provider().open_id_connect_provider_arn(id).set_tag_keys(Some(removed.to_vec())).send().await)?;
            }
        }
        Kind::Kms => {
            let t: Vec<_> = tags.iter().map(|(k, v)| aws_sdk_kms::types::Tag::builder().tag_key(k).tag_value(v).build()).collect::<Result<_, _>>().map_err(aws_err)?;
            if !t.is_empty() {
                gone(ctx.kms.tag_resource().key_id(id).set_tags(Some(t)).send().await)?;
            }
            if !removed.is_empty() {
                gone(ctx.kms.untag_resource().key_id(id).set_tag_keys(Some(removed.to_vec())).send().await)?;
            }
        }
        Kind::LogGroup => {
            let arn = arn_or("log group")?;
            if !tags.is_empty() {
                gone(ctx.logs.tag_resource().resource_arn(&arn).set_tags(Some(tags.clone().into_iter().collect())).send().await)?;
            }
            if !removed.is_empty() {
                gone(ctx.logs.untag_resource().resource_arn(&arn).set_tag_keys(Some(removed.to_vec())).send().await)?;
            }
        }
        // EC2 resources are tagged in batches (below); a CIDR association has no tags.
        _ => {}
    }
    Ok(())
}

fn is_ec2(kind: Kind) -> bool {
    matches!(kind, Kind::Vpc | Kind::Subnet | Kind::Igw | Kind::Nat | Kind::RouteTable | Kind::Sg | Kind::Rule | Kind::Vpce | Kind::LaunchTemplate)
}

impl Aws {
    /// Give every recorded resource of `outputs` the plan's tags and remove the keys in `removed`.
    pub async fn retag(&self, plan: &Plan, outputs: &StepOutputs, removed: &[String], progress: &Progress) -> Result<(), ApplyError> {
        let ctx = Ctx::new(self, plan, outputs, Some(progress), &CancellationToken::new());
        let tags = plan.tags.clone();
        let mut ec2_ids = Vec::new();
        let mut others = Vec::new();
        for (step, o) in outputs {
            let Some(kind) = Kind::of_id(step) else { continue };
            if is_existing(plan, step, o) {
                continue;
            }
            if is_ec2(kind) {
                ec2_ids.push(o.id.clone());
            } else {
                others.push((step.clone(), kind, o.id.clone(), o.arn.clone()));
            }
        }
        ctx.say(format!("retagging {} resources of cluster {}", ec2_ids.len() + others.len(), plan.cluster_name));
        let mut reasons = Vec::new();
        let ec2_tags: Vec<_> = tags.iter().map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build()).collect();
        for chunk in ec2_ids.chunks(EC2_BATCH) {
            if let Err(e) = ctx.ec2.create_tags().set_resources(Some(chunk.to_vec())).set_tags(Some(ec2_tags.clone())).send().await {
                reasons.push(format!("EC2 CreateTags: {}", aws_err(e)));
            }
            if !removed.is_empty() {
                let keys: Vec<_> = removed.iter().map(|k| aws_sdk_ec2::types::Tag::builder().key(k).build()).collect();
                if let Err(e) = ctx.ec2.delete_tags().set_resources(Some(chunk.to_vec())).set_tags(Some(keys)).send().await {
                    reasons.push(format!("EC2 DeleteTags: {}", aws_err(e)));
                }
            }
        }
        let results: Vec<(String, Result<(), StepError>)> = futures::stream::iter(others)
            .map(|(step, kind, id, arn)| {
                let ctx = Arc::clone(&ctx);
                let tags = tags.clone();
                async move {
                    let r = retag_one(&ctx, kind, &id, arn.as_deref(), &tags, removed).await;
                    (step, r)
                }
            })
            .buffer_unordered(crate::graph::CONCURRENCY)
            .collect()
            .await;
        reasons.extend(results.into_iter().filter_map(|(step, r)| r.err().map(|e| format!("{step}: {e}"))));
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(ApplyError { done: outputs.clone(), reasons })
        }
    }
}
