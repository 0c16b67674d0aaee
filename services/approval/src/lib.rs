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
use complaints_shared::service::Service;
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
        let mut service = Service::start(SERVICE, &config.common, &MIGRATIONS, token).await?;
        let plumbing = service.plumbing.clone();
        let handler = consumers::Handler { bands: config.approval_bands.clone() };
        let consumer = plumbing.consumer(&[names::RECEIVED, names::RESOLUTION_PROPOSED], handler).await?;
        service.spawn(consumer.run(service.token()));
        Ok(service.run(ApprovalServer::new(grpc::ApprovalApi { plumbing, org })))
    }
}
