//! The deadline engine: SPEC §6 end-of-period rules, stop-clock pauses and explanations.
//!
//! Pause semantics, per unit (pauses are half-open `[from, to)`, clipped to the start, merged):
//! - **hours**: paused wall-clock time does not count; the end moves by exactly the paused time
//!   that falls before it.
//! - **working hours**: paused business time does not count; counting resumes at the restart (or
//!   at the next opening).
//! - **days, working days, weeks**: each counting day (every day after the receipt day, or every
//!   working day after it) contributes the unpaused share of its real length (a day paused for 6
//!   of its 24 hours contributes ¾; DST days are measured against their own 23 or 25 hours). The
//!   period ends at 24:00 of the day on which the contributions reach N; for calendar days and
//!   weeks the usual end rule then applies (a non-working last day moves the end to 24:00 of the
//!   next working day). Without pauses this is exactly SPEC §6. A pause inside the receipt day, or
//!   on days that do not count anyway (weekends for working days), changes nothing; any pause of
//!   counting time moves the end to the end of a later day, never earlier.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use super::error::CalendarError;
use super::model::{weekday_name, Calendar, DayClass};
use super::period::Period;
use super::time::{nanos_between, normalise_pauses, Interval};

/// Share of a counting day, in units per whole day. A day's contribution is
/// `unpaused_ns × DAY_UNITS / day_length_ns`; with DAY_UNITS a multiple of every day length that
/// occurs (24 h, DST days of 23 and 25 h, and of 23.5 and 24.5 h), in nanoseconds, that
/// division is exact, so the shares of a day split by a pause add up to exactly one day. (With
/// a round number of units they were truncated separately and a split day fell one unit short,
/// moving the end a whole day later.) LCM(86 400, 82 800, 90 000, 84 600, 88 200) s × 10⁹.
const DAY_UNITS: i128 = 114_413_040_000 * 1_000_000_000;
const NANOS_PER_HOUR: i64 = 3_600_000_000_000;

/// A computed deadline and why it falls where it does.
#[derive(Debug, Clone, PartialEq)]
pub struct Deadline {
    /// The instant the period ends; "24:00 of day D" is the local midnight starting D+1.
    pub at: DateTime<Utc>,
    pub explanation: Explanation,
}

impl Deadline {
    /// The deadline in the calendar's time zone.
    pub fn local(&self) -> DateTime<Tz> {
        self.at.with_timezone(&self.explanation.time_zone)
    }
}

/// Why a run of days did not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Weekly rest day.
    RestDay,
    /// Public holiday, with its name from the calendar file.
    Holiday(Arc<str>),
    /// A working day entirely covered by pauses.
    Paused,
}

/// A run of consecutive days skipped for the same reason (inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedDays {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub reason: SkipReason,
}

/// The facts behind a deadline, enough to explain it in one line (`Display`).
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub calendar: Arc<str>,
    pub time_zone: Tz,
    pub period: Period,
    pub start: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// Day-based periods: the receipt day, which never counts.
    pub receipt_day: Option<NaiveDate>,
    /// Working hours: when counting began (the start, or the next opening after it).
    pub counting_from: Option<DateTime<Utc>>,
    /// Days passed over without counting, in order, merged into runs with one reason.
    pub skipped: Vec<SkippedDays>,
    /// Make-up working days (rest days made working days) that counted.
    pub make_up_days: Vec<NaiveDate>,
    /// Calendar days and weeks: the nominal last day when it was not a working day.
    pub moved_from: Option<NaiveDate>,
    /// Day-based periods: the day whose 24:00 ends the period.
    pub last_day: Option<NaiveDate>,
    /// Pauses between the start and the deadline, clipped and merged.
    pub pauses: Vec<Interval>,
}

/// Collects explanation facts; disabled for warning-point computations.
struct Trace {
    enabled: bool,
    skipped: Vec<SkippedDays>,
    make_up_days: Vec<NaiveDate>,
    counting_from: Option<DateTime<Utc>>,
}

impl Trace {
    fn new(enabled: bool) -> Trace {
        Trace {
            enabled,
            skipped: Vec::new(),
            make_up_days: Vec::new(),
            counting_from: None,
        }
    }

