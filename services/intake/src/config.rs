//! Intake configuration.

use complaints_plumbing::config::CommonConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub common: CommonConfig,
    /// Prefix of complaint numbers, e.g. `CMP` gives `CMP-20261124-000001`.
    pub number_prefix: String,
    /// How far in the future a channel's `received_at` may lie (clock skew), in seconds.
    pub max_clock_skew_seconds: i64,
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let defaults = Self {
            common: CommonConfig::defaults_for(super::SERVICE),
            number_prefix: "CMP".into(),
            max_clock_skew_seconds: 300,
        };
        Ok(complaints_plumbing::config::load(defaults, complaints_plumbing::config::config_path_from_args().as_deref())?)
    }
}
