//! Extension requests: the handler asks for the rule pack's next extension of the
//! investigation limit (decided by the head or a supervisor of the case's department) or of a
//! statutory limit (decided by the head office: the superior institution of CBIRC Order 2020
//! No. 3). The requester never decides their own request.

use complaints_domain::events::{ExtensionDecided, ExtensionRequested, LifecycleEvent};
use complaints_domain::org::Staff;
use complaints_domain::{ClockKind, ComplaintId, ComplaintNumber, StaffId};
use complaints_plumbing::access::Denied;
use complaints_plumbing::outbox::{self, Subject};
use complaints_plumbing::store::{expect_one_row, parsed_column, StoreError, Tx};
use sqlx::Row;

use crate::SERVICE;

/// Roles that decide a statutory extension.
pub const HEAD_OFFICE_ROLES: [&str; 2] = ["head_office_risk_legal", "senior_executive"];
/// Roles that decide an investigation extension, within the case's department.
pub const DEPARTMENT_ROLES: [&str; 2] = ["department_head", "supervisor"];

#[derive(Debug, Clone)]
pub struct ExtensionRequest {
    pub request_id: String,
    pub complaint_id: ComplaintId,
    pub complaint_number: ComplaintNumber,
    pub clock: ClockKind,
    pub reason: String,
    pub requested_by: StaffId,
    pub department: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub comment: String,
    pub traceparent: String,
}

/// Whether `staff` may decide `request`.
pub fn may_decide(staff: &Staff, request: &ExtensionRequest) -> Result<(), Denied> {
    if staff.id == request.requested_by.as_str() {
        return Err(Denied(format!("{} requested this extension and may not decide it", staff.id)));
    }
    let allowed = if request.clock == ClockKind::Investigation {
        staff.department == request.department && DEPARTMENT_ROLES.iter().any(|role| staff.has_role(role))
    } else {
        HEAD_OFFICE_ROLES.iter().any(|role| staff.has_role(role))
    };
    if allowed {
        Ok(())
    } else if request.clock == ClockKind::Investigation {
        Err(Denied(format!("an extension of the investigation limit is decided by the head or a supervisor of {}", request.department)))
    } else {
        Err(Denied("an extension of the statutory limit is decided by the head office".to_owned()))
    }
}

pub async fn insert(tx: &mut Tx, complaint_id: &ComplaintId, number: &ComplaintNumber, traceparent: &str, requested: &ExtensionRequested) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO extension_requests (request_id, complaint_id, complaint_number, clock, reason, requested_by, department, status, \
         comment, traceparent, requested_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', '', $8, $9) ON CONFLICT (request_id) DO NOTHING",
    )
    .bind(&requested.request_id)
    .bind(complaint_id.as_str())
    .bind(number.as_str())
    .bind(requested.clock.as_str())
    .bind(&requested.reason)
    .bind(requested.requested_by.as_str())
    .bind(&requested.department)
    .bind(traceparent)
    .bind(complaints_plumbing::now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The complaint's latest extension request.
pub async fn latest(tx: &mut Tx, number: &str) -> Result<Option<ExtensionRequest>, StoreError> {
    let row = sqlx::query(
        "SELECT request_id, complaint_id, complaint_number, clock, reason, requested_by, department, status, decided_by, comment, traceparent \
         FROM extension_requests WHERE complaint_number = $1 ORDER BY request_id DESC LIMIT 1",
    )
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    const TABLE: &str = "extension_requests";
    Ok(Some(ExtensionRequest {
        request_id: row.try_get("request_id")?,
        complaint_id: parsed_column(&row, TABLE, "complaint_id", |v| ComplaintId::parse("complaint_id", v).ok())?,
        complaint_number: parsed_column(&row, TABLE, "complaint_number", |v| ComplaintNumber::parse("complaint_number", v).ok())?,
        clock: parsed_column(&row, TABLE, "clock", ClockKind::parse)?,
        reason: row.try_get("reason")?,
        requested_by: parsed_column(&row, TABLE, "requested_by", |v| StaffId::parse("requested_by", v).ok())?,
        department: row.try_get("department")?,
        status: row.try_get("status")?,
        decided_by: row.try_get("decided_by")?,
        comment: row.try_get("comment")?,
        traceparent: row.try_get("traceparent")?,
    }))
}

/// Records the decision (guarded: only a pending request) and announces it.
pub async fn decide(tx: &mut Tx, request: &ExtensionRequest, approved: bool, by: &StaffId, comment: &str) -> Result<(), StoreError> {
    let result = sqlx::query(
        "UPDATE extension_requests SET status = $1, decided_by = $2, comment = $3, decided_at_ms = $4 WHERE request_id = $5 AND status = 'pending'",
    )
    .bind(if approved { "approved" } else { "refused" })
    .bind(by.as_str())
    .bind(comment)
    .bind(complaints_plumbing::now_ms())
    .bind(&request.request_id)
    .execute(&mut **tx)
    .await?;
    expect_one_row(&result)?;
    let event = LifecycleEvent::ExtensionDecided(ExtensionDecided {
        request_id: request.request_id.clone(),
        clock: request.clock,
        approved,
        decided_by: by.clone(),
        comment: comment.to_owned(),
        reason: request.reason.clone(),
    });
    let subject = Subject::new(&request.complaint_id, &request.complaint_number).in_trace(&request.traceparent);
    outbox::enqueue(tx, SERVICE, subject, event).await?;
    Ok(())
}
