//! Intake's store: complaints, the per-day number sequence, responses and follow-ups. Every
//! state change writes its event to the outbox in the same transaction.

use complaints_proto::v1 as pb;
use complaints_proto::v1::event_envelope::Payload;
use complaints_shared::outbox::{self, Subject};
use complaints_shared::store::Tx;
use sqlx::{AnyPool, Row};

use crate::domain::{NewComplaint, Status};
use crate::SERVICE;

/// A stored complaint as intake needs it back. No `Debug`: it holds personal data in clear.
#[derive(Clone)]
pub struct StoredComplaint {
    pub complaint_id: String,
    pub complaint_number: String,
    pub status: Status,
    pub channel: String,
    pub customer_name: String,
    pub id_number: String,
    pub phone: String,
    pub account_number: String,
    pub summary: String,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub received_at_ms: i64,
    pub request_hash: String,
    pub traceparent: String,
}

/// Result of a registration attempt.
pub enum Registered {
    New(StoredComplaint),
    /// The channel had sent this request key before; the original complaint.
    Existing(StoredComplaint),
}

const SELECT: &str = "SELECT complaint_id, complaint_number, status, channel, customer_name, id_number, phone, \
    account_number, summary, amount_minor, currency, received_at_ms, request_hash, traceparent FROM complaints";

fn from_row(row: &sqlx::any::AnyRow) -> Result<StoredComplaint, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(StoredComplaint {
        complaint_id: row.try_get("complaint_id")?,
        complaint_number: row.try_get("complaint_number")?,
        status: Status::parse(&status).ok_or_else(|| sqlx::Error::Decode(format!("unknown status {status}").into()))?,
        channel: row.try_get("channel")?,
        customer_name: row.try_get("customer_name")?,
        id_number: row.try_get("id_number")?,
        phone: row.try_get("phone")?,
        account_number: row.try_get("account_number")?,
        summary: row.try_get("summary")?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        received_at_ms: row.try_get("received_at_ms")?,
        request_hash: row.try_get("request_hash")?,
        traceparent: row.try_get("traceparent")?,
    })
}

pub async fn find_by_request_key(pool: &AnyPool, channel: &str, request_key: &str) -> Result<Option<StoredComplaint>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} WHERE channel = $1 AND request_key = $2"))
        .bind(channel)
        .bind(request_key)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// A complaint by id or number, through the pool or inside a transaction.
pub async fn find<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    key: &str,
) -> Result<Option<StoredComplaint>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} WHERE complaint_id = $1 OR complaint_number = $1"))
        .bind(key)
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Next number of the day, e.g. `CMP-20261124-000042`; atomic on both backends.
async fn next_number(tx: &mut Tx, prefix: &str, received_at_ms: i64) -> Result<String, sqlx::Error> {
    let day = chrono::DateTime::from_timestamp_millis(received_at_ms)
        .unwrap_or_default()
        .format("%Y%m%d")
        .to_string();
    let value: i64 = sqlx::query(
        "INSERT INTO complaint_numbers (day, last_value) VALUES ($1, 1) \
         ON CONFLICT (day) DO UPDATE SET last_value = complaint_numbers.last_value + 1 RETURNING last_value",
    )
    .bind(&day)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    Ok(format!("{prefix}-{day}-{value:06}"))
}

/// Stores a new complaint and its `received` event, or returns the one registered earlier under
/// the same channel request key.
pub async fn register(pool: &AnyPool, prefix: &str, complaint: &NewComplaint) -> Result<Registered, sqlx::Error> {
    let channel = complaint.channel.as_str();
    if let Some(existing) = find_by_request_key(pool, channel, &complaint.request_key).await? {
        return Ok(Registered::Existing(existing));
    }
    let mut tx = pool.begin().await?;
    let complaint_id = uuid::Uuid::now_v7().to_string();
    let number = next_number(&mut tx, prefix, complaint.received_at_ms).await?;
    let now = complaints_shared::now_ms();
    let customer = &complaint.customer;
    let inserted = sqlx::query(
        "INSERT INTO complaints (complaint_id, complaint_number, channel, request_key, request_hash, status, \
         customer_name, id_type, id_number, phone, email, address, account_number, preferred_channel, summary, \
         description, demand, amount_minor, currency, product_hint, receiving_staff, staff_involved, branch_involved, \
         tags, evidence, received_at_ms, traceparent, created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
         $23, $24, $25, $26, $27, $28, $28) ON CONFLICT (channel, request_key) DO NOTHING",
    )
    .bind(&complaint_id)
    .bind(&number)
    .bind(channel)
    .bind(&complaint.request_key)
    .bind(&complaint.request_hash)
    .bind(Status::Received.as_str())
    .bind(&customer.name)
    .bind(customer.id_type.as_str())
    .bind(&customer.id_number)
    .bind(&customer.phone)
    .bind(&customer.email)
    .bind(&customer.address)
    .bind(&customer.account_number)
    .bind(customer.preferred_channel.map(|c| c.as_str()).unwrap_or_default())
    .bind(&complaint.summary)
    .bind(&complaint.description)
    .bind(&complaint.demand)
    .bind(complaint.amount_involved.as_ref().map(|m| m.minor_units))
    .bind(complaint.amount_involved.as_ref().map(|m| m.currency.clone()))
    .bind(&complaint.product_hint)
    .bind(&complaint.receiving_staff)
    .bind(serde_json::to_string(&complaint.staff_involved).unwrap_or_default())
    .bind(&complaint.branch_involved)
    .bind(serde_json::to_string(&complaint.tags).unwrap_or_default())
    .bind(serde_json::to_string(&complaint.evidence).unwrap_or_default())
    .bind(complaint.received_at_ms)
    .bind(complaints_shared::telemetry::current_trace_context().0)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        // A concurrent retry with the same key won the race.
        tx.rollback().await?;
        return find_by_request_key(pool, channel, &complaint.request_key)
            .await?
            .map(Registered::Existing)
            .ok_or(sqlx::Error::RowNotFound);
    }
    let payload = Payload::Received(pb::ComplaintReceived {
        channel: complaint.channel.to_proto() as i32,
        summary: complaint.summary.clone(),
        description: complaint.description.clone(),
        demand: complaint.demand.clone(),
        amount_involved: complaint.amount_involved.as_ref().map(|m| m.to_proto()),
        product_hint: complaint.product_hint.clone(),
        contact: Some(pb::CustomerContact {
            name: customer.name.clone(),
            phone: customer.phone.clone(),
            email: customer.email.clone(),
            preferred_channel: customer.preferred_channel.unwrap_or(complaint.channel).to_proto() as i32,
        }),
        receiving_staff: complaint.receiving_staff.clone(),
        staff_involved: complaint.staff_involved.clone(),
        branch_involved: complaint.branch_involved.clone(),
        tags: complaint.tags.clone(),
        received_at_ms: complaint.received_at_ms,
    });
    outbox::enqueue(&mut tx, SERVICE, Subject::new(&complaint_id, &number), payload).await?;
    let stored = find(&mut *tx, &complaint_id).await?.ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(Registered::New(stored))
}

