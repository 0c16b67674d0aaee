//! Notification: tells the customer — acknowledgement on receipt, the result once approved, the
//! execution notice — through a real gateway, recording every delivery.

pub mod config;
pub mod consumers;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod store;

use std::sync::Arc;

use complaints_plumbing::service::{Running, Service};
use complaints_plumbing::store::EmbeddedMigration;
use complaints_proto::v1::notification_server::NotificationServer;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use error::Error;

pub const SERVICE: &str = "notification";

const MIGRATIONS: &[EmbeddedMigration] = &[(100, "notification", include_str!("../migrations/0100_notification.sql"))];

pub struct Application;

impl Application {
    pub async fn start(config: Config, token: CancellationToken) -> anyhow::Result<Running> {
        let gateway = delivery::Gateway::new(&config.webhook_url, config.spool_dir.clone())?;
        let mut service = Service::start(SERVICE, &config.common, MIGRATIONS, token).await?;
        let plumbing = service.plumbing.clone();
        let wake = Arc::new(Notify::new());
        let handler = consumers::Handler { institution: config.institution.clone(), wake_worker: wake.clone(), access: service.access.clone() };
        let consumer = plumbing.consumer(handler).await?;
        let worker = delivery::Worker { plumbing: plumbing.clone(), gateway, wake, retry_base_seconds: config.retry_base_seconds };
        service.spawn(consumer.run(service.token()));
        service.spawn(worker.run(service.token()));
        let access = service.access.clone();
        Ok(service.run(NotificationServer::new(grpc::NotificationApi { plumbing, access })))
    }
}
