//! Durable clocks: the SLA clocks a service owns, kept in its store (`clocks` table) and moved
//! by its lifecycle events inside the transactions that apply them. The arithmetic is the
//! calendar crate's [`Clock`]; this module stores it, keeps the due and warning instants and the
//! next instant the scheduler must act ([`crate::scheduler`]), and reports every change as a
//! [`ClockSnapshot`] for the `clocks_changed` event.
//!
//! A clock is identified by complaint, kind and round: starting a kind again (a second
//! investigation after an objection, an approval per proposal) cancels the open round and opens
//! the next.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};
use complaints_calendar::{CalendarSet, Clock, ClockStatus, Period, RuleBook};
use complaints_domain::events::{ClocksChanged, LifecycleEvent};
use complaints_domain::{ClockKind, ClockSnapshot, ClockState, ComplaintId, ComplaintNumber, Grade, StaffId};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::config::ClockConfig;
use crate::metrics::Metrics;
use crate::outbox::{self, Subject};
use crate::store::{json_column, to_json, value_rows, StoreError, Tx, ROWS_PER_STATEMENT};

/// Calendars and rule packs as currently loaded.
pub struct Rules {
    pub calendars: CalendarSet,
    pub book: RuleBook,
}

/// The calendars and rule packs a service's clocks run on, reloadable without a restart.
pub struct ClockBook {
    config: ClockConfig,
    metrics: Option<Metrics>,
    current: RwLock<Arc<Rules>>,
    fingerprint: Mutex<Vec<(PathBuf, Option<SystemTime>, u64)>>,
}

fn clock_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Clock(error.to_string())
}

/// Files of `dir` with their modification time and size: a change of any is a reload.
fn fingerprint(dirs: &[&Path]) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let mut files = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        for entry in entries.flatten() {
            let metadata = entry.metadata().ok();
            files.push((
                entry.path(),
                metadata.as_ref().and_then(|m| m.modified().ok()),
                metadata.as_ref().map_or(0, std::fs::Metadata::len),
            ));
        }
    }
    files.sort();
    files
}

fn load_rules(config: &ClockConfig) -> anyhow::Result<Rules> {
    let calendars = CalendarSet::load_dir(&config.calendars_dir)?;
    let book = RuleBook::load_dir(&config.rule_packs_dir)?;
    book.check_calendars(&calendars)?;
    Ok(Rules { calendars, book })
}

impl ClockBook {
    /// Loads the calendars and rule packs named in `config`; fails on any invalid file.
    pub fn load(config: &ClockConfig, metrics: Option<Metrics>) -> anyhow::Result<Arc<Self>> {
        let rules = load_rules(config)?;
        let book = Self {
            config: config.clone(),
            metrics,
            current: RwLock::new(Arc::new(rules)),
            fingerprint: Mutex::new(fingerprint(&[&config.calendars_dir, &config.rule_packs_dir])),
        };
        book.warn_coverage(Utc::now().date_naive());
        Ok(Arc::new(book))
    }

    pub fn config(&self) -> &ClockConfig {
        &self.config
    }

