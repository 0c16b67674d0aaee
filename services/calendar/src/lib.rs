//! Working-day calendars and the SLA deadline engine behind every clock of the complaint lifecycle.
//!
//! - [`Calendar`] / [`CalendarSet`]: per-jurisdiction time zone, business hours, rest days,
//!   holidays and make-up working days, loaded from data files (`deploy/calendars/*.toml`).
//! - [`Period`]: "3 working days", "1 working hour", "24 hours", "1 week", "15 days", …
//! - [`deadline`]: SPEC §6 end-of-period rules with stop-clock pauses, returning a [`Deadline`]
//!   whose [`Explanation`] says which days were skipped and why.
//! - [`Clock`]: start / pause / resume / extend / warning / breach / stop, serialisable.
//! - [`RuleBook`] / [`RulePack`]: per jurisdiction and grade, the clock of each lifecycle stage
//!   (`deploy/rule-packs/*.toml`), overridable per institution.
//!
//! The core is pure; only `Calendar::load_file`, `CalendarSet::load_dir` and `RuleBook::load_dir`
//! read files.

mod clock;
mod engine;
mod error;
mod load;
mod model;
mod period;
mod rules;
mod time;

pub use clock::{Clock, ClockEvent, ClockPhase, ClockStatus, Extension, DEFAULT_WARNING_PERCENT};
pub use engine::{deadline, share_point, Deadline, Explanation, SkipReason, SkippedDays};
pub use error::{CalendarError, ClockError, IntervalError, PeriodError, RuleError};
pub use load::CalendarSet;
pub use model::{Calendar, DayKind, Shift};
pub use period::{Period, MAX_PERIOD_COUNT};
pub use rules::{ClockRule, Grade, RuleBook, RulePack, ClockKind};
pub use time::{parse_instant, Interval};
