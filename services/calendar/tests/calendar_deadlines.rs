//! Table-driven deadline cases on the shipped calendars, each expected instant derived by hand
//! from the official holiday lists (see the comment on each row).

use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset, Utc};
use complaints_calendar::{
    deadline, CalendarError, CalendarSet, Interval, Period, SkipReason,
};

const CALENDARS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/calendars");

fn calendars() -> &'static CalendarSet {
    static SET: OnceLock<CalendarSet> = OnceLock::new();
    SET.get_or_init(|| CalendarSet::load_dir(CALENDARS).expect("shipped calendars load"))
}

fn at(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("bad test instant {text}: {error}"))
}

fn pause(text: &str) -> Interval {
    text.parse()
        .unwrap_or_else(|error| panic!("bad test pause {text}: {error}"))
}

struct Case {
    calendar: &'static str,
    start: &'static str,
    within: &'static str,
    pauses: &'static [&'static str],
    expected: &'static str,
    why: &'static str,
}

const fn case(
    calendar: &'static str,
    start: &'static str,
    within: &'static str,
    expected: &'static str,
    why: &'static str,
) -> Case {
    Case {
        calendar,
        start,
        within,
        pauses: &[],
        expected,
        why,
    }
}

const fn paused(
    calendar: &'static str,
    start: &'static str,
    within: &'static str,
    pauses: &'static [&'static str],
    expected: &'static str,
    why: &'static str,
) -> Case {
    Case {
        calendar,
        start,
        within,
        pauses,
        expected,
        why,
    }
}

