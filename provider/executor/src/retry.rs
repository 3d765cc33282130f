//! Retry classifiers on top of the SDK's own (standard mode, 5 attempts with backoff, which
//! retries throttling, 5xx and connection errors of every call):
//!
//! - [`IamPropagation`]: EKS CreateCluster / CreateNodegroup right after CreateRole can answer
//!   `InvalidParameterException` about the role (not yet visible to EKS, or its policies not yet
//!   attached from EKS's point of view). That is transient, so it is retried too (both calls
//!   carry a client request token).
//! - [`ThrottlingOnly`]: for a create that has neither an idempotency token nor a unique name
//!   (EC2 CreateVpc, KMS CreateKey, ...), a 5xx or a lost connection is ambiguous: the resource
//!   may exist already, and a blind retry would make a second one. Only throttling (refused
//!   before anything happened) is retried; any other failure goes back to the step, which leaves
//!   the run partial, and the next run adopts what the call made by its tags.

use std::fmt;
use std::marker::PhantomData;

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority, RetryReason};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::ErrorKind;

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

/// Lets the SDK retry only throttling (see the module docs). It runs after every default
/// classifier and forbids the retries they asked for for any other reason.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ThrottlingOnly;

/// What [`ThrottlingOnly`] makes of the default classifiers' verdict.
fn only_throttling(previous: &RetryAction) -> RetryAction {
    match previous {
        RetryAction::RetryIndicated(RetryReason::RetryableError { kind: ErrorKind::ThrottlingError, .. }) => RetryAction::NoActionIndicated,
        RetryAction::RetryIndicated(_) => RetryAction::RetryForbidden,
        _ => RetryAction::NoActionIndicated,
    }
}

impl ClassifyRetry for ThrottlingOnly {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, _ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        only_throttling(previous)
    }

    fn name(&self) -> &'static str {
        "ThrottlingOnly"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// Tells the step graph when AWS throttled a call (it halves its in-flight limit, see
/// `graph::note_throttled`). Changes no verdict.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ThrottleWatch;

/// Whether the verdict so far is a throttling retry.
fn is_throttling(previous: &RetryAction) -> bool {
    matches!(previous, RetryAction::RetryIndicated(RetryReason::RetryableError { kind: ErrorKind::ThrottlingError, .. }))
}

impl ClassifyRetry for ThrottleWatch {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, _ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        if is_throttling(previous) {
            crate::graph::note_throttled();
        }
        RetryAction::NoActionIndicated
    }

    fn name(&self) -> &'static str {
        "ThrottleWatch"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The SDK's retry settings: standard mode, 5 attempts, its default backoff (1 s first, 20 s at
/// most), or, when `SECURE_EKS_RETRY_BACKOFF_MS` is set, that first backoff and 20 times it at
/// most. Only the tests set it: against the emulator a fault needs no real back-off, and the
/// fault matrix's persistent faults would otherwise wait ~10 s each for the same 5 attempts.
pub(crate) fn retry_config() -> aws_config::retry::RetryConfig {
    retry_config_from(std::env::var("SECURE_EKS_RETRY_BACKOFF_MS").ok().as_deref())
}

fn retry_config_from(backoff_ms: Option<&str>) -> aws_config::retry::RetryConfig {
    let standard = aws_config::retry::RetryConfig::standard().with_max_attempts(5);
    match backoff_ms.and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(ms) => {
            let first = std::time::Duration::from_millis(ms.max(1));
            standard.with_initial_backoff(first).with_max_backoff(first * 20)
        }
        None => standard,
    }
}

/// A per-call config override that applies [`ThrottlingOnly`], for the service whose config
/// builder is named: `.customize().config_override(throttling_only!(aws_sdk_ec2))`.
macro_rules! throttling_only {
    ($sdk:ident) => {
        $sdk::config::Builder::default().retry_classifier($crate::retry::ThrottlingOnly)
    };
}
pub(crate) use throttling_only;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_role_related_invalid_parameters_are_transient() {
        assert!(is_iam_propagation(Some("InvalidParameterException"), Some("Role with arn: arn:aws:iam::1:role/x, could not be assumed")));
        assert!(!is_iam_propagation(Some("InvalidParameterException"), Some("unsupported Kubernetes version 1.99")));
        assert!(!is_iam_propagation(Some("ResourceInUseException"), Some("role")));
    }

    #[test]
    fn throttling_only_keeps_throttling_retries_and_forbids_the_rest() {
        assert_eq!(only_throttling(&RetryAction::throttling_error()), RetryAction::NoActionIndicated);
        assert_eq!(only_throttling(&RetryAction::server_error()), RetryAction::RetryForbidden);
        assert_eq!(only_throttling(&RetryAction::transient_error()), RetryAction::RetryForbidden);
        assert_eq!(only_throttling(&RetryAction::NoActionIndicated), RetryAction::NoActionIndicated);
    }

    #[test]
    fn the_backoff_is_the_sdk_default_unless_the_tests_set_it() {
        use std::time::Duration;
        let default = retry_config_from(None);
        assert_eq!((default.max_attempts(), default.initial_backoff(), default.max_backoff()), (5, Duration::from_secs(1), Duration::from_secs(20)));
        let fast = retry_config_from(Some("50"));
        assert_eq!((fast.max_attempts(), fast.initial_backoff(), fast.max_backoff()), (5, Duration::from_millis(50), Duration::from_secs(1)));
        assert_eq!(retry_config_from(Some("soon")).initial_backoff(), Duration::from_secs(1));
    }

    #[test]
    fn throttle_watch_sees_only_throttling() {
        assert!(is_throttling(&RetryAction::throttling_error()));
        assert!(!is_throttling(&RetryAction::server_error()));
        assert!(!is_throttling(&RetryAction::transient_error()));
        assert!(!is_throttling(&RetryAction::NoActionIndicated));
    }
}