    /// The calendars and rules in force.
    pub fn rules(&self) -> Arc<Rules> {
        self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Whether a rule pack exists for `jurisdiction`.
    pub fn knows(&self, jurisdiction: &str) -> bool {
        self.rules().book.pack(jurisdiction, self.config.institution.as_deref()).is_ok()
    }

    /// Whether the pack of `jurisdiction` runs a clock of `kind` (for any grade).
    pub fn has_rule(&self, jurisdiction: &str, kind: ClockKind) -> bool {
        let rules = self.rules();
        [Grade::Green, Grade::Yellow, Grade::Red]
            .into_iter()
            .any(|grade| rules.book.rule(jurisdiction, self.config.institution.as_deref(), grade, kind).is_ok())
    }

    /// Whether the rule for `kind` allows another extension after `used` ones.
    pub fn extension_available(&self, jurisdiction: &str, grade: Grade, kind: ClockKind, used: usize) -> bool {
        self.rules()
            .book
            .rule(jurisdiction, self.config.institution.as_deref(), grade, kind)
            .is_ok_and(|rule| rule.extensions.len() > used)
    }

    /// Logs a warning for every calendar whose data ends within the configured days; returns
    /// them (calendar id, last covered date).
    pub fn warn_coverage(&self, today: chrono::NaiveDate) -> Vec<(String, chrono::NaiveDate)> {
        let rules = self.rules();
        self.update_coverage_metrics(&rules, today);
        let ending: Vec<(String, chrono::NaiveDate)> = rules
            .calendars
            .ending_within(today, self.config.coverage_warning_days)
            .into_iter()
            .map(|(id, last)| (id.to_owned(), last))
            .collect();
        for (id, last) in &ending {
            tracing::warn!(
                calendar = %id,
                last_covered = %last,
                "calendar data ends within {} days: add the next year's file to {}; clocks past {last} are provisional (weekly rest days only)",
                self.config.coverage_warning_days,
                self.config.calendars_dir.display()
            );
        }
        ending
    }

    /// Sets the coverage gauges: days left per calendar, and whether it is within the warning.
    fn update_coverage_metrics(&self, rules: &Rules, today: chrono::NaiveDate) {
        let Some(metrics) = &self.metrics else { return };
        for id in rules.calendars.ids() {
            let Ok(calendar) = rules.calendars.get(id) else { continue };
            let days_left = (calendar.coverage().1 - today).num_days();
            let label = crate::metrics::CalendarLabel { calendar: id.to_owned() };
            metrics.calendar_days_left.get_or_create(&label).set(days_left);
            metrics.calendar_coverage_ending.get_or_create(&label).set(i64::from(days_left < self.config.coverage_warning_days));
        }
    }

    /// Refreshes the coverage gauges for today (days pass without any reload).
    pub fn refresh_coverage_metrics(&self) {
        self.update_coverage_metrics(&self.rules(), Utc::now().date_naive());
    }

    /// The service's metrics, if it has them.
    pub fn metrics(&self) -> Option<&Metrics> {
        self.metrics.as_ref()
    }

    /// Reloads when a calendar or rule file changed. Returns whether it did; an invalid file
    /// keeps the rules in force and is logged.
    pub fn reload_if_changed(&self) -> bool {
        let now = fingerprint(&[&self.config.calendars_dir, &self.config.rule_packs_dir]);
        {
            let mut last = self.fingerprint.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if *last == now {
                return false;
            }
            *last = now;
        }
        match load_rules(&self.config) {
            Ok(rules) => {
                *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(rules);
                tracing::info!("calendars and rule packs reloaded");
                self.warn_coverage(Utc::now().date_naive());
                true
            }
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "calendar or rule files changed but do not load; the previous ones stay in force");
                false
            }
        }
    }
}

/// What a service asks for when it starts a clock.
pub struct StartClock<'a> {
    pub complaint_id: &'a ComplaintId,
    pub complaint_number: &'a ComplaintNumber,
    pub kind: ClockKind,
    pub jurisdiction: &'a str,
    /// Selects per-grade rules; kinds that do not depend on the grade ignore it.
    pub grade: Grade,
    pub owner: Option<&'a StaffId>,
    pub department: Option<&'a str>,
    pub at_ms: i64,
    /// The complaint's trace, carried on the warning and breach events.
    pub traceparent: &'a str,
}

/// How a clock ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The obligation was fulfilled: met, or breached when late.
    Completed,
    /// Ended without judgement (superseded, withdrawn, the complaint closed first).
    Cancelled,
    /// A window ran out.
    Expired,
}

/// One stored clock.
#[derive(Debug, Clone)]
pub struct StoredClock {
    pub clock_id: String,
    pub complaint_id: ComplaintId,
    pub complaint_number: ComplaintNumber,
    pub kind: ClockKind,
    pub round: u32,
    pub jurisdiction: String,
    pub grade: Grade,
    pub owner: Option<StaffId>,
    pub department: Option<String>,
    pub basis: String,
    pub clock: Clock,
    pub state: ClockState,
    pub due_at_ms: i64,
    pub due_local: String,
    pub warning_at_ms: Option<i64>,
    pub provisional: bool,
    pub warned_at_ms: Option<i64>,
    pub breached_at_ms: Option<i64>,
    pub ended_at_ms: Option<i64>,
    pub next_fire_at_ms: Option<i64>,
    pub version: i64,
    pub traceparent: String,
}