/// Moves the complaint from `from` to `to` inside `tx`; `false` when it was no longer in `from`
/// (a concurrent command won), so check-then-act races cannot both succeed.
pub async fn transition(tx: &mut Tx, complaint_id: &str, from: Status, to: Status) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("UPDATE complaints SET status = $1, updated_at_ms = $2 WHERE complaint_id = $3 AND status = $4")
        .bind(to.as_str())
        .bind(complaints_shared::now_ms())
        .bind(complaint_id)
        .bind(from.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Sets the status inside `tx`.
pub async fn set_status(tx: &mut Tx, complaint_id: &str, status: Status) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE complaints SET status = $1, updated_at_ms = $2 WHERE complaint_id = $3")
        .bind(status.as_str())
        .bind(complaints_shared::now_ms())
        .bind(complaint_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records the customer's answer and emits `customer_responded`; `false` (nothing written) when
/// the complaint no longer awaits an answer.
pub async fn record_response(
    tx: &mut Tx,
    complaint: &StoredComplaint,
    accept: bool,
    comment: &str,
    recorded_by: &str,
) -> Result<bool, sqlx::Error> {
    let next = if accept { Status::Accepted } else { Status::Objected };
    if !transition(tx, &complaint.complaint_id, Status::AwaitingResponse, next).await? {
        return Ok(false);
    }
    let response = if accept { pb::CustomerResponse::Accepted } else { pb::CustomerResponse::Objected };
    sqlx::query(
        "INSERT INTO customer_responses (response_id, complaint_id, response, comment, recorded_by, recorded_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&complaint.complaint_id)
    .bind(if accept { "accepted" } else { "objected" })
    .bind(comment)
    .bind(recorded_by)
    .bind(complaints_shared::now_ms())
    .execute(&mut **tx)
    .await?;
    let payload = Payload::CustomerResponded(pb::CustomerResponded {
        response: response as i32,
        comment: comment.to_owned(),
        recorded_by: recorded_by.to_owned(),
    });
    outbox::enqueue(tx, SERVICE, subject(complaint), payload).await?;
    Ok(true)
}

/// Records the follow-up answer, closes the complaint and emits both events; `false` (nothing
/// written) when the complaint is not awaiting its follow-up.
pub async fn record_follow_up(
    tx: &mut Tx,
    complaint: &StoredComplaint,
    satisfaction: pb::Satisfaction,
    accepts_outcome: bool,
    recorded_by: &str,
) -> Result<bool, sqlx::Error> {
    if !transition(tx, &complaint.complaint_id, Status::Executed, Status::Closed).await? {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO follow_ups (complaint_id, satisfaction, accepts_outcome, recorded_by, recorded_at_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&complaint.complaint_id)
    .bind(satisfaction.as_str_name())
    .bind(i64::from(accepts_outcome))
    .bind(recorded_by)
    .bind(complaints_shared::now_ms())
    .execute(&mut **tx)
    .await?;
    let follow_up = Payload::FollowUpRecorded(pb::FollowUpRecorded {
        satisfaction: satisfaction as i32,
        accepts_outcome,
        recorded_by: recorded_by.to_owned(),
    });
    outbox::enqueue(tx, SERVICE, subject(complaint), follow_up).await?;
    let closed = Payload::Closed(pb::ComplaintClosed { reason: "follow-up recorded".into() });
    outbox::enqueue(tx, SERVICE, subject(complaint), closed).await?;
    Ok(true)
}

fn subject(complaint: &StoredComplaint) -> Subject<'_> {
    Subject::new(&complaint.complaint_id, &complaint.complaint_number).in_trace(&complaint.traceparent)
}

