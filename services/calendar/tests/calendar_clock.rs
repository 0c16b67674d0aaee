//! Clocks: start, pause, resume, extend, warning, breach, stop, and persistence across restarts.

use std::sync::OnceLock;

use chrono::{DateTime, TimeDelta, Utc};
use complaints_calendar::{
    share_point, CalendarSet, Clock, ClockError, ClockEvent, ClockPhase, Period,
};

const CALENDARS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/calendars");

fn calendars() -> &'static CalendarSet {
    static SET: OnceLock<CalendarSet> = OnceLock::new();
    SET.get_or_init(|| CalendarSet::load_dir(CALENDARS).expect("shipped calendars load"))
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("bad instant {text}: {error}"))
        .with_timezone(&Utc)
}

#[test]
fn green_investigation_with_warning_and_extension() {
    let cn = calendars().get("cn").expect("cn");
    let mut clock = Clock::start(cn, Period::WorkingDays(3), at("2026-02-13T16:30:00+08:00"));

    let status = clock
        .status(cn, at("2026-02-24T12:00:00+08:00"))
        .expect("status");
    assert_eq!(status.phase, ClockPhase::Running);
    assert_eq!(status.deadline.at, at("2026-02-26T00:00:00+08:00"));
    // 75 % of 3 working days = 2.25 days: Sat 14 and Tue 24 whole, then 6 hours into Wed 25.
    assert_eq!(status.warning_at, at("2026-02-25T06:00:00+08:00"));
    assert_eq!(status.remaining, TimeDelta::hours(36));

    assert_eq!(
        clock
            .status(cn, at("2026-02-25T06:00:00+08:00"))
            .expect("status")
            .phase,
        ClockPhase::Warning
    );

    clock
        .extend(
            Period::WorkingDays(2),
            at("2026-02-25T10:00:00+08:00"),
            "approved by department head",
        )
        .expect("extend");
    assert_eq!(clock.period(), Period::WorkingDays(5));
    let status = clock
        .status(cn, at("2026-02-25T10:00:00+08:00"))
        .expect("status");
    // Sat 14, Tue 24, Wed 25, Thu 26, Fri 27.
    assert_eq!(status.deadline.at, at("2026-02-28T00:00:00+08:00"));
    // 75 % of 5 = 3.75: 18:00 on the 4th counting day (Thu 26).
    assert_eq!(status.warning_at, at("2026-02-26T18:00:00+08:00"));
    assert_eq!(status.phase, ClockPhase::Running);

    assert!(matches!(
        clock.extend(
            Period::CalendarDays(2),
            at("2026-02-25T11:00:00+08:00"),
            "wrong unit"
        ),
        Err(ClockError::IncompatibleExtension { .. })
    ));

    assert_eq!(
        clock
            .status(cn, at("2026-02-28T00:00:00+08:00"))
            .expect("status")
            .phase,
        ClockPhase::Breached
    );
    clock.stop(at("2026-02-27T15:00:00+08:00")).expect("stop");
    let status = clock
        .status(cn, at("2026-03-05T00:00:00+08:00"))
        .expect("status");
    assert_eq!(status.phase, ClockPhase::Stopped { met: true });
    assert_eq!(status.remaining, TimeDelta::hours(9));
}

#[test]
fn pause_and_resume_shift_the_remaining_time() {
    let gb = calendars().get("gb-eaw").expect("gb");
    let mut clock = Clock::start(gb, Period::Hours(24), at("2026-03-02T09:00:00Z"));
    clock.pause(at("2026-03-02T15:00:00Z")).expect("pause");

    let status = clock
        .status(gb, at("2026-03-03T15:00:00Z"))
        .expect("status");
    assert_eq!(status.phase, ClockPhase::Paused);
    assert!(status.provisional);
    assert_eq!(
        status.remaining,
        TimeDelta::hours(18),
        "6 of 24 hours were used before the pause"
    );
    assert_eq!(status.deadline.at, at("2026-03-04T09:00:00Z"));

    clock.resume(at("2026-03-03T15:00:00Z")).expect("resume");
    let status = clock
        .status(gb, at("2026-03-03T15:00:00Z"))
        .expect("status");
    assert!(!status.provisional);
    assert_eq!(status.phase, ClockPhase::Running);
    assert_eq!(status.deadline.at, at("2026-03-04T09:00:00Z"));
    assert_eq!(
        status.warning_at,
        at("2026-03-04T03:00:00Z"),
        "18 of 24 hours: 6 before, 12 after the restart"
    );
    assert_eq!(clock.pauses().len(), 1);
}

