//! Notification's store: contacts and deliveries.

use complaints_domain::events::NotificationKind;
use complaints_plumbing::store::{json_column, parsed_column, to_json, StoreError, Tx};
use sqlx::{AnyPool, Row};

use crate::domain::Message;

/// No `Debug`: personal data.
#[derive(Clone)]
pub struct Contact {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub channel: String,
}

/// What a delivery is: a notice to the customer, or an alert to a member of staff (clock
/// warnings, breaches and their escalation, the Red-grade task group). Only customer notices
/// are announced as `customer_notified`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    Customer(NotificationKind),
    Staff(Alert),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    ClockWarning,
    ClockBreached,
    RedTaskGroup,
    /// A case was handed to the recipient (reassignment, re-triage, re-review).
    CaseAssigned,
}

impl DeliveryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer(kind) => kind.as_str(),
            Self::Staff(Alert::ClockWarning) => "clock_warning",
            Self::Staff(Alert::ClockBreached) => "clock_breached",
            Self::Staff(Alert::RedTaskGroup) => "red_task_group",
            Self::Staff(Alert::CaseAssigned) => "case_assigned",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "clock_warning" => Self::Staff(Alert::ClockWarning),
            "clock_breached" => Self::Staff(Alert::ClockBreached),
            "red_task_group" => Self::Staff(Alert::RedTaskGroup),
            "case_assigned" => Self::Staff(Alert::CaseAssigned),
            other => Self::Customer(NotificationKind::parse(other)?),
        })
    }
}

/// The channel staff alerts go through (the bank's internal messaging behind the gateway).
pub const STAFF_CHANNEL: &str = "staff";

/// No `Debug`: the recipient is personal data.
#[derive(Clone)]
pub struct Delivery {
    pub delivery_id: String,
    pub complaint_id: String,
    pub complaint_number: String,
    pub kind: DeliveryKind,
    pub channel: String,
    pub recipient: String,
    pub message: Message,
    pub status: String,
    pub attempts: i64,
    pub delivered_at_ms: Option<i64>,
    /// Trace context of the event that called for the delivery.
    pub traceparent: String,
}

pub async fn save_contact(tx: &mut Tx, complaint_id: &str, number: &str, contact: &Contact) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO contacts (complaint_id, complaint_number, name, phone, email, channel) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (complaint_id) DO NOTHING",
    )
    .bind(complaint_id)
    .bind(number)
    .bind(&contact.name)
    .bind(&contact.phone)
    .bind(&contact.email)
    .bind(&contact.channel)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn contact(tx: &mut Tx, complaint_id: &str) -> Result<Option<Contact>, StoreError> {
    let row = sqlx::query("SELECT name, phone, email, channel FROM contacts WHERE complaint_id = $1")
        .bind(complaint_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|row| -> Result<Contact, StoreError> {
        Ok(Contact {
            name: row.try_get("name")?,
            phone: row.try_get("phone")?,
            email: row.try_get("email")?,
            channel: row.try_get("channel")?,
        })
    })
    .transpose()
}

/// Queues a delivery; a second call with the same id changes nothing.
pub async fn queue(tx: &mut Tx, delivery: &Delivery) -> Result<(), StoreError> {
    let now = complaints_plumbing::now_ms();
    sqlx::query(
        "INSERT INTO deliveries (delivery_id, complaint_id, complaint_number, kind, channel, recipient, body, status, \
         attempts, next_attempt_at_ms, last_error, traceparent, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, '', $9, $8) \
         ON CONFLICT (delivery_id) DO NOTHING",
    )
    .bind(&delivery.delivery_id)
    .bind(&delivery.complaint_id)
    .bind(&delivery.complaint_number)
    .bind(delivery.kind.as_str())
    .bind(&delivery.channel)
    .bind(&delivery.recipient)
    .bind(to_json(&delivery.message)?)
    .bind(now)
    .bind(&delivery.traceparent)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const SELECT: &str = "SELECT delivery_id, complaint_id, complaint_number, kind, channel, recipient, body, status, attempts, \
    delivered_at_ms, traceparent FROM deliveries";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        delivery_id: row.try_get("delivery_id")?,
        complaint_id: row.try_get("complaint_id")?,
        complaint_number: row.try_get("complaint_number")?,
        kind: parsed_column(row, "deliveries", "kind", DeliveryKind::parse)?,
        channel: row.try_get("channel")?,
        recipient: row.try_get("recipient")?,
        message: json_column(row, "deliveries", "body")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        delivered_at_ms: row.try_get("delivered_at_ms")?,
        traceparent: row.try_get("traceparent")?,
    })
}

pub async fn due(pool: &AnyPool, now_ms: i64, limit: i64) -> Result<Vec<Delivery>, StoreError> {
    sqlx::query(&format!("{SELECT} WHERE status = 'pending' AND next_attempt_at_ms <= $1 ORDER BY next_attempt_at_ms LIMIT $2"))
        .bind(now_ms)
        .bind(limit)
        .fetch_all(pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub async fn for_complaint(pool: &AnyPool, complaint_id: &str) -> Result<Vec<Delivery>, StoreError> {
    sqlx::query(&format!("{SELECT} WHERE complaint_id = $1 OR complaint_number = $1 ORDER BY created_at_ms, delivery_id"))
        .bind(complaint_id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Marks a delivery as made; `false` when it was already marked (another worker won).
pub async fn mark_delivered(tx: &mut Tx, delivery_id: &str) -> Result<bool, StoreError> {
    let now = complaints_plumbing::now_ms();
    let result = sqlx::query(
        "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at_ms = $1 \
         WHERE delivery_id = $2 AND status = 'pending'",
    )
    .bind(now)
    .bind(delivery_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn mark_failed(pool: &AnyPool, delivery_id: &str, next_attempt_at_ms: i64, error: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE deliveries SET attempts = attempts + 1, next_attempt_at_ms = $1, last_error = $2 WHERE delivery_id = $3")
        .bind(next_attempt_at_ms)
        .bind(error)
        .bind(delivery_id)
        .execute(pool)
        .await?;
    Ok(())
}
