//! Routing configuration: the org directory and the triage rules.

use std::collections::BTreeMap;
use std::path::PathBuf;

use complaints_plumbing::config::CommonConfig;
use serde::{Deserialize, Serialize};

use complaints_classifier::ClassifierConfig;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub common: CommonConfig,
    /// Department responsible for each category; `default` for the rest.
    pub departments: BTreeMap<String, String>,
    /// Department whose desk triages complaints the classifier is unsure about.
    pub triage_department: String,
    /// Trained classifier artifact (`complaintctl model train`); rules only when absent.
    pub model_path: PathBuf,
    pub classifier: ClassifierConfig,
    pub re_review: ReReviewConfig,
}

/// Who re-reviews a complaint after the customer's objection (SPEC: escalated re-review).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReReviewConfig {
    /// Complaint tags that mark a contract dispute, whose re-review legal & compliance joins.
    pub contract_dispute_tags: Vec<String>,
    /// The org-directory role of legal & compliance counsel.
    pub counsel_role: String,
}

impl Default for ReReviewConfig {
    fn default() -> Self {
        Self {
            contract_dispute_tags: vec!["contract_dispute".into(), "合同纠纷".into()],
            counsel_role: "head_office_risk_legal".into(),
        }
    }
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let defaults = Self {
            common: CommonConfig::defaults_for(super::SERVICE),
            departments: [
                ("security", "risk_security"),
                ("fees", "retail_operations"),
                ("product", "retail_operations"),
                ("system", "digital_banking"),
                ("service", "customer_service"),
                ("default", "customer_service"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            triage_department: "customer_service".into(),
            model_path: PathBuf::from("models/classifier.json"),
            classifier: ClassifierConfig::default(),
            re_review: ReReviewConfig::default(),
        };
        Ok(complaints_plumbing::config::load(defaults, complaints_plumbing::config::config_path_from_args().as_deref())?)
    }
}
