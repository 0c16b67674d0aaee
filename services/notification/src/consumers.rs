//! Notification queues a delivery for each event the customer must hear about: `received`
//! (acknowledgement, with the reply date the clocks promise), `resolution_approved` (result),
//! `remedy_executed` (execution notice), a statutory clock's warning (progress update or holding
//! response before the limit runs out), the stop-clock (why the clock stands still), an approved
//! extension (the new date and why); and an alert for each member of staff who must hear
//! about a clock (`clock_warning`: the owner; `clock_breached`: whom it escalates to) or a Red
//! complaint (`triaged` Red: the task group, staff with the `red_task_group` role). The delivery
//! id is the event id (with the staff id for alerts), so a redelivered event never queues a
//! second message.

use std::sync::Arc;

use complaints_domain::events::{CustomerErased, 
    ClockBreached, ClockStopped, ClockWarning, ComplaintReassigned, ComplaintReceived, ComplaintTriaged, ComplaintWithdrawn, DeadlineExtended, EventMeta,
    MarkedOutOfScope, MergedInto, NotificationKind, RemedyExecuted, RepeatDetected, ResolutionApproved, ReviewDecided, UnifiedStatement,
};
use complaints_domain::{Channel, Grade, StaffId};
use complaints_plumbing::access::Access;
use complaints_plumbing::consumer::{EventHandler, HandlerError};
use complaints_plumbing::sealed::Opener;
use complaints_plumbing::store::Tx;
use complaints_plumbing::vault::Vault;
use tokio::sync::Notify;

use crate::domain::{self, Message};
use crate::store::{self, Alert, Contact, Delivery, DeliveryKind, StoredContact, STAFF_CHANNEL};

complaints_plumbing::consumes! {
    pub enum Consumed {
        Received(ComplaintReceived),
        Triaged(ComplaintTriaged),
        ResolutionApproved(ResolutionApproved),
        RemedyExecuted(RemedyExecuted),
        ClockWarning(ClockWarning),
        ClockBreached(ClockBreached),
        ClockStopped(ClockStopped),
        DeadlineExtended(DeadlineExtended),
        Withdrawn(ComplaintWithdrawn),
        MarkedOutOfScope(MarkedOutOfScope),
        Reassigned(ComplaintReassigned),
        RepeatDetected(RepeatDetected),
        MergedInto(MergedInto),
        UnifiedStatement(UnifiedStatement),
        ReviewDecided(ReviewDecided),
        CustomerErased(CustomerErased),
    }
}

pub struct Handler {
    pub institution: String,
    pub wake_worker: Arc<Notify>,
    pub access: Access,
    /// Seals contacts and recipients at rest.
    pub vault: Vault,
    /// Opens the contact intake sealed for notification.
    pub opener: Opener,
}

/// The org directory role of the special task group told at once of a Red complaint.
pub const RED_TASK_GROUP_ROLE: &str = "red_task_group";

impl Handler {
    /// Queues one alert per member of staff.
    async fn alert(&self, tx: &mut Tx, meta: &EventMeta, alert: Alert, to: &[StaffId], message: Message) -> Result<(), HandlerError> {
        for staff in to {
            let delivery = Delivery {
                delivery_id: format!("{}:{}", meta.event_id, staff),
                complaint_id: meta.complaint_id.to_string(),
                complaint_number: meta.complaint_number.to_string(),
                kind: DeliveryKind::Staff(alert),
                channel: STAFF_CHANNEL.to_owned(),
                recipient: staff.to_string(),
                message: message.clone(),
                status: "pending".into(),
                attempts: 0,
                delivered_at_ms: None,
                traceparent: meta.traceparent.clone(),
            };
            store::queue(tx, &delivery).await?;
        }
        tracing::info!(alert = DeliveryKind::Staff(alert).as_str(), recipients = to.len(), "staff alerted");
        Ok(())
    }

    /// The Red task group from the org directory.
    fn task_group(&self) -> Vec<StaffId> {
        self.access
            .org()
            .staff
            .iter()
            .filter(|staff| staff.has_role(RED_TASK_GROUP_ROLE))
            .filter_map(|staff| StaffId::parse("staff", &staff.id).ok())
            .collect()
    }
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

    /// Only Red complaints call the task group; only an escalated repeat alerts anyone.
    fn ignores(&self, event: &Consumed) -> bool {
        match event {
            Consumed::Triaged(triaged) => triaged.grade != Grade::Red,
            Consumed::RepeatDetected(repeat) => repeat.escalated_to.is_none(),
            _ => false,
        }
    }

