//! Evaluation: accuracy, macro-F1 and per-class precision/recall next to a majority-class
//! baseline, for product and for category — on the held-out split of the training data, or on
//! every row of data the model never saw.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::classifier::Classifier;
use super::dataset::{data_fingerprint, CfpbRecord, Split};

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub label: String,
    /// Held-out rows whose true label is this class.
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// One task's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskReport {
    pub task: String,
    pub rows: usize,
    pub accuracy: f64,
    /// Unweighted mean F1 over classes that occur in the truth or the predictions.
    pub macro_f1: f64,
    pub baseline_label: String,
    pub baseline_accuracy: f64,
    pub baseline_macro_f1: f64,
    /// Share of rows flagged for human triage, and accuracy on the rest.
    pub triage_rate: f64,
    pub accuracy_when_confident: f64,
    pub per_class: Vec<ClassMetrics>,
}

/// Which rows of a CSV an evaluation scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationScope {
    /// The rows are the model's training data: score the share its split held out.
    HeldOut(Split),
    /// The rows are not the model's training data: score every row.
    AllRows,
}

impl EvaluationScope {
    /// `HeldOut` with the model's split when `records` are exactly the rows the model was
    /// trained on (same [`data_fingerprint`]), `AllRows` otherwise. A CSV that mixes training
    /// rows with new ones is "not the training data": keep evaluation files free of training
    /// rows.
    pub fn detect(classifier: &Classifier, records: &[CfpbRecord]) -> EvaluationScope {
        match classifier.training_summary() {
            Some(training) if training.data_fingerprint == data_fingerprint(records) => {
                EvaluationScope::HeldOut(training.split)
            }
            _ => EvaluationScope::AllRows,
        }
    }

    fn scores(&self, record: &CfpbRecord) -> bool {
        match self {
            EvaluationScope::HeldOut(split) => split.is_held_out(&record.complaint_id),
            EvaluationScope::AllRows => true,
        }
    }
}

impl fmt::Display for EvaluationScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvaluationScope::HeldOut(split) => write!(
                f,
                "held-out share of the training data (split seed {}, {}%)",
                split.seed, split.holdout_percent
            ),
            EvaluationScope::AllRows => {
                write!(f, "every row (not the model's training data)")
            }
        }
    }
}

/// All tasks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationReport {
    pub model_version: String,
    pub scope: EvaluationScope,
    /// Rows given to the evaluation.
    pub rows: usize,
    /// Rows in scope (held out, or all).
    pub scored_rows: usize,
    pub tasks: Vec<TaskReport>,
}

/// (truth, prediction, triaged).
type Outcome = (String, String, bool);

fn metrics(task: &str, outcomes: &[Outcome], baseline_label: &str) -> TaskReport {
    let rows = outcomes.len();
    let ratio = |part: usize, whole: usize| {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    };
    let per_class_of = |pairs: &mut dyn Iterator<Item = (&str, &str)>| {
        // label → (true positives, predicted, actual)
        let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
        for (truth, predicted) in pairs {
            counts.entry(truth.to_string()).or_default().2 += 1;
            counts.entry(predicted.to_string()).or_default().1 += 1;
            if truth == predicted {
                counts.entry(truth.to_string()).or_default().0 += 1;
            }
        }
        counts
            .into_iter()
            .map(|(label, (hits, predicted, actual))| {
                let precision = ratio(hits, predicted);
                let recall = ratio(hits, actual);
                let f1 = if precision + recall == 0.0 {
                    0.0
                } else {
                    2.0 * precision * recall / (precision + recall)
                };
                ClassMetrics {
                    label,
                    support: actual,
                    precision,
                    recall,
                    f1,
                }
            })
            .collect::<Vec<_>>()
    };
    let macro_f1 = |classes: &[ClassMetrics]| {
        if classes.is_empty() {
            0.0
        } else {
            classes.iter().map(|c| c.f1).sum::<f64>() / classes.len() as f64
        }
    };
    let per_class = per_class_of(&mut outcomes.iter().map(|(t, p, _)| (t.as_str(), p.as_str())));
    let baseline = per_class_of(
        &mut outcomes
            .iter()
            .map(|(t, _, _)| (t.as_str(), baseline_label)),
    );
    let hits = outcomes.iter().filter(|(t, p, _)| t == p).count();
    let baseline_hits = outcomes
        .iter()
        .filter(|(t, _, _)| t == baseline_label)
        .count();
    let confident: Vec<&Outcome> = outcomes.iter().filter(|(_, _, triaged)| !triaged).collect();
    let confident_hits = confident.iter().filter(|(t, p, _)| t == p).count();
    TaskReport {
        task: task.to_string(),
        rows,
        accuracy: ratio(hits, rows),
        macro_f1: macro_f1(&per_class),
        baseline_label: baseline_label.to_string(),
        baseline_accuracy: ratio(baseline_hits, rows),
        baseline_macro_f1: macro_f1(&baseline),
        triage_rate: ratio(rows - confident.len(), rows),
        accuracy_when_confident: ratio(confident_hits, confident.len()),
        per_class,
    }
}

