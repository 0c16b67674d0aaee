//! The classifier trained on the CFPB sample: held-out figures against the baseline, evaluation
//! of unseen data, staff corrections, known complaints, grading, garbage input, and missing,
//! broken or outdated artifacts.

use std::path::PathBuf;
use std::sync::OnceLock;

use complaints_classifier::{
    loader, CfpbRecord, Classifier, ClassifyError, ComplaintFeatures, Correction, EvaluationScope,
    IssueCategory, ProductLine, TrainOptions, ARTIFACT_FORMAT_VERSION,
};
use complaints_domain::Grade;

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
            let started = std::time::Instant::now();
            let artifact = complaints_classifier::train(records, &[], &TrainOptions::default())
                .expect("training succeeds");
            eprintln!("trained in {:.1}s", started.elapsed().as_secs_f64());
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
    // The training rows themselves: only the held-out share is scored.
    let scope = EvaluationScope::detect(classifier, records);
    assert_eq!(scope, EvaluationScope::HeldOut(split));
    let report = complaints_classifier::evaluate(classifier, records, scope);
    assert_eq!(report.rows, records.len());
    assert_eq!(
        report.scored_rows,
        records
            .iter()
            .filter(|r| split.is_held_out(&r.complaint_id))
            .count()
    );
    let task = |name: &str| {
        report
            .tasks
            .iter()
            .find(|t| t.task.starts_with(name))
            .expect(name)
    };
    let product = task("product");
    assert!(product.rows > 2_500, "{}", product.rows);
    assert!(product.accuracy >= 0.97, "{product}");
    assert!(
        product.macro_f1 >= product.baseline_macro_f1 + 0.6,
        "{product}"
    );
    let narrative = task("product (narrative only)");
    assert!(
        narrative.accuracy >= 0.835 && narrative.accuracy > narrative.baseline_accuracy + 0.25,
        "{narrative}"
    );
    let category = task("category");
    assert!(
        category.accuracy > category.baseline_accuracy + 0.1,
        "{category}"
    );
    assert!(
        category.macro_f1 >= category.baseline_macro_f1 + 0.3,
        "{category}"
    );
    assert!(
        category.accuracy_when_confident >= category.accuracy,
        "{category}"
    );
}

/// The rows of `records` as a CFPB-format CSV (the columns the loader reads).
fn write_cfpb_csv(path: &std::path::Path, records: &[&CfpbRecord]) {
    let mut writer = csv::Writer::from_path(path).expect("create CSV");
    writer
        .write_record([
            "Date received",
            "Product",
            "Sub-product",
            "Issue",
            "Sub-issue",
            "Consumer complaint narrative",
            "Tags",
            "Submitted via",
            "Date sent to company",
            "Complaint ID",
        ])
        .expect("header");
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    for r in records {
        writer
            .write_record([
                date(r.date_received),
                r.product.clone(),
                r.sub_product.clone(),
                r.issue.clone(),
                r.sub_issue.clone(),
                r.narrative.clone(),
                r.tags.join(", "),
                r.submitted_via.clone(),
                date(r.date_sent_to_company),
                r.complaint_id.clone(),
            ])
            .expect("row");
    }
    writer.flush().expect("flush");
}

#[test]
fn a_csv_the_model_never_saw_is_scored_in_full() {
    let Some(classifier) = trained() else { return };
    let records = records().expect("records present when trained");
    let split = classifier.training_split().expect("split");
    // Some held-out rows, with and without narratives, in a file of their own.
    let unseen: Vec<&CfpbRecord> = records
        .iter()
        .filter(|r| split.is_held_out(&r.complaint_id))
        .step_by(7)
        .take(150)
        .collect();
    let path = scratch_file("unseen.csv");
    write_cfpb_csv(&path, &unseen);
    let rows = loader::read_cfpb_csv(&path).expect("parses");
    assert_eq!(rows.len(), unseen.len());

    let scope = EvaluationScope::detect(classifier, &rows);
    assert_eq!(scope, EvaluationScope::AllRows);
    let report = complaints_classifier::evaluate(classifier, &rows, scope);
    assert_eq!((report.rows, report.scored_rows), (150, 150));
    let labelled = rows.iter().filter(|r| r.product_label().is_some()).count();
    let narratives = rows.iter().filter(|r| r.has_narrative()).count();
    assert_eq!(report.tasks[0].rows, labelled);
    assert_eq!(report.tasks[1].rows, narratives);
    assert!(narratives > 20 && narratives < 150, "{narratives}");
    assert!(
        report
            .to_string()
            .contains("scored 150 of 150 rows: every row"),
        "{report}"
    );
    // Any change to the training rows makes them "not the training data" as well.
    let mut changed = records.to_vec();
    changed[0].narrative.push('.');
    assert_eq!(
        EvaluationScope::detect(classifier, &changed),
        EvaluationScope::AllRows
    );
}

