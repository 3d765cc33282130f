//! A client for the engine's `Engine.Log`: warnings and ephemeral status lines for users.

use std::sync::Arc;

use secure_eks_proto::pulumirpc::engine_client::EngineClient;
use secure_eks_proto::pulumirpc::{LogRequest, LogSeverity};
use tokio::sync::Mutex;
use tonic::transport::Channel;

/// A lazily connected engine log client. Logging never fails a request.
#[derive(Clone, Default)]
pub struct EngineLog {
    inner: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    address: Option<String>,
    client: Option<EngineClient<Channel>>,
}

impl EngineLog {
    /// Set (or replace) the engine address, e.g. from argv, Handshake or Attach.
    pub async fn set_address(&self, address: &str) {
        if address.is_empty() {
            return;
        }
        let mut st = self.inner.lock().await;
        if st.address.as_deref() != Some(address) {
            st.address = Some(address.to_string());
            st.client = None;
        }
    }

    async fn client(&self) -> Option<EngineClient<Channel>> {
        let mut st = self.inner.lock().await;
        if st.client.is_none() {
            let addr = st.address.clone()?;
            let url = if addr.contains("://") { addr } else { format!("http://{addr}") };
            match EngineClient::connect(url).await {
                Ok(c) => {
                    st.client = Some(c.max_decoding_message_size(crate::MAX_MESSAGE).max_encoding_message_size(crate::MAX_MESSAGE))
                }
                Err(e) => {
                    tracing::warn!("cannot reach the engine for logging: {e}");
                    return None;
                }
            }
        }
        st.client.clone()
    }

    async fn send(&self, severity: LogSeverity, urn: &str, message: String, ephemeral: bool) {
        let Some(mut c) = self.client().await else {
            tracing::info!(%urn, "{message}");
            return;
        };
        let req = LogRequest { severity: severity as i32, message, urn: urn.to_string(), stream_id: 0, ephemeral };
        if let Err(e) = c.log(req).await {
            tracing::warn!("engine log failed: {e}");
        }
    }

    /// A warning under Diagnostics for the resource.
    pub async fn warn(&self, urn: &str, message: String) {
        self.send(LogSeverity::Warning, urn, message, false).await;
    }

    /// An info message.
    pub async fn info(&self, urn: &str, message: String) {
        self.send(LogSeverity::Info, urn, message, false).await;
    }

    /// An ephemeral status line in the progress display.
    pub async fn status(&self, urn: &str, message: String) {
        self.send(LogSeverity::Info, urn, message, true).await;
    }
}
