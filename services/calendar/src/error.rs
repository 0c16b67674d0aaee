//! Error types of the calendar module, one per boundary (data, periods, clocks, rule packs).

use std::path::PathBuf;

use chrono::NaiveDate;

/// Errors from loading calendars and computing deadlines on them.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// A calendar data file is malformed or contradicts itself; `line` is 1-based.
    #[error("{file}:{line}: {message}")]
    Data {
        file: String,
        line: usize,
        message: String,
    },
    /// A calendar file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A computation needed to classify a date the calendar has no data for.
    /// Never silently treated as a working day.
    #[error(
        "calendar {calendar:?} has no data for {date}: it covers {first} to {last}; \
         add that year to the calendar file"
    )]
    OutOfCoverage {
        calendar: String,
        date: NaiveDate,
        first: NaiveDate,
        last: NaiveDate,
    },
    /// No calendar with this id was loaded.
    #[error("unknown calendar {0:?}")]
    UnknownCalendar(String),
}

/// A period string such as `"3 working days"` could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid period {input:?}: {reason} (expected e.g. \"3 working days\", \"1 working hour\", \
     \"24 hours\", \"1 week\", \"15 days\", \"15 business days\")"
)]
pub struct PeriodError {
    pub input: String,
    pub reason: &'static str,
}

/// An interval (pause) was malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntervalError {
    #[error("interval ends ({to}) before it starts ({from})")]
    EndsBeforeStart { from: String, to: String },
    #[error("invalid interval {input:?}: expected FROM..TO with RFC 3339 instants")]
    Syntax { input: String },
    #[error("invalid instant {input:?}: expected RFC 3339 such as 2026-02-13T16:30:00+08:00")]
    Instant { input: String },
}

/// A clock operation was refused, or its deadline could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    /// The operation does not fit the clock's current state (e.g. resume while running).
    #[error("cannot {operation} at {at}: {reason}")]
    InvalidTransition {
        operation: &'static str,
        at: String,
        reason: String,
    },
    /// An extension's unit cannot be added to the clock's period (e.g. days to working hours).
    #[error("cannot extend {period} by {extension}: units differ")]
    IncompatibleExtension { period: String, extension: String },
    /// The warning share must be a percentage in 1..=100.
    #[error("warning percent must be in 1..=100, got {0}")]
    WarningPercent(u8),
    /// The clock was asked to compute on a different calendar than the one it was started on.
    #[error("clock runs on calendar {expected:?}, got {actual:?}")]
    WrongCalendar { expected: String, actual: String },
    /// A persisted clock failed validation on restore.
    #[error("invalid clock record: {0}")]
    InvalidRecord(String),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// Errors from loading rule packs and looking up clock rules.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// A rule-pack file is malformed or inconsistent; `line` is 1-based.
    #[error("{file}:{line}: {message}")]
    Data {
        file: String,
        line: usize,
        message: String,
    },
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no rule pack for jurisdiction {0:?}")]
    UnknownJurisdiction(String),
    /// The pack defines no clock for this stage, neither for the grade nor for all grades.
    #[error("rule pack {jurisdiction:?} defines no clock for stage {stage} (grade {grade})")]
    NoRule {
        jurisdiction: String,
        grade: String,
        stage: String,
    },
}
