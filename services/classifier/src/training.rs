//! Training: labels from the taxonomy tables, two softmax models, the handling-time table, and a
//! versioned artifact.
//!
//! - Product model: every labelled training row; text = issue + sub-issue (the summary) +
//!   narrative; fields = channel, amount band. No product hint (it is the label).
//! - Category model: training rows with a narrative; text = narrative only (category labels are
//!   a function of the issue, so the issue text would leak the label); fields = channel, amount
//!   band, product.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::classifier::{ModelArtifact, ARTIFACT_FORMAT_VERSION};
use super::dataset::{CfpbRecord, Split};
use super::features::{amount_band, fnv64, SparseVector, TextFeatures};
use super::grading::{GradingInput, GradingRules};
use super::handling::HandlingTimes;
use super::linear::{SgdOptions, SoftmaxModel};
use super::taxonomy::{IssueCategory, ProductLine};
use super::ClassifyError;

/// Training options; defaults are the ones the reported figures use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub split: Split,
    /// log2 of the number of hash buckets.
    pub bucket_bits: u32,
    /// A feature must occur in this many training documents to be kept.
    pub min_document_frequency: u32,
    pub epochs: u32,
    pub learning_rate: f32,
    pub l2: f32,
    /// Weight classes by `(n / (k · n_class))^balance`: 0 = none, 1 = fully balanced.
    pub class_balance: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            split: Split::default(),
            bucket_bits: 16,
            min_document_frequency: 2,
            epochs: 8,
            learning_rate: 1.0,
            l2: 1e-6,
            class_balance: 0.5,
        }
    }
}

/// What an artifact was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub split: Split,
    pub options: TrainOptions,
    pub rows: usize,
    pub product_training_examples: usize,
    pub category_training_examples: usize,
    pub held_out_rows: usize,
    pub known_product_features: usize,
    pub known_category_features: usize,
}

/// Trains both models and the handling-time table on the rows outside the held-out split.
pub fn train(
    records: &[CfpbRecord],
    options: &TrainOptions,
) -> Result<ModelArtifact, ClassifyError> {
    if !(8..=24).contains(&options.bucket_bits) {
        return Err(ClassifyError::Training(format!(
            "bucket_bits {} not in 8..=24",
            options.bucket_bits
        )));
    }
    let buckets = 1u32 << options.bucket_bits;
    let training: Vec<&CfpbRecord> = records
        .iter()
        .filter(|record| !options.split.is_held_out(&record.complaint_id))
        .collect();
    let held_out_rows = records.len() - training.len();

    let mut product_docs = Vec::new();
    let mut category_docs = Vec::new();
    let mut fingerprint_frequency: HashMap<u32, u32> = HashMap::new();
    for record in &training {
        let Some(product) = record.product_label() else {
            continue;
        };
        let channel = record.submitted_via.trim().to_lowercase();
        let amount = amount_band(None);
        let product_fields = [("channel", channel.as_str()), ("amount", amount)];
        let text = format!("{}\n{}", record.summary(), record.narrative).to_lowercase();
        let features = TextFeatures::of(&text, buckets);
        for fingerprint in &features.fingerprints {
            *fingerprint_frequency.entry(*fingerprint).or_default() += 1;
        }
        product_docs.push((features.vector(&product_fields, buckets, |_| true), product));
        if !record.has_narrative() {
            continue;
        }
        // The narrative alone as a second example, so a complaint without a structured
        // summary is not out of distribution.
        let narrative =
            TextFeatures::of(&format!("\n{}", record.narrative).to_lowercase(), buckets);
        product_docs.push((
            narrative.vector(&product_fields, buckets, |_| true),
            product,
        ));
        if let Some(category) = record.category_label() {
            let fields = [
                ("channel", channel.as_str()),
                ("amount", amount),
                ("product", product.as_str()),
            ];
            category_docs.push((narrative.vector(&fields, buckets, |_| true), category));
        }
    }
    if product_docs.is_empty() || category_docs.is_empty() {
        return Err(ClassifyError::Training(format!(
            "need labelled rows with and without narratives; got {} product and {} category rows",
            product_docs.len(),
            category_docs.len()
        )));
    }
    let product_classes: Vec<ProductLine> = ProductLine::ALL
        .into_iter()
        .filter(|p| product_docs.iter().any(|(_, l)| l == p))
        .collect();
    let category_classes: Vec<IssueCategory> = IssueCategory::ALL
        .into_iter()
        .filter(|c| category_docs.iter().any(|(_, l)| l == c))
        .collect();

    let sgd = |salt: u64| SgdOptions {
        epochs: options.epochs,
        learning_rate: options.learning_rate,
        l2: options.l2,
        seed: options.split.seed ^ salt,
    };
    let (product_model, known_product_features) = fit(
        &product_docs,
        &product_classes,
        buckets,
        options,
        sgd(0x5052_4f44),
    )?;
    let (category_model, known_category_features) = fit(
        &category_docs,
        &category_classes,
        buckets,
        options,
        sgd(0x4341_5447),
    )?;

    let mut vocabulary: Vec<u32> = fingerprint_frequency
        .into_iter()
        .filter(|(_, frequency)| *frequency >= options.min_document_frequency)
        .map(|(fingerprint, _)| fingerprint)
        .collect();
    vocabulary.sort_unstable();

    let rules = GradingRules::default();
    let history = training.iter().filter_map(|record| {
        let product = record.product_label()?;
        let category = record.category_label()?;
        let days = record.handling_days()?;
        let text = format!("{}\n{}", record.summary(), record.narrative).to_lowercase();
        let grade = rules.grade(
            &GradingInput {
                lowercased_text: &text,
                amount_minor: None,
                tags: &record.tags,
                regulator_transfer: false,
                mass_complaint: false,
                model_category: Some((category, 1.0)),
            },
            &mut Vec::new(),
        );
        Some((product, category, grade, days))
    });
    let handling = HandlingTimes::from_history(
        "days from CFPB 'Date received' to 'Date sent to company' (proxy: the CFPB publishes no closing date)",
        5,
        history,
    );

    let names = |classes: &[&str]| classes.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    let product = product_model.to_stored(names(
        &product_classes
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>(),
    ));
    let category = category_model.to_stored(names(
        &category_classes
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
    ));
    let fingerprint = serde_json::to_string(&(&product, &category, &handling, &vocabulary))
        .map(|json| fnv64(&json))
        .unwrap_or_default();
    Ok(ModelArtifact {
        format_version: ARTIFACT_FORMAT_VERSION,
        model_version: format!("v{ARTIFACT_FORMAT_VERSION}-{fingerprint:016x}"),
        training: TrainingSummary {
            split: options.split,
            options: *options,
            rows: records.len(),
            product_training_examples: product_docs.len(),
            category_training_examples: category_docs.len(),
            held_out_rows,
            known_product_features,
            known_category_features,
        },
        buckets,
        vocabulary,
        product,
        category,
        handling,
    })
}

