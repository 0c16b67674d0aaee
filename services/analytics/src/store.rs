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
pub async fn clocks_of<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>, complaint_id: &str) -> Result<Vec<ClockRow>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {CLOCK_COLUMNS} FROM clock_view WHERE complaint_id = $1 ORDER BY started_at_ms, kind, round"))
        .bind(complaint_id)
        .fetch_all(db)
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
        "UPDATE complaint_summaries SET status = $1, status_rank = $2, status_at_ms = $3, open_case = $6 WHERE complaint_id = $4 AND status = $5",
    )
    .bind(to.as_str())
    .bind(i64::from(to.progress()))
    .bind(at_ms)
    .bind(complaint_id)
    .bind(from.as_str())
    .bind(i64::from(to.is_open()))
    .execute(&mut **tx)
    .await?;
    expect_one_row(&result)
}

/// Sets summary columns from an event (one statement); an empty value leaves its column as is.
pub async fn set_attributes(tx: &mut Tx, complaint_id: &str, values: &[(Attribute, &str)]) -> Result<(), StoreError> {
    let values: Vec<&(Attribute, &str)> = values.iter().filter(|(_, value)| !value.is_empty()).collect();
    if values.is_empty() {
        return Ok(());
    }
    let sets: Vec<String> = values.iter().enumerate().map(|(i, (column, _))| format!("{} = ${}", column.column(), i + 1)).collect();
    let sql = format!("UPDATE complaint_summaries SET {} WHERE complaint_id = ${}", sets.join(", "), values.len() + 1);
    let mut query = sqlx::query(&sql);
    for (_, value) in &values {
        query = query.bind(*value);
    }
    query.bind(complaint_id).execute(&mut **tx).await?;
    Ok(())
}

/// Clears the lookup key of an erased customer's complaint.
pub async fn forget_customer(tx: &mut Tx, complaint_id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE complaint_summaries SET customer_key = '' WHERE complaint_id = $1").bind(complaint_id).execute(&mut **tx).await?;
    Ok(())
}

/// A summary column an event sets.
#[derive(Debug, Clone, Copy)]
pub enum Attribute {
    Grade,
    Channel,
    Handler,
    Department,
    Product,
    Category,
    Jurisdiction,
    Summary,
    CustomerKey,
}

impl Attribute {
    fn column(self) -> &'static str {
        match self {
            Self::Grade => "grade",
            Self::Channel => "channel",
            Self::Handler => "handler_id",
            Self::Department => "department",
            Self::Product => "product",
            Self::Category => "category",
            Self::Jurisdiction => "jurisdiction",
            Self::Summary => "summary",
            Self::CustomerKey => "customer_key",
        }
    }
}

