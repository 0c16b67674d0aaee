//! The clock scheduler: like the outbox relay, a task in every service that owns clocks. It
//! reads only the clocks whose next instant has come (`clocks_next_fire` index), and for each,
//! in one transaction per batch:
//!
//! - warning point passed → `clock_warning` (the owner, else the department's heads, are told);
//! - due instant passed → `clock_breached`, escalated to the owner's manager and the
//!   department's heads and supervisors from the org directory;
//! - a window (objection, review) ran out → `expired`, and the service's [`DueAction`] applies
//!   what that means (silence as acceptance) in the same transaction.
//!
//! Each row is written back guarded by its version, and its events are written to the outbox in
//! the same transaction: a fire happens exactly once however many replicas run and whenever a
//! process dies (a crash before commit fires again after restart; a replica that lost the race
//! finds the version moved and emits nothing).
//!
//! When idle it asks the index for the earliest next instant and sleeps until then (at most
//! `clocks.poll_ms`): its cost follows the clocks falling due, not the clocks open. Every
//! `clocks.reload_seconds` it also reloads changed calendars and rule packs and recomputes the
//! open clocks on them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use complaints_domain::events::{ClockBreached, ClockWarning, ClocksChanged, LifecycleEvent};
use complaints_domain::org::OrgDirectory;
use complaints_domain::{ClockState, StaffId};
use sqlx::AnyPool;
use tokio_util::sync::CancellationToken;

use crate::access::Access;
use crate::metrics::FiredLabel;
use crate::clocks::{self, ClockBook, StoredClock};
use crate::outbox::{self, RelayHandle, Subject};
use crate::store::{StoreError, Tx};
use crate::time::TimeSource;

/// What a service does, inside the firing transaction, when one of its windows runs out.
pub trait DueAction: Send + Sync + 'static {
    fn expired<'a>(&'a self, tx: &'a mut Tx, clock: &'a StoredClock) -> impl Future<Output = Result<(), StoreError>> + Send + 'a;
}

/// For services whose clocks are all obligations (no windows).
pub struct NoWindows;

impl DueAction for NoWindows {
    async fn expired<'a>(&'a self, _tx: &'a mut Tx, clock: &'a StoredClock) -> Result<(), StoreError> {
        tracing::warn!(clock = %clock.clock_id, "a window clock expired in a service that has no action for it");
        Ok(())
    }
}

/// The scheduler of one service.
pub struct Scheduler<A> {
    pub producer: &'static str,
    pub pool: AnyPool,
    pub book: Arc<ClockBook>,
    pub time: TimeSource,
    pub access: Access,
    pub relay: RelayHandle,
    pub action: A,
}

/// What one pass fired.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    pub warnings: usize,
    pub breaches: usize,
    pub expired: usize,
    /// Clocks another replica (or a concurrent command) changed first: skipped.
    pub skipped: usize,
    /// Rows read.
    pub due: usize,
}

/// Who is told of a warning: the owner, else the heads of the clock's department.
fn warning_recipients(org: &OrgDirectory, clock: &StoredClock) -> Vec<StaffId> {
    match &clock.owner {
        Some(owner) => vec![owner.clone()],
        None => department_heads(org, clock.department.as_deref(), None),
    }
}

/// Whom a breach escalates to: the owner's line manager and the department's heads and
/// supervisors (never the owner); the head office's heads when the directory names nobody.
fn escalation(org: &OrgDirectory, clock: &StoredClock) -> Vec<StaffId> {
    let owner = clock.owner.as_ref().and_then(|owner| org.staff(owner.as_str()));
    let department = clock.department.as_deref().or(owner.map(|staff| staff.department.as_str()));
    let mut to: Vec<StaffId> = owner
        .and_then(|staff| staff.manager.as_deref())
        .and_then(|manager| StaffId::parse("manager", manager).ok())
        .into_iter()
        .collect();
    for id in department_heads(org, department, clock.owner.as_ref()) {
        if !to.contains(&id) {
            to.push(id);
        }
    }
    if to.is_empty() {
        to = department_heads(org, Some("head_office"), clock.owner.as_ref());
    }
    to
}

