//! `Clock`: one running SLA clock (start, pause, resume, extend, warning, breach, stop),
//! serialisable so a service can persist it and restore it after a restart.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::engine::{deadline, share_point, Deadline};
use super::error::{CalendarError, ClockError};
use super::load::CalendarSet;
use super::model::Calendar;
use super::period::Period;
use super::time::Interval;

/// Default warning point: 75 % of the budget used.
pub const DEFAULT_WARNING_PERCENT: u8 = 75;

/// An approved extension of a clock's period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// Added to the period in its own unit ("3 working days" + "2 working days").
    pub by: Period,
    pub approved_at: DateTime<Utc>,
    pub reason: String,
}

/// An SLA clock. All state changes take the instant they happened and must come in time order.
///
/// The deadline is always recomputed from the facts (start, base period, extensions, pauses) on a
/// given calendar, so a restored clock gives the same answer as the original. While paused, the
/// deadline is provisional: it assumes the clock resumes at the `now` passed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ClockRecord")]
pub struct Clock {
    calendar: String,
    period: Period,
    started_at: DateTime<Utc>,
    warning_percent: u8,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pauses: Vec<Interval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    paused_since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    extensions: Vec<Extension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stopped_at: Option<DateTime<Utc>>,
}

/// Where a clock stands at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockPhase {
    /// Running, warning point not reached.
    Running,
    /// Running, warning point reached, deadline not yet.
    Warning,
    /// Paused before the deadline.
    Paused,
    /// The deadline has passed and the clock was not stopped in time.
    Breached,
    /// Stopped for good; `met` when it stopped no later than the deadline.
    Stopped { met: bool },
}

/// A clock's status at `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockStatus {
    pub phase: ClockPhase,
    pub deadline: Deadline,
    pub warning_at: DateTime<Utc>,
    /// Wall-clock time from `now` (or the stop) to the deadline; negative when overdue.
    pub remaining: TimeDelta,
    /// True while paused: deadline and warning assume the clock resumes at `now`.
    pub provisional: bool,
    /// True when the answer needed days past the calendar's published data and was computed on
    /// its weekly pattern ([`Calendar::provisional`]): show it as provisional and recompute it
    /// when that year's calendar is added.
    pub calendar_provisional: bool,
}

/// A point-in-time event of a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockEvent {
    Warning { at: DateTime<Utc> },
    Breach { at: DateTime<Utc> },
}

impl Clock {
    /// Starts `period` on `calendar` at `at`, with the default warning point.
    pub fn start(calendar: &Calendar, period: Period, at: impl Into<DateTime<Utc>>) -> Clock {
        Clock {
            calendar: calendar.id().to_owned(),
            period,
            started_at: at.into(),
            warning_percent: DEFAULT_WARNING_PERCENT,
            pauses: Vec::new(),
            paused_since: None,
            extensions: Vec::new(),
            stopped_at: None,
        }
    }

    /// Sets the warning point as a share of the budget used, in percent (1..=100).
    pub fn with_warning_percent(mut self, percent: u8) -> Result<Clock, ClockError> {
        if !(1..=100).contains(&percent) {
            return Err(ClockError::WarningPercent(percent));
        }
        self.warning_percent = percent;
        Ok(self)
    }

    pub fn calendar_id(&self) -> &str {
        &self.calendar
    }

    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    pub fn warning_percent(&self) -> u8 {
        self.warning_percent
    }

    /// Completed pauses, in order.
    pub fn pauses(&self) -> &[Interval] {
        &self.pauses
    }

    pub fn paused_since(&self) -> Option<DateTime<Utc>> {
        self.paused_since
    }

    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    pub fn stopped_at(&self) -> Option<DateTime<Utc>> {
        self.stopped_at
    }

    /// The period in force: the base period plus every approved extension.
    pub fn period(&self) -> Period {
        self.extensions
            .iter()
            .try_fold(self.period, |total, extension| {
                total.checked_add(extension.by)
            })
            .unwrap_or(self.period)
    }

    /// The period the clock was started with.
    pub fn base_period(&self) -> Period {
        self.period
    }

    fn refuse(operation: &'static str, at: DateTime<Utc>, reason: impl Into<String>) -> ClockError {
        ClockError::InvalidTransition {
            operation,
            at: at.to_rfc3339(),
            reason: reason.into(),
        }
    }

    /// The latest instant recorded in the clock; new events may not precede it.
    fn last_event(&self) -> DateTime<Utc> {
        let mut latest = self.started_at;
        if let Some(pause) = self.pauses.last() {
            latest = latest.max(pause.to());
        }
        if let Some(since) = self.paused_since {
            latest = latest.max(since);
        }
        latest
    }

