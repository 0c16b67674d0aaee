//! Routing: grades and classifies each received complaint and assigns it to a department and a
//! handler without a conflict of interest.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod grpc;
pub mod store;

use std::sync::Arc;

use complaints_proto::v1::routing_server::RoutingServer;
use complaints_shared::domain::org::OrgDirectory;
use complaints_shared::events::names;
use complaints_shared::service::{Plumbing, Tasks};
use tokio_util::sync::CancellationToken;

pub use config::Config;

pub const SERVICE: &str = "routing";

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct Application;

impl Application {
    pub async fn start(
        config: Config,
        token: CancellationToken,
    ) -> anyhow::Result<impl std::future::Future<Output = anyhow::Result<()>>> {
        let org = Arc::new(OrgDirectory::load(&config.org_directory)?);
        let plumbing = Plumbing::connect(SERVICE, &config.common, &MIGRATIONS).await?;
        let (listener, addr) =
            complaints_shared::grpc::bind(&config.common.grpc_addr, config.common.grpc_addr_file.as_deref()).await?;
        tracing::info!(%addr, "routing gRPC listening");
        let handler = consumers::Handler { relay: plumbing.relay.clone(), org, config: Arc::new(config.clone()) };
        let consumer = plumbing.consumer(&[names::RECEIVED], handler).await?;
        let mut tasks = Tasks::new(token.clone());
        let api = grpc::RoutingApi { plumbing: plumbing.clone() };
        tasks.spawn(complaints_shared::grpc::serve(listener, RoutingServer::new(api), token.clone()));
        tasks.spawn_relay(&plumbing);
        tasks.spawn(consumer.run(token));
        Ok(tasks.wait())
    }
}
