//! The classifier trained on the CFPB sample: held-out figures against the baseline, known
//! complaints, grading, garbage input, and missing or broken artifacts.

use std::path::PathBuf;
use std::sync::OnceLock;

use complaints_domain::Grade;
use complaints_classifier::{
    loader, Classifier, ClassifyError, ComplaintFeatures, IssueCategory,
    ProductLine, TrainOptions,
};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/cfpb_sample.csv"
);

/// The sample's records; `None` (after a message) when the file is absent outside CI.
fn records() -> Option<&'static [complaints_classifier::CfpbRecord]> {
    static RECORDS: OnceLock<Option<Vec<complaints_classifier::CfpbRecord>>> = OnceLock::new();
    RECORDS
        .get_or_init(|| {
            if !std::path::Path::new(SAMPLE).exists() {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CFPB sample missing at {SAMPLE} (required in CI)"
                );
                eprintln!("skipping: CFPB sample not found at {SAMPLE}");
                return None;
            }
            Some(loader::read_cfpb_csv(SAMPLE).expect("sample parses"))
        })
        .as_deref()
}

fn scratch_file(name: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("classify-test-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("temp dir");
    directory.join(name)
}

/// A classifier trained in-process on the sample, written to disk and loaded back, so every
/// test goes through the artifact the routing service loads.
fn trained() -> Option<&'static Classifier> {
    static CLASSIFIER: OnceLock<Option<Classifier>> = OnceLock::new();
    CLASSIFIER
        .get_or_init(|| {
            let records = records()?;
            let artifact =
                complaints_classifier::train(records, &TrainOptions::default()).expect("training succeeds");
            let path = scratch_file("classifier.json");
            loader::write_artifact(&path, &artifact).expect("artifact written");
            let classifier = Classifier::load(&path).expect("artifact loads");
            assert_eq!(classifier.model_version(), artifact.model_version);
            Some(classifier)
        })
        .as_ref()
}

fn complaint(description: &str) -> ComplaintFeatures<'_> {
    ComplaintFeatures {
        summary: "",
        description,
        product_hint: "",
        channel: "web",
        amount_minor: None,
        tags: &[],
        regulator_transfer: false,
        mass_complaint: false,
    }
}

#[test]
fn every_product_and_issue_label_in_the_sample_is_in_the_tables() {
    let Some(records) = records() else { return };
    assert_eq!(records.len(), 15_309);
    let unmapped_products: Vec<&str> = records
        .iter()
        .filter(|r| r.product_label().is_none())
        .map(|r| r.product.as_str())
        .collect();
    assert!(unmapped_products.is_empty(), "{unmapped_products:?}");
    let unmapped_issues: Vec<&str> = records
        .iter()
        .filter(|r| !r.issue.is_empty() && r.category_label().is_none())
        .map(|r| r.issue.as_str())
        .collect();
    assert!(unmapped_issues.is_empty(), "{unmapped_issues:?}");
    assert!(
        records
            .iter()
            .filter(|r| r.handling_days().is_some())
            .count()
            > 15_000
    );
}

#[test]
fn held_out_figures_beat_the_majority_baseline() {
    let Some(classifier) = trained() else { return };
    let records = records().expect("records present when trained");
    let split = classifier
        .training_split()
        .expect("trained model has a split");
    let report = complaints_classifier::evaluate(classifier, records, split);
    let task = |name: &str| {
        report
            .tasks
            .iter()
            .find(|t| t.task.starts_with(name))
            .expect(name)
    };
    let product = task("product");
    assert!(product.rows > 2_500, "{}", product.rows);
    assert!(product.accuracy >= 0.95, "{product}");
    assert!(
        product.macro_f1 >= product.baseline_macro_f1 + 0.6,
        "{product}"
    );
    let narrative = task("product (narrative only)");
    assert!(
        narrative.accuracy >= 0.75 && narrative.accuracy > narrative.baseline_accuracy + 0.15,
        "{narrative}"
    );
    let category = task("category");
    assert!(
        category.accuracy > category.baseline_accuracy + 0.1,
        "{category}"
    );
    assert!(
        category.macro_f1 >= category.baseline_macro_f1 + 0.25,
        "{category}"
    );
    assert!(
        category.accuracy_when_confident >= category.accuracy,
        "{category}"
    );
}

#[test]
fn known_complaints_land_in_the_right_product() {
    let Some(classifier) = trained() else { return };
    let cases = [
        ("Equifax and TransUnion are reporting a late payment on my credit report that is not mine and they refuse to remove it from my file.", ProductLine::CreditReporting),
        ("A debt collector keeps calling me at work about a medical debt I do not owe and threatened to sue me.", ProductLine::DebtCollection),
        ("My mortgage servicer misapplied my escrow payment and now says my home loan is delinquent and in foreclosure.", ProductLine::Mortgages),
        ("I took out a payday loan and the lender keeps debiting my account even though the loan was paid off.", ProductLine::Loans),
        ("The bank closed my checking account without notice and is holding the money from my savings account.", ProductLine::Deposits),
        ("My credit card issuer raised my APR and will not credit the purchase I disputed on my card statement.", ProductLine::CreditCards),
    ];
    for (text, expected) in cases {
        let prediction = classifier.classify(&complaint(text));
        assert_eq!(
            prediction.product, expected,
            "{text}\n{:#?}",
            prediction.reasons
        );
        assert!(
            prediction.product_confidence >= 0.5,
            "{text}: {prediction:#?}"
        );
        let from_model = format!("product {} (model, p=", expected.as_str());
        assert!(
            prediction.reasons[0].starts_with(&from_model),
            "{:#?}",
            prediction.reasons
        );
    }
}

