//! Intake's store: complaints with their authoritative stage, the per-day number sequence,
//! responses and follow-ups. Every state change writes its event to the outbox in the same
//! transaction; stage moves are guarded (`WHERE status = <expected>`) and a lost race is
//! [`StoreError::Conflict`].

use complaints_domain::events::{
    ComplaintClosed, ComplaintReceived, ComplaintWithdrawn, Contact, CustomerResponded, CustomerResponse, ExternalRoute, FollowUpRecorded,
    ComplaintArchived, LifecycleEvent, ReviewRequested, Satisfaction, SealedContact,
};
use complaints_domain::{Channel, ClockKind, ComplaintId, ComplaintKey, ComplaintNumber, Money, Stage, StaffId};
use complaints_plumbing::clocks::{self as clock_store, ClockBook};
use complaints_plumbing::outbox::{self, Subject};
use complaints_plumbing::store::{expect_one_row, parsed_column, to_json, StoreError, Tx};
use complaints_plumbing::sealed::SealFor;
use complaints_plumbing::vault::{FreshKey, KeyFor, Vault, VaultError};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::domain::{NewComplaint, RulePackChoice};
use crate::{Config, SERVICE};

/// A stored complaint as intake needs it back. No `Debug`: it holds personal data in clear.
#[derive(Clone)]
pub struct StoredComplaint {
    pub complaint_id: ComplaintId,
    pub complaint_number: ComplaintNumber,
    pub stage: Stage,
    pub channel: Channel,
    pub preferred_channel: Option<Channel>,
    /// The customer's identifiers as stored: sealed under the customer's data key.
    pub personal: SealedPersonal,
    pub summary: String,
    pub amount_involved: Option<Money>,
    pub received_at_ms: i64,
    pub request_hash: String,
    pub traceparent: String,
    pub jurisdiction: String,
    pub payment_services: bool,
    pub receiving_staff: Option<StaffId>,
    pub updated_at_ms: i64,
    /// Why the complaint is under legal hold; empty when it is not.
    pub legal_hold: String,
    pub erased: bool,
}

/// The personal columns a view shows (masked), sealed (`enc:v1:…`; clear in rows written
/// before encryption until the start-up pass seals them).
#[derive(Clone)]
pub struct SealedPersonal {
    pub customer_name: String,
    pub id_number: String,
    pub phone: String,
    pub account_number: String,
}

/// The columns of `complaints` that hold personal data, sealed under the customer's data key.
pub const PERSONAL_COLUMNS: [&str; 7] = ["customer_name", "id_number", "phone", "email", "address", "account_number", "description"];

/// The place a personal column of a complaint is sealed for (associated data of its seal).
pub fn place(column: &str, complaint_id: &str) -> String {
    format!("complaints.{column}:{complaint_id}")
}

impl SealedPersonal {
    /// The clear values, `[erased]` where the customer was erased.
    pub async fn open(&self, vault: &Vault, complaint_id: &ComplaintId) -> Result<[String; 4], VaultError> {
        let id = complaint_id.as_str();
        Ok([
            vault.open_field(&place("customer_name", id), &self.customer_name).await?.or_erased(),
            vault.open_field(&place("id_number", id), &self.id_number).await?.or_erased(),
            vault.open_field(&place("phone", id), &self.phone).await?.or_erased(),
            vault.open_field(&place("account_number", id), &self.account_number).await?.or_erased(),
        ])
    }
}

impl StoredComplaint {
    fn subject(&self) -> Subject<'_> {
        Subject::new(&self.complaint_id, &self.complaint_number).in_trace(&self.traceparent)
    }
}

/// Result of a registration attempt.
pub enum Registered {
    New(StoredComplaint),
    /// The channel had sent this request key before; the original complaint.
    Existing(StoredComplaint),
}

const SELECT: &str = "SELECT complaint_id, complaint_number, status, channel, preferred_channel, customer_name, id_number, \
    phone, account_number, summary, amount_minor, currency, received_at_ms, request_hash, traceparent, jurisdiction, \
    payment_services, receiving_staff, updated_at_ms, legal_hold, erased_at_ms FROM complaints";

const TABLE: &str = "complaints";

