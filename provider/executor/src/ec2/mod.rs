//! EC2 steps, one module per concept: `network` (VPC, CIDR block, subnets, internet and NAT
//! gateways, route tables), `security_groups` (groups and rules), `endpoints` (VPC endpoints),
//! `launch_templates`. This module has what they share: look-up and tagging helpers, the waits
//! and the delete helpers (leaked ENI cleanup, the `DependencyViolation` budget).

mod endpoints;
mod launch_templates;
mod network;
mod security_groups;

pub(crate) use endpoints::*;
pub(crate) use launch_templates::*;
pub(crate) use network::*;
pub(crate) use security_groups::*;

use std::future::Future;
use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, IpPermission, IpRange, LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataEndpointState, LaunchTemplateInstanceMetadataOptionsRequest,
    LaunchTemplateTagSpecificationRequest, RequestLaunchTemplateData, ResourceType, SecurityGroupRule, Tag, TagSpecification, UserIdGroupPair,
    VolumeType, VpcAttributeName, VpcEndpointType,
};
use secure_eks_core::plan::{Action, LaunchTemplateAction, Plan, SgRole, Source, Step, StepOutput, SubnetRole};

use crate::ctx::{aws_err, change_token, code, found, gone, out, poll, with, Ctx, StepError, EXTRA_EXISTING, TAG_CLUSTER};
use crate::replay::{self, Seen};
use crate::retry::throttling_only;
use crate::userdata;

/// How long to wait for a VPC or subnet to become available.
pub(crate) const EC2_AVAILABLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How long to wait for a NAT gateway to become available or deleted.
pub(crate) const NAT_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// How long to wait for a VPC endpoint to become available or deleted (no SDK waiter exists).
pub(crate) const VPCE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long to wait for a secondary CIDR block to become associated (no SDK waiter exists).
pub(crate) const CIDR_TIMEOUT: Duration = Duration::from_secs(2 * 60);
/// How long to wait for ENIs left by EKS, the VPC CNI or endpoints to go away before deleting a
/// security group or subnet (no SDK waiter exists).
pub(crate) const ENI_DRAIN_TIMEOUT: Duration = Duration::from_secs(10 * 60);

fn filter(name: &str, value: impl Into<String>) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn tag_spec(ctx: &Ctx, rt: ResourceType, step: &str, extra: &[(String, String)]) -> TagSpecification {
    let mut tags = ctx.ec2_tags(step);
    tags.extend(extra.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()));
    TagSpecification::builder().resource_type(rt).set_tags(Some(tags)).build()
}

/// Look a resource up by the prior run's id, then by its tags. A prior id that no longer
/// exists is forgotten.
async fn locate<T, F, Fut>(ctx: &Ctx, step: &str, f: F) -> Result<Option<T>, StepError>
where
    F: Fn(Option<String>) -> Fut,
    Fut: Future<Output = Result<Option<T>, StepError>>,
{
    if let Some(p) = ctx.prior(step).map(|o| o.id.clone()) {
        if let Some(t) = f(Some(p)).await? {
            return Ok(Some(t));
        }
        ctx.forget(step);
    }
    f(None).await
}

fn adopted(ctx: &Ctx, step: &str, id: &str) {
    ctx.say(format!("{step}: adopted {id}"));
}

fn created(ctx: &Ctx, step: &str, id: &str) {
    ctx.say(format!("{step}: created {id}"));
}

fn missing_id(what: &str) -> StepError {
    StepError::Invalid(format!("AWS returned no {what} id"))
}

fn bool_attr(v: bool) -> AttributeBooleanValue {
    AttributeBooleanValue::builder().value(v).build()
}

// ---------------------------------------------------------------- deletion

/// Delete the ENIs that `name`=`value` (`group-id` or `subnet-id`) still has and that nobody
/// uses, and wait (up to [`ENI_DRAIN_TIMEOUT`]) for the ones in use (EKS control plane, VPC CNI,
/// endpoints) to be released by their owners.
async fn drain_enis(ctx: &Ctx, name: &str, value: &str) -> Result<(), StepError> {
    let what = format!("network interfaces with {name}={value} to be released");
    let r = poll(ctx, &what, ENI_DRAIN_TIMEOUT, || async {
        let o = found(ctx.ec2.describe_network_interfaces().filters(filter(name, value)).send().await)?;
        let enis = o.map(|o| o.network_interfaces.unwrap_or_default()).unwrap_or_default();
        let mut in_use = 0;
        for eni in &enis {
            let available = eni.status().is_some_and(|s| s.as_str() == "available");
            match (available, eni.network_interface_id()) {
                (true, Some(id)) => {
                    ctx.say(format!("deleting leftover network interface {id} ({name}={value})"));
                    gone(ctx.ec2.delete_network_interface().network_interface_id(id).send().await)?;
                }
                _ => in_use += 1,
            }
        }
        Ok((in_use == 0).then_some(()))
    })
    .await;
    match r {
        // Let the delete call report the real DependencyViolation.
        Err(StepError::Invalid(m)) => {
            ctx.say(format!("warning: {m}"));
            Ok(())
        }
        other => other,
    }
}

/// How long a delete keeps retrying while AWS answers `DependencyViolation` (something still uses
/// the resource: an ENI on its way out, a rule of another group, a mapping being released).
pub(crate) const DEPENDENCY_BUDGET: Duration = Duration::from_secs(10 * 60);

/// Run a delete call until it stops answering `DependencyViolation` (within
/// [`DEPENDENCY_BUDGET`]); "not found" is success.
async fn delete_when_free<T, E, F, Fut>(ctx: &Ctx, what: &str, mut call: F) -> Result<(), StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    let last = std::sync::Mutex::new(String::new());
    let r = poll(ctx, &format!("{what} to lose its dependencies"), DEPENDENCY_BUDGET, || {
        let fut = call();
        let last = &last;
        async move {
            match fut.await {
                Ok(_) => Ok(Some(())),
                Err(e) if code(&e) == "DependencyViolation" => {
                    *last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = e.message().unwrap_or_default().to_string();
                    Ok(None)
                }
                Err(e) => gone(Err::<T, E>(e)).map(Some),
            }
        }
    })
    .await;
    let last = last.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    match r {
        Err(StepError::Invalid(m)) if !last.is_empty() => Err(StepError::Invalid(format!("{m}: DependencyViolation: {last}"))),
        r => r,
    }
}
