//! Investigation: the case file of each assigned complaint — evidence register with SHA-256,
//! findings, the proposed resolution, and the execution of the accepted remedy.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod grpc;
pub mod store;

use complaints_proto::v1::investigation_server::InvestigationServer;
use complaints_shared::events::names;
use complaints_shared::service::Service;
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
        let mut service = Service::start(SERVICE, &config.common, &MIGRATIONS, token).await?;
        let plumbing = service.plumbing.clone();
        let handler = consumers::Handler { relay: plumbing.relay.clone() };
        let events = [
            names::ASSIGNED,
            names::RESOLUTION_APPROVED,
            names::RESOLUTION_RETURNED,
            names::CUSTOMER_RESPONDED,
            names::CLOSED,
        ];
        let consumer = plumbing.consumer(&events, handler).await?;
        service.spawn(consumer.run(service.token()));
        Ok(service.run(InvestigationServer::new(grpc::InvestigationApi { plumbing, config })))
    }
}
