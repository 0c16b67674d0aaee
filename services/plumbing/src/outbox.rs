//! Transactional outbox: an event is written in the same transaction as the state change it
//! announces, and a relay publishes it to JetStream afterwards with `Nats-Msg-Id` = event id,
//! marking it published only after the PubAck. A crash at any point re-publishes at worst, and
//! JetStream's duplicate window plus every consumer's inbox make that harmless.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use complaints_domain::events::{Envelope, EventMeta, LifecycleEvent};
use complaints_domain::{ComplaintId, ComplaintNumber, EventId};
use sqlx::{AnyPool, Row as _};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::events::{self, headers, SCHEMA_VERSION};
use crate::store::{value_rows, StoreError, Tx, ROWS_PER_STATEMENT};
use crate::telemetry;

/// Largest encoded event accepted into the outbox (NATS refuses payloads over 1 MiB by default).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// Identifies the complaint an event belongs to.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub complaint_id: &'a ComplaintId,
    pub complaint_number: &'a ComplaintNumber,
    /// The complaint's trace (`traceparent`), for events caused by a command from outside the
    /// event chain, so the whole journey stays one trace; `None` uses the current span's.
    pub trace: Option<&'a str>,
}

impl<'a> Subject<'a> {
    pub fn new(complaint_id: &'a ComplaintId, complaint_number: &'a ComplaintNumber) -> Self {
        Self { complaint_id, complaint_number, trace: None }
    }

    /// Attaches the complaint's stored trace context.
    pub fn in_trace(mut self, traceparent: &'a str) -> Self {
        self.trace = Some(traceparent).filter(|t| !t.is_empty());
        self
    }
}

/// Writes `event` as an event of `producer` into the outbox inside `tx`, with the current
/// span's trace context (or the complaint's, see [`Subject::in_trace`]). Returns the new event
/// id (UUIDv7, time-ordered).
pub async fn enqueue(tx: &mut Tx, producer: &str, complaint: Subject<'_>, event: LifecycleEvent) -> Result<EventId, StoreError> {
    let row = Row::new(producer, complaint, event)?;
    let event_id = row.event_id.clone();
    insert(tx, std::slice::from_ref(&row)).await?;
    Ok(event_id)
}

/// An event encoded for the outbox; build them with [`Row::new`] (which fixes the event id and
/// so the publishing order) and write many at once with [`enqueue_rows`].
pub struct Row {
    event_id: EventId,
    subject: String,
    complaint_id: String,
    payload: String,
    traceparent: String,
    tracestate: String,
    created_at_ms: i64,
}

impl Row {
    pub fn new(producer: &str, complaint: Subject<'_>, event: LifecycleEvent) -> Result<Self, StoreError> {
        let event_id = EventId::generate();
        let (traceparent, tracestate) = match complaint.trace {
            Some(traceparent) => (traceparent.to_owned(), String::new()),
            None => telemetry::current_trace_context(),
        };
        let now = crate::now_ms();
        let subject = events::subject(event.kind(), producer);
        let envelope = Envelope {
            meta: EventMeta {
                event_id: event_id.clone(),
                complaint_id: complaint.complaint_id.clone(),
                complaint_number: complaint.complaint_number.clone(),
                occurred_at_ms: now,
                producer: producer.to_owned(),
                schema_version: SCHEMA_VERSION,
                traceparent: traceparent.clone(),
                tracestate: tracestate.clone(),
            },
            event,
        };
        let encoded = events::encode(&envelope);
        if encoded.len() > MAX_EVENT_BYTES {
            // Request validation keeps events far below this; refusing here protects the relay,
            // which could never publish it past the broker's payload limit.
            return Err(StoreError::Database(sqlx::Error::Protocol(format!(
                "{subject} event of {} bytes exceeds the {MAX_EVENT_BYTES}-byte limit",
                encoded.len()
            ))));
        }
        Ok(Self {
            event_id,
            subject,
            complaint_id: complaint.complaint_id.to_string(),
            payload: BASE64.encode(&encoded),
            traceparent,
            tracestate,
            created_at_ms: now,
        })
    }
}

/// Writes many encoded events in few statements (the scheduler fires hundreds per pass).
pub async fn enqueue_rows(tx: &mut Tx, rows: &[Row]) -> Result<(), StoreError> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        insert(tx, chunk).await?;
    }
    Ok(())
}

