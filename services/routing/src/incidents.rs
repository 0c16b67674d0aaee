//! Mass incidents (SPEC: mass complaints): the incident, its members, its task force, its one
//! unified statement and the post-incident review, in routing's store. Every change to a
//! member is announced on that member's subject.

use complaints_domain::events::{JoinedMassIncident, LeftMassIncident, LifecycleEvent, UnifiedStatement};
use complaints_domain::{ComplaintId, ComplaintNumber, StaffId};
use complaints_plumbing::outbox::{self, Subject};
use complaints_plumbing::store::{expect_one_row, json_column, to_json, StoreError, Tx};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::SERVICE;

/// `detected` in `linked_by`: the detector, not a person, linked the member.
pub const DETECTED: &str = "detected";

#[derive(Debug, Clone)]
pub struct Incident {
    pub incident_id: String,
    pub incident_number: String,
    pub product: String,
    pub category: String,
    pub status: String,
    pub opened_at_ms: i64,
    pub task_force: Vec<StaffId>,
    pub root_cause: String,
    pub statement: String,
    pub statement_by: String,
    pub statement_at_ms: Option<i64>,
    pub review: String,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub complaint_id: String,
    pub complaint_number: String,
    pub joined_at_ms: i64,
    pub linked_by: String,
    pub left_at_ms: Option<i64>,
}

const INCIDENTS: &str = "incidents";
const COLUMNS: &str = "incident_id, incident_number, product, category, status, opened_at_ms, task_force, root_cause, statement, \
    statement_by, statement_at_ms, review";

fn from_row(row: &AnyRow) -> Result<Incident, StoreError> {
    Ok(Incident {
        incident_id: row.try_get("incident_id")?,
        incident_number: row.try_get("incident_number")?,
        product: row.try_get("product")?,
        category: row.try_get("category")?,
        status: row.try_get("status")?,
        opened_at_ms: row.try_get("opened_at_ms")?,
        task_force: json_column(row, INCIDENTS, "task_force")?,
        root_cause: row.try_get("root_cause")?,
        statement: row.try_get("statement")?,
        statement_by: row.try_get("statement_by")?,
        statement_at_ms: row.try_get("statement_at_ms")?,
        review: row.try_get("review")?,
    })
}

/// Opens an incident; its number is `INC-<date>-<six hex digits of the id>`.
pub async fn open(tx: &mut Tx, product: &str, category: &str, task_force: &[StaffId], at_ms: i64) -> Result<Incident, StoreError> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let date = chrono::DateTime::from_timestamp_millis(at_ms).map(|t| t.format("%Y%m%d").to_string()).unwrap_or_default();
    let number = format!("INC-{date}-{}", &id[id.len() - 6..]).to_uppercase();
    sqlx::query(
        "INSERT INTO incidents (incident_id, incident_number, product, category, status, opened_at_ms, task_force) \
         VALUES ($1, $2, $3, $4, 'open', $5, $6)",
    )
    .bind(&id)
    .bind(&number)
    .bind(product)
    .bind(category)
    .bind(at_ms)
    .bind(to_json(&task_force)?)
    .execute(&mut **tx)
    .await?;
    find(&mut **tx, &id).await?.ok_or(StoreError::Conflict)
}

/// An incident by id or number.
pub async fn find<'e>(executor: impl sqlx::Executor<'e, Database = sqlx::Any>, key: &str) -> Result<Option<Incident>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM incidents WHERE incident_id = $1 OR incident_number = $1"))
        .bind(key)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Incidents, newest first.
pub async fn list<'e>(executor: impl sqlx::Executor<'e, Database = sqlx::Any>, include_closed: bool) -> Result<Vec<Incident>, StoreError> {
    let filter = if include_closed { "" } else { " WHERE status = 'open'" };
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM incidents{filter} ORDER BY opened_at_ms DESC, incident_id")).fetch_all(executor).await?;
    rows.iter().map(from_row).collect()
}

/// The incident's members (current and past), in joining order.
pub async fn members<'e>(executor: impl sqlx::Executor<'e, Database = sqlx::Any>, incident_id: &str) -> Result<Vec<Member>, StoreError> {
    let rows = sqlx::query(
        "SELECT complaint_id, complaint_number, joined_at_ms, linked_by, left_at_ms FROM incident_members WHERE incident_id = $1 \
         ORDER BY joined_at_ms, complaint_id",
    )
    .bind(incident_id)
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Member {
                complaint_id: row.try_get("complaint_id")?,
                complaint_number: row.try_get("complaint_number")?,
                joined_at_ms: row.try_get("joined_at_ms")?,
                linked_by: row.try_get("linked_by")?,
                left_at_ms: row.try_get("left_at_ms")?,
            })
        })
        .collect()
}

