//! Investigation's store: cases, the evidence register, findings and execution records.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use complaints_shared::store::Tx;
use sqlx::{AnyPool, Row};

use crate::domain::{CaseStatus, Resolution};

#[derive(Debug, Clone)]
pub struct Case {
    pub complaint_id: String,
    pub complaint_number: String,
    pub status: CaseStatus,
    pub handler_id: String,
    pub department: String,
    pub proposal_id: Option<String>,
    pub resolution: Option<Resolution>,
    pub proposed_by: Option<String>,
    pub traceparent: String,
}

#[derive(Debug, Clone)]
pub struct Evidence {
    pub evidence_number: i64,
    pub kind: String,
    pub description: String,
    pub sha256: String,
    pub registered_by: String,
    pub registered_at_ms: i64,
}

fn case_from_row(row: &sqlx::any::AnyRow) -> Result<Case, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let resolution: Option<String> = row.try_get("resolution")?;
    Ok(Case {
        complaint_id: row.try_get("complaint_id")?,
        complaint_number: row.try_get("complaint_number")?,
        status: CaseStatus::parse(&status).ok_or_else(|| sqlx::Error::Decode(format!("unknown status {status}").into()))?,
        handler_id: row.try_get("handler_id")?,
        department: row.try_get("department")?,
        proposal_id: row.try_get("proposal_id")?,
        resolution: resolution.and_then(|r| serde_json::from_str(&r).ok()),
        proposed_by: row.try_get("proposed_by")?,
        traceparent: row.try_get("traceparent")?,
    })
}

const SELECT_CASE: &str = "SELECT complaint_id, complaint_number, status, handler_id, department, proposal_id, \
    resolution, proposed_by, traceparent FROM cases";

/// A case by complaint id or number, through the pool or inside a transaction.
pub async fn case<'e>(executor: impl sqlx::Executor<'e, Database = sqlx::Any>, key: &str) -> Result<Option<Case>, sqlx::Error> {
    sqlx::query(&format!("{SELECT_CASE} WHERE complaint_id = $1 OR complaint_number = $1"))
        .bind(key)
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(case_from_row)
        .transpose()
}

pub async fn open_case(tx: &mut Tx, complaint_id: &str, complaint_number: &str, handler_id: &str, department: &str, grade: &str, traceparent: &str) -> Result<bool, sqlx::Error> {
    let now = complaints_shared::now_ms();
    let result = sqlx::query(
        "INSERT INTO cases (complaint_id, complaint_number, status, handler_id, department, grade, traceparent, opened_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (complaint_id) DO NOTHING",
    )
    .bind(complaint_id)
    .bind(complaint_number)
    .bind(CaseStatus::Investigating.as_str())
    .bind(handler_id)
    .bind(department)
    .bind(grade)
    .bind(traceparent)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn set_status(tx: &mut Tx, complaint_id: &str, status: CaseStatus) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET status = $1, updated_at_ms = $2 WHERE complaint_id = $3")
        .bind(status.as_str())
        .bind(complaints_shared::now_ms())
        .bind(complaint_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records a proposal on a case still under investigation; `false` when it no longer is (a
/// concurrent proposal won).
pub async fn set_proposal(tx: &mut Tx, complaint_id: &str, proposal_id: &str, resolution: &Resolution, proposed_by: &str) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE cases SET status = $1, proposal_id = $2, resolution = $3, proposed_by = $4, updated_at_ms = $5 \
         WHERE complaint_id = $6 AND status = 'investigating'",
    )
    .bind(CaseStatus::Proposed.as_str())
    .bind(proposal_id)
    .bind(serde_json::to_string(resolution).unwrap_or_default())
    .bind(proposed_by)
    .bind(complaints_shared::now_ms())
    .bind(complaint_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Adds an item to the evidence register with the next number of the case.
pub async fn add_evidence(tx: &mut Tx, complaint_id: &str, kind: &str, description: &str, content: &[u8], sha256: &str, registered_by: &str) -> Result<Evidence, sqlx::Error> {
    let next: i64 = sqlx::query("SELECT COALESCE(MAX(evidence_number), 0) + 1 AS next FROM evidence WHERE complaint_id = $1")
        .bind(complaint_id)
        .fetch_one(&mut **tx)
        .await?
        .try_get("next")?;
    let now = complaints_shared::now_ms();
    sqlx::query(
        "INSERT INTO evidence (complaint_id, evidence_number, kind, description, sha256, size_bytes, content, registered_by, registered_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(complaint_id)
    .bind(next)
    .bind(kind)
    .bind(description)
    .bind(sha256)
    .bind(i64::try_from(content.len()).unwrap_or(i64::MAX))
    .bind(BASE64.encode(content))
    .bind(registered_by)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(Evidence {
        evidence_number: next,
        kind: kind.to_owned(),
        description: description.to_owned(),
        sha256: sha256.to_owned(),
        registered_by: registered_by.to_owned(),
        registered_at_ms: now,
    })
}

pub async fn evidence(pool: &AnyPool, complaint_id: &str) -> Result<Vec<Evidence>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT evidence_number, kind, description, sha256, registered_by, registered_at_ms FROM evidence \
         WHERE complaint_id = $1 ORDER BY evidence_number",
    )
    .bind(complaint_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Evidence {
                evidence_number: row.try_get("evidence_number")?,
                kind: row.try_get("kind")?,
                description: row.try_get("description")?,
                sha256: row.try_get("sha256")?,
                registered_by: row.try_get("registered_by")?,
                registered_at_ms: row.try_get("registered_at_ms")?,
            })
        })
        .collect()
}

pub async fn add_finding(tx: &mut Tx, complaint_id: &str, finding: &str, recorded_by: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO findings (finding_id, complaint_id, finding, recorded_by, recorded_at_ms) VALUES ($1, $2, $3, $4, $5)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(complaint_id)
        .bind(finding)
        .bind(recorded_by)
        .bind(complaints_shared::now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn findings(executor: impl sqlx::Executor<'_, Database = sqlx::Any>, complaint_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT finding FROM findings WHERE complaint_id = $1 ORDER BY finding_id")
        .bind(complaint_id)
        .fetch_all(executor)
        .await?;
    rows.iter().map(|row| row.try_get("finding")).collect()
}

/// Records the execution of an accepted remedy; `false` when the case no longer awaits it.
pub async fn record_execution(tx: &mut Tx, complaint_id: &str, executed_by: &str, reference: &str) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query("UPDATE cases SET status = $1, updated_at_ms = $2 WHERE complaint_id = $3 AND status = $4")
        .bind(CaseStatus::Executed.as_str())
        .bind(complaints_shared::now_ms())
        .bind(complaint_id)
        .bind(CaseStatus::AwaitingExecution.as_str())
        .execute(&mut **tx)
        .await?;
    if moved.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("INSERT INTO executions (complaint_id, executed_by, reference, executed_at_ms) VALUES ($1, $2, $3, $4)")
        .bind(complaint_id)
        .bind(executed_by)
        .bind(reference)
        .bind(complaints_shared::now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(true)
}
