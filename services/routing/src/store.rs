//! Routing's store: assignments (written with their `triaged` and `assigned` events), the
//! history of reassignments and the re-triage corrections. The caseload counts open cases.

use std::collections::HashMap;

use complaints_domain::events::ReassignCause;
use complaints_domain::{ComplaintId, ComplaintNumber, Grade, StaffId};
use complaints_plumbing::store::{expect_one_row, json_column, parsed_column, to_json, value_rows, StoreError, Tx, ROWS_PER_STATEMENT};
use sqlx::any::AnyRow;
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
    /// Counts in the handler's caseload: the complaint is not closed, withdrawn or merged.
    pub open: bool,
    /// The complaint's summary and description (what a correction labels).
    pub text: String,
    pub staff_involved: Vec<StaffId>,
    pub branch_involved: String,
    pub tags: Vec<String>,
    pub co_reviewers: Vec<StaffId>,
    pub jurisdiction: String,
    /// Protected lookup key of the customer's ID number.
    pub customer_key: String,
    pub received_at_ms: i64,
    pub channel: String,
    /// MinHash signature of the text (`detection::encode`); empty for a text without words.
    pub signature: String,
    /// Place in the customer's series of complaints on the matter (1 = first).
    pub series_count: i64,
    /// The mass incident it belongs to; empty for none.
    pub incident_id: String,
}

const TABLE: &str = "assignments";

