//! Calendar data files: the shipped calendars' contents, and rejection of bad data with file and
//! line.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use complaints_calendar::{
    deadline, Calendar, CalendarError, CalendarSet, DayKind, Period,
};

const CALENDARS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/calendars");

fn date(text: &str) -> NaiveDate {
    text.parse()
        .unwrap_or_else(|error| panic!("bad test date {text}: {error}"))
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test instant")
        .with_timezone(&Utc)
}

fn working_days_in(calendar: &Calendar, year: i32) -> usize {
    let mut day = NaiveDate::from_ymd_opt(year, 1, 1).expect("date");
    let mut count = 0;
    while day.year() == year {
        if calendar.is_working_day(day).expect("covered") {
            count += 1;
        }
        day = day.succ_opt().expect("date");
    }
    count
}

#[test]
fn shipped_calendars_load_with_expected_zones_and_coverage() {
    let set = CalendarSet::load_dir(CALENDARS).expect("shipped calendars load");
    assert_eq!(set.ids().collect::<Vec<_>>(), ["cn", "eu-target", "gb-eaw", "us"]);
    // China's 2027 schedule is not published yet: its calendar ends with 2026.
    for (id, zone, last) in [
        ("cn", "Asia/Shanghai", "2026-12-31"),
        ("eu-target", "Europe/Brussels", "2027-12-31"),
        ("gb-eaw", "Europe/London", "2027-12-31"),
        ("us", "America/New_York", "2027-12-31"),
    ] {
        let calendar = set.get(id).expect("calendar");
        assert_eq!(calendar.time_zone().name(), zone);
        assert_eq!(calendar.coverage(), (date("2025-01-01"), date(last)), "{id}");
        assert_eq!(
            calendar
                .business_hours(date("2026-03-02"))
                .expect("covered")
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["09:00-17:00"]
        );
    }
    assert!(matches!(set.get("fr"), Err(CalendarError::UnknownCalendar(id)) if id == "fr"));
}

#[test]
fn working_day_totals_match_the_official_schedules() {
    // Independently counted: weekdays minus weekday holidays plus make-up days.
    let set = CalendarSet::load_dir(CALENDARS).expect("load");
    for (id, year, expected) in [
        ("cn", 2025, 248),
        ("cn", 2026, 248),
        ("gb-eaw", 2025, 253),
        ("gb-eaw", 2026, 253),
        ("gb-eaw", 2027, 253),
        ("us", 2025, 250),
        ("us", 2026, 250),
        // 2027: twelve weekday holidays, Fri 31 Dec being New Year's Day 2028 observed.
        ("us", 2027, 249),
        ("eu-target", 2025, 255),
        ("eu-target", 2026, 256),
        // 2027: 1 May and both Christmas days fall on a weekend.
        ("eu-target", 2027, 258),
    ] {
        assert_eq!(
            working_days_in(set.get(id).expect("calendar"), year),
            expected,
            "{id} {year}"
        );
    }
}

#[test]
fn china_holidays_and_make_up_days() {
    let cn = Calendar::load_file(format!("{CALENDARS}/cn.toml")).expect("cn");
    let holidays_2026 = [
        ("2026-01-01", "2026-01-03"),
        ("2026-02-15", "2026-02-23"),
        ("2026-04-04", "2026-04-06"),
        ("2026-05-01", "2026-05-05"),
        ("2026-06-19", "2026-06-21"),
        ("2026-09-25", "2026-09-27"),
        ("2026-10-01", "2026-10-07"),
    ];
    for (from, to) in holidays_2026 {
        let mut day = date(from);
        while day <= date(to) {
            assert!(
                matches!(cn.day(day), Ok(DayKind::Holiday { .. })),
                "{day} should be a holiday"
            );
            day = day.succ_opt().expect("date");
        }
    }
    for make_up in [
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ] {
        assert_eq!(
            cn.day(date(make_up)).expect("covered"),
            DayKind::Working { make_up: true },
            "{make_up}"
        );
    }
    assert_eq!(
        cn.day(date("2026-02-15")).expect("covered"),
        DayKind::Holiday {
            name: "Spring Festival (春节)"
        }
    );
    assert_eq!(
        cn.day(date("2026-02-21")).expect("covered"),
        DayKind::Holiday {
            name: "Spring Festival (春节)"
        }
    );
    assert_eq!(
        cn.day(date("2026-03-07")).expect("covered"),
        DayKind::RestDay
    );
    assert_eq!(
        cn.day(date("2026-03-09")).expect("covered"),
        DayKind::Working { make_up: false }
    );
    assert!(matches!(
        cn.day(date("2027-01-01")),
        Err(CalendarError::OutOfCoverage { .. })
    ));
    assert!(matches!(
        cn.day(date("2024-12-31")),
        Err(CalendarError::OutOfCoverage { .. })
    ));
}

