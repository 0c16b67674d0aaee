//! Notification: tells the customer — acknowledgement on receipt, the result once approved, the
//! execution notice — through a real gateway, recording every delivery.

pub mod config;
pub mod consumers;
pub mod delivery;
pub mod domain;
pub mod grpc;
pub mod store;

use std::sync::Arc;

use complaints_proto::v1::notification_server::NotificationServer;
use complaints_shared::events::names;
use complaints_shared::service::Service;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use config::Config;

pub const SERVICE: &str = "notification";

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct Application;

impl Application {
    pub async fn start(
        config: Config,
        token: CancellationToken,
    ) -> anyhow::Result<impl std::future::Future<Output = anyhow::Result<()>>> {
        let gateway = delivery::Gateway::new(&config.webhook_url, config.spool_dir.clone())?;
        let mut service = Service::start(SERVICE, &config.common, &MIGRATIONS, token).await?;
        let plumbing = service.plumbing.clone();
        let wake = Arc::new(Notify::new());
        let handler = consumers::Handler { institution: config.institution.clone(), wake_worker: wake.clone() };
        let events = [names::RECEIVED, names::RESOLUTION_APPROVED, names::REMEDY_EXECUTED];
        let consumer = plumbing.consumer(&events, handler).await?;
        let worker = delivery::Worker { plumbing: plumbing.clone(), gateway, wake, retry_base_seconds: config.retry_base_seconds };
        service.spawn(consumer.run(service.token()));
        service.spawn(worker.run(service.token()));
        Ok(service.run(NotificationServer::new(grpc::NotificationApi { plumbing })))
    }
}
