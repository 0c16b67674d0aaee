//! Intake: registers complaints from every channel (idempotent per channel request key),
//! assigns the complaint number, records the customer's answers and the follow-up, and owns
//! the complaint's authoritative lifecycle stage: it applies every stage-changing event of the
//! other services through the one lifecycle.

pub mod clocks;
pub mod config;
pub mod consumers;
pub mod domain;
pub mod erasure;
pub mod error;
pub mod grpc;
pub mod store;

use complaints_plumbing::service::{Running, Service};
use complaints_plumbing::store::EmbeddedMigration;
use complaints_proto::v1::intake_server::IntakeServer;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use error::Error;

pub const SERVICE: &str = "intake";

const MIGRATIONS: &[EmbeddedMigration] = &[
    (100, "intake", include_str!("../migrations/0100_intake.sql")),
    (101, "lifecycle stages", include_str!("../migrations/0101_lifecycle_stages.sql")),
    (102, "clocks", include_str!("../migrations/0102_clocks.sql")),
    (103, "outcomes", include_str!("../migrations/0103_outcomes.sql")),
    (104, "customer key", include_str!("../migrations/0104_customer_key.sql")),
    (105, "legal holds", include_str!("../migrations/0105_legal_holds.sql")),
    (106, "clear rows", include_str!("../migrations/0106_clear_rows.sql")),
];

/// Builds the service: store, broker, consumer and gRPC API.
pub struct Application;

impl Application {
    pub async fn start(config: Config, token: CancellationToken) -> anyhow::Result<Running> {
        let mut service = Service::start(SERVICE, &config.common, MIGRATIONS, token).await?;
        let plumbing = service.plumbing.clone();
        let book = service.clocks(clocks::Silence)?;
        clocks::check_rule_packs(&book, &config)?;
        let consumer = plumbing.consumer(consumers::Handler { book: book.clone(), config: config.clone() }).await?;
        service.spawn(consumer.run(service.token()));
        let lookup = complaints_plumbing::lookup::LookupKey::from_config(config.common.lookup_key_file.as_deref())?;
        let vault = plumbing.vault()?;
        let contact_seal = complaints_plumbing::sealed::SealFor::load(config.contact_seal_key_file.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "contact_seal_key_file (CMS_CONTACT_SEAL_KEY_FILE) is not set: the customer's contact travels sealed for \
                 notification's public key (complaintctl up generates .data/secrets/notification-contact.key.pub)"
            )
        })?)?;
        let sealed = store::seal_clear_rows(&plumbing.pool, &vault, &lookup).await?;
        if sealed > 0 {
            tracing::info!(sealed, "complaints stored in clear before encryption are now sealed");
        }
        if config.erase_after_retention {
            service.spawn(erasure::run(
                plumbing.pool.clone(),
                vault.clone(),
                config.clone(),
                plumbing.relay.clone(),
                plumbing.time.clone(),
                std::time::Duration::from_secs(config.erasure_sweep_secs.max(1)),
                service.token(),
            ));
        }
        let api = grpc::IntakeApi { plumbing, access: service.access.clone(), config, book, lookup, vault, contact_seal };
        Ok(service.run(IntakeServer::new(api)))
    }
}
