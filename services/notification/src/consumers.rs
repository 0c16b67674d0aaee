//! Notification queues a delivery for each event the customer must hear about: `received`
//! (acknowledgement), `resolution_approved` (result), `remedy_executed` (execution notice).
//! The delivery id is the event id, so a redelivered event never queues a second message.

use complaints_proto::v1::event_envelope::Payload;
use complaints_shared::consumer::{EventHandler, HandlerError};
use complaints_shared::domain::Channel;
use complaints_shared::events::Event;
use complaints_shared::store::Tx;
use tokio::sync::Notify;
use std::sync::Arc;

use crate::domain::{self, Kind};
use crate::store::{self, Contact, Delivery};

pub struct Handler {
    pub institution: String,
    pub wake_worker: Arc<Notify>,
}

/// The address a message on `channel` goes to.
pub fn recipient(contact: &Contact, channel: &str) -> String {
    let by_email = matches!(Channel::parse(channel), Some(Channel::Email | Channel::Web | Channel::Letter));
    if (by_email && !contact.email.is_empty()) || contact.phone.is_empty() {
        contact.email.clone()
    } else {
        contact.phone.clone()
    }
}

impl EventHandler for Handler {
    async fn handle(&self, tx: &mut Tx, event: &Event) -> Result<(), HandlerError> {
        let envelope = &event.envelope;
        let number = envelope.complaint_number.as_str();
        let (kind, message) = match &event.payload {
            Payload::Received(received) => {
                let contact = received.contact.clone().unwrap_or_default();
                let channel = Channel::from_proto(contact.preferred_channel)
                    .or_else(|| Channel::from_proto(received.channel))
                    .map(Channel::as_str)
                    .unwrap_or("sms");
                let contact = Contact { name: contact.name, phone: contact.phone, email: contact.email, channel: channel.to_owned() };
                store::save_contact(tx, &envelope.complaint_id, number, &contact).await?;
                let received_at = complaints_shared::format_ms(received.received_at_ms);
                (Kind::Acknowledgement, domain::acknowledgement(&self.institution, number, &received_at))
            }
            Payload::ResolutionApproved(approved) => (Kind::Result, domain::result(&self.institution, number, approved)),
            Payload::RemedyExecuted(executed) => (Kind::Execution, domain::execution(&self.institution, number, executed)),
            _ => return Err(HandlerError::Poison(format!("notification does not handle {}", event.name()))),
        };
        let contact = store::contact(tx, &envelope.complaint_id)
            .await?
            .ok_or_else(|| HandlerError::Retry(anyhow::anyhow!("contact of {} not known yet", envelope.complaint_id)))?;
        let delivery = Delivery {
            delivery_id: envelope.event_id.clone(),
            complaint_id: envelope.complaint_id.clone(),
            complaint_number: number.to_owned(),
            kind,
            recipient: recipient(&contact, &contact.channel),
            channel: contact.channel,
            message,
            status: "pending".into(),
            attempts: 0,
            delivered_at_ms: None,
            traceparent: envelope.traceparent.clone(),
        };
        store::queue(tx, &delivery).await?;
        tracing::info!(kind = kind.as_str(), "delivery queued");
        Ok(())
    }

    fn committed(&self) {
        self.wake_worker.notify_one();
    }
}
