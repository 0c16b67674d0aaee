//! Analytics: consumes every lifecycle event; serves each complaint's timeline and live counts
//! by status, grade and channel.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod grpc;
pub mod store;

use complaints_proto::v1::analytics_server::AnalyticsServer;
use complaints_shared::events::names;
use complaints_shared::service::Service;
use tokio_util::sync::CancellationToken;

pub use config::Config;

pub const SERVICE: &str = "analytics";

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");


pub struct Application;

impl Application {
    pub async fn start(
        config: Config,
        token: CancellationToken,
    ) -> anyhow::Result<impl std::future::Future<Output = anyhow::Result<()>>> {
        let mut service = Service::start(SERVICE, &config.common, &MIGRATIONS, token).await?;
        let plumbing = service.plumbing.clone();
        let consumer = plumbing.consumer(&names::ALL, consumers::Handler).await?;
        service.spawn(consumer.run(service.token()));
        Ok(service.run(AnalyticsServer::new(grpc::AnalyticsApi { plumbing })))
    }
}