async fn insert(tx: &mut Tx, rows: &[Row]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO outbox (event_id, subject, complaint_id, payload, traceparent, tracestate, created_at_ms) VALUES {}",
        value_rows(rows.len(), 7, 1)
    );
    let mut query = sqlx::query(&sql);
    for row in rows {
        query = query
            .bind(row.event_id.as_str())
            .bind(&row.subject)
            .bind(&row.complaint_id)
            .bind(&row.payload)
            .bind(&row.traceparent)
            .bind(&row.tracestate)
            .bind(row.created_at_ms);
    }
    query.execute(&mut **tx).await?;
    for row in rows {
        tracing::debug!(event_id = %row.event_id, complaint_id = %row.complaint_id, subject = %row.subject, "event written to outbox");
    }
    Ok(())
}

/// Publishes outbox rows in event-id order. Wake it after a commit with [`RelayHandle::notify`];
/// it also polls, so rows left by a crashed process are published after a restart.
pub struct Relay {
    pool: AnyPool,
    jetstream: async_nats::jetstream::Context,
    wake: Arc<Notify>,
    poll_interval: Duration,
}

/// Cheap handle used by request handlers and consumers to wake the relay after a commit.
#[derive(Clone, Default)]
pub struct RelayHandle {
    wake: Arc<Notify>,
}

impl RelayHandle {
    pub fn notify(&self) {
        self.wake.notify_one();
    }
}

impl Relay {
    pub fn new(pool: AnyPool, jetstream: async_nats::jetstream::Context, handle: &RelayHandle) -> Self {
        Self { pool, jetstream, wake: handle.wake.clone(), poll_interval: Duration::from_millis(500) }
    }

    /// Runs until `token` is cancelled, then publishes what is pending once more and returns.
    pub async fn run(self, token: CancellationToken) {
        loop {
            match self.publish_pending().await {
                Ok(published) if published > 0 => continue,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "outbox relay failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            tokio::select! {
                _ = token.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.poll_interval) => {}
            }
        }
        if let Err(error) = self.publish_pending().await {
            tracing::warn!(%error, "outbox relay could not drain on shutdown; rows stay pending");
        }
    }

    /// Publishes one batch of pending rows; returns how many were published.
    pub async fn publish_pending(&self) -> anyhow::Result<usize> {
        let rows = sqlx::query(
            "SELECT event_id, subject, complaint_id, payload, traceparent, tracestate FROM outbox \
             WHERE published_at_ms IS NULL ORDER BY event_id LIMIT 256",
        )
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        // Publish the batch concurrently, then wait for every PubAck in order.
        let mut acks = Vec::with_capacity(rows.len());
        for row in &rows {
            let event_id: String = row.try_get("event_id")?;
            let subject: String = row.try_get("subject")?;
            let complaint_id: String = row.try_get("complaint_id")?;
            let payload = BASE64.decode(row.try_get::<String, _>("payload")?)?;
            let mut message_headers = async_nats::HeaderMap::new();
            message_headers.insert(headers::MSG_ID, event_id.as_str());
            message_headers.insert(headers::COMPLAINT_ID, complaint_id.as_str());
            let traceparent: String = row.try_get("traceparent")?;
            let tracestate: String = row.try_get("tracestate")?;
            if !traceparent.is_empty() {
                message_headers.insert(headers::TRACEPARENT, traceparent.as_str());
            }
            if !tracestate.is_empty() {
                message_headers.insert(headers::TRACESTATE, tracestate.as_str());
            }
            let ack = self
                .jetstream
                .publish_with_headers(subject, message_headers, payload.into())
                .await?;
            acks.push((event_id, ack));
        }
        // Mark what was acknowledged in one transaction (one fsync for the batch); an error
        // leaves the rest pending, to be re-published (and deduplicated) on the next pass.
        let mut published = Vec::with_capacity(acks.len());
        let mut failure = None;
        for (event_id, ack) in acks {
            match ack.await {
                Ok(_) => published.push(event_id),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        let now = crate::now_ms();
        let mut tx = self.pool.begin().await?;
        for event_id in &published {
            sqlx::query("UPDATE outbox SET published_at_ms = $1 WHERE event_id = $2")
                .bind(now)
                .bind(event_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        match failure {
            Some(error) => Err(error.into()),
            None => Ok(published.len()),
        }
    }
}
