//! Analytics' store: complaint summaries and the timeline.

use complaints_domain::{ClockKind, ClockSnapshot, ClockState, Stage, StaffId};
use complaints_plumbing::store::{expect_one_row, parsed_column, value_rows, StoreError, Tx};
use sqlx::{AnyPool, Row};

use crate::domain::Entry;

#[derive(Debug, Clone)]
pub struct TimelineRow {
    pub event_id: String,
    pub stage: String,
    pub occurred_at_ms: i64,
    pub actor: String,
    pub detail: String,
    pub producer: String,
    pub trace_id: String,
}

pub struct Recorded<'a> {
    pub event_id: &'a str,
    pub complaint_id: &'a str,
    pub complaint_number: &'a str,
    pub occurred_at_ms: i64,
    pub producer: &'a str,
    pub trace_id: &'a str,
}

/// Appends the event's timeline line, if it has one (once: the event id is the key), and makes
/// sure the complaint has a summary row.
pub async fn record(tx: &mut Tx, event: &Recorded<'_>, entry: Option<&Entry>) -> Result<(), StoreError> {
    if let Some(entry) = entry {
        timeline_line(tx, event, entry).await?;
    }
    sqlx::query(
        "INSERT INTO complaint_summaries (complaint_id, complaint_number, status, status_rank, status_at_ms, grade, channel) \
         VALUES ($1, $2, $3, $4, 0, '', '') ON CONFLICT (complaint_id) DO NOTHING",
    )
    .bind(event.complaint_id)
    .bind(event.complaint_number)
    .bind(Stage::Received.as_str())
    .bind(i64::from(Stage::Received.progress()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn timeline_line(tx: &mut Tx, event: &Recorded<'_>, entry: &Entry) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO timeline (event_id, complaint_id, stage, occurred_at_ms, actor, detail, producer, trace_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event.event_id)
    .bind(event.complaint_id)
    .bind(&entry.stage)
    .bind(event.occurred_at_ms)
    .bind(&entry.actor)
    .bind(&entry.detail)
    .bind(event.producer)
    .bind(event.trace_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Keeps the latest state of each clock: an event older than the one applied (by event id,
/// time-ordered per producer) changes nothing. One statement for all of an event's clocks.
pub async fn upsert_clocks(tx: &mut Tx, event: &Recorded<'_>, clocks: &[ClockSnapshot]) -> Result<(), StoreError> {
    if clocks.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO clock_view (complaint_id, complaint_number, kind, round, producer, state, jurisdiction, calendar, period, \
         started_at_ms, due_at_ms, due_local, warning_at_ms, provisional, owner_id, ended_at_ms, warned_at_ms, breached_at_ms, \
         extensions, basis, last_event_id) VALUES {} \
         ON CONFLICT (complaint_id, kind, round) DO UPDATE SET state = excluded.state, period = excluded.period, \
         due_at_ms = excluded.due_at_ms, due_local = excluded.due_local, warning_at_ms = excluded.warning_at_ms, \
         provisional = excluded.provisional, owner_id = excluded.owner_id, ended_at_ms = excluded.ended_at_ms, \
         warned_at_ms = excluded.warned_at_ms, breached_at_ms = excluded.breached_at_ms, extensions = excluded.extensions, \
         last_event_id = excluded.last_event_id \
         WHERE clock_view.last_event_id < excluded.last_event_id",
        value_rows(clocks.len(), 21, 1)
    );
    let mut query = sqlx::query(&sql);
    for clock in clocks {
        query = query
            .bind(event.complaint_id)
            .bind(event.complaint_number)
            .bind(clock.kind.as_str())
            .bind(i64::from(clock.round))
            .bind(event.producer)
            .bind(clock.state.as_str())
            .bind(clock.jurisdiction.clone())
            .bind(clock.calendar.clone())
            .bind(clock.period.clone())
            .bind(clock.started_at_ms)
            .bind(clock.due_at_ms)
            .bind(clock.due_local.clone())
            .bind(clock.warning_at_ms)
            .bind(i64::from(clock.provisional))
            .bind(clock.owner.as_ref().map(|owner| owner.as_str().to_owned()).unwrap_or_default())
            .bind(clock.ended_at_ms)
            .bind(clock.warned_at_ms)
            .bind(clock.breached_at_ms)
            .bind(i64::from(clock.extensions))
            .bind(clock.basis.clone())
            .bind(event.event_id);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// A clock as the read side holds it.
#[derive(Debug, Clone)]
pub struct ClockRow {
    pub complaint_id: String,
    pub complaint_number: String,
    pub producer: String,
    pub clock: ClockSnapshot,
}

const CLOCK_COLUMNS: &str = "complaint_id, complaint_number, kind, round, producer, state, jurisdiction, calendar, period, started_at_ms, \
    due_at_ms, due_local, warning_at_ms, provisional, owner_id, ended_at_ms, warned_at_ms, breached_at_ms, extensions, basis";

fn clock_row(row: &sqlx::any::AnyRow) -> Result<ClockRow, StoreError> {
    let owner: String = row.try_get("owner_id")?;
    Ok(ClockRow {
        complaint_id: row.try_get("complaint_id")?,
        complaint_number: row.try_get("complaint_number")?,
        producer: row.try_get("producer")?,
        clock: ClockSnapshot {
            kind: parsed_column(row, "clock_view", "kind", ClockKind::parse)?,
            round: u32::try_from(row.try_get::<i64, _>("round")?).unwrap_or(u32::MAX),
            state: parsed_column(row, "clock_view", "state", ClockState::parse)?,
            jurisdiction: row.try_get("jurisdiction")?,
            calendar: row.try_get("calendar")?,
            period: row.try_get("period")?,
            started_at_ms: row.try_get("started_at_ms")?,
            due_at_ms: row.try_get("due_at_ms")?,
            due_local: row.try_get("due_local")?,
            warning_at_ms: row.try_get("warning_at_ms")?,
            provisional: row.try_get::<i64, _>("provisional")? != 0,
            owner: (!owner.is_empty()).then(|| StaffId::parse("owner_id", &owner)).transpose().map_err(|e| StoreError::Corrupt {
                table: "clock_view",
                column: "owner_id",
                detail: e.to_string(),
            })?,
            ended_at_ms: row.try_get("ended_at_ms")?,
            warned_at_ms: row.try_get("warned_at_ms")?,
            breached_at_ms: row.try_get("breached_at_ms")?,
            extensions: u32::try_from(row.try_get::<i64, _>("extensions")?).unwrap_or(u32::MAX),
            basis: row.try_get("basis")?,
        },
    })
}

/// Every clock of a complaint, in start order.
pub async fn clocks_of(pool: &AnyPool, complaint_id: &str) -> Result<Vec<ClockRow>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {CLOCK_COLUMNS} FROM clock_view WHERE complaint_id = $1 ORDER BY started_at_ms, kind, round"))
        .bind(complaint_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(clock_row).collect()
}

/// Open clocks in `states`, earliest due first, after the (due, complaint, kind, round) cursor.
pub async fn overdue(pool: &AnyPool, states: &[ClockState], after: Option<(i64, String, String, i64)>, limit: i64) -> Result<Vec<ClockRow>, StoreError> {
    let placeholders: Vec<String> = (0..states.len()).map(|i| format!("${}", i + 1)).collect();
    let n = states.len();
    let cursor = if after.is_some() {
        format!(
            " AND (due_at_ms > ${a} OR (due_at_ms = ${a} AND (complaint_id > ${b} OR (complaint_id = ${b} AND (kind > ${c} OR (kind = ${c} AND round > ${d}))))))",
            a = n + 1,
            b = n + 2,
            c = n + 3,
            d = n + 4
        )
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT {CLOCK_COLUMNS} FROM clock_view WHERE ended_at_ms IS NULL AND state IN ({}){cursor} \
         ORDER BY due_at_ms, complaint_id, kind, round LIMIT {limit}",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for state in states {
        query = query.bind(state.as_str());
    }
    if let Some((due, complaint, kind, round)) = after {
        query = query.bind(due).bind(complaint).bind(kind).bind(round);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter().map(clock_row).collect()
}

/// The complaint's stage on the read side.
pub async fn stage(tx: &mut Tx, complaint_id: &str) -> Result<Stage, StoreError> {
    let row = sqlx::query("SELECT status FROM complaint_summaries WHERE complaint_id = $1")
        .bind(complaint_id)
        .fetch_one(&mut **tx)
        .await?;
    parsed_column(&row, "complaint_summaries", "status", Stage::parse)
}

/// Moves the summary from `from` to `to` (guarded), recording when and the stage's progress.
pub async fn move_stage(tx: &mut Tx, complaint_id: &str, from: Stage, to: Stage, at_ms: i64) -> Result<(), StoreError> {
    let result = sqlx::query(
        "UPDATE complaint_summaries SET status = $1, status_rank = $2, status_at_ms = $3 WHERE complaint_id = $4 AND status = $5",
    )
    .bind(to.as_str())
    .bind(i64::from(to.progress()))
    .bind(at_ms)
    .bind(complaint_id)
    .bind(from.as_str())
    .execute(&mut **tx)
    .await?;
    expect_one_row(&result)
}

pub async fn set_attribute(tx: &mut Tx, complaint_id: &str, column: Attribute, value: &str) -> Result<(), StoreError> {
    let sql = match column {
        Attribute::Grade => "UPDATE complaint_summaries SET grade = $1 WHERE complaint_id = $2",
        Attribute::Channel => "UPDATE complaint_summaries SET channel = $1 WHERE complaint_id = $2",
    };
    sqlx::query(sql).bind(value).bind(complaint_id).execute(&mut **tx).await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub enum Attribute {
    Grade,
    Channel,
}

/// Summary (id, number, status) by id or number.
pub async fn summary(pool: &AnyPool, key: &str) -> Result<Option<(String, String, String)>, StoreError> {
    let row = sqlx::query("SELECT complaint_id, complaint_number, status FROM complaint_summaries WHERE complaint_id = $1 OR complaint_number = $1")
        .bind(key)
        .fetch_optional(pool)
        .await?;
    row.map(|r| -> Result<_, StoreError> { Ok((r.try_get("complaint_id")?, r.try_get("complaint_number")?, r.try_get("status")?)) })
        .transpose()
}

pub async fn timeline(pool: &AnyPool, complaint_id: &str) -> Result<Vec<TimelineRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT event_id, stage, occurred_at_ms, actor, detail, producer, trace_id FROM timeline WHERE complaint_id = $1 \
         ORDER BY occurred_at_ms, event_id",
    )
    .bind(complaint_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| -> Result<TimelineRow, StoreError> {
            Ok(TimelineRow {
                event_id: r.try_get("event_id")?,
                stage: r.try_get("stage")?,
                occurred_at_ms: r.try_get("occurred_at_ms")?,
                actor: r.try_get("actor")?,
                detail: r.try_get("detail")?,
                producer: r.try_get("producer")?,
                trace_id: r.try_get("trace_id")?,
            })
        })
        .collect()
}

/// Counts of complaints grouped by `status`, `grade` or `channel`.
pub async fn counts(pool: &AnyPool, column: &str) -> Result<Vec<(String, i64)>, StoreError> {
    let sql = match column {
        "status" => "SELECT status AS k, COUNT(*) AS n FROM complaint_summaries GROUP BY status ORDER BY status",
        "grade" => "SELECT grade AS k, COUNT(*) AS n FROM complaint_summaries GROUP BY grade ORDER BY grade",
        _ => "SELECT channel AS k, COUNT(*) AS n FROM complaint_summaries GROUP BY channel ORDER BY channel",
    };
    let rows = sqlx::query(sql).fetch_all(pool).await?;
    rows.iter().map(|r| -> Result<_, StoreError> { Ok((r.try_get("k")?, r.try_get("n")?)) }).collect()
}
