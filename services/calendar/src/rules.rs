//! Rule packs: per jurisdiction and grade, the default clock of each kind (SPEC §4–5),
//! loaded from data files and overridable per institution.
//!
//! Format (`deploy/rule-packs/<jurisdiction>.toml`):
//! ```toml
//! jurisdiction = "cn"
//! calendar = "cn"              # calendar id (file stem in deploy/calendars)
//! warning_percent = 75         # default warning point for every clock of the pack
//! [stages]                     # clocks for every grade
//! acknowledge = { period = "1 working hour", basis = "SPEC §4" }
//! [grades.green]               # per-grade clocks, taking precedence over [stages]
//! investigation = { period = "3 working days", extensions = ["2 working days"] }
//! ```
//! An institution override is a file of the same format with `institution = "<name>"`: it names
//! the jurisdiction it amends and replaces only the entries (and `calendar`/`warning_percent`) it
//! lists. Rejected with file and line: unknown keys, stages or grades, malformed periods,
//! extensions in another unit than their period, duplicate packs, overrides without a base pack.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use toml::Spanned;

use super::clock::{Clock, DEFAULT_WARNING_PERCENT};
use super::error::{ClockError, RuleError};
use super::load::CalendarSet;
use super::model::Calendar;
use super::period::Period;

pub use complaints_domain::{ClockKind, Grade};

/// The clock a stage runs, resolved for one jurisdiction, institution and grade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockRule {
    pub period: Period,
    /// Extensions that may be approved, in order (each adds to the period in its unit).
    pub extensions: Vec<Period>,
    /// Calendar id the clock runs on.
    pub calendar: String,
    pub warning_percent: u8,
    /// Why this number (regulation or policy), from the data file.
    pub basis: Option<String>,
    /// `file:line` of the entry that defined this rule.
    pub defined_at: String,
}

impl ClockRule {
    /// The period after the first `approved` extensions (all of them when `approved` is larger).
    pub fn extended_period(&self, approved: usize) -> Period {
        self.extensions
            .iter()
            .take(approved)
            .try_fold(self.period, |total, extension| {
                total.checked_add(*extension)
            })
            .unwrap_or(self.period)
    }

    /// Starts this rule's clock on `calendar` (which must be the rule's calendar, possibly with
    /// another time zone) at `at`.
    pub fn start_clock(
        &self,
        calendar: &Calendar,
        at: impl Into<DateTime<Utc>>,
    ) -> Result<Clock, ClockError> {
        if calendar.id() != self.calendar {
            return Err(ClockError::WrongCalendar {
                expected: self.calendar.clone(),
                actual: calendar.id().to_owned(),
            });
        }
        Clock::start(calendar, self.period, at).with_warning_percent(self.warning_percent)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct RuleEntry {
    period: Period,
    extensions: Vec<Period>,
    basis: Option<String>,
    warning_percent: Option<u8>,
    defined_at: String,
}

/// The clocks of one jurisdiction (optionally as amended for one institution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePack {
    jurisdiction: String,
    institution: Option<String>,
    name: Option<String>,
    calendar: String,
    calendar_defined_at: (String, usize),
    warning_percent: u8,
    source: String,
    entries: BTreeMap<(Option<Grade>, ClockKind), RuleEntry>,
}

impl RulePack {
    pub fn jurisdiction(&self) -> &str {
        &self.jurisdiction
    }

