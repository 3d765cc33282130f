//! A retry classifier for IAM's propagation delay: EKS CreateCluster / CreateNodegroup right
//! after CreateRole can answer `InvalidParameterException` about the role (not yet visible to
//! EKS, or its policies not yet attached from EKS's point of view). That is transient, so the
//! SDK's own retry strategy (standard mode, 5 attempts with backoff; both calls carry a client
//! request token) retries it; everything else is left to the SDK's default classifiers.

use std::fmt;
use std::marker::PhantomData;

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Classifies `InvalidParameterException` mentioning the role, from operation error type `E`,
/// as a transient error.
pub(crate) struct IamPropagation<E>(PhantomData<fn() -> E>);

impl<E> IamPropagation<E> {
    pub(crate) fn new() -> Self {
        IamPropagation(PhantomData)
    }
}

impl<E> fmt::Debug for IamPropagation<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IamPropagation")
    }
}

/// Whether an error code and message are the IAM propagation case.
pub(crate) fn is_iam_propagation(code: Option<&str>, message: Option<&str>) -> bool {
    code == Some("InvalidParameterException") && message.is_some_and(|m| m.to_ascii_lowercase().contains("role"))
}

impl<E> ClassifyRetry for IamPropagation<E>
where
    E: ProvideErrorMetadata + std::error::Error + fmt::Debug + Send + Sync + 'static,
{
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else { return RetryAction::NoActionIndicated };
        match err.as_operation_error().and_then(|e| e.downcast_ref::<E>()) {
            Some(e) if is_iam_propagation(e.code(), e.message()) => RetryAction::transient_error(),
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "IamPropagation"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_role_related_invalid_parameters_are_transient() {
        assert!(is_iam_propagation(Some("InvalidParameterException"), Some("Role with arn: arn:aws:iam::1:role/x, could not be assumed")));
        assert!(!is_iam_propagation(Some("InvalidParameterException"), Some("unsupported Kubernetes version 1.99")));
        assert!(!is_iam_propagation(Some("ResourceInUseException"), Some("role")));
    }
}
