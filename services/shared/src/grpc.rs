//! gRPC plumbing every service shares: health (`grpc.health.v1`), server reflection, binding
//! (with the bound address optionally written to a file), graceful shutdown, and the mapping of
//! validation failures to `INVALID_ARGUMENT` naming the field.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::Server;

/// A request field that failed validation; becomes `INVALID_ARGUMENT` with `field: reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

impl From<FieldError> for tonic::Status {
    fn from(error: FieldError) -> Self {
        tonic::Status::invalid_argument(error.to_string())
    }
}

/// `value` without surrounding white space; an error naming `field` when that is empty or
/// longer than `max_chars` characters (`usize::MAX`: no bound).
pub fn required<'a>(field: &str, value: &'a str, max_chars: usize) -> Result<&'a str, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    at_most(field, value, max_chars)?;
    Ok(value)
}

/// An error naming `field` when `value` is longer than `max_chars` characters.
pub fn at_most(field: impl Into<String>, value: &str, max_chars: usize) -> Result<(), FieldError> {
    if value.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("must be at most {max_chars} characters")));
    }
    Ok(())
}

/// Binds `addr` (port 0 picks a free one) and writes the bound address to `addr_file` if given.
pub async fn bind(addr: &str, addr_file: Option<&Path>) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    if let Some(path) = addr_file {
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, local.to_string())?;
        std::fs::rename(&temporary, path)?;
    }
    Ok((listener, local))
}

/// Serves `service` with health and reflection on `listener` until `token` is cancelled;
/// in-flight calls finish before it returns.
pub async fn serve<S>(listener: TcpListener, service: S, token: CancellationToken) -> anyhow::Result<()>
where
    S: tower_service::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter.set_serving::<S>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(complaints_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let shutdown = {
        let token = token.clone();
        async move {
            token.cancelled().await;
            health_reporter.set_not_serving::<S>().await;
        }
    };
    Server::builder()
        .add_service(health_service)
        .add_service(reflection)
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    Ok(())
}

/// Maps a store error: a unique-key conflict means a concurrent command won (`ABORTED`, the
/// caller may retry); anything else is `INTERNAL`.
pub fn store_error(error: sqlx::Error) -> tonic::Status {
    if error.as_database_error().is_some_and(|e| e.is_unique_violation()) {
        tracing::info!(%error, "concurrent update lost a unique-key race");
        return tonic::Status::aborted("a concurrent update changed this record; read it again and retry");
    }
    internal(error)
}

/// Maps an unexpected internal error to `INTERNAL`, logging the detail once and sending none.
pub fn internal(error: impl std::fmt::Display) -> tonic::Status {
    tracing::error!(error = %error, "internal error");
    tonic::Status::internal("internal error")
}
