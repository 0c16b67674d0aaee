//! Runs a service's durable pull consumer: decodes each event, applies it in one store
//! transaction together with its inbox claim, acks after commit. Failures are classified:
//! undecodable or rejected events are dead-lettered at once (poison); transient ones are retried
//! with back-off and dead-lettered on the last delivery, so nothing is dropped silently.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, AckKind};
use complaints_domain::events::{Envelope, EventKind, EventMeta, LifecycleEvent};
use futures::{FutureExt, StreamExt};
use sqlx::AnyPool;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::events::{self, headers, DEAD_LETTER_SUBJECT_PREFIX};
use crate::inbox;
use crate::outbox::RelayHandle;
use crate::store::{StoreError, Tx};
use crate::telemetry;

/// Most messages applied in one transaction.
const MAX_BATCH: usize = 64;

/// How long a batch waits for more messages after its first one arrived. Under load this turns
/// many small commits into few larger ones; when idle it adds at most this to an event's
/// latency.
const BATCH_LINGER: Duration = Duration::from_millis(5);

/// How a handler failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event can never be applied (e.g. violates the lifecycle); dead-letter it.
    #[error("rejected: {0}")]
    Poison(String),
    /// Try again later (e.g. the store is unavailable, or the event overtook the one it follows).
    #[error(transparent)]
    Retry(#[from] anyhow::Error),
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        Self::Retry(error.into())
    }
}

impl From<StoreError> for HandlerError {
    fn from(error: StoreError) -> Self {
        Self::Retry(error.into())
    }
}

/// A key that cannot be read or written now (the store, or a keyring being rotated) is retried.
impl From<crate::vault::VaultError> for HandlerError {
    fn from(error: crate::vault::VaultError) -> Self {
        Self::Retry(error.into())
    }
}

/// The lifecycle events one consumer takes, as its own enum: the handler matches it
/// exhaustively and the consumer's subject filter is derived from [`Consumes::KINDS`], so an
/// event kind can neither be subscribed and forgotten nor handled and never subscribed.
/// Declare it with [`consumes!`](crate::consumes).
pub trait Consumes: Sized + Send + 'static {
    /// The kinds this consumer subscribes to.
    const KINDS: &'static [EventKind];
    /// The event as this consumer's enum; `None` for a kind it does not take.
    fn select(event: LifecycleEvent) -> Option<Self>;
}

/// Declares a consumer's event enum, one variant per consumed kind, named as in
/// `LifecycleEvent` and holding its payload type:
///
/// ```text
/// complaints_plumbing::consumes! {
///     pub enum Consumed {
///         CustomerNotified(CustomerNotified),
///         RemedyExecuted(RemedyExecuted),
///     }
/// }
/// ```
#[macro_export]
macro_rules! consumes {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident($payload:ty)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis enum $name {
            $($variant($payload)),+
        }

        impl $crate::consumer::Consumes for $name {
            const KINDS: &'static [::complaints_domain::events::EventKind] =
                &[$(::complaints_domain::events::EventKind::$variant),+];

            fn select(event: ::complaints_domain::events::LifecycleEvent) -> Option<Self> {
                match event {
                    $(::complaints_domain::events::LifecycleEvent::$variant(payload) => Some(Self::$variant(payload)),)+
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }

        impl From<$name> for ::complaints_domain::events::LifecycleEvent {
            fn from(event: $name) -> Self {
                match event {
                    $($name::$variant(payload) => Self::$variant(payload)),+
                }
            }
        }
    };
}

/// Applies one event inside the transaction that also claims it in the inbox.
pub trait EventHandler: Send + Sync + 'static {
    /// The events this handler takes; also the consumer's filter.
    type Event: Consumes;

    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        meta: &'a EventMeta,
        event: Self::Event,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;

    /// Whether the handler does nothing at all with `event` (e.g. a notification kind it does
    /// not follow). An ignored event is acknowledged without a transaction or an inbox claim,
    /// which is safe because ignoring it again changes nothing.
    fn ignores(&self, _event: &Self::Event) -> bool {
        false
    }

    /// Called after a transaction that applied an event committed, beside the relay wake-up
    /// the runner does itself (e.g. to wake a delivery worker).
    fn committed(&self) {}
}

/// What became of one delivered message; returned for tests and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Duplicate,
    /// The handler declared it has nothing to do with the event; acknowledged at once.
    Ignored,
    DeadLettered,
    Retrying,
}

/// A durable consumer bound to a store and a handler.
pub struct ConsumerRunner<H> {
    pub name: String,
    pub pool: AnyPool,
    pub jetstream: jetstream::Context,
    pub consumer: jetstream::consumer::Consumer<pull::Config>,
    pub handler: H,
    pub max_deliver: i64,
    /// Woken after every commit that applied an event, so what the handler wrote to the outbox
    /// is published at once.
    pub relay: RelayHandle,
}