fn from_row(row: &AnyRow) -> Result<StoredComplaint, StoreError> {
    let amount_minor: Option<i64> = row.try_get("amount_minor")?;
    let currency: Option<String> = row.try_get("currency")?;
    let amount_involved = match amount_minor {
        Some(minor_units) => Money::parse("amount", minor_units, currency.as_deref().unwrap_or_default())
            .map_err(|error| StoreError::Corrupt { table: TABLE, column: "amount_minor", detail: error.to_string() })?,
        None => None,
    };
    Ok(StoredComplaint {
        complaint_id: parsed_column(row, TABLE, "complaint_id", |v| ComplaintId::parse("complaint_id", v).ok())?,
        complaint_number: parsed_column(row, TABLE, "complaint_number", |v| ComplaintNumber::parse("complaint_number", v).ok())?,
        stage: parsed_column(row, TABLE, "status", Stage::parse)?,
        channel: parsed_column(row, TABLE, "channel", Channel::parse)?,
        preferred_channel: parsed_column(row, TABLE, "preferred_channel", |v| match v {
            "" => Some(None),
            name => Channel::parse(name).map(Some),
        })?,
        personal: SealedPersonal {
            customer_name: row.try_get("customer_name")?,
            id_number: row.try_get("id_number")?,
            phone: row.try_get("phone")?,
            account_number: row.try_get("account_number")?,
        },
        summary: row.try_get("summary")?,
        amount_involved,
        received_at_ms: row.try_get("received_at_ms")?,
        request_hash: row.try_get("request_hash")?,
        traceparent: row.try_get("traceparent")?,
        jurisdiction: row.try_get("jurisdiction")?,
        payment_services: row.try_get::<i64, _>("payment_services")? != 0,
        receiving_staff: parsed_column(row, TABLE, "receiving_staff", |v| match v {
            "" => Some(None),
            id => StaffId::parse("receiving_staff", id).ok().map(Some),
        })?,
        updated_at_ms: row.try_get("updated_at_ms")?,
        legal_hold: row.try_get("legal_hold")?,
        erased: row.try_get::<Option<i64>, _>("erased_at_ms")?.is_some(),
    })
}

pub async fn find_by_request_key(pool: &AnyPool, channel: Channel, request_key: &str) -> Result<Option<StoredComplaint>, StoreError> {
    let row = sqlx::query(&format!("{SELECT} WHERE channel = $1 AND request_key = $2"))
        .bind(channel.as_str())
        .bind(request_key)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// A complaint by id or number, through the pool or inside a transaction.
pub async fn find<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    key: &ComplaintKey,
) -> Result<Option<StoredComplaint>, StoreError> {
    let column = match key {
        ComplaintKey::Id(_) => "complaint_id",
        ComplaintKey::Number(_) => "complaint_number",
    };
    let row = sqlx::query(&format!("{SELECT} WHERE {column} = $1")).bind(key.as_str()).fetch_optional(executor).await?;
    row.as_ref().map(from_row).transpose()
}

/// Next number of the day, e.g. `CMP-20261124-000042`; atomic on both backends.
async fn next_number(tx: &mut Tx, prefix: &str, received_at_ms: i64) -> Result<ComplaintNumber, StoreError> {
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
    ComplaintNumber::parse("number_prefix", &format!("{prefix}-{day}-{value:06}")).map_err(|error| StoreError::Corrupt {
        table: "complaint_numbers",
        column: "last_value",
        detail: error.to_string(),
    })
}

/// How a new complaint's personal data are protected: the customer's lookup key, the vault
/// holding their data key (sealing the personal columns), notification's public key (sealing
/// the contact).
#[derive(Clone, Copy)]
pub struct Protection<'a> {
    pub customer_key: &'a str,
    pub vault: &'a Vault,
    pub contact_seal: &'a SealFor,
}

/// Stores a new complaint and its `received` event, or returns the one registered earlier under
/// the same channel request key.
pub async fn register(
    pool: &AnyPool,
    config: &Config,
    book: &ClockBook,
    complaint: &NewComplaint,
    rules: &RulePackChoice,
    protection: &Protection<'_>,
) -> Result<Registered, crate::Error> {
    match register_once(pool, config, book, complaint, rules, protection, true).await? {
        Some(registered) => Ok(registered),
        // The fresh key was refused (the customer had a key not remembered) or a retry of
        // the same request won the race: once more, the key read or created on its own.
        None => register_once(pool, config, book, complaint, rules, protection, false).await?.ok_or(StoreError::Conflict.into()),
    }
}