    fn skip(&mut self, calendar: &Calendar, index: i64, reason: SkipReason) {
        if !self.enabled {
            return;
        }
        let date = calendar.date_of(index);
        if let Some(last) = self.skipped.last_mut() {
            if last.reason == reason && last.to.succ_opt() == Some(date) {
                last.to = date;
                return;
            }
        }
        self.skipped.push(SkippedDays {
            from: date,
            to: date,
            reason,
        });
    }

    fn skip_class(&mut self, calendar: &Calendar, index: i64, class: DayClass) {
        if !self.enabled {
            return;
        }
        let reason = match class {
            DayClass::Holiday { name } => SkipReason::Holiday(calendar.shared_holiday_name(name)),
            DayClass::Rest | DayClass::Working { .. } => SkipReason::RestDay,
        };
        self.skip(calendar, index, reason);
    }

    fn make_up(&mut self, calendar: &Calendar, index: i64) {
        if self.enabled {
            self.make_up_days.push(calendar.date_of(index));
        }
    }
}

/// Computes when `period` ends on `calendar` for a clock started at `start`, not counting the
/// `pauses` (in any order; overlapping, empty or pre-start pauses are fine).
///
/// Contract: exact SPEC §6 semantics (see the module docs for pauses); the result never moves
/// earlier when `start` moves later, the count grows, or a pause is added. Fails with
/// `OutOfCoverage` when a date that must be classified lies outside the calendar's years
/// (wall-clock hours classify nothing and never fail).
pub fn deadline(
    calendar: &Calendar,
    start: impl Into<DateTime<Utc>>,
    period: Period,
    pauses: &[Interval],
) -> Result<Deadline, CalendarError> {
    let start = start.into();
    let pauses = normalise_pauses(pauses, start);
    let mut trace = Trace::new(true);
    let mut receipt_day = None;
    let mut moved_from = None;
    let mut last_day = None;
    let at = match period {
        Period::Hours(hours) => wall_clock(start, i64::from(hours) * NANOS_PER_HOUR, &pauses),
        Period::WorkingHours(hours) => working_time(
            calendar,
            start,
            i64::from(hours) * NANOS_PER_HOUR,
            &pauses,
            &mut trace,
        )?,
        Period::WorkingDays(_) | Period::CalendarDays(_) | Period::Weeks(_) => {
            let (count, working_only) = day_count(period);
            let receipt = calendar.day_index_of(start);
            receipt_day = Some(calendar.date_of(receipt));
            let target = i128::from(count) * DAY_UNITS;
            let crossing = count_days(
                calendar,
                receipt,
                target,
                working_only,
                &pauses,
                &mut trace,
                false,
            )?;
            let mut last = crossing.day;
            if !working_only {
                let nominal = last;
                loop {
                    match calendar.class(last)? {
                        DayClass::Working { .. } => break,
                        class => {
                            trace.skip_class(calendar, last, class);
                            last += 1;
                        }
                    }
                }
                if last != nominal {
                    moved_from = Some(calendar.date_of(nominal));
                }
            }
            last_day = Some(calendar.date_of(last));
            calendar.day_start(last + 1)
        }
    };
    let effective_pauses = pauses
        .iter()
        .filter(|(from, _)| *from < at)
        .filter_map(|(from, to)| Interval::new(*from, (*to).min(at)).ok())
        .collect();
    Ok(Deadline {
        at,
        explanation: Explanation {
            calendar: calendar.shared_id(),
            time_zone: calendar.time_zone(),
            period,
            start,
            deadline: at,
            receipt_day,
            counting_from: trace.counting_from,
            skipped: trace.skipped,
            make_up_days: trace.make_up_days,
            moved_from,
            last_day,
            pauses: effective_pauses,
        },
    })
}

