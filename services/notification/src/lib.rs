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

const MIGRATIONS: &[EmbeddedMigration] = &[
    (100, "notification", include_str!("../migrations/0100_notification.sql")),
    (101, "sealed contacts", include_str!("../migrations/0101_sealed_contacts.sql")),
    (102, "clear rows", include_str!("../migrations/0102_clear_rows.sql")),
];

pub struct Application;

impl Application {
    pub async fn start(config: Config, token: CancellationToken) -> anyhow::Result<Running> {
        let gateway = delivery::Gateway::new(&config.webhook_url, config.spool_dir.clone(), config.spool_seal_key_file.as_deref())?;
        let opener = complaints_plumbing::sealed::Opener::load(config.contact_open_key_file.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "contact_open_key_file (CMS_CONTACT_OPEN_KEY_FILE) is not set: the customer's contact arrives sealed for \
                 notification's key (complaintctl up generates .data/secrets/notification-contact.key)"
            )
        })?)?;
        let mut service = Service::start(SERVICE, &config.common, MIGRATIONS, token).await?;
        let plumbing = service.plumbing.clone();
        let vault = plumbing.vault()?;
        let sealed = store::seal_clear_rows(&plumbing.pool, &vault).await?;
        if sealed > 0 {
            tracing::info!(sealed, "contacts and recipients stored in clear before encryption are now sealed");
        }
        let wake = Arc::new(Notify::new());
        let handler = consumers::Handler {
            institution: config.institution.clone(),
            wake_worker: wake.clone(),
            access: service.access.clone(),
            vault: vault.clone(),
            opener,
        };
        let consumer = plumbing.consumer(handler).await?;
        let worker = delivery::Worker { plumbing: plumbing.clone(), gateway, wake, retry_base_seconds: config.retry_base_seconds, vault: vault.clone() };
        service.spawn(consumer.run(service.token()));
        service.spawn(worker.run(service.token()));
        let access = service.access.clone();
        Ok(service.run(NotificationServer::new(grpc::NotificationApi { plumbing, access, vault })))
    }
}