fn department_heads(org: &OrgDirectory, department: Option<&str>, except: Option<&StaffId>) -> Vec<StaffId> {
    let Some(department) = department else { return Vec::new() };
    let mut heads = Vec::new();
    for role in ["department_head", "supervisor"] {
        for staff in org.with_role(Some(department), role) {
            if except.is_some_and(|except| except.as_str() == staff.id) {
                continue;
            }
            if let Ok(id) = StaffId::parse("staff", &staff.id) {
                if !heads.contains(&id) {
                    heads.push(id);
                }
            }
        }
    }
    heads
}

/// What firing one clock at `now_ms` does: its new state and the events it causes.
struct Fire {
    clock: StoredClock,
    events: Vec<LifecycleEvent>,
    expired: bool,
}

fn plan(org: &OrgDirectory, mut clock: StoredClock, now_ms: i64) -> Result<Fire, StoreError> {
    let mut events = Vec::new();
    let mut expired = false;
    if clock.kind.is_window() {
        if clock.due_at_ms <= now_ms {
            let due = chrono::DateTime::from_timestamp_millis(clock.due_at_ms).unwrap_or_default();
            clock.clock.stop(due).map_err(|error| StoreError::Clock(error.to_string()))?;
            clock.ended_at_ms = Some(clock.due_at_ms);
            clock.state = ClockState::Expired;
            expired = true;
        }
    } else {
        if clock.warned_at_ms.is_none() && clock.breached_at_ms.is_none() && clock.warning_at_ms.is_some_and(|at| at <= now_ms) {
            clock.warned_at_ms = clock.warning_at_ms;
            clock.state = ClockState::Warned;
            events.push(LifecycleEvent::ClockWarning(ClockWarning { clock: clock.snapshot(), notify: warning_recipients(org, &clock) }));
        }
        if clock.breached_at_ms.is_none() && clock.due_at_ms <= now_ms {
            clock.breached_at_ms = Some(clock.due_at_ms);
            clock.state = ClockState::Breached;
            events.push(LifecycleEvent::ClockBreached(ClockBreached { clock: clock.snapshot(), escalated_to: escalation(org, &clock) }));
        }
    }
    clock.next_fire_at_ms = if clock.ended_at_ms.is_some() || clock.breached_at_ms.is_some() {
        None
    } else if clock.warned_at_ms.is_some() || clock.kind.is_window() {
        Some(clock.due_at_ms)
    } else {
        clock.warning_at_ms.map(|warning| warning.min(clock.due_at_ms))
    };
    Ok(Fire { clock, events, expired })
}

