//! Training: labels from the taxonomy tables and staff corrections, two softmax models over
//! TF-IDF features, the handling-time table, and a versioned artifact.
//!
//! - Product model: every labelled training row; text = issue + sub-issue (the summary) +
//!   narrative, plus the narrative alone as a second example; fields = channel, amount band.
//!   No product hint (it is the label).
//! - Category model: training rows with a narrative; text = narrative only (category labels are
//!   a function of the issue, so the issue text would leak the label); fields = channel, amount
//!   band, product; the word features once more crossed with the product.
//! - Corrections: each correction with a product is a product example, each with a category a
//!   category example (text = summary + description), weighted `correction_weight`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::classifier::{ModelArtifact, ARTIFACT_FORMAT_VERSION};
use super::dataset::{data_fingerprint, CfpbRecord, Correction, Split};
use super::features::{amount_band, fnv64, CharGrams, TextFeatures};
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
    /// Shortest and longest character n-gram taken from each English word (boundary marks
    /// included); `char_ngram_min = 0` takes none.
    pub char_ngram_min: u8,
    pub char_ngram_max: u8,
    /// A feature must occur in this many training documents to be kept.
    pub min_document_frequency: u32,
    pub epochs: u32,
    pub learning_rate: f32,
    /// Decay the learning rate as `learning_rate / (1 + epoch)`; constant when false.
    pub decay: bool,
    /// Average the weights over all SGD steps.
    pub average: bool,
    pub l2: f32,
    /// Product model: weight classes by `(n / (k · n_class))^balance`, at most
    /// `class_weight_cap`: 0 = none, 1 = fully balanced.
    pub class_balance: f32,
    /// The same for the category model, whose figure of merit is macro-F1 (fully balanced).
    pub category_class_balance: f32,
    /// Largest class weight (both models): without it a class with a handful of rows (the
    /// sample's `other` category has one training row) would weigh hundreds of times a common
    /// one and drag the model towards it.
    pub class_weight_cap: f32,
    /// Category model: every word, word pair and Han feature also enters crossed with the
    /// product ("charged" under loans is another feature than "charged" under credit cards), so
    /// a word can point to different categories in different products, as the CFPB issue
    /// labels behind the categories do.
    pub category_product_words: bool,
    /// Sample weight of a staff correction relative to a CFPB row.
    pub correction_weight: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            split: Split::default(),
            bucket_bits: 18,
            char_ngram_min: 3,
            char_ngram_max: 5,
            min_document_frequency: 2,
            epochs: 10,
            learning_rate: 1.0,
            decay: true,
            average: true,
            l2: 1e-6,
            class_balance: 0.5,
            category_class_balance: 1.0,
            class_weight_cap: 5.0,
            category_product_words: true,
            correction_weight: 3.0,
        }
    }
}

impl TrainOptions {
    pub(crate) fn char_grams(&self) -> CharGrams {
        CharGrams {
            min: self.char_ngram_min,
            max: self.char_ngram_max,
        }
    }

    fn validate(&self) -> Result<(), ClassifyError> {
        let problem = if !(8..=24).contains(&self.bucket_bits) {
            Some(format!("bucket_bits {} not in 8..=24", self.bucket_bits))
        } else if self.char_ngram_min != 0
            && !(1..=self.char_ngram_max).contains(&self.char_ngram_min)
        {
            Some(format!(
                "character n-grams {}..={} are not a range",
                self.char_ngram_min, self.char_ngram_max
            ))
        } else if !(self.class_weight_cap.is_finite() && self.class_weight_cap > 0.0) {
            Some(format!(
                "class_weight_cap {} must be positive and finite",
                self.class_weight_cap
            ))
        } else if !(self.correction_weight.is_finite() && self.correction_weight > 0.0) {
            Some(format!(
                "correction_weight {} must be positive",
                self.correction_weight
            ))
        } else {
            None
        };
        problem.map_or(Ok(()), |problem| Err(ClassifyError::Training(problem)))
    }
}

/// What the staff corrections contributed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CorrectionsUsed {
    /// Corrections given to training.
    pub rows: usize,
    /// Earlier corrections of a complaint corrected again later (only the last one counts).
    pub superseded: usize,
    /// Latest corrections with a product or a category (grade-only corrections teach nothing).
    pub used: usize,
    pub product_examples: usize,
    pub category_examples: usize,
    pub weight: f32,
}

/// What an artifact was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub split: Split,
    pub options: TrainOptions,
    /// [`data_fingerprint`] of the CFPB rows given to training (held-out rows included), so
    /// evaluation can tell the training CSV from unseen data.
    pub data_fingerprint: String,
    pub rows: usize,
    pub product_training_examples: usize,
    pub category_training_examples: usize,
    pub held_out_rows: usize,
    pub known_product_features: usize,
    pub known_category_features: usize,
    pub corrections: CorrectionsUsed,
}

