//! The event catalogue on the wire: stream, subject and consumer names, and decoding of a
//! message into the domain's [`Envelope`]. The kinds themselves, their payloads and their
//! catalogued producers live in `complaints_domain::events`; the README's "Event catalogue"
//! table mirrors both.

use complaints_domain::events::{Envelope, EventKind};
use complaints_proto::v1::EventEnvelope;
use prost::Message;

/// Version of the envelope and payload schemas this build produces.
pub const SCHEMA_VERSION: u32 = 1;

/// The stream holding every lifecycle event (and targeted replays).
pub const EVENTS_STREAM: &str = "CMS_EVENTS";
/// Prefix of every lifecycle event subject: `cms.complaint.<event>`.
pub const EVENT_SUBJECT_PREFIX: &str = "cms.complaint.";
/// Replays addressed to one consumer: `cms.replay.<consumer>.<event>`.
pub const REPLAY_SUBJECT_PREFIX: &str = "cms.replay.";
/// The dead-letter stream; subjects `cms.dlq.<consumer>`.
pub const DEAD_LETTER_STREAM: &str = "CMS_DLQ";
pub const DEAD_LETTER_SUBJECT_PREFIX: &str = "cms.dlq.";
/// The long-retention stream of audit-chain heads, `cms.audit.<service>`; nothing in it can be
/// deleted or purged.
pub const AUDIT_STREAM: &str = "CMS_AUDIT";
pub const AUDIT_SUBJECT_PREFIX: &str = "cms.audit.";

/// Header names carried on every published event and dead letter.
pub mod headers {
    pub const MSG_ID: &str = "Nats-Msg-Id";
    pub const TRACEPARENT: &str = "traceparent";
    pub const TRACESTATE: &str = "tracestate";
    pub const COMPLAINT_ID: &str = "Cms-Complaint-Id";
    pub const ORIGINAL_SUBJECT: &str = "Cms-Original-Subject";
    pub const CONSUMER: &str = "Cms-Consumer";
    pub const ERROR: &str = "Cms-Error";
    pub const STREAM_SEQUENCE: &str = "Cms-Stream-Sequence";
}

/// The subject `producer` publishes events of `kind` on: `cms.complaint.received`, and for a
/// kind several services produce, with the producer last: `cms.complaint.clock_breached.intake`.
pub fn subject(kind: EventKind, producer: &str) -> String {
    if kind.has_several_producers() {
        format!("{EVENT_SUBJECT_PREFIX}{}.{producer}", kind.as_str())
    } else {
        format!("{EVENT_SUBJECT_PREFIX}{}", kind.as_str())
    }
}

/// The consumer filter taking every event of `kind`, from whichever catalogued producer.
pub fn filter_subject(kind: EventKind) -> String {
    if kind.has_several_producers() {
        format!("{EVENT_SUBJECT_PREFIX}{}.*", kind.as_str())
    } else {
        format!("{EVENT_SUBJECT_PREFIX}{}", kind.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("payload is not an EventEnvelope: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("schema version {0} is newer than this build understands ({SCHEMA_VERSION})")]
    FutureSchema(u32),
    #[error("invalid event: {0}")]
    Invalid(#[from] complaints_domain::FieldError),
    #[error("{kind} events come from {catalogued}, not {producer}")]
    WrongProducer { kind: &'static str, catalogued: String, producer: String },
    #[error("a {kind} event from {producer} does not travel on {subject}")]
    WrongSubject { kind: &'static str, producer: String, subject: String },
}

/// Decodes and checks a message: a known schema, every field valid (converted once, here, into
/// the domain's types), and produced by the service the catalogue names for its kind.
pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    let envelope = EventEnvelope::decode(bytes)?;
    if envelope.schema_version > SCHEMA_VERSION {
        return Err(DecodeError::FutureSchema(envelope.schema_version));
    }
    let envelope = Envelope::try_from(envelope)?;
    let kind = envelope.event.kind();
    if !kind.catalogued_producers().contains(&envelope.meta.producer.as_str()) {
        return Err(DecodeError::WrongProducer {
            kind: kind.as_str(),
            catalogued: kind.catalogued_producers().join(" or "),
            producer: envelope.meta.producer.clone(),
        });
    }
    Ok(envelope)
}

/// [`decode`], and the message came on the subject of its kind and producer (or on a
/// consumer's replay subject for it): an event cannot ride on another kind's subject, which
/// the broker lets a different service publish.
pub fn decode_on(subject: &str, bytes: &[u8]) -> Result<Envelope, DecodeError> {
    let envelope = decode(bytes)?;
    let kind = envelope.event.kind();
    let expected = self::subject(kind, &envelope.meta.producer);
    let tail = expected.strip_prefix(EVENT_SUBJECT_PREFIX).unwrap_or(&expected);
    let replayed = subject
        .strip_prefix(REPLAY_SUBJECT_PREFIX)
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(_, event)| event == tail);
    if subject != expected && !replayed {
        return Err(DecodeError::WrongSubject { kind: kind.as_str(), producer: envelope.meta.producer.clone(), subject: subject.to_owned() });
    }
    Ok(envelope)
}

/// Encodes an envelope for the wire.
pub fn encode(envelope: &Envelope) -> Vec<u8> {
    EventEnvelope::from(envelope).encode_to_vec()
}
