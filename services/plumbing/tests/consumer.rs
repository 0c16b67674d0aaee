//! The consumer runner against a real nats-server, with a handler built for the test that
//! writes each event it applies to a table of its own: the subject filter comes from the
//! consumed kinds; a batch is applied exactly once even when every event is published twice;
//! a rejected or panicking event is dead-lettered while the rest of its batch applies;
//! transient failures are retried until they succeed or the delivery limit is reached; an event
//! from the wrong producer never reaches the handler. SQLite throughout; the batch also on
//! PostgreSQL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use complaints_domain::events::{ComplaintClosed, ComplaintReceived, SealedContact, Envelope, EventKind, EventMeta, LifecycleEvent};
use complaints_domain::{Channel, ComplaintId, ComplaintNumber, EventId};
use complaints_plumbing::consumer::{Consumes, ConsumerRunner, EventHandler, HandlerError};
use complaints_plumbing::dlq::{self, DeadLetter};
use complaints_plumbing::events::{self, headers, EVENTS_STREAM, SCHEMA_VERSION};
use complaints_plumbing::outbox::RelayHandle;
use complaints_plumbing::store::{Backend, Tx};
use complaints_plumbing::testing::{eventually, NatsServer, TestStores};
use sqlx::AnyPool;
use tokio_util::sync::CancellationToken;

const CONSUMER: &str = "testconsumer";
const WAIT: Duration = Duration::from_secs(20);
const SEEN_TABLE: &[(i64, &str, &str)] = &[(100, "test", "CREATE TABLE seen (event_id TEXT PRIMARY KEY, kind TEXT NOT NULL);")];

complaints_plumbing::consumes! {
    enum Taken {
        Received(ComplaintReceived),
        Closed(ComplaintClosed),
    }
}

/// What the test handler does with one event (by event id); `Apply` unless scripted.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    Apply,
    Reject,
    Panic,
    /// Fails (retryably) on its first n calls, then applies.
    FailTimes(usize),
    AlwaysRetry,
}

/// The handler's script and how often it was called, per event id.
#[derive(Clone, Default)]
struct Script {
    behaviours: Arc<Mutex<HashMap<String, Behaviour>>>,
    calls: Arc<Mutex<HashMap<String, usize>>>,
}

impl Script {
    fn set(&self, event_id: &EventId, behaviour: Behaviour) {
        self.behaviours.lock().expect("script").insert(event_id.to_string(), behaviour);
    }

    fn calls(&self, event_id: &EventId) -> usize {
        self.calls.lock().expect("calls").get(event_id.as_str()).copied().unwrap_or(0)
    }
}

/// Records each event it applies in `seen`, unless the script says otherwise.
struct Recorder {
    script: Script,
}

impl EventHandler for Recorder {
    type Event = Taken;

    async fn handle(&self, tx: &mut Tx, meta: &EventMeta, event: Taken) -> Result<(), HandlerError> {
        let id = meta.event_id.to_string();
        let call = {
            let mut calls = self.script.calls.lock().expect("calls");
            let count = calls.entry(id.clone()).or_insert(0);
            *count += 1;
            *count
        };
        let behaviour = self.script.behaviours.lock().expect("script").get(&id).copied().unwrap_or(Behaviour::Apply);
        match behaviour {
            Behaviour::Apply => {}
            Behaviour::Reject => return Err(HandlerError::Poison("the test handler rejects this event".into())),
            Behaviour::Panic => panic!("the test handler panics on this event"),
            Behaviour::FailTimes(failures) if call <= failures => {
                return Err(HandlerError::Retry(anyhow::anyhow!("transient failure {call} of {failures}")));
            }
            Behaviour::FailTimes(_) => {}
            Behaviour::AlwaysRetry => return Err(HandlerError::Retry(anyhow::anyhow!("the store is never available"))),
        }
        let kind = match event {
            Taken::Received(_) => EventKind::Received,
            Taken::Closed(_) => EventKind::Closed,
        };
        sqlx::query("INSERT INTO seen (event_id, kind) VALUES ($1, $2)").bind(&id).bind(kind.as_str()).execute(&mut **tx).await?;
        Ok(())
    }
}

/// A nats-server, a store with the `seen` table, the streams and the durable consumer; the
/// runner starts with [`Rig::run`] and stops when the rig is dropped.
struct Rig {
    _nats: NatsServer,
    _stores: TestStores,
    js: jetstream::Context,
    pool: AnyPool,
    script: Script,
    token: CancellationToken,
}

