//! Notification queues a delivery for each event the customer must hear about: `received`
//! (acknowledgement), `resolution_approved` (result), `remedy_executed` (execution notice).
//! The delivery id is the event id, so a redelivered event never queues a second message.

use std::sync::Arc;

use complaints_domain::events::{ComplaintReceived, EventMeta, NotificationKind, RemedyExecuted, ResolutionApproved};
use complaints_domain::Channel;
use complaints_plumbing::consumer::{EventHandler, HandlerError};
use complaints_plumbing::store::Tx;
use tokio::sync::Notify;

use crate::domain;
use crate::store::{self, Contact, Delivery};

complaints_plumbing::consumes! {
    pub enum Consumed {
        Received(ComplaintReceived),
        ResolutionApproved(ResolutionApproved),
        RemedyExecuted(RemedyExecuted),
    }
}

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
    type Event = Consumed;

    async fn handle(&self, tx: &mut Tx, meta: &EventMeta, event: Consumed) -> Result<(), HandlerError> {
        let number = meta.complaint_number.as_str();
        let (kind, message) = match event {
            Consumed::Received(received) => {
                let contact = Contact {
                    name: received.contact.name.clone(),
                    phone: received.contact.phone.clone(),
                    email: received.contact.email.clone(),
                    channel: received.contact.preferred_channel.as_str().to_owned(),
                };
                store::save_contact(tx, meta.complaint_id.as_str(), number, &contact).await?;
                let received_at = complaints_plumbing::format_ms(received.received_at_ms);
                (NotificationKind::Acknowledgement, domain::acknowledgement(&self.institution, number, &received_at))
            }
            Consumed::ResolutionApproved(approved) => (NotificationKind::Result, domain::result(&self.institution, number, &approved)),
            Consumed::RemedyExecuted(executed) => (NotificationKind::Execution, domain::execution(&self.institution, number, &executed)),
        };
        let contact = store::contact(tx, meta.complaint_id.as_str())
            .await?
            .ok_or_else(|| HandlerError::Retry(anyhow::anyhow!("contact of {} not known yet", meta.complaint_id)))?;
        let delivery = Delivery {
            delivery_id: meta.event_id.to_string(),
            complaint_id: meta.complaint_id.to_string(),
            complaint_number: number.to_owned(),
            kind,
            recipient: recipient(&contact, &contact.channel),
            channel: contact.channel,
            message,
            status: "pending".into(),
            attempts: 0,
            delivered_at_ms: None,
            traceparent: meta.traceparent.clone(),
        };
        store::queue(tx, &delivery).await?;
        tracing::info!(kind = kind.as_str(), "delivery queued");
        Ok(())
    }

    fn committed(&self) {
        self.wake_worker.notify_one();
    }
}
