//! Analytics configuration.

use complaints_plumbing::config::CommonConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub common: CommonConfig,
    /// The department whose desk triages complaints the classifier is unsure about (the triage
    /// queue); routing's setting of the same name.
    pub triage_department: String,
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let defaults = Self { common: CommonConfig::defaults_for(super::SERVICE), triage_department: "customer_service".into() };
        Ok(complaints_plumbing::config::load(defaults, complaints_plumbing::config::config_path_from_args().as_deref())?)
    }
}