#[test]
fn product_hint_in_the_table_wins_and_cfpb_issue_sets_the_category() {
    let Some(classifier) = trained() else { return };
    let prediction = classifier.classify(&ComplaintFeatures {
        summary: "Charged fees or interest you didn't expect",
        product_hint: "Credit card or prepaid card",
        ..complaint("")
    });
    assert_eq!(prediction.product, ProductLine::CreditCards);
    assert_eq!(prediction.category, IssueCategory::Fees);
    assert_eq!(
        (
            prediction.product_confidence,
            prediction.category_confidence
        ),
        (1.0, 1.0)
    );
    assert!(!prediction.needs_human_triage);
}

#[test]
fn a_fraud_narrative_grades_red_with_reasons() {
    let Some(classifier) = trained() else { return };
    let text =
        "Someone stole my identity and opened a credit card in my name. There are unauthorized \
                charges of $4,800 on it and the bank will not close the fraudulent account.";
    let prediction = classifier.classify(&complaint(text));
    assert_eq!(
        prediction.grade,
        Grade::Red,
        "{:#?}",
        prediction.reasons
    );
    assert!(
        prediction
            .reasons
            .iter()
            .any(|r| r.contains("security words")),
        "{:#?}",
        prediction.reasons
    );
    assert!(prediction.predicted_handling_days.is_some());

    let chinese = classifier.classify(&complaint("我的信用卡被盗刷，资金损失两万元，请尽快处理"));
    assert_eq!(chinese.grade, Grade::Red, "{:#?}", chinese.reasons);
    assert_eq!(
        chinese.product,
        ProductLine::CreditCards,
        "{:#?}",
        chinese.reasons
    );
    assert_eq!(
        chinese.category,
        IssueCategory::Security,
        "{:#?}",
        chinese.reasons
    );

    let routine = classifier.classify(&complaint(
        "I asked the bank to send me a copy of my monthly statement by mail and it has not arrived yet.",
    ));
    assert_eq!(
        routine.grade,
        Grade::Green,
        "{:#?}",
        routine.reasons
    );
    let older = vec!["Older American".to_string()];
    let escalated = classifier.classify(&ComplaintFeatures {
        tags: &older,
        regulator_transfer: true,
        ..complaint("I asked the bank to send me a copy of my monthly statement by mail and it has not arrived yet.")
    });
    assert_eq!(
        escalated.grade,
        Grade::Red,
        "{:#?}",
        escalated.reasons
    );
}

#[test]
fn garbage_input_yields_low_confidence_not_a_crash() {
    let Some(classifier) = trained() else { return };
    let long_noise = "qzx vbnm plorf ".repeat(2_000);
    let inputs = [
        "",
        "   ",
        "qzxv blorp wrrk 12345 !!!",
        "&&&&&&&&",
        "\u{0}\u{1}\u{fffd}",
        long_noise.as_str(),
        "ÄÖÜ ßß ŁŁ",
    ];
    for text in inputs {
        let prediction = classifier.classify(&complaint(text));
        assert!(prediction.needs_human_triage, "{text:?}: {prediction:#?}");
        assert!(
            prediction.product_confidence < 0.5,
            "{text:?}: {prediction:#?}"
        );
        assert!(prediction
            .reasons
            .iter()
            .any(|r| r.starts_with("human triage")));
    }
}

#[test]
fn missing_or_broken_artifacts_are_errors() {
    let missing = Classifier::load(scratch_file("does-not-exist.json"));
    assert!(
        matches!(&missing, Err(ClassifyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound),
        "{:?}",
        missing.err()
    );
    let broken = scratch_file("broken.json");
    std::fs::write(&broken, b"{\"format_version\": 1, \"model_version\": ").expect("write");
    assert!(matches!(
        Classifier::load(&broken),
        Err(ClassifyError::Artifact { .. })
    ));

    let Some(records) = records() else { return };
    let small: Vec<_> = records.iter().take(3_000).cloned().collect();
    let mut artifact = complaints_classifier::train(
        &small,
        &TrainOptions {
            epochs: 1,
            ..TrainOptions::default()
        },
    )
    .expect("training succeeds");
    artifact.format_version += 1;
    let path = scratch_file("future.json");
    loader::write_artifact(&path, &artifact).expect("write");
    assert!(
        matches!(Classifier::load(&path), Err(ClassifyError::Artifact { reason, .. }) if reason.contains("format version"))
    );
}

#[test]
fn rules_only_classifier_still_answers() {
    let classifier = Classifier::rules_only();
    assert!(!classifier.has_model());
    let prediction = classifier.classify(&complaint("My mortgage payment was not credited"));
    assert_eq!(prediction.product, ProductLine::Mortgages);
    assert_eq!(prediction.model_version, "rules-only");
    assert_eq!(prediction.predicted_handling_days, None);
}