const CASES: &[Case] = &[
    // ---- China: holidays and make-up days (调休) ----
    case("cn", "2026-02-13T16:30:00+08:00", "3 working days", "2026-02-26T00:00:00+08:00",
        "Fri receipt; Sat 14 make-up (1); 15–23 Spring Festival; Tue 24 (2), Wed 25 (3)"),
    case("cn", "2026-02-13T10:00:00+08:00", "1 working day", "2026-02-15T00:00:00+08:00",
        "the first working day after Fri 13 is make-up Sat 14"),
    case("cn", "2026-02-13T10:00:00+08:00", "2 working days", "2026-02-25T00:00:00+08:00",
        "Sat 14 (1), holiday 15–23, Tue 24 (2)"),
    case("cn", "2026-02-27T10:00:00+08:00", "1 working day", "2026-03-01T00:00:00+08:00",
        "Sat 28 Feb is a make-up working day"),
    case("cn", "2026-02-01T10:00:00+08:00", "15 days", "2026-02-25T00:00:00+08:00",
        "Feb 1 + 15 = Mon 16, a holiday; holiday until 23; next working day Tue 24"),
    case("cn", "2026-01-30T10:00:00+08:00", "15 days", "2026-02-15T00:00:00+08:00",
        "Jan 30 + 15 = Sat Feb 14, a make-up working day, so no extension"),
    case("cn", "2026-09-13T09:00:00+08:00", "1 week", "2026-09-21T00:00:00+08:00",
        "Sep 13 + 7 = Sun 20, a make-up working day"),
    case("cn", "2026-09-20T10:00:00+08:00", "1 week", "2026-09-29T00:00:00+08:00",
        "Sep 20 + 7 = Sun 27, Mid-Autumn holiday; next working day Mon 28"),
    case("cn", "2026-09-30T10:00:00+08:00", "3 working days", "2026-10-11T00:00:00+08:00",
        "Oct 1–7 National Day; Thu 8 (1), Fri 9 (2), make-up Sat 10 (3)"),
    case("cn", "2026-01-02T10:00:00+08:00", "30 days", "2026-02-03T00:00:00+08:00",
        "receipt on a holiday; Jan 2 + 30 = Sun Feb 1; next working day Mon Feb 2"),
    case("cn", "2025-01-24T10:00:00+08:00", "3 working days", "2025-02-06T00:00:00+08:00",
        "Sat 25 rest; make-up Sun 26 (1); Mon 27 (2); Jan 28–Feb 4 Spring Festival; Wed Feb 5 (3)"),
    case("cn", "2025-09-30T15:00:00+08:00", "1 working day", "2025-10-10T00:00:00+08:00",
        "Oct 1–8 National Day and Mid-Autumn; Thu Oct 9"),
    case("cn", "2025-04-25T12:00:00+08:00", "2 working days", "2025-04-29T00:00:00+08:00",
        "Sat 26 rest; make-up Sun 27 (1); Mon 28 (2)"),
    case("cn", "2026-02-14T10:00:00+08:00", "24 hours", "2026-02-15T10:00:00+08:00",
        "wall-clock hours ignore holidays"),
    // ---- China: working hours and business-hour edges ----
    case("cn", "2026-02-13T16:30:00+08:00", "1 working hour", "2026-02-14T09:30:00+08:00",
        "16:30–17:00 Fri, then make-up Sat 09:00–09:30"),
    case("cn", "2026-02-14T16:30:00+08:00", "1 working hour", "2026-02-24T09:30:00+08:00",
        "16:30–17:00 make-up Sat, holiday 15–23, Tue 09:00–09:30"),
    case("cn", "2026-03-02T09:00:00+08:00", "1 working hour", "2026-03-02T10:00:00+08:00",
        "start exactly at opening"),
    case("cn", "2026-03-02T17:00:00+08:00", "1 working hour", "2026-03-03T10:00:00+08:00",
        "start exactly at closing counts from the next opening"),
    case("cn", "2026-03-02T09:00:00+08:00", "8 working hours", "2026-03-02T17:00:00+08:00",
        "a full business day ends exactly at closing"),
    case("cn", "2026-03-02T06:00:00+08:00", "1 working hour", "2026-03-02T10:00:00+08:00",
        "start before opening counts from opening"),
    case("cn", "2026-03-07T11:00:00+08:00", "2 working hours", "2026-03-09T11:00:00+08:00",
        "start on a Saturday (not make-up) counts from Monday opening"),
    // ---- China: time-zone shift of the receipt day ----
    case("cn", "2026-02-13T23:30:00+00:00", "1 working day", "2026-02-25T00:00:00+08:00",
        "23:30Z is 07:30 Sat 14 in Shanghai: receipt day is the make-up Saturday; next working day Tue 24"),
    case("cn", "2026-02-13T15:59:59+00:00", "1 working day", "2026-02-15T00:00:00+08:00",
        "23:59:59 Fri 13 in Shanghai: receipt day Fri; next working day make-up Sat 14"),
    // ---- England & Wales: bank holidays and DST ----
    case("gb-eaw", "2026-04-02T11:00:00+01:00", "3 business days", "2026-04-10T00:00:00+01:00",
        "Good Friday 3, weekend, Easter Monday 6; Tue 7 (1), Wed 8 (2), Thu 9 (3)"),
    case("gb-eaw", "2026-03-27T16:30:00+00:00", "1 working hour", "2026-03-30T09:30:00+01:00",
        "16:30–17:00 GMT Fri; clocks go forward Sun 29; Mon 09:00–09:30 BST"),
    case("gb-eaw", "2026-03-26T12:00:00+00:00", "2 working days", "2026-03-31T00:00:00+01:00",
        "Fri 27 (1), Mon 30 (2); 24:00 Mon is local midnight in BST (23:00Z)"),
    case("gb-eaw", "2026-10-22T10:00:00+01:00", "1 working day", "2026-10-24T00:00:00+01:00",
        "24:00 Fri 23 is Sat 00:00 BST, the night before clocks go back"),
    case("gb-eaw", "2026-03-28T12:00:00+00:00", "24 hours", "2026-03-29T13:00:00+01:00",
        "24 wall-clock hours across the spring change: 12:00 GMT → 13:00 BST"),
    case("gb-eaw", "2026-10-24T12:00:00+01:00", "24 hours", "2026-10-25T11:00:00+00:00",
        "24 wall-clock hours across the autumn change: 12:00 BST → 11:00 GMT"),
    case("gb-eaw", "2026-10-23T10:00:00+01:00", "1 day", "2026-10-27T00:00:00+00:00",
        "Fri + 1 = Sat; Sun 25 (25 hours); Mon 26 working; ends 24:00 GMT"),
    case("gb-eaw", "2026-11-02T10:00:00+00:00", "8 weeks", "2026-12-30T00:00:00+00:00",
        "Nov 2 + 56 = Mon Dec 28, the Boxing Day substitute; next working day Tue 29"),
    case("gb-eaw", "2025-12-15T10:00:00+00:00", "15 business days", "2026-01-09T00:00:00+00:00",
        "16–19 (4), 22–24 (7), 25–26 holidays, 29–31 (10), Jan 1 holiday, Fri 2 (11), 5–8 (15)"),
    case("gb-eaw", "2026-05-01T17:00:00+01:00", "1 working hour", "2026-05-05T10:00:00+01:00",
        "start exactly at closing Fri; weekend; Early May bank holiday Mon 4; Tue 09:00–10:00"),
    case("gb-eaw", "2025-04-17T16:00:00+01:00", "3 working hours", "2025-04-22T11:00:00+01:00",
        "16:00–17:00 Thu; Good Friday, weekend, Easter Monday; Tue 09:00–11:00"),
    // ---- US federal: observed holidays and DST ----
    case("us", "2026-07-03T03:30:00+00:00", "3 working days", "2026-07-09T00:00:00-04:00",
        "03:30Z is 23:30 Thu Jul 2 in New York; Fri 3 observed Independence Day; Mon 6, Tue 7, Wed 8"),
    case("us", "2026-06-18T10:00:00-04:00", "15 days", "2026-07-07T00:00:00-04:00",
        "Jun 18 + 15 = Fri Jul 3 (observed holiday); weekend; Mon Jul 6"),
    case("us", "2026-03-06T16:30:00-05:00", "1 working hour", "2026-03-09T09:30:00-04:00",
        "16:30–17:00 EST Fri; DST starts Sun 8; Mon 09:00–09:30 EDT (13:30Z)"),
    case("us", "2026-03-06T10:00:00-05:00", "2 days", "2026-03-10T00:00:00-04:00",
        "Fri + 2 = Sun Mar 8 (23-hour day, rest day); Mon 9; 24:00 EDT"),
    case("us", "2026-10-25T10:00:00-04:00", "1 week", "2026-11-03T00:00:00-05:00",
        "Oct 25 + 7 = Sun Nov 1 (DST ends, 25 hours); Mon Nov 2; 24:00 EST"),
    case("us", "2025-11-01T10:00:00-04:00", "60 days", "2026-01-01T00:00:00-05:00",
        "CFPB 15 + 45 days: Nov 1 + 60 = Wed Dec 31, a working day"),
    case("us", "2025-12-10T10:00:00-05:00", "15 days", "2025-12-27T00:00:00-05:00",
        "Dec 10 + 15 = Christmas Thu 25; Fri 26 is a working day (2025 executive closure not a federal holiday)"),
    case("us", "2025-01-17T12:00:00-05:00", "1 working day", "2025-01-22T00:00:00-05:00",
        "weekend, Martin Luther King Jr. Day Mon 20; Tue 21"),
    case("us", "2026-03-07T12:00:00-05:00", "24 hours", "2026-03-08T13:00:00-04:00",
        "24 wall-clock hours across the spring change"),
    case("us", "2026-11-25T16:00:00-05:00", "4 working hours", "2026-11-27T12:00:00-05:00",
        "16:00–17:00 Wed; Thanksgiving Thu 26; Fri 27 09:00–12:00"),
    // ---- pauses (stop-clock) ----
    paused("cn", "2026-02-09T10:00:00+08:00", "3 working days",
        &["2026-02-10T14:00:00+08:00..2026-02-12T10:00:00+08:00"], "2026-02-15T00:00:00+08:00",
        "Tue counts 14/24, Wed 0, Thu 14/24, Fri 1 (2.17), make-up Sat 14 reaches 3"),
    paused("cn", "2026-02-12T10:00:00+08:00", "3 working days",
        &["2026-02-13T00:00:00+08:00..2026-02-24T12:00:00+08:00"], "2026-02-28T00:00:00+08:00",
        "pause spanning Spring Festival: Fri 13 and make-up Sat 14 paused, Tue 24 counts ½, Wed, Thu, Fri reach 3.5"),
    paused("cn", "2026-02-13T16:30:00+08:00", "3 working days",
        &["2026-02-16T00:00:00+08:00..2026-02-20T00:00:00+08:00"], "2026-02-26T00:00:00+08:00",
        "a pause inside the holiday stops nothing that was counting"),
    paused("cn", "2026-02-13T10:00:00+08:00", "3 working days",
        &["2026-02-13T11:00:00+08:00..2026-02-13T15:00:00+08:00"], "2026-02-26T00:00:00+08:00",
        "a pause inside the receipt day (which never counts) changes nothing"),
    paused("cn", "2026-02-13T16:00:00+08:00", "2 working hours",
        &["2026-02-13T16:30:00+08:00..2026-02-24T10:00:00+08:00"], "2026-02-24T11:30:00+08:00",
        "16:00–16:30 counted; make-up Sat paused; holiday; Tue 10:00–11:30"),
    paused("gb-eaw", "2026-03-28T12:00:00+00:00", "24 hours",
        &["2026-03-28T18:00:00+00:00..2026-03-29T06:00:00+00:00"], "2026-03-30T01:00:00+01:00",
        "12 paused wall-clock hours move the end by 12 hours"),
    paused("us", "2026-06-01T10:00:00-04:00", "15 days",
        &["2026-06-05T00:00:00-04:00..2026-06-08T00:00:00-04:00"], "2026-06-23T00:00:00-04:00",
        "3 whole days paused: last day Jun 19 (Juneteenth), weekend, Mon 22"),
    paused("us", "2026-06-01T10:00:00-04:00", "15 days",
        &["2026-06-05T12:00:00-04:00..2026-06-05T12:00:00-04:00"], "2026-06-17T00:00:00-04:00",
        "a zero-length pause changes nothing: Jun 1 + 15 = Tue 16"),
    paused("gb-eaw", "2026-03-02T10:00:00+00:00", "2 working days",
        &["2026-03-03T12:00:00+00:00..2026-03-03T13:00:00+00:00", "2026-03-03T12:30:00+00:00..2026-03-03T18:00:00+00:00"],
        "2026-03-06T00:00:00+00:00",
        "overlapping pauses merge (12:00–18:00): Tue counts ¾, Wed 1, Thu reaches 2"),
];

