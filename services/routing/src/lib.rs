//! Routing: grades and classifies each received complaint and assigns it to a department and a
//! handler without a conflict of interest.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod incidents;
pub mod screening;
pub mod detection;
pub mod moves;
pub mod store;

use std::sync::Arc;

use complaints_classifier::Classifier;
use complaints_plumbing::service::{Running, Service};
use complaints_plumbing::store::EmbeddedMigration;
use complaints_proto::v1::routing_server::RoutingServer;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use error::Error;

pub const SERVICE: &str = "routing";

/// The service's own migrations (the plumbing tables come with every store).
pub const MIGRATIONS: &[EmbeddedMigration] = &[
    (100, "routing", include_str!("../migrations/0100_routing.sql")),
    (101, "case work", include_str!("../migrations/0101_case_work.sql")),
    (102, "detection", include_str!("../migrations/0102_detection.sql")),
];

/// The trained model at `model_path` when present (a broken artifact stops start-up rather
/// than silently degrading); the classifier's rules alone otherwise.
fn load_classifier(config: &Config) -> anyhow::Result<Classifier> {
    let classifier = if config.model_path.exists() {
        Classifier::load(&config.model_path)?
    } else {
        tracing::warn!(path = %config.model_path.display(), "no classifier model; triage by rules only");
        Classifier::rules_only()
    };
    let classifier = classifier.with_config(config.classifier.clone());
    tracing::info!(model_version = %classifier.model_version(), "classifier ready");
    Ok(classifier)
}

pub struct Application;

impl Application {
    pub async fn start(config: Config, token: CancellationToken) -> anyhow::Result<Running> {
        let classifier = Arc::new(load_classifier(&config)?);
        let mut service = Service::start(SERVICE, &config.common, MIGRATIONS, token).await?;
        let plumbing = service.plumbing.clone();
        let handler = consumers::Handler { access: service.access.clone(), config: Arc::new(config.clone()), classifier };
        let consumer = plumbing.consumer(handler).await?;
        service.spawn(consumer.run(service.token()));
        let access = service.access.clone();
        Ok(service.run(RoutingServer::new(grpc::RoutingApi { plumbing, access, config: Arc::new(config) })))
    }
}
