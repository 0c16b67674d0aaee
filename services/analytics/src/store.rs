//! Analytics' store: complaint summaries and the timeline.

use complaints_domain::Stage;
use complaints_plumbing::store::{expect_one_row, parsed_column, StoreError, Tx};
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

/// Appends the event's timeline line (once: the event id is the key) and makes sure the
/// complaint has a summary row.
pub async fn record(tx: &mut Tx, event: &Recorded<'_>, entry: &Entry) -> Result<(), StoreError> {
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