#[test]
fn uk_and_us_observed_dates() {
    let set = CalendarSet::load_dir(CALENDARS).expect("load");
    let gb = set.get("gb-eaw").expect("gb");
    assert_eq!(
        gb.day(date("2026-12-28")).expect("covered"),
        DayKind::Holiday {
            name: "Boxing Day (substitute day)"
        }
    );
    assert_eq!(
        gb.day(date("2026-12-26")).expect("covered"),
        DayKind::RestDay
    );
    let us = set.get("us").expect("us");
    assert!(matches!(
        us.day(date("2026-07-03")),
        Ok(DayKind::Holiday { .. })
    ));
    assert_eq!(
        us.day(date("2026-07-04")).expect("covered"),
        DayKind::RestDay
    );
    assert!(
        us.is_working_day(date("2025-12-26")).expect("covered"),
        "executive closures are not federal holidays"
    );
    // 2027, from the statutory rules.
    for (day, holiday) in [
        ("2027-12-24", true),  // Christmas (Sat) observed Friday
        ("2027-12-31", true),  // New Year's Day 2028 (Sat) observed Friday
        ("2027-07-05", true),  // Independence Day (Sun) observed Monday
        ("2027-06-18", true),  // Juneteenth (Sat) observed Friday
        ("2027-12-27", false), // an ordinary Monday in the US
    ] {
        assert_eq!(
            matches!(us.day(date(day)).expect("covered"), DayKind::Holiday { .. }),
            holiday,
            "us {day}"
        );
    }
    for (day, holiday) in [("2027-12-27", true), ("2027-12-28", true), ("2027-03-26", true), ("2027-12-24", false)] {
        assert_eq!(
            matches!(gb.day(date(day)).expect("covered"), DayKind::Holiday { .. }),
            holiday,
            "gb {day}"
        );
    }
}

#[test]
fn institution_time_zone_override() {
    let us = Calendar::load_file(format!("{CALENDARS}/us.toml")).expect("us");
    let central = us.with_time_zone(chrono_tz::America::Chicago);
    let start = at("2026-03-02T15:00:00Z");
    let eastern_end = deadline(&us, start, Period::WorkingDays(1), &[])
        .expect("deadline")
        .at;
    let central_end = deadline(&central, start, Period::WorkingDays(1), &[])
        .expect("deadline")
        .at;
    assert_eq!(eastern_end, at("2026-03-04T05:00:00Z"));
    assert_eq!(central_end, at("2026-03-04T06:00:00Z"));
    assert_eq!(central.id(), "us");
}

const VALID_HEAD: &str = r#"name = "Test"
time_zone = "Asia/Shanghai"
first_year = 2026
last_year = 2026
rest_days = ["sat", "sun"]
"#;

fn parse(body: &str) -> Result<Calendar, CalendarError> {
    Calendar::from_toml_str(
        "test",
        "calendars/test.toml",
        &format!("{VALID_HEAD}{body}"),
    )
}

fn data_error(body: &str) -> (usize, String) {
    match parse(body) {
        Err(CalendarError::Data {
            file,
            line,
            message,
        }) => {
            assert_eq!(file, "calendars/test.toml");
            (line, message)
        }
        Err(other) => panic!("expected a data error, got {other}"),
        Ok(_) => panic!("expected a data error for:\n{body}"),
    }
}

#[test]
fn split_shifts_and_per_weekday_hours() {
    let calendar = parse(
        r#"business_hours = { default = ["09:00-12:00", "13:00-17:00"], fri = ["09:00-12:00"] }
holidays = [ { date = 2026-01-01, name = "New Year" } ]
"#,
    )
    .expect("valid calendar");
    let cases = [
        (
            "2026-03-02T10:00:00+08:00",
            Period::WorkingHours(4),
            "2026-03-02T15:00:00+08:00",
        ),
        (
            "2026-03-02T12:30:00+08:00",
            Period::WorkingHours(1),
            "2026-03-02T14:00:00+08:00",
        ),
        (
            "2026-03-02T12:00:00+08:00",
            Period::WorkingHours(3),
            "2026-03-02T16:00:00+08:00",
        ),
        (
            "2026-03-02T11:00:00+08:00",
            Period::WorkingHours(1),
            "2026-03-02T12:00:00+08:00",
        ),
        (
            "2026-03-06T11:00:00+08:00",
            Period::WorkingHours(2),
            "2026-03-09T10:00:00+08:00",
        ),
    ];
    for (start, period, expected) in cases {
        assert_eq!(
            deadline(&calendar, at(start), period, &[])
                .expect("deadline")
                .at,
            at(expected),
            "{period} from {start}"
        );
    }
}

#[test]
fn rejects_overlapping_holidays_naming_both_lines() {
    let (line, message) = data_error(
        r#"holidays = [
  { from = 2026-10-01, to = 2026-10-07, name = "National Day" },
  { date = 2026-10-06, name = "Mid-Autumn" },
]
"#,
    );
    assert_eq!(line, 8);
    assert_eq!(
        message,
        "holiday \"Mid-Autumn\" on 2026-10-06 overlaps holiday \"National Day\" (line 7)"
    );
}

