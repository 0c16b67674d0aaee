//! Intake configuration.

use complaints_plumbing::config::CommonConfig;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub common: CommonConfig,
    /// Prefix of complaint numbers, e.g. `CMP` gives `CMP-20261124-000001`.
    pub number_prefix: String,
    /// How far in the future a channel's `received_at` may lie (clock skew), in seconds.
    pub max_clock_skew_seconds: i64,
    /// Which rule pack a complaint's clocks follow.
    pub jurisdiction: JurisdictionConfig,
    /// Department whose heads are told about first-contact and follow-up clocks that have no
    /// named owner.
    pub first_contact_department: String,
    /// Notification's public sealing key (`notification-contact.key.pub`, generated at set-up):
    /// the customer's contact in `received` is sealed for it, so that no other consumer and
    /// not the broker can read it.
    pub contact_seal_key_file: Option<std::path::PathBuf>,
    /// How long a complaint record is kept after it closed, in days, per rule pack (FCA DISP
    /// 1.9: three years; elsewhere the bank's policy). A customer is erased only when every
    /// complaint of theirs is past it (`CMS_RECORD_RETENTION_DAYS__GB=…`).
    pub record_retention_days: BTreeMap<String, i64>,
    /// Erase a customer automatically once every complaint of theirs has outlived its record
    /// retention (and none is under legal hold). Off by default: erasure is irreversible, so
    /// the bank turns it on once its retention settings are right; off, erasure happens only
    /// on request.
    pub erase_after_retention: bool,
    /// How often the erasure sweep runs, in seconds.
    pub erasure_sweep_secs: u64,
}

/// The rule pack per complaint: the most specific match wins (product, then branch, then
/// channel, then the institution's default). Keys of `by_product` and
/// `payment_services_products` are words matched in the product hint, case-insensitively.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JurisdictionConfig {
    pub default: String,
    pub by_channel: BTreeMap<String, String>,
    pub by_branch: BTreeMap<String, String>,
    pub by_product: BTreeMap<String, String>,
    /// Products under the payment services rules (UK DISP 1.6.2A, EU PSD2: 15 / 35 business days).
    pub payment_services_products: Vec<String>,
}

impl Config {
    /// Days a complaint record under `jurisdiction` is kept after closing (three years for a
    /// pack the configuration does not name).
    pub fn retention_days(&self, jurisdiction: &str) -> i64 {
        self.record_retention_days.get(jurisdiction).copied().unwrap_or(1095)
    }

    pub fn load() -> anyhow::Result<Self> {
        let defaults = Self::with_common(CommonConfig::defaults_for(super::SERVICE));
        Ok(complaints_plumbing::config::load(defaults, complaints_plumbing::config::config_path_from_args().as_deref())?)
    }

    /// Intake's defaults around `common`.
    pub fn with_common(common: CommonConfig) -> Self {
        Self {
            common,
            number_prefix: "CMP".into(),
            max_clock_skew_seconds: 300,
            jurisdiction: JurisdictionConfig {
                default: "cn".into(),
                payment_services_products: ["payment", "transfer", "remittance", "e-money", "debit card"]
                    .map(str::to_owned)
                    .to_vec(),
                ..JurisdictionConfig::default()
            },
            first_contact_department: "customer_service".into(),
            contact_seal_key_file: None,
            record_retention_days: [("gb", 1095), ("cn", 1095), ("us", 1095), ("eu", 1095)].map(|(pack, days)| (pack.to_owned(), days)).into(),
            erase_after_retention: false,
            erasure_sweep_secs: 3600,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_configuration_loads() {
        let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/config/example.toml");
        let defaults = Config::with_common(CommonConfig::defaults_for(crate::SERVICE));
        let config: Config = complaints_plumbing::config::load(defaults, Some(&example)).expect("example.toml loads");
        assert_eq!(config.jurisdiction.default, "cn");
        assert!(config.jurisdiction.payment_services_products.contains(&"transfer".to_owned()));
        assert_eq!(config.common.clocks.coverage_warning_days, 90);
    }
}
