//! SSM parameters (the EKS-optimized AMI release versions).

use crate::ctx::{found, Ctx, StepError};

/// The value of a parameter, or `None` if it does not exist.
pub(crate) async fn parameter(ctx: &Ctx, name: &str) -> Result<Option<String>, StepError> {
    Ok(found(ctx.ssm.get_parameter().name(name).send().await)?.and_then(|o| o.parameter).and_then(|p| p.value))
}
