//! Calendar data files: the TOML format, its validation (errors name file and line) and the
//! loaders. `Calendar::from_toml_str` is pure; only `load_file`/`CalendarSet::load_dir` touch disk.
//!
//! Format (one file per jurisdiction, file stem = calendar id):
//! ```toml
//! name = "China (mainland)"
//! time_zone = "Asia/Shanghai"
//! first_year = 2025            # coverage: whole years, inclusive
//! last_year = 2026
//! rest_days = ["sat", "sun"]
//! business_hours = { default = ["09:00-17:00"], fri = ["09:00-12:00", "13:00-16:00"] }
//! holidays = [
//!   { date = 2025-01-01, name = "New Year's Day" },
//!   { from = 2025-01-28, to = 2025-02-04, name = "Spring Festival" },
//! ]
//! working_days = [   # make-up working days on rest days (调休); optional `hours`
//!   { date = 2025-01-26, name = "make-up day for Spring Festival" },
//! ]
//! ```
//! Rejected with file and line: unknown keys, unknown zone or weekday, malformed or overlapping
//! business hours, hours given for a rest day, a holiday overlapping another holiday, a make-up day
//! on a holiday or on a day that already is a working day, duplicates, entries outside
//! `first_year..=last_year`, and a covered year that lists no holiday at all (so extending
//! `last_year` without adding that year's holidays fails loudly instead of stretching no SLA).

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, TimeDelta, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use toml::value::Datetime;
use toml::Spanned;

use super::error::CalendarError;
use super::model::{weekday_name, Calendar, CalendarParts, DayClass, Shift};

/// SPEC §6 default business hours, used when a file gives none.
const DEFAULT_HOURS: &str = "09:00-17:00";
const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    name: String,
    time_zone: Spanned<String>,
    first_year: Spanned<i32>,
    last_year: Spanned<i32>,
    rest_days: Spanned<Vec<String>>,
    #[serde(default)]
    business_hours: Option<Spanned<BusinessHoursFile>>,
    #[serde(default)]
    holidays: Vec<Spanned<HolidayEntry>>,
    #[serde(default)]
    working_days: Vec<Spanned<WorkingDayEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BusinessHoursFile {
    default: Option<Vec<String>>,
    mon: Option<Vec<String>>,
    tue: Option<Vec<String>>,
    wed: Option<Vec<String>>,
    thu: Option<Vec<String>>,
    fri: Option<Vec<String>>,
    sat: Option<Vec<String>>,
    sun: Option<Vec<String>>,
}

impl BusinessHoursFile {
    fn for_weekday(&self, weekday: Weekday) -> Option<&Vec<String>> {
        match weekday {
            Weekday::Mon => self.mon.as_ref(),
            Weekday::Tue => self.tue.as_ref(),
            Weekday::Wed => self.wed.as_ref(),
            Weekday::Thu => self.thu.as_ref(),
            Weekday::Fri => self.fri.as_ref(),
            Weekday::Sat => self.sat.as_ref(),
            Weekday::Sun => self.sun.as_ref(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayEntry {
    date: Option<Datetime>,
    from: Option<Datetime>,
    to: Option<Datetime>,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkingDayEntry {
    date: Datetime,
    name: String,
    hours: Option<Vec<String>>,
}

/// Reports errors for one file: turns byte offsets into 1-based line numbers.
struct Reporter<'a> {
    file: &'a str,
    text: &'a str,
}

impl Reporter<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|byte| **byte == b'\n')
            .count()
            + 1
    }

    fn at(&self, offset: usize, message: impl Into<String>) -> CalendarError {
        CalendarError::Data {
            file: self.file.to_owned(),
            line: self.line_of(offset),
            message: message.into(),
        }
    }
}

/// Converts a TOML local date (`2025-01-01`, unquoted) into a `NaiveDate`.
/// The `*.toml` files directly in `dir`, in name order.
pub(super) fn toml_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

fn toml_date(value: &Datetime) -> Result<NaiveDate, String> {
    match (value.date, value.time, value.offset) {
        (Some(date), None, None) => NaiveDate::from_ymd_opt(
            i32::from(date.year),
            u32::from(date.month),
            u32::from(date.day),
        )
        .ok_or_else(|| format!("{value} is not a valid date")),
        _ => Err(format!(
            "{value} must be a plain date like 2026-01-01 (no time, no offset)"
        )),
    }
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    match text.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Some(Weekday::Mon),
        "tue" | "tuesday" => Some(Weekday::Tue),
        "wed" | "wednesday" => Some(Weekday::Wed),
        "thu" | "thursday" => Some(Weekday::Thu),
        "fri" | "friday" => Some(Weekday::Fri),
        "sat" | "saturday" => Some(Weekday::Sat),
        "sun" | "sunday" => Some(Weekday::Sun),
        _ => None,
    }
}