pub async fn insert(tx: &mut Tx, assignment: &Assignment) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO assignments (complaint_id, complaint_number, grade, category, product, department, handler_id, \
         reasons, recused, assigned_at_ms, open_case, complaint_text, staff_involved, branch_involved, tags, co_reviewers, jurisdiction, \
         customer_key, received_at_ms, channel, signature, series_count, incident_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $16, $11, $12, $13, $14, '[]', $15, $17, $18, $19, $20, $21, $22)",
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
    .bind(&assignment.text)
    .bind(to_json(&assignment.staff_involved)?)
    .bind(&assignment.branch_involved)
    .bind(to_json(&assignment.tags)?)
    .bind(&assignment.jurisdiction)
    .bind(i64::from(assignment.open))
    .bind(&assignment.customer_key)
    .bind(assignment.received_at_ms)
    .bind(&assignment.channel)
    .bind(&assignment.signature)
    .bind(assignment.series_count)
    .bind(&assignment.incident_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Open cases per handler, for load balancing.
pub async fn caseloads(tx: &mut Tx) -> Result<HashMap<String, i64>, StoreError> {
    let rows = sqlx::query("SELECT handler_id, COUNT(*) AS open_cases FROM assignments WHERE open_case = 1 GROUP BY handler_id")
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(|row| Ok((row.try_get("handler_id")?, row.try_get("open_cases")?))).collect()
}

/// The complaint left the handler's caseload (closed, withdrawn, merged). Idempotent.
pub async fn close(tx: &mut Tx, complaint_id: &ComplaintId) -> Result<(), StoreError> {
    sqlx::query("UPDATE assignments SET open_case = 0 WHERE complaint_id = $1")
        .bind(complaint_id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A complaint under review is worked again: it counts in the caseload once more.
pub async fn reopen(tx: &mut Tx, complaint_id: &ComplaintId) -> Result<(), StoreError> {
    sqlx::query("UPDATE assignments SET open_case = 1 WHERE complaint_id = $1")
        .bind(complaint_id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A move of a case to another handler, as [`reassign`] records it.
pub struct Move<'a> {
    pub cause: ReassignCause,
    pub handler: &'a StaffId,
    pub department: &'a str,
    pub grade: Grade,
    pub category: &'a str,
    pub product: &'a str,
    pub co_reviewers: &'a [StaffId],
    pub reason: &'a str,
    pub by: &'a str,
}

/// Moves the assignment to the new handler and appends the move to the history.
pub async fn reassign(tx: &mut Tx, current: &Assignment, to: &Move<'_>) -> Result<(), StoreError> {
    let now = complaints_plumbing::now_ms();
    let result = sqlx::query(
        "UPDATE assignments SET handler_id = $1, department = $2, grade = $3, category = $4, product = $5, co_reviewers = $6 \
         WHERE complaint_id = $7 AND handler_id = $8",
    )
    .bind(to.handler.as_str())
    .bind(to.department)
    .bind(to.grade.as_str())
    .bind(to.category)
    .bind(to.product)
    .bind(to_json(&to.co_reviewers)?)
    .bind(current.complaint_id.as_str())
    .bind(current.handler.as_str())
    .execute(&mut **tx)
    .await?;
    expect_one_row(&result)?;
    sqlx::query(
        "INSERT INTO reassignments (reassignment_id, complaint_id, cause, previous_handler_id, handler_id, department, reason, \
         reassigned_by, reassigned_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(current.complaint_id.as_str())
    .bind(to.cause.as_str())
    .bind(current.handler.as_str())
    .bind(to.handler.as_str())
    .bind(to.department)
    .bind(to.reason)
    .bind(to.by)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A re-triage correction: the classifier's (or the last) labels and the corrected ones.
pub struct Correction {
    pub complaint_number: String,
    pub text: String,
    pub category_before: String,
    pub category: String,
    pub grade_before: String,
    pub grade: String,
    pub product_before: String,
    pub product: String,
    pub corrected_by: String,
    pub reason: String,
    pub corrected_at_ms: i64,
    /// Paging cursor: the correction's id (UUIDv7, in recording order).
    pub id: String,
}

pub async fn record_correction(tx: &mut Tx, current: &Assignment, corrected: &Correction) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO triage_corrections (correction_id, complaint_id, complaint_number, complaint_text, category_before, category, \
         grade_before, grade, product_before, product, corrected_by, reason, corrected_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(current.complaint_id.as_str())
    .bind(current.complaint_number.as_str())
    .bind(&corrected.text)
    .bind(&corrected.category_before)
    .bind(&corrected.category)
    .bind(&corrected.grade_before)
    .bind(&corrected.grade)
    .bind(&corrected.product_before)
    .bind(&corrected.product)
    .bind(&corrected.corrected_by)
    .bind(&corrected.reason)
    .bind(corrected.corrected_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Corrections recorded after the one with id `after` (all when empty), oldest first.
pub async fn corrections(pool: &AnyPool, after: &str, limit: i64) -> Result<Vec<Correction>, StoreError> {
    let rows = sqlx::query(
        "SELECT correction_id, complaint_number, complaint_text, category_before, category, grade_before, grade, product_before, \
         product, corrected_by, reason, corrected_at_ms FROM triage_corrections WHERE correction_id > $1 ORDER BY correction_id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Correction {
                id: row.try_get("correction_id")?,
                complaint_number: row.try_get("complaint_number")?,
                text: row.try_get("complaint_text")?,
                category_before: row.try_get("category_before")?,
                category: row.try_get("category")?,
                grade_before: row.try_get("grade_before")?,
                grade: row.try_get("grade")?,
                product_before: row.try_get("product_before")?,
                product: row.try_get("product")?,
                corrected_by: row.try_get("corrected_by")?,
                reason: row.try_get("reason")?,
                corrected_at_ms: row.try_get("corrected_at_ms")?,
            })
        })
        .collect()
}

const SELECT: &str = "SELECT complaint_id, complaint_number, grade, category, product, department, handler_id, reasons, recused, \
    open_case, complaint_text, staff_involved, branch_involved, tags, co_reviewers, jurisdiction, customer_key, received_at_ms, channel, \
    signature, series_count, incident_id FROM assignments";

fn from_row(row: &AnyRow) -> Result<Assignment, StoreError> {
    Ok(Assignment {
        complaint_id: parsed_column(row, TABLE, "complaint_id", |v| ComplaintId::parse("complaint_id", v).ok())?,
        complaint_number: parsed_column(row, TABLE, "complaint_number", |v| ComplaintNumber::parse("complaint_number", v).ok())?,
        grade: parsed_column(row, TABLE, "grade", Grade::parse)?,
        category: row.try_get("category")?,
        product: row.try_get("product")?,
        department: row.try_get("department")?,
        handler: parsed_column(row, TABLE, "handler_id", |v| StaffId::parse("handler_id", v).ok())?,
        reasons: json_column(row, TABLE, "reasons")?,
        recused: json_column(row, TABLE, "recused")?,
        open: row.try_get::<i64, _>("open_case")? == 1,
        text: row.try_get("complaint_text")?,
        staff_involved: json_column(row, TABLE, "staff_involved")?,
        branch_involved: row.try_get("branch_involved")?,
        tags: json_column(row, TABLE, "tags")?,
        co_reviewers: json_column(row, TABLE, "co_reviewers")?,
        jurisdiction: row.try_get("jurisdiction")?,
        customer_key: row.try_get("customer_key")?,
        received_at_ms: row.try_get("received_at_ms")?,
        channel: row.try_get("channel")?,
        signature: row.try_get("signature")?,
        series_count: row.try_get("series_count")?,
        incident_id: row.try_get("incident_id")?,
    })
}

/// The assignment of a complaint named by its id or its number.
pub async fn find<'e>(executor: impl sqlx::Executor<'e, Database = sqlx::Any>, key: &str) -> Result<Option<Assignment>, StoreError> {
    let row = sqlx::query(&format!("{SELECT} WHERE complaint_id = $1 OR complaint_number = $1")).bind(key).fetch_optional(executor).await?;
    row.as_ref().map(from_row).transpose()
}

/// The customer's complaints received since `since_ms`, oldest first (bounded by one
/// customer's complaints, through the customer index).
pub async fn customer_history(tx: &mut Tx, customer_key: &str, since_ms: i64) -> Result<Vec<Assignment>, StoreError> {
    if customer_key.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(&format!("{SELECT} WHERE customer_key = $1 AND received_at_ms >= $2 ORDER BY received_at_ms, complaint_id"))
        .bind(customer_key)
        .bind(since_ms)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Assignments by complaint id.
pub async fn by_ids(tx: &mut Tx, ids: &[String]) -> Result<Vec<Assignment>, StoreError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("{SELECT} WHERE complaint_id IN ({}) ORDER BY received_at_ms, complaint_id", placeholders.join(", "));
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            found.push(from_row(&row)?);
        }
    }
    Ok(found)
}

/// Complaints received since `since_ms` that share one of `keys`. The keys are written into
/// the statement as literals (they are hex digits this crate made; anything else is refused):
/// PostgreSQL then plans each lookup for its keys, where a cached generic plan for "any of 16
/// parameters" was seen to scan the whole band table. The age is checked here: the table holds
/// only the window anyway (older rows are pruned on every insert).
pub async fn band_candidates(tx: &mut Tx, keys: &[String], since_ms: i64) -> Result<Vec<String>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(bad) = keys.iter().find(|key| key.is_empty() || !key.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(StoreError::Corrupt { table: "similarity_bands", column: "band_key", detail: format!("not a band key: {bad:?}") });
    }
    let literals: Vec<String> = keys.iter().map(|key| format!("'{key}'")).collect();
    let sql = format!("SELECT complaint_id, received_at_ms FROM similarity_bands WHERE band_key IN ({})", literals.join(", "));
    let mut ids = Vec::new();
    for row in sqlx::query(&sql).persistent(false).fetch_all(&mut **tx).await? {
        let received: i64 = row.try_get("received_at_ms")?;
        let id: String = row.try_get("complaint_id")?;
        if received >= since_ms && !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Files the complaint's band keys and forgets those older than `prune_before_ms`.
pub async fn file_bands(tx: &mut Tx, complaint_id: &ComplaintId, received_at_ms: i64, keys: &[String], prune_before_ms: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM similarity_bands WHERE received_at_ms < $1").bind(prune_before_ms).execute(&mut **tx).await?;
    if keys.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO similarity_bands (band_key, complaint_id, received_at_ms) VALUES {} ON CONFLICT DO NOTHING",
        value_rows(keys.len(), 3, 1)
    );
    let mut query = sqlx::query(&sql);
    for key in keys {
        query = query.bind(key).bind(complaint_id.as_str()).bind(received_at_ms);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Links a repeat to an earlier complaint of the series.
pub async fn link_repeat(tx: &mut Tx, complaint_id: &ComplaintId, earlier: &Assignment, similarity: f64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO repeat_links (complaint_id, earlier_id, earlier_number, similarity_permille, linked_at_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(complaint_id.as_str())
    .bind(earlier.complaint_id.as_str())
    .bind(earlier.complaint_number.as_str())
    .bind((similarity * 1000.0).round() as i64)
    .bind(complaints_plumbing::now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Clears the lookup key of an erased customer's complaint.
pub async fn forget_customer(tx: &mut Tx, complaint_id: &ComplaintId) -> Result<(), StoreError> {
    sqlx::query("UPDATE assignments SET customer_key = '' WHERE complaint_id = $1").bind(complaint_id.as_str()).execute(&mut **tx).await?;
    Ok(())
}
