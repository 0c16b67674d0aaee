//! Notification configuration: where deliveries go.

use std::path::PathBuf;

use complaints_plumbing::config::CommonConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub common: CommonConfig,
    /// Messaging gateway (SMS / e-mail / in-app) receiving each delivery as an HTTP POST of JSON
    /// with an `Idempotency-Key` header. When empty, deliveries are written to `spool_dir`.
    pub webhook_url: String,
    /// Directory receiving one JSON file per delivery when no webhook is configured.
    pub spool_dir: PathBuf,
    /// Seconds before a failed delivery is retried (doubled per attempt, capped at 10 minutes).
    pub retry_base_seconds: u64,
    /// Institution name used in messages.
    pub institution: String,
    /// Notification's secret sealing key (`notification-contact.key`, generated at set-up):
    /// opens the customer's contact sealed into `received` by intake.
    pub contact_open_key_file: Option<PathBuf>,
    /// The gateway's public sealing key: spooled deliveries are sealed for it, so the spool
    /// directory holds no recipient or message in clear. Required when no webhook is set.
    pub spool_seal_key_file: Option<PathBuf>,
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let defaults = Self {
            common: CommonConfig::defaults_for(super::SERVICE),
            webhook_url: String::new(),
            spool_dir: PathBuf::from(".data/notifications"),
            retry_base_seconds: 2,
            institution: "The bank".into(),
            contact_open_key_file: None,
            spool_seal_key_file: None,
        };
        Ok(complaints_plumbing::config::load(defaults, complaints_plumbing::config::config_path_from_args().as_deref())?)
    }
}
