//! Messaging guarantees against a real nats-server: an event delivered again changes nothing
//! (inbox), an undecodable message is dead-lettered while consumers keep going, and a dead
//! letter can be replayed to the one consumer that rejected it.

use std::time::Duration;

use async_nats::jetstream;
use complaints_proto::v1 as pb;
use complaints_plumbing::dlq;
use complaints_plumbing::events::{self, headers, EVENTS_STREAM};
use complaints_domain::EventKind;
use complaints_plumbing::store::Backend;
use system_tests::{sample_complaint, wait_for, Platform, SERVICES};

const WAIT: Duration = Duration::from_secs(60);

async fn jetstream_of(platform: &Platform) -> jetstream::Context {
    jetstream::new(platform.nats.connect().await)
}

/// Rows every service holds, to compare before and after.
async fn snapshot(platform: &Platform) -> Vec<(String, i64)> {
    let mut rows = Vec::new();
    for (service, table) in [
        ("intake", "complaints"),
        ("routing", "assignments"),
        ("investigation", "cases"),
        ("approval", "involvements"),
        ("notification", "deliveries"),
        ("analytics", "timeline"),
    ] {
        rows.push((format!("{service}.{table}"), platform.count(service, &format!("SELECT COUNT(*) FROM {table}")).await));
        rows.push((format!("{service}.outbox"), platform.count(service, "SELECT COUNT(*) FROM outbox").await));
        rows.push((format!("{service}.inbox"), platform.count(service, "SELECT COUNT(*) FROM inbox").await));
    }
    rows
}

async fn redelivered_events_change_nothing(backend: Backend) {
    let platform = Platform::start(backend).await;
    let mut intake = platform.intake().await;
    let submitted = intake.submit_complaint(sample_complaint("redeliver-1")).await.expect("submit").into_inner();
    let analytics = platform.analytics().await;
    wait_for("automatic stages done", WAIT, || {
        let mut analytics = analytics.clone();
        let number = submitted.complaint_number.clone();
        async move {
            let timeline = analytics.get_timeline(pb::GetTimelineRequest { complaint_number: number, ..Default::default() }).await.ok()?;
            (timeline.get_ref().entries.len() == 5).then_some(())
        }
    })
    .await;
    platform.wait_idle(WAIT).await;
    let before = snapshot(&platform).await;
    let deliveries_before = platform.sink.all().len();

    // Publish every stored event again under a fresh message id, so JetStream's duplicate
    // window cannot drop them and every consumer really receives them a second time.
    let js = jetstream_of(&platform).await;
    let stream = js.get_stream(EVENTS_STREAM).await.expect("stream");
    let last = stream.get_info().await.expect("info").state.last_sequence;
    assert!(last >= 5, "events were published: {last}");
    for sequence in 1..=last {
        let message = stream.get_raw_message(sequence).await.expect("stored event");
        let mut again = message.headers.clone();
        again.insert(headers::MSG_ID, format!("redeliver-{sequence}").as_str());
        js.publish_with_headers(message.subject.to_string(), again, message.payload.clone())
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    platform.wait_idle(WAIT).await;
    let info = stream.get_info().await.expect("info");
    assert_eq!(info.state.last_sequence, last * 2, "the duplicates were really delivered");
    assert_eq!(snapshot(&platform).await, before, "no store changed");
    assert_eq!(platform.sink.all().len(), deliveries_before, "no notification sent again");
}

async fn poison_messages_are_dead_lettered_and_can_be_replayed(backend: Backend) {
    let platform = Platform::start(backend).await;
    let js = jetstream_of(&platform).await;
    // Garbage on a subject four consumers read: routing, approval, notification, analytics.
    js.publish(events::subject(EventKind::Received, "intake"), vec![0xff, 0x00, 0x13, 0x37].into())
        .await
        .expect("publish")
        .await
        .expect("ack");
    let letters = wait_for("four dead letters", WAIT, || {
        let js = js.clone();
        async move {
            let letters = dlq::list(&js).await.ok()?;
            (letters.len() == 4).then_some(letters)
        }
    })
    .await;
    let mut consumers: Vec<&str> = letters.iter().map(|l| l.consumer.as_str()).collect();
    consumers.sort_unstable();
    assert_eq!(consumers, ["analytics", "approval", "notification", "routing"]);
    for letter in &letters {
        assert_eq!(letter.original_subject, "cms.complaint.received");
        assert!(letter.error.contains("EventEnvelope"), "reason recorded: {}", letter.error);
        assert_eq!(letter.payload_bytes, 4);
    }

    // The consumers keep going: a real complaint flows through.
    let mut intake = platform.intake().await;
    let submitted = intake.submit_complaint(sample_complaint("after-poison")).await.expect("submit").into_inner();
    let mut routing = platform.routing().await;
    wait_for("complaint routed after the poison", WAIT, || {
        let mut routing = routing.clone();
        let id = submitted.complaint_id.clone();
        async move { routing.get_assignment(pb::GetAssignmentRequest { complaint_id: id }).await.ok() }
    })
    .await;
    drop(routing.get_assignment(pb::GetAssignmentRequest { complaint_id: submitted.complaint_id.clone() }).await);

    // Replay the routing dead letter: only routing receives it (and parks it again).
    let routing_letter = letters.iter().find(|l| l.consumer == "routing").expect("routing letter");
    let subject = dlq::replay(&js, routing_letter.sequence).await.expect("replay");
    assert_eq!(subject, "cms.replay.routing.received");
    let after = wait_for("replayed letter parked again", WAIT, || {
        let js = js.clone();
        async move {
            let letters = dlq::list(&js).await.ok()?;
            (letters.len() == 5).then_some(letters)
        }
    })
    .await;
    assert_eq!(after.last().map(|l| l.consumer.as_str()), Some("routing"));
    platform.wait_idle(WAIT).await;
    assert_eq!(dlq::list(&js).await.expect("list").len(), 5, "no other consumer saw the replay");
    for service in SERVICES {
        assert_eq!(platform.count(service, "SELECT COUNT(*) FROM outbox WHERE published_at_ms IS NULL").await, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivery_is_a_no_op_on_sqlite() {
    redelivered_events_change_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivery_is_a_no_op_on_postgres() {
    redelivered_events_change_nothing(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_is_dead_lettered_on_sqlite() {
    poison_messages_are_dead_lettered_and_can_be_replayed(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_is_dead_lettered_on_postgres() {
    poison_messages_are_dead_lettered_and_can_be_replayed(Backend::Postgres).await;
}
