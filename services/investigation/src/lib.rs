//! Investigation: the case file of each assigned complaint — evidence register with SHA-256,
//! findings, the proposed resolution, and the execution of the accepted remedy. A case's stage
//! is a projection of the one lifecycle.

pub mod chain;
pub mod clocks;
pub mod config;
pub mod consumers;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod store;

use complaints_plumbing::scheduler::NoWindows;
use complaints_plumbing::service::{Running, Service};
use complaints_plumbing::store::EmbeddedMigration;
use complaints_proto::v1::investigation_server::InvestigationServer;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use error::Error;

pub const SERVICE: &str = "investigation";

const MIGRATIONS: &[EmbeddedMigration] = &[
    (100, "investigation", include_str!("../migrations/0100_investigation.sql")),
    (101, "lifecycle stages", include_str!("../migrations/0101_lifecycle_stages.sql")),
    (102, "clocks", include_str!("../migrations/0102_clocks.sql")),
    (103, "case notes", include_str!("../migrations/0103_case_notes.sql")),
    (104, "evidence chain", include_str!("../migrations/0104_evidence_chain.sql")),
    (105, "clear evidence", include_str!("../migrations/0105_clear_evidence.sql")),
];

pub struct Application;

impl Application {
    pub async fn start(config: Config, token: CancellationToken) -> anyhow::Result<Running> {
        let mut service = Service::start(SERVICE, &config.common, MIGRATIONS, token).await?;
        let plumbing = service.plumbing.clone();
        let sealed = chain::seal_unchained(&plumbing.pool).await?;
        if sealed > 0 {
            tracing::info!(sealed, "evidence registered before the chain existed sealed into it");
        }
        let vault = plumbing.vault()?;
        let sealed = store::seal_clear_evidence(&plumbing.pool, &vault).await?;
        if sealed > 0 {
            tracing::info!(sealed, "evidence content stored in clear before encryption is now sealed");
        }
        service.audit_chain(std::sync::Arc::new(chain::EvidenceChain(vault.clone())));
        let book = service.clocks(NoWindows)?;
        let consumer = plumbing.consumer(consumers::Handler { book: book.clone(), vault: vault.clone() }).await?;
        service.spawn(consumer.run(service.token()));
        let access = service.access.clone();
        Ok(service.run(InvestigationServer::new(grpc::InvestigationApi { plumbing, access, config, book, vault })))
    }
}