/// One training example before weighting.
struct Doc<L> {
    features: TextFeatures,
    fields: Vec<(&'static str, String)>,
    /// What the word features are crossed with (the product, for the category model), if
    /// anything.
    context: Option<&'static str>,
    label: L,
    weight: f32,
}

impl<L> Doc<L> {
    fn fields(&self) -> Vec<(&'static str, &str)> {
        self.fields
            .iter()
            .map(|(field, value)| (*field, value.as_str()))
            .collect()
    }
}

/// Trains both models and the handling-time table on the CFPB rows outside the held-out split
/// plus the staff `corrections`.
pub fn train(
    records: &[CfpbRecord],
    corrections: &[Correction],
    options: &TrainOptions,
) -> Result<ModelArtifact, ClassifyError> {
    options.validate()?;
    let buckets = 1u32 << options.bucket_bits;
    let grams = options.char_grams();
    let training: Vec<&CfpbRecord> = records
        .iter()
        .filter(|record| !options.split.is_held_out(&record.complaint_id))
        .collect();
    let held_out_rows = records.len() - training.len();

    let mut product_docs = Vec::new();
    let mut category_docs = Vec::new();
    let mut fingerprint_frequency: HashMap<u32, u32> = HashMap::new();
    let mut count_fingerprints = |features: &TextFeatures| {
        for fingerprint in &features.fingerprints {
            *fingerprint_frequency.entry(*fingerprint).or_default() += 1;
        }
    };
    let amount = amount_band(None);
    let cross = options.category_product_words;
    for record in &training {
        let Some(product) = record.product_label() else {
            continue;
        };
        let channel = record.submitted_via.trim().to_lowercase();
        let product_fields = vec![("channel", channel.clone()), ("amount", amount.to_string())];
        let text = format!("{}\n{}", record.summary(), record.narrative).to_lowercase();
        let features = TextFeatures::of(&text, buckets, grams);
        count_fingerprints(&features);
        product_docs.push(Doc {
            features,
            fields: product_fields.clone(),
            context: None,
            label: product,
            weight: 1.0,
        });
        if !record.has_narrative() {
            continue;
        }
        // The narrative alone as a second example, so a complaint without a structured
        // summary is not out of distribution.
        let narrative = TextFeatures::of(
            &format!("\n{}", record.narrative).to_lowercase(),
            buckets,
            grams,
        );
        if let Some(category) = record.category_label() {
            let mut fields = product_fields.clone();
            fields.push(("product", product.as_str().to_string()));
            category_docs.push(Doc {
                features: narrative.clone(),
                fields,
                context: cross.then_some(product.as_str()),
                label: category,
                weight: 1.0,
            });
        }
        product_docs.push(Doc {
            features: narrative,
            fields: product_fields,
            context: None,
            label: product,
            weight: 1.0,
        });
    }

    let latest = latest_corrections(corrections);
    let mut corrections_used = CorrectionsUsed {
        rows: corrections.len(),
        superseded: corrections.len() - latest.len(),
        weight: options.correction_weight,
        ..CorrectionsUsed::default()
    };
    for correction in latest.into_iter().filter(|c| c.is_training_example()) {
        corrections_used.used += 1;
        let features = TextFeatures::of(&correction.text.to_lowercase(), buckets, grams);
        count_fingerprints(&features);
        // Corrections carry no channel: the amount band is their only field.
        let fields = vec![("amount", amount.to_string())];
        if let Some(category) = correction.category {
            let mut fields = fields.clone();
            if let Some(product) = correction.product {
                fields.push(("product", product.as_str().to_string()));
            }
            category_docs.push(Doc {
                features: features.clone(),
                fields,
                context: correction
                    .product
                    .filter(|_| cross)
                    .map(ProductLine::as_str),
                label: category,
                weight: options.correction_weight,
            });
            corrections_used.category_examples += 1;
        }
        if let Some(product) = correction.product {
            product_docs.push(Doc {
                features,
                fields,
                context: None,
                label: product,
                weight: options.correction_weight,
            });
            corrections_used.product_examples += 1;
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
        .filter(|p| product_docs.iter().any(|doc| doc.label == *p))
        .collect();
    let category_classes: Vec<IssueCategory> = IssueCategory::ALL
        .into_iter()
        .filter(|c| category_docs.iter().any(|doc| doc.label == *c))
        .collect();

    let sgd = |salt: u64| SgdOptions {
        epochs: options.epochs,
        learning_rate: options.learning_rate,
        l2: options.l2,
        seed: options.split.seed ^ salt,
        decay: options.decay,
        average: options.average,
    };
    let (product_model, known_product_features) = fit(
        &product_docs,
        &product_classes,
        buckets,
        options.min_document_frequency,
        ClassWeights {
            balance: options.class_balance,
            cap: options.class_weight_cap,
        },
        sgd(0x5052_4f44),
    )?;
    let product_examples = product_docs.len();
    drop(product_docs);
    let (category_model, known_category_features) = fit(
        &category_docs,
        &category_classes,
        buckets,
        options.min_document_frequency,
        ClassWeights {
            balance: options.category_class_balance,
            cap: options.class_weight_cap,
        },
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

    let product = product_model.to_stored(
        product_classes
            .iter()
            .map(|p| p.as_str().to_string())
            .collect(),
    );
    let category = category_model.to_stored(
        category_classes
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
    );
    let fingerprint = serde_json::to_string(&(&product, &category, &handling, &vocabulary))
        .map(|json| fnv64(&json))
        .unwrap_or_default();
    Ok(ModelArtifact {
        format_version: ARTIFACT_FORMAT_VERSION,
        model_version: format!("v{ARTIFACT_FORMAT_VERSION}-{fingerprint:016x}"),
        training: TrainingSummary {
            split: options.split,
            options: *options,
            data_fingerprint: data_fingerprint(records),
            rows: records.len(),
            product_training_examples: product_examples,
            category_training_examples: category_docs.len(),
            held_out_rows,
            known_product_features,
            known_category_features,
            corrections: corrections_used,
        },
        buckets,
        vocabulary,
        product,
        category,
        handling,
    })
}

/// The last correction of each complaint, in order of first appearance.
fn latest_corrections(corrections: &[Correction]) -> Vec<&Correction> {
    let mut position: HashMap<&str, usize> = HashMap::new();
    let mut latest: Vec<&Correction> = Vec::new();
    for correction in corrections {
        match position.get(correction.complaint_number.as_str()) {
            Some(&earlier) => latest[earlier] = correction,
            None => {
                position.insert(&correction.complaint_number, latest.len());
                latest.push(correction);
            }
        }
    }
    latest
}

/// Inverse document frequencies from the documents' distinct buckets, smoothed as
/// `ln((1 + n) / (1 + df)) + 1`; buckets in fewer than `min_document_frequency` documents get 0
/// (unknown). Returns the table and the number of known buckets.
fn inverse_document_frequencies<L>(
    docs: &[Doc<L>],
    buckets: u32,
    min_document_frequency: u32,
) -> (Vec<f32>, usize) {
    let mut document_frequency = vec![0u32; buckets as usize];
    for doc in docs {
        for bucket in doc
            .features
            .distinct_buckets(&doc.fields(), doc.context, buckets)
        {
            document_frequency[bucket as usize] += 1;
        }
    }
    let documents = docs.len() as f32;
    let mut known = 0;
    let idf = document_frequency
        .iter()
        .map(|&frequency| {
            if frequency >= min_document_frequency.max(1) {
                known += 1;
                ((1.0 + documents) / (1.0 + frequency as f32)).ln() + 1.0
            } else {
                0.0
            }
        })
        .collect();
    (idf, known)
}

/// How classes are weighted: by `(n / (k · n_class))^balance`, at most `cap`.
#[derive(Debug, Clone, Copy)]
struct ClassWeights {
    balance: f32,
    cap: f32,
}

/// Weighs the documents with TF-IDF, weights classes and runs SGD. Returns the model and its
/// known-bucket count.
fn fit<L: PartialEq + Copy>(
    docs: &[Doc<L>],
    classes: &[L],
    buckets: u32,
    min_document_frequency: u32,
    weights: ClassWeights,
    sgd: SgdOptions,
) -> Result<(SoftmaxModel, usize), ClassifyError> {
    let (idf, known) = inverse_document_frequencies(docs, buckets, min_document_frequency);
    let mut counts = vec![0usize; classes.len()];
    let mut samples = Vec::with_capacity(docs.len());
    for doc in docs {
        let class = classes
            .iter()
            .position(|c| *c == doc.label)
            .ok_or_else(|| ClassifyError::Training("label outside the class list".to_string()))?;
        counts[class] += 1;
        let vector = doc
            .features
            .vector(&doc.fields(), doc.context, buckets, |bucket| {
                idf[bucket as usize]
            });
        samples.push((vector, class, doc.weight));
    }
    let total = docs.len() as f32;
    let class_weights: Vec<f32> = counts
        .iter()
        .map(|count| {
            (total / (classes.len() as f32 * (*count).max(1) as f32))
                .powf(weights.balance)
                .min(weights.cap)
        })
        .collect();
    for sample in &mut samples {
        sample.2 *= class_weights[sample.1];
    }
    let model = SoftmaxModel::train(buckets, classes.len(), idf, &samples, sgd);
    Ok((model, known))
}