impl Rig {
    async fn start(backend: Backend) -> Self {
        let nats = NatsServer::start();
        let stores = TestStores::new(backend);
        let pool = complaints_plumbing::store::connect(&stores.url("consumer"), SEEN_TABLE).await.expect("store");
        let js = jetstream::new(nats.connect().await);
        complaints_plumbing::nats::ensure_streams(&js, 1, 1).await.expect("streams");
        Self { _nats: nats, _stores: stores, js, pool, script: Script::default(), token: CancellationToken::new() }
    }

    /// Starts the runner with `max_deliver`.
    async fn run(&self, max_deliver: i64) {
        let consumer = complaints_plumbing::nats::ensure_consumer(&self.js, CONSUMER, Taken::KINDS).await.expect("consumer");
        let runner = ConsumerRunner {
            name: CONSUMER.to_owned(),
            pool: self.pool.clone(),
            jetstream: self.js.clone(),
            consumer,
            handler: Recorder { script: self.script.clone() },
            max_deliver,
            relay: RelayHandle::default(),
        };
        tokio::spawn(runner.run(self.token.clone()));
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.expect("count")
    }

    async fn seen(&self, event_id: &EventId) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM seen WHERE event_id = $1").bind(event_id.as_str()).fetch_one(&self.pool).await.expect("count")
    }

    /// Waits until the consumer has taken and settled every message up to `last_sequence`.
    async fn settled(&self, last_sequence: u64) {
        let rig = self;
        eventually("the consumer to settle every message", WAIT, move || async move {
            let stream = rig.js.get_stream(EVENTS_STREAM).await.ok()?;
            let info = stream.consumer_info(CONSUMER).await.ok()?;
            (info.num_pending == 0 && info.num_ack_pending == 0 && info.ack_floor.stream_sequence >= last_sequence).then_some(())
        })
        .await;
    }

    /// Waits for exactly `count` dead letters.
    async fn dead_letters(&self, count: usize) -> Vec<DeadLetter> {
        let rig = self;
        eventually(&format!("{count} dead letters"), WAIT, move || async move {
            let letters = dlq::list(&rig.js).await.ok()?;
            (letters.len() == count).then_some(letters)
        })
        .await
    }

    async fn publish(&self, envelope: &Envelope, message_id: &str) {
        self.publish_on(&events::subject(envelope.event.kind(), &envelope.meta.producer), envelope, message_id).await;
    }

    async fn publish_on(&self, subject: &str, envelope: &Envelope, message_id: &str) {
        let mut message_headers = async_nats::HeaderMap::new();
        message_headers.insert(headers::MSG_ID, message_id);
        self.js
            .publish_with_headers(subject.to_owned(), message_headers, events::encode(envelope).into())
            .await
            .expect("publish")
            .await
            .expect("JetStream acknowledges");
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

fn received() -> LifecycleEvent {
    LifecycleEvent::Received(ComplaintReceived {
        channel: Channel::App,
        summary: "Card fee charged twice".into(),
        description: "The annual fee was taken twice.".into(),
        demand: "refund".into(),
        amount_involved: None,
        product_hint: String::new(),
        contact: SealedContact::default(),
        receiving_staff: None,
        staff_involved: vec![],
        branch_involved: String::new(),
        tags: vec![],
        received_at_ms: complaints_plumbing::now_ms(),
        jurisdiction: "cn".into(),
        reply_due: None,
        customer_key: String::new(),
    })
}

fn closed(reason: &str) -> LifecycleEvent {
    LifecycleEvent::Closed(ComplaintClosed { reason: reason.into(), external_route: None })
}

/// An event for a fresh complaint as `producer` sent it.
fn envelope_from(producer: &str, event: LifecycleEvent) -> Envelope {
    Envelope {
        meta: EventMeta {
            event_id: EventId::generate(),
            complaint_id: ComplaintId::generate(),
            complaint_number: ComplaintNumber::parse("complaint_number", "T-20260101-000001").expect("number"),
            occurred_at_ms: complaints_plumbing::now_ms(),
            producer: producer.to_owned(),
            schema_version: SCHEMA_VERSION,
            traceparent: String::new(),
            tracestate: String::new(),
        },
        event,
    }
}

/// An event as its catalogued producer sends it.
fn envelope(event: LifecycleEvent) -> Envelope {
    let producer = event.kind().catalogued_producers()[0];
    envelope_from(producer, event)
}

#[tokio::test]
async fn the_consumer_filter_is_derived_from_the_consumed_kinds() {
    let rig = Rig::start(Backend::Sqlite).await;
    assert_eq!(Taken::KINDS, [EventKind::Received, EventKind::Closed]);
    complaints_plumbing::nats::ensure_consumer(&rig.js, CONSUMER, Taken::KINDS).await.expect("consumer");
    let stream = rig.js.get_stream(EVENTS_STREAM).await.expect("stream");
    let info = stream.consumer_info(CONSUMER).await.expect("consumer info");
    assert_eq!(info.config.filter_subjects, ["cms.complaint.received", "cms.complaint.closed", "cms.replay.testconsumer.>"]);
    assert_eq!(info.config.durable_name.as_deref(), Some(CONSUMER));
}

async fn a_batch_published_twice_is_applied_exactly_once(backend: Backend) {
    let rig = Rig::start(backend).await;
    let batch: Vec<Envelope> = (0..20).map(|i| envelope(if i % 2 == 0 { received() } else { closed(&format!("closed {i}")) })).collect();
    // Every event twice, under different message ids, so the broker's duplicate window keeps both.
    for event in &batch {
        rig.publish(event, &format!("first-{}", event.meta.event_id)).await;
        rig.publish(event, &format!("again-{}", event.meta.event_id)).await;
    }
    rig.run(10).await;
    rig.settled(40).await;
    assert_eq!(rig.count("SELECT COUNT(*) FROM seen").await, 20);
    assert_eq!(rig.count("SELECT COUNT(*) FROM seen WHERE kind = 'received'").await, 10);
    assert_eq!(rig.count("SELECT COUNT(*) FROM seen WHERE kind = 'closed'").await, 10);
    for event in &batch {
        assert_eq!(rig.seen(&event.meta.event_id).await, 1, "{} applied once", event.meta.event_id);
    }
    assert_eq!(rig.count("SELECT COUNT(*) FROM inbox WHERE consumer = 'testconsumer'").await, 20, "one inbox claim per event");
    assert!(dlq::list(&rig.js).await.expect("dead letters").is_empty(), "nothing dead-lettered");
}

#[tokio::test]
async fn a_batch_published_twice_is_applied_exactly_once_on_sqlite() {
    a_batch_published_twice_is_applied_exactly_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_batch_published_twice_is_applied_exactly_once_on_postgres() {
    a_batch_published_twice_is_applied_exactly_once(Backend::Postgres).await;
}

#[tokio::test]
async fn a_rejected_event_is_dead_lettered_and_the_rest_of_its_batch_applies() {
    let rig = Rig::start(Backend::Sqlite).await;
    let batch: Vec<Envelope> = (0..10).map(|i| envelope(closed(&format!("closed {i}")))).collect();
    let rejected = &batch[4];
    rig.script.set(&rejected.meta.event_id, Behaviour::Reject);
    // Published before the runner starts, so they arrive together as one batch.
    for event in &batch {
        rig.publish(event, event.meta.event_id.as_str()).await;
    }
    rig.run(10).await;
    let letters = rig.dead_letters(1).await;
    rig.settled(10).await;
    assert_eq!(letters[0].consumer, CONSUMER);
    assert_eq!(letters[0].original_subject, "cms.complaint.closed");
    assert_eq!(letters[0].error, "the test handler rejects this event");
    assert_eq!(rig.count("SELECT COUNT(*) FROM seen").await, 9);
    assert_eq!(rig.seen(&rejected.meta.event_id).await, 0);
    assert_eq!(rig.count("SELECT COUNT(*) FROM inbox").await, 9, "the rejected event is not claimed");
}

#[tokio::test]
async fn a_panicking_handler_dead_letters_the_event_and_the_runner_keeps_going() {
    let rig = Rig::start(Backend::Sqlite).await;
    let first = envelope(closed("before"));
    let fatal = envelope(received());
    rig.script.set(&fatal.meta.event_id, Behaviour::Panic);
    rig.publish(&first, first.meta.event_id.as_str()).await;
    rig.publish(&fatal, fatal.meta.event_id.as_str()).await;
    rig.run(10).await;
    let letters = rig.dead_letters(1).await;
    assert_eq!(letters[0].consumer, CONSUMER);
    assert_eq!(letters[0].original_subject, "cms.complaint.received");
    assert!(letters[0].error.contains("panicked"), "{}", letters[0].error);

    let after = envelope(closed("after"));
    rig.publish(&after, after.meta.event_id.as_str()).await;
    rig.settled(3).await;
    assert_eq!(rig.seen(&first.meta.event_id).await, 1);
    assert_eq!(rig.seen(&fatal.meta.event_id).await, 0);
    assert_eq!(rig.seen(&after.meta.event_id).await, 1, "the runner survived the panic");
    assert_eq!(rig.dead_letters(1).await.len(), 1);
}

#[tokio::test]
async fn a_transient_failure_is_retried_until_the_event_applies_once() {
    let rig = Rig::start(Backend::Sqlite).await;
    let flaky = envelope(closed("flaky"));
    rig.script.set(&flaky.meta.event_id, Behaviour::FailTimes(3));
    rig.publish(&flaky, flaky.meta.event_id.as_str()).await;
    rig.run(10).await;
    let (watched, id) = (&rig, &flaky.meta.event_id);
    eventually("the flaky event to apply", WAIT, move || async move { (watched.seen(id).await == 1).then_some(()) }).await;
    rig.settled(1).await;
    assert_eq!(rig.script.calls(&flaky.meta.event_id), 4, "three failures, then the one success");
    assert_eq!(rig.count("SELECT COUNT(*) FROM seen").await, 1);
    assert!(dlq::list(&rig.js).await.expect("dead letters").is_empty());
}

#[tokio::test]
async fn an_event_that_always_fails_is_dead_lettered_at_the_delivery_limit() {
    let rig = Rig::start(Backend::Sqlite).await;
    let hopeless = envelope(closed("hopeless"));
    rig.script.set(&hopeless.meta.event_id, Behaviour::AlwaysRetry);
    rig.publish(&hopeless, hopeless.meta.event_id.as_str()).await;
    rig.run(2).await;
    let letters = rig.dead_letters(1).await;
    rig.settled(1).await;
    assert_eq!(letters[0].consumer, CONSUMER);
    assert!(letters[0].error.starts_with("gave up after 2 deliveries"), "{}", letters[0].error);
    assert!(letters[0].error.contains("the store is never available"), "{}", letters[0].error);
    assert_eq!(rig.script.calls(&hopeless.meta.event_id), 2, "one call per delivery");
    assert_eq!(rig.count("SELECT COUNT(*) FROM seen").await, 0);
}

#[tokio::test]
async fn an_event_on_another_kinds_subject_is_dead_lettered_without_reaching_the_handler() {
    let rig = Rig::start(Backend::Sqlite).await;
    // A genuine-looking `closed` from intake, smuggled onto the subject of `received`.
    let smuggled = envelope(closed("resolved"));
    rig.publish_on("cms.complaint.received", &smuggled, smuggled.meta.event_id.as_str()).await;
    rig.run(10).await;
    let letters = rig.dead_letters(1).await;
    assert_eq!(letters[0].original_subject, "cms.complaint.received");
    assert_eq!(letters[0].error, "a closed event from intake does not travel on cms.complaint.received");
    assert_eq!(rig.script.calls(&smuggled.meta.event_id), 0, "the handler never saw it");
}

#[tokio::test]
async fn an_event_from_the_wrong_producer_is_dead_lettered_without_reaching_the_handler() {
    let rig = Rig::start(Backend::Sqlite).await;
    let forged = envelope_from("analytics", received());
    let genuine = envelope(received());
    rig.publish(&forged, forged.meta.event_id.as_str()).await;
    rig.publish(&genuine, genuine.meta.event_id.as_str()).await;
    rig.run(10).await;
    let letters = rig.dead_letters(1).await;
    rig.settled(2).await;
    assert_eq!(letters[0].consumer, CONSUMER);
    assert_eq!(letters[0].original_subject, "cms.complaint.received");
    assert_eq!(letters[0].error, "received events come from intake, not analytics");
    assert_eq!(rig.script.calls(&forged.meta.event_id), 0, "the handler never saw it");
    assert_eq!(rig.seen(&forged.meta.event_id).await, 0);
    assert_eq!(rig.seen(&genuine.meta.event_id).await, 1);
}