/// Makes the complaint a member and announces it on the member's subject; a member who joins
/// after the statement was issued receives it too.
pub async fn join(tx: &mut Tx, incident: &Incident, complaint_id: &ComplaintId, number: &ComplaintNumber, linked_by: &str) -> Result<(), StoreError> {
    let now = complaints_plumbing::now_ms();
    sqlx::query(
        "INSERT INTO incident_members (incident_id, complaint_id, complaint_number, joined_at_ms, linked_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (incident_id, complaint_id) DO UPDATE SET left_at_ms = NULL, joined_at_ms = $4, linked_by = $5",
    )
    .bind(&incident.incident_id)
    .bind(complaint_id.as_str())
    .bind(number.as_str())
    .bind(now)
    .bind(linked_by)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE assignments SET incident_id = $1, grade = 'red' WHERE complaint_id = $2")
        .bind(&incident.incident_id)
        .bind(complaint_id.as_str())
        .execute(&mut **tx)
        .await?;
    let subject = Subject::new(complaint_id, number);
    let joined = LifecycleEvent::JoinedMassIncident(JoinedMassIncident {
        incident_id: incident.incident_id.clone(),
        incident_number: incident.incident_number.clone(),
        task_force: incident.task_force.clone(),
        linked_by: linked_by.to_owned(),
    });
    outbox::enqueue(tx, SERVICE, subject.clone(), joined).await?;
    if !incident.statement.is_empty() {
        outbox::enqueue(tx, SERVICE, subject, statement_event(incident)?).await?;
    }
    tracing::info!(incident = %incident.incident_number, complaint_number = %number, linked_by, "joined mass incident");
    Ok(())
}

fn statement_event(incident: &Incident) -> Result<LifecycleEvent, StoreError> {
    let issued_by = StaffId::parse("statement_by", &incident.statement_by)
        .map_err(|error| StoreError::Corrupt { table: INCIDENTS, column: "statement_by", detail: error.to_string() })?;
    Ok(LifecycleEvent::UnifiedStatement(UnifiedStatement {
        incident_id: incident.incident_id.clone(),
        incident_number: incident.incident_number.clone(),
        text: incident.statement.clone(),
        issued_by,
    }))
}

/// Unlinks a member; its own investigation resumes.
pub async fn leave(tx: &mut Tx, incident: &Incident, member: &Member, by: &StaffId, reason: &str) -> Result<(), StoreError> {
    let result = sqlx::query("UPDATE incident_members SET left_at_ms = $1 WHERE incident_id = $2 AND complaint_id = $3 AND left_at_ms IS NULL")
        .bind(complaints_plumbing::now_ms())
        .bind(&incident.incident_id)
        .bind(&member.complaint_id)
        .execute(&mut **tx)
        .await?;
    expect_one_row(&result)?;
    sqlx::query("UPDATE assignments SET incident_id = '' WHERE complaint_id = $1").bind(&member.complaint_id).execute(&mut **tx).await?;
    let id = ComplaintId::parse("complaint_id", &member.complaint_id)
        .map_err(|error| StoreError::Corrupt { table: "incident_members", column: "complaint_id", detail: error.to_string() })?;
    let number = ComplaintNumber::parse("complaint_number", &member.complaint_number)
        .map_err(|error| StoreError::Corrupt { table: "incident_members", column: "complaint_number", detail: error.to_string() })?;
    let left = LifecycleEvent::LeftMassIncident(LeftMassIncident {
        incident_id: incident.incident_id.clone(),
        incident_number: incident.incident_number.clone(),
        unlinked_by: by.clone(),
        reason: reason.to_owned(),
    });
    outbox::enqueue(tx, SERVICE, Subject::new(&id, &number), left).await?;
    Ok(())
}

/// Records the unified statement and queues it for every current member.
pub async fn issue_statement(tx: &mut Tx, incident: &Incident, text: &str, by: &StaffId) -> Result<usize, StoreError> {
    let result = sqlx::query(
        "UPDATE incidents SET statement = $1, statement_by = $2, statement_at_ms = $3 WHERE incident_id = $4 AND status = 'open' AND statement = ''",
    )
    .bind(text)
    .bind(by.as_str())
    .bind(complaints_plumbing::now_ms())
    .bind(&incident.incident_id)
    .execute(&mut **tx)
    .await?;
    expect_one_row(&result)?;
    let issued = find(&mut **tx, &incident.incident_id).await?.ok_or(StoreError::Conflict)?;
    let event = statement_event(&issued)?;
    let mut sent = 0;
    for member in members(&mut **tx, &incident.incident_id).await?.into_iter().filter(|m| m.left_at_ms.is_none()) {
        let (Ok(id), Ok(number)) = (ComplaintId::parse("complaint_id", &member.complaint_id), ComplaintNumber::parse("n", &member.complaint_number)) else {
            continue;
        };
        outbox::enqueue(tx, SERVICE, Subject::new(&id, &number), event.clone()).await?;
        sent += 1;
    }
    Ok(sent)
}

/// Closes the incident with its root cause and the post-incident review.
pub async fn close(tx: &mut Tx, incident: &Incident, root_cause: &str, review: &str) -> Result<(), StoreError> {
    let result = sqlx::query(
        "UPDATE incidents SET status = 'closed', root_cause = $1, review = $2, closed_at_ms = $3 WHERE incident_id = $4 AND status = 'open'",
    )
    .bind(root_cause)
    .bind(review)
    .bind(complaints_plumbing::now_ms())
    .bind(&incident.incident_id)
    .execute(&mut **tx)
    .await?;
    expect_one_row(&result)
}
