//! The Pulumi protocol types, generated at build time from `proto/` (fenced off: never edit).
//! Only the server crate depends on this crate.

#![allow(missing_docs, clippy::all, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// `package pulumirpc`.
pub mod pulumirpc {
    tonic::include_proto!("pulumirpc");
}
