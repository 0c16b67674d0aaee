//! gRPC serving every service shares: binding (the bound address optionally written to a file),
//! the authentication layer, the audit trail of commands and the `Audit` service that verifies it, health (`grpc.health.v1`, NOT_SERVING while the store or NATS is
//! unreachable), server reflection v1 and v1alpha listing only this service (plus health and
//! reflection), and graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use sqlx::AnyPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::Server;

use crate::audit::{AuditApi, AuditLayer};
use crate::auth::{AuthLayer, Verifier};
use complaints_proto::v1::audit_server::AuditServer;

/// How often readiness (store and broker) is probed for the health service.
pub const HEALTH_PROBE_INTERVAL: Duration = Duration::from_secs(2);

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

/// What the health service watches: the store answers and the NATS connection is up.
#[derive(Clone)]
pub struct Readiness {
    pub pool: AnyPool,
    pub nats: async_nats::Client,
}

impl Readiness {
    /// Whether the service can do its work right now.
    pub async fn ready(&self) -> bool {
        let nats_up = self.nats.connection_state() == async_nats::connection::State::Connected;
        let store_up = tokio::time::timeout(Duration::from_secs(2), sqlx::query("SELECT 1").execute(&self.pool))
            .await
            .is_ok_and(|result| result.is_ok());
        nats_up && store_up
    }
}

/// Serves `service` behind the authentication layer and the audit trail of `service_name`, with
/// health, reflection and the `Audit` service, on `listener` until `token` is cancelled;
/// in-flight calls finish before it returns.
pub async fn serve<S>(
    listener: TcpListener,
    service: S,
    verifier: Verifier,
    readiness: Readiness,
    service_name: &'static str,
    chains: Vec<std::sync::Arc<dyn crate::audit::RecordChain>>,
    token: CancellationToken,
) -> anyhow::Result<()>
where
    S: tower_service::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let audit = AuditApi { pool: readiness.pool.clone(), jetstream: async_nats::jetstream::new(readiness.nats.clone()), service: service_name, chains };
    let audit_layer = AuditLayer::new(readiness.pool.clone(), service_name);
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(complaints_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name(S::NAME)
            .with_service_name("complaints.v1.Audit")
            .with_service_name("grpc.health.v1.Health")
    };
    let reflection_v1 = reflection().with_service_name("grpc.reflection.v1.ServerReflection").build_v1()?;
    let reflection_v1alpha = reflection().with_service_name("grpc.reflection.v1alpha.ServerReflection").build_v1alpha()?;
    let watcher = {
        let token = token.clone();
        let reporter = health_reporter.clone();
        tokio::spawn(async move {
            let mut serving = None;
            loop {
                let ready = readiness.ready().await;
                if serving != Some(ready) {
                    if ready {
                        reporter.set_serving::<S>().await;
                        reporter.set_service_status("", tonic_health::ServingStatus::Serving).await;
                    } else {
                        tracing::warn!(service = S::NAME, "store or broker unreachable: health NOT_SERVING");
                        reporter.set_not_serving::<S>().await;
                        reporter.set_service_status("", tonic_health::ServingStatus::NotServing).await;
                    }
                    serving = Some(ready);
                }
                tokio::select! {
                    _ = token.cancelled() => return,
                    _ = tokio::time::sleep(HEALTH_PROBE_INTERVAL) => {}
                }
            }
        })
    };
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let shutdown = {
        let token = token.clone();
        async move {
            token.cancelled().await;
            health_reporter.set_not_serving::<S>().await;
        }
    };
    let served = Server::builder()
        .layer(AuthLayer::new(verifier))
        .layer(audit_layer)
        .add_service(health_service)
        .add_service(AuditServer::new(audit))
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await;
    watcher.abort();
    served?;
    Ok(())
}