fn parse_clock_minute(text: &str) -> Option<u16> {
    let (hours, minutes) = text.trim().split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    let total = hours.checked_mul(60)?.checked_add(minutes)?;
    (minutes < 60 && total <= 24 * 60).then_some(total)
}

/// Parses `["09:00-12:00", "13:00-17:00"]`: each shift non-empty, sorted, not overlapping.
fn parse_shifts(items: &[String]) -> Result<Vec<Shift>, String> {
    let mut shifts: Vec<Shift> = Vec::with_capacity(items.len());
    for item in items {
        let shift = item
            .split_once('-')
            .and_then(|(opens, closes)| Shift::new(parse_clock_minute(opens)?, parse_clock_minute(closes)?))
            .ok_or_else(|| format!("business hours {item:?} must look like \"09:00-17:00\" (opening before closing, at most 24:00)"))?;
        if let Some(previous) = shifts.last() {
            if shift.opens_minute() < previous.closes_minute() {
                return Err(format!("business hours {item:?} overlap or precede {previous}; list shifts in order without overlap"));
            }
        }
        shifts.push(shift);
    }
    Ok(shifts)
}

/// Business hours per weekday, deduplicated into shift sets (indices stored in the day table).
struct HoursTable {
    sets: Vec<Vec<Shift>>,
    default_set: u16,
    weekday_sets: [u16; 7],
}

impl HoursTable {
    fn intern(&mut self, shifts: Vec<Shift>) -> u16 {
        match self.sets.iter().position(|set| *set == shifts) {
            // At most 7 weekday sets plus one per make-up day (< 40,000 days of coverage).
            Some(index) => index as u16,
            None => {
                self.sets.push(shifts);
                (self.sets.len() - 1) as u16
            }
        }
    }
}

/// Holidays by date, each with the line that declared it and an interned name.
#[derive(Default)]
struct Holidays {
    names: Vec<Arc<str>>,
    by_date: BTreeMap<NaiveDate, (usize, u16)>,
}

impl Holidays {
    fn name(&self, id: u16) -> &str {
        self.names
            .get(usize::from(id))
            .map(|name| &**name)
            .unwrap_or("holiday")
    }
}

fn parse_coverage(
    report: &Reporter<'_>,
    file: &CalendarFile,
) -> Result<RangeInclusive<i32>, CalendarError> {
    let (first_year, last_year) = (*file.first_year.get_ref(), *file.last_year.get_ref());
    if !(1900..=2200).contains(&first_year) {
        return Err(report.at(
            file.first_year.span().start,
            format!("first_year {first_year} must be in 1900..=2200"),
        ));
    }
    if last_year < first_year || last_year - first_year > 100 {
        return Err(report.at(
            file.last_year.span().start,
            format!(
                "last_year {last_year} must be in {first_year}..={}",
                first_year + 100
            ),
        ));
    }
    Ok(first_year..=last_year)
}

fn parse_rest_days(
    report: &Reporter<'_>,
    rest_days: &Spanned<Vec<String>>,
) -> Result<[bool; 7], CalendarError> {
    let offset = rest_days.span().start;
    let mut rest = [false; 7];
    for text in rest_days.get_ref() {
        let weekday = parse_weekday(text).ok_or_else(|| {
            report.at(
                offset,
                format!("unknown weekday {text:?} in rest_days (use mon, tue, …, sun)"),
            )
        })?;
        let slot = &mut rest[weekday.num_days_from_monday() as usize];
        if *slot {
            return Err(report.at(offset, format!("{text:?} is listed twice in rest_days")));
        }
        *slot = true;
    }
    if rest.iter().all(|is_rest| *is_rest) {
        return Err(report.at(offset, "every weekday is a rest day"));
    }
    Ok(rest)
}

