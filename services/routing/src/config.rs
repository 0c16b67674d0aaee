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
    pub detection: DetectionConfig,
    pub review: ReviewConfig,
}

/// Who reviews a decision the customer asks the superior institution to review (复核).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReviewConfig {
    /// The superior institution's department in the org directory.
    pub department: String,
    /// Roles there that review; the least-loaded holder without a conflict takes the case.
    pub roles: Vec<String>,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self { department: "head_office".into(), roles: vec!["head_office_risk_legal".into(), "senior_executive".into()] }
    }
}

/// Repeat and mass-complaint detection (SPEC: repeat complaints, mass complaints).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectionConfig {
    /// How far back a customer's earlier complaints count towards a repeat, in days.
    pub repeat_window_days: i64,
    /// Text similarity (estimated Jaccard, 0..1) at which two complaints of the same product
    /// but different categories are the same matter.
    pub repeat_similarity: f64,
    /// Similarity at or above which a repeat brings no new facts.
    pub same_facts_similarity: f64,
    /// The complaint of a series that is escalated to a supervisor (the third by default).
    pub escalate_at: u32,
    /// Complaints received within this many minutes of each other can form a mass incident.
    pub mass_window_minutes: i64,
    /// Text similarity at which two complaints of the same product report the same problem.
    pub mass_similarity: f64,
    /// Distinct customers reporting the same problem that open an incident.
    pub mass_min_customers: usize,
    /// Only complaints through the same channel count together.
    pub mass_same_channel: bool,
    /// The org-directory role of the task force that handles a mass incident.
    pub task_force_role: String,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        Self {
            repeat_window_days: 180,
            repeat_similarity: 0.3,
            same_facts_similarity: 0.75,
            escalate_at: 3,
            mass_window_minutes: 24 * 60,
            mass_similarity: 0.5,
            mass_min_customers: 10,
            mass_same_channel: false,
            task_force_role: "red_task_group".into(),
        }
    }
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
            detection: DetectionConfig::default(),
            review: ReviewConfig::default(),
        };
        Ok(complaints_plumbing::config::load(defaults, complaints_plumbing::config::config_path_from_args().as_deref())?)
    }
}
