//! A guard that makes a set of clients read-only: every operation whose name does not start with
//! `Describe`, `Get` or `List` is refused before it is sent. Import runs the ordinary apply
//! through such clients, so it adopts what exists, records exactly what `up` would record, and
//! can never create or change anything (the protocol's Read must not).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The text every refusal starts with (so callers can tell a refused call from an AWS error).
pub(crate) const REFUSED: &str = "read-only: refused";

/// Whether an operation only reads.
pub(crate) fn reads_only(operation: &str) -> bool {
    ["Describe", "Get", "List"].iter().any(|p| operation.starts_with(p))
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadOnly;

impl Intercept for ReadOnly {
    fn name(&self) -> &'static str {
        "secure-eks-read-only"
    }

    // Not `read_before_execution`: a client interceptor runs that before the operation's own
    // configuration (which names the operation) is in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(m) = cfg.load::<Metadata>() else { return Err(format!("{REFUSED} an unnamed operation").into()) };
        if reads_only(m.name()) {
            Ok(())
        } else {
            Err(format!("{REFUSED} {}.{} (import never changes AWS)", m.service(), m.name()).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_pass() {
        for op in ["DescribeVpcs", "GetRole", "ListNodegroups", "DescribeAddonVersions"] {
            assert!(reads_only(op), "{op}");
        }
        for op in ["CreateVpc", "ModifyVpcAttribute", "UpdateClusterConfig", "PutRetentionPolicy", "TagResource", "DeleteCluster"] {
            assert!(!reads_only(op), "{op}");
        }
    }
}
