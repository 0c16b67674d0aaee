//! Rule packs: shipped defaults per jurisdiction, grade and stage; institution overrides; errors
//! naming file and line.

use chrono::{DateTime, Utc};
use complaints_calendar::{CalendarSet, Grade, Period, RuleBook, RuleError, ClockKind};

const CALENDARS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/calendars");
const RULE_PACKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/rule-packs");

fn book() -> RuleBook {
    RuleBook::load_dir(RULE_PACKS).expect("shipped rule packs load")
}

fn period(text: &str) -> Period {
    text.parse().expect("valid period")
}

#[test]
fn shipped_packs_refer_to_shipped_calendars() {
    let book = book();
    assert_eq!(book.jurisdictions().collect::<Vec<_>>(), ["cn", "eu", "gb", "us"]);
    let calendars = CalendarSet::load_dir(CALENDARS).expect("calendars");
    book.check_calendars(&calendars)
        .expect("every pack's calendar exists");
    assert_eq!(book.pack("gb", None).expect("gb").calendar(), "gb-eaw");
}

#[test]
fn every_lifecycle_stage_has_a_clock_in_every_pack() {
    let book = book();
    let stages = [
        ClockKind::Acknowledge,
        ClockKind::FirstContact,
        ClockKind::Handover,
        ClockKind::InvestigationStart,
        ClockKind::Response,
        ClockKind::Investigation,
        ClockKind::Approval,
        ClockKind::ObjectionWindow,
        ClockKind::Execution,
        ClockKind::FollowUp,
        ClockKind::RegulatorDecision,
    ];
    for jurisdiction in ["cn", "eu", "gb", "us"] {
        for grade in [Grade::Red, Grade::Yellow, Grade::Green] {
            for stage in stages {
                book.rule(jurisdiction, None, grade, stage)
                    .unwrap_or_else(|error| panic!("{jurisdiction} {grade} {stage}: {error}"));
            }
        }
    }
}

#[test]
fn spec_defaults() {
    let book = book();
    let expect = |jurisdiction: &str, grade: Grade, stage: ClockKind, base: &str, extended: &str| {
        let rule = book.rule(jurisdiction, None, grade, stage).expect("rule");
        assert_eq!(rule.period, period(base), "{jurisdiction} {grade} {stage}");
        assert_eq!(
            rule.extended_period(usize::MAX),
            period(extended),
            "{jurisdiction} {grade} {stage} extended"
        );
    };
    expect(
        "cn",
        Grade::Green,
        ClockKind::Acknowledge,
        "1 working hour",
        "1 working hour",
    );
    expect(
        "cn",
        Grade::Green,
        ClockKind::FirstContact,
        "24 hours",
        "24 hours",
    );
    expect(
        "cn",
        Grade::Yellow,
        ClockKind::Response,
        "2 working days",
        "2 working days",
    );
    expect(
        "cn",
        Grade::Green,
        ClockKind::Response,
        "4 working days",
        "4 working days",
    );
    expect(
        "cn",
        Grade::Green,
        ClockKind::Investigation,
        "3 working days",
        "5 working days",
    );
    expect(
        "cn",
        Grade::Yellow,
        ClockKind::Investigation,
        "2 working days",
        "3 working days",
    );
    expect(
        "cn",
        Grade::Red,
        ClockKind::Approval,
        "1 working day",
        "1 working day",
    );
    expect(
        "cn",
        Grade::Green,
        ClockKind::ObjectionWindow,
        "3 working days",
        "3 working days",
    );
    expect("cn", Grade::Green, ClockKind::FollowUp, "1 week", "1 week");
    expect(
        "cn",
        Grade::Green,
        ClockKind::RegulatorDecision,
        "15 days",
        "60 days",
    );
    expect(
        "cn",
        Grade::Green,
        ClockKind::ReviewWindow,
        "30 days",
        "30 days",
    );
    expect(
        "gb",
        Grade::Green,
        ClockKind::SummaryResolution,
        "3 business days",
        "3 business days",
    );
    expect(
        "gb",
        Grade::Green,
        ClockKind::RegulatorDecision,
        "8 weeks",
        "8 weeks",
    );
    expect(
        "gb",
        Grade::Yellow,
        ClockKind::PaymentServicesDecision,
        "15 business days",
        "35 business days",
    );
    expect(
        "us",
        Grade::Red,
        ClockKind::RegulatorDecision,
        "15 days",
        "60 days",
    );

    let rule = book
        .rule("cn", None, Grade::Green, ClockKind::RegulatorDecision)
        .expect("rule");
    assert_eq!(rule.extended_period(1), period("30 days"));
    assert_eq!(rule.calendar, "cn");
    assert_eq!(rule.warning_percent, 75);
    assert!(
        rule.defined_at.ends_with("rule-packs/cn.toml:25"),
        "{}",
        rule.defined_at
    );
    assert!(rule
        .basis
        .as_deref()
        .is_some_and(|basis| basis.contains("CBIRC")));

    assert!(matches!(
        book.rule("cn", None, Grade::Green, ClockKind::SummaryResolution),
        Err(RuleError::NoRule { jurisdiction, stage, .. }) if jurisdiction == "cn" && stage == "summary_resolution"
    ));
    assert!(matches!(
        book.rule("fr", None, Grade::Green, ClockKind::Acknowledge),
        Err(RuleError::UnknownJurisdiction(_))
    ));
}