#[test]
fn rejects_contradictory_make_up_days() {
    let (line, message) = data_error(
        r#"holidays = [
  { from = 2026-02-15, to = 2026-02-23, name = "Spring Festival" },
]
working_days = [
  { date = 2026-02-14, name = "make-up" },
  { date = 2026-02-22, name = "make-up on a holiday" },
]
"#,
    );
    assert_eq!(line, 11);
    assert_eq!(
        message,
        "make-up working day 2026-02-22 contradicts holiday \"Spring Festival\" (line 7)"
    );

    let (line, message) = data_error(
        r#"holidays = [ { date = 2026-01-01, name = "New Year" } ]
working_days = [
  { date = 2026-02-16, name = "a Monday" },
]
"#,
    );
    assert_eq!(line, 8);
    assert_eq!(
        message,
        "2026-02-16 is a Mon, already a working day; a make-up working day must fall on a rest day"
    );

    let (line, message) = data_error(
        r#"holidays = [ { date = 2026-01-01, name = "New Year" } ]
working_days = [
  { date = 2026-02-14, name = "make-up" },
  { date = 2026-02-14, name = "again" },
]
"#,
    );
    assert_eq!(line, 9);
    assert_eq!(
        message,
        "make-up working day 2026-02-14 is listed twice (also line 8)"
    );
}

#[test]
fn rejects_entries_outside_coverage_and_uncovered_years() {
    let (line, message) = data_error(
        r#"holidays = [
  { date = 2026-01-01, name = "New Year" },
  { date = 2027-01-01, name = "New Year" },
]
"#,
    );
    assert_eq!(line, 8);
    assert!(
        message.contains("2027-01-01 is outside the covered years 2026..=2026"),
        "{message}"
    );

    let text = r#"name = "Test"
time_zone = "Asia/Shanghai"
first_year = 2026
last_year = 2027
rest_days = ["sat", "sun"]
holidays = [ { date = 2026-01-01, name = "New Year" } ]
"#;
    match Calendar::from_toml_str("test", "t.toml", text) {
        Err(CalendarError::Data { line, message, .. }) => {
            assert_eq!(line, 4);
            assert!(message.starts_with("year 2027 is covered"), "{message}");
        }
        other => panic!("expected data error, got {other:?}"),
    }
}

#[test]
fn rejects_malformed_values_with_lines() {
    let cases: [(&str, usize, &str); 8] = [
        ("holidays = [ { date = \"2026-01-01\", name = \"New Year\" } ]\n", 6, "invalid type"),
        ("holiday = [ { date = 2026-01-01, name = \"New Year\" } ]\n", 6, "unknown field `holiday`"),
        ("holidays = [ { date = 2026-01-01T10:00:00, name = \"New Year\" } ]\n", 6, "must be a plain date"),
        ("holidays = [ { from = 2026-01-03, to = 2026-01-01, name = \"New Year\" } ]\n", 6, "ends (2026-01-01) before it starts (2026-01-03)"),
        ("holidays = [ { from = 2026-01-03, name = \"New Year\" } ]\n", 6, "needs either `date` or both `from` and `to`"),
        ("business_hours = { default = [\"9-17\"] }\nholidays = [ { date = 2026-01-01, name = \"N\" } ]\n", 6, "must look like \"09:00-17:00\""),
        ("business_hours = { default = [\"09:00-13:00\", \"12:00-17:00\"] }\nholidays = [ { date = 2026-01-01, name = \"N\" } ]\n", 6, "overlap"),
        ("business_hours = { sat = [\"09:00-12:00\"] }\nholidays = [ { date = 2026-01-01, name = \"N\" } ]\n", 6, "sat is a rest day"),
    ];
    for (body, expected_line, fragment) in cases {
        let (line, message) = data_error(body);
        assert_eq!(line, expected_line, "{body}");
        assert!(message.contains(fragment), "{body}: {message}");
    }
    let bad_zone = "name = \"T\"\ntime_zone = \"Asia/Beijing\"\nfirst_year = 2026\nlast_year = 2026\nrest_days = []\n";
    match Calendar::from_toml_str("test", "t.toml", bad_zone) {
        Err(CalendarError::Data {
            line: 2, message, ..
        }) => assert!(
            message.contains("unknown time zone \"Asia/Beijing\""),
            "{message}"
        ),
        other => panic!("expected data error on line 2, got {other:?}"),
    }
}

#[test]
fn load_dir_reports_the_broken_file() {
    let dir = std::env::temp_dir().join(format!("calendar-data-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("ok.toml"),
        format!("{VALID_HEAD}holidays = [ {{ date = 2026-01-01, name = \"N\" }} ]\n"),
    )
    .expect("write");
    std::fs::write(dir.join("zz.toml"), format!("{VALID_HEAD}holidays = [\n  {{ date = 2026-01-01, name = \"N\" }},\n  {{ date = 2026-01-01, name = \"M\" }},\n]\n")).expect("write");
    let error = CalendarSet::load_dir(&dir).expect_err("broken file");
    let text = error.to_string();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        text.ends_with("zz.toml:8: holiday \"M\" on 2026-01-01 overlaps holiday \"N\" (line 7)"),
        "{text}"
    );
}
