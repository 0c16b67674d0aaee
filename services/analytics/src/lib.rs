//! Analytics: consumes every lifecycle event; serves each complaint's timeline and live counts
//! by status, grade and channel, work queues and search, and the sealed case files of archived
//! complaints. The read side that the console builds on.

pub mod case_file;
pub mod config;
pub mod consumers;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod store;

use complaints_plumbing::service::{Running, Service};
use complaints_plumbing::store::EmbeddedMigration;
use complaints_proto::v1::analytics_server::AnalyticsServer;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use error::Error;

pub const SERVICE: &str = "analytics";

/// The service's own migrations (the plumbing tables come with every store).
pub const MIGRATIONS: &[EmbeddedMigration] = &[
    (100, "analytics", include_str!("../migrations/0100_analytics.sql")),
    (101, "lifecycle stages", include_str!("../migrations/0101_lifecycle_stages.sql")),
    (102, "clock view", include_str!("../migrations/0102_clock_view.sql")),
    (103, "work queues", include_str!("../migrations/0103_work_queues.sql")),
    (104, "case files", include_str!("../migrations/0104_case_files.sql")),
];

pub struct Application;

impl Application {
    pub async fn start(config: Config, token: CancellationToken) -> anyhow::Result<Running> {
        let mut service = Service::start(SERVICE, &config.common, MIGRATIONS, token).await?;
        let plumbing = service.plumbing.clone();
        let consumer = plumbing.consumer(consumers::Handler).await?;
        service.spawn(consumer.run(service.token()));
        let access = service.access.clone();
        let lookup = complaints_plumbing::lookup::LookupKey::from_config(config.common.lookup_key_file.as_deref())?;
        let api = grpc::AnalyticsApi { plumbing, access, lookup, triage_department: config.triage_department.clone() };
        Ok(service.run(AnalyticsServer::new(api)))
    }
}
