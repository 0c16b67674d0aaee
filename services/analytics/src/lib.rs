//! Analytics: consumes every lifecycle event; serves each complaint's timeline and live counts
//! by status, grade and channel.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod grpc;
pub mod store;

use complaints_proto::v1::analytics_server::AnalyticsServer;
use complaints_shared::events::names;
use complaints_shared::service::{Plumbing, Tasks};
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
        let plumbing = Plumbing::connect(SERVICE, &config.common, &MIGRATIONS).await?;
        let (listener, addr) =
            complaints_shared::grpc::bind(&config.common.grpc_addr, config.common.grpc_addr_file.as_deref()).await?;
        tracing::info!(%addr, "analytics gRPC listening");
        let consumer = plumbing.consumer(&names::ALL, consumers::Handler).await?;
        let mut tasks = Tasks::new(token.clone());
        let api = grpc::AnalyticsApi { plumbing: plumbing.clone() };
        tasks.spawn(complaints_shared::grpc::serve(listener, AnalyticsServer::new(api), token.clone()));
        tasks.spawn(consumer.run(token));
        Ok(tasks.wait())
    }
}
