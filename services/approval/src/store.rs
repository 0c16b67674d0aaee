//! Approval's store: proposals awaiting or past decision, signatures, and what approval must
//! know of each complaint (who and which branch are involved, which department handles it).

use complaints_domain::events::Resolution;
use complaints_domain::{ApprovalLevel, ComplaintId, ComplaintNumber, ProposalId, StaffId};
use complaints_plumbing::store::{expect_one_row, json_column, parsed_column, to_json, StoreError, Tx};
use sqlx::Row;

use crate::domain::ProposalStatus;

#[derive(Debug, Clone)]
pub struct Approval {
    pub proposal_id: ProposalId,
    pub complaint_id: ComplaintId,
    pub complaint_number: ComplaintNumber,
    pub level: ApprovalLevel,
    pub status: ProposalStatus,
    pub resolution: Resolution,
    pub proposed_by: StaffId,
    /// The department handling the case when the proposal was made.
    pub department: String,
    pub signed_by: Vec<StaffId>,
    pub traceparent: String,
}

/// Who and which branch a complaint names, for recusal.
pub struct Involved {
    pub staff: Vec<StaffId>,
    pub branch: String,
    /// The rule pack of the complaint's clocks.
    pub jurisdiction: String,
}

const APPROVALS: &str = "approvals";

pub async fn insert(tx: &mut Tx, approval: &Approval) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "INSERT INTO approvals (proposal_id, complaint_id, complaint_number, level, status, resolution, proposed_by, traceparent, \
         created_at_ms, department) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (proposal_id) DO NOTHING",
    )
    .bind(approval.proposal_id.as_str())
    .bind(approval.complaint_id.as_str())
    .bind(approval.complaint_number.as_str())
    .bind(approval.level.as_str())
    .bind(approval.status.as_str())
    .bind(to_json(&approval.resolution)?)
    .bind(approval.proposed_by.as_str())
    .bind(&approval.traceparent)
    .bind(complaints_plumbing::now_ms())
    .bind(&approval.department)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The most recent proposal of a complaint (by id or number).
pub async fn latest(tx: &mut Tx, key: &str) -> Result<Option<Approval>, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT proposal_id, complaint_id, complaint_number, level, status, resolution, proposed_by, department, traceparent FROM approvals \
         WHERE complaint_id = $1 OR complaint_number = $1 ORDER BY proposal_id DESC LIMIT 1",
    )
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let proposal_id = parsed_column(&row, APPROVALS, "proposal_id", |v| ProposalId::parse("proposal_id", v).ok())?;
    let signed_by = sqlx::query("SELECT approver_id FROM signatures WHERE proposal_id = $1 ORDER BY position")
        .bind(proposal_id.as_str())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| parsed_column(r, "signatures", "approver_id", |v| StaffId::parse("approver_id", v).ok()))
        .collect::<Result<Vec<StaffId>, _>>()?;
    Ok(Some(Approval {
        proposal_id,
        complaint_id: parsed_column(&row, APPROVALS, "complaint_id", |v| ComplaintId::parse("complaint_id", v).ok())?,
        complaint_number: parsed_column(&row, APPROVALS, "complaint_number", |v| ComplaintNumber::parse("complaint_number", v).ok())?,
        level: parsed_column(&row, APPROVALS, "level", ApprovalLevel::parse)?,
        status: parsed_column(&row, APPROVALS, "status", ProposalStatus::parse)?,
        resolution: json_column(&row, APPROVALS, "resolution")?,
        proposed_by: parsed_column(&row, APPROVALS, "proposed_by", |v| StaffId::parse("proposed_by", v).ok())?,
        department: row.try_get("department")?,
        traceparent: row.try_get("traceparent")?,
        signed_by,
    }))
}

/// Records a signature at the next position; a concurrent signature on the same position is
/// [`StoreError::Conflict`].
pub async fn sign(tx: &mut Tx, approval: &Approval, role: &str, approver: &StaffId, decision: &str, comment: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO signatures (proposal_id, position, role, approver_id, decision, comment, signed_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(approval.proposal_id.as_str())
    .bind(i64::try_from(approval.signed_by.len()).unwrap_or(i64::MAX))
    .bind(role)
    .bind(approver.as_str())
    .bind(decision)
    .bind(comment)
    .bind(complaints_plumbing::now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Decides a pending proposal; [`StoreError::Conflict`] when it is no longer pending.
pub async fn decide(tx: &mut Tx, proposal_id: &ProposalId, status: ProposalStatus) -> Result<(), StoreError> {
    let result = sqlx::query("UPDATE approvals SET status = $1, decided_at_ms = $2 WHERE proposal_id = $3 AND status = $4")
        .bind(status.as_str())
        .bind(complaints_plumbing::now_ms())
        .bind(proposal_id.as_str())
        .bind(ProposalStatus::Pending.as_str())
        .execute(&mut **tx)
        .await?;
    expect_one_row(&result)
}

/// The customer withdrew the complaint: its pending proposals and extension requests end
/// undecided. Returns how many there were.
pub async fn withdraw(tx: &mut Tx, complaint_id: &ComplaintId) -> Result<u64, StoreError> {
    let now = complaints_plumbing::now_ms();
    let approvals = sqlx::query("UPDATE approvals SET status = $1, decided_at_ms = $2 WHERE complaint_id = $3 AND status = $4")
        .bind(ProposalStatus::Withdrawn.as_str())
        .bind(now)
        .bind(complaint_id.as_str())
        .bind(ProposalStatus::Pending.as_str())
        .execute(&mut **tx)
        .await?;
    let extensions = sqlx::query("UPDATE extension_requests SET status = 'withdrawn', decided_at_ms = $1 WHERE complaint_id = $2 AND status = 'pending'")
        .bind(now)
        .bind(complaint_id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(approvals.rows_affected() + extensions.rows_affected())
}

pub async fn save_involvement(tx: &mut Tx, complaint_id: &ComplaintId, staff: &[StaffId], branch: &str, jurisdiction: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO involvements (complaint_id, staff_involved, branch_involved, jurisdiction) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (complaint_id) DO NOTHING",
    )
    .bind(complaint_id.as_str())
    .bind(to_json(&staff)?)
    .bind(branch)
    .bind(jurisdiction)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Who and which branch a complaint names; `None` until approval has seen its `received` event.
pub async fn involved(tx: &mut Tx, complaint_id: &ComplaintId) -> Result<Option<Involved>, StoreError> {
    let row = sqlx::query("SELECT staff_involved, branch_involved, jurisdiction FROM involvements WHERE complaint_id = $1")
        .bind(complaint_id.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    match row {
        Some(row) => Ok(Some(Involved {
            staff: json_column(&row, "involvements", "staff_involved")?,
            branch: row.try_get("branch_involved")?,
            jurisdiction: row.try_get("jurisdiction")?,
        })),
        None => Ok(None),
    }
}