/// Filters rare buckets, weights classes and runs SGD. Returns the model and its known-bucket count.
fn fit<L: PartialEq + Copy>(
    docs: &[(SparseVector, L)],
    classes: &[L],
    buckets: u32,
    options: &TrainOptions,
    sgd: SgdOptions,
) -> Result<(SoftmaxModel, usize), ClassifyError> {
    let mut document_frequency = vec![0u32; buckets as usize];
    for (vector, _) in docs {
        for bucket in &vector.buckets {
            document_frequency[*bucket as usize] += 1;
        }
    }
    let mut known = vec![0u64; (buckets as usize).div_ceil(64)];
    let mut known_count = 0;
    for (bucket, frequency) in document_frequency.iter().enumerate() {
        if *frequency >= options.min_document_frequency {
            known[bucket / 64] |= 1 << (bucket % 64);
            known_count += 1;
        }
    }
    let mut counts = vec![0usize; classes.len()];
    let mut samples = Vec::with_capacity(docs.len());
    for (vector, label) in docs {
        let class = classes
            .iter()
            .position(|c| c == label)
            .ok_or_else(|| ClassifyError::Training("label outside the class list".to_string()))?;
        counts[class] += 1;
        let kept: Vec<u32> = vector
            .buckets
            .iter()
            .copied()
            .filter(|bucket| document_frequency[*bucket as usize] >= options.min_document_frequency)
            .collect();
        let value = if kept.is_empty() {
            0.0
        } else {
            1.0 / (kept.len() as f32).sqrt()
        };
        samples.push((
            SparseVector {
                buckets: kept,
                value,
            },
            class,
            0.0,
        ));
    }
    let total = docs.len() as f32;
    let class_weights: Vec<f32> = counts
        .iter()
        .map(|count| {
            (total / (classes.len() as f32 * (*count).max(1) as f32)).powf(options.class_balance)
        })
        .collect();
    for sample in &mut samples {
        sample.2 = class_weights[sample.1];
    }
    let model = SoftmaxModel::train(buckets, classes.len(), known, &samples, sgd);
    Ok((model, known_count))
}
