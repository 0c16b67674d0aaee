//! Notification's store: contacts and deliveries.

use complaints_domain::events::NotificationKind;
use complaints_plumbing::store::{json_column, parsed_column, to_json, StoreError, Tx};
use std::sync::Arc;

use complaints_plumbing::vault::{is_sealed, DataKey, Opened, Vault, VaultError};
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
    /// A staff id, or the customer's address sealed under the customer's data key (see
    /// [`recipient_place`]).
    pub recipient: String,
    pub message: Message,
    pub status: String,
    pub attempts: i64,
    pub delivered_at_ms: Option<i64>,
    /// Trace context of the event that called for the delivery.
    pub traceparent: String,
}

/// The data-key reference of a complaint's contact: the customer's protected lookup key, or
/// the complaint itself for a contact that came without one.
pub fn key_ref(customer_key: &str, complaint_id: &str) -> String {
    if customer_key.is_empty() {
        format!("complaint:{complaint_id}")
    } else {
        customer_key.to_owned()
    }
}

/// The place a contact column is sealed for.
fn contact_place(column: &str, complaint_id: &str) -> String {
    format!("contacts.{column}:{complaint_id}")
}

/// The place a delivery's recipient is sealed for.
pub fn recipient_place(delivery_id: &str) -> String {
    format!("deliveries.recipient:{delivery_id}")
}

/// Stores the contact sealed under the customer's data key (created in `tx` when new).
pub async fn save_contact(tx: &mut Tx, vault: &Vault, complaint_id: &str, number: &str, contact: &Contact, customer_key: &str) -> Result<(), VaultError> {
    let key = vault.key_in(tx, &key_ref(customer_key, complaint_id)).await?;
    let seal = |column: &str, clear: &str| key.seal(&contact_place(column, complaint_id), clear);
    sqlx::query(
        "INSERT INTO contacts (complaint_id, complaint_number, name, phone, email, channel, customer_key) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (complaint_id) DO NOTHING",
    )
    .bind(complaint_id)
    .bind(number)
    .bind(seal("name", &contact.name))
    .bind(seal("phone", &contact.phone))
    .bind(seal("email", &contact.email))
    .bind(&contact.channel)
    .bind(customer_key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What notification knows of a complaint's contact.
pub enum StoredContact {
    /// Not yet (the `received` event has not been applied).
    Unknown,
    /// The customer's data were erased.
    Erased,
    /// The contact, opened, with the data key that seals what is derived from it.
    Known(Contact, Arc<DataKey>),
}

/// A complaint's contact.
pub async fn contact(tx: &mut Tx, vault: &Vault, complaint_id: &str) -> Result<StoredContact, VaultError> {
    let row = sqlx::query("SELECT name, phone, email, channel, customer_key FROM contacts WHERE complaint_id = $1")
        .bind(complaint_id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(StoredContact::Unknown) };
    let mut opened = Vec::with_capacity(3);
    for column in ["name", "phone", "email"] {
        let value: String = row.try_get(column)?;
        match vault.open_in(tx, &contact_place(column, complaint_id), &value).await? {
            Opened::Clear(clear) => opened.push(clear),
            Opened::Erased => return Ok(StoredContact::Erased),
        }
    }
    let customer_key: String = row.try_get("customer_key")?;
    let key = vault.key_in(tx, &key_ref(&customer_key, complaint_id)).await?;
    let [name, phone, email]: [String; 3] = opened.try_into().map_err(|_| StoreError::Conflict)?;
    Ok(StoredContact::Known(Contact { name, phone, email, channel: row.try_get("channel")? }, key))
}

/// Seals contacts and customer recipients stored in clear before encryption; returns how many
/// rows it sealed.
pub async fn seal_clear_rows(pool: &AnyPool, vault: &Vault) -> Result<usize, VaultError> {
    let mut sealed = 0;
    let contacts = sqlx::query(
        "SELECT complaint_id, customer_key, name, phone, email FROM contacts \
         WHERE (phone <> '' AND phone NOT LIKE 'enc:%') OR (email <> '' AND email NOT LIKE 'enc:%') OR (name <> '' AND name NOT LIKE 'enc:%')",
    )
    .fetch_all(pool)
    .await?;
    for row in contacts {
        let complaint_id: String = row.try_get("complaint_id")?;
        let key = vault.key_for(&key_ref(&row.try_get::<String, _>("customer_key")?, &complaint_id)).await?;
        let seal = |column: &str| -> Result<String, VaultError> {
            let value: String = row.try_get(column)?;
            Ok(if is_sealed(&value) { value } else { key.seal(&contact_place(column, &complaint_id), &value) })
        };
        sealed += sqlx::query("UPDATE contacts SET name = $1, phone = $2, email = $3 WHERE complaint_id = $4")
            .bind(seal("name")?)
            .bind(seal("phone")?)
            .bind(seal("email")?)
            .bind(&complaint_id)
            .execute(pool)
            .await?
            .rows_affected() as usize;
    }
    // 'staff' is STAFF_CHANNEL written out: the predicate must match the partial index
    // deliveries_clear (migration 0102) word for word, and an index cannot take a parameter.
    let deliveries = sqlx::query(
        "SELECT d.delivery_id, d.complaint_id, d.recipient, c.customer_key FROM deliveries d JOIN contacts c ON c.complaint_id = d.complaint_id \
         WHERE d.channel <> 'staff' AND d.recipient <> '' AND d.recipient NOT LIKE 'enc:%'",
    )
    .fetch_all(pool)
    .await?;
    for row in deliveries {
        let delivery_id: String = row.try_get("delivery_id")?;
        let complaint_id: String = row.try_get("complaint_id")?;
        let key = vault.key_for(&key_ref(&row.try_get::<String, _>("customer_key")?, &complaint_id)).await?;
        let recipient: String = row.try_get("recipient")?;
        sealed += sqlx::query("UPDATE deliveries SET recipient = $1 WHERE delivery_id = $2")
            .bind(key.seal(&recipient_place(&delivery_id), &recipient))
            .bind(&delivery_id)
            .execute(pool)
            .await?
            .rows_affected() as usize;
    }
    Ok(sealed)
}

/// Marks a delivery that can no longer be made because its customer was erased.
pub async fn mark_erased(pool: &AnyPool, delivery_id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE deliveries SET status = 'erased' WHERE delivery_id = $1 AND status = 'pending'").bind(delivery_id).execute(pool).await?;
    Ok(())
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
