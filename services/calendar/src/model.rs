//! `Calendar`: one jurisdiction's time zone, business hours, rest days, holidays and make-up days,
//! precomputed into a per-day table for the covered years.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;

use super::error::CalendarError;
use super::time::{local_to_utc, start_of_local_day};

/// A span of business hours within one local day, `[opens, closes)` in minutes after midnight.
/// `closes` may be 1440 (24:00). Shifts never cross midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    opens: u16,
    closes: u16,
}

impl Shift {
    /// Fails unless `opens < closes <= 1440`.
    pub fn new(opens_minute: u16, closes_minute: u16) -> Option<Shift> {
        (opens_minute < closes_minute && closes_minute <= 24 * 60).then_some(Shift {
            opens: opens_minute,
            closes: closes_minute,
        })
    }

    pub fn opens_minute(&self) -> u16 {
        self.opens
    }

    pub fn closes_minute(&self) -> u16 {
        self.closes
    }
}

impl fmt::Display for Shift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.opens / 60,
            self.opens % 60,
            self.closes / 60,
            self.closes % 60
        )
    }
}

/// What a calendar says about one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind<'a> {
    /// A working day; `make_up` marks a rest day turned into a working day (China's 调休).
    Working { make_up: bool },
    /// A weekly rest day (e.g. Saturday, Sunday).
    RestDay,
    /// A public holiday; holidays take precedence over rest days.
    Holiday { name: &'a str },
}

/// One covered day in the precomputed table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayClass {
    Working { shifts: u16, make_up: bool },
    Rest,
    Holiday { name: u16 },
}

/// The calendar data before the time-zone-dependent table is built (produced by the loader).
pub(crate) struct CalendarParts {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) source: String,
    pub(crate) time_zone: Tz,
    pub(crate) first_day: NaiveDate,
    pub(crate) days: Vec<DayClass>,
    pub(crate) shift_sets: Vec<Vec<Shift>>,
    pub(crate) holiday_names: Vec<Arc<str>>,
    /// The weekly pattern (Monday first) without holidays, for provisional days.
    pub(crate) weekly: [DayClass; 7],
}

/// A working-day calendar for one jurisdiction, covering whole years.
///
/// Every date inside the coverage is classified exactly once (working day with business hours,
/// rest day, or holiday); a date outside it is an `OutOfCoverage` error, never a working day.
/// Cheap to share behind `&`; cloning copies the day table (a few kB per year).
#[derive(Debug, Clone)]
pub struct Calendar {
    id: Arc<str>,
    name: String,
    source: String,
    time_zone: Tz,
    first_day: NaiveDate,
    first_day_number: i32,
    days: Vec<DayClass>,
    /// `bounds[i]` is the instant day `i` starts (local midnight); `bounds.len() == days.len() + 1`.
    bounds: Vec<DateTime<Utc>>,
    /// `uniform[i]`: the UTC offset is the same all day, so local time = start of day + offset.
    uniform: Vec<bool>,
    shift_sets: Vec<Vec<Shift>>,
    holiday_names: Vec<Arc<str>>,
    weekly: [DayClass; 7],
    /// First day that is not data but the weekly pattern (see [`Calendar::provisional`]).
    provisional_from: Option<NaiveDate>,
}

impl Calendar {
    pub(crate) fn from_parts(parts: CalendarParts) -> Calendar {
        let mut calendar = Calendar {
            id: Arc::from(parts.id),
            name: parts.name,
            source: parts.source,
            time_zone: parts.time_zone,
            first_day: parts.first_day,
            first_day_number: parts.first_day.num_days_from_ce(),
            days: parts.days,
            bounds: Vec::new(),
            uniform: Vec::new(),
            shift_sets: parts.shift_sets,
            holiday_names: parts.holiday_names,
            weekly: parts.weekly,
            provisional_from: None,
        };
        calendar.build_bounds();
        calendar
    }

    /// This calendar continued for `years` more years by its weekly pattern only (rest days and
    /// business hours, no holidays, no make-up days). For deadlines that cross the end of the
    /// published data: their answer is provisional and must be shown as such, then recomputed
    /// when the real year is added. [`Calendar::provisional_from`] names the first guessed day.
    pub fn provisional(&self, years: u32) -> Calendar {
        let (_, last) = self.coverage();
        let first_guess = last + TimeDelta::days(1);
        let until = NaiveDate::from_ymd_opt(last.year() + years as i32, 12, 31).unwrap_or(last);
        let mut calendar = self.clone();
        calendar.days.extend(first_guess.iter_days().take_while(|date| *date <= until).map(|date| {
            calendar.weekly[date.weekday().num_days_from_monday() as usize]
        }));
        calendar.provisional_from = Some(first_guess);
        calendar.build_bounds();
        calendar
    }

    /// The first day this calendar guesses (weekly pattern only), for a [`Calendar::provisional`]
    /// continuation; `None` for a calendar that is all data.
    pub fn provisional_from(&self) -> Option<NaiveDate> {
        self.provisional_from
    }

    fn build_bounds(&mut self) {
        let zone = self.time_zone;
        self.bounds = (0..=self.days.len())
            .map(|index| start_of_local_day(zone, self.first_day + TimeDelta::days(index as i64)))
            .collect();
        self.uniform = self
            .bounds
            .windows(2)
            .map(|pair| {
                let (start, end) = (pair[0], pair[1]);
                let offset_at =
                    |instant: DateTime<Utc>| instant.with_timezone(&zone).offset().fix();
                end - start == TimeDelta::days(1)
                    && offset_at(start) == offset_at(end - TimeDelta::nanoseconds(1))
            })
            .collect();
    }