/// The instant at which `percent` % of the period's own budget has been used (the warning point):
/// wall-clock time for hours, business time for working hours, the day measure of the module docs
/// for day-based periods (e.g. 75 % of 4 working days is 18:00 local on the 3rd working day).
///
/// `percent` is clamped to 100; 0 yields `start`. Never later than `deadline(..)` for the same
/// inputs.
pub fn share_point(
    calendar: &Calendar,
    start: impl Into<DateTime<Utc>>,
    period: Period,
    pauses: &[Interval],
    percent: u8,
) -> Result<DateTime<Utc>, CalendarError> {
    let start = start.into();
    let percent = i64::from(percent.min(100));
    if percent == 0 {
        return Ok(start);
    }
    let pauses = normalise_pauses(pauses, start);
    let mut trace = Trace::new(false);
    let hours_budget = |hours: u32| i64::from(hours) * NANOS_PER_HOUR / 100 * percent;
    match period {
        Period::Hours(hours) => Ok(wall_clock(start, hours_budget(hours), &pauses)),
        Period::WorkingHours(hours) => {
            working_time(calendar, start, hours_budget(hours), &pauses, &mut trace)
        }
        Period::WorkingDays(_) | Period::CalendarDays(_) | Period::Weeks(_) => {
            let (count, working_only) = day_count(period);
            let receipt = calendar.day_index_of(start);
            let target = i128::from(count) * DAY_UNITS * i128::from(percent) / 100;
            let crossing = count_days(
                calendar,
                receipt,
                target,
                working_only,
                &pauses,
                &mut trace,
                true,
            )?;
            Ok(crossing
                .instant
                .unwrap_or_else(|| calendar.day_start(crossing.day + 1)))
        }
    }
}

fn day_count(period: Period) -> (u32, bool) {
    match period {
        Period::WorkingDays(n) => (n, true),
        Period::Weeks(n) => (n.saturating_mul(7), false),
        Period::CalendarDays(n) | Period::WorkingHours(n) | Period::Hours(n) => (n, false),
    }
}