pub(crate) const COLUMNS: &str = "clock_id, complaint_id, complaint_number, kind, round, jurisdiction, grade, owner_id, department, basis, clock, \
     state, due_at_ms, due_local, warning_at_ms, provisional, warned_at_ms, breached_at_ms, ended_at_ms, next_fire_at_ms, version, traceparent";

fn corrupt(column: &'static str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt { table: "clocks", column, detail: detail.into() }
}

impl StoredClock {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        let text = |column: &'static str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(column)?) };
        let kind = text("kind")?;
        let state = text("state")?;
        let owner: Option<String> = row.try_get("owner_id")?;
        let grade = text("grade")?;
        Ok(Self {
            clock_id: text("clock_id")?,
            complaint_id: ComplaintId::parse("complaint_id", &text("complaint_id")?).map_err(|e| corrupt("complaint_id", e.to_string()))?,
            complaint_number: ComplaintNumber::parse("complaint_number", &text("complaint_number")?)
                .map_err(|e| corrupt("complaint_number", e.to_string()))?,
            kind: ClockKind::parse(&kind).ok_or_else(|| corrupt("kind", kind.clone()))?,
            round: u32::try_from(row.try_get::<i64, _>("round")?).map_err(|e| corrupt("round", e.to_string()))?,
            jurisdiction: text("jurisdiction")?,
            grade: Grade::parse(&grade).ok_or_else(|| corrupt("grade", grade.clone()))?,
            owner: owner.map(|id| StaffId::parse("owner_id", &id).map_err(|e| corrupt("owner_id", e.to_string()))).transpose()?,
            department: row.try_get("department")?,
            basis: text("basis")?,
            clock: json_column(row, "clocks", "clock")?,
            state: ClockState::parse(&state).ok_or_else(|| corrupt("state", state.clone()))?,
            due_at_ms: row.try_get("due_at_ms")?,
            due_local: text("due_local")?,
            warning_at_ms: row.try_get("warning_at_ms")?,
            provisional: row.try_get::<i64, _>("provisional")? != 0,
            warned_at_ms: row.try_get("warned_at_ms")?,
            breached_at_ms: row.try_get("breached_at_ms")?,
            ended_at_ms: row.try_get("ended_at_ms")?,
            next_fire_at_ms: row.try_get("next_fire_at_ms")?,
            version: row.try_get("version")?,
            traceparent: text("traceparent")?,
        })
    }

    /// The clock as carried on events and shown to staff.
    pub fn snapshot(&self) -> ClockSnapshot {
        ClockSnapshot {
            kind: self.kind,
            round: self.round,
            state: self.state,
            jurisdiction: self.jurisdiction.clone(),
            calendar: self.clock.calendar_id().to_owned(),
            period: self.clock.period().to_string(),
            started_at_ms: self.clock.started_at().timestamp_millis(),
            due_at_ms: self.due_at_ms,
            due_local: self.due_local.clone(),
            warning_at_ms: self.warning_at_ms,
            provisional: self.provisional,
            owner: self.owner.clone(),
            ended_at_ms: self.ended_at_ms,
            warned_at_ms: self.warned_at_ms,
            breached_at_ms: self.breached_at_ms,
            extensions: u32::try_from(self.clock.extensions().len()).unwrap_or(u32::MAX),
            basis: self.basis.clone(),
        }
    }

    /// Recomputes due and warning instants from the clock's facts on the calendars in force,
    /// and from them the state and the next instant to act. `at_ms` is the instant of the change.
    fn recompute(&mut self, calendars: &CalendarSet, at_ms: i64) -> Result<(), StoreError> {
        let at = instant(at_ms);
        let status: ClockStatus = self.clock.status_in(calendars, at).map_err(clock_error)?;
        self.due_at_ms = status.deadline.at.timestamp_millis();
        self.due_local = status.deadline.local().to_rfc3339_opts(SecondsFormat::Secs, false);
        self.warning_at_ms = (!self.kind.is_window()).then(|| status.warning_at.timestamp_millis());
        self.provisional = status.calendar_provisional;
        let paused = self.clock.paused_since().is_some();
        self.next_fire_at_ms = if self.ended_at_ms.is_some() || paused {
            None
        } else if self.kind.is_window() {
            Some(self.due_at_ms)
        } else if self.warned_at_ms.is_none() && self.breached_at_ms.is_none() {
            self.warning_at_ms.map(|warning| warning.min(self.due_at_ms))
        } else if self.breached_at_ms.is_none() {
            Some(self.due_at_ms)
        } else {
            None
        };
        if self.ended_at_ms.is_none() {
            self.state = if self.breached_at_ms.is_some() {
                ClockState::Breached
            } else if paused {
                ClockState::Paused
            } else if self.warned_at_ms.is_some() {
                ClockState::Warned
            } else {
                ClockState::Running
            };
        }
        Ok(())
    }
}

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Inserts new clocks, all in one statement.
async fn insert(tx: &mut Tx, clocks: &[StoredClock]) -> Result<(), StoreError> {
    if clocks.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO clocks (clock_id, complaint_id, complaint_number, kind, round, jurisdiction, calendar, owner_id, department, basis, \
         clock, state, due_at_ms, due_local, warning_at_ms, provisional, warned_at_ms, breached_at_ms, ended_at_ms, next_fire_at_ms, \
         version, traceparent, updated_at_ms, grade) VALUES {}",
        value_rows(clocks.len(), 24, 1)
    );
    let now = crate::now_ms();
    let mut query = sqlx::query(&sql);
    for clock in clocks {
        query = query
            .bind(clock.clock_id.clone())
            .bind(clock.complaint_id.as_str().to_owned())
            .bind(clock.complaint_number.as_str().to_owned())
            .bind(clock.kind.as_str())
            .bind(i64::from(clock.round))
            .bind(clock.jurisdiction.clone())
            .bind(clock.clock.calendar_id().to_owned())
            .bind(clock.owner.as_ref().map(|owner| owner.as_str().to_owned()))
            .bind(clock.department.clone())
            .bind(clock.basis.clone())
            .bind(to_json(&clock.clock)?)
            .bind(clock.state.as_str())
            .bind(clock.due_at_ms)
            .bind(clock.due_local.clone())
            .bind(clock.warning_at_ms)
            .bind(i64::from(clock.provisional))
            .bind(clock.warned_at_ms)
            .bind(clock.breached_at_ms)
            .bind(clock.ended_at_ms)
            .bind(clock.next_fire_at_ms)
            .bind(clock.version)
            .bind(clock.traceparent.clone())
            .bind(now)
            .bind(clock.grade.as_str());
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Writes `clock` back if nobody changed it since it was read (`version`); `Conflict` otherwise.
pub(crate) async fn save(tx: &mut Tx, clock: &mut StoredClock) -> Result<(), StoreError> {
    let result = sqlx::query(
        "UPDATE clocks SET clock = $1, state = $2, due_at_ms = $3, due_local = $4, warning_at_ms = $5, provisional = $6, \
         warned_at_ms = $7, breached_at_ms = $8, ended_at_ms = $9, next_fire_at_ms = $10, version = version + 1, updated_at_ms = $11 \
         WHERE clock_id = $12 AND version = $13",
    )
    .bind(to_json(&clock.clock)?)
    .bind(clock.state.as_str())
    .bind(clock.due_at_ms)
    .bind(&clock.due_local)
    .bind(clock.warning_at_ms)
    .bind(i64::from(clock.provisional))
    .bind(clock.warned_at_ms)
    .bind(clock.breached_at_ms)
    .bind(clock.ended_at_ms)
    .bind(clock.next_fire_at_ms)
    .bind(crate::now_ms())
    .bind(&clock.clock_id)
    .bind(clock.version)
    .execute(&mut **tx)
    .await?;
    crate::store::expect_one_row(&result)?;
    clock.version += 1;
    Ok(())
}

/// Writes back what the scheduler fired, many clocks a statement, each guarded by the version
/// it was read at; returns the ids written (a clock changed meanwhile is left out, unchanged).
pub(crate) async fn save_fired(tx: &mut Tx, clocks: &mut [StoredClock]) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut saved = std::collections::HashSet::with_capacity(clocks.len());
    let now = crate::now_ms();
    for chunk in clocks.chunks_mut(ROWS_PER_STATEMENT) {
        // $1 is the time of the update; VALUES columns are column1 … column8 on both SQLite and PostgreSQL.
        let sql = format!(
            "UPDATE clocks SET clock = v.column2, state = v.column3, warned_at_ms = v.column4, breached_at_ms = v.column5, \
             ended_at_ms = v.column6, next_fire_at_ms = v.column7, version = clocks.version + 1, updated_at_ms = $1 \
             FROM (VALUES {}) AS v WHERE clocks.clock_id = v.column1 AND clocks.version = v.column8 RETURNING clocks.clock_id",
            value_rows(chunk.len(), 8, 2)
        );
        let mut query = sqlx::query(&sql).bind(now);
        for clock in chunk.iter() {
            query = query
                .bind(clock.clock_id.clone())
                .bind(to_json(&clock.clock)?)
                .bind(clock.state.as_str())
                .bind(clock.warned_at_ms)
                .bind(clock.breached_at_ms)
                .bind(clock.ended_at_ms)
                .bind(clock.next_fire_at_ms)
                .bind(clock.version);
        }
        for row in query.fetch_all(&mut **tx).await? {
            saved.insert(row.try_get::<String, _>(0)?);
        }
        for clock in chunk.iter_mut().filter(|clock| saved.contains(&clock.clock_id)) {
            clock.version += 1;
        }
    }
    Ok(saved)
}

