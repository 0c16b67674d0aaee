//! Investigation's store: cases (with their lifecycle stage), the evidence register, findings
//! and execution records. Stage moves are guarded; a lost race is [`StoreError::Conflict`].

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use complaints_domain::events::Resolution;
use complaints_domain::{ComplaintId, ComplaintNumber, Grade, ProposalId, Stage, StaffId};
use complaints_plumbing::store::{expect_one_row, json_column, parsed_column, to_json, StoreError, Tx};
use complaints_plumbing::vault::{Vault, VaultError};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

#[derive(Debug, Clone)]
pub struct Case {
    pub complaint_id: ComplaintId,
    pub complaint_number: ComplaintNumber,
    pub stage: Stage,
    pub handler: StaffId,
    pub department: String,
    pub proposal_id: Option<ProposalId>,
    pub resolution: Option<Resolution>,
    pub proposed_by: Option<StaffId>,
    pub traceparent: String,
    pub grade: Grade,
    pub jurisdiction: String,
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

/// A case being opened from an assignment.
pub struct NewCase<'a> {
    pub complaint_id: &'a ComplaintId,
    pub complaint_number: &'a ComplaintNumber,
    pub handler: &'a StaffId,
    pub department: &'a str,
    pub grade: Grade,
    pub traceparent: &'a str,
    pub jurisdiction: &'a str,
}

const CASES: &str = "cases";

fn optional<T>(row: &AnyRow, column: &'static str, parse: impl FnOnce(&str) -> Option<T>) -> Result<Option<T>, StoreError> {
    let text: Option<String> = row.try_get(column)?;
    match text {
        None => Ok(None),
        Some(text) => parse(&text)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt { table: CASES, column, detail: format!("unknown value {text:?}") }),
    }
}

fn case_from_row(row: &AnyRow) -> Result<Case, StoreError> {
    let has_resolution: Option<String> = row.try_get("resolution")?;
    Ok(Case {
        complaint_id: parsed_column(row, CASES, "complaint_id", |v| ComplaintId::parse("complaint_id", v).ok())?,
        complaint_number: parsed_column(row, CASES, "complaint_number", |v| ComplaintNumber::parse("complaint_number", v).ok())?,
        stage: parsed_column(row, CASES, "status", Stage::parse)?,
        handler: parsed_column(row, CASES, "handler_id", |v| StaffId::parse("handler_id", v).ok())?,
        department: row.try_get("department")?,
        proposal_id: optional(row, "proposal_id", |v| ProposalId::parse("proposal_id", v).ok())?,
        resolution: match has_resolution {
            Some(_) => Some(json_column(row, CASES, "resolution")?),
            None => None,
        },
        proposed_by: optional(row, "proposed_by", |v| StaffId::parse("proposed_by", v).ok())?,
        traceparent: row.try_get("traceparent")?,
        grade: parsed_column(row, CASES, "grade", Grade::parse)?,
        jurisdiction: row.try_get("jurisdiction")?,
    })
}

const SELECT_CASE: &str = "SELECT complaint_id, complaint_number, status, handler_id, department, proposal_id, \
    resolution, proposed_by, traceparent, grade, jurisdiction FROM cases";

/// A case by complaint id or number, through the pool or inside a transaction.
pub async fn case<'e>(executor: impl sqlx::Executor<'e, Database = sqlx::Any>, key: &str) -> Result<Option<Case>, StoreError> {
    let row = sqlx::query(&format!("{SELECT_CASE} WHERE complaint_id = $1 OR complaint_number = $1"))
        .bind(key)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(case_from_row).transpose()
}

