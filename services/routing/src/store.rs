//! Routing's store: assignments, written with their `triaged` and `assigned` events.

use sqlx::{AnyPool, Row};

use complaints_shared::store::Tx;

#[derive(Debug, Clone)]
pub struct Assignment {
    pub complaint_id: String,
    pub complaint_number: String,
    pub grade: String,
    pub category: String,
    pub product: String,
    pub department: String,
    pub handler_id: String,
    pub reasons: Vec<String>,
    pub recused: Vec<String>,
}

pub async fn insert(tx: &mut Tx, assignment: &Assignment) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO assignments (complaint_id, complaint_number, grade, category, product, department, handler_id, \
         reasons, recused, assigned_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&assignment.complaint_id)
    .bind(&assignment.complaint_number)
    .bind(&assignment.grade)
    .bind(&assignment.category)
    .bind(&assignment.product)
    .bind(&assignment.department)
    .bind(&assignment.handler_id)
    .bind(serde_json::to_string(&assignment.reasons).unwrap_or_default())
    .bind(serde_json::to_string(&assignment.recused).unwrap_or_default())
    .bind(complaints_shared::now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Open caseload per handler, for load balancing.
pub async fn caseloads(tx: &mut Tx) -> Result<std::collections::HashMap<String, i64>, sqlx::Error> {
    let rows = sqlx::query("SELECT handler_id, COUNT(*) AS open_cases FROM assignments GROUP BY handler_id")
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(|row| Ok((row.try_get("handler_id")?, row.try_get("open_cases")?))).collect()
}

pub async fn find(pool: &AnyPool, complaint_id: &str) -> Result<Option<Assignment>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT complaint_id, complaint_number, grade, category, product, department, handler_id, reasons, recused \
         FROM assignments WHERE complaint_id = $1 OR complaint_number = $1",
    )
    .bind(complaint_id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        let reasons: String = row.try_get("reasons")?;
        let recused: String = row.try_get("recused")?;
        Ok(Assignment {
            complaint_id: row.try_get("complaint_id")?,
            complaint_number: row.try_get("complaint_number")?,
            grade: row.try_get("grade")?,
            category: row.try_get("category")?,
            product: row.try_get("product")?,
            department: row.try_get("department")?,
            handler_id: row.try_get("handler_id")?,
            reasons: serde_json::from_str(&reasons).unwrap_or_default(),
            recused: serde_json::from_str(&recused).unwrap_or_default(),
        })
    })
    .transpose()
}
