//! The locked-down broker in the running platform, on SQLite and PostgreSQL: the services work
//! with their generated credentials and nothing more; a client without credentials, or with a
//! key the broker does not know, cannot connect; a service's credentials cannot publish another
//! service's events or read the event stream; an event whose envelope names the wrong producer
//! is refused by every consumer (dead-lettered), not applied.

use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use complaints_plumbing::dlq;
use complaints_plumbing::store::Backend;
use complaints_proto::v1 as pb;
use futures::StreamExt;
use prost::Message;
use system_tests::{handler_of, sample_complaint, submit, wait_for, Platform, WAIT};

async fn broker(backend: Backend) {
    let platform = Platform::start(backend).await;
    // The platform works under its permissions: registered, triaged, assigned.
    let number = submit(&platform, sample_complaint("broker-1")).await;
    handler_of(&platform, &number).await;
    let url = platform.nats.url();

    // No credentials, or a key the broker does not know: no connection.
    assert!(async_nats::ConnectOptions::new().connect(&url).await.is_err(), "anonymous client connected");
    let stranger = nkeys::KeyPair::new_user().seed().expect("seed");
    assert!(async_nats::ConnectOptions::new().nkey(stranger).connect(&url).await.is_err(), "unknown key connected");

    // Routing's credentials cannot publish approval's event.
    let routing = platform.nats.connect_as("routing").await.expect("routing connects");
    let mut routing_js = jetstream::new(routing.clone());
    routing_js.set_timeout(Duration::from_secs(2));
    let forged = routing_js.publish("cms.complaint.resolution_approved", "approved by nobody".into()).await;
    let acknowledged = match forged {
        Ok(ack) => ack.await.is_ok(),
        Err(_) => false,
    };
    assert!(!acknowledged, "the stream took an event routing may not publish");
    let operator = jetstream::new(platform.nats.connect().await);
    let events = operator.get_stream("CMS_EVENTS").await.expect("event stream");
    assert!(events.get_last_raw_message_by_subject("cms.complaint.resolution_approved").await.is_err(), "nothing on that subject");

    // ... nor read the event stream: no consumer of its own, not another service's, no direct
    // reads, no plain subscription.
    let stream = routing_js.get_stream("CMS_EVENTS").await.expect("stream info is allowed");
    let spy = stream
        .create_consumer(consumer::pull::Config { durable_name: Some("spy".into()), ..Default::default() })
        .await;
    assert!(spy.is_err(), "routing created a consumer of its own");
    assert!(stream.get_consumer::<consumer::pull::Config>("intake").await.is_err(), "routing reached intake's consumer");
    assert!(stream.get_raw_message(1).await.is_err(), "routing read a message directly");
    let mut sniffer = routing.subscribe("cms.complaint.>").await.expect("the client sends the subscription");
    submit(&platform, sample_complaint("broker-2")).await;
    let sniffed = tokio::time::timeout(Duration::from_secs(2), sniffer.next()).await;
    assert!(!matches!(sniffed, Ok(Some(_))), "routing read events off the wire");

    // Intake's credentials may publish `received`; an envelope there naming another producer
    // is refused by every consumer of `received`.
    let original = events.get_raw_message(1).await.expect("the first event");
    let mut envelope = pb::EventEnvelope::decode(original.payload.as_ref()).expect("an envelope");
    assert!(matches!(envelope.payload, Some(pb::event_envelope::Payload::Received(_))), "the first event is a registration");
    envelope.producer = "routing".into();
    envelope.event_id = "0192f000-0000-7000-8000-000000000001".into();
    let intake_js = jetstream::new(platform.nats.connect_as("intake").await.expect("intake connects"));
    intake_js
        .publish("cms.complaint.received", envelope.encode_to_vec().into())
        .await
        .expect("published")
        .await
        .expect("intake may publish on received");
    let operator = &operator;
    let letters = wait_for("the forgery dead-lettered by every consumer of received", WAIT, || async move {
        let letters = dlq::list(operator).await.ok()?;
        let refused: Vec<String> = letters
            .iter()
            .filter(|letter| letter.error == "received events come from intake, not routing")
            .map(|letter| letter.consumer.clone())
            .collect();
        (refused.len() >= 4).then_some(refused)
    })
    .await;
    for consumer in ["routing", "approval", "notification", "analytics"] {
        assert!(letters.iter().any(|c| c == consumer), "{consumer} refused it: {letters:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_on_sqlite() {
    broker(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_on_postgres() {
    broker(Backend::Postgres).await;
}
