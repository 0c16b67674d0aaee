//! Dead letters for operators: list what was parked on `cms.dlq.<consumer>` with the reason, and
//! replay one to the consumer that rejected it (`cms.replay.<consumer>.<event>`), leaving every
//! other consumer untouched.

use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures::StreamExt;

use crate::events::{headers, DEAD_LETTER_STREAM, EVENT_SUBJECT_PREFIX, REPLAY_SUBJECT_PREFIX};

/// A parked message.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Sequence in the dead-letter stream; what `replay` takes.
    pub sequence: u64,
    pub consumer: String,
    pub original_subject: String,
    pub error: String,
    pub complaint_id: String,
    pub payload_bytes: usize,
}

fn header(message: &async_nats::Message, name: &str) -> String {
    message
        .headers
        .as_ref()
        .and_then(|h| h.get(name))
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default()
}

/// Every message in the dead-letter stream, oldest first.
pub async fn list(js: &jetstream::Context) -> anyhow::Result<Vec<DeadLetter>> {
    let stream = js.get_stream(DEAD_LETTER_STREAM).await?;
    let total = stream.cached_info().state.messages;
    if total == 0 {
        return Ok(Vec::new());
    }
    let reader = stream
        .create_consumer(consumer::pull::OrderedConfig { deliver_policy: consumer::DeliverPolicy::All, ..Default::default() })
        .await?;
    let mut messages = reader.messages().await?;
    let mut letters = Vec::new();
    while letters.len() < usize::try_from(total).unwrap_or(usize::MAX) {
        let Ok(Some(next)) = tokio::time::timeout(Duration::from_secs(2), messages.next()).await else { break };
        let message = next?;
        let sequence = message.info().map(|i| i.stream_sequence).unwrap_or_default();
        letters.push(DeadLetter {
            sequence,
            consumer: header(&message, headers::CONSUMER),
            original_subject: header(&message, headers::ORIGINAL_SUBJECT),
            error: header(&message, headers::ERROR),
            complaint_id: header(&message, headers::COMPLAINT_ID),
            payload_bytes: message.payload.len(),
        });
    }
    Ok(letters)
}

/// Re-publishes dead letter `sequence` to its consumer only. Returns the replay subject.
pub async fn replay(js: &jetstream::Context, sequence: u64) -> anyhow::Result<String> {
    let stream = js.get_stream(DEAD_LETTER_STREAM).await?;
    let message = stream.get_raw_message(sequence).await?;
    let consumer = message.headers.get(headers::CONSUMER).map(|v| v.as_str().to_owned()).unwrap_or_default();
    let original = message.headers.get(headers::ORIGINAL_SUBJECT).map(|v| v.as_str().to_owned()).unwrap_or_default();
    if consumer.is_empty() {
        anyhow::bail!("dead letter {sequence} names no consumer");
    }
    let event = original
        .strip_prefix(EVENT_SUBJECT_PREFIX)
        .or_else(|| original.strip_prefix(REPLAY_SUBJECT_PREFIX).and_then(|rest| rest.split_once('.').map(|(_, e)| e)))
        .unwrap_or("unknown");
    let subject = format!("{REPLAY_SUBJECT_PREFIX}{consumer}.{event}");
    let mut replay_headers = async_nats::HeaderMap::new();
    for name in [headers::TRACEPARENT, headers::TRACESTATE, headers::COMPLAINT_ID] {
        if let Some(value) = message.headers.get(name) {
            replay_headers.insert(name, value.as_str());
        }
    }
    replay_headers.insert(headers::MSG_ID, format!("replay:{sequence}:{}", uuid::Uuid::new_v4()).as_str());
    js.publish_with_headers(subject.clone(), replay_headers, message.payload.clone()).await?.await?;
    Ok(subject)
}