/// `budget_ns` of unpaused wall-clock time from `start`.
fn wall_clock(
    start: DateTime<Utc>,
    budget_ns: i64,
    pauses: &[(DateTime<Utc>, DateTime<Utc>)],
) -> DateTime<Utc> {
    let mut cursor = start;
    let mut remaining = budget_ns;
    for &(from, to) in pauses {
        let run = nanos_between(cursor, from);
        if run >= remaining {
            break;
        }
        remaining -= run;
        cursor = to;
    }
    cursor
        .checked_add_signed(TimeDelta::nanoseconds(remaining))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `budget_ns` of unpaused business time from `start`.
fn working_time(
    calendar: &Calendar,
    start: DateTime<Utc>,
    budget_ns: i64,
    pauses: &[(DateTime<Utc>, DateTime<Utc>)],
    trace: &mut Trace,
) -> Result<DateTime<Utc>, CalendarError> {
    let mut index = calendar.day_index_of(start);
    let mut remaining = budget_ns;
    let mut next_pause = 0;
    loop {
        match calendar.class(index)? {
            DayClass::Working { shifts, make_up } => {
                let mut open_after_start = false;
                let mut counted_today = false;
                for shift in calendar.shifts(shifts) {
                    let closes = calendar.local_instant(index, shift.closes_minute());
                    let mut cursor = calendar
                        .local_instant(index, shift.opens_minute())
                        .max(start);
                    open_after_start |= cursor < closes;
                    while cursor < closes {
                        while pauses.get(next_pause).is_some_and(|(_, to)| *to <= cursor) {
                            next_pause += 1;
                        }
                        let (run_end, resume) = match pauses.get(next_pause) {
                            Some(&(from, to)) if from < closes => {
                                if from <= cursor {
                                    cursor = to.min(closes);
                                    continue;
                                }
                                (from, to)
                            }
                            _ => (closes, closes),
                        };
                        if !counted_today {
                            counted_today = true;
                            trace.counting_from.get_or_insert(cursor);
                            if make_up {
                                trace.make_up(calendar, index);
                            }
                        }
                        let run = nanos_between(cursor, run_end);
                        if run >= remaining {
                            return Ok(cursor + TimeDelta::nanoseconds(remaining));
                        }
                        remaining -= run;
                        cursor = resume;
                    }
                }
                if open_after_start && !counted_today {
                    trace.skip(calendar, index, SkipReason::Paused);
                }
            }
            class => trace.skip_class(calendar, index, class),
        }
        index += 1;
    }
}

struct Crossing {
    /// The counting day on which the contributions reached the target.
    day: i64,
    /// The exact instant of reaching it (only when asked for).
    instant: Option<DateTime<Utc>>,
}

/// Walks counting days after `receipt` until their contributions reach `target` day units.
fn count_days(
    calendar: &Calendar,
    receipt: i64,
    target: i128,
    working_only: bool,
    pauses: &[(DateTime<Utc>, DateTime<Utc>)],
    trace: &mut Trace,
    want_instant: bool,
) -> Result<Crossing, CalendarError> {
    // Fast path: every counting day contributes a whole unit.
    if pauses.is_empty() && !want_instant && target % DAY_UNITS == 0 {
        let count = i64::try_from(target / DAY_UNITS).unwrap_or(i64::MAX);
        if !working_only {
            return Ok(Crossing {
                day: receipt.saturating_add(count),
                instant: None,
            });
        }
        let mut index = receipt;
        let mut counted = 0;
        loop {
            index += 1;
            match calendar.class(index)? {
                DayClass::Working { make_up, .. } => {
                    if make_up {
                        trace.make_up(calendar, index);
                    }
                    counted += 1;
                    if counted >= count {
                        return Ok(Crossing {
                            day: index,
                            instant: None,
                        });
                    }
                }
                class => trace.skip_class(calendar, index, class),
            }
        }
    }

    let (_, last_covered) = calendar.coverage();
    let last_covered = calendar.index_of(last_covered);
    let mut reached: i128 = 0;
    let mut index = receipt;
    let mut next_pause = 0;
    loop {
        index += 1;
        let mut make_up_day = false;
        if working_only {
            match calendar.class(index)? {
                DayClass::Working { make_up, .. } => make_up_day = make_up,
                class => {
                    trace.skip_class(calendar, index, class);
                    continue;
                }
            }
        } else if index > last_covered {
            // The last day must be classified for the end rule, so this would fail anyway; failing
            // here bounds the walk when pauses reach far into the future.
            return Err(calendar.out_of_coverage(index));
        }
        let (day_start, day_end) = (calendar.day_start(index), calendar.day_start(index + 1));
        while pauses
            .get(next_pause)
            .is_some_and(|(_, to)| *to <= day_start)
        {
            next_pause += 1;
        }
        let length = nanos_between(day_start, day_end).max(1);
        let paused: i64 = pauses[next_pause.min(pauses.len())..]
            .iter()
            .take_while(|(from, _)| *from < day_end)
            .map(|(from, to)| nanos_between((*from).max(day_start), (*to).min(day_end)).max(0))
            .sum();
        let unpaused = (length - paused).max(0);
        let contribution = i128::from(unpaused) * DAY_UNITS / i128::from(length);
        if contribution == 0 {
            trace.skip(calendar, index, SkipReason::Paused);
            continue;
        }
        if make_up_day {
            trace.make_up(calendar, index);
        }
        if reached + contribution >= target {
            let instant = want_instant.then(|| {
                let needed_units = target - reached;
                // Round up so the instant is never before the measure is reached.
                let needed_ns = (needed_units * i128::from(length) + DAY_UNITS - 1) / DAY_UNITS;
                let needed_ns = i64::try_from(needed_ns).unwrap_or(i64::MAX);
                unpaused_offset(
                    day_start,
                    day_end,
                    needed_ns,
                    &pauses[next_pause.min(pauses.len())..],
                )
            });
            return Ok(Crossing {
                day: index,
                instant,
            });
        }
        reached += contribution;
    }
}

/// The instant within `[day_start, day_end)` after `needed_ns` of unpaused time.
fn unpaused_offset(
    day_start: DateTime<Utc>,
    day_end: DateTime<Utc>,
    needed_ns: i64,
    pauses: &[(DateTime<Utc>, DateTime<Utc>)],
) -> DateTime<Utc> {
    let mut cursor = day_start;
    let mut remaining = needed_ns;
    for &(from, to) in pauses.iter().take_while(|(from, _)| *from < day_end) {
        if to <= cursor {
            continue;
        }
        let run = nanos_between(cursor, from.max(cursor));
        if run >= remaining {
            break;
        }
        remaining -= run;
        cursor = to.max(cursor);
    }
    (cursor + TimeDelta::nanoseconds(remaining)).min(day_end)
}

fn write_day(f: &mut fmt::Formatter<'_>, date: NaiveDate) -> fmt::Result {
    write!(f, "{} {}", weekday_name(date.weekday()), date)
}

fn write_local(f: &mut fmt::Formatter<'_>, instant: DateTime<Utc>, zone: Tz) -> fmt::Result {
    let local = instant.with_timezone(&zone);
    write!(
        f,
        "{} {}",
        weekday_name(local.weekday()),
        local.format("%Y-%m-%d %H:%M")
    )
}

fn write_duration(f: &mut fmt::Formatter<'_>, duration: TimeDelta) -> fmt::Result {
    let minutes = duration.num_minutes();
    let (days, hours, minutes) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    if days > 0 {
        write!(f, "{days}d ")?;
    }
    write!(f, "{hours}h{minutes:02}m")
}

impl fmt::Display for Explanation {
    /// One line: the period, the start, what did not count and why, and the end in local time.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let zone = self.time_zone;
        write!(
            f,
            "{} on calendar {} ({}) from ",
            self.period,
            self.calendar,
            zone.name()
        )?;
        write_local(f, self.start, zone)?;
        if let Period::Weeks(weeks) = self.period {
            write!(f, " ({} calendar days)", u64::from(weeks) * 7)?;
        }
        match self.period {
            Period::Hours(_) => write!(f, "; wall-clock time")?,
            Period::WorkingHours(_) => {
                if let Some(from) = self.counting_from.filter(|from| *from != self.start) {
                    write!(f, "; counting starts at the next opening, ")?;
                    write_local(f, from, zone)?;
                } else {
                    write!(f, "; counted inside business hours only")?;
                }
            }
            _ => {
                if let Some(receipt) = self.receipt_day {
                    write!(f, "; receipt day ")?;
                    write_day(f, receipt)?;
                    write!(f, " not counted")?;
                }
            }
        }
        if !self.make_up_days.is_empty() {
            write!(
                f,
                "; make-up working day{} counted: ",
                if self.make_up_days.len() == 1 {
                    ""
                } else {
                    "s"
                }
            )?;
            for (position, date) in self.make_up_days.iter().enumerate() {
                if position > 0 {
                    write!(f, ", ")?;
                }
                write_day(f, *date)?;
            }
        }
        if let Some(nominal) = self.moved_from {
            write!(f, "; last day ")?;
            write_day(f, nominal)?;
            write!(
                f,
                " is not a working day, so the period runs to the next working day"
            )?;
        }
        if !self.skipped.is_empty() {
            write!(f, "; skipped ")?;
            for (position, run) in self.skipped.iter().enumerate() {
                if position > 0 {
                    write!(f, ", ")?;
                }
                write_day(f, run.from)?;
                if run.to != run.from {
                    write!(f, "..")?;
                    write_day(f, run.to)?;
                }
                let plural = run.to != run.from;
                match &run.reason {
                    SkipReason::RestDay => {
                        write!(f, " (rest day{})", if plural { "s" } else { "" })?
                    }
                    SkipReason::Holiday(name) => write!(f, " (holiday: {name})")?,
                    SkipReason::Paused => write!(f, " (paused)")?,
                }
            }
        }
        if !self.pauses.is_empty() {
            let total = self
                .pauses
                .iter()
                .fold(TimeDelta::zero(), |sum, pause| sum + pause.duration());
            write!(f, "; clock paused ")?;
            for (position, pause) in self.pauses.iter().enumerate() {
                if position > 0 {
                    write!(f, ", ")?;
                }
                write_local(f, pause.from(), zone)?;
                write!(f, "..")?;
                write_local(f, pause.to(), zone)?;
            }
            write!(f, " (")?;
            write_duration(f, total)?;
            write!(f, " in total)")?;
        }
        write!(f, "; ends ")?;
        match self.last_day {
            Some(last) => {
                write!(f, "24:00 ")?;
                write_day(f, last)?;
            }
            None => write_local(f, self.deadline, zone)?,
        }
        write!(f, " ({})", self.deadline.with_timezone(&zone).to_rfc3339())
    }
}

impl fmt::Display for Deadline {
    /// The deadline as RFC 3339 in the calendar's zone.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.local().to_rfc3339())
    }
}