    /// Stops the clock (stop-clock) at `at`. Refused when stopped, already paused, or out of order.
    pub fn pause(&mut self, at: impl Into<DateTime<Utc>>) -> Result<(), ClockError> {
        let at = at.into();
        if self.stopped_at.is_some() {
            return Err(Clock::refuse("pause", at, "the clock is stopped"));
        }
        if self.paused_since.is_some() {
            return Err(Clock::refuse("pause", at, "the clock is already paused"));
        }
        if at < self.last_event() {
            return Err(Clock::refuse(
                "pause",
                at,
                format!(
                    "earlier than the last event at {}",
                    self.last_event().to_rfc3339()
                ),
            ));
        }
        self.paused_since = Some(at);
        Ok(())
    }

    /// Restarts a paused clock at `at`; the remaining time counts on from there.
    pub fn resume(&mut self, at: impl Into<DateTime<Utc>>) -> Result<(), ClockError> {
        let at = at.into();
        let Some(since) = self.paused_since else {
            return Err(Clock::refuse("resume", at, "the clock is not paused"));
        };
        let pause = Interval::new(since, at).map_err(|_| {
            Clock::refuse(
                "resume",
                at,
                format!("earlier than the pause at {}", since.to_rfc3339()),
            )
        })?;
        self.pauses.push(pause);
        self.paused_since = None;
        Ok(())
    }

    /// Adds an approved extension. Its unit must match the period's (see `Period::checked_add`).
    pub fn extend(
        &mut self,
        by: Period,
        approved_at: impl Into<DateTime<Utc>>,
        reason: impl Into<String>,
    ) -> Result<(), ClockError> {
        let approved_at = approved_at.into();
        if self.stopped_at.is_some() {
            return Err(Clock::refuse("extend", approved_at, "the clock is stopped"));
        }
        if approved_at < self.started_at {
            return Err(Clock::refuse(
                "extend",
                approved_at,
                "earlier than the start",
            ));
        }
        let current = self.period();
        if current.checked_add(by).is_none() {
            return Err(ClockError::IncompatibleExtension {
                period: current.to_string(),
                extension: by.to_string(),
            });
        }
        self.extensions.push(Extension {
            by,
            approved_at,
            reason: reason.into(),
        });
        Ok(())
    }

    /// Stops the clock for good (the obligation was met or dropped). An open pause ends at `at`.
    pub fn stop(&mut self, at: impl Into<DateTime<Utc>>) -> Result<(), ClockError> {
        let at = at.into();
        if self.stopped_at.is_some() {
            return Err(Clock::refuse("stop", at, "the clock is already stopped"));
        }
        if at < self.last_event() {
            return Err(Clock::refuse(
                "stop",
                at,
                format!(
                    "earlier than the last event at {}",
                    self.last_event().to_rfc3339()
                ),
            ));
        }
        if self.paused_since.is_some() {
            self.resume(at)?;
        }
        self.stopped_at = Some(at);
        Ok(())
    }

    fn check_calendar(&self, calendar: &Calendar) -> Result<(), ClockError> {
        if calendar.id() != self.calendar {
            return Err(ClockError::WrongCalendar {
                expected: self.calendar.clone(),
                actual: calendar.id().to_owned(),
            });
        }
        Ok(())
    }

    /// Pauses to compute with: the completed ones plus an open pause up to `now`.
    fn pauses_at(&self, now: DateTime<Utc>) -> Vec<Interval> {
        let mut pauses = self.pauses.clone();
        if let Some(since) = self.paused_since {
            if let Ok(open) = Interval::new(since, now.max(since)) {
                pauses.push(open);
            }
        }
        pauses
    }

    /// The deadline as of `now` (provisional while paused).
    pub fn deadline(
        &self,
        calendar: &Calendar,
        now: impl Into<DateTime<Utc>>,
    ) -> Result<Deadline, ClockError> {
        self.check_calendar(calendar)?;
        Ok(deadline(
            calendar,
            self.started_at,
            self.period(),
            &self.pauses_at(now.into()),
        )?)
    }

