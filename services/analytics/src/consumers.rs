//! Analytics consumes every lifecycle event: one timeline line each, and the summary used for
//! live counts.

use complaints_proto::v1::event_envelope::Payload;
use complaints_shared::consumer::{EventHandler, HandlerError};
use complaints_shared::domain::{Channel, Grade};
use complaints_shared::events::Event;
use complaints_shared::store::Tx;
use complaints_shared::telemetry::trace_id_of;

use crate::domain::interpret;
use crate::store::{self, Attribute, Recorded};

pub struct Handler;

impl EventHandler for Handler {
    async fn handle(&self, tx: &mut Tx, event: &Event) -> Result<(), HandlerError> {
        let envelope = &event.envelope;
        let (entry, change) = interpret(&event.payload, &envelope.producer);
        let recorded = Recorded {
            event_id: &envelope.event_id,
            complaint_id: &envelope.complaint_id,
            complaint_number: &envelope.complaint_number,
            occurred_at_ms: envelope.occurred_at_ms,
            producer: &envelope.producer,
            trace_id: trace_id_of(&envelope.traceparent),
        };
        store::record(tx, &recorded, &entry, change).await?;
        match &event.payload {
            Payload::Received(received) => {
                let channel = Channel::from_proto(received.channel).map(Channel::as_str).unwrap_or("unknown");
                store::set_attribute(tx, &envelope.complaint_id, Attribute::Channel, channel).await?;
            }
            Payload::Triaged(triaged) => {
                let grade = Grade::from_proto(triaged.grade).map(Grade::as_str).unwrap_or("unknown");
                store::set_attribute(tx, &envelope.complaint_id, Attribute::Grade, grade).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
