//! The event catalogue in code: stream, subject and consumer names, and how a lifecycle payload
//! maps to its subject. The README's "Event catalogue" table mirrors this module.

use complaints_proto::v1::event_envelope::Payload;
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

/// Lifecycle events by the short name used in subjects.
pub mod names {
    pub const RECEIVED: &str = "received";
    pub const TRIAGED: &str = "triaged";
    pub const ASSIGNED: &str = "assigned";
    pub const INVESTIGATION_OPENED: &str = "investigation_opened";
    pub const EVIDENCE_REGISTERED: &str = "evidence_registered";
    pub const RESOLUTION_PROPOSED: &str = "resolution_proposed";
    pub const RESOLUTION_APPROVED: &str = "resolution_approved";
    pub const RESOLUTION_RETURNED: &str = "resolution_returned";
    pub const CUSTOMER_NOTIFIED: &str = "customer_notified";
    pub const CUSTOMER_RESPONDED: &str = "customer_responded";
    pub const REMEDY_EXECUTED: &str = "remedy_executed";
    pub const FOLLOW_UP_RECORDED: &str = "follow_up_recorded";
    pub const CLOSED: &str = "closed";

    /// Every lifecycle event, in lifecycle order.
    pub const ALL: [&str; 13] = [
        RECEIVED,
        TRIAGED,
        ASSIGNED,
        INVESTIGATION_OPENED,
        EVIDENCE_REGISTERED,
        RESOLUTION_PROPOSED,
        RESOLUTION_APPROVED,
        RESOLUTION_RETURNED,
        CUSTOMER_NOTIFIED,
        CUSTOMER_RESPONDED,
        REMEDY_EXECUTED,
        FOLLOW_UP_RECORDED,
        CLOSED,
    ];
}

/// The short name of a payload, as used in its subject.
pub fn event_name(payload: &Payload) -> &'static str {
    use names::*;
    match payload {
        Payload::Received(_) => RECEIVED,
        Payload::Triaged(_) => TRIAGED,
        Payload::Assigned(_) => ASSIGNED,
        Payload::InvestigationOpened(_) => INVESTIGATION_OPENED,
        Payload::EvidenceRegistered(_) => EVIDENCE_REGISTERED,
        Payload::ResolutionProposed(_) => RESOLUTION_PROPOSED,
        Payload::ResolutionApproved(_) => RESOLUTION_APPROVED,
        Payload::ResolutionReturned(_) => RESOLUTION_RETURNED,
        Payload::CustomerNotified(_) => CUSTOMER_NOTIFIED,
        Payload::CustomerResponded(_) => CUSTOMER_RESPONDED,
        Payload::RemedyExecuted(_) => REMEDY_EXECUTED,
        Payload::FollowUpRecorded(_) => FOLLOW_UP_RECORDED,
        Payload::Closed(_) => CLOSED,
    }
}

/// The subject an event with this payload is published on.
pub fn subject_for(payload: &Payload) -> String {
    format!("{EVENT_SUBJECT_PREFIX}{}", event_name(payload))
}

/// The subject for an event name, e.g. `subject("received") == "cms.complaint.received"`.
pub fn subject(name: &str) -> String {
    format!("{EVENT_SUBJECT_PREFIX}{name}")
}

/// A decoded event as handed to consumers.
#[derive(Debug, Clone)]
pub struct Event {
    pub envelope: EventEnvelope,
    pub payload: Payload,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("payload is not an EventEnvelope: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("envelope has no {0}")]
    Missing(&'static str),
    #[error("schema version {0} is newer than this build understands ({SCHEMA_VERSION})")]
    FutureSchema(u32),
}

impl Event {
    /// Decodes and checks an envelope: ids present, payload present, schema understood.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut envelope = EventEnvelope::decode(bytes)?;
        if envelope.event_id.is_empty() {
            return Err(DecodeError::Missing("event_id"));
        }
        if envelope.complaint_id.is_empty() {
            return Err(DecodeError::Missing("complaint_id"));
        }
        if envelope.schema_version > SCHEMA_VERSION {
            return Err(DecodeError::FutureSchema(envelope.schema_version));
        }
        let payload = envelope.payload.take().ok_or(DecodeError::Missing("payload"))?;
        Ok(Self { envelope, payload })
    }

    pub fn name(&self) -> &'static str {
        event_name(&self.payload)
    }
}
