//! What every service does at start-up and while running: open its store, connect to NATS,
//! create the JetStream topology, run the outbox relay, its consumers and its gRPC server as
//! tasks that all stop on one cancellation token.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;

use async_nats::jetstream;
use sqlx::AnyPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::access::Access;
use crate::auth::Verifier;
use crate::clocks::ClockBook;
use crate::config::CommonConfig;
use crate::consumer::{Consumes, ConsumerRunner, EventHandler};
use crate::grpc::Readiness;
use crate::metrics::Metrics;
use crate::outbox::{Relay, RelayHandle};
use crate::scheduler::{DueAction, Scheduler};
use crate::store::EmbeddedMigration;
use crate::time::TimeSource;

/// The connections a running service holds.
#[derive(Clone)]
pub struct Plumbing {
    pub service: &'static str,
    pub config: CommonConfig,
    pub pool: AnyPool,
    pub nats: async_nats::Client,
    pub jetstream: jetstream::Context,
    pub relay: RelayHandle,
    /// Verifies the bearer token of every call.
    pub verifier: Verifier,
    /// The clock scheduler's time (the system clock outside test deployments).
    pub time: TimeSource,
    /// The service's Prometheus metrics.
    pub metrics: Metrics,
    /// Envelope encryption of personal data, when `kek_file` is configured.
    pub vault: Option<crate::vault::Vault>,
}

impl Plumbing {
    /// Opens the store (with migrations) and NATS, and ensures the streams exist.
    pub async fn connect(service: &'static str, config: &CommonConfig, migrations: &[EmbeddedMigration]) -> anyhow::Result<Self> {
        config.retention.check(config.stream_max_age_days)?;
        let verifier = Verifier::from_config(&config.auth).await?;
        let time = config.time_source()?;
        let pool = crate::store::open(config, migrations).await?;
        let nats = crate::nats::connect(&config.nats_url, service, config.nats_nkey_seed_file.as_deref(), config.nats_tls_ca_file.as_deref()).await?;
        let jetstream = jetstream::new(nats.clone());
        crate::nats::ensure_streams(&jetstream, config.stream_max_age_days, config.retention.dead_letter_days).await?;
        crate::nats::ensure_audit_stream(&jetstream, config.audit_retention_days).await?;
        tracing::info!(service, "store and broker ready");
        let metrics = Metrics::new(service);
        let vault = match &config.kek_file {
            Some(path) => Some(crate::vault::Vault::open(pool.clone(), path)?),
            None => None,
        };
        Ok(Self { service, config: config.clone(), pool, nats, jetstream, relay: RelayHandle::default(), verifier, time, metrics, vault })
    }

    /// The vault of a service that keeps personal data; a clear error naming the setting when
    /// `kek_file` is not configured.
    pub fn vault(&self) -> anyhow::Result<crate::vault::Vault> {
        self.vault.clone().ok_or_else(|| {
            anyhow::anyhow!(
                "kek_file (CMS_KEK_FILE) is not set: {} keeps personal data, encrypted at rest under the installation's \
                 keyring (complaintctl up generates .data/secrets/kek.keys)",
                self.service
            )
        })
    }

    /// The durable consumer named after the service, filtered to the kinds `handler` consumes.
    pub async fn consumer<H: EventHandler>(&self, handler: H) -> anyhow::Result<ConsumerRunner<H>> {
        let consumer = crate::nats::ensure_consumer(&self.jetstream, self.service, H::Event::KINDS).await?;
        Ok(ConsumerRunner {
            name: self.service.to_owned(),
            pool: self.pool.clone(),
            jetstream: self.jetstream.clone(),
            consumer,
            handler,
            max_deliver: self.config.max_deliver,
            relay: self.relay.clone(),
        })
    }

    pub fn relay(&self) -> Relay {
        Relay::new(self.pool.clone(), self.jetstream.clone(), &self.relay)
    }
}

/// A service being assembled: connected, its gRPC port bound, its relay running. Add consumers
/// and workers with [`Service::spawn`], then [`Service::run`] with the gRPC API.
pub struct Service {
    pub plumbing: Plumbing,
    /// The organisation directory as an authorisation source.
    pub access: Access,
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    tasks: Tasks,
    chains: Vec<Arc<dyn crate::audit::RecordChain>>,
}

/// What [`Service::start`] returns with `migrate_only`: the store is migrated and the process
/// ends successfully ([`run_main`]).
#[derive(Debug, thiserror::Error)]
#[error("migrated; migrate_only asks for nothing more")]
pub struct Migrated;

/// A started service: where it listens, and the future that runs it until its token is
/// cancelled (or a task fails).
pub struct Running {
    pub addr: SocketAddr,
    /// Where `GET /metrics` answers, when configured.
    pub metrics_addr: Option<SocketAddr>,
    pub until_stopped: BoxFuture<'static, anyhow::Result<()>>,
}

