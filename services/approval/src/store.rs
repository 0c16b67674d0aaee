//! Approval's store: proposals awaiting or past decision, signatures, involvements.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use complaints_proto::v1 as pb;
use complaints_shared::domain::ApprovalLevel;
use complaints_shared::store::Tx;
use prost::Message;
use sqlx::Row;

use crate::domain::ApprovalStatus;

#[derive(Debug, Clone)]
pub struct Approval {
    pub proposal_id: String,
    pub complaint_id: String,
    pub complaint_number: String,
    pub level: ApprovalLevel,
    pub status: ApprovalStatus,
    pub resolution: pb::Resolution,
    pub proposed_by: String,
    pub signed_by: Vec<String>,
    pub traceparent: String,
}

pub async fn insert(tx: &mut Tx, approval: &Approval) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO approvals (proposal_id, complaint_id, complaint_number, level, status, resolution, proposed_by, traceparent, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (proposal_id) DO NOTHING",
    )
    .bind(&approval.proposal_id)
    .bind(&approval.complaint_id)
    .bind(&approval.complaint_number)
    .bind(approval.level.as_str())
    .bind(approval.status.as_str())
    .bind(BASE64.encode(approval.resolution.encode_to_vec()))
    .bind(&approval.proposed_by)
    .bind(&approval.traceparent)
    .bind(complaints_shared::now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The most recent proposal of a complaint (by id or number).
pub async fn latest(tx: &mut Tx, key: &str) -> Result<Option<Approval>, sqlx::Error> {
    let Some(row) = sqlx::query(
        "SELECT proposal_id, complaint_id, complaint_number, level, status, resolution, proposed_by, traceparent FROM approvals \
         WHERE complaint_id = $1 OR complaint_number = $1 ORDER BY proposal_id DESC LIMIT 1",
    )
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let level: String = row.try_get("level")?;
    let status: String = row.try_get("status")?;
    let resolution: String = row.try_get("resolution")?;
    let proposal_id: String = row.try_get("proposal_id")?;
    let signed_by = sqlx::query("SELECT approver_id FROM signatures WHERE proposal_id = $1 ORDER BY position")
        .bind(&proposal_id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("approver_id"))
        .collect::<Result<Vec<String>, _>>()?;
    let decode = |what: &str| sqlx::Error::Decode(format!("bad {what} in approvals").into());
    Ok(Some(Approval {
        proposal_id,
        complaint_id: row.try_get("complaint_id")?,
        complaint_number: row.try_get("complaint_number")?,
        level: ApprovalLevel::parse(&level).ok_or_else(|| decode("level"))?,
        status: ApprovalStatus::parse(&status).ok_or_else(|| decode("status"))?,
        resolution: BASE64
            .decode(resolution)
            .ok()
            .and_then(|bytes| pb::Resolution::decode(bytes.as_slice()).ok())
            .ok_or_else(|| decode("resolution"))?,
        proposed_by: row.try_get("proposed_by")?,
        traceparent: row.try_get("traceparent")?,
        signed_by,
    }))
}

pub async fn sign(tx: &mut Tx, approval: &Approval, role: &str, approver_id: &str, decision: &str, comment: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO signatures (proposal_id, position, role, approver_id, decision, comment, signed_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&approval.proposal_id)
    .bind(i64::try_from(approval.signed_by.len()).unwrap_or(i64::MAX))
    .bind(role)
    .bind(approver_id)
    .bind(decision)
    .bind(comment)
    .bind(complaints_shared::now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_status(tx: &mut Tx, proposal_id: &str, status: ApprovalStatus) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE approvals SET status = $1, decided_at_ms = $2 WHERE proposal_id = $3")
        .bind(status.as_str())
        .bind(complaints_shared::now_ms())
        .bind(proposal_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn save_involvement(tx: &mut Tx, complaint_id: &str, staff: &[String], branch: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO involvements (complaint_id, staff_involved, branch_involved) VALUES ($1, $2, $3) \
         ON CONFLICT (complaint_id) DO NOTHING",
    )
    .bind(complaint_id)
    .bind(serde_json::to_string(staff).unwrap_or_default())
    .bind(branch)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Staff named and branch involved in a complaint; `None` until approval has seen the
/// complaint's `received` event.
pub async fn involvement(tx: &mut Tx, complaint_id: &str) -> Result<Option<(Vec<String>, String)>, sqlx::Error> {
    let row = sqlx::query("SELECT staff_involved, branch_involved FROM involvements WHERE complaint_id = $1")
        .bind(complaint_id)
        .fetch_optional(&mut **tx)
        .await?;
    match row {
        Some(row) => {
            let staff: String = row.try_get("staff_involved")?;
            Ok(Some((serde_json::from_str(&staff).unwrap_or_default(), row.try_get("branch_involved")?)))
        }
        None => Ok(None),
    }
}
