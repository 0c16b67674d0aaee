//! `complaintctl model`: train the complaint classifier on a CFPB-format CSV and evaluate it.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use complaints_classifier::{self, loader, Classifier, Split, TrainOptions};

/// Train or evaluate the complaint classifier.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ModelCommand {
    /// Train on the non-held-out rows of a CSV with the CFPB columns and write a model artifact.
    Train {
        /// CSV with the CFPB column names (e.g. ../shared/data/cfpb_sample.csv).
        #[arg(long)]
        data: PathBuf,
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
    /// Evaluate an artifact on the rows of a CSV its training split held out.
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
            out,
            seed,
            holdout_percent,
        } => {
            anyhow::ensure!(
                (1..=99).contains(holdout_percent),
                "--holdout-percent must be 1..=99"
            );
            let records = loader::read_cfpb_csv(data)?;
            let options = TrainOptions {
                split: Split {
                    seed: *seed,
                    holdout_percent: *holdout_percent,
                },
                ..TrainOptions::default()
            };
            let started = Instant::now();
            let artifact = complaints_classifier::train(&records, &options)?;
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
                 category model on {} narratives ({} features)",
                summary.rows,
                summary.held_out_rows,
                summary.split.seed,
                summary.split.holdout_percent,
                summary.product_training_examples,
                summary.known_product_features,
                summary.category_training_examples,
                summary.known_category_features,
            );
            println!("  wrote {} ({:.1} MB)", out.display(), size as f64 / 1e6);
            Ok(())
        }
        ModelCommand::Evaluate { data, model, json } => {
            let classifier = Classifier::load(model)
                .with_context(|| format!("loading model {}", model.display()))?;
            let split = classifier
                .training_split()
                .context("artifact carries no training split")?;
            let records = loader::read_cfpb_csv(data)?;
            let report = complaints_classifier::evaluate(&classifier, &records, split);
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
            Ok(())
        }
    }
}
