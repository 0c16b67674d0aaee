//! Routing's store: assignments, written with their `triaged` and `assigned` events.

use std::collections::HashMap;

use complaints_domain::{ComplaintId, ComplaintNumber, Grade, StaffId};
use complaints_plumbing::store::{json_column, parsed_column, to_json, StoreError, Tx};
use sqlx::{AnyPool, Row};

#[derive(Debug, Clone)]
pub struct Assignment {
    pub complaint_id: ComplaintId,
    pub complaint_number: ComplaintNumber,
    pub grade: Grade,
    pub category: String,
    pub product: String,
    pub department: String,
    pub handler: StaffId,
    pub reasons: Vec<String>,
    pub recused: Vec<StaffId>,
}

const TABLE: &str = "assignments";

pub async fn insert(tx: &mut Tx, assignment: &Assignment) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO assignments (complaint_id, complaint_number, grade, category, product, department, handler_id, \
         reasons, recused, assigned_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(assignment.complaint_id.as_str())
    .bind(assignment.complaint_number.as_str())
    .bind(assignment.grade.as_str())
    .bind(&assignment.category)
    .bind(&assignment.product)
    .bind(&assignment.department)
    .bind(assignment.handler.as_str())
    .bind(to_json(&assignment.reasons)?)
    .bind(to_json(&assignment.recused)?)
    .bind(complaints_plumbing::now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Cases assigned per handler, for load balancing.
pub async fn caseloads(tx: &mut Tx) -> Result<HashMap<String, i64>, StoreError> {
    let rows = sqlx::query("SELECT handler_id, COUNT(*) AS open_cases FROM assignments GROUP BY handler_id")
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(|row| Ok((row.try_get("handler_id")?, row.try_get("open_cases")?))).collect()
}

/// The assignment of a complaint named by its id or its number.
pub async fn find(pool: &AnyPool, key: &ComplaintId) -> Result<Option<Assignment>, StoreError> {
    let row = sqlx::query(
        "SELECT complaint_id, complaint_number, grade, category, product, department, handler_id, reasons, recused \
         FROM assignments WHERE complaint_id = $1 OR complaint_number = $1",
    )
    .bind(key.as_str())
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(Assignment {
            complaint_id: parsed_column(&row, TABLE, "complaint_id", |v| ComplaintId::parse("complaint_id", v).ok())?,
            complaint_number: parsed_column(&row, TABLE, "complaint_number", |v| ComplaintNumber::parse("complaint_number", v).ok())?,
            grade: parsed_column(&row, TABLE, "grade", Grade::parse)?,
            category: row.try_get("category")?,
            product: row.try_get("product")?,
            department: row.try_get("department")?,
            handler: parsed_column(&row, TABLE, "handler_id", |v| StaffId::parse("handler_id", v).ok())?,
            reasons: json_column(&row, TABLE, "reasons")?,
            recused: json_column(&row, TABLE, "recused")?,
        })
    })
    .transpose()
}