/// Opens a case at `stage`; `false` when it was open already (a redelivered assignment).
pub async fn open_case(tx: &mut Tx, case: &NewCase<'_>, stage: Stage) -> Result<bool, StoreError> {
    let now = complaints_plumbing::now_ms();
    let result = sqlx::query(
        "INSERT INTO cases (complaint_id, complaint_number, status, handler_id, department, grade, traceparent, opened_at_ms, updated_at_ms, \
         jurisdiction) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) ON CONFLICT (complaint_id) DO NOTHING",
    )
    .bind(case.complaint_id.as_str())
    .bind(case.complaint_number.as_str())
    .bind(stage.as_str())
    .bind(case.handler.as_str())
    .bind(case.department)
    .bind(case.grade.as_str())
    .bind(case.traceparent)
    .bind(now)
    .bind(case.jurisdiction)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Moves the case from `from` to `to`; [`StoreError::Conflict`] when it was no longer in `from`.
pub async fn move_stage(tx: &mut Tx, complaint_id: &ComplaintId, from: Stage, to: Stage) -> Result<(), StoreError> {
    let result = sqlx::query("UPDATE cases SET status = $1, updated_at_ms = $2 WHERE complaint_id = $3 AND status = $4")
        .bind(to.as_str())
        .bind(complaints_plumbing::now_ms())
        .bind(complaint_id.as_str())
        .bind(from.as_str())
        .execute(&mut **tx)
        .await?;
    expect_one_row(&result)
}

/// Records a proposal and moves the case from `from` to `to` (awaiting approval).
pub async fn set_proposal(
    tx: &mut Tx,
    case: &Case,
    to: Stage,
    proposal_id: &ProposalId,
    resolution: &Resolution,
    proposed_by: &StaffId,
) -> Result<(), StoreError> {
    let result = sqlx::query(
        "UPDATE cases SET status = $1, proposal_id = $2, resolution = $3, proposed_by = $4, updated_at_ms = $5 \
         WHERE complaint_id = $6 AND status = $7",
    )
    .bind(to.as_str())
    .bind(proposal_id.as_str())
    .bind(to_json(resolution)?)
    .bind(proposed_by.as_str())
    .bind(complaints_plumbing::now_ms())
    .bind(case.complaint_id.as_str())
    .bind(case.stage.as_str())
    .execute(&mut **tx)
    .await?;
    expect_one_row(&result)
}

/// Adds an item to the evidence register with the next number of the case.
pub async fn add_evidence(
    tx: &mut Tx,
    complaint_id: &ComplaintId,
    kind: &str,
    description: &str,
    content: &[u8],
    registered_by: &StaffId,
    vault: &Vault,
) -> Result<Evidence, VaultError> {
    let sha256 = &complaints_plumbing::sha256_hex(content);
    let next: i64 = sqlx::query("SELECT COALESCE(MAX(evidence_number), 0) + 1 AS next FROM evidence WHERE complaint_id = $1")
        .bind(complaint_id.as_str())
        .fetch_one(&mut **tx)
        .await?
        .try_get("next")?;
    let now = complaints_plumbing::now_ms();
    let size_bytes = i64::try_from(content.len()).unwrap_or(i64::MAX);
    let key = vault.key_in(tx, &crate::chain::key_ref(complaint_id.as_str())).await?;
    let prev = crate::chain::previous(tx, complaint_id.as_str(), next).await?;
    let link = crate::chain::Link {
        complaint_id: complaint_id.as_str(),
        evidence_number: next,
        kind,
        description,
        sha256,
        size_bytes,
        registered_by: registered_by.as_str(),
        registered_at_ms: now,
    };
    sqlx::query(
        "INSERT INTO evidence (complaint_id, evidence_number, kind, description, sha256, size_bytes, content, registered_by, registered_at_ms, chain_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(complaint_id.as_str())
    .bind(next)
    .bind(kind)
    .bind(description)
    .bind(sha256)
    .bind(size_bytes)
    .bind(key.seal(&crate::chain::content_place(complaint_id.as_str(), next), &BASE64.encode(content)))
    .bind(registered_by.as_str())
    .bind(now)
    .bind(link.hash(&prev))
    .execute(&mut **tx)
    .await?;
    Ok(Evidence {
        evidence_number: next,
        kind: kind.to_owned(),
        description: description.to_owned(),
        sha256: sha256.to_owned(),
        registered_by: registered_by.to_string(),
        registered_at_ms: now,
    })
}

pub async fn evidence(pool: &AnyPool, complaint_id: &ComplaintId) -> Result<Vec<Evidence>, StoreError> {
    let rows = sqlx::query(
        "SELECT evidence_number, kind, description, sha256, registered_by, registered_at_ms FROM evidence \
         WHERE complaint_id = $1 ORDER BY evidence_number",
    )
    .bind(complaint_id.as_str())
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

pub async fn add_finding(tx: &mut Tx, complaint_id: &ComplaintId, finding: &str, recorded_by: &StaffId) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO findings (finding_id, complaint_id, finding, recorded_by, recorded_at_ms) VALUES ($1, $2, $3, $4, $5)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(complaint_id.as_str())
        .bind(finding)
        .bind(recorded_by.as_str())
        .bind(complaints_plumbing::now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn findings(executor: impl sqlx::Executor<'_, Database = sqlx::Any>, complaint_id: &ComplaintId) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT finding FROM findings WHERE complaint_id = $1 ORDER BY finding_id")
        .bind(complaint_id.as_str())
        .fetch_all(executor)
        .await?;
    rows.iter().map(|row| Ok(row.try_get("finding")?)).collect()
}

/// Records the execution of an accepted remedy, moving the case from `from` to `to`.
pub async fn record_execution(tx: &mut Tx, case: &Case, to: Stage, executed_by: &StaffId, reference: &str) -> Result<(), StoreError> {
    move_stage(tx, &case.complaint_id, case.stage, to).await?;
    sqlx::query("INSERT INTO executions (complaint_id, executed_by, reference, executed_at_ms) VALUES ($1, $2, $3, $4)")
        .bind(case.complaint_id.as_str())
        .bind(executed_by.as_str())
        .bind(reference)
        .bind(complaints_plumbing::now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Appends a line to the case file's record of case work (see migration `0103_case_notes`).
pub async fn add_note(tx: &mut Tx, complaint_id: &ComplaintId, kind: &str, note: &str, recorded_by: &str) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO case_notes (note_id, complaint_id, kind, note, recorded_by, recorded_at_ms) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(complaint_id.as_str())
        .bind(kind)
        .bind(note)
        .bind(recorded_by)
        .bind(complaints_plumbing::now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The case file's notes as `(kind, note, recorded_by)`, oldest first.
pub async fn notes(executor: impl sqlx::Executor<'_, Database = sqlx::Any>, complaint_id: &ComplaintId) -> Result<Vec<(String, String, String)>, StoreError> {
    let rows = sqlx::query("SELECT kind, note, recorded_by FROM case_notes WHERE complaint_id = $1 ORDER BY note_id")
        .bind(complaint_id.as_str())
        .fetch_all(executor)
        .await?;
    rows.iter().map(|row| Ok((row.try_get("kind")?, row.try_get("note")?, row.try_get("recorded_by")?))).collect()
}

/// Hands the case to `handler` of `department` (reassignment, re-triage, re-review).
pub async fn reassign(tx: &mut Tx, complaint_id: &ComplaintId, handler: &StaffId, department: &str, grade: Grade) -> Result<(), StoreError> {
    let result = sqlx::query("UPDATE cases SET handler_id = $1, department = $2, grade = $3, updated_at_ms = $4 WHERE complaint_id = $5")
        .bind(handler.as_str())
        .bind(department)
        .bind(grade.as_str())
        .bind(complaints_plumbing::now_ms())
        .bind(complaint_id.as_str())
        .execute(&mut **tx)
        .await?;
    expect_one_row(&result)
}

/// Seals evidence content stored in clear before encryption; returns how many items.
pub async fn seal_clear_evidence(pool: &AnyPool, vault: &Vault) -> Result<usize, VaultError> {
    let rows = sqlx::query("SELECT complaint_id, evidence_number, content FROM evidence WHERE content NOT LIKE 'enc:%'").fetch_all(pool).await?;
    let mut sealed = 0;
    for row in rows {
        let complaint_id: String = row.try_get("complaint_id")?;
        let number: i64 = row.try_get("evidence_number")?;
        let key = vault.key_for(&crate::chain::key_ref(&complaint_id)).await?;
        let content: String = row.try_get("content")?;
        sealed += sqlx::query("UPDATE evidence SET content = $1 WHERE complaint_id = $2 AND evidence_number = $3 AND content = $4")
            .bind(key.seal(&crate::chain::content_place(&complaint_id, number), &content))
            .bind(&complaint_id)
            .bind(number)
            .bind(&content)
            .execute(pool)
            .await?
            .rows_affected() as usize;
    }
    Ok(sealed)
}