    /// `Some` for a pack amended by an institution override.
    pub fn institution(&self) -> Option<&str> {
        self.institution.as_deref()
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Calendar id the pack's clocks run on.
    pub fn calendar(&self) -> &str {
        &self.calendar
    }

    /// The clock for `stage` at `grade`: the grade's own entry if any, else the all-grades entry.
    pub fn rule(&self, grade: Grade, stage: ClockKind) -> Result<ClockRule, RuleError> {
        let entry = self
            .entries
            .get(&(Some(grade), stage))
            .or_else(|| self.entries.get(&(None, stage)))
            .ok_or_else(|| RuleError::NoRule {
                jurisdiction: self.jurisdiction.clone(),
                grade: grade.to_string(),
                stage: stage.to_string(),
            })?;
        Ok(ClockRule {
            period: entry.period,
            extensions: entry.extensions.clone(),
            calendar: self.calendar.clone(),
            warning_percent: entry.warning_percent.unwrap_or(self.warning_percent),
            basis: entry.basis.clone(),
            defined_at: entry.defined_at.clone(),
        })
    }

    /// Shorthand for `rule(grade, stage)?.period`.
    pub fn period(&self, grade: Grade, stage: ClockKind) -> Result<Period, RuleError> {
        Ok(self.rule(grade, stage)?.period)
    }

    /// Parses one pack or institution override; `source` names the file in errors. Pure.
    pub fn from_toml_str(source: &str, text: &str) -> Result<RulePack, RuleError> {
        let parsed = ParsedFile::parse(source, text)?;
        if let Some((institution, offset)) = &parsed.institution {
            return Err(parsed.error(
                *offset,
                format!("{institution:?} is an institution override; load it with RuleBook alongside its base pack"),
            ));
        }
        parsed.into_base()
    }

    fn amended(&self, amendment: ParsedFile) -> RulePack {
        let mut pack = self.clone();
        pack.institution = amendment.institution.map(|(name, _)| name);
        if let Some((calendar, line)) = amendment.calendar {
            pack.calendar = calendar;
            pack.calendar_defined_at = (amendment.source.clone(), line);
        }
        if let Some(percent) = amendment.warning_percent {
            pack.warning_percent = percent;
        }
        pack.source = amendment.source;
        pack.entries.extend(amendment.entries);
        pack
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    jurisdiction: Spanned<String>,
    institution: Option<Spanned<String>>,
    name: Option<String>,
    calendar: Option<Spanned<String>>,
    warning_percent: Option<Spanned<u8>>,
    #[serde(default)]
    stages: BTreeMap<ClockKind, Spanned<EntryFile>>,
    #[serde(default)]
    grades: BTreeMap<Grade, BTreeMap<ClockKind, Spanned<EntryFile>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    period: String,
    #[serde(default)]
    extensions: Vec<String>,
    basis: Option<String>,
    warning_percent: Option<u8>,
}

/// A validated file, before it is combined with others.
struct ParsedFile {
    source: String,
    text_lines: Vec<usize>,
    jurisdiction: String,
    jurisdiction_offset: usize,
    institution: Option<(String, usize)>,
    name: Option<String>,
    calendar: Option<(String, usize)>,
    warning_percent: Option<u8>,
    entries: BTreeMap<(Option<Grade>, ClockKind), RuleEntry>,
}

impl ParsedFile {
    fn line_of(line_starts: &[usize], offset: usize) -> usize {
        line_starts.partition_point(|start| *start <= offset).max(1)
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> RuleError {
        RuleError::Data {
            file: self.source.clone(),
            line: ParsedFile::line_of(&self.text_lines, offset),
            message: message.into(),
        }
    }

    fn parse(source: &str, text: &str) -> Result<ParsedFile, RuleError> {
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index + 1))
            .collect();
        let error_at = |offset: usize, message: String| RuleError::Data {
            file: source.to_owned(),
            line: ParsedFile::line_of(&line_starts, offset),
            message,
        };
        let file: PackFile = toml::from_str(text).map_err(|error| {
            error_at(
                error.span().map(|span| span.start).unwrap_or(0),
                error.message().trim().to_owned(),
            )
        })?;
        let jurisdiction = file.jurisdiction.get_ref().trim().to_owned();
        if jurisdiction.is_empty() {
            return Err(error_at(
                file.jurisdiction.span().start,
                "jurisdiction is empty".to_owned(),
            ));
        }
        let warning_percent = match &file.warning_percent {
            Some(percent) if !(1..=100).contains(percent.get_ref()) => {
                return Err(error_at(
                    percent.span().start,
                    format!("warning_percent {} must be in 1..=100", percent.get_ref()),
                ));
            }
            Some(percent) => Some(*percent.get_ref()),
            None => None,
        };
        let mut entries = BTreeMap::new();
        let all_grades = file
            .stages
            .into_iter()
            .map(|(stage, entry)| (None, stage, entry));
        let per_grade = file.grades.into_iter().flat_map(|(grade, stages)| {
            stages
                .into_iter()
                .map(move |(stage, entry)| (Some(grade), stage, entry))
        });
        for (grade, stage, entry) in all_grades.chain(per_grade) {
            let offset = entry.span().start;
            let line = ParsedFile::line_of(&line_starts, offset);
            let entry = entry.into_inner();
            let period: Period = entry
                .period
                .parse()
                .map_err(|error| error_at(offset, format!("{stage}: {error}")))?;
            let mut total = period;
            let mut extensions = Vec::with_capacity(entry.extensions.len());
            for text in &entry.extensions {
                let extension: Period = text
                    .parse()
                    .map_err(|error| error_at(offset, format!("{stage} extension: {error}")))?;
                total = total.checked_add(extension).ok_or_else(|| {
                    error_at(offset, format!("{stage}: extension {extension} cannot be added to {total} (different unit or too long)"))
                })?;
                extensions.push(extension);
            }
            if let Some(percent) = entry
                .warning_percent
                .filter(|percent| !(1..=100).contains(percent))
            {
                return Err(error_at(
                    offset,
                    format!("{stage}: warning_percent {percent} must be in 1..=100"),
                ));
            }
            entries.insert(
                (grade, stage),
                RuleEntry {
                    period,
                    extensions,
                    basis: entry.basis,
                    warning_percent: entry.warning_percent,
                    defined_at: format!("{source}:{line}"),
                },
            );
        }
        Ok(ParsedFile {
            source: source.to_owned(),
            jurisdiction,
            jurisdiction_offset: file.jurisdiction.span().start,
            institution: file
                .institution
                .map(|name| (name.get_ref().trim().to_owned(), name.span().start)),
            name: file.name,
            calendar: file.calendar.map(|calendar| {
                (
                    calendar.get_ref().trim().to_owned(),
                    ParsedFile::line_of(&line_starts, calendar.span().start),
                )
            }),
            warning_percent,
            entries,
            text_lines: line_starts,
        })
    }

    fn into_base(self) -> Result<RulePack, RuleError> {
        let Some((calendar, calendar_line)) = self.calendar.clone() else {
            return Err(self.error(
                self.jurisdiction_offset,
                "a rule pack needs `calendar = \"<calendar id>\"`",
            ));
        };
        Ok(RulePack {
            jurisdiction: self.jurisdiction,
            institution: None,
            name: self.name,
            calendar,
            calendar_defined_at: (self.source.clone(), calendar_line),
            warning_percent: self.warning_percent.unwrap_or(DEFAULT_WARNING_PERCENT),
            source: self.source,
            entries: self.entries,
        })
    }
}

/// All rule packs and institution overrides of an installation.
#[derive(Debug, Clone, Default)]
pub struct RuleBook {
    packs: BTreeMap<String, RulePack>,
    /// Keyed by (jurisdiction, institution); already merged onto the base pack.
    amended: BTreeMap<(String, String), RulePack>,
}

impl RuleBook {
    /// Loads every `*.toml` in `dir` (not recursive): base packs and institution overrides.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<RuleBook, RuleError> {
        let dir = dir.as_ref();
        let io_error = |source| RuleError::Io {
            path: dir.to_owned(),
            source,
        };
        let paths = super::load::toml_files(dir).map_err(io_error)?;
        let mut sources = Vec::with_capacity(paths.len());
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| RuleError::Io {
                path: path.clone(),
                source,
            })?;
            sources.push((path.display().to_string(), text));
        }
        RuleBook::from_sources(
            sources
                .iter()
                .map(|(source, text)| (source.as_str(), text.as_str())),
        )
    }

    /// Builds the book from `(source name, text)` pairs. Pure.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<RuleBook, RuleError> {
        let mut book = RuleBook::default();
        let mut overrides = Vec::new();
        for (source, text) in sources {
            let parsed = ParsedFile::parse(source, text)?;
            if parsed.institution.is_some() {
                overrides.push(parsed);
                continue;
            }
            if let Some(existing) = book.packs.get(&parsed.jurisdiction) {
                return Err(parsed.error(
                    parsed.jurisdiction_offset,
                    format!(
                        "jurisdiction {:?} is already defined by {}",
                        parsed.jurisdiction, existing.source
                    ),
                ));
            }
            let pack = parsed.into_base()?;
            book.packs.insert(pack.jurisdiction.clone(), pack);
        }
        for amendment in overrides {
            let Some((institution, offset)) = amendment.institution.clone() else {
                continue;
            };
            let Some(base) = book.packs.get(&amendment.jurisdiction) else {
                return Err(amendment.error(
                    amendment.jurisdiction_offset,
                    format!(
                        "override for unknown jurisdiction {:?}",
                        amendment.jurisdiction
                    ),
                ));
            };
            let key = (amendment.jurisdiction.clone(), institution.clone());
            if let Some(existing) = book.amended.get(&key) {
                return Err(amendment.error(
                    offset,
                    format!(
                        "institution {institution:?} already overrides {:?} in {}",
                        key.0, existing.source
                    ),
                ));
            }
            let pack = base.amended(amendment);
            book.amended.insert(key, pack);
        }
        Ok(book)
    }

    /// The pack for `jurisdiction`, as amended for `institution` when it has an override (an
    /// institution without one uses the jurisdiction's pack).
    pub fn pack(
        &self,
        jurisdiction: &str,
        institution: Option<&str>,
    ) -> Result<&RulePack, RuleError> {
        if let Some(institution) = institution {
            if let Some(pack) = self
                .amended
                .get(&(jurisdiction.to_owned(), institution.to_owned()))
            {
                return Ok(pack);
            }
        }
        self.packs
            .get(jurisdiction)
            .ok_or_else(|| RuleError::UnknownJurisdiction(jurisdiction.to_owned()))
    }

    /// `(jurisdiction, institution, grade, stage) -> ClockRule`.
    pub fn rule(
        &self,
        jurisdiction: &str,
        institution: Option<&str>,
        grade: Grade,
        stage: ClockKind,
    ) -> Result<ClockRule, RuleError> {
        self.pack(jurisdiction, institution)?.rule(grade, stage)
    }

    pub fn jurisdictions(&self) -> impl Iterator<Item = &str> {
        self.packs.keys().map(String::as_str)
    }

    /// Fails, naming file and line, when a pack or override refers to a calendar not in `calendars`.
    pub fn check_calendars(&self, calendars: &CalendarSet) -> Result<(), RuleError> {
        for pack in self.packs.values().chain(self.amended.values()) {
            if calendars.get(&pack.calendar).is_err() {
                let (file, line) = pack.calendar_defined_at.clone();
                return Err(RuleError::Data {
                    file,
                    line,
                    message: format!("unknown calendar {:?}", pack.calendar),
                });
            }
        }
        Ok(())
    }
}