/// Records when the complaint was received (the `received` event).
pub async fn received(tx: &mut Tx, complaint_id: &str, received_at_ms: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE complaint_summaries SET received_at_ms = $1 WHERE complaint_id = $2")
        .bind(received_at_ms)
        .bind(complaint_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// "No open clock" in `next_due_at_ms`.
pub const NO_DUE: i64 = i64::MAX;

/// Recomputes the complaint's next due instant and worst clock state from its open staff clocks
/// (the customer's objection and review windows are not the staff's to meet).
pub async fn refresh_due(tx: &mut Tx, complaint_id: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE complaint_summaries SET \
           next_due_at_ms = COALESCE((SELECT MIN(due_at_ms) FROM clock_view WHERE complaint_id = $1 AND ended_at_ms IS NULL \
             AND state <> 'paused' AND kind NOT LIKE '%_window'), $2), \
           clock_state = COALESCE((SELECT state FROM clock_view WHERE complaint_id = $1 AND ended_at_ms IS NULL \
             AND kind NOT LIKE '%_window' ORDER BY CASE state WHEN 'breached' THEN 0 WHEN 'warned' THEN 1 WHEN 'running' THEN 2 ELSE 3 END \
             LIMIT 1), '') \
         WHERE complaint_id = $1",
    )
    .bind(complaint_id)
    .bind(NO_DUE)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a queue or a search selects; every filter that is set must hold.
#[derive(Debug, Default)]
pub struct QueueFilter {
    pub handler: Option<String>,
    pub department: Option<String>,
    pub statuses: Vec<String>,
    pub grades: Vec<String>,
    pub clock_states: Vec<String>,
    pub channels: Vec<String>,
    pub products: Vec<String>,
    pub jurisdictions: Vec<String>,
    pub due_before_ms: Option<i64>,
    pub include_closed: bool,
    pub number: Option<String>,
    pub customer_key: Option<String>,
    /// Lower-cased text the summary must contain.
    pub text: Option<String>,
}

/// One queue row.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub complaint_id: String,
    pub complaint_number: String,
    pub status: String,
    pub grade: String,
    pub channel: String,
    pub product: String,
    pub category: String,
    pub jurisdiction: String,
    pub department: String,
    pub handler_id: String,
    pub summary: String,
    pub next_due_at_ms: i64,
    pub clock_state: String,
    pub received_at_ms: Option<i64>,
}

/// Complaints matching `filter`, earliest due first, after the (due, complaint id) cursor.
pub async fn queue(pool: &AnyPool, filter: &QueueFilter, after: Option<(i64, String)>, limit: i64) -> Result<Vec<QueueRow>, StoreError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let equal = |clauses: &mut Vec<String>, binds: &mut Vec<Bind>, column: &str, value: &Option<String>| {
        if let Some(value) = value {
            binds.push(Bind::Text(value.clone()));
            clauses.push(format!("{column} = ${}", binds.len()));
        }
    };
    equal(&mut clauses, &mut binds, "handler_id", &filter.handler);
    equal(&mut clauses, &mut binds, "department", &filter.department);
    equal(&mut clauses, &mut binds, "complaint_number", &filter.number);
    equal(&mut clauses, &mut binds, "customer_key", &filter.customer_key);
    if !filter.include_closed {
        clauses.push("open_case = 1".into());
    }
    for (column, values) in [
        ("status", &filter.statuses),
        ("grade", &filter.grades),
        ("clock_state", &filter.clock_states),
        ("channel", &filter.channels),
        ("product", &filter.products),
        ("jurisdiction", &filter.jurisdictions),
    ] {
        if values.is_empty() {
            continue;
        }
        let mut placeholders = Vec::new();
        for value in values {
            binds.push(Bind::Text(value.clone()));
            placeholders.push(format!("${}", binds.len()));
        }
        clauses.push(format!("{column} IN ({})", placeholders.join(", ")));
    }
    if let Some(due) = filter.due_before_ms {
        binds.push(Bind::Int(due));
        clauses.push(format!("next_due_at_ms < ${}", binds.len()));
    }
    if let Some(text) = &filter.text {
        binds.push(Bind::Text(format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))));
        clauses.push(format!("LOWER(summary) LIKE ${} ESCAPE '\\'", binds.len()));
    }
    if let Some((due, id)) = after {
        binds.push(Bind::Int(due));
        let a = binds.len();
        binds.push(Bind::Text(id));
        let b = binds.len();
        clauses.push(format!("(next_due_at_ms > ${a} OR (next_due_at_ms = ${a} AND complaint_id > ${b}))"));
    }
    let filter_sql = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    let sql = format!(
        "SELECT complaint_id, complaint_number, status, grade, channel, product, category, jurisdiction, department, handler_id, \
         summary, next_due_at_ms, clock_state, received_at_ms FROM complaint_summaries{filter_sql} \
         ORDER BY next_due_at_ms, complaint_id LIMIT {limit}"
    );
    let mut query = sqlx::query(&sql);
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind(text),
            Bind::Int(value) => query.bind(value),
        };
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|row| {
            Ok(QueueRow {
                complaint_id: row.try_get("complaint_id")?,
                complaint_number: row.try_get("complaint_number")?,
                status: row.try_get("status")?,
                grade: row.try_get("grade")?,
                channel: row.try_get("channel")?,
                product: row.try_get("product")?,
                category: row.try_get("category")?,
                jurisdiction: row.try_get("jurisdiction")?,
                department: row.try_get("department")?,
                handler_id: row.try_get("handler_id")?,
                summary: row.try_get("summary")?,
                next_due_at_ms: row.try_get("next_due_at_ms")?,
                clock_state: row.try_get("clock_state")?,
                received_at_ms: row.try_get("received_at_ms")?,
            })
        })
        .collect()
}

enum Bind {
    Text(String),
    Int(i64),
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

pub async fn timeline<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>, complaint_id: &str) -> Result<Vec<TimelineRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT event_id, stage, occurred_at_ms, actor, detail, producer, trace_id FROM timeline WHERE complaint_id = $1 \
         ORDER BY occurred_at_ms, event_id",
    )
    .bind(complaint_id)
    .fetch_all(db)
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
