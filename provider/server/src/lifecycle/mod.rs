//! The life of one cluster resource, between the RPC handlers and the executor: checking and
//! planning its inputs, the AWS-backed rules, the executor runs for create, update, refresh,
//! import and delete, orphan deletion, retagging, and the mapping of partial runs to errors.
//!
//! It owns the state invariants (see ARCHITECTURE.md):
//! - whatever stops a run (an AWS error, Cancel, a customTimeouts deadline), the error carries
//!   every AWS resource recorded so far (`ErrorResourceInitFailed` with those outputs): a timed-out
//!   run is cancelled and then awaited, never dropped;
//! - a refresh keeps every part that still exists; a part gone from AWS is dropped from the
//!   outputs, the next Diff reports it (an update), and `up` recreates it. Only when nothing we own
//!   is left does Read report the resource gone;
//! - nothing is deleted that the state does not record.
//!
//! No wire types here: the handlers in `provider.rs` decode requests into [`PropertyMap`]s and
//! encode the results; errors are [`ProviderError`]s, which become statuses in `errors.rs`.

mod apply;
mod checks;
mod kubeconfig;
mod preview_notes;
mod read;
mod state;
mod timeout;

use std::sync::Arc;

use secure_eks_core::model::ProviderConfig;
use secure_eks_executor::{Aws, Progress};
use tokio_util::sync::CancellationToken;

use crate::errors::ProviderError;

pub use apply::{create, delete, update};
pub use checks::{check, preview_create, preview_update, CheckOutcome};
pub use kubeconfig::get_kubeconfig;
pub use preview_notes::what_up_does;
pub use read::{read, Read};
pub use state::{diff, DiffOutcome};
pub use timeout::{Op, Timeout};

type Result<T> = std::result::Result<T, ProviderError>;

/// The state of a configured provider.
#[derive(Clone, Debug)]
pub struct Configured {
    /// The checked config.
    pub config: ProviderConfig,
    /// The resolved region.
    pub region: String,
    /// The account id, when STS was called.
    pub account: Option<String>,
    /// The deploying caller (STS GetCallerIdentity), when STS was called.
    pub caller: Option<secure_eks_executor::Caller>,
    /// The AWS session.
    pub aws: Aws,
}

/// How one run is driven: where its progress lines go, what cancels it, and its time limit.
pub struct Run {
    /// The resource's URN (the scope of the owner id of a new cluster).
    pub urn: String,
    /// The configured provider.
    pub configured: Arc<Configured>,
    /// Progress lines for the engine.
    pub progress: Progress,
    /// Cancelled by the engine's Cancel (a child of the provider's token) or by the time limit.
    pub cancel: CancellationToken,
    /// The customTimeouts limit of this operation.
    pub timeout: Timeout,
}

/// Notes for the user that a lifecycle step produced (the handler logs them as warnings).
pub type Notes = Vec<String>;

#[cfg(test)]
mod tests {
    /// The lifecycle sees no wire types: no protobuf or gRPC crate, no generated protocol module.
    #[test]
    fn the_lifecycle_uses_no_wire_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lifecycle");
        let banned: Vec<String> = [["pro", "st"], ["ton", "ic"], ["pulumi", "rpc"], ["secure_eks_", "proto"]].iter().map(|p| p.concat()).collect();
        let mut files = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let text = std::fs::read_to_string(&p).unwrap();
            files += 1;
            for b in &banned {
                assert!(!text.contains(b.as_str()), "{} mentions {b}", p.display());
            }
        }
        assert!(files >= 4, "read only {files} files from {}", dir.display());
    }
}
