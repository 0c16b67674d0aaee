//! Analytics configuration.

use complaints_shared::config::CommonConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub common: CommonConfig,
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let defaults = Self { common: CommonConfig::defaults_for(super::SERVICE) };
        Ok(complaints_shared::config::load(defaults, complaints_shared::config::config_path_from_args().as_deref())?)
    }
}
