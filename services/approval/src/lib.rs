//! Approval: chooses the approval level from the amount, collects the signatures that level
//! needs (never the proposer's, never a recused approver's) and announces the decision.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod grpc;
pub mod store;

use std::sync::Arc;

use complaints_proto::v1::approval_server::ApprovalServer;
use complaints_shared::domain::org::OrgDirectory;
use complaints_shared::events::names;
use complaints_shared::service::{Plumbing, Tasks};
use tokio_util::sync::CancellationToken;

pub use config::Config;

pub const SERVICE: &str = "approval";

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct Application;

impl Application {
    pub async fn start(
        config: Config,
        token: CancellationToken,
    ) -> anyhow::Result<impl std::future::Future<Output = anyhow::Result<()>>> {
        let org = Arc::new(OrgDirectory::load(&config.org_directory)?);
        let plumbing = Plumbing::connect(SERVICE, &config.common, &MIGRATIONS).await?;
        let (listener, addr) =
            complaints_shared::grpc::bind(&config.common.grpc_addr, config.common.grpc_addr_file.as_deref()).await?;
        tracing::info!(%addr, "approval gRPC listening");
        let handler = consumers::Handler { bands: config.approval_bands.clone() };
        let consumer = plumbing.consumer(&[names::RECEIVED, names::RESOLUTION_PROPOSED], handler).await?;
        let mut tasks = Tasks::new(token.clone());
        let api = grpc::ApprovalApi { plumbing: plumbing.clone(), org };
        tasks.spawn(complaints_shared::grpc::serve(listener, ApprovalServer::new(api), token.clone()));
        tasks.spawn_relay(&plumbing);
        tasks.spawn(consumer.run(token));
        Ok(tasks.wait())
    }
}