/// The open clock of `kind` on a complaint, if any.
pub async fn open_clock(tx: &mut Tx, complaint_id: &ComplaintId, kind: ClockKind) -> Result<Option<StoredClock>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM clocks WHERE complaint_id = $1 AND kind = $2 AND ended_at_ms IS NULL ORDER BY round DESC LIMIT 1"
    ))
    .bind(complaint_id.as_str())
    .bind(kind.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(StoredClock::from_row).transpose()
}

/// A new clock for `spec` in `round`, computed by its rule on the calendars in force.
fn build(book: &ClockBook, rules: &Rules, spec: &StartClock<'_>, round: u32) -> Result<StoredClock, StoreError> {
    let rule = rules
        .book
        .rule(spec.jurisdiction, book.config.institution.as_deref(), spec.grade, spec.kind)
        .map_err(clock_error)?;
    let calendar = rules.calendars.get(&rule.calendar).map_err(clock_error)?;
    let clock = rule.start_clock(calendar, instant(spec.at_ms)).map_err(clock_error)?;
    let mut stored = StoredClock {
        clock_id: format!("{}/{}/{round}", spec.complaint_id, spec.kind),
        complaint_id: spec.complaint_id.clone(),
        complaint_number: spec.complaint_number.clone(),
        kind: spec.kind,
        round,
        jurisdiction: spec.jurisdiction.to_owned(),
        grade: spec.grade,
        owner: spec.owner.cloned(),
        department: spec.department.map(str::to_owned),
        basis: rule.basis.clone().unwrap_or_default(),
        clock,
        state: ClockState::Running,
        due_at_ms: 0,
        due_local: String::new(),
        warning_at_ms: None,
        provisional: false,
        warned_at_ms: None,
        breached_at_ms: None,
        ended_at_ms: None,
        next_fire_at_ms: None,
        version: 0,
        traceparent: spec.traceparent.to_owned(),
    };
    stored.recompute(&rules.calendars, spec.at_ms)?;
    Ok(stored)
}