const BASE: &str = r#"jurisdiction = "cn"
calendar = "cn"
[stages]
acknowledge = { period = "1 working hour" }
regulator_decision = { period = "15 days", extensions = ["15 days", "30 days"] }
[grades.green]
investigation = { period = "3 working days", extensions = ["2 working days"] }
"#;

#[test]
fn institution_overrides_replace_only_what_they_list() {
    let amendment = r#"institution = "example-bank"
jurisdiction = "cn"
warning_percent = 60

[grades.green]
investigation = { period = "2 working days", extensions = ["1 working day"], warning_percent = 50 }
"#;
    let book = RuleBook::from_sources([("base.toml", BASE), ("example-bank.toml", amendment)])
        .expect("book");
    let rule = book
        .rule(
            "cn",
            Some("example-bank"),
            Grade::Green,
            ClockKind::Investigation,
        )
        .expect("rule");
    assert_eq!(rule.period, Period::WorkingDays(2));
    assert_eq!(rule.extensions, [Period::WorkingDays(1)]);
    assert_eq!(rule.warning_percent, 50);
    assert_eq!(rule.defined_at, "example-bank.toml:6");
    let untouched = book
        .rule("cn", Some("example-bank"), Grade::Green, ClockKind::Acknowledge)
        .expect("rule");
    assert_eq!(untouched.period, Period::WorkingHours(1));
    assert_eq!(untouched.warning_percent, 60);
    assert_eq!(untouched.defined_at, "base.toml:4");
    // Other institutions, and the jurisdiction itself, keep the base pack.
    assert_eq!(
        book.rule("cn", Some("other-bank"), Grade::Green, ClockKind::Investigation)
            .expect("rule")
            .period,
        Period::WorkingDays(3)
    );
    assert_eq!(
        book.rule("cn", None, Grade::Green, ClockKind::Investigation)
            .expect("rule")
            .warning_percent,
        75
    );
}

#[test]
fn a_rule_starts_a_clock_on_its_calendar() {
    let book = book();
    let calendars = CalendarSet::load_dir(CALENDARS).expect("calendars");
    let rule = book
        .rule("cn", None, Grade::Green, ClockKind::Investigation)
        .expect("rule");
    let calendar = calendars.get(&rule.calendar).expect("calendar");
    let start: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-02-13T16:30:00+08:00")
        .expect("instant")
        .into();
    let clock = rule.start_clock(calendar, start).expect("clock");
    let deadline = clock.deadline(calendar, start).expect("deadline");
    assert_eq!(deadline.to_string(), "2026-02-26T00:00:00+08:00");
    assert!(rule
        .start_clock(calendars.get("us").expect("us"), start)
        .is_err());
}

fn data_error(sources: &[(&str, &str)]) -> (String, usize, String) {
    match RuleBook::from_sources(sources.iter().copied()) {
        Err(RuleError::Data {
            file,
            line,
            message,
        }) => (file, line, message),
        Err(other) => panic!("expected a data error, got {other}"),
        Ok(_) => panic!("expected a data error"),
    }
}

#[test]
fn bad_packs_are_rejected_with_file_and_line() {
    let bad_period = BASE.replace("\"1 working hour\"", "\"1 working fortnight\"");
    let (file, line, message) = data_error(&[("cn.toml", &bad_period)]);
    assert_eq!((file.as_str(), line), ("cn.toml", 4));
    assert!(
        message.starts_with("acknowledge: invalid period \"1 working fortnight\": unknown unit"),
        "{message}"
    );

    let bad_extension = BASE.replace("[\"2 working days\"]", "[\"2 days\"]");
    let (_, line, message) = data_error(&[("cn.toml", &bad_extension)]);
    assert_eq!(line, 7);
    assert_eq!(message, "investigation: extension 2 days cannot be added to 3 working days (different unit or too long)");

    let unknown_stage = format!("{BASE}investigtion = {{ period = \"1 working day\" }}\n");
    let (_, line, message) = data_error(&[("cn.toml", &unknown_stage)]);
    assert_eq!(line, 8);
    assert!(
        message.contains("unknown variant `investigtion`"),
        "{message}"
    );

    let (file, line, message) = data_error(&[("a.toml", BASE), ("b.toml", BASE)]);
    assert_eq!((file.as_str(), line), ("b.toml", 1));
    assert_eq!(message, "jurisdiction \"cn\" is already defined by a.toml");

    let orphan = "institution = \"x\"\njurisdiction = \"fr\"\n";
    let (file, line, message) = data_error(&[("cn.toml", BASE), ("x.toml", orphan)]);
    assert_eq!((file.as_str(), line), ("x.toml", 2));
    assert_eq!(message, "override for unknown jurisdiction \"fr\"");

    let no_calendar = BASE.replace("calendar = \"cn\"\n", "");
    let (_, line, message) = data_error(&[("cn.toml", &no_calendar)]);
    assert_eq!(line, 1);
    assert!(message.contains("needs `calendar"), "{message}");

    let wrong_calendar = BASE.replace("calendar = \"cn\"", "calendar = \"china\"");
    let book = RuleBook::from_sources([("cn.toml", wrong_calendar.as_str())]).expect("parses");
    let calendars = CalendarSet::load_dir(CALENDARS).expect("calendars");
    let error = book
        .check_calendars(&calendars)
        .expect_err("unknown calendar");
    assert_eq!(error.to_string(), "cn.toml:2: unknown calendar \"china\"");
}
