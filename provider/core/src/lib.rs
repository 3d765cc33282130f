//! The pure core of secure-eks.
//!
//! **Architecture invariant:** this crate does no IO, has no async runtime, and knows nothing of
//! protobuf, gRPC or the AWS SDK (a test in `tests/purity.rs` enforces it). The protocol layer
//! converts wire values to [`value::Value`]; the executor turns plans into AWS calls.

pub mod codec;
pub mod diff;
pub mod kubeconfig;
pub mod model;
mod redact;
pub mod plan;
pub mod preview;
pub mod rules;
pub mod schema;
pub mod value;

/// The provider version, from Cargo.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The package name.
pub const PACKAGE: &str = "secure-eks";
/// The cluster resource token.
pub const CLUSTER_TOKEN: &str = "secure-eks:index:SecureEksCluster";