/// Starts a clock by its rule (cancelling an open round of the same kind). Returns the snapshots
/// of what changed.
pub async fn start(tx: &mut Tx, book: &ClockBook, spec: StartClock<'_>) -> Result<Vec<ClockSnapshot>, StoreError> {
    let rules = book.rules();
    let latest = sqlx::query(&format!("SELECT {COLUMNS} FROM clocks WHERE complaint_id = $1 AND kind = $2 ORDER BY round DESC LIMIT 1"))
        .bind(spec.complaint_id.as_str())
        .bind(spec.kind.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(StoredClock::from_row)
        .transpose()?;
    let mut changed = Vec::new();
    let round = match latest {
        Some(previous) => {
            let round = previous.round.saturating_add(1);
            if previous.ended_at_ms.is_none() {
                changed.push(end_loaded(tx, book, previous, spec.at_ms, Ending::Cancelled).await?);
            }
            round
        }
        None => 1,
    };
    let stored = build(book, &rules, &spec, round)?;
    insert(tx, std::slice::from_ref(&stored)).await?;
    changed.push(stored.snapshot());
    Ok(changed)
}

/// Starts the first round of several clocks of a complaint that has none of these kinds yet
/// (a new complaint, a new case), in one statement.
pub async fn start_first(tx: &mut Tx, book: &ClockBook, specs: &[StartClock<'_>]) -> Result<Vec<ClockSnapshot>, StoreError> {
    let rules = book.rules();
    let clocks = specs.iter().map(|spec| build(book, &rules, spec, 1)).collect::<Result<Vec<_>, _>>()?;
    insert(tx, &clocks).await?;
    Ok(clocks.iter().map(StoredClock::snapshot).collect())
}

/// Ends the open clock of `kind`, if one is open. Completing after the due instant leaves it
/// `breached` (late); before, `met`.
pub async fn end(
    tx: &mut Tx,
    book: &ClockBook,
    complaint_id: &ComplaintId,
    kind: ClockKind,
    at_ms: i64,
    ending: Ending,
) -> Result<Option<ClockSnapshot>, StoreError> {
    let Some(clock) = open_clock(tx, complaint_id, kind).await? else { return Ok(None) };
    Ok(Some(end_loaded(tx, book, clock, at_ms, ending).await?))
}

async fn end_loaded(tx: &mut Tx, book: &ClockBook, mut clock: StoredClock, at_ms: i64, ending: Ending) -> Result<ClockSnapshot, StoreError> {
    // Events may carry instants a little before the clock's last fact (another service's
    // clock); an end never precedes the start.
    let at_ms = at_ms.max(clock.clock.started_at().timestamp_millis());
    let at = instant(at_ms);
    if clock.clock.stop(at).is_err() {
        // Out of order with a pause: end at the later fact.
        clock.clock.stop(instant(at_ms.max(clock.due_at_ms))).map_err(clock_error)?;
    }
    clock.recompute(&book.rules().calendars, at_ms)?;
    clock.ended_at_ms = Some(at_ms);
    clock.next_fire_at_ms = None;
    clock.state = match ending {
        Ending::Completed if clock.breached_at_ms.is_some() || at_ms > clock.due_at_ms => ClockState::Breached,
        Ending::Completed => ClockState::Met,
        Ending::Cancelled => ClockState::Cancelled,
        Ending::Expired => ClockState::Expired,
    };
    save(tx, &mut clock).await?;
    Ok(clock.snapshot())
}

/// Names the staff member and department now responsible for the open clocks of `kinds`, in
/// one statement.
pub async fn reassign(
    tx: &mut Tx,
    complaint_id: &ComplaintId,
    kinds: &[ClockKind],
    owner: &StaffId,
    department: &str,
) -> Result<Vec<ClockSnapshot>, StoreError> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 5)).collect();
    let sql = format!(
        "UPDATE clocks SET owner_id = $1, department = $2, version = version + 1, updated_at_ms = $3 \
         WHERE complaint_id = $4 AND ended_at_ms IS NULL AND kind IN ({}) RETURNING {COLUMNS}",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(owner.as_str()).bind(department).bind(crate::now_ms()).bind(complaint_id.as_str());
    for kind in kinds {
        query = query.bind(kind.as_str());
    }
    let rows = query.fetch_all(&mut **tx).await?;
    rows.iter().map(|row| StoredClock::from_row(row).map(|clock| clock.snapshot())).collect()
}