    async fn handle(&self, tx: &mut Tx, meta: &EventMeta, event: Consumed) -> Result<(), HandlerError> {
        let number = meta.complaint_number.as_str();
        let (kind, message) = match event {
            Consumed::Triaged(triaged) => {
                let message = domain::red_alert(number, &triaged);
                return self.alert(tx, meta, Alert::RedTaskGroup, &self.task_group(), message).await;
            }
            Consumed::ClockWarning(warning) => {
                let message = domain::clock_warning(number, &warning.clock);
                self.alert(tx, meta, Alert::ClockWarning, &warning.notify, message).await?;
                if !warning.clock.kind.is_statutory() || warning.clock.kind.is_window() {
                    return Ok(());
                }
                // The statutory limit is near and the complaint unresolved: the customer hears
                // how it stands (FCA holding response with the ombudsman's rights, and so on).
                (NotificationKind::Progress, domain::holding_response(&self.institution, number, &warning.clock))
            }
            Consumed::Reassigned(reassigned) => {
                let message = domain::case_assigned(number, &reassigned);
                let mut to = vec![reassigned.handler.clone()];
                to.extend(reassigned.co_reviewers.iter().cloned());
                return self.alert(tx, meta, Alert::CaseAssigned, &to, message).await;
            }
            Consumed::RepeatDetected(repeat) => {
                let message = domain::repeat_escalated(number, &repeat);
                let to: Vec<StaffId> = repeat.escalated_to.iter().chain(&repeat.co_reviewers).cloned().collect();
                return self.alert(tx, meta, Alert::CaseAssigned, &to, message).await;
            }
            Consumed::CustomerErased(erased) => {
                // The contact and every recipient sealed under the customer's key go dark;
                // pending deliveries to them are dropped by the worker.
                let key = store::key_ref(&erased.customer_key, meta.complaint_id.as_str());
                self.vault.shred_in(tx, &key).await?;
                self.vault.shred_in(tx, &store::key_ref("", meta.complaint_id.as_str())).await?;
                return Ok(());
            }
            Consumed::ReviewDecided(decided) => (NotificationKind::ReviewOutcome, domain::review_outcome(&self.institution, number, &decided)),
            Consumed::MergedInto(merged) => (NotificationKind::Merged, domain::merged(&self.institution, number, &merged)),
            Consumed::UnifiedStatement(statement) => {
                (NotificationKind::UnifiedStatement, domain::unified_statement(&self.institution, number, &statement))
            }
            Consumed::Withdrawn(withdrawn) => (NotificationKind::Withdrawal, domain::withdrawal(&self.institution, number, &withdrawn)),
            Consumed::MarkedOutOfScope(marked) => (NotificationKind::OutOfScope, domain::out_of_scope(&self.institution, number, &marked)),
            Consumed::ClockBreached(breached) => {
                let message = domain::clock_breached(number, &breached.clock);
                return self.alert(tx, meta, Alert::ClockBreached, &breached.escalated_to, message).await;
            }
            Consumed::Received(received) => {
                let opened = self.opener.open(&received.contact.0).ok_or_else(|| {
                    HandlerError::Poison("received.sealed_contact: not sealed for this notification's key (or altered)".into())
                })?;
                let opened = complaints_domain::events::Contact::from_bytes(&opened, received.channel)
                    .map_err(|error| HandlerError::Poison(format!("received.{error}")))?;
                let contact =
                    Contact { name: opened.name, phone: opened.phone, email: opened.email, channel: opened.preferred_channel.as_str().to_owned() };
                store::save_contact(tx, &self.vault, meta.complaint_id.as_str(), number, &contact, &received.customer_key).await?;
                let received_at = complaints_plumbing::format_ms(received.received_at_ms);
                (NotificationKind::Acknowledgement, domain::acknowledgement(&self.institution, number, &received_at, received.reply_due.as_ref()))
            }
            Consumed::DeadlineExtended(extended) => {
                (NotificationKind::Progress, domain::deadline_extended(&self.institution, number, &extended))
            }
            Consumed::ClockStopped(stopped) => (NotificationKind::Progress, domain::clock_stopped(&self.institution, number, &stopped)),
            Consumed::ResolutionApproved(approved) => (NotificationKind::Result, domain::result(&self.institution, number, &approved)),
            Consumed::RemedyExecuted(executed) => (NotificationKind::Execution, domain::execution(&self.institution, number, &executed)),
        };
        let (contact, key) = match store::contact(tx, &self.vault, meta.complaint_id.as_str()).await? {
            StoredContact::Known(contact, key) => (contact, key),
            StoredContact::Erased => {
                tracing::info!(kind = kind.as_str(), "no delivery: the customer's personal data was erased");
                return Ok(());
            }
            StoredContact::Unknown => return Err(HandlerError::Retry(anyhow::anyhow!("contact of {} not known yet", meta.complaint_id))),
        };
        let delivery_id = meta.event_id.to_string();
        let delivery = Delivery {
            recipient: key.seal(&store::recipient_place(&delivery_id), &recipient(&contact, &contact.channel)),
            delivery_id,
            complaint_id: meta.complaint_id.to_string(),
            complaint_number: number.to_owned(),
            kind: DeliveryKind::Customer(kind),
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