#[test]
fn invalid_transitions_are_refused() {
    let cn = calendars().get("cn").expect("cn");
    let mut clock = Clock::start(cn, Period::WorkingHours(1), at("2026-03-02T10:00:00+08:00"));
    let refused = |result: Result<(), ClockError>| {
        matches!(result, Err(ClockError::InvalidTransition { .. }))
    };
    assert!(
        refused(clock.resume(at("2026-03-02T10:10:00+08:00"))),
        "resume while running"
    );
    assert!(
        refused(clock.pause(at("2026-03-02T09:00:00+08:00"))),
        "pause before the start"
    );
    clock.pause(at("2026-03-02T10:20:00+08:00")).expect("pause");
    assert!(
        refused(clock.pause(at("2026-03-02T10:30:00+08:00"))),
        "pause while paused"
    );
    assert!(
        refused(clock.resume(at("2026-03-02T10:00:00+08:00"))),
        "resume before the pause"
    );
    clock
        .resume(at("2026-03-02T10:40:00+08:00"))
        .expect("resume");
    assert!(
        refused(clock.pause(at("2026-03-02T10:30:00+08:00"))),
        "pause before the last resume"
    );
    clock.stop(at("2026-03-02T10:50:00+08:00")).expect("stop");
    assert!(
        refused(clock.pause(at("2026-03-02T11:00:00+08:00"))),
        "pause after stop"
    );
    assert!(refused(clock.extend(
        Period::WorkingHours(1),
        at("2026-03-02T11:00:00+08:00"),
        "late"
    )));
    assert!(matches!(
        Clock::start(cn, Period::Hours(1), at("2026-03-02T10:00:00Z")).with_warning_percent(0),
        Err(ClockError::WarningPercent(0))
    ));
    let gb = calendars().get("gb-eaw").expect("gb");
    assert!(matches!(
        clock.status(gb, at("2026-03-02T11:00:00Z")),
        Err(ClockError::WrongCalendar { .. })
    ));
}

#[test]
fn a_clock_survives_a_restart() {
    let cn = calendars().get("cn").expect("cn");
    let mut clock = Clock::start(
        cn,
        Period::CalendarDays(15),
        at("2026-02-01T10:00:00+08:00"),
    )
    .with_warning_percent(80)
    .expect("percent");
    clock.pause(at("2026-02-03T09:00:00+08:00")).expect("pause");
    clock
        .resume(at("2026-02-05T09:00:00+08:00"))
        .expect("resume");
    clock
        .extend(
            Period::CalendarDays(15),
            at("2026-02-10T09:00:00+08:00"),
            "complex case",
        )
        .expect("extend");
    clock
        .pause(at("2026-02-11T09:00:00+08:00"))
        .expect("pause again");

    let stored = toml::to_string(&clock).expect("serialise");
    let restored: Clock = toml::from_str(&stored).expect("restore");
    assert_eq!(restored, clock);
    let now = at("2026-02-12T09:00:00+08:00");
    assert_eq!(
        restored.status(cn, now).expect("status"),
        clock.status(cn, now).expect("status")
    );
    assert!(stored.contains("period = \"15 days\""), "{stored}");

    // A tampered record is refused on restore.
    let tampered = stored.replace("warning_percent = 80", "warning_percent = 0");
    assert!(toml::from_str::<Clock>(&tampered).is_err());
    let overlapping = "calendar = \"cn\"\nperiod = \"15 days\"\nstarted_at = \"2026-02-01T02:00:00Z\"\nwarning_percent = 75\n\
        [[pauses]]\nfrom = \"2026-02-03T00:00:00Z\"\nto = \"2026-02-05T00:00:00Z\"\n\
        [[pauses]]\nfrom = \"2026-02-04T00:00:00Z\"\nto = \"2026-02-06T00:00:00Z\"\n";
    let error = toml::from_str::<Clock>(overlapping).expect_err("overlapping pauses");
    assert!(
        error
            .to_string()
            .contains("overlaps the start or an earlier pause"),
        "{error}"
    );
}

#[test]
fn warning_and_breach_events() {
    let us = calendars().get("us").expect("us");
    let clock = Clock::start(us, Period::WorkingHours(4), at("2026-03-02T09:00:00-05:00"));
    // 75 % of 4 working hours: 12:00; breach at 13:00.
    assert_eq!(
        clock
            .events_between(
                us,
                at("2026-03-02T09:00:00-05:00"),
                at("2026-03-02T11:59:00-05:00")
            )
            .expect("events"),
        []
    );
    assert_eq!(
        clock
            .events_between(
                us,
                at("2026-03-02T11:59:00-05:00"),
                at("2026-03-02T13:00:00-05:00")
            )
            .expect("events"),
        [
            ClockEvent::Warning {
                at: at("2026-03-02T12:00:00-05:00")
            },
            ClockEvent::Breach {
                at: at("2026-03-02T13:00:00-05:00")
            }
        ]
    );
    let mut stopped = clock.clone();
    stopped.stop(at("2026-03-02T12:30:00-05:00")).expect("stop");
    assert_eq!(
        stopped
            .events_between(
                us,
                at("2026-03-02T11:59:00-05:00"),
                at("2026-03-02T14:00:00-05:00")
            )
            .expect("events"),
        [ClockEvent::Warning {
            at: at("2026-03-02T12:00:00-05:00")
        }],
        "no breach after a stop in time"
    );
}

