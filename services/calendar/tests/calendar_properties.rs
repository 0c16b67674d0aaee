//! Property tests of the deadline engine: monotonic in start, count and pauses; zero-length pauses
//! change nothing; the warning point never follows the deadline.

use std::sync::OnceLock;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use complaints_calendar::{deadline, share_point, Calendar, CalendarSet, Interval, Period};
use proptest::prelude::*;

const CALENDARS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/calendars");
const CALENDAR_IDS: [&str; 3] = ["cn", "gb-eaw", "us"];

fn calendars() -> &'static CalendarSet {
    static SET: OnceLock<CalendarSet> = OnceLock::new();
    SET.get_or_init(|| CalendarSet::load_dir(CALENDARS).expect("shipped calendars load"))
}

fn calendar(index: usize) -> &'static Calendar {
    calendars()
        .get(CALENDAR_IDS[index % CALENDAR_IDS.len()])
        .expect("calendar")
}

/// Starts between 2025-01-02 and 2026-08-31 (to the second), so that every period below, even
/// with pauses, ends inside the covered years.
fn start_strategy() -> impl Strategy<Value = DateTime<Utc>> {
    let first = Utc
        .with_ymd_and_hms(2025, 1, 2, 0, 0, 0)
        .single()
        .expect("instant")
        .timestamp();
    let last = Utc
        .with_ymd_and_hms(2026, 8, 31, 0, 0, 0)
        .single()
        .expect("instant")
        .timestamp();
    (first..last).prop_map(|seconds| DateTime::from_timestamp(seconds, 0).expect("instant"))
}

fn period_strategy() -> impl Strategy<Value = Period> {
    prop_oneof![
        (1u32..=40).prop_map(Period::CalendarDays),
        (1u32..=35).prop_map(Period::WorkingDays),
        (1u32..=60).prop_map(Period::WorkingHours),
        (1u32..=500).prop_map(Period::Hours),
        (1u32..=8).prop_map(Period::Weeks),
    ]
}

/// Up to three pauses, each starting between 2 days before and 20 days after `start` and lasting up to 5 days
/// (to the minute; zero length allowed).
fn pauses_strategy() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((-2 * 24 * 60i64..20 * 24 * 60, 0i64..5 * 24 * 60), 0..=3)
}

fn to_pauses(start: DateTime<Utc>, raw: &[(i64, i64)]) -> Vec<Interval> {
    raw.iter()
        .map(|(offset, length)| {
            let from = start + TimeDelta::minutes(*offset);
            Interval::new(from, from + TimeDelta::minutes(*length)).expect("non-negative pause")
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn later_start_never_gives_an_earlier_deadline(
        which in 0usize..3,
        start in start_strategy(),
        delay_minutes in 0i64..10 * 24 * 60,
        period in period_strategy(),
        raw_pauses in pauses_strategy(),
    ) {
        let calendar = calendar(which);
        let later = start + TimeDelta::minutes(delay_minutes);
        let pauses = to_pauses(start, &raw_pauses);
        let early = deadline(calendar, start, period, &pauses).expect("covered");
        let late = deadline(calendar, later, period, &pauses).expect("covered");
        prop_assert!(late.at >= early.at, "{} then {}: {} vs {}", start, later, early.explanation, late.explanation);
    }

    #[test]
    fn larger_count_never_gives_an_earlier_deadline(
        which in 0usize..3,
        start in start_strategy(),
        period in period_strategy(),
        raw_pauses in pauses_strategy(),
    ) {
        let calendar = calendar(which);
        let pauses = to_pauses(start, &raw_pauses);
        let shorter = deadline(calendar, start, period, &pauses).expect("covered");
        let longer = deadline(calendar, start, period.with_count(period.count() + 1), &pauses).expect("covered");
        prop_assert!(longer.at >= shorter.at, "{} vs {}", shorter.explanation, longer.explanation);
        prop_assert!(shorter.at > start);
    }

    #[test]
    fn a_pause_never_moves_a_deadline_earlier(
        which in 0usize..3,
        start in start_strategy(),
        period in period_strategy(),
        raw_pauses in pauses_strategy(),
        extra in (0i64..20 * 24 * 60, 0i64..5 * 24 * 60),
    ) {
        let calendar = calendar(which);
        let pauses = to_pauses(start, &raw_pauses);
        let mut more = pauses.clone();
        more.extend(to_pauses(start, &[extra]));
        let without = deadline(calendar, start, period, &pauses).expect("covered");
        let with = deadline(calendar, start, period, &more).expect("covered");
        prop_assert!(with.at >= without.at, "{} vs {}", without.explanation, with.explanation);
    }

    #[test]
    fn a_zero_length_pause_changes_nothing(
        which in 0usize..3,
        start in start_strategy(),
        period in period_strategy(),
        offset_seconds in -86_400i64..40 * 86_400,
    ) {
        let calendar = calendar(which);
        let instant = start + TimeDelta::seconds(offset_seconds);
        let empty = Interval::new(instant, instant).expect("empty pause");
        let plain = deadline(calendar, start, period, &[]).expect("covered");
        let paused = deadline(calendar, start, period, &[empty]).expect("covered");
        prop_assert_eq!(plain, paused);
    }

    #[test]
    fn warning_point_lies_between_start_and_deadline(
        which in 0usize..3,
        start in start_strategy(),
        period in period_strategy(),
        raw_pauses in pauses_strategy(),
        percent in 1u8..=100,
    ) {
        let calendar = calendar(which);
        let pauses = to_pauses(start, &raw_pauses);
        let end = deadline(calendar, start, period, &pauses).expect("covered");
        let warning = share_point(calendar, start, period, &pauses, percent).expect("covered");
        prop_assert!(warning >= start && warning <= end.at, "{} at {}%: warning {} outside", end.explanation, percent, warning);
        let later = share_point(calendar, start, period, &pauses, percent.saturating_add(1).min(100)).expect("covered");
        prop_assert!(later >= warning);
    }

    #[test]
    fn period_text_round_trips(period in period_strategy()) {
        prop_assert_eq!(period.to_string().parse::<Period>(), Ok(period));
    }
}