#[test]
fn table_of_hand_derived_deadlines() {
    let mut failures = Vec::new();
    for case in CASES {
        let calendar = calendars().get(case.calendar).expect("calendar exists");
        let period: Period = case.within.parse().expect("valid period");
        let pauses: Vec<Interval> = case.pauses.iter().map(|text| pause(text)).collect();
        let result =
            deadline(calendar, at(case.start), period, &pauses).expect("deadline computes");
        let expected = at(case.expected).with_timezone(&Utc);
        if result.at != expected {
            failures.push(format!(
                "{} {} from {}: expected {}, got {} ({})\n  explanation: {}",
                case.calendar,
                case.within,
                case.start,
                case.expected,
                result.local().to_rfc3339(),
                case.why,
                result.explanation
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn explanation_names_skipped_days_and_reasons() {
    let cn = calendars().get("cn").expect("cn");
    let result = deadline(
        cn,
        at("2026-02-13T16:30:00+08:00"),
        Period::WorkingDays(3),
        &[],
    )
    .expect("deadline");
    let explanation = &result.explanation;
    assert_eq!(
        explanation
            .receipt_day
            .map(|day| day.to_string())
            .as_deref(),
        Some("2026-02-13")
    );
    assert_eq!(
        explanation
            .make_up_days
            .iter()
            .map(|day| day.to_string())
            .collect::<Vec<_>>(),
        ["2026-02-14"]
    );
    assert_eq!(explanation.skipped.len(), 1);
    assert_eq!(explanation.skipped[0].from.to_string(), "2026-02-15");
    assert_eq!(explanation.skipped[0].to.to_string(), "2026-02-23");
    assert_eq!(
        explanation.skipped[0].reason,
        SkipReason::Holiday("Spring Festival (春节)".into())
    );
    assert_eq!(
        explanation.to_string(),
        "3 working days on calendar cn (Asia/Shanghai) from Fri 2026-02-13 16:30; receipt day Fri 2026-02-13 \
         not counted; make-up working day counted: Sat 2026-02-14; skipped Sun 2026-02-15..Mon 2026-02-23 \
         (holiday: Spring Festival (春节)); ends 24:00 Wed 2026-02-25 (2026-02-26T00:00:00+08:00)"
    );
    assert_eq!(result.to_string(), "2026-02-26T00:00:00+08:00");
}

#[test]
fn explanation_of_a_moved_calendar_day_end() {
    let us = calendars().get("us").expect("us");
    let result = deadline(
        us,
        at("2026-06-18T10:00:00-04:00"),
        Period::CalendarDays(15),
        &[],
    )
    .expect("deadline");
    assert_eq!(
        result
            .explanation
            .moved_from
            .map(|day| day.to_string())
            .as_deref(),
        Some("2026-07-03")
    );
    let text = result.explanation.to_string();
    assert!(
        text.contains("last day Fri 2026-07-03 is not a working day"),
        "{text}"
    );
    assert!(
        text.contains("Fri 2026-07-03 (holiday: Independence Day (observed; Jul 4 is a Saturday))"),
        "{text}"
    );
    assert!(
        text.contains("Sat 2026-07-04..Sun 2026-07-05 (rest days)"),
        "{text}"
    );
}

#[test]
fn explanation_lists_pauses_and_fully_paused_days() {
    let cn = calendars().get("cn").expect("cn");
    let pauses = [pause(
        "2026-02-10T14:00:00+08:00..2026-02-12T10:00:00+08:00",
    )];
    let result = deadline(
        cn,
        at("2026-02-09T10:00:00+08:00"),
        Period::WorkingDays(3),
        &pauses,
    )
    .expect("deadline");
    let text = result.explanation.to_string();
    assert!(text.contains("skipped Wed 2026-02-11 (paused)"), "{text}");
    assert!(
        text.contains(
            "clock paused Tue 2026-02-10 14:00..Thu 2026-02-12 10:00 (1d 20h00m in total)"
        ),
        "{text}"
    );
}

#[test]
fn dates_outside_coverage_are_errors_naming_the_date() {
    let cn = calendars().get("cn").expect("cn");
    let cases = [
        (
            "2026-12-30T10:00:00+08:00",
            Period::WorkingDays(3),
            "2027-01-01",
        ),
        (
            "2024-12-01T10:00:00+08:00",
            Period::CalendarDays(15),
            "2024-12-16",
        ),
        (
            "2024-12-31T10:00:00+08:00",
            Period::WorkingHours(1),
            "2024-12-31",
        ),
        (
            "2026-12-20T10:00:00+08:00",
            Period::CalendarDays(15),
            "2027-01-04",
        ),
    ];
    for (start, period, date) in cases {
        match deadline(cn, at(start), period, &[]) {
            Err(CalendarError::OutOfCoverage {
                calendar,
                date: missing,
                ..
            }) => {
                assert_eq!(calendar, "cn");
                assert_eq!(missing.to_string(), date, "{period} from {start}");
            }
            other => panic!("{period} from {start}: expected OutOfCoverage, got {other:?}"),
        }
    }
    let error = deadline(
        cn,
        at("2026-12-30T10:00:00+08:00"),
        Period::WorkingDays(3),
        &[],
    )
    .expect_err("uncovered");
    assert_eq!(
        error.to_string(),
        "calendar \"cn\" has no data for 2027-01-01: it covers 2025-01-01 to 2026-12-31; add that year to the calendar file"
    );
    // A pause reaching past the coverage cannot hide the missing year either.
    let long_pause = [pause(
        "2026-12-01T00:00:00+08:00..2027-03-01T00:00:00+08:00",
    )];
    assert!(matches!(
        deadline(
            cn,
            at("2026-11-30T10:00:00+08:00"),
            Period::CalendarDays(15),
            &long_pause
        ),
        Err(CalendarError::OutOfCoverage { .. })
    ));
    // Wall-clock hours classify no date and work anywhere.
    assert!(deadline(cn, at("2030-01-01T00:00:00+08:00"), Period::Hours(24), &[]).is_ok());
}
