//! Half-open time intervals (pauses) and local-time conversions that respect DST gaps and folds.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::error::IntervalError;

/// A half-open interval `[from, to)` of instants, e.g. a stop-clock pause.
///
/// Invariant: `from <= to`. An empty interval (`from == to`) is allowed and has no effect on any
/// computation. Text form: `FROM..TO` with RFC 3339 instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "IntervalRecord")]
pub struct Interval {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

#[derive(Deserialize)]
struct IntervalRecord {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl TryFrom<IntervalRecord> for Interval {
    type Error = IntervalError;

    fn try_from(record: IntervalRecord) -> Result<Self, Self::Error> {
        Interval::new(record.from, record.to)
    }
}

impl Interval {
    /// `[from, to)`; fails when `to` is before `from`.
    pub fn new(
        from: impl Into<DateTime<Utc>>,
        to: impl Into<DateTime<Utc>>,
    ) -> Result<Self, IntervalError> {
        let (from, to) = (from.into(), to.into());
        if to < from {
            return Err(IntervalError::EndsBeforeStart {
                from: from.to_rfc3339(),
                to: to.to_rfc3339(),
            });
        }
        Ok(Interval { from, to })
    }

    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    pub fn duration(&self) -> TimeDelta {
        self.to - self.from
    }

    pub fn is_empty(&self) -> bool {
        self.from == self.to
    }
}

impl FromStr for Interval {
    type Err = IntervalError;

    /// Parses `FROM..TO`, both RFC 3339 (any offset).
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let syntax = || IntervalError::Syntax {
            input: input.to_owned(),
        };
        let (from, to) = input.split_once("..").ok_or_else(syntax)?;
        let from = DateTime::parse_from_rfc3339(from.trim()).map_err(|_| syntax())?;
        let to = DateTime::parse_from_rfc3339(to.trim()).map_err(|_| syntax())?;
        Interval::new(from, to)
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.from.to_rfc3339(), self.to.to_rfc3339())
    }
}

/// Parses an RFC 3339 instant with any offset (e.g. `2026-02-13T16:30:00+08:00`).
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, IntervalError> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|_| IntervalError::Instant {
            input: text.to_owned(),
        })
}

/// The instant of local wall time `local` in `zone`.
///
/// In a fold (clocks turned back) the earlier instant is taken; in a gap (clocks turned forward)
/// the first instant after the gap, so "the start of a day" whose midnight does not exist is the
/// moment the clocks jump.
pub(crate) fn local_to_utc(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(instant) => instant.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => {
            // Gaps in the tz database are whole minutes and shorter than a day.
            for minutes in 1..=24 * 60 {
                if let LocalResult::Single(instant) | LocalResult::Ambiguous(instant, _) =
                    zone.from_local_datetime(&(local + TimeDelta::minutes(minutes)))
                {
                    return instant.with_timezone(&Utc);
                }
            }
            local.and_utc()
        }
    }
}

/// The instant at which local day `date` begins in `zone` ("24:00 of the day before").
pub(crate) fn start_of_local_day(zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    local_to_utc(zone, date.and_time(chrono::NaiveTime::MIN))
}

/// Sorts, clips to `[not_before, ∞)` and merges `pauses`, dropping empty ones.
pub(crate) fn normalise_pauses(
    pauses: &[Interval],
    not_before: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = pauses
        .iter()
        .filter(|pause| pause.to > not_before && pause.from < pause.to)
        .map(|pause| (pause.from.max(not_before), pause.to))
        .collect();
    if spans.len() > 1 {
        spans.sort_unstable();
        let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(spans.len());
        for (from, to) in spans {
            match merged.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        spans = merged;
    }
    spans
}

/// Length of `[from, to)` in nanoseconds, saturating for spans beyond ±292 years.
pub(crate) fn nanos_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from)
        .num_nanoseconds()
        .unwrap_or(if to >= from { i64::MAX } else { i64::MIN })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn interval_text_round_trip_and_validation() {
        let pause: Interval = "2026-02-13T17:00:00+08:00..2026-02-14T09:00:00+08:00"
            .parse()
            .expect("valid");
        assert_eq!(pause.from(), at("2026-02-13T09:00:00Z"));
        assert_eq!(pause.duration(), TimeDelta::hours(16));
        assert!(matches!(
            "2026-02-14T00:00:00Z..2026-02-13T00:00:00Z".parse::<Interval>(),
            Err(IntervalError::EndsBeforeStart { .. })
        ));
        assert!(matches!(
            "yesterday..today".parse::<Interval>(),
            Err(IntervalError::Syntax { .. })
        ));
    }

    #[test]
    fn local_midnight_in_gaps_and_folds() {
        // America/Sao_Paulo moved clocks forward at local midnight on 2018-11-04.
        let start = start_of_local_day(
            chrono_tz::America::Sao_Paulo,
            NaiveDate::from_ymd_opt(2018, 11, 4).expect("date"),
        );
        assert_eq!(start, at("2018-11-04T03:00:00Z"));
        // London: ordinary midnight just before the spring change.
        let start = start_of_local_day(
            chrono_tz::Europe::London,
            NaiveDate::from_ymd_opt(2026, 3, 29).expect("date"),
        );
        assert_eq!(start, at("2026-03-29T00:00:00Z"));
    }

    #[test]
    fn pauses_are_clipped_sorted_and_merged() {
        let start = at("2026-01-01T00:00:00Z");
        let pauses = [
            Interval::new(at("2026-01-03T00:00:00Z"), at("2026-01-04T00:00:00Z")).expect("valid"),
            Interval::new(at("2025-12-30T00:00:00Z"), at("2026-01-02T00:00:00Z")).expect("valid"),
            Interval::new(at("2026-01-03T12:00:00Z"), at("2026-01-05T00:00:00Z")).expect("valid"),
            Interval::new(at("2026-01-06T00:00:00Z"), at("2026-01-06T00:00:00Z")).expect("valid"),
        ];
        assert_eq!(
            normalise_pauses(&pauses, start),
            vec![
                (start, at("2026-01-02T00:00:00Z")),
                (at("2026-01-03T00:00:00Z"), at("2026-01-05T00:00:00Z")),
            ]
        );
    }
}