impl Service {
    pub async fn start(
        service: &'static str,
        config: &CommonConfig,
        migrations: &[EmbeddedMigration],
        token: CancellationToken,
    ) -> anyhow::Result<Self> {
        if config.migrate_only {
            crate::store::open(config, migrations).await?.close().await;
            tracing::info!(service, "store migrated (migrate_only); exiting");
            return Err(Migrated.into());
        }
        let access = Access::load(&config.org_directory)?;
        let plumbing = Plumbing::connect(service, config, migrations).await?;
        let (listener, addr) = crate::grpc::bind(&config.grpc_addr, config.grpc_addr_file.as_deref()).await?;
        tracing::info!(service, %addr, "gRPC listening");
        let mut tasks = Tasks::new(token);
        tasks.spawn_relay(&plumbing);
        let heads = crate::audit::HeadPublisher {
            pool: plumbing.pool.clone(),
            jetstream: plumbing.jetstream.clone(),
            service,
            interval: std::time::Duration::from_secs(config.audit_head_interval_secs.max(1)),
        };
        tasks.spawn(heads.run(tasks.token()));
        tasks.spawn(crate::retention::run(plumbing.pool.clone(), config.retention.clone(), tasks.token()));
        if let Some(vault) = plumbing.vault.clone() {
            tasks.spawn(vault.run(std::time::Duration::from_secs(config.key_check_secs.max(1)), tasks.token()));
        }
        let metrics_addr = match plumbing.metrics.bind(&config.metrics_addr).await? {
            Some((metrics_addr, serving)) => {
                tracing::info!(service, %metrics_addr, "metrics listening");
                tasks.spawn(crate::metrics::serve(serving, tasks.token()));
                Some(metrics_addr)
            }
            None => None,
        };
        Ok(Self { plumbing, access, listener, addr, metrics_addr, tasks, chains: Vec::new() })
    }

    pub fn token(&self) -> CancellationToken {
        self.tasks.token()
    }

    /// Adds one of the service's own record chains to what its `Audit` service verifies.
    pub fn audit_chain(&mut self, chain: Arc<dyn crate::audit::RecordChain>) {
        self.chains.push(chain);
    }

    /// Loads the calendars and rule packs and runs the clock scheduler of this service, with
    /// `action` for its windows. Returns the book the service starts its clocks from.
    pub fn clocks<A: DueAction>(&mut self, action: A) -> anyhow::Result<Arc<ClockBook>> {
        let book = ClockBook::load(&self.plumbing.config.clocks, Some(self.plumbing.metrics.clone()))?;
        let scheduler = Scheduler {
            producer: self.plumbing.service,
            pool: self.plumbing.pool.clone(),
            book: book.clone(),
            time: self.plumbing.time.clone(),
            access: self.access.clone(),
            relay: self.plumbing.relay.clone(),
            action,
        };
        self.tasks.spawn(scheduler.run(self.tasks.token()));
        Ok(book)
    }

    /// Runs `task` beside the others until the token is cancelled.
    pub fn spawn<F>(&mut self, task: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.tasks.spawn(task);
    }

    /// Serves `api` (behind authentication, with health and reflection); the returned
    /// [`Running`] runs every task until the token is cancelled or one fails.
    pub fn run<S>(mut self, api: S) -> Running
    where
        S: tower_service::Service<http::Request<tonic::body::Body>, Response = http::Response<tonic::body::Body>, Error = std::convert::Infallible>
            + tonic::server::NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let token = self.tasks.token();
        let readiness = Readiness { pool: self.plumbing.pool.clone(), nats: self.plumbing.nats.clone() };
        self.tasks.spawn(crate::grpc::serve(self.listener, api, self.plumbing.verifier.clone(), readiness, self.plumbing.service, self.chains, token));
        Running { addr: self.addr, metrics_addr: self.metrics_addr, until_stopped: Box::pin(self.tasks.wait()) }
    }
}

/// A service's tasks. The first to fail cancels the others; `wait` returns its error.
pub struct Tasks {
    set: JoinSet<anyhow::Result<()>>,
    token: CancellationToken,
    /// The relay stops only after every other task has, so its final pass publishes what they
    /// committed while draining.
    relay: Option<(CancellationToken, tokio::task::JoinHandle<()>)>,
}

impl Tasks {
    pub fn new(token: CancellationToken) -> Self {
        Self { set: JoinSet::new(), token, relay: None }
    }

    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    pub fn spawn<F>(&mut self, task: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.set.spawn(task);
    }

    /// Runs the outbox relay of `plumbing` until the token is cancelled.
    pub fn spawn_relay(&mut self, plumbing: &Plumbing) {
        let relay = plumbing.relay();
        let token = CancellationToken::new();
        let handle = tokio::spawn(relay.run(token.clone()));
        self.relay = Some((token, handle));
    }

    /// Waits for every task; a failing task cancels the rest.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut first_error = None;
        while let Some(result) = self.set.join_next().await {
            let failure = match result {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(error),
                Err(join_error) => Some(anyhow::anyhow!("task panicked: {join_error}")),
            };
            if let Some(error) = failure {
                tracing::error!(error = %format!("{error:#}"), "service task failed; stopping");
                self.token.cancel();
                first_error.get_or_insert(error);
            }
        }
        if let Some((token, handle)) = self.relay.take() {
            token.cancel();
            let _ = handle.await;
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// The standard `main` body: telemetry, signal handling, build, run until stopped.
pub async fn run_main<C, A, B>(service: &'static str, load: impl FnOnce() -> anyhow::Result<C>, common: impl Fn(&C) -> &CommonConfig, build: B) -> anyhow::Result<()>
where
    B: FnOnce(C, CancellationToken) -> A,
    A: Future<Output = anyhow::Result<Running>>,
{
    let config = load()?;
    let settings = common(&config);
    let _telemetry = crate::telemetry::init(service, settings.otlp_endpoint.as_deref(), &settings.log_format)?;
    let token = crate::shutdown::on_signal();
    let running = match build(config, token).await {
        Err(error) if error.is::<Migrated>() => return Ok(()),
        other => other?,
    };
    let result = running.until_stopped.await;
    tracing::info!(service, "stopped");
    result
}