/// [`register`]; with `fresh_key`, a new customer's data key is stored by the statement that
/// inserts the complaint (on SQLite), and `None` asks for another attempt without.
async fn register_once(
    pool: &AnyPool,
    config: &Config,
    book: &ClockBook,
    complaint: &NewComplaint,
    rules: &RulePackChoice,
    protection: &Protection<'_>,
    fresh_key: bool,
) -> Result<Option<Registered>, crate::Error> {
    let Protection { customer_key, vault, contact_seal: contact_for_notification } = *protection;
    let prefix = config.number_prefix.as_str();
    let channel = complaint.channel;
    if let Some(existing) = find_by_request_key(pool, channel, &complaint.request_key).await? {
        return Ok(Some(Registered::Existing(existing)));
    }
    let customer = &complaint.customer;
    // Sealed before the transaction: the public-key work holds no connection.
    let contact = SealedContact(
        contact_for_notification.seal_in_stream(
            &Contact {
                name: customer.name.clone(),
                phone: customer.phone.clone(),
                email: customer.email.clone(),
                preferred_channel: customer.preferred_channel.unwrap_or(channel),
            }
            .to_bytes(),
        ),
    );
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    // A new customer's data key is stored in this transaction (on SQLite by the statement
    // inserting the complaint): one commit, and no key without its complaint.
    let key = if fresh_key { vault.key_or_fresh(&mut tx, customer_key).await? } else { KeyFor::Live(vault.key_in(&mut tx, customer_key).await?) };
    let complaint_id = ComplaintId::generate();
    let number = next_number(&mut tx, prefix, complaint.received_at_ms).await?;
    let now = complaints_plumbing::now_ms();
    let seal = |column: &str, clear: &str| key.key().seal(&place(column, complaint_id.as_str()), clear);
    let (store_key, expected) = match &key {
        KeyFor::Fresh(_) => (format!("{}; ", FreshKey::insert_sql(32)), 2),
        KeyFor::Live(_) => (String::new(), 1),
    };
    let sql = format!(
        "{store_key}INSERT INTO complaints (complaint_id, complaint_number, channel, request_key, request_hash, status, \
         customer_name, id_type, id_number, phone, email, address, account_number, preferred_channel, summary, \
         description, demand, amount_minor, currency, product_hint, receiving_staff, staff_involved, branch_involved, \
         tags, evidence, received_at_ms, traceparent, created_at_ms, updated_at_ms, jurisdiction, payment_services, customer_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
         $23, $24, $25, $26, $27, $28, $28, $29, $30, $31) ON CONFLICT (channel, request_key) DO NOTHING"
    );
    let insert = sqlx::query(&sql)
        .bind(complaint_id.as_str())
        .bind(number.as_str())
        .bind(channel.as_str())
        .bind(&complaint.request_key)
        .bind(&complaint.request_hash)
        .bind(Stage::Received.as_str())
        .bind(seal("customer_name", &customer.name))
        .bind(customer.id_type.as_str())
        .bind(seal("id_number", &customer.id_number))
        .bind(seal("phone", &customer.phone))
        .bind(seal("email", &customer.email))
        .bind(seal("address", &customer.address))
        .bind(seal("account_number", &customer.account_number))
        .bind(customer.preferred_channel.map(Channel::as_str).unwrap_or_default())
        .bind(&complaint.summary)
        .bind(seal("description", &complaint.description))
        .bind(&complaint.demand)
        .bind(complaint.amount_involved.as_ref().map(|m| m.minor_units))
        .bind(complaint.amount_involved.as_ref().map(|m| m.currency.clone()))
        .bind(&complaint.product_hint)
        .bind(complaint.receiving_staff.as_ref().map(|s| s.as_str()).unwrap_or_default())
        .bind(to_json(&complaint.staff_involved)?)
        .bind(&complaint.branch_involved)
        .bind(to_json(&complaint.tags)?)
        .bind(to_json(&complaint.evidence)?)
        .bind(complaint.received_at_ms)
        .bind(complaints_plumbing::telemetry::current_trace_context().0)
        .bind(now)
        .bind(&rules.jurisdiction)
        .bind(i64::from(rules.payment_services))
        .bind(customer_key);
    let insert = match &key {
        KeyFor::Fresh(fresh) => fresh.bind(insert),
        KeyFor::Live(_) => insert,
    };
    let inserted = insert.execute(&mut *tx).await.map_err(StoreError::from)?;
    if inserted.rows_affected() != expected {
        tx.rollback().await.map_err(StoreError::from)?;
        if matches!(key, KeyFor::Fresh(_)) {
            return Ok(None);
        }
        // A concurrent retry with the same request key won the race.
        return Ok(find_by_request_key(pool, channel, &complaint.request_key).await?.map(Registered::Existing));
    }
    let stored = find(&mut *tx, &ComplaintKey::Id(complaint_id.clone())).await?.ok_or(StoreError::Conflict)?;
    let (clocks, reply_due) = crate::clocks::on_registered(&mut tx, book, config, &stored).await?;
    let received = LifecycleEvent::Received(ComplaintReceived {
        channel,
        summary: complaint.summary.clone(),
        description: complaint.description.clone(),
        demand: complaint.demand.clone(),
        amount_involved: complaint.amount_involved.clone(),
        product_hint: complaint.product_hint.clone(),
        contact,
        receiving_staff: complaint.receiving_staff.clone(),
        staff_involved: complaint.staff_involved.clone(),
        branch_involved: complaint.branch_involved.clone(),
        tags: complaint.tags.clone(),
        received_at_ms: complaint.received_at_ms,
        jurisdiction: rules.jurisdiction.clone(),
        reply_due,
        customer_key: customer_key.to_owned(),
    });
    outbox::enqueue(&mut tx, SERVICE, Subject::new(&complaint_id, &number), received).await?;
    clock_store::announce(&mut tx, SERVICE, Subject::new(&complaint_id, &number), clocks).await?;
    tx.commit().await.map_err(StoreError::from)?;
    vault.committed(&key);
    Ok(Some(Registered::New(stored)))
}

