//! `complaintctl deadline`: when a period ends on a working-day calendar, and why.

use std::path::PathBuf;

use anyhow::{bail, Context};
use complaints_calendar::{self, Calendar, Interval, Period};

/// Compute an SLA deadline on a working-day calendar and explain it.
///
/// Example: `complaintctl deadline --calendar cn --start 2026-02-13T16:30:00+08:00
/// --within "3 working days"`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeadlineArgs {
    /// Calendar id: a file stem in the calendars directory (cn, gb-eaw, us).
    #[arg(long)]
    pub calendar: String,
    /// When the clock starts, RFC 3339 with offset (e.g. 2026-02-13T16:30:00+08:00).
    #[arg(long)]
    pub start: String,
    /// The period: "3 working days", "1 working hour", "24 hours", "1 week", "15 days",
    /// "8 weeks", "15 business days".
    #[arg(long)]
    pub within: Period,
    /// A stop-clock pause as FROM..TO (RFC 3339 instants); repeat for several pauses.
    #[arg(long = "pause", value_name = "FROM..TO")]
    pub pauses: Vec<Interval>,
    /// Directory of calendar data files.
    #[arg(
        long,
        env = "COMPLAINTS_CALENDARS_DIR",
        default_value = "deploy/calendars"
    )]
    pub calendars_dir: PathBuf,
}

/// Computes the deadline and returns the text to print: the deadline as RFC 3339 in the
/// calendar's zone, then a one-line explanation of skipped days, pauses and the end rule.
pub fn run(args: &DeadlineArgs) -> anyhow::Result<String> {
    let start = complaints_calendar::parse_instant(&args.start)?;
    let path = args.calendars_dir.join(format!("{}.toml", args.calendar));
    if !path.is_file() {
        let available = available_calendars(&args.calendars_dir);
        bail!(
            "unknown calendar {:?}: no {} (available: {})",
            args.calendar,
            path.display(),
            if available.is_empty() {
                "none".to_owned()
            } else {
                available.join(", ")
            }
        );
    }
    let calendar = Calendar::load_file(&path)
        .with_context(|| format!("loading calendar {:?}", args.calendar))?;
    let deadline = complaints_calendar::deadline(&calendar, start, args.within, &args.pauses)?;
    Ok(format!("{deadline}\n{}", deadline.explanation))
}

fn available_calendars(dir: &std::path::Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "toml")
        })
        .filter_map(|path| {
            path.file_stem()
                .and_then(|stem| stem.to_str())
                .map(str::to_owned)
        })
        .collect();
    ids.sort();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(calendar: &str, start: &str, within: &str, pauses: &[&str]) -> DeadlineArgs {
        DeadlineArgs {
            calendar: calendar.to_owned(),
            start: start.to_owned(),
            within: within.parse().expect("period"),
            pauses: pauses
                .iter()
                .map(|pause| pause.parse().expect("pause"))
                .collect(),
            calendars_dir: PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../deploy/calendars"
            )),
        }
    }

    #[test]
    fn prints_the_deadline_and_why() {
        let output = run(&args(
            "cn",
            "2026-02-13T16:30:00+08:00",
            "3 working days",
            &[],
        ))
        .expect("runs");
        assert_eq!(
            output,
            "2026-02-26T00:00:00+08:00\n\
             3 working days on calendar cn (Asia/Shanghai) from Fri 2026-02-13 16:30; receipt day Fri \
             2026-02-13 not counted; make-up working day counted: Sat 2026-02-14; skipped Sun 2026-02-15..Mon \
             2026-02-23 (holiday: Spring Festival (春节)); ends 24:00 Wed 2026-02-25 (2026-02-26T00:00:00+08:00)"
        );
    }

    #[test]
    fn pauses_move_the_deadline() {
        let pause = "2026-02-24T00:00:00+08:00..2026-02-26T00:00:00+08:00";
        let output = run(&args(
            "cn",
            "2026-02-13T16:30:00+08:00",
            "3 working days",
            &[pause],
        ))
        .expect("runs");
        assert!(
            output.starts_with("2026-02-28T00:00:00+08:00\n"),
            "{output}"
        );
        assert!(
            output.contains(
                "clock paused Tue 2026-02-24 00:00..Thu 2026-02-26 00:00 (2d 0h00m in total)"
            ),
            "{output}"
        );
    }

    #[test]
    fn reports_bad_input() {
        let error = run(&args("mars", "2026-02-13T16:30:00+08:00", "1 day", &[]))
            .expect_err("unknown calendar");
        assert!(
            error.to_string().contains("available: cn, eu-target, gb-eaw, us"),
            "{error}"
        );
        let error = run(&args("cn", "13/02/2026", "1 day", &[])).expect_err("bad start");
        assert!(error.to_string().contains("invalid instant"), "{error}");
        let error = run(&args(
            "cn",
            "2026-12-30T10:00:00+08:00",
            "3 working days",
            &[],
        ))
        .expect_err("uncovered");
        assert!(
            error.to_string().contains("no data for 2027-01-01"),
            "{error}"
        );
    }
}
