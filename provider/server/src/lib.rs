//! The gRPC edge of secure-eks. Only this crate (with `secure-eks-proto`) sees prost and tonic:
//! it converts wire values to the core's types, calls the core or the executor, and converts
//! errors to statuses in one place (`errors.rs`).

pub mod audit;
pub mod engine;
pub mod errors;
pub mod lifecycle;
pub mod provider;
pub mod wire;

use std::net::SocketAddr;

use secure_eks_proto::pulumirpc::resource_provider_server::ResourceProviderServer;
use tokio::net::TcpListener;

/// The engine's own limit (400 MiB); tonic's default of 4 MiB is far too small for state.
pub const MAX_MESSAGE: usize = 400 * 1024 * 1024;

/// The schema served by GetSchema: the committed `schema.json`, embedded at build time.
pub static SCHEMA: &str = include_str!("../../../schema.json");

/// Bind 127.0.0.1 on a free port.
pub async fn bind() -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Serve until `shutdown` resolves or the engine sends Cancel.
pub async fn serve(
    listener: TcpListener,
    engine_address: Option<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let provider = provider::SecureEksProvider::new(engine_address.as_deref()).await;
    let cancelled = provider.shutdown_signal();
    let svc = ResourceProviderServer::new(provider)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    let stopping = std::sync::Arc::new(tokio::sync::Notify::new());
    let stopping_tx = stopping.clone();
    let server = tonic::transport::Server::builder()
        .add_service(svc)
        // TCP_NODELAY: small gRPC answers must not wait for the engine's delayed ACK (~40 ms each).
        .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)), async move {
            tokio::select! {
                _ = shutdown => {},
                _ = cancelled.notified() => {
                    // Let the Cancel response go out before the listener closes.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                },
            }
            stopping_tx.notify_one();
        });
    // Graceful shutdown waits for open connections; the engine closes its own, but a peer that
    // keeps one open must not keep us alive: give in-flight calls a grace period, then return.
    tokio::select! {
        r = server => r,
        _ = async {
            stopping.notified().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => Ok(()),
    }
}

/// How long in-flight requests may run after SIGINT or Cancel.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_schema_is_the_generated_one() {
        assert_eq!(super::SCHEMA, secure_eks_core::schema::package_schema_text());
    }
}