fn parse_business_hours(
    report: &Reporter<'_>,
    hours: Option<&Spanned<BusinessHoursFile>>,
    rest: &[bool; 7],
) -> Result<HoursTable, CalendarError> {
    let offset = hours.map(|hours| hours.span().start).unwrap_or(0);
    let hours = hours.map(|hours| hours.get_ref());
    let default_items = hours
        .and_then(|hours| hours.default.clone())
        .unwrap_or_else(|| vec![DEFAULT_HOURS.to_owned()]);
    let default_shifts =
        parse_shifts(&default_items).map_err(|message| report.at(offset, message))?;
    if default_shifts.is_empty() {
        return Err(report.at(
            offset,
            "business_hours.default must list at least one shift",
        ));
    }
    let mut table = HoursTable {
        sets: vec![default_shifts],
        default_set: 0,
        weekday_sets: [0; 7],
    };
    for weekday in WEEKDAYS {
        let slot = weekday.num_days_from_monday() as usize;
        let Some(items) = hours.and_then(|hours| hours.for_weekday(weekday)) else {
            continue;
        };
        let name = weekday_name(weekday).to_ascii_lowercase();
        if rest[slot] {
            return Err(report.at(
                offset,
                format!(
                    "business_hours.{name} is given but {name} is a rest day; remove one of them"
                ),
            ));
        }
        let shifts = parse_shifts(items)
            .map_err(|message| report.at(offset, format!("business_hours.{name}: {message}")))?;
        if shifts.is_empty() {
            return Err(report.at(
                offset,
                format!("business_hours.{name} is empty; list {name} in rest_days instead"),
            ));
        }
        table.weekday_sets[slot] = table.intern(shifts);
    }
    Ok(table)
}

/// Every holiday date at most once, inside the coverage; every covered year has some holiday.
fn parse_holidays(
    report: &Reporter<'_>,
    file: &CalendarFile,
    years: &RangeInclusive<i32>,
) -> Result<Holidays, CalendarError> {
    let mut holidays = Holidays::default();
    let mut name_index: HashMap<&str, u16> = HashMap::new();
    for entry in &file.holidays {
        let offset = entry.span().start;
        let line = report.line_of(offset);
        let holiday = entry.get_ref();
        let name = holiday.name.trim();
        if name.is_empty() {
            return Err(report.at(offset, "holiday name is empty"));
        }
        let date_at =
            |value: &Datetime| toml_date(value).map_err(|message| report.at(offset, message));
        let (from, to) = match (&holiday.date, &holiday.from, &holiday.to) {
            (Some(date), None, None) => (date_at(date)?, date_at(date)?),
            (None, Some(from), Some(to)) => (date_at(from)?, date_at(to)?),
            _ => {
                return Err(report.at(
                    offset,
                    format!("holiday {name:?} needs either `date` or both `from` and `to`"),
                ))
            }
        };
        if to < from {
            return Err(report.at(
                offset,
                format!("holiday {name:?} ends ({to}) before it starts ({from})"),
            ));
        }
        if (to - from).num_days() > 31 {
            return Err(report.at(
                offset,
                format!(
                    "holiday {name:?} spans more than 31 days ({from} to {to}); check the dates"
                ),
            ));
        }
        for date in [from, to] {
            if !years.contains(&date.year()) {
                return Err(report.at(
                    offset,
                    format!("holiday {name:?} on {date} is outside the covered years {}..={}; raise last_year/first_year", years.start(), years.end()),
                ));
            }
        }
        let name_id = match name_index.get(name) {
            Some(id) => *id,
            None => {
                let id = u16::try_from(holidays.names.len())
                    .map_err(|_| report.at(offset, "too many distinct holiday names"))?;
                holidays.names.push(Arc::from(name));
                name_index.insert(name, id);
                id
            }
        };
        let mut date = from;
        while date <= to {
            if let Some((other_line, other_name)) = holidays.by_date.get(&date) {
                let other = holidays.name(*other_name);
                return Err(report.at(
                    offset,
                    format!(
                        "holiday {name:?} on {date} overlaps holiday {other:?} (line {other_line})"
                    ),
                ));
            }
            holidays.by_date.insert(date, (line, name_id));
            date += TimeDelta::days(1);
        }
    }
    for year in years.clone() {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
        let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX);
        if holidays.by_date.range(first..=last).next().is_none() {
            return Err(report.at(
                file.last_year.span().start,
                format!("year {year} is covered (first_year..=last_year) but lists no holidays; add its holidays or narrow the coverage"),
            ));
        }
    }
    Ok(holidays)
}

