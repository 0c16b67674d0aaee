//! Investigation configuration.

use complaints_plumbing::config::CommonConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub common: CommonConfig,
    /// Largest evidence item accepted, in bytes.
    pub max_evidence_bytes: usize,
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let defaults = Self { common: CommonConfig::defaults_for(super::SERVICE), max_evidence_bytes: 3 * 1024 * 1024 };
        Ok(complaints_plumbing::config::load(defaults, complaints_plumbing::config::config_path_from_args().as_deref())?)
    }
}