/// Cancels every open clock of a complaint (closed, withdrawn) but those of `keep`.
pub async fn cancel_all(
    tx: &mut Tx,
    book: &ClockBook,
    complaint_id: &ComplaintId,
    at_ms: i64,
    keep: &[ClockKind],
) -> Result<Vec<ClockSnapshot>, StoreError> {
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM clocks WHERE complaint_id = $1 AND ended_at_ms IS NULL")
        .bind(complaint_id.as_str())
        .fetch_all(&mut **tx)
        .await?;
    let mut changed = Vec::new();
    for kind in kinds.iter().filter_map(|kind| ClockKind::parse(kind)).filter(|kind| !keep.contains(kind)) {
        changed.extend(end(tx, book, complaint_id, kind, at_ms, Ending::Cancelled).await?);
    }
    Ok(changed)
}

/// Stops the clock (stop-clock) while waiting for an appraisal or the customer.
pub async fn pause(tx: &mut Tx, book: &ClockBook, complaint_id: &ComplaintId, kind: ClockKind, at_ms: i64) -> Result<Option<ClockSnapshot>, StoreError> {
    let Some(mut clock) = open_clock(tx, complaint_id, kind).await? else { return Ok(None) };
    clock.clock.pause(instant(at_ms)).map_err(clock_error)?;
    clock.recompute(&book.rules().calendars, at_ms)?;
    save(tx, &mut clock).await?;
    Ok(Some(clock.snapshot()))
}

