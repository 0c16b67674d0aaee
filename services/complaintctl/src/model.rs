//! `complaintctl model`: train the complaint classifier on a CFPB-format CSV (plus staff
//! corrections) and evaluate it.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use complaints_classifier::{self, loader, Classifier, EvaluationScope, Split, TrainOptions};

/// Train or evaluate the complaint classifier.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ModelCommand {
    /// Train on the non-held-out rows of a CSV with the CFPB columns and write a model artifact.
    Train {
        /// CSV with the CFPB column names (e.g. ../shared/data/cfpb_sample.csv).
        #[arg(long)]
        data: PathBuf,
        /// Staff corrections (`complaintctl casework corrections`): CSV with the header
        /// complaint_number,text,product,category,grade,corrected_by,reason. Repeatable; a
        /// complaint corrected in several files keeps its last correction.
        #[arg(long)]
        corrections: Vec<PathBuf>,
        /// Where to write the artifact (JSON).
        #[arg(long, default_value = "models/classifier.json")]
        out: PathBuf,
        /// Seed of the deterministic split and of the training shuffle.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Percentage of rows held out for evaluation.
        #[arg(long, default_value_t = 20)]
        holdout_percent: u8,
    },
    /// Evaluate an artifact: on the training CSV, the rows its split held out; on any other CSV,
    /// every row.
    Evaluate {
        /// CSV with the CFPB column names.
        #[arg(long)]
        data: PathBuf,
        /// Artifact written by `model train`.
        #[arg(long, default_value = "models/classifier.json")]
        model: PathBuf,
        /// Print the report as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs one `model` subcommand, printing its results to stdout.
pub fn run(command: &ModelCommand) -> anyhow::Result<()> {
    match command {
        ModelCommand::Train {
            data,
            corrections,
            out,
            seed,
            holdout_percent,
        } => {
            anyhow::ensure!(
                (1..=99).contains(holdout_percent),
                "--holdout-percent must be 1..=99"
            );
            let records = loader::read_cfpb_csv(data)?;
            let mut staff_corrections = Vec::new();
            for path in corrections {
                staff_corrections.extend(loader::read_corrections(path)?);
            }
            let options = TrainOptions {
                split: Split {
                    seed: *seed,
                    holdout_percent: *holdout_percent,
                },
                ..TrainOptions::default()
            };
            let started = Instant::now();
            let artifact = complaints_classifier::train(&records, &staff_corrections, &options)?;
            let elapsed = started.elapsed();
            loader::write_artifact(out, &artifact)?;
            let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or_default();
            let summary = &artifact.training;
            println!(
                "trained model {} in {:.1}s",
                artifact.model_version,
                elapsed.as_secs_f64()
            );
            println!(
                "  rows {}: {} held out (seed {}, {}%), product model on {} examples ({} features), \
                 category model on {} examples ({} features)",
                summary.rows,
                summary.held_out_rows,
                summary.split.seed,
                summary.split.holdout_percent,
                summary.product_training_examples,
                summary.known_product_features,
                summary.category_training_examples,
                summary.known_category_features,
            );
            let used = &summary.corrections;
            println!(
                "  corrections: {} rows in {} file(s), {} used ({} product, {} category examples, \
                 weight {}), {} superseded by a later correction, {} grade only",
                used.rows,
                corrections.len(),
                used.used,
                used.product_examples,
                used.category_examples,
                used.weight,
                used.superseded,
                used.rows - used.superseded - used.used,
            );
            println!("  training data {}", summary.data_fingerprint);
            println!("  wrote {} ({:.1} MB)", out.display(), size as f64 / 1e6);
            Ok(())
        }
        ModelCommand::Evaluate { data, model, json } => {
            let classifier = Classifier::load(model)
                .with_context(|| format!("loading model {}", model.display()))?;
            let records = loader::read_cfpb_csv(data)?;
            let scope = EvaluationScope::detect(&classifier, &records);
            let report = complaints_classifier::evaluate(&classifier, &records, scope);
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
            Ok(())
        }
    }
}
