//! Automatic classification and grading of complaints: product line, issue/cause category,
//! Red/Yellow/Green grade, confidence, reasons and predicted handling time.
//!
//! Everything here is pure except [`loader`], which reads CFPB-format CSV files and staff
//! corrections, and reads and writes model artifacts. A [`Classifier`] is either trained (a
//! versioned artifact from [`train`]) or [`Classifier::rules_only`] (taxonomy tables and keyword
//! rules).

mod classifier;
mod dataset;
mod evaluate;
mod features;
mod grading;
mod handling;
mod linear;
pub mod loader;
mod taxonomy;
mod training;

pub use classifier::{
    Classifier, ClassifierConfig, ModelArtifact, Prediction, ARTIFACT_FORMAT_VERSION,
};
pub use dataset::{data_fingerprint, CfpbRecord, Correction, Split};
pub use evaluate::{evaluate, ClassMetrics, EvaluationReport, EvaluationScope, TaskReport};
pub use grading::GradingRules;
pub use handling::HandlingTimes;
pub use taxonomy::{category_for_cfpb_issue, normalize_product, IssueCategory, ProductLine};
pub use training::{train, CorrectionsUsed, TrainOptions, TrainingSummary};

/// What the classifier sees of one complaint.
#[derive(Debug, Clone, Copy)]
pub struct ComplaintFeatures<'a> {
    pub summary: &'a str,
    pub description: &'a str,
    /// Product named by the customer or the channel (any label [`normalize_product`] knows);
    /// empty when unknown. A recognised hint is taken as the product.
    pub product_hint: &'a str,
    /// Intake channel name, e.g. "web", "hotline", "Referral"; compared case-insensitively.
    pub channel: &'a str,
    /// Amount at stake in minor units.
    pub amount_minor: Option<i64>,
    /// Customer tags such as "Older American" or "Servicemember".
    pub tags: &'a [String],
    pub regulator_transfer: bool,
    pub mass_complaint: bool,
}

/// Errors at the classifier's I/O boundary.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("malformed CSV {path}")]
    Csv { path: String, source: csv::Error },
    #[error("CSV {path} lacks column {column:?}")]
    MissingColumn { path: String, column: &'static str },
    #[error("{path} line {line}, field {field}: {reason}")]
    InvalidRow {
        path: String,
        line: u64,
        field: &'static str,
        reason: String,
    },
    #[error("malformed model artifact {path}: {reason}")]
    Artifact { path: String, reason: String },
    #[error("cannot train: {0}")]
    Training(String),
}
