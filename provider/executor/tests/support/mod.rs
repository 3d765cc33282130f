//! What the executor's emulator tests share: the emulator from the test kit, and SDK sessions on it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod fault_ops;

pub use secure_eks_testkit::Emulator;
use secure_eks_core::model::ProviderConfig;
use secure_eks_executor::Aws;

/// The region the tests use.
pub const TEST_REGION: &str = "us-east-1";

/// Sessions on the emulator: the executor's own, and a plain SDK config for independent checks.
pub trait EmulatorAws {
    /// The executor's session, configured the way the provider config would.
    async fn aws(&self) -> Aws;
    /// The SDK config the checks use (same endpoint and credentials, not the executor's code).
    async fn sdk(&self) -> aws_types::SdkConfig;
}

impl EmulatorAws for Emulator {
    async fn aws(&self) -> Aws {
        let cfg = ProviderConfig {
            region: Some(TEST_REGION.into()),
            access_key: Some("testing".into()),
            secret_key: Some("testing".into()),
            endpoints: Some(self.endpoint_map()),
            ..Default::default()
        };
        Aws::new(&cfg, TEST_REGION).await
    }

    async fn sdk(&self) -> aws_types::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new(TEST_REGION))
            .credentials_provider(aws_credential_types::Credentials::new("testing", "testing", None, None, "test"))
            .endpoint_url(&self.url)
            .load()
            .await
    }
}

/// A progress channel for `apply`/`destroy`.
pub fn progress() -> (secure_eks_executor::Progress, tokio::sync::mpsc::UnboundedReceiver<String>) {
    tokio::sync::mpsc::unbounded_channel()
}

/// Everything sent on the progress channel so far.
pub fn drain(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> Vec<String> {
    let mut v = Vec::new();
    while let Ok(l) = rx.try_recv() {
        v.push(l);
    }
    v
}
