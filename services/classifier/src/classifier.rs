//! The classifier: model artifact, configuration, and `classify` for one complaint.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::dataset::Split;
use super::features::{
    amount_band, context_salt, crossed_bucket, visit_text_features, CharGrams, FeatureKey,
    SparseVector, TextFeatures, Vocabulary,
};
use super::grading::{Grade, GradingInput, GradingRules};
use super::handling::HandlingTimes;
use super::linear::{SoftmaxModel, StoredSoftmax};
use super::taxonomy::{
    category_for_cfpb_issue, normalize_product, IssueCategory, ProductLine, CATEGORY_KEYWORDS,
    PRODUCT_KEYWORDS,
};
use super::training::TrainingSummary;
use super::{loader, ClassifyError, ComplaintFeatures};

/// Version of the artifact layout; [`Classifier::load`] rejects any other. 2: TF-IDF weights
/// per bucket, character n-grams, training-data fingerprint, corrections summary. 3: category
/// words crossed with the product (the category model's features differ), class weight cap.
pub const ARTIFACT_FORMAT_VERSION: u32 = 3;

/// Confidence given to a product or category taken from a table (hint or CFPB issue label).
const TABLE_CONFIDENCE: f64 = 1.0;
/// Confidence given to a keyword rule.
const KEYWORD_CONFIDENCE: f64 = 0.6;

/// Serialized trained model. Written by [`super::train`] + [`loader::write_artifact`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelArtifact {
    pub format_version: u32,
    /// `v<format>-<hash of the weights>`: equal artifacts have equal versions.
    pub model_version: String,
    pub training: TrainingSummary,
    pub buckets: u32,
    /// Sorted fingerprints of the text features seen in at least `min_document_frequency`
    /// training documents.
    pub(crate) vocabulary: Vec<u32>,
    pub(crate) product: StoredSoftmax,
    pub(crate) category: StoredSoftmax,
    pub handling: HandlingTimes,
}

/// Runtime knobs. Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClassifierConfig {
    /// Below this product or category confidence the complaint goes to human triage.
    pub min_confidence: f64,
    /// Below this model confidence a product keyword rule (confidence 0.6) replaces the model's
    /// product. Product keywords are specific ("equifax", "mortgage"), so they may step in early.
    pub product_keyword_below: f64,
    /// The same for category keywords, which are crude ("fee", "customer service"): they step
    /// in only when the model barely knows the text (e.g. Chinese before Chinese training data).
    pub category_keyword_below: f64,
    /// Share of a text's features the model must know for its confidence to count in full;
    /// below it, confidence scales down linearly (unknown text cannot be classified confidently).
    pub coverage_floor: f64,
    /// How many strongest features each model decision lists in the reasons.
    pub top_features: usize,
    /// Words (lowercase, matched as substrings) that make a complaint a security complaint
    /// unless the category decision is surer than `security_override_confidence`.
    pub security_words: Vec<String>,
    /// A category other than security, decided by the model or a keyword rule with less than
    /// this confidence, yields to a security word. Table decisions (confidence 1) never yield.
    pub security_override_confidence: f64,
    /// A security word overrides only when the category model gives security at least this
    /// probability: below it the model has all but ruled security out (0 = always override;
    /// without a model the word always overrides).
    pub security_override_min_probability: f64,
    pub grading: GradingRules,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        let words = |list: &[&str]| list.iter().map(|word| word.to_string()).collect();
        ClassifierConfig {
            min_confidence: 0.5,
            product_keyword_below: 0.5,
            category_keyword_below: 0.3,
            coverage_floor: 0.5,
            top_features: 3,
            security_words: words(&[
                "fraud",
                "stolen",
                "unauthorized",
                "unauthorised",
                "identity theft",
                "scam",
                "hacked",
                "phishing",
                "account takeover",
                "盗刷",
                "被盗",
                "诈骗",
                "被骗",
                "盗用",
                "冒用",
            ]),
            security_override_confidence: 0.5,
            security_override_min_probability: 0.0,
            grading: GradingRules::default(),
        }
    }
}

/// The classifier's answer for one complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub product: ProductLine,
    /// 0.0..=1.0.
    pub product_confidence: f64,
    pub category: IssueCategory,
    pub category_confidence: f64,
    pub grade: Grade,
    /// Why: tables and rules that fired, the model's strongest features, the grade's points.
    pub reasons: Vec<String>,
    /// True when product or category confidence is below `min_confidence`.
    pub needs_human_triage: bool,
    /// Median historical handling days for similar complaints (see [`HandlingTimes`]).
    pub predicted_handling_days: Option<f64>,
    /// `rules-only` or the artifact's model version.
    pub model_version: String,
}

