//! Intake: registers complaints from every channel (idempotent per channel request key),
//! assigns the complaint number, and records the customer's answers and the follow-up.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod grpc;
pub mod store;

use complaints_proto::v1::intake_server::IntakeServer;
use complaints_shared::events::names;
use complaints_shared::service::Service;
use tokio_util::sync::CancellationToken;

pub use config::Config;

pub const SERVICE: &str = "intake";

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Builds the service and returns the future that runs it until `token` is cancelled.
pub struct Application;

impl Application {
    pub async fn start(
        config: Config,
        token: CancellationToken,
    ) -> anyhow::Result<impl std::future::Future<Output = anyhow::Result<()>>> {
        let mut service = Service::start(SERVICE, &config.common, &MIGRATIONS, token).await?;
        let plumbing = service.plumbing.clone();
        let handler = consumers::Handler { relay: plumbing.relay.clone() };
        let consumer = plumbing.consumer(&[names::CUSTOMER_NOTIFIED, names::REMEDY_EXECUTED], handler).await?;
        service.spawn(consumer.run(service.token()));
        Ok(service.run(IntakeServer::new(grpc::IntakeApi::new(plumbing, config))))
    }
}