/// Make-up working days: only on rest days, never on holidays, never twice. Returns each day's
/// shift set.
fn parse_make_up_days(
    report: &Reporter<'_>,
    file: &CalendarFile,
    years: &RangeInclusive<i32>,
    rest: &[bool; 7],
    holidays: &Holidays,
    hours: &mut HoursTable,
) -> Result<BTreeMap<NaiveDate, u16>, CalendarError> {
    let mut make_up: BTreeMap<NaiveDate, (usize, u16)> = BTreeMap::new();
    for entry in &file.working_days {
        let offset = entry.span().start;
        let working = entry.get_ref();
        let date = toml_date(&working.date).map_err(|message| report.at(offset, message))?;
        if working.name.trim().is_empty() {
            return Err(report.at(offset, "working day name is empty"));
        }
        if !years.contains(&date.year()) {
            return Err(report.at(
                offset,
                format!(
                    "make-up working day {date} is outside the covered years {}..={}",
                    years.start(),
                    years.end()
                ),
            ));
        }
        if let Some((holiday_line, holiday_name)) = holidays.by_date.get(&date) {
            let holiday = holidays.name(*holiday_name);
            return Err(report.at(offset, format!("make-up working day {date} contradicts holiday {holiday:?} (line {holiday_line})")));
        }
        if let Some((other_line, _)) = make_up.get(&date) {
            return Err(report.at(
                offset,
                format!("make-up working day {date} is listed twice (also line {other_line})"),
            ));
        }
        let weekday = date.weekday();
        if !rest[weekday.num_days_from_monday() as usize] {
            return Err(report.at(
                offset,
                format!("{date} is a {}, already a working day; a make-up working day must fall on a rest day", weekday_name(weekday)),
            ));
        }
        let set = match &working.hours {
            None => hours.default_set,
            Some(items) => {
                let shifts = parse_shifts(items).map_err(|message| report.at(offset, message))?;
                if shifts.is_empty() {
                    return Err(report.at(
                        offset,
                        "hours of a make-up working day must list at least one shift",
                    ));
                }
                hours.intern(shifts)
            }
        };
        make_up.insert(date, (report.line_of(offset), set));
    }
    Ok(make_up
        .into_iter()
        .map(|(date, (_, set))| (date, set))
        .collect())
}

impl Calendar {
    /// Parses and validates calendar `id` from `text`; `source` names the file in errors.
    /// Pure: reads nothing from disk.
    pub fn from_toml_str(id: &str, source: &str, text: &str) -> Result<Calendar, CalendarError> {
        let report = Reporter { file: source, text };
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(report.at(0, format!("calendar id {id:?} (the file stem) must be lowercase letters, digits, '-' or '_'")));
        }
        let file: CalendarFile = toml::from_str(text).map_err(|error| {
            let offset = error.span().map(|span| span.start).unwrap_or(0);
            report.at(offset, error.message().trim().to_owned())
        })?;
        let time_zone: Tz = file.time_zone.get_ref().parse().map_err(|_| {
            report.at(
                file.time_zone.span().start,
                format!(
                    "unknown time zone {:?} (use an IANA name such as \"Asia/Shanghai\")",
                    file.time_zone.get_ref()
                ),
            )
        })?;
        let years = parse_coverage(&report, &file)?;
        let rest = parse_rest_days(&report, &file.rest_days)?;
        let mut hours = parse_business_hours(&report, file.business_hours.as_ref(), &rest)?;
        let holidays = parse_holidays(&report, &file, &years)?;
        let make_up = parse_make_up_days(&report, &file, &years, &rest, &holidays, &mut hours)?;