#[test]
fn warning_point_measures_dst_days_by_their_own_length() {
    let gb = calendars().get("gb-eaw").expect("gb");
    // 1 day from Sat 28 Mar: the counting day is Sun 29 Mar, 23 hours long (clocks go forward).
    // 75 % of it is 17h15m of real time after its midnight (00:00Z), i.e. 18:15 BST.
    let warning = share_point(
        gb,
        at("2026-03-28T10:00:00Z"),
        Period::CalendarDays(1),
        &[],
        75,
    )
    .expect("share");
    assert_eq!(warning, at("2026-03-29T17:15:00Z"));
    // 50 % of 1 day over the 25-hour autumn Sunday: 12h30m after 00:00 BST (23:00Z Sat).
    let warning = share_point(
        gb,
        at("2026-10-24T10:00:00+01:00"),
        Period::CalendarDays(1),
        &[],
        50,
    )
    .expect("share");
    assert_eq!(warning, at("2026-10-25T11:30:00Z"));
}

#[test]
fn a_clock_past_the_published_calendar_is_provisional_on_the_weekly_pattern() {
    // China's 2027 schedule is not in the data. 30 days from 10 Dec 2026 ends on Sat 9 Jan 2027,
    // which the weekly pattern says is a rest day, so the period runs to 24:00 Mon 11 Jan.
    let cn = calendars().get("cn").expect("cn");
    let clock = Clock::start(cn, Period::CalendarDays(30), at("2026-12-10T10:00:00+08:00"));
    assert!(clock.status(cn, at("2026-12-11T00:00:00Z")).is_err(), "the exact calendar refuses");
    let status = clock
        .status_in(calendars(), at("2026-12-11T00:00:00Z"))
        .expect("provisional status");
    assert!(status.calendar_provisional);
    assert_eq!(status.deadline.at, at("2027-01-12T00:00:00+08:00"));

    // Inside the data the answer is exact and not flagged: 15 days from 10 Dec is 25 Dec (Fri).
    let inside = Clock::start(cn, Period::CalendarDays(15), at("2026-12-10T10:00:00+08:00"));
    let status = inside
        .status_in(calendars(), at("2026-12-11T00:00:00Z"))
        .expect("status");
    assert!(!status.calendar_provisional);
    assert_eq!(status.deadline.at, at("2026-12-26T00:00:00+08:00"));

    // UK and US calendars carry 2027: 3 business days from Thu 23 Dec 2027 are Fri 24, then
    // (weekend, substitute days Mon 27 and Tue 28) Wed 29 and Thu 30: ends 24:00 Thu 30 Dec.
    let gb = calendars().get("gb-eaw").expect("gb");
    let clock = Clock::start(gb, Period::WorkingDays(3), at("2027-12-23T11:00:00Z"));
    let status = clock.status_in(calendars(), at("2027-12-23T12:00:00Z")).expect("status");
    assert!(!status.calendar_provisional);
    assert_eq!(status.deadline.at, at("2027-12-31T00:00:00Z"));
}

#[test]
fn calendars_ending_soon_are_reported() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    let ending = calendars().ending_within(today, 90);
    assert_eq!(ending, [("cn", chrono::NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"))]);
    assert!(calendars().ending_within(today, 30).is_empty());
}

#[test]
fn a_pause_over_working_days_counts_the_unpaused_shares() {
    // 2 working days from Mon 2 Mar 2026 10:00 (CN): Tue 3 and Wed 4 → 24:00 Wed 4 Mar.
    // Paused Tue 3 Mar 10:00 – Thu 5 Mar 10:00: Tue contributes 10/24, Wed nothing, Thu 14/24
    // (one day in all by the end of Thu), Fri the second → 24:00 Fri 6 Mar.
    let cn = calendars().get("cn").expect("cn");
    let mut clock = Clock::start(cn, Period::WorkingDays(2), at("2026-03-02T10:00:00+08:00"));
    clock.pause(at("2026-03-03T10:00:00+08:00")).expect("pause");
    clock.resume(at("2026-03-05T10:00:00+08:00")).expect("resume");
    let status = clock.status(cn, at("2026-03-05T10:00:00+08:00")).expect("status");
    assert_eq!(status.deadline.at, at("2026-03-07T00:00:00+08:00"));
}