fn majority<'a>(labels: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for label in labels {
        *counts.entry(label).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, count)| *count)
        .map(|(label, _)| label.to_string())
        .unwrap_or_default()
}

/// Evaluates `classifier` on the rows of `records` in `scope` (see [`EvaluationScope::detect`]).
/// Majority baselines come from the rows out of scope (the training side) when there are any,
/// else from the scored rows themselves (a baseline that knows the test's majority). Three
/// tasks:
/// - `product`: all labelled rows in scope; summary (issue + sub-issue) + narrative;
/// - `product (narrative only)`: rows in scope with a narrative; narrative alone;
/// - `category (narrative + product)`: rows in scope with a narrative; narrative plus the true
///   product as hint (the issue text is excluded: the labels derive from it).
pub fn evaluate(
    classifier: &Classifier,
    records: &[CfpbRecord],
    scope: EvaluationScope,
) -> EvaluationReport {
    let (scored, training): (Vec<&CfpbRecord>, Vec<&CfpbRecord>) =
        records.iter().partition(|record| scope.scores(record));
    let training = if training.is_empty() {
        scored.clone()
    } else {
        training
    };
    let product_majority = majority(
        training
            .iter()
            .filter_map(|r| r.product_label())
            .map(|p| p.as_str()),
    );
    let narrative_product_majority = majority(
        training
            .iter()
            .filter(|r| r.has_narrative())
            .filter_map(|r| r.product_label())
            .map(|p| p.as_str()),
    );
    let category_majority = majority(
        training
            .iter()
            .filter(|r| r.has_narrative() && r.product_label().is_some())
            .filter_map(|r| r.category_label())
            .map(|c| c.as_str()),
    );

    let mut product = Vec::new();
    let mut narrative_product = Vec::new();
    let mut category = Vec::new();
    for record in &scored {
        let Some(truth) = record.product_label() else {
            continue;
        };
        let summary = record.summary();
        let prediction = classifier.classify(&record.product_task_input(&summary));
        product.push((
            truth.as_str().to_string(),
            prediction.product.as_str().to_string(),
            prediction.needs_human_triage,
        ));
        if !record.has_narrative() {
            continue;
        }
        let prediction = classifier.classify(&record.narrative_input(false));
        narrative_product.push((
            truth.as_str().to_string(),
            prediction.product.as_str().to_string(),
            prediction.needs_human_triage,
        ));
        if let Some(truth) = record.category_label() {
            let prediction = classifier.classify(&record.narrative_input(true));
            category.push((
                truth.as_str().to_string(),
                prediction.category.as_str().to_string(),
                prediction.needs_human_triage,
            ));
        }
    }
    EvaluationReport {
        model_version: classifier.model_version().to_string(),
        scope,
        rows: records.len(),
        scored_rows: scored.len(),
        tasks: vec![
            metrics("product", &product, &product_majority),
            metrics(
                "product (narrative only)",
                &narrative_product,
                &narrative_product_majority,
            ),
            metrics(
                "category (narrative + product)",
                &category,
                &category_majority,
            ),
        ],
    }
}

impl fmt::Display for TaskReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} — {} rows", self.task, self.rows)?;
        writeln!(
            f,
            "  model:    accuracy {:.3}  macro-F1 {:.3}",
            self.accuracy, self.macro_f1
        )?;
        writeln!(
            f,
            "  baseline: accuracy {:.3}  macro-F1 {:.3}  (always {:?})",
            self.baseline_accuracy, self.baseline_macro_f1, self.baseline_label
        )?;
        writeln!(
            f,
            "  human triage {:.1}% of rows; accuracy on the rest {:.3}",
            self.triage_rate * 100.0,
            self.accuracy_when_confident
        )?;
        writeln!(
            f,
            "  {:<20} {:>7} {:>9} {:>7} {:>6}",
            "class", "support", "precision", "recall", "F1"
        )?;
        for class in &self.per_class {
            writeln!(
                f,
                "  {:<20} {:>7} {:>9.3} {:>7.3} {:>6.3}",
                class.label, class.support, class.precision, class.recall, class.f1
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for EvaluationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "model {} — scored {} of {} rows: {}",
            self.model_version, self.scored_rows, self.rows, self.scope
        )?;
        for task in &self.tasks {
            writeln!(f)?;
            write!(f, "{task}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_a_hand_computed_case() {
        let outcome = |t: &str, p: &str| (t.to_string(), p.to_string(), false);
        let outcomes = [
            outcome("a", "a"),
            outcome("a", "b"),
            outcome("b", "b"),
            outcome("a", "a"),
        ];
        let report = metrics("t", &outcomes, "a");
        assert_eq!(report.accuracy, 0.75);
        assert_eq!(report.baseline_accuracy, 0.75);
        // a: p=1, r=2/3, f1=0.8; b: p=0.5, r=1, f1=2/3.
        assert!((report.macro_f1 - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-9);
        // baseline: a: p=0.75 r=1 f1=6/7; b: 0.
        assert!((report.baseline_macro_f1 - (6.0 / 7.0) / 2.0).abs() < 1e-9);
    }
}
