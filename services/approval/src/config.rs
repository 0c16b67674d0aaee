//! Approval configuration: the org directory (who holds which role) and the amount bands.

use std::path::PathBuf;

use complaints_shared::config::CommonConfig;
use complaints_shared::domain::approval::ApprovalBands;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub common: CommonConfig,
    pub org_directory: PathBuf,
    /// Per currency: `department_head_below` and `branch_vice_president_up_to`, in minor units.
    pub approval_bands: ApprovalBands,
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let defaults = Self {
            common: CommonConfig::defaults_for(super::SERVICE),
            org_directory: PathBuf::from("deploy/org-directory.toml"),
            approval_bands: ApprovalBands::default(),
        };
        Ok(complaints_shared::config::load(defaults, complaints_shared::config::config_path_from_args().as_deref())?)
    }
}