        let first_day = NaiveDate::from_ymd_opt(*years.start(), 1, 1)
            .ok_or_else(|| report.at(file.first_year.span().start, "invalid first_year"))?;
        let end_day = NaiveDate::from_ymd_opt(years.end() + 1, 1, 1)
            .ok_or_else(|| report.at(file.last_year.span().start, "invalid last_year"))?;
        let days = first_day
            .iter_days()
            .take_while(|date| *date < end_day)
            .map(|date| {
                let slot = date.weekday().num_days_from_monday() as usize;
                if let Some((_, name)) = holidays.by_date.get(&date) {
                    DayClass::Holiday { name: *name }
                } else if let Some(set) = make_up.get(&date) {
                    DayClass::Working {
                        shifts: *set,
                        make_up: true,
                    }
                } else if rest[slot] {
                    DayClass::Rest
                } else {
                    DayClass::Working {
                        shifts: hours.weekday_sets[slot],
                        make_up: false,
                    }
                }
            })
            .collect();

        Ok(Calendar::from_parts(CalendarParts {
            id: id.to_owned(),
            name: file.name,
            source: source.to_owned(),
            time_zone,
            first_day,
            days,
            shift_sets: hours.sets,
            holiday_names: holidays.names,
            weekly: std::array::from_fn(|slot| {
                if rest[slot] {
                    DayClass::Rest
                } else {
                    DayClass::Working { shifts: hours.weekday_sets[slot], make_up: false }
                }
            }),
        }))
    }

    /// Reads and validates one calendar file; the id is the file stem.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Calendar, CalendarError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| CalendarError::Io {
            path: path.to_owned(),
            source,
        })?;
        let id = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_default();
        Calendar::from_toml_str(id, &path.display().to_string(), &text)
    }
}

/// All calendars an installation knows, by id.
#[derive(Debug, Clone, Default)]
pub struct CalendarSet {
    calendars: BTreeMap<String, Calendar>,
    /// Each calendar continued by its weekly pattern (see [`Calendar::provisional`]).
    provisional: BTreeMap<String, Calendar>,
}

/// How many years past its data a calendar's provisional continuation reaches.
const PROVISIONAL_YEARS: u32 = 2;

impl CalendarSet {
    pub fn new() -> CalendarSet {
        CalendarSet::default()
    }

    /// Loads every `*.toml` file in `dir` (not recursive), in name order; the first invalid file
    /// fails the whole load. An empty directory is an error.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<CalendarSet, CalendarError> {
        let dir = dir.as_ref();
        let io_error = |source| CalendarError::Io {
            path: dir.to_owned(),
            source,
        };
        let paths = toml_files(dir).map_err(io_error)?;
        if paths.is_empty() {
            return Err(io_error(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no *.toml calendar files",
            )));
        }
        let mut set = CalendarSet::new();
        for path in paths {
            set.insert(Calendar::load_file(&path)?);
        }
        Ok(set)
    }

    /// Adds or replaces a calendar; returns the one it replaced.
    pub fn insert(&mut self, calendar: Calendar) -> Option<Calendar> {
        self.provisional.insert(calendar.id().to_owned(), calendar.provisional(PROVISIONAL_YEARS));
        self.calendars.insert(calendar.id().to_owned(), calendar)
    }

    /// Calendar `id` continued past its data by its weekly pattern ([`Calendar::provisional`]).
    pub fn provisional(&self, id: &str) -> Result<&Calendar, CalendarError> {
        self.provisional
            .get(id)
            .ok_or_else(|| CalendarError::UnknownCalendar(id.to_owned()))
    }

    /// Calendars whose data ends within `days` days after `today` (or already has), with the
    /// last covered date: operators must add the next year before clocks turn provisional.
    pub fn ending_within(&self, today: NaiveDate, days: i64) -> Vec<(&str, NaiveDate)> {
        self.calendars
            .values()
            .map(|calendar| (calendar.id(), calendar.coverage().1))
            .filter(|(_, last)| (*last - today).num_days() < days)
            .collect()
    }

    pub fn get(&self, id: &str) -> Result<&Calendar, CalendarError> {
        self.calendars
            .get(id)
            .ok_or_else(|| CalendarError::UnknownCalendar(id.to_owned()))
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.calendars.keys().map(String::as_str)
    }
}
