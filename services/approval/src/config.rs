//! Approval configuration: the amount bands (the org directory is common configuration).

use complaints_plumbing::config::CommonConfig;
use complaints_domain::approval::ApprovalBands;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub common: CommonConfig,
    /// Per currency: `department_head_below` and `branch_vice_president_up_to`, in minor units.
    pub approval_bands: ApprovalBands,
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let defaults = Self {
            common: CommonConfig::defaults_for(super::SERVICE),
            approval_bands: ApprovalBands::default(),
        };
        Ok(complaints_plumbing::config::load(defaults, complaints_plumbing::config::config_path_from_args().as_deref())?)
    }
}