#[test]
fn corrections_are_validated_and_learned() {
    let path = scratch_file("corrections.csv");
    let header = "complaint_number,text,product,category,grade,corrected_by,reason\n";
    let write = |body: &str| std::fs::write(&path, format!("{header}{body}")).expect("write");

    // Unknown names are errors naming the line and the field.
    write("C-1,\"My card, stolen\",credit_cards,security,red,s1,checked\nC-2,text,credit_card,,,s1,typo\n");
    let error = loader::read_corrections(&path).expect_err("unknown product");
    assert!(
        matches!(
            &error,
            ClassifyError::InvalidRow {
                line: 3,
                field: "product",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("line 3, field product"),
        "{error}"
    );
    write("C-1,text,,fee,,s1,typo\n");
    assert!(matches!(
        loader::read_corrections(&path),
        Err(ClassifyError::InvalidRow {
            line: 2,
            field: "category",
            ..
        })
    ));
    write("C-1,text,,,purple,s1,typo\n");
    assert!(matches!(
        loader::read_corrections(&path),
        Err(ClassifyError::InvalidRow { field: "grade", .. })
    ));
    write(",text,loans,,,s1,typo\n");
    assert!(matches!(
        loader::read_corrections(&path),
        Err(ClassifyError::InvalidRow {
            field: "complaint_number",
            ..
        })
    ));
    std::fs::write(&path, "complaint_number,text,product\nC-1,text,loans\n").expect("write");
    assert!(matches!(
        loader::read_corrections(&path),
        Err(ClassifyError::MissingColumn {
            column: "category",
            ..
        })
    ));

    // A valid file: a multi-line quoted text, empty = not corrected, grade-only rows, and a
    // complaint corrected twice (the last correction counts).
    let phrase = "the zorblax vault token was frobnicated";
    let mut body = String::new();
    for i in 0..4 {
        body.push_str(&format!(
            "Z-{i},\"{phrase} again, case {i}\nsecond line\",wealth_management,system,Yellow,s{i},re-triage\n"
        ));
    }
    body.push_str("Z-0,\"first correction superseded\",loans,,,s9,later\n");
    body.push_str("G-1,only the grade changed,,,red,s1,urgent\n");
    write(&body);
    let corrections = loader::read_corrections(&path).expect("valid corrections");
    assert_eq!(corrections.len(), 6);
    assert_eq!(
        corrections[1],
        Correction {
            complaint_number: "Z-1".into(),
            text: format!("{phrase} again, case 1\nsecond line"),
            product: Some(ProductLine::WealthManagement),
            category: Some(IssueCategory::System),
            grade: Some(Grade::Yellow),
            corrected_by: "s1".into(),
            reason: "re-triage".into(),
        }
    );
    assert!(!corrections[5].is_training_example());

    // Learned: a small model (part of the sample, few epochs) sends the corrected phrase to the
    // corrected product; without the corrections it does not.
    let Some(records) = records() else { return };
    let small: Vec<CfpbRecord> = records.iter().take(2_000).cloned().collect();
    let options = TrainOptions {
        epochs: 4,
        ..TrainOptions::default()
    };
    let artifact =
        complaints_classifier::train(&small, &corrections, &options).expect("training succeeds");
    let used = &artifact.training.corrections;
    assert_eq!(
        (
            used.rows,
            used.superseded,
            used.used,
            used.product_examples,
            used.category_examples
        ),
        (6, 1, 4, 4, 3)
    );
    let with = Classifier::from_artifact(artifact).expect("consistent");
    let without = Classifier::from_artifact(
        complaints_classifier::train(&small, &[], &options).expect("training succeeds"),
    )
    .expect("consistent");
    let text = format!("{phrase} yesterday");
    assert_eq!(
        with.classify(&complaint(&text)).product,
        ProductLine::WealthManagement,
        "{:#?}",
        with.classify(&complaint(&text)).reasons
    );
    assert_ne!(
        without.classify(&complaint(&text)).product,
        ProductLine::WealthManagement
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
fn impossible_class_weight_caps_are_refused() {
    for cap in [0.0, -1.0, f32::INFINITY, f32::NAN] {
        let options = TrainOptions {
            class_weight_cap: cap,
            ..TrainOptions::default()
        };
        let Err(error) = complaints_classifier::train(&[], &[], &options) else {
            panic!("cap {cap} accepted")
        };
        assert!(
            matches!(&error, ClassifyError::Training(reason) if reason.contains("class_weight_cap")),
            "{error}"
        );
    }
}

#[test]
fn category_words_are_read_in_the_products_context() {
    let Some(classifier) = trained() else { return };
    let cases = [
        ("I was charged a late fee even though my payment was made on time and the lender will not refund it.", "Payday loan, title loan, or personal loan", IssueCategory::Fees),
        ("Experian refuses to remove an account from my credit report that is not mine; the information is wrong.", "Credit reporting, credit repair services, or other personal consumer reports", IssueCategory::Product),
        ("The collector calls me several times a day at work and keeps calling after I asked them to stop.", "Debt collection", IssueCategory::Service),
    ];
    let mut evidence = Vec::new();
    for (text, hint, category) in cases {
        let prediction = classifier.classify(&ComplaintFeatures {
            product_hint: hint,
            ..complaint(text)
        });
        assert_eq!(prediction.category, category, "{:#?}", prediction.reasons);
        evidence.push(prediction.reasons[1].clone());
    }
    // The evidence names words crossed with the product ("word 'fee' with loans").
    assert!(
        evidence.iter().any(|reason| reason.contains("' with ")),
        "{evidence:#?}"
    );
}

#[test]
fn a_fraud_narrative_grades_red_with_reasons() {
    let Some(classifier) = trained() else { return };
    let text =
        "Someone stole my identity and opened a credit card in my name. There are unauthorized \
                charges of $4,800 on it and the bank will not close the fraudulent account.";
    let prediction = classifier.classify(&complaint(text));
    assert_eq!(prediction.grade, Grade::Red, "{:#?}", prediction.reasons);
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
    assert_eq!(routine.grade, Grade::Green, "{:#?}", routine.reasons);
    let older = vec!["Older American".to_string()];
    let escalated = classifier.classify(&ComplaintFeatures {
        tags: &older,
        regulator_transfer: true,
        ..complaint("I asked the bank to send me a copy of my monthly statement by mail and it has not arrived yet.")
    });
    assert_eq!(escalated.grade, Grade::Red, "{:#?}", escalated.reasons);
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

    // An artifact of the previous format (no TF-IDF weights, no data fingerprint) is refused
    // by its version, not with a parse error about a missing field.
    let old = scratch_file("old.json");
    std::fs::write(
        &old,
        r#"{"format_version": 1, "model_version": "v1-0123456789abcdef", "buckets": 65536,
            "product": {"classes": ["loans"], "bias": [0.0], "rows": [[1, [0.5]]]}}"#,
    )
    .expect("write");
    let Err(error) = Classifier::load(&old) else {
        panic!("an old artifact loaded")
    };
    assert!(
        matches!(&error, ClassifyError::Artifact { reason, .. }
            if reason.contains("format version 1") && reason.contains(&format!("reads {ARTIFACT_FORMAT_VERSION}"))),
        "{error}"
    );

    let Some(records) = records() else { return };
    let small: Vec<_> = records.iter().take(2_000).cloned().collect();
    let mut artifact = complaints_classifier::train(
        &small,
        &[],
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
