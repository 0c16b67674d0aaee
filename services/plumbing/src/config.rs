//! Service configuration: built-in defaults, then an optional TOML file, then `CMS_*` environment
//! variables (highest precedence).

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::auth::AuthConfig;

/// Settings every service has.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommonConfig {
    /// NATS server URL with JetStream enabled.
    pub nats_url: String,
    /// The service's NKey seed file for the locked-down broker (`complaintctl up` generates
    /// one per service); unset: connect without credentials (an open development broker).
    pub nats_nkey_seed_file: Option<PathBuf>,
    /// The CA (PEM) the broker's TLS certificate is verified against; when set, the connection
    /// must be TLS. Unset: plain TCP (a broker on the same host or a private network).
    pub nats_tls_ca_file: Option<PathBuf>,
    /// `sqlite://path/to/file.db` (default) or `postgres://user@host/database`; on PostgreSQL
    /// the service's runtime role, with `?sslmode=verify-full&sslrootcert=<ca.pem>` for TLS.
    pub database_url: String,
    /// File holding the password of `database_url`'s role (secrets stay out of URLs and
    /// configuration files; `complaintctl db provision` writes it).
    pub database_password_file: Option<PathBuf>,
    /// PostgreSQL only: the owner role's URL; when set, migrations run as the owner, which
    /// then grants the runtime role of `database_url` only what it needs (see `roles`).
    pub database_owner_url: Option<String>,
    /// File holding the owner role's password.
    pub database_owner_password_file: Option<PathBuf>,
    /// Apply the migrations at start (default). `false`: the schema is migrated by a separate
    /// step (`migrate_only`), the service only checks it is current and never holds the
    /// owner's credentials.
    pub database_migrate: bool,
    /// Apply the migrations (and the runtime role's grants) and exit: the deployment step that
    /// alone holds the owner's password.
    pub migrate_only: bool,
    /// Address the gRPC server binds, e.g. `127.0.0.1:50051`; port 0 picks a free port.
    pub grpc_addr: String,
    /// When set, the bound gRPC address is written to this file once the server listens.
    pub grpc_addr_file: Option<PathBuf>,
    /// OTLP/gRPC collector endpoint, e.g. `http://127.0.0.1:4317`; traces are exported only when set.
    pub otlp_endpoint: Option<String>,
    /// `text` or `json` log lines on stderr.
    pub log_format: String,
    /// Maximum age of events kept in the JetStream stream, in days.
    pub stream_max_age_days: u64,
    /// Deliveries of one event before it is dead-lettered.
    pub max_deliver: i64,
    /// How long the plumbing keeps outbox rows, inbox claims and dead letters (`CMS_RETENTION__…`).
    pub retention: crate::retention::RetentionConfig,
    /// How long the audit stream keeps published audit-chain heads, in days (long retention).
    pub audit_retention_days: u64,
    /// How often the audit chain's head is published to the audit stream when it moved, in
    /// seconds.
    pub audit_head_interval_secs: u64,
    /// How callers' bearer tokens are verified (`CMS_AUTH__ISSUER`, `CMS_AUTH__JWKS_FILE`, …).
    pub auth: AuthConfig,
    /// TOML file with departments and staff: who may act, in which role, and recusal.
    pub org_directory: PathBuf,
    /// Address of the Prometheus `GET /metrics` endpoint (`127.0.0.1:915N`); empty: none.
    pub metrics_addr: String,
    /// `production` (default) or `test`; only a test deployment accepts test-only settings
    /// such as `clocks.test_time_file`.
    pub deployment: String,
    /// Calendars, rule packs and the clock scheduler.
    pub clocks: ClockConfig,
    /// The installation's secret for protected lookup keys of personal identifiers (hex, 32
    /// bytes or more; `complaintctl up` generates one). Intake and analytics need it.
    pub lookup_key_file: Option<PathBuf>,
    /// The keyring of key-encryption keys for personal data at rest (`<id> <hex>` per line, the
    /// last active; `complaintctl up` generates one). Services that keep personal data
    /// (intake, investigation, notification) refuse to start without it.
    pub kek_file: Option<PathBuf>,
    /// How often the keyring file is checked for a rotation, in seconds.
    pub key_check_secs: u64,
}

/// Where the clocks' rules come from and how the scheduler runs (`CMS_CLOCKS__…`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClockConfig {
    /// Directory of calendar files (`<id>.toml`); reloaded when a file changes.
    pub calendars_dir: PathBuf,
    /// Directory of rule packs (`<jurisdiction>.toml`, plus institution overrides).
    pub rule_packs_dir: PathBuf,
    /// The institution whose rule-pack overrides apply; none uses the packs as shipped.
    pub institution: Option<String>,
    /// How often the scheduler looks for due clocks when nothing woke it, in milliseconds.
    pub poll_ms: u64,
    /// Clocks fired per transaction.
    pub batch: usize,
    /// How often calendar and rule files are checked for changes, in seconds.
    pub reload_seconds: u64,
    /// Operators are warned this many days before a calendar's data ends.
    pub coverage_warning_days: i64,
    /// Test deployments only: a file holding milliseconds added to the scheduler's clock.
    pub test_time_file: Option<PathBuf>,
}