    /// The calendar id (file stem of its data file, e.g. `"cn"`).
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn shared_id(&self) -> Arc<str> {
        Arc::clone(&self.id)
    }

    /// Human-readable name from the data file.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the calendar was loaded from (file path or label).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The zone in which days start and business hours apply.
    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    /// The same holidays and hours in another zone (e.g. an institution's own head-office zone).
    pub fn with_time_zone(&self, zone: Tz) -> Calendar {
        let mut calendar = self.clone();
        calendar.time_zone = zone;
        calendar.build_bounds();
        calendar
    }

    /// First and last covered dates (inclusive).
    pub fn coverage(&self) -> (NaiveDate, NaiveDate) {
        let last = self.first_day + TimeDelta::days(self.days.len() as i64 - 1);
        (self.first_day, last)
    }

    /// Classifies `date`; `OutOfCoverage` outside the covered years.
    pub fn day(&self, date: NaiveDate) -> Result<DayKind<'_>, CalendarError> {
        let index = self.index_of(date);
        Ok(match self.class(index)? {
            DayClass::Working { make_up, .. } => DayKind::Working { make_up },
            DayClass::Rest => DayKind::RestDay,
            DayClass::Holiday { name } => DayKind::Holiday {
                name: self.holiday_name(name),
            },
        })
    }

    /// Whether `date` is a working day; `OutOfCoverage` outside the covered years.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        Ok(matches!(self.day(date)?, DayKind::Working { .. }))
    }

    /// Business hours of `date` in local time; empty for rest days and holidays.
    pub fn business_hours(&self, date: NaiveDate) -> Result<&[Shift], CalendarError> {
        Ok(match self.class(self.index_of(date))? {
            DayClass::Working { shifts, .. } => self.shifts(shifts),
            DayClass::Rest | DayClass::Holiday { .. } => &[],
        })
    }

    // ---- fast internal accessors used by the engine (day indices relative to `first_day`) ----

    pub(crate) fn index_of(&self, date: NaiveDate) -> i64 {
        i64::from(date.num_days_from_ce()) - i64::from(self.first_day_number)
    }

    pub(crate) fn date_of(&self, index: i64) -> NaiveDate {
        self.first_day
            .checked_add_signed(TimeDelta::days(index))
            .unwrap_or(if index < 0 {
                NaiveDate::MIN
            } else {
                NaiveDate::MAX
            })
    }

    pub(crate) fn class(&self, index: i64) -> Result<DayClass, CalendarError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.days.get(i).copied())
            .ok_or_else(|| self.out_of_coverage(index))
    }

    pub(crate) fn out_of_coverage(&self, index: i64) -> CalendarError {
        let (first, last) = self.coverage();
        CalendarError::OutOfCoverage {
            calendar: self.id.to_string(),
            date: self.date_of(index),
            first,
            last,
        }
    }

    pub(crate) fn shifts(&self, set: u16) -> &[Shift] {
        self.shift_sets
            .get(usize::from(set))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub(crate) fn holiday_name(&self, name: u16) -> &str {
        self.holiday_names
            .get(usize::from(name))
            .map(|n| &**n)
            .unwrap_or("holiday")
    }

    pub(crate) fn shared_holiday_name(&self, name: u16) -> Arc<str> {
        self.holiday_names
            .get(usize::from(name))
            .cloned()
            .unwrap_or_else(|| Arc::from("holiday"))
    }

    /// The instant local day `index` starts; exact for any day, table-fast inside the coverage.
    pub(crate) fn day_start(&self, index: i64) -> DateTime<Utc> {
        match usize::try_from(index).ok().and_then(|i| self.bounds.get(i)) {
            Some(start) => *start,
            None => start_of_local_day(self.time_zone, self.date_of(index)),
        }
    }

    /// The instant of `minute` (0..=1440) local time on day `index`.
    pub(crate) fn local_instant(&self, index: i64, minute: u16) -> DateTime<Utc> {
        if minute >= 24 * 60 {
            return self.day_start(index + 1);
        }
        let uniform = usize::try_from(index)
            .ok()
            .and_then(|i| self.uniform.get(i))
            .copied();
        match uniform {
            Some(true) => self.day_start(index) + TimeDelta::minutes(i64::from(minute)),
            _ => {
                let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(
                    u32::from(minute) * 60,
                    0,
                )
                .unwrap_or(chrono::NaiveTime::MIN);
                local_to_utc(self.time_zone, self.date_of(index).and_time(time))
            }
        }
    }

    /// The index of the local day containing `instant`.
    pub(crate) fn day_index_of(&self, instant: DateTime<Utc>) -> i64 {
        let (Some(first), Some(last)) = (self.bounds.first(), self.bounds.last()) else {
            return self.index_of(instant.with_timezone(&self.time_zone).date_naive());
        };
        if instant >= *first && instant < *last {
            // bounds is sorted; the day is the last bound <= instant.
            self.bounds.partition_point(|start| *start <= instant) as i64 - 1
        } else {
            self.index_of(instant.with_timezone(&self.time_zone).date_naive())
        }
    }
}

/// Short weekday name used in explanations ("Mon").
pub(crate) fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}
