//! A lost answer to an EKS create: the call took effect, its answer did not arrive, and the SDK's
//! retry is answered `ResourceInUseException` (the cluster, node group, addon or access entry it
//! names exists). The resource is the one our call made when it carries the tags that call set
//! (our owner and this step, set in the same request); then the step goes on with it in the same
//! run. Anything else in use stays an error.

use std::collections::HashMap;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::ctx::{Ctx, TAG_CLUSTER, TAG_STEP};

/// Whether `e` says the resource a create names exists already.
pub(crate) fn in_use<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ResourceInUseException")
}

/// Whether `tags` are the ones our create call for `step` set.
pub(crate) fn made_by_us(ctx: &Ctx, step: &str, tags: Option<&HashMap<String, String>>) -> bool {
    tags.is_some_and(|t| t.get(TAG_CLUSTER).map(String::as_str) == Some(ctx.owner()) && t.get(TAG_STEP).map(String::as_str) == Some(step))
}