impl<H: EventHandler> ConsumerRunner<H> {
    /// Pulls and processes messages one at a time until `token` is cancelled; the message in
    /// hand is finished before returning.
    pub async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        loop {
            let mut messages = tokio::select! {
                _ = token.cancelled() => return Ok(()),
                messages = self.consumer.messages() => match messages {
                    Ok(messages) => messages,
                    Err(error) => {
                        tracing::warn!(consumer = %self.name, %error, "cannot pull; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                },
            };
            loop {
                let next = tokio::select! {
                    _ = token.cancelled() => return Ok(()),
                    next = messages.next() => next,
                };
                match next {
                    Some(Ok(message)) => {
                        // Take what arrives within a moment, to apply it in one transaction
                        // (one commit, one fsync, instead of one per event).
                        let mut batch = vec![message];
                        let deadline = tokio::time::Instant::now() + BATCH_LINGER;
                        while batch.len() < MAX_BATCH {
                            match tokio::time::timeout_at(deadline, messages.next()).await {
                                Ok(Some(Ok(message))) => batch.push(message),
                                _ => break,
                            }
                        }
                        self.process_batch(batch).await;
                    }
                    Some(Err(error)) => {
                        tracing::warn!(consumer = %self.name, %error, "pull stream error; re-subscribing");
                        break;
                    }
                    None => break,
                }
            }
        }
    }

    /// Applies a batch of messages in one transaction and acks them after the commit. When any
    /// of them fails, the transaction is rolled back and each is processed on its own, so one bad
    /// event never holds up or takes down the others.
    pub async fn process_batch(&self, batch: Vec<jetstream::Message>) -> Vec<Outcome> {
        if batch.len() == 1 {
            let mut batch = batch;
            return match batch.pop() {
                Some(message) => vec![self.process(message).await],
                None => Vec::new(),
            };
        }
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut decoded = Vec::with_capacity(batch.len());
        for message in batch {
            match events::decode_on(message.subject.as_str(), &message.payload) {
                Ok(event) if self.ignored(&event) => {
                    ack(&message, AckKind::Ack).await;
                    outcomes.push(Outcome::Ignored);
                }
                Ok(event) => decoded.push((message, event)),
                // Poison goes its own way at once.
                Err(_) => outcomes.push(self.process(message).await),
            }
        }
        if decoded.is_empty() {
            return outcomes;
        }
        match self.apply_all(&decoded).await {
            Ok(applied) => {
                if applied.iter().any(|a| *a) {
                    self.committed();
                }
                for ((message, _), applied) in decoded.iter().zip(applied) {
                    ack(message, AckKind::Ack).await;
                    outcomes.push(if applied { Outcome::Applied } else { Outcome::Duplicate });
                }
            }
            Err(_) => {
                for (message, _) in decoded {
                    outcomes.push(self.process(message).await);
                }
            }
        }
        outcomes
    }

    fn committed(&self) {
        self.relay.notify();
        self.handler.committed();
    }

    fn ignored(&self, envelope: &Envelope) -> bool {
        H::Event::select(envelope.event.clone()).is_some_and(|event| self.handler.ignores(&event))
    }

    /// Claims and applies every event in one transaction; per event whether it was new.
    async fn apply_all(&self, events: &[(jetstream::Message, Envelope)]) -> Result<Vec<bool>, HandlerError> {
        let mut tx = self.pool.begin().await?;
        let mut applied = Vec::with_capacity(events.len());
        for (message, event) in events {
            let span = self.span(event);
            let claimed = self.claim_and_handle(&mut tx, event, message.subject.as_str()).instrument(span).await?;
            applied.push(claimed);
        }
        tx.commit().await?;
        Ok(applied)
    }

    fn span(&self, event: &Envelope) -> tracing::Span {
        let span = tracing::info_span!(
            "handle_event",
            consumer = %self.name,
            event = event.event.kind().as_str(),
            event_id = %event.meta.event_id,
            complaint_id = %event.meta.complaint_id,
        );
        telemetry::set_remote_parent(&span, &event.meta.traceparent, &event.meta.tracestate);
        span
    }

    /// Processes one delivered message to completion (ack, nak or dead-letter).
    pub async fn process(&self, message: jetstream::Message) -> Outcome {
        let (delivered, stream_sequence) = match message.info() {
            Ok(info) => (info.delivered, info.stream_sequence),
            Err(error) => {
                tracing::warn!(consumer = %self.name, %error, "message without JetStream metadata; retrying");
                ack(&message, AckKind::Nak(Some(Duration::from_secs(1)))).await;
                return Outcome::Retrying;
            }
        };
        let event = match events::decode_on(message.subject.as_str(), &message.payload) {
            Ok(event) => event,
            Err(error) => {
                return self.dead_letter(&message, stream_sequence, &error.to_string()).await;
            }
        };
        if self.ignored(&event) {
            ack(&message, AckKind::Ack).await;
            return Outcome::Ignored;
        }
        let span = self.span(&event);
        let result = self.apply(&event, message.subject.as_str()).instrument(span.clone()).await;
        let _entered = span.enter();
        match result {
            Ok(true) => {
                self.committed();
                ack(&message, AckKind::Ack).await;
                Outcome::Applied
            }
            Ok(false) => {
                tracing::debug!("duplicate delivery ignored");
                ack(&message, AckKind::Ack).await;
                Outcome::Duplicate
            }
            Err(HandlerError::Poison(reason)) => self.dead_letter(&message, stream_sequence, &reason).await,
            Err(HandlerError::Retry(error)) => {
                if delivered >= self.max_deliver {
                    let reason = format!("gave up after {delivered} deliveries: {error:#}");
                    return self.dead_letter(&message, stream_sequence, &reason).await;
                }
                let delay = Duration::from_millis(200 * 2u64.pow(delivered.clamp(1, 8) as u32 - 1));
                tracing::warn!(error = %format!("{error:#}"), delivered, "event failed; will retry");
                ack(&message, AckKind::Nak(Some(delay))).await;
                Outcome::Retrying
            }
        }
    }

    /// Claims the event and applies it in one transaction; `Ok(false)` for a duplicate.
    async fn apply(&self, event: &Envelope, subject: &str) -> Result<bool, HandlerError> {
        let mut tx = self.pool.begin().await?;
        if !self.claim_and_handle(&mut tx, event, subject).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Claims the event in the inbox and, when it is new, applies it, both inside `tx`;
    /// `Ok(false)` for an event processed before.
    async fn claim_and_handle(&self, tx: &mut Tx, event: &Envelope, subject: &str) -> Result<bool, HandlerError> {
        if !inbox::claim(tx, &self.name, event.meta.event_id.as_str(), subject).await? {
            return Ok(false);
        }
        self.guarded(tx, event).await?;
        Ok(true)
    }

    /// Runs the handler, turning a panic into a poison verdict so one bad event cannot crash
    /// the service in a loop.
    async fn guarded(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandlerError> {
        let kind = envelope.event.kind();
        let Some(event) = H::Event::select(envelope.event.clone()) else {
            return Err(HandlerError::Poison(format!("{} does not consume {} events", self.name, kind.as_str())));
        };
        match AssertUnwindSafe(self.handler.handle(tx, &envelope.meta, event)).catch_unwind().await {
            Ok(result) => result,
            Err(_) => Err(HandlerError::Poison("the handler panicked on this event".into())),
        }
    }

    /// Publishes the message to `cms.dlq.<consumer>` with the reason, then terminates it.
    async fn dead_letter(&self, message: &jetstream::Message, stream_sequence: u64, reason: &str) -> Outcome {
        tracing::error!(consumer = %self.name, subject = %message.subject, stream_sequence, reason, "event dead-lettered");
        let mut dlq_headers = message.headers.clone().unwrap_or_default();
        dlq_headers.insert(headers::MSG_ID, format!("dlq:{}:{stream_sequence}", self.name).as_str());
        dlq_headers.insert(headers::ORIGINAL_SUBJECT, message.subject.as_str());
        dlq_headers.insert(headers::CONSUMER, self.name.as_str());
        dlq_headers.insert(headers::ERROR, reason.replace(['\r', '\n'], " ").as_str());
        dlq_headers.insert(headers::STREAM_SEQUENCE, stream_sequence.to_string().as_str());
        let subject = format!("{DEAD_LETTER_SUBJECT_PREFIX}{}", self.name);
        let published = match self.jetstream.publish_with_headers(subject, dlq_headers, message.payload.clone()).await {
            Ok(ack_future) => ack_future.await.is_ok(),
            Err(_) => false,
        };
        if published {
            ack(message, AckKind::Term).await;
            Outcome::DeadLettered
        } else {
            // Could not park it: JetStream redelivers without limit, so it comes back.
            tracing::warn!(consumer = %self.name, stream_sequence, "cannot publish the dead letter; will retry");
            ack(message, AckKind::Nak(Some(Duration::from_secs(5)))).await;
            Outcome::Retrying
        }
    }
}

async fn ack(message: &jetstream::Message, kind: AckKind) {
    if let Err(error) = message.ack_with(kind).await {
        tracing::warn!(%error, "cannot acknowledge message; it will be redelivered");
    }
}
