//! Approval: chooses the approval level from the amount, collects the signatures that level
//! needs (never the proposer's, never a recused approver's, only from the case's line) and
//! announces the decision.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod error;
pub mod extensions;
pub mod grpc;
pub mod store;

use complaints_plumbing::scheduler::NoWindows;
use complaints_plumbing::service::{Running, Service};
use complaints_plumbing::store::EmbeddedMigration;
use complaints_proto::v1::approval_server::ApprovalServer;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use error::Error;

pub const SERVICE: &str = "approval";

const MIGRATIONS: &[EmbeddedMigration] = &[
    (100, "approval", include_str!("../migrations/0100_approval.sql")),
    (101, "proposal department", include_str!("../migrations/0101_case_department.sql")),
    (102, "clocks", include_str!("../migrations/0102_clocks.sql")),
];

pub struct Application;

impl Application {
    pub async fn start(config: Config, token: CancellationToken) -> anyhow::Result<Running> {
        let mut service = Service::start(SERVICE, &config.common, MIGRATIONS, token).await?;
        let plumbing = service.plumbing.clone();
        let book = service.clocks(NoWindows)?;
        let consumer = plumbing.consumer(consumers::Handler { bands: config.approval_bands.clone(), book: book.clone() }).await?;
        service.spawn(consumer.run(service.token()));
        let access = service.access.clone();
        Ok(service.run(ApprovalServer::new(grpc::ApprovalApi { plumbing, access, book })))
    }
}