impl<A: DueAction> Scheduler<A> {
    /// Fires what is due at `now_ms`, one batch in one transaction. Looking costs one index
    /// read outside any transaction; each row is then rewritten guarded by its version, so a row
    /// another replica fired in between is skipped.
    pub async fn fire_due(&self, now_ms: i64) -> Result<Fired, StoreError> {
        let batch = i64::try_from(self.book.config().batch.max(1)).unwrap_or(500);
        let rows = sqlx::query(&format!(
            "SELECT {} FROM clocks WHERE next_fire_at_ms IS NOT NULL AND next_fire_at_ms <= $1 \
             ORDER BY next_fire_at_ms, clock_id LIMIT $2",
            clocks::COLUMNS
        ))
        .bind(now_ms)
        .bind(batch)
        .fetch_all(&self.pool)
        .await?;
        let mut fired = Fired { due: rows.len(), ..Fired::default() };
        if rows.is_empty() {
            return Ok(fired);
        }
        let org = self.access.org();
        let mut planned = Vec::with_capacity(rows.len());
        for row in &rows {
            planned.push(plan(org, StoredClock::from_row(row)?, now_ms)?);
        }
        let mut tx = self.pool.begin().await?;
        let mut changed: Vec<StoredClock> = planned.iter().map(|fire| fire.clock.clone()).collect();
        let saved = clocks::save_fired(&mut tx, &mut changed).await?;
        let mut out = Vec::with_capacity(planned.len() * 2);
        let mut counted = Vec::new();
        for (fire, clock) in planned.into_iter().zip(changed) {
            if !saved.contains(&clock.clock_id) {
                // Another replica (or a command) changed it first.
                fired.skipped += 1;
                continue;
            }
            let subject = Subject::new(&clock.complaint_id, &clock.complaint_number).in_trace(&clock.traceparent);
            for event in fire.events {
                match &event {
                    LifecycleEvent::ClockWarning(_) => {
                        fired.warnings += 1;
                        counted.push(("warning", clock.kind));
                    }
                    _ => {
                        fired.breaches += 1;
                        counted.push(("breach", clock.kind));
                    }
                }
                out.push(outbox::Row::new(self.producer, subject.clone(), event)?);
            }
            if fire.expired {
                fired.expired += 1;
                counted.push(("expired", clock.kind));
                let ended = LifecycleEvent::ClocksChanged(ClocksChanged { clocks: vec![clock.snapshot()] });
                out.push(outbox::Row::new(self.producer, subject, ended)?);
                // The action's own events (e.g. the acceptance) follow the window's end.
                outbox::enqueue_rows(&mut tx, &std::mem::take(&mut out)).await?;
                self.action.expired(&mut tx, &clock).await?;
            }
        }
        outbox::enqueue_rows(&mut tx, &out).await?;
        tx.commit().await?;
        if fired.warnings + fired.breaches + fired.expired > 0 {
            self.relay.notify();
        }
        if let Some(metrics) = self.book.metrics() {
            for (event, kind) in counted {
                metrics.clocks_fired.get_or_create(&FiredLabel { event: event.to_owned(), kind: kind.as_str().to_owned() }).inc();
            }
        }
        Ok(fired)
    }

    /// The earliest instant any clock must be acted on.
    pub async fn next_fire_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT MIN(next_fire_at_ms) FROM clocks WHERE next_fire_at_ms IS NOT NULL")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Runs until `token` is cancelled.
    pub async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        let poll = Duration::from_millis(self.book.config().poll_ms.max(10));
        let reload_every = Duration::from_secs(self.book.config().reload_seconds.max(1));
        let mut last_reload = tokio::time::Instant::now();
        loop {
            if token.is_cancelled() {
                return Ok(());
            }
            let now = self.time.now_ms();
            let mut sleep = poll;
            match self.fire_due(now).await {
                Ok(fired) if fired.due >= self.book.config().batch.max(1) => continue,
                Ok(fired) => {
                    if fired.due > 0 {
                        tracing::info!(?fired, "clocks fired");
                    }
                    if let Ok(Some(next)) = self.next_fire_at().await {
                        let until = u64::try_from(next - self.time.now_ms()).unwrap_or(0);
                        sleep = sleep.min(Duration::from_millis(until));
                    }
                }
                Err(error) => tracing::warn!(%error, "clock scheduler pass failed; retrying"),
            }
            if last_reload.elapsed() >= reload_every {
                last_reload = tokio::time::Instant::now();
                self.book.refresh_coverage_metrics();
                if self.book.reload_if_changed() {
                    match clocks::recompute_open(&self.pool, &self.book, self.producer, 500).await {
                        Ok(moved) => tracing::info!(moved, "open clocks recomputed on the reloaded calendars"),
                        Err(error) => tracing::error!(%error, "open clocks could not be recomputed"),
                    }
                    self.relay.notify();
                }
            }
            tokio::select! {
                _ = token.cancelled() => return Ok(()),
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }
}
