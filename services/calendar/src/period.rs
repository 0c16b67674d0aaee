//! `Period`: the length of an SLA clock ("3 working days", "24 hours", "8 weeks") and its text form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::PeriodError;

/// Largest count a period may carry; keeps every computation far from overflow.
pub const MAX_PERIOD_COUNT: u32 = 10_000;

/// The length of a clock, in one of the units of SPEC §6.
///
/// Text form (parsing is case-insensitive; display is canonical):
/// `"15 days"` / `"15 calendar days"`, `"3 working days"` / `"3 business days"`,
/// `"1 working hour"` / `"1 business hour"`, `"24 hours"`, `"8 weeks"`.
/// Counts are in `1..=MAX_PERIOD_COUNT`. Serialised as that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    /// N calendar days: the receipt day does not count; ends 24:00 local of date(t)+N, or 24:00 of
    /// the next working day when that day is not a working day.
    CalendarDays(u32),
    /// N working (business) days: the receipt day does not count; ends 24:00 of the N-th working
    /// day after date(t).
    WorkingDays(u32),
    /// N working hours: counted only inside business hours of working days, from t or the next
    /// opening.
    WorkingHours(u32),
    /// N wall-clock hours.
    Hours(u32),
    /// N weeks: 7·N calendar days with the calendar-day end rule.
    Weeks(u32),
}

impl Period {
    /// The number of units.
    pub fn count(self) -> u32 {
        match self {
            Period::CalendarDays(n)
            | Period::WorkingDays(n)
            | Period::WorkingHours(n)
            | Period::Hours(n)
            | Period::Weeks(n) => n,
        }
    }

    /// The same unit with another count (not validated against `MAX_PERIOD_COUNT`).
    pub fn with_count(self, count: u32) -> Period {
        match self {
            Period::CalendarDays(_) => Period::CalendarDays(count),
            Period::WorkingDays(_) => Period::WorkingDays(count),
            Period::WorkingHours(_) => Period::WorkingHours(count),
            Period::Hours(_) => Period::Hours(count),
            Period::Weeks(_) => Period::Weeks(count),
        }
    }

    /// `self` lengthened by `extension`, when both are in the same unit (weeks and calendar days
    /// combine into calendar days). `None` for different units or a total above
    /// `MAX_PERIOD_COUNT`. Used for approved extensions: "3 working days + 2 working days" is
    /// "5 working days" from the original start.
    pub fn checked_add(self, extension: Period) -> Option<Period> {
        let total = |a: u32, b: u32| a.checked_add(b).filter(|sum| *sum <= MAX_PERIOD_COUNT);
        match (self, extension) {
            (Period::CalendarDays(a), Period::CalendarDays(b)) => {
                total(a, b).map(Period::CalendarDays)
            }
            (Period::Weeks(a), Period::Weeks(b)) => total(a, b).map(Period::Weeks),
            (Period::Weeks(w), Period::CalendarDays(d))
            | (Period::CalendarDays(d), Period::Weeks(w)) => {
                total(w.checked_mul(7)?, d).map(Period::CalendarDays)
            }
            (Period::WorkingDays(a), Period::WorkingDays(b)) => {
                total(a, b).map(Period::WorkingDays)
            }
            (Period::WorkingHours(a), Period::WorkingHours(b)) => {
                total(a, b).map(Period::WorkingHours)
            }
            (Period::Hours(a), Period::Hours(b)) => total(a, b).map(Period::Hours),
            _ => None,
        }
    }

    fn unit_name(self) -> (&'static str, &'static str) {
        match self {
            Period::CalendarDays(_) => ("day", "days"),
            Period::WorkingDays(_) => ("working day", "working days"),
            Period::WorkingHours(_) => ("working hour", "working hours"),
            Period::Hours(_) => ("hour", "hours"),
            Period::Weeks(_) => ("week", "weeks"),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (singular, plural) = self.unit_name();
        let count = self.count();
        write!(f, "{count} {}", if count == 1 { singular } else { plural })
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason| PeriodError {
            input: input.to_owned(),
            reason,
        };
        let mut words = input.split_whitespace();
        let count: u32 = match words.next() {
            None => return Err(fail("empty")),
            Some(number) => number
                .parse()
                .map_err(|_| fail("does not start with a whole number"))?,
        };
        if count == 0 {
            return Err(fail("count must be at least 1"));
        }
        if count > MAX_PERIOD_COUNT {
            return Err(fail("count is larger than 10000"));
        }
        let unit = words
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join(" ");
        let period = match unit.as_str() {
            "day" | "days" | "calendar day" | "calendar days" => Period::CalendarDays(count),
            "working day" | "working days" | "business day" | "business days" => {
                Period::WorkingDays(count)
            }
            "working hour" | "working hours" | "business hour" | "business hours" => {
                Period::WorkingHours(count)
            }
            "hour" | "hours" => Period::Hours(count),
            "week" | "weeks" => Period::Weeks(count),
            "" => return Err(fail("missing unit")),
            _ => return Err(fail("unknown unit")),
        };
        Ok(period)
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Period> for String {
    fn from(period: Period) -> String {
        period.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spec_period() {
        let cases = [
            ("1 working hour", Period::WorkingHours(1)),
            ("24 hours", Period::Hours(24)),
            ("2 working days", Period::WorkingDays(2)),
            ("1 week", Period::Weeks(1)),
            ("15 days", Period::CalendarDays(15)),
            ("30 calendar days", Period::CalendarDays(30)),
            ("3 business days", Period::WorkingDays(3)),
            ("8 weeks", Period::Weeks(8)),
            ("35  Business  Days", Period::WorkingDays(35)),
            ("1 day", Period::CalendarDays(1)),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Period>(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "1 working hour",
            "3 working days",
            "24 hours",
            "1 week",
            "15 days",
            "1 day",
            "2 hours",
        ] {
            let period: Period = text.parse().expect("valid period");
            assert_eq!(period.to_string(), text);
        }
    }

    #[test]
    fn rejects_bad_input() {
        for (text, reason) in [
            ("", "empty"),
            ("three days", "does not start with a whole number"),
            ("0 days", "count must be at least 1"),
            ("-1 days", "does not start with a whole number"),
            ("10001 days", "count is larger than 10000"),
            ("3", "missing unit"),
            ("3 fortnights", "unknown unit"),
        ] {
            let error = text.parse::<Period>().expect_err(text);
            assert_eq!(error.reason, reason, "{text}");
        }
    }

    #[test]
    fn extensions_add_in_the_same_unit_only() {
        assert_eq!(
            Period::WorkingDays(3).checked_add(Period::WorkingDays(2)),
            Some(Period::WorkingDays(5))
        );
        assert_eq!(
            Period::CalendarDays(15).checked_add(Period::CalendarDays(45)),
            Some(Period::CalendarDays(60))
        );
        assert_eq!(
            Period::Weeks(1).checked_add(Period::CalendarDays(3)),
            Some(Period::CalendarDays(10))
        );
        assert_eq!(
            Period::WorkingDays(3).checked_add(Period::CalendarDays(2)),
            None
        );
        assert_eq!(Period::Hours(24).checked_add(Period::WorkingHours(1)), None);
        assert_eq!(
            Period::Hours(MAX_PERIOD_COUNT).checked_add(Period::Hours(1)),
            None
        );
    }
}
