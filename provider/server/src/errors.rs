//! The one place where provider errors become gRPC statuses (with Pulumi's error details).

use prost::Message;
use secure_eks_core::value::PropertyMap;
use secure_eks_proto::pulumirpc;
use tonic::{Code, Status};

use crate::wire;

/// `google.rpc.Status`, the payload of `grpc-status-details-bin`.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The request is malformed (bad wire values, bad arguments).
    #[error("{0}")]
    InvalidArgument(String),
    /// Required configuration is missing.
    #[error("missing required configuration")]
    MissingConfig(Vec<(String, String)>),
    /// The provider has not been configured yet.
    #[error("the secure-eks provider was used before Configure")]
    NotConfigured,
    /// A precondition does not hold (e.g. wrong account).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The credentials are not allowed.
    #[error("{0}")]
    PermissionDenied(String),
    /// Something that is not built yet.
    #[error("{0}")]
    Unimplemented(String),
    /// The operation was cancelled.
    #[error("{0}")]
    Cancelled(String),
    /// A resource exists but is not fully initialised: the engine saves it with these outputs.
    #[error("{}", reasons.join("; "))]
    InitFailed {
        /// The resource id.
        id: String,
        /// The outputs so far.
        properties: PropertyMap,
        /// What went wrong.
        reasons: Vec<String>,
        /// The inputs.
        inputs: PropertyMap,
    },
    /// A bug: an invariant broke.
    #[error("internal error (a bug in secure-eks, please report it): {0}")]
    Internal(String),
}

impl From<wire::WireError> for ProviderError {
    fn from(e: wire::WireError) -> Self {
        ProviderError::InvalidArgument(e.to_string())
    }
}

impl From<secure_eks_executor::ExecError> for ProviderError {
    fn from(e: secure_eks_executor::ExecError) -> Self {
        match e {
            secure_eks_executor::ExecError::AccountNotAllowed { .. } => ProviderError::PermissionDenied(e.to_string()),
            other => ProviderError::FailedPrecondition(other.to_string()),
        }
    }
}

fn with_detail(code: Code, message: String, type_name: &str, detail: Vec<u8>) -> Status {
    let status = RpcStatus {
        code: code as i32,
        message: message.clone(),
        details: vec![prost_types::Any { type_url: format!("type.googleapis.com/{type_name}"), value: detail }],
    };
    Status::with_details(code, message, status.encode_to_vec().into())
}

impl ProviderError {
    /// Convert to a gRPC status. Called once, at the server edge.
    pub fn into_status(self) -> Status {
        let msg = self.to_string();
        match self {
            ProviderError::InvalidArgument(_) => Status::invalid_argument(msg),
            ProviderError::NotConfigured | ProviderError::FailedPrecondition(_) => Status::failed_precondition(msg),
            ProviderError::PermissionDenied(_) => Status::permission_denied(msg),
            ProviderError::Unimplemented(_) => Status::unimplemented(msg),
            ProviderError::Cancelled(_) => Status::cancelled(msg),
            ProviderError::Internal(_) => Status::internal(msg),
            ProviderError::MissingConfig(keys) => {
                let detail = pulumirpc::ConfigureErrorMissingKeys {
                    missing_keys: keys
                        .into_iter()
                        .map(|(name, description)| pulumirpc::configure_error_missing_keys::MissingKey { name, description })
                        .collect(),
                };
                with_detail(Code::InvalidArgument, msg, "pulumirpc.ConfigureErrorMissingKeys", detail.encode_to_vec())
            }
            ProviderError::InitFailed { id, properties, reasons, inputs } => {
                let detail = pulumirpc::ErrorResourceInitFailed {
                    id,
                    properties: Some(wire::to_struct(&properties)),
                    reasons,
                    inputs: Some(wire::to_struct(&inputs)),
                    refresh_before_update: false,
                };
                with_detail(Code::Unknown, msg, "pulumirpc.ErrorResourceInitFailed", detail.encode_to_vec())
            }
        }
    }
}