/// Restarts a paused clock; the remaining time counts on from `at_ms`.
pub async fn resume(tx: &mut Tx, book: &ClockBook, complaint_id: &ComplaintId, kind: ClockKind, at_ms: i64) -> Result<Option<ClockSnapshot>, StoreError> {
    let Some(mut clock) = open_clock(tx, complaint_id, kind).await? else { return Ok(None) };
    clock.clock.resume(instant(at_ms)).map_err(clock_error)?;
    clock.recompute(&book.rules().calendars, at_ms)?;
    save(tx, &mut clock).await?;
    Ok(Some(clock.snapshot()))
}

/// Adds an approved extension: `by`, or the rule's next extension when `None`. A breach already
/// recorded stays recorded.
pub async fn extend(
    tx: &mut Tx,
    book: &ClockBook,
    complaint_id: &ComplaintId,
    kind: ClockKind,
    by: Option<Period>,
    at_ms: i64,
    reason: &str,
) -> Result<Option<ClockSnapshot>, StoreError> {
    let Some(mut clock) = open_clock(tx, complaint_id, kind).await? else { return Ok(None) };
    let by = match by {
        Some(by) => by,
        None => {
            let rule = book
                .rules()
                .book
                .rule(&clock.jurisdiction, book.config.institution.as_deref(), clock.grade, kind)
                .map_err(clock_error)?;
            *rule
                .extensions
                .get(clock.clock.extensions().len())
                .ok_or_else(|| StoreError::Clock(format!("the {kind} clock has no further extension in its rule pack")))?
        }
    };
    clock.clock.extend(by, instant(at_ms), reason).map_err(clock_error)?;
    clock.recompute(&book.rules().calendars, at_ms)?;
    save(tx, &mut clock).await?;
    Ok(Some(clock.snapshot()))
}

/// Every clock of a complaint, in start order.
pub async fn of_complaint(pool: &AnyPool, complaint_id: &ComplaintId) -> Result<Vec<ClockSnapshot>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM clocks WHERE complaint_id = $1 ORDER BY clock_id"))
        .bind(complaint_id.as_str())
        .fetch_all(pool)
        .await?;
    let mut clocks = rows.iter().map(StoredClock::from_row).collect::<Result<Vec<_>, _>>()?;
    clocks.sort_by_key(|clock| (clock.clock.started_at(), clock.kind, clock.round));
    Ok(clocks.iter().map(StoredClock::snapshot).collect())
}

/// Writes a `clocks_changed` event for `changed` (nothing when empty).
pub async fn announce(tx: &mut Tx, producer: &str, complaint: Subject<'_>, changed: Vec<ClockSnapshot>) -> Result<(), StoreError> {
    if changed.is_empty() {
        return Ok(());
    }
    outbox::enqueue(tx, producer, complaint, LifecycleEvent::ClocksChanged(ClocksChanged { clocks: changed })).await?;
    Ok(())
}

/// Reads the open clocks on the calendars in force again (after a calendar or rule change),
/// a page at a time; returns the clocks whose due instant moved, grouped per complaint.
pub async fn recompute_open(pool: &AnyPool, book: &ClockBook, producer: &str, page: usize) -> Result<usize, StoreError> {
    let rules = book.rules();
    let mut after = String::new();
    let mut moved = 0;
    loop {
        let mut tx = pool.begin().await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM clocks WHERE ended_at_ms IS NULL AND clock_id > $1 ORDER BY clock_id LIMIT $2"
        ))
        .bind(&after)
        .bind(i64::try_from(page).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("clock_id")?;
        let now = crate::now_ms();
        for row in &rows {
            let mut clock = StoredClock::from_row(row)?;
            let before = (clock.due_at_ms, clock.warning_at_ms, clock.provisional);
            clock.recompute(&rules.calendars, now)?;
            if before != (clock.due_at_ms, clock.warning_at_ms, clock.provisional) {
                save(&mut tx, &mut clock).await?;
                let subject = Subject::new(&clock.complaint_id, &clock.complaint_number).in_trace(&clock.traceparent);
                announce(&mut tx, producer, subject, vec![clock.snapshot()]).await?;
                moved += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(moved)
}

