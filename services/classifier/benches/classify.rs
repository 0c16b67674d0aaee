//! Classification throughput on one core: held-out CFPB complaints classified and graded by a
//! model trained on the rest of the sample. Target: ≥ 10,000 complaints/s.

use std::hint::black_box;

use complaints_classifier::{self, loader, Classifier, TrainOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/cfpb_sample.csv"
);

fn classify_throughput(c: &mut Criterion) {
    let Ok(records) = loader::read_cfpb_csv(SAMPLE) else {
        eprintln!("skipping classify bench: CFPB sample not found at {SAMPLE}");
        return;
    };
    let options = TrainOptions::default();
    let artifact =
        complaints_classifier::train(&records, &[], &options).expect("training succeeds");
    let classifier = Classifier::from_artifact(artifact).expect("consistent artifact");
    let held_out: Vec<_> = records
        .iter()
        .filter(|record| options.split.is_held_out(&record.complaint_id))
        .collect();
    let summaries: Vec<String> = held_out.iter().map(|record| record.summary()).collect();
    let with_narrative: Vec<_> = held_out
        .iter()
        .filter(|record| record.has_narrative())
        .collect();

    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(held_out.len() as u64));
    group.bench_function("held_out_all_rows", |b| {
        b.iter(|| {
            for (record, summary) in held_out.iter().zip(&summaries) {
                black_box(classifier.classify(&record.product_task_input(summary)));
            }
        })
    });
    group.throughput(Throughput::Elements(with_narrative.len() as u64));
    group.bench_function("held_out_narratives_only", |b| {
        b.iter(|| {
            for record in &with_narrative {
                black_box(classifier.classify(&record.narrative_input(false)));
            }
        })
    });
    let rules_only = Classifier::rules_only();
    group.throughput(Throughput::Elements(held_out.len() as u64));
    group.bench_function("rules_only_all_rows", |b| {
        b.iter(|| {
            for (record, summary) in held_out.iter().zip(&summaries) {
                black_box(rules_only.classify(&record.product_task_input(summary)));
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = classify_throughput
}
criterion_main!(benches);
