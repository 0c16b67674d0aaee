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
use complaints_shared::service::{Plumbing, Tasks};
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
        let plumbing = Plumbing::connect(SERVICE, &config.common, &MIGRATIONS).await?;
        let (listener, addr) =
            complaints_shared::grpc::bind(&config.common.grpc_addr, config.common.grpc_addr_file.as_deref()).await?;
        tracing::info!(%addr, "notification gRPC listening");
        let wake = Arc::new(Notify::new());
        let handler = consumers::Handler { institution: config.institution.clone(), wake_worker: wake.clone() };
        let events = [names::RECEIVED, names::RESOLUTION_APPROVED, names::REMEDY_EXECUTED];
        let consumer = plumbing.consumer(&events, handler).await?;
        let worker = delivery::Worker { plumbing: plumbing.clone(), gateway, wake, retry_base_seconds: config.retry_base_seconds };
        let mut tasks = Tasks::new(token.clone());
        let api = grpc::NotificationApi { plumbing: plumbing.clone() };
        tasks.spawn(complaints_shared::grpc::serve(listener, NotificationServer::new(api), token.clone()));
        tasks.spawn_relay(&plumbing);
        tasks.spawn(worker.run(token.clone()));
        tasks.spawn(consumer.run(token));
        Ok(tasks.wait())
    }
}