/// The stage of a complaint, read inside `tx`; `None` for an unknown complaint.
pub async fn stage(tx: &mut Tx, complaint_id: &ComplaintId) -> Result<Option<Stage>, StoreError> {
    let row = sqlx::query("SELECT status FROM complaints WHERE complaint_id = $1")
        .bind(complaint_id.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|row| parsed_column(&row, TABLE, "status", Stage::parse)).transpose()
}

/// Moves the complaint from `from` to `to` inside `tx`; [`StoreError::Conflict`] when it was no
/// longer in `from` (a concurrent command or event won), so check-then-act races cannot both
/// succeed.
pub async fn move_stage(tx: &mut Tx, complaint_id: &ComplaintId, from: Stage, to: Stage) -> Result<(), StoreError> {
    let result = sqlx::query("UPDATE complaints SET status = $1, updated_at_ms = $2 WHERE complaint_id = $3 AND status = $4")
        .bind(to.as_str())
        .bind(complaints_plumbing::now_ms())
        .bind(complaint_id.as_str())
        .bind(from.as_str())
        .execute(&mut **tx)
        .await?;
    expect_one_row(&result)
}

/// Records the customer's answer, moves the complaint to `to` and emits `customer_responded`.
pub async fn record_response(
    tx: &mut Tx,
    complaint: &StoredComplaint,
    to: Stage,
    response: CustomerResponse,
    comment: &str,
    recorded_by: &str,
    by_silence: bool,
) -> Result<(), StoreError> {
    move_stage(tx, &complaint.complaint_id, complaint.stage, to).await?;
    sqlx::query(
        "INSERT INTO customer_responses (response_id, complaint_id, response, comment, recorded_by, recorded_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(complaint.complaint_id.as_str())
    .bind(response.as_str())
    .bind(comment)
    .bind(recorded_by)
    .bind(complaints_plumbing::now_ms())
    .execute(&mut **tx)
    .await?;
    let event = LifecycleEvent::CustomerResponded(CustomerResponded {
        response,
        comment: comment.to_owned(),
        recorded_by: recorded_by.to_owned(),
        by_silence,
    });
    outbox::enqueue(tx, SERVICE, complaint.subject(), event).await?;
    Ok(())
}

/// Records the follow-up answer, closes the complaint (`to`) and emits both events.
pub async fn record_follow_up(
    tx: &mut Tx,
    complaint: &StoredComplaint,
    to: Stage,
    satisfaction: Satisfaction,
    accepts_outcome: bool,
    recorded_by: &str,
) -> Result<(), StoreError> {
    move_stage(tx, &complaint.complaint_id, complaint.stage, to).await?;
    sqlx::query(
        "INSERT INTO follow_ups (complaint_id, satisfaction, accepts_outcome, recorded_by, recorded_at_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(complaint.complaint_id.as_str())
    .bind(satisfaction.as_str())
    .bind(i64::from(accepts_outcome))
    .bind(recorded_by)
    .bind(complaints_plumbing::now_ms())
    .execute(&mut **tx)
    .await?;
    let follow_up = LifecycleEvent::FollowUpRecorded(FollowUpRecorded {
        satisfaction,
        accepts_outcome,
        recorded_by: recorded_by.to_owned(),
    });
    outbox::enqueue(tx, SERVICE, complaint.subject(), follow_up).await?;
    let closed = LifecycleEvent::Closed(ComplaintClosed { reason: "follow-up recorded".into(), external_route: None });
    outbox::enqueue(tx, SERVICE, complaint.subject(), closed).await?;
    Ok(())
}

/// How a complaint leaves the main path, as [`record_outcome`] writes it.
pub enum Outcome<'a> {
    /// The customer withdrew it; `on_behalf` when a member of staff recorded it for them.
    Withdrawn { reason: &'a str, on_behalf: bool },
    /// Out of scope: the customer chose `route` (or declined every route).
    ExternalRoute { route: ExternalRoute, note: &'a str },
    /// The customer asked the superior institution to review the decision.
    ReviewRequested { reason: &'a str, on_behalf: bool },
    /// The case file was archived by `archived_by`; nothing may change the complaint again.
    Archived { note: &'a str, archived_by: &'a StaffId },
}

/// Records how the complaint left the main path, moves it to `to` and emits the event that
/// says so (`withdrawn`, or `closed` with the chosen route).
pub async fn record_outcome(tx: &mut Tx, complaint: &StoredComplaint, to: Stage, outcome: Outcome<'_>, recorded_by: &str) -> Result<(), StoreError> {
    move_stage(tx, &complaint.complaint_id, complaint.stage, to).await?;
    let (name, detail, reason, on_behalf, event) = match outcome {
        Outcome::Withdrawn { reason, on_behalf } => (
            "withdrawn",
            "",
            reason,
            on_behalf,
            LifecycleEvent::Withdrawn(ComplaintWithdrawn { reason: reason.to_owned(), recorded_by: recorded_by.to_owned(), on_behalf }),
        ),
        Outcome::ExternalRoute { route, note } => (
            "external_route",
            route.as_str(),
            note,
            false,
            LifecycleEvent::Closed(ComplaintClosed { reason: "out of scope".into(), external_route: Some(route) }),
        ),
        Outcome::ReviewRequested { reason, on_behalf } => (
            "review_requested",
            "",
            reason,
            on_behalf,
            LifecycleEvent::ReviewRequested(ReviewRequested { reason: reason.to_owned(), requested_by: recorded_by.to_owned() }),
        ),
        Outcome::Archived { note, archived_by } => (
            "archived",
            "",
            note,
            false,
            LifecycleEvent::Archived(ComplaintArchived { archived_by: archived_by.clone(), note: note.to_owned() }),
        ),
    };
    sqlx::query(
        "INSERT INTO complaint_outcomes (outcome_id, complaint_id, outcome, detail, reason, recorded_by, on_behalf, recorded_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(complaint.complaint_id.as_str())
    .bind(name)
    .bind(detail)
    .bind(reason)
    .bind(recorded_by)
    .bind(i64::from(on_behalf))
    .bind(complaints_plumbing::now_ms())
    .execute(&mut **tx)
    .await?;
    outbox::enqueue(tx, SERVICE, complaint.subject(), event).await?;
    Ok(())
}

/// Records a contact with the customer (or the hand-over record of first-contact
/// responsibility).
pub async fn record_contact(tx: &mut Tx, complaint: &StoredComplaint, kind: ClockKind, note: &str, recorded_by: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO contacts (contact_id, complaint_id, kind, note, recorded_by, recorded_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(complaint.complaint_id.as_str())
    .bind(kind.as_str())
    .bind(note)
    .bind(recorded_by)
    .bind(complaints_plumbing::now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes a `clocks_changed` event for the complaint's clocks that changed.
pub async fn announce_clocks(tx: &mut Tx, complaint: &StoredComplaint, changed: Vec<complaints_domain::ClockSnapshot>) -> Result<(), StoreError> {
    clock_store::announce(tx, SERVICE, complaint.subject(), changed).await
}

/// Writes one of intake's events about `complaint` to the outbox.
pub async fn announce(tx: &mut Tx, complaint: &StoredComplaint, event: LifecycleEvent) -> Result<(), StoreError> {
    outbox::enqueue(tx, SERVICE, complaint.subject(), event).await?;
    Ok(())
}

/// Seals the personal columns of complaints written in clear before encryption was introduced,
/// in batches, under each customer's data key; returns how many complaints it sealed.
pub async fn seal_clear_rows(pool: &AnyPool, vault: &Vault, lookup: &complaints_plumbing::lookup::LookupKey) -> Result<usize, VaultError> {
    let columns = PERSONAL_COLUMNS.join(", ");
    let assignments: Vec<String> = PERSONAL_COLUMNS.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 4)).collect();
    let update_sql = format!("UPDATE complaints SET customer_key = $1, {} WHERE complaint_id = $2 AND id_number = $3", assignments.join(", "));
    let mut sealed = 0;
    loop {
        let rows = sqlx::query(&format!(
            "SELECT complaint_id, customer_key, {columns} FROM complaints WHERE id_number NOT LIKE 'enc:%' AND id_number <> '' LIMIT 200"
        ))
        .fetch_all(pool)
        .await?;
        if rows.is_empty() {
            return Ok(sealed);
        }
        for row in rows {
            let complaint_id: String = row.try_get("complaint_id")?;
            let id_number: String = row.try_get("id_number")?;
            let mut customer_key: String = row.try_get("customer_key")?;
            if customer_key.is_empty() {
                customer_key = lookup.customer(&id_number);
            }
            let key = vault.key_for(&customer_key).await?;
            let mut update = sqlx::query(&update_sql)
            .bind(&customer_key)
            .bind(&complaint_id)
            .bind(&id_number);
            for column in PERSONAL_COLUMNS {
                let value: String = row.try_get(column)?;
                update = update.bind(if complaints_plumbing::vault::is_sealed(&value) { value } else { key.seal(&place(column, &complaint_id), &value) });
            }
            sealed += update.execute(pool).await?.rows_affected() as usize;
        }
    }
}

/// Places (`reason` non-empty) or lifts (empty) the legal hold of a complaint.
pub async fn set_legal_hold(tx: &mut Tx, complaint_id: &ComplaintId, reason: &str) -> Result<(), StoreError> {
    let result = sqlx::query("UPDATE complaints SET legal_hold = $1 WHERE complaint_id = $2")
        .bind(reason)
        .bind(complaint_id.as_str())
        .execute(&mut **tx)
        .await?;
    expect_one_row(&result)
}

/// The complaints of the customer with lookup key `customer_key` not yet erased, inside `tx`.
pub async fn of_customer(tx: &mut Tx, customer_key: &str) -> Result<Vec<StoredComplaint>, StoreError> {
    let rows = sqlx::query(&format!("{SELECT} WHERE customer_key = $1 AND erased_at_ms IS NULL ORDER BY received_at_ms"))
        .bind(customer_key)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Records the erasure of `complaints` (one customer's) and announces it per complaint; the
/// lookup key is cleared so the records can no longer be found by ID number. A complaint
/// erased, held or changed meanwhile (by another replica or call) is [`StoreError::Conflict`].
pub async fn record_erasure(
    tx: &mut Tx,
    complaints: &[StoredComplaint],
    customer_key: &str,
    erased_by: &StaffId,
    reason: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    for complaint in complaints {
        // Guarded: a legal hold placed, or any change, since the complaints were read makes
        // this a conflict, and the erasure rolls back.
        let result = sqlx::query(
            "UPDATE complaints SET customer_key = '', erased_at_ms = $1 \
             WHERE complaint_id = $2 AND erased_at_ms IS NULL AND legal_hold = '' AND updated_at_ms = $3",
        )
            .bind(now_ms)
            .bind(complaint.complaint_id.as_str())
            .bind(complaint.updated_at_ms)
            .execute(&mut **tx)
            .await?;
        expect_one_row(&result)?;
        let event = LifecycleEvent::CustomerErased(complaints_domain::events::CustomerErased {
            customer_key: customer_key.to_owned(),
            erased_by: erased_by.clone(),
            reason: reason.to_owned(),
        });
        outbox::enqueue(tx, SERVICE, complaint.subject(), event).await?;
    }
    Ok(())
}