    /// Phase, deadline, warning point and remaining time at `now`.
    pub fn status(
        &self,
        calendar: &Calendar,
        now: impl Into<DateTime<Utc>>,
    ) -> Result<ClockStatus, ClockError> {
        let now = now.into();
        self.check_calendar(calendar)?;
        let pauses = self.pauses_at(now);
        let period = self.period();
        let deadline = deadline(calendar, self.started_at, period, &pauses)?;
        let warning_at = share_point(
            calendar,
            self.started_at,
            period,
            &pauses,
            self.warning_percent,
        )?;
        let reference = self.stopped_at.unwrap_or(now);
        let calendar_provisional = calendar.provisional_from().is_some_and(|first| {
            let guessed_from = calendar.day_start(calendar.index_of(first));
            deadline.at > guessed_from || warning_at > guessed_from
        });
        let phase = match self.stopped_at {
            Some(stopped) => ClockPhase::Stopped {
                met: stopped <= deadline.at,
            },
            None if now >= deadline.at => ClockPhase::Breached,
            None if self.paused_since.is_some() => ClockPhase::Paused,
            None if now >= warning_at => ClockPhase::Warning,
            None => ClockPhase::Running,
        };
        Ok(ClockStatus {
            phase,
            remaining: deadline.at - reference,
            warning_at,
            deadline,
            provisional: self.paused_since.is_some() && self.stopped_at.is_none(),
            calendar_provisional,
        })
    }

    /// [`Clock::status`] on this clock's calendar from `calendars`. When the answer needs days
    /// past the calendar's data, it is computed on the calendar's weekly pattern and flagged
    /// `calendar_provisional` instead of failing.
    pub fn status_in(&self, calendars: &CalendarSet, now: impl Into<DateTime<Utc>>) -> Result<ClockStatus, ClockError> {
        let now = now.into();
        match self.status(calendars.get(&self.calendar)?, now) {
            Err(ClockError::Calendar(CalendarError::OutOfCoverage { date, last, .. })) if date > last => {
                self.status(calendars.provisional(&self.calendar)?, now)
            }
            other => other,
        }
    }

    /// Warning and breach events whose instants fall in `(since, now]`, in order. A paused or
    /// stopped clock emits none (a stopped clock's events after the stop never happen).
    pub fn events_between(
        &self,
        calendar: &Calendar,
        since: impl Into<DateTime<Utc>>,
        now: impl Into<DateTime<Utc>>,
    ) -> Result<Vec<ClockEvent>, ClockError> {
        let (since, now) = (since.into(), now.into());
        let status = self.status(calendar, now)?;
        if status.provisional {
            return Ok(Vec::new());
        }
        let until = self.stopped_at.map_or(now, |stopped| stopped.min(now));
        let mut events = Vec::new();
        if status.warning_at > since && status.warning_at <= until {
            events.push(ClockEvent::Warning {
                at: status.warning_at,
            });
        }
        if status.deadline.at > since && status.deadline.at <= until {
            events.push(ClockEvent::Breach {
                at: status.deadline.at,
            });
        }
        Ok(events)
    }
}

/// The persisted form, validated on restore.
#[derive(Deserialize)]
struct ClockRecord {
    calendar: String,
    period: Period,
    started_at: DateTime<Utc>,
    warning_percent: u8,
    #[serde(default)]
    pauses: Vec<Interval>,
    #[serde(default)]
    paused_since: Option<DateTime<Utc>>,
    #[serde(default)]
    extensions: Vec<Extension>,
    #[serde(default)]
    stopped_at: Option<DateTime<Utc>>,
}

impl TryFrom<ClockRecord> for Clock {
    type Error = ClockError;

    fn try_from(record: ClockRecord) -> Result<Self, Self::Error> {
        let invalid = |message: String| ClockError::InvalidRecord(message);
        if !(1..=100).contains(&record.warning_percent) {
            return Err(invalid(format!(
                "warning_percent {} not in 1..=100",
                record.warning_percent
            )));
        }
        let mut previous_end = record.started_at;
        for pause in &record.pauses {
            if pause.from() < previous_end {
                return Err(invalid(format!(
                    "pause {pause} overlaps the start or an earlier pause"
                )));
            }
            previous_end = pause.to();
        }
        if record
            .paused_since
            .is_some_and(|since| since < previous_end)
        {
            return Err(invalid("paused_since precedes the last pause".to_owned()));
        }
        if record.paused_since.is_some() && record.stopped_at.is_some() {
            return Err(invalid("a stopped clock cannot be paused".to_owned()));
        }
        if record
            .stopped_at
            .is_some_and(|stopped| stopped < previous_end)
        {
            return Err(invalid("stopped_at precedes the last pause".to_owned()));
        }
        let mut period = record.period;
        for extension in &record.extensions {
            period = period.checked_add(extension.by).ok_or_else(|| {
                invalid(format!(
                    "extension {} does not fit period {period}",
                    extension.by
                ))
            })?;
        }
        Ok(Clock {
            calendar: record.calendar,
            period: record.period,
            started_at: record.started_at,
            warning_percent: record.warning_percent,
            pauses: record.pauses,
            paused_since: record.paused_since,
            extensions: record.extensions,
            stopped_at: record.stopped_at,
        })
    }
}
