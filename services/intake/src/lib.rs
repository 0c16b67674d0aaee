//! Intake: registers complaints from every channel (idempotent per channel request key),
//! assigns the complaint number, and records the customer's answers and the follow-up.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod grpc;
pub mod store;

use complaints_proto::v1::intake_server::IntakeServer;
use complaints_shared::events::names;
use complaints_shared::service::{Plumbing, Tasks};
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
        let plumbing = Plumbing::connect(SERVICE, &config.common, &MIGRATIONS).await?;
        let (listener, addr) =
            complaints_shared::grpc::bind(&config.common.grpc_addr, config.common.grpc_addr_file.as_deref()).await?;
        tracing::info!(%addr, "intake gRPC listening");
        let consumer = plumbing
            .consumer(
                &[names::CUSTOMER_NOTIFIED, names::REMEDY_EXECUTED],
                consumers::Handler { relay: plumbing.relay.clone() },
            )
            .await?;
        let api = grpc::IntakeApi::new(plumbing.clone(), config.clone());
        let mut tasks = Tasks::new(token.clone());
        tasks.spawn(complaints_shared::grpc::serve(listener, IntakeServer::new(api), token.clone()));
        tasks.spawn_relay(&plumbing);
        tasks.spawn(consumer.run(token));
        Ok(tasks.wait())
    }
}