struct TrainedModels {
    buckets: u32,
    grams: CharGrams,
    vocabulary: Vocabulary,
    product: SoftmaxModel,
    product_classes: Vec<ProductLine>,
    category: SoftmaxModel,
    category_classes: Vec<IssueCategory>,
    training: TrainingSummary,
}

/// Classifies and grades complaints. Cheap to share (`&self` only); build once at start-up.
pub struct Classifier {
    models: Option<TrainedModels>,
    handling: HandlingTimes,
    model_version: String,
    config: ClassifierConfig,
}

/// A model decision before it is accepted.
struct Decision<T> {
    label: T,
    confidence: f64,
    source: Source,
    reason: String,
}

/// Where a decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A product hint or CFPB issue label found in a taxonomy table.
    Table,
    Model,
    KeywordRule,
    /// No signal at all.
    Nothing,
}

impl Classifier {
    /// Tables and keyword rules only; used when no artifact is present.
    pub fn rules_only() -> Classifier {
        Classifier {
            models: None,
            handling: HandlingTimes::default(),
            model_version: "rules-only".to_string(),
            config: ClassifierConfig::default(),
        }
    }

    /// Loads an artifact written by [`loader::write_artifact`]; an artifact of another format
    /// version is [`ClassifyError::Artifact`] naming both versions.
    pub fn load(path: impl AsRef<Path>) -> Result<Classifier, ClassifyError> {
        let path = path.as_ref();
        let artifact = loader::read_artifact(path)?;
        Classifier::from_artifact(artifact).map_err(|reason| ClassifyError::Artifact {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Builds a classifier from an artifact; `Err` names what is inconsistent.
    pub fn from_artifact(artifact: ModelArtifact) -> Result<Classifier, String> {
        if artifact.format_version != ARTIFACT_FORMAT_VERSION {
            return Err(format!(
                "format version {} (expected {ARTIFACT_FORMAT_VERSION})",
                artifact.format_version
            ));
        }
        let product_classes = artifact
            .product
            .classes
            .iter()
            .map(|name| {
                ProductLine::from_name(name).ok_or_else(|| format!("unknown product {name:?}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let category_classes = artifact
            .category
            .classes
            .iter()
            .map(|name| {
                IssueCategory::from_name(name).ok_or_else(|| format!("unknown category {name:?}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let options = &artifact.training.options;
        if options.char_ngram_min > options.char_ngram_max || options.char_ngram_max > 16 {
            return Err(format!(
                "character n-grams {}..={} are not a usable range",
                options.char_ngram_min, options.char_ngram_max
            ));
        }
        let product = SoftmaxModel::from_stored(&artifact.product, artifact.buckets)
            .ok_or("inconsistent product weights")?;
        let category = SoftmaxModel::from_stored(&artifact.category, artifact.buckets)
            .ok_or("inconsistent category weights")?;
        Ok(Classifier {
            models: Some(TrainedModels {
                buckets: artifact.buckets,
                grams: artifact.training.options.char_grams(),
                vocabulary: Vocabulary::from_fingerprints(&artifact.vocabulary),
                product,
                product_classes,
                category,
                category_classes,
                training: artifact.training,
            }),
            handling: artifact.handling,
            model_version: artifact.model_version,
            config: ClassifierConfig::default(),
        })
    }

    /// Replaces the runtime configuration.
    pub fn with_config(mut self, config: ClassifierConfig) -> Classifier {
        self.config = config;
        self
    }

    pub fn config(&self) -> &ClassifierConfig {
        &self.config
    }

    pub fn model_version(&self) -> &str {
        &self.model_version
    }

    /// Whether a trained model is loaded (false for [`Classifier::rules_only`]).
    pub fn has_model(&self) -> bool {
        self.models.is_some()
    }

    /// The split the model was trained with, so evaluation uses the same held-out rows.
    pub fn training_split(&self) -> Option<Split> {
        self.models.as_ref().map(|models| models.training.split)
    }

    /// What the model was trained on (`None` for [`Classifier::rules_only`]).
    pub fn training_summary(&self) -> Option<&TrainingSummary> {
        self.models.as_ref().map(|models| &models.training)
    }

    /// Classifies and grades one complaint. Never fails: missing signal yields low confidence
    /// and `needs_human_triage`.
    pub fn classify(&self, complaint: &ComplaintFeatures<'_>) -> Prediction {
        let mut text =
            String::with_capacity(complaint.summary.len() + complaint.description.len() + 1);
        text.push_str(complaint.summary);
        text.push('\n');
        text.push_str(complaint.description);
        let text = text.to_lowercase();
        let channel = complaint.channel.trim().to_lowercase();
        let amount = amount_band(complaint.amount_minor);
        let mut reasons = Vec::new();
        // Hash the text once for both models.
        let hashed = self.models.as_ref().map(|models| {
            let features = TextFeatures::of(&text, models.buckets, models.grams);
            let known = features
                .fingerprints
                .iter()
                .filter(|f| models.vocabulary.contains(**f))
                .count();
            let coverage = if features.fingerprints.is_empty() {
                0.0
            } else {
                known as f64 / features.fingerprints.len() as f64
            };
            (models, features, coverage)
        });
        let input = Input {
            text: &text,
            channel: &channel,
            amount,
            hashed: hashed.as_ref(),
        };

        let product = self.decide_product(complaint, &input);
        reasons.push(product.reason);
        let category = self.decide_category(complaint, &input, product.label);
        reasons.push(category.reason);

        let model_category = self
            .models
            .as_ref()
            .map(|_| (category.label, category.confidence));
        let grade = self.config.grading.grade(
            &GradingInput {
                lowercased_text: &text,
                amount_minor: complaint.amount_minor,
                tags: complaint.tags,
                regulator_transfer: complaint.regulator_transfer,
                mass_complaint: complaint.mass_complaint,
                model_category,
            },
            &mut reasons,
        );
        let needs_human_triage = product.confidence < self.config.min_confidence
            || category.confidence < self.config.min_confidence;
        if needs_human_triage {
            reasons.push(format!(
                "human triage: confidence below {:.2}",
                self.config.min_confidence
            ));
        }
        let predicted_handling_days = self
            .handling
            .predict(product.label, category.label, grade)
            .map(|(days, group)| {
                reasons.push(format!(
                    "handling time: median {days} days of group {group}"
                ));
                days
            });
        Prediction {
            product: product.label,
            product_confidence: product.confidence,
            category: category.label,
            category_confidence: category.confidence,
            grade,
            reasons,
            needs_human_triage,
            predicted_handling_days,
            model_version: self.model_version.clone(),
        }
    }

    fn decide_product(
        &self,
        complaint: &ComplaintFeatures<'_>,
        input: &Input<'_>,
    ) -> Decision<ProductLine> {
        if let Some(product) = normalize_product(complaint.product_hint) {
            return Decision {
                label: product,
                confidence: TABLE_CONFIDENCE,
                source: Source::Table,
                reason: format!(
                    "product {}: product hint {:?} in the product table",
                    product.as_str(),
                    complaint.product_hint
                ),
            };
        }
        let model = input.hashed.map(|hashed| {
            let models = hashed.0;
            let fields = [("channel", input.channel), ("amount", input.amount)];
            let (index, confidence, evidence, _) =
                self.predict_with(&models.product, hashed, input.text, &fields, None);
            let label = models.product_classes[index];
            Decision {
                label,
                confidence,
                source: Source::Model,
                reason: format!(
                    "product {} (model, p={confidence:.2}): {evidence}",
                    label.as_str()
                ),
            }
        });
        let keyword = || {
            PRODUCT_KEYWORDS
                .iter()
                .find(|(needle, _)| input.text.contains(needle))
                .map(|(needle, product)| Decision {
                    label: *product,
                    confidence: KEYWORD_CONFIDENCE,
                    source: Source::KeywordRule,
                    reason: format!("product {}: keyword rule {needle:?}", product.as_str()),
                })
        };
        self.prefer(
            model,
            keyword,
            self.config.product_keyword_below,
            ProductLine::Other,
            "product",
        )
    }

    fn decide_category(
        &self,
        complaint: &ComplaintFeatures<'_>,
        input: &Input<'_>,
        product: ProductLine,
    ) -> Decision<IssueCategory> {
        if let Some(category) = category_for_cfpb_issue(complaint.summary) {
            return Decision {
                label: category,
                confidence: TABLE_CONFIDENCE,
                source: Source::Table,
                reason: format!(
                    "category {}: CFPB issue {:?} in the issue table",
                    category.as_str(),
                    complaint.summary
                ),
            };
        }
        let mut security_probability = None;
        let model = input.hashed.map(|hashed| {
            let (models, _, coverage) = hashed;
            let fields = [
                ("channel", input.channel),
                ("amount", input.amount),
                ("product", product.as_str()),
            ];
            let (index, confidence, evidence, probabilities) = self.predict_with(
                &models.category,
                hashed,
                input.text,
                &fields,
                models
                    .training
                    .options
                    .category_product_words
                    .then_some(product.as_str()),
            );
            // A model that does not know the text cannot rule security out.
            security_probability = models
                .category_classes
                .iter()
                .position(|c| *c == IssueCategory::Security)
                .filter(|_| *coverage >= self.config.coverage_floor)
                .map(|security| f64::from(probabilities[security]));
            let label = models.category_classes[index];
            Decision {
                label,
                confidence,
                source: Source::Model,
                reason: format!(
                    "category {} (model, p={confidence:.2}): {evidence}",
                    label.as_str()
                ),
            }
        });
        let keyword = || {
            CATEGORY_KEYWORDS
                .iter()
                .find(|(needle, _)| input.text.contains(needle))
                .map(|(needle, category)| Decision {
                    label: *category,
                    confidence: KEYWORD_CONFIDENCE,
                    source: Source::KeywordRule,
                    reason: format!("category {}: keyword rule {needle:?}", category.as_str()),
                })
        };
        let decision = self.prefer(
            model,
            keyword,
            self.config.category_keyword_below,
            IssueCategory::Other,
            "category",
        );
        self.security_override(decision, input.text, security_probability)
    }

    /// A weak non-security category becomes security when the text has a security word: a
    /// guess must not send a fraud report to the wrong desk. Weak = a model decision below
    /// `security_override_confidence`, a keyword rule, or no signal; a table decision stands.
    /// `security_probability` is the category model's probability of security (`None` without
    /// a model or when the model knows too little of the text): when the decision is the
    /// model's and that probability is below `security_override_min_probability`, the model has
    /// ruled security out and the word does not override (the reason says so).
    fn security_override(
        &self,
        decision: Decision<IssueCategory>,
        text: &str,
        security_probability: Option<f64>,
    ) -> Decision<IssueCategory> {
        let weak = match decision.source {
            Source::Table => false,
            Source::Model => decision.confidence < self.config.security_override_confidence,
            Source::KeywordRule | Source::Nothing => true,
        };
        if decision.label == IssueCategory::Security || !weak {
            return decision;
        }
        let Some(word) = self
            .config
            .security_words
            .iter()
            .find(|word| !word.is_empty() && text.contains(word.as_str()))
        else {
            return decision;
        };
        if let Some(probability) = security_probability.filter(|p| {
            decision.source == Source::Model && *p < self.config.security_override_min_probability
        }) {
            return Decision {
                reason: format!(
                    "{}; security word {word:?} does not override: the model gives security p={probability:.2} < {:.2}",
                    decision.reason, self.config.security_override_min_probability
                ),
                ..decision
            };
        }
        let overridden = match decision.source {
            Source::Model => format!(
                "the model's {} (p={:.2} < {:.2})",
                decision.label.as_str(),
                decision.confidence,
                self.config.security_override_confidence
            ),
            _ => format!("{} from rules", decision.label.as_str()),
        };
        Decision {
            label: IssueCategory::Security,
            confidence: KEYWORD_CONFIDENCE.max(decision.confidence),
            source: Source::KeywordRule,
            reason: format!("category security: security word {word:?} overrides {overridden}"),
        }
    }

    /// The model's decision unless its confidence is below `keyword_below` and a keyword rule is
    /// surer; with neither, the fallback label at confidence 0. Keyword rules are only evaluated
    /// when needed.
    fn prefer<T: Copy>(
        &self,
        model: Option<Decision<T>>,
        keyword: impl FnOnce() -> Option<Decision<T>>,
        keyword_below: f64,
        fallback: T,
        what: &str,
    ) -> Decision<T> {
        match model {
            Some(model) if model.confidence >= keyword_below => model,
            Some(model) => match keyword() {
                Some(keyword) if keyword.confidence > model.confidence => Decision {
                    reason: format!("{}; model unsure ({:.2})", keyword.reason, model.confidence),
                    ..keyword
                },
                _ => model,
            },
            None => keyword().unwrap_or_else(|| Decision {
                label: fallback,
                confidence: 0.0,
                source: Source::Nothing,
                reason: format!("{what}: no table, rule or model signal"),
            }),
        }
    }

    /// Runs one softmax model: (class index, confidence, evidence text, class probabilities).
    fn predict_with(
        &self,
        model: &SoftmaxModel,
        (models, features, coverage): &(&TrainedModels, TextFeatures, f64),
        text: &str,
        fields: &[(&'static str, &str)],
        context: Option<&str>,
    ) -> (usize, f64, String, Vec<f32>) {
        let coverage = *coverage;
        let vector = features.vector(fields, context, models.buckets, |bucket| model.idf(bucket));
        let mut probabilities = vec![0.0f32; model.classes];
        model.probabilities(&vector, &mut probabilities);
        let (index, probability) = probabilities.iter().copied().enumerate().fold(
            (0, f32::NEG_INFINITY),
            |best, (i, p)| if p > best.1 { (i, p) } else { best },
        );
        let scale = (coverage / self.config.coverage_floor.max(f64::EPSILON)).min(1.0);
        let confidence = f64::from(probability) * scale;
        let strongest = strongest_features(model, &vector, index, self.config.top_features);
        let described = describe_buckets(text, fields, context, models, &strongest);
        let evidence = format!(
            "strongest features [{}], {:.0}% of text features known",
            described.join(", "),
            coverage * 100.0
        );
        (index, confidence, evidence, probabilities)
    }
}

/// What both decisions look at: the lowercased text, fields, and (with a model) the hashed text
/// and its vocabulary coverage.
struct Input<'a> {
    text: &'a str,
    channel: &'a str,
    amount: &'a str,
    hashed: Option<&'a (&'a TrainedModels, TextFeatures, f64)>,
}

fn strongest_features(
    model: &SoftmaxModel,
    vector: &SparseVector,
    class: usize,
    top: usize,
) -> Vec<u32> {
    let mut contributions: Vec<(f32, u32)> = vector
        .buckets
        .iter()
        .zip(&vector.values)
        .map(|(bucket, value)| (model.contribution(*bucket, class, *value), *bucket))
        .filter(|(contribution, _)| *contribution > 0.0)
        .collect();
    contributions.sort_by(|a, b| b.0.total_cmp(&a.0));
    contributions
        .into_iter()
        .take(top)
        .map(|(_, bucket)| bucket)
        .collect()
}

/// Names the features behind `wanted` buckets, in `wanted` order; a word crossed with the
/// `context` is named with it ("word 'charged' with loans").
fn describe_buckets(
    text: &str,
    fields: &[(&'static str, &str)],
    context: Option<&str>,
    models: &TrainedModels,
    wanted: &[u32],
) -> Vec<String> {
    let buckets = models.buckets;
    let salt = context.map(context_salt);
    let mut names: Vec<Option<String>> = vec![None; wanted.len()];
    let mut name = |key: FeatureKey<'_>| {
        let bucket = key.bucket(buckets);
        if let Some(position) = wanted.iter().position(|w| *w == bucket) {
            if names[position].is_none() {
                names[position] = Some(key.describe());
            }
        }
        let word_level = !matches!(key, FeatureKey::CharGram { .. } | FeatureKey::Field(..));
        if let (Some(salt), Some(context), true) = (salt, context, word_level) {
            let crossed = crossed_bucket(bucket, salt, buckets);
            if let Some(position) = wanted.iter().position(|w| *w == crossed) {
                if names[position].is_none() {
                    names[position] = Some(format!("{} with {context}", key.describe()));
                }
            }
        }
    };
    visit_text_features(text, models.grams, &mut name);
    for (field, value) in fields {
        name(FeatureKey::Field(field, value));
    }
    names.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complaint<'a>(
        summary: &'a str,
        description: &'a str,
        hint: &'a str,
    ) -> ComplaintFeatures<'a> {
        ComplaintFeatures {
            summary,
            description,
            product_hint: hint,
            channel: "web",
            amount_minor: None,
            tags: &[],
            regulator_transfer: false,
            mass_complaint: false,
        }
    }

    #[test]
    fn rules_only_uses_tables_and_keywords() {
        let classifier = Classifier::rules_only();
        let prediction = classifier.classify(&complaint("Fraud or scam", "", "Mortgage"));
        assert_eq!(prediction.product, ProductLine::Mortgages);
        assert_eq!(prediction.category, IssueCategory::Security);
        assert_eq!(prediction.model_version, "rules-only");
        assert!(!prediction.needs_human_triage);

        let prediction =
            classifier.classify(&complaint("", "我的信用卡被盗刷了，资金损失五万元", ""));
        assert_eq!(prediction.product, ProductLine::CreditCards);
        assert_eq!(prediction.category, IssueCategory::Security);
        assert_eq!(prediction.grade, Grade::Red);
    }

    #[test]
    fn security_words_override_a_weak_category() {
        let classifier = Classifier::rules_only();
        let decision = |label, confidence, source| Decision {
            label,
            confidence,
            source,
            reason: String::new(),
        };
        let text = "money left my account in an unauthorised transfer; the fee was also wrong";

        // A weak model guess yields, naming the word.
        let weak = classifier.security_override(
            decision(IssueCategory::Fees, 0.42, Source::Model),
            text,
            None,
        );
        assert_eq!(weak.label, IssueCategory::Security);
        assert_eq!(weak.confidence, KEYWORD_CONFIDENCE);
        assert_eq!(
            weak.reason,
            "category security: security word \"unauthorised\" overrides the model's fees (p=0.42 < 0.50)"
        );
        // A sure model, a table label, or text without security words stand.
        for (label, confidence, source, text) in [
            (IssueCategory::Fees, 0.9, Source::Model, text),
            (IssueCategory::Service, 1.0, Source::Table, text),
            (IssueCategory::Fees, 0.1, Source::Model, "the fee was wrong"),
        ] {
            let kept =
                classifier.security_override(decision(label, confidence, source), text, None);
            assert_eq!(kept.label, label);
        }
        // The threshold is configuration.
        let lenient = Classifier::rules_only().with_config(ClassifierConfig {
            security_override_confidence: 0.3,
            ..ClassifierConfig::default()
        });
        let kept = lenient.security_override(
            decision(IssueCategory::Fees, 0.42, Source::Model),
            text,
            None,
        );
        assert_eq!(kept.label, IssueCategory::Fees);

        // Optionally, a model that all but rules security out keeps its guess, saying so; a
        // rule decision, or a model that does not know the text (no probability), does not.
        let judging = Classifier::rules_only().with_config(ClassifierConfig {
            security_override_min_probability: 0.05,
            ..ClassifierConfig::default()
        });
        let kept = judging.security_override(
            decision(IssueCategory::Fees, 0.42, Source::Model),
            text,
            Some(0.01),
        );
        assert_eq!(kept.label, IssueCategory::Fees);
        assert!(
            kept.reason.ends_with(
                "security word \"unauthorised\" does not override: the model gives security p=0.01 < 0.05"
            ),
            "{}",
            kept.reason
        );
        for (source, probability) in [
            (Source::Model, Some(0.2)),
            (Source::Model, None),
            (Source::KeywordRule, Some(0.01)),
        ] {
            let overridden = judging.security_override(
                decision(IssueCategory::Fees, 0.42, source),
                text,
                probability,
            );
            assert_eq!(overridden.label, IssueCategory::Security);
        }
        // By default the word always overrides a weak guess, however sure the model is that
        // the complaint is not about security.
        let default = classifier.security_override(
            decision(IssueCategory::Fees, 0.42, Source::Model),
            text,
            Some(0.0),
        );
        assert_eq!(default.label, IssueCategory::Security);

        // End to end: a keyword rule ("fee") is weak too; Chinese words count.
        for (text, word) in [
            (
                "i was scammed and then charged a fee to get my money back",
                "scam",
            ),
            ("我被骗了，手续费也被扣了", "被骗"),
        ] {
            let prediction = classifier.classify(&complaint("", text, ""));
            assert_eq!(
                prediction.category,
                IssueCategory::Security,
                "{:#?}",
                prediction.reasons
            );
            assert!(
                prediction.reasons[1].starts_with(&format!(
                    "category security: security word {word:?} overrides fees from rules"
                )),
                "{:#?}",
                prediction.reasons
            );
        }
    }

    #[test]
    fn rules_only_without_signal_asks_for_a_human() {
        let prediction = Classifier::rules_only().classify(&complaint("", "qwzx plorb", ""));
        assert!(prediction.needs_human_triage);
        assert_eq!(prediction.product_confidence, 0.0);
        assert_eq!(prediction.grade, Grade::Green);
    }
}