impl Default for ClockConfig {
    fn default() -> Self {
        Self {
            calendars_dir: PathBuf::from("deploy/calendars"),
            rule_packs_dir: PathBuf::from("deploy/rule-packs"),
            institution: None,
            poll_ms: 1_000,
            batch: 500,
            reload_seconds: 30,
            coverage_warning_days: 90,
            test_time_file: None,
        }
    }
}

impl CommonConfig {
    /// The scheduler's time source: the system clock, or shifted by the test time file, which
    /// only a test deployment accepts.
    pub fn time_source(&self) -> anyhow::Result<crate::time::TimeSource> {
        match &self.clocks.test_time_file {
            None => Ok(crate::time::TimeSource::system()),
            Some(path) if self.deployment == "test" => {
                tracing::warn!(path = %path.display(), "TEST DEPLOYMENT: the clock scheduler's time is shifted by the offset in this file");
                Ok(crate::time::TimeSource::shifted_by_file(path.clone()))
            }
            Some(_) => anyhow::bail!(
                "clocks.test_time_file is set but deployment is {:?}: only deployment = \"test\" accepts it",
                self.deployment
            ),
        }
    }

    /// Defaults for `service`: SQLite under `.data/`, local NATS, the service's standard port.
    pub fn defaults_for(service: &str) -> Self {
        Self {
            nats_url: "nats://127.0.0.1:4222".into(),
            nats_nkey_seed_file: None,
            nats_tls_ca_file: None,
            database_url: format!("sqlite://.data/{service}.db"),
            database_password_file: None,
            database_owner_url: None,
            database_owner_password_file: None,
            database_migrate: true,
            migrate_only: false,
            grpc_addr: format!("127.0.0.1:{}", default_port(service)),
            grpc_addr_file: None,
            otlp_endpoint: None,
            log_format: "text".into(),
            stream_max_age_days: 30,
            max_deliver: 10,
            retention: crate::retention::RetentionConfig::default(),
            audit_retention_days: 3650,
            audit_head_interval_secs: 60,
            auth: AuthConfig::default(),
            org_directory: PathBuf::from("deploy/org-directory.toml"),
            metrics_addr: format!("127.0.0.1:{}", default_port(service) - 50051 + 9151),
            deployment: "production".into(),
            clocks: ClockConfig::default(),
            lookup_key_file: None,
            kek_file: None,
            key_check_secs: 30,
        }
    }
}

/// The standard local port of each service's gRPC API.
pub fn default_port(service: &str) -> u16 {
    match service {
        "intake" => 50051,
        "routing" => 50052,
        "investigation" => 50053,
        "approval" => 50054,
        "notification" => 50055,
        "analytics" => 50056,
        _ => 50050,
    }
}

/// Loads a service's configuration from `defaults`, the TOML file at `file` (if any; the
/// `CMS_CONFIG` variable names one otherwise) and `CMS_*` variables, e.g. `CMS_DATABASE_URL`.
pub fn load<T>(defaults: T, file: Option<&Path>) -> Result<T, Box<figment::Error>>
where
    T: Serialize + DeserializeOwned,
{
    let mut figment = Figment::from(Serialized::defaults(defaults));
    let from_env = std::env::var_os("CMS_CONFIG").map(PathBuf::from);
    if let Some(path) = file.map(Path::to_path_buf).or(from_env) {
        figment = figment.merge(Toml::file_exact(path));
    }
    figment
        .merge(Env::prefixed("CMS_").ignore(&["config"]).split("__"))
        .extract()
        .map_err(Box::new)
}

/// Reads `--config PATH` from the process arguments, the only flag a service binary takes.
pub fn config_path_from_args() -> Option<PathBuf> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_defaults_and_environment_overrides_the_file() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let file = directory.path().join("routing.toml");
        std::fs::write(&file, "nats_url = \"nats://broker:4222\"\nmax_deliver = 3\nlog_format = \"json\"\n").expect("write");
        // Only this test sets this variable.
        std::env::set_var("CMS_STREAM_MAX_AGE_DAYS", "90");
        let loaded: CommonConfig = load(CommonConfig::defaults_for("routing"), Some(&file)).expect("load");
        std::env::remove_var("CMS_STREAM_MAX_AGE_DAYS");
        assert_eq!(loaded.nats_url, "nats://broker:4222");
        assert_eq!(loaded.max_deliver, 3);
        assert_eq!(loaded.log_format, "json");
        assert_eq!(loaded.stream_max_age_days, 90);
        assert_eq!(loaded.grpc_addr, "127.0.0.1:50052", "untouched defaults stay");
    }

    #[test]
    fn a_missing_file_is_an_error_not_silently_defaults() {
        let missing = Path::new("/nonexistent/cms.toml");
        assert!(load(CommonConfig::defaults_for("intake"), Some(missing)).is_err());
    }
}
