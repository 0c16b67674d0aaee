//! Investigation: the case file of each assigned complaint — evidence register with SHA-256,
//! findings, the proposed resolution, and the execution of the accepted remedy.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod grpc;
pub mod store;

use complaints_proto::v1::investigation_server::InvestigationServer;
use complaints_shared::events::names;
use complaints_shared::service::{Plumbing, Tasks};
use tokio_util::sync::CancellationToken;

pub use config::Config;

pub const SERVICE: &str = "investigation";

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct Application;

impl Application {
    pub async fn start(
        config: Config,
        token: CancellationToken,
    ) -> anyhow::Result<impl std::future::Future<Output = anyhow::Result<()>>> {
        let plumbing = Plumbing::connect(SERVICE, &config.common, &MIGRATIONS).await?;
        let (listener, addr) =
            complaints_shared::grpc::bind(&config.common.grpc_addr, config.common.grpc_addr_file.as_deref()).await?;
        tracing::info!(%addr, "investigation gRPC listening");
        let handler = consumers::Handler { relay: plumbing.relay.clone() };
        let events = [
            names::ASSIGNED,
            names::RESOLUTION_APPROVED,
            names::RESOLUTION_RETURNED,
            names::CUSTOMER_RESPONDED,
            names::CLOSED,
        ];
        let consumer = plumbing.consumer(&events, handler).await?;
        let mut tasks = Tasks::new(token.clone());
        let api = grpc::InvestigationApi { plumbing: plumbing.clone(), config };
        tasks.spawn(complaints_shared::grpc::serve(listener, InvestigationServer::new(api), token.clone()));
        tasks.spawn_relay(&plumbing);
        tasks.spawn(consumer.run(token));
        Ok(tasks.wait())
    }
}
