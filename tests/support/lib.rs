//! Whole-system test support: a real nats-server, the six service binaries as child processes
//! (so a test can `kill -9` any of them), per-run stores on SQLite or PostgreSQL, a webhook sink
//! that plays the customer-messaging gateway, and gRPC clients.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use complaints_proto::v1::{
    analytics_client::AnalyticsClient, approval_client::ApprovalClient, intake_client::IntakeClient,
    investigation_client::InvestigationClient, notification_client::NotificationClient, routing_client::RoutingClient,
};
use complaints_plumbing::store::Backend;
use complaints_plumbing::testing::{eventually, AuthorizedChannel, Bearer, NatsServer, TestAuth, TestStores};
use tonic::transport::Channel;

pub use complaints_plumbing::testing;

pub const SERVICES: [&str; 6] = ["intake", "routing", "investigation", "approval", "notification", "analytics"];

/// The repository root (for `deploy/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

/// Directory holding the service binaries: next to this executable, or above its `deps/`.
fn binary_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("executable path");
    let dir = exe.parent().expect("executable directory");
    if dir.ends_with("deps") {
        dir.parent().expect("target directory").to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// One delivery the gateway received.
#[derive(Debug, Clone)]
pub struct Received {
    pub idempotency_key: String,
    pub body: serde_json::Value,
}

/// An HTTP endpoint standing in for the SMS / e-mail gateway.
#[derive(Clone, Default)]
pub struct WebhookSink {
    pub received: Arc<Mutex<Vec<Received>>>,
    pub url: String,
}

impl WebhookSink {
    pub async fn start() -> Self {
        use axum::{http::HeaderMap, routing::post, Json, Router};
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let store = received.clone();
        let app = Router::new().route(
            "/deliveries",
            post(move |headers: HeaderMap, Json(body): Json<serde_json::Value>| {
                let store = store.clone();
                async move {
                    let idempotency_key = headers
                        .get("Idempotency-Key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    store.lock().expect("sink lock").push(Received { idempotency_key, body });
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let url = format!("http://{}/deliveries", listener.local_addr().expect("sink address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { received, url }
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().expect("sink lock").clone()
    }

    /// Distinct idempotency keys received for a complaint, by kind.
    pub fn kinds_for(&self, complaint_id: &str) -> HashMap<String, Vec<String>> {
        let mut kinds: HashMap<String, Vec<String>> = HashMap::new();
        for item in self.all() {
            if item.body["complaint_id"] == complaint_id {
                let keys = kinds.entry(item.body["kind"].as_str().unwrap_or_default().to_owned()).or_default();
                if !keys.contains(&item.idempotency_key) {
                    keys.push(item.idempotency_key.clone());
                }
            }
        }
        kinds
    }
}

/// A service running as a child process.
pub struct ServiceProcess {
    pub name: &'static str,
    child: Option<Child>,
    env: Vec<(String, String)>,
    log: PathBuf,
    addr_file: PathBuf,
    pub addr: String,
}

impl ServiceProcess {
    fn spawn(name: &'static str, env: Vec<(String, String)>, directory: &Path) -> Self {
        let addr_file = directory.join(format!("{name}.addr"));
        let log = directory.join(format!("{name}.log"));
        let mut process = Self { name, child: None, env, log, addr_file, addr: String::new() };
        process.start();
        process
    }

    fn start(&mut self) {
        let _ = std::fs::remove_file(&self.addr_file);
        let binary = binary_dir().join(self.name);
        assert!(binary.exists(), "{} is missing: run `cargo build --workspace --bins` first", binary.display());
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("service log");
        let child = Command::new(&binary)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("CMS_GRPC_ADDR_FILE", &self.addr_file)
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(addr) = std::fs::read_to_string(&self.addr_file) {
                self.addr = format!("http://{addr}");
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("{} exited during start-up ({status}); log:\n{}", self.name, self.log_text());
            }
            assert!(std::time::Instant::now() < deadline, "{} did not start; log:\n{}", self.name, self.log_text());
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// `kill -9`: no chance to drain or flush.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the service again with the same configuration (and a new port).
    pub fn restart(&mut self) {
        self.kill9();
        self.start();
    }

    /// SIGTERM, then waits for a clean exit; returns whether it exited successfully.
    pub fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return false };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// All six services on one nats-server, with their stores and the webhook sink.
pub struct Platform {
    pub nats: NatsServer,
    pub stores: TestStores,
    pub sink: WebhookSink,
    pub services: Vec<ServiceProcess>,
    /// The test's own signing key; the services trust its public half.
    pub auth: TestAuth,
}

impl Platform {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, &[]).await
    }

    /// The platform with `extra` settings (`CMS_…` variables) given to every service.
    pub async fn start_with(backend: Backend, extra: &[(&str, &str)]) -> Self {
        let nats = NatsServer::start();
        let stores = TestStores::new(backend);
        let sink = WebhookSink::start().await;
        let org = repo_root().join("deploy/org-directory.toml");
        let auth = TestAuth::new();
        let auth_config = auth.config();
        let jwks = auth_config.jwks_file.clone().expect("a test key set file");
        let lookup_key = testing::test_lookup_key(&stores);
        let keyring = testing::test_keyring(&stores);
        let contact_key = testing::test_sealing_key(&stores, "notification-contact.key");
        let gateway_key = testing::test_sealing_key(&stores, "gateway.key");
        let mut services = Vec::new();
        for name in SERVICES {
            let mut env = vec![
                ("CMS_NATS_URL".to_owned(), nats.url()),
                ("CMS_NATS_NKEY_SEED_FILE".to_owned(), nats.seed_file(name).display().to_string()),
                ("CMS_GRPC_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
                ("CMS_ORG_DIRECTORY".to_owned(), org.display().to_string()),
                ("CMS_WEBHOOK_URL".to_owned(), sink.url.clone()),
                ("CMS_RETRY_BASE_SECONDS".to_owned(), "1".to_owned()),
                ("CMS_AUDIT_HEAD_INTERVAL_SECS".to_owned(), "1".to_owned()),
                // Routing triages by the classifier's rules alone, whatever model a developer trained.
                ("CMS_MODEL_PATH".to_owned(), stores.path("no-model.json").display().to_string()),
                ("RUST_LOG".to_owned(), "info,sqlx=warn".to_owned()),
                ("CMS_AUTH__ISSUER".to_owned(), auth_config.issuer.clone()),
                ("CMS_AUTH__AUDIENCE".to_owned(), auth_config.audience.clone()),
                ("CMS_AUTH__JWKS_FILE".to_owned(), jwks.display().to_string()),
                // A test deployment: the clock schedulers follow the test's time offset.
                ("CMS_DEPLOYMENT".to_owned(), "test".to_owned()),
                ("CMS_CLOCKS__TEST_TIME_FILE".to_owned(), stores.path("test-time-offset-ms").display().to_string()),
                ("CMS_CLOCKS__POLL_MS".to_owned(), "100".to_owned()),
                ("CMS_METRICS_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
                ("CMS_LOOKUP_KEY_FILE".to_owned(), lookup_key.display().to_string()),
                ("CMS_KEK_FILE".to_owned(), keyring.display().to_string()),
                ("CMS_KEY_CHECK_SECS".to_owned(), "1".to_owned()),
                ("CMS_CONTACT_SEAL_KEY_FILE".to_owned(), complaints_plumbing::sealed::public_path(&contact_key).display().to_string()),
                ("CMS_CONTACT_OPEN_KEY_FILE".to_owned(), contact_key.display().to_string()),
                ("CMS_SPOOL_SEAL_KEY_FILE".to_owned(), complaints_plumbing::sealed::public_path(&gateway_key).display().to_string()),
            ];
            // On PostgreSQL each service migrates as its owner role and works as its runtime role.
            env.extend(stores.database_env(name).await);
            env.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
            services.push(ServiceProcess::spawn(name, env, stores.directory()));
        }
        Self { nats, stores, sink, services, auth }
    }

    /// Moves every service's clock scheduler `offset_ms` ahead of the system clock (absolute:
    /// a later call replaces the offset).
    pub fn shift_time(&self, offset_ms: i64) {
        complaints_plumbing::testing::shift_time(&self.stores, offset_ms);
    }

    pub fn service(&mut self, name: &str) -> &mut ServiceProcess {
        self.services.iter_mut().find(|s| s.name == name).expect("known service")
    }

    fn addr(&self, name: &str) -> String {
        self.services.iter().find(|s| s.name == name).expect("known service").addr.clone()
    }

    /// The address of a service's gRPC API, `http://host:port`.
    pub fn address(&self, name: &str) -> String {
        self.addr(name)
    }

    async fn channel(&self, name: &str) -> Channel {
        Channel::from_shared(self.addr(name)).expect("uri").connect().await.expect("connect gRPC")
    }

    /// A channel to `name` whose calls carry a token for `subject` (a staff id, or
    /// `channel:<name>` for a channel system).
    async fn channel_as(&self, name: &str, subject: &str) -> AuthorizedChannel {
        let token = if subject.starts_with("channel:") {
            self.auth.token(subject, &["channel"])
        } else {
            self.auth.staff(subject)
        };
        tonic::service::interceptor::InterceptedService::new(self.channel(name).await, Bearer::new(&token))
    }

    /// Intake as the app's channel system (the sample complaint's channel).
    pub async fn intake(&self) -> IntakeClient<AuthorizedChannel> {
        self.intake_as("channel:app").await
    }
    pub async fn intake_as(&self, subject: &str) -> IntakeClient<AuthorizedChannel> {
        IntakeClient::new(self.channel_as("intake", subject).await)
    }
    /// Routing as a member of staff.
    pub async fn routing(&self) -> RoutingClient<AuthorizedChannel> {
        self.routing_as("CS-HEAD").await
    }
    pub async fn routing_as(&self, subject: &str) -> RoutingClient<AuthorizedChannel> {
        RoutingClient::new(self.channel_as("routing", subject).await)
    }
    pub async fn investigation_as(&self, subject: &str) -> InvestigationClient<AuthorizedChannel> {
        InvestigationClient::new(self.channel_as("investigation", subject).await)
    }
    pub async fn approval_as(&self, subject: &str) -> ApprovalClient<AuthorizedChannel> {
        ApprovalClient::new(self.channel_as("approval", subject).await)
    }
    /// Notification as a member of staff.
    pub async fn notification(&self) -> NotificationClient<AuthorizedChannel> {
        NotificationClient::new(self.channel_as("notification", "CS-HEAD").await)
    }
    /// Analytics as a member of staff.
    pub async fn analytics(&self) -> AnalyticsClient<AuthorizedChannel> {
        self.analytics_as("CS-HEAD").await
    }
    pub async fn analytics_as(&self, subject: &str) -> AnalyticsClient<AuthorizedChannel> {
        AnalyticsClient::new(self.channel_as("analytics", subject).await)
    }
    /// The audit verification of `service`, as a platform operator (`operator` true) or as the
    /// member of staff `CS-HEAD`.
    pub async fn audit(&self, service: &str, operator: bool) -> complaints_proto::v1::audit_client::AuditClient<AuthorizedChannel> {
        let token = if operator { self.auth.token("ops-1", &["operator"]) } else { self.auth.staff("CS-HEAD") };
        let channel = tonic::service::interceptor::InterceptedService::new(self.channel(service).await, Bearer::new(&token));
        complaints_proto::v1::audit_client::AuditClient::new(channel)
    }

    /// Unauthenticated clients, for tests of the authentication layer.
    pub async fn intake_without_token(&self) -> IntakeClient<Channel> {
        IntakeClient::new(self.channel("intake").await)
    }

    /// The `grpc.health.v1` status of the service's API and the services its reflection lists.
    pub async fn health_and_reflection(&self, name: &str) -> (i32, Vec<String>) {
        use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        let channel = self.channel(name).await;
        let service = format!("complaints.v1.{}{}", name[..1].to_uppercase(), &name[1..]);
        let health = HealthClient::new(channel.clone())
            .check(HealthCheckRequest { service })
            .await
            .expect("health check")
            .into_inner()
            .status;
        let request = ServerReflectionRequest { host: String::new(), message_request: Some(MessageRequest::ListServices(String::new())) };
        let mut responses = ServerReflectionClient::new(channel)
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await
            .expect("reflection")
            .into_inner();
        let mut listed = Vec::new();
        if let Ok(Some(response)) = responses.message().await {
            if let Some(MessageResponse::ListServicesResponse(list)) = response.message_response {
                listed = list.service.into_iter().map(|s| s.name).collect();
            }
        }
        (health, listed)
    }

    /// The services a service's reflection lists, as grpcio's Python reflection client (the
    /// v1alpha protocol) sees them. Needs `grpcio` and `grpcio-reflection` on `PYTHONPATH`
    /// (`deploy/test.sh` installs them under `.tools/python`).
    pub fn grpcio_reflection(&self, name: &str) -> Vec<String> {
        let address = self.addr(name).trim_start_matches("http://").to_owned();
        let python_path = repo_root().join(".tools/python");
        let output = Command::new("python3")
            .arg(repo_root().join("tests/grpcio_reflection.py"))
            .arg(&address)
            .env("PYTHONPATH", std::env::var("PYTHONPATH").map(|p| format!("{}:{p}", python_path.display())).unwrap_or_else(|_| python_path.display().to_string()))
            .output()
            .expect("python3 runs (install it; deploy/test.sh does)");
        assert!(
            output.status.success(),
            "grpcio reflection client failed for {name} at {address}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect()
    }

    /// A direct connection to a service's own store, for assertions.
    pub async fn store(&self, name: &str) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&self.stores.url(name))
            .await
            .expect("connect to service store")
    }

    /// Count from a service store (`sql` selects one BIGINT).
    pub async fn count(&self, name: &str, sql: &str) -> i64 {
        let pool = self.store(name).await;
        let value: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.expect("count query");
        pool.close().await;
        value
    }

    /// Waits until every durable consumer has nothing pending or unacknowledged.
    pub async fn wait_idle(&self, timeout: Duration) {
        let client = self.nats.connect().await;
        let js = async_nats::jetstream::new(client);
        eventually("all consumers idle", timeout, || {
            let js = js.clone();
            async move {
                let stream = js.get_stream(complaints_plumbing::events::EVENTS_STREAM).await.ok()?;
                for name in SERVICES {
                    let info = stream.consumer_info(name).await.ok()?;
                    if info.num_pending > 0 || info.num_ack_pending > 0 {
                        return None;
                    }
                }
                let outbox_pending = {
                    let mut pending = 0;
                    for name in SERVICES {
                        pending += self.count(name, "SELECT COUNT(*) FROM outbox WHERE published_at_ms IS NULL").await;
                    }
                    pending
                };
                (outbox_pending == 0).then_some(())
            }
        })
        .await;
    }
}

/// A valid resident ID card number (GB 11643 checksum) for test customer `n`.
pub fn customer_id(n: u64) -> String {
    let body = format!("110105{:08}{:03}", 19_490_101 + (n / 1000) % 500_000, n % 1000);
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.bytes().zip(weights).map(|(digit, weight)| u32::from(digit - b'0') * weight).sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

fn key_hash(key: &str, salt: u64) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325_u64 ^ salt, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// A valid submission; `key` makes it unique: its own customer (ID number) and its own
/// reference words, so unrelated test complaints are neither repeats nor a mass incident.
pub fn sample_complaint(key: &str) -> complaints_proto::v1::SubmitComplaintRequest {
    use complaints_proto::v1 as pb;
    let references: Vec<String> = (0..40).map(|i| format!("r{:06x}", key_hash(key, i) & 0xff_ffff)).collect();
    pb::SubmitComplaintRequest {
        request_key: key.to_owned(),
        channel: pb::Channel::App as i32,
        customer: Some(pb::Customer {
            name: "Zhang San".into(),
            id_type: pb::IdDocumentType::IdCard as i32,
            id_number: customer_id(key_hash(key, 99) % 1_000_000_000),
            phone: "13812345678".into(),
            email: "zhang.san@example.com".into(),
            address: "1 Chaoyang Road, Beijing".into(),
            account_number: "6222020200112233445".into(),
            preferred_channel: pb::Channel::Sms as i32,
        }),
        summary: "Annual fee charged on a card I cancelled".into(),
        description: format!(
            "An annual fee of 500 CNY was charged twice on 2026-11-02 although I closed the card in October. Statement references {}.",
            references.join(" ")
        ),
        demand: "refund".into(),
        amount_involved: Some(pb::Money { minor_units: 50_000, currency: "CNY".into() }),
        product_hint: "credit card".into(),
        evidence: vec![pb::EvidenceItem { kind: "screenshot".into(), description: "statement page".into(), reference: "app://upload/1".into() }],
        receiving_staff: String::new(),
        received_at: String::new(),
        staff_involved: vec![],
        branch_involved: String::new(),
        tags: vec![],
    }
}

/// Both store backends, for tests that must pass on each.
pub fn backends() -> [Backend; 2] {
    [Backend::Sqlite, Backend::Postgres]
}

pub use complaints_plumbing::testing::eventually as wait_for;

// ---------------------------------------------------------------------------------------------
// Case helpers shared by the whole-system tests: every one polls the running services for the
// state it waits for; none sleeps in place of a result.
// ---------------------------------------------------------------------------------------------

use complaints_proto::v1 as pb;

/// How long a whole-system step may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(60);

pub fn clock_state(clock: &pb::ClockSnapshot) -> pb::ClockState {
    pb::ClockState::try_from(clock.state).unwrap_or(pb::ClockState::Unspecified)
}

/// Every clock of the complaint on the read side.
pub async fn clocks_of(platform: &Platform, number: &str) -> Vec<pb::ClockSnapshot> {
    let mut analytics = platform.analytics().await;
    let request = pb::ListClocksRequest { complaint_number: number.to_owned(), ..Default::default() };
    match analytics.list_clocks(request).await {
        Ok(clocks) => clocks.into_inner().clocks.into_iter().filter_map(|row| row.clock).collect(),
        Err(_) => Vec::new(),
    }
}

/// Waits until one of the complaint's clocks on the read side satisfies `wanted` (latest round
/// first).
pub async fn clock_where(platform: &Platform, number: &str, what: &str, wanted: impl Fn(&pb::ClockSnapshot) -> bool) -> pb::ClockSnapshot {
    let wanted = &wanted;
    wait_for(what, WAIT, || async move {
        let mut clocks = clocks_of(platform, number).await;
        clocks.sort_by_key(|clock| std::cmp::Reverse(clock.round));
        clocks.into_iter().find(|clock| wanted(clock))
    })
    .await
}

/// Waits until the complaint's clock `kind` (latest round) is in `expected` on the read side.
pub async fn clock_in(platform: &Platform, number: &str, kind: &str, expected: pb::ClockState) -> pb::ClockSnapshot {
    let latest_round = clock_where(platform, number, &format!("a {kind} clock"), |clock| clock.kind == kind).await.round;
    clock_where(platform, number, &format!("{kind} clock {expected:?}"), |clock| {
        clock.kind == kind && clock.round >= latest_round && clock_state(clock) == expected
    })
    .await
}

/// Submits as the app's channel system; the complaint number.
pub async fn submit(platform: &Platform, request: pb::SubmitComplaintRequest) -> String {
    platform.intake().await.submit_complaint(request).await.expect("submit").into_inner().complaint_number
}

/// Waits for a timeline line of `stage` whose detail contains `text`: `(stage, actor, detail)`.
pub async fn timeline_line(platform: &Platform, number: &str, stage: &str, text: &str) -> (String, String, String) {
    wait_for(&format!("{stage} on the timeline of {number}"), WAIT, || async move {
        let mut analytics = platform.analytics().await;
        let request = pb::GetTimelineRequest { complaint_number: number.to_owned(), ..Default::default() };
        let timeline = analytics.get_timeline(request).await.ok()?.into_inner();
        timeline.entries.into_iter().find(|e| e.stage == stage && e.detail.contains(text)).map(|e| (e.stage, e.actor, e.detail))
    })
    .await
}

/// The complaint as intake (the lifecycle's owner) shows it.
pub async fn complaint(platform: &Platform, number: &str) -> pb::ComplaintView {
    let mut intake = platform.intake().await;
    let request = pb::GetComplaintRequest { complaint_number: number.to_owned(), ..Default::default() };
    intake.get_complaint(request).await.expect("complaint").into_inner()
}

pub async fn stage(platform: &Platform, number: &str) -> String {
    complaint(platform, number).await.status
}

pub async fn wait_stage(platform: &Platform, number: &str, expected: &str) {
    wait_for(&format!("stage {expected}"), WAIT, || async move { (stage(platform, number).await == expected).then_some(()) }).await;
}

/// Routing's assignment of the complaint.
pub async fn assignment(platform: &Platform, number: &str) -> Option<pb::Assignment> {
    let mut routing = platform.routing().await;
    routing.get_assignment(pb::GetAssignmentRequest { complaint_id: number.to_owned() }).await.ok().map(tonic::Response::into_inner)
}

/// Investigation's case of the complaint, read by a supervisor of customer service.
pub async fn case_of(platform: &Platform, number: &str) -> Option<pb::CaseView> {
    let mut investigation = platform.investigation_as("CS-HEAD").await;
    investigation.get_case(pb::GetCaseRequest { complaint_number: number.to_owned() }).await.ok().map(tonic::Response::into_inner)
}

/// The handler routing assigned, once the case is open.
pub async fn handler_of(platform: &Platform, number: &str) -> String {
    let handler = wait_for("assignment", WAIT, || async move { assignment(platform, number).await.map(|a| a.handler_id) }).await;
    wait_for("case opened", WAIT, || async move { case_of(platform, number).await }).await;
    handler
}

/// A first message at the delivery sink that satisfies `wanted`.
pub async fn delivered(platform: &Platform, what: &str, wanted: impl Fn(&Received) -> bool) -> Received {
    let wanted = &wanted;
    wait_for(what, WAIT, || async move { platform.sink.all().into_iter().find(|message| wanted(message)) }).await
}

/// The fee waiver the sample complaint's handler proposes.
pub fn fee_waiver() -> pb::Resolution {
    pb::Resolution {
        resolution_type: pb::ResolutionType::FeeWaiver as i32,
        amount: Some(pb::Money { minor_units: 50_000, currency: "CNY".into() }),
        conclusion: "The fee is refunded".into(),
        basis: "Card agreement 4.2".into(),
        execution_method: "Credit to the card".into(),
    }
}

/// Works the case as its handler up to the result reaching the customer; returns the handler.
pub async fn resolve(platform: &Platform, number: &str) -> String {
    let handler = handler_of(platform, number).await;
    propose_and_approve(platform, number, &handler, fee_waiver()).await;
    handler
}

/// `worker` records a finding and proposes `resolution`; the head of retail operations approves
/// the new proposal; waits until the result reached the customer.
pub async fn propose_and_approve(platform: &Platform, number: &str, worker: &str, resolution: pb::Resolution) {
    let mut investigation = platform.investigation_as(worker).await;
    investigation
        .record_finding(pb::RecordFindingRequest { complaint_number: number.to_owned(), finding: "fee charged after closure".into() })
        .await
        .expect("finding");
    let proposal = investigation
        .propose_resolution(pb::ProposeResolutionRequest { complaint_number: number.to_owned(), resolution: Some(resolution) })
        .await
        .expect("proposal")
        .into_inner()
        .proposal_id;
    let approval = platform.approval_as("RO-HEAD").await;
    let approval = &approval;
    let proposal = &proposal;
    wait_for("approval opened", WAIT, || async move {
        let mut approval = approval.clone();
        let view = approval.get_approval(pb::GetApprovalRequest { complaint_number: number.to_owned() }).await.ok()?.into_inner();
        (view.proposal_id == *proposal).then_some(())
    })
    .await;
    approval.clone().approve(pb::DecideRequest { complaint_number: number.to_owned(), comment: String::new() }).await.expect("approve");
    wait_stage(platform, number, "customer_informed").await;
}
