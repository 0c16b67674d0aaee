//! Intake follows the lifecycle to know when the customer may answer and when the follow-up is
//! due: acknowledgement sent, result sent, remedy executed.

use complaints_proto::v1 as pb;
use complaints_proto::v1::event_envelope::Payload;
use complaints_shared::consumer::{EventHandler, HandlerError};
use complaints_shared::events::Event;
use complaints_shared::outbox::RelayHandle;
use complaints_shared::store::Tx;

use crate::domain::Status;
use crate::store;

pub struct Handler {
    pub relay: RelayHandle,
}

/// The status an event moves a complaint to, given its current status; `None` leaves it.
pub fn next_status(current: Status, payload: &Payload) -> Option<Status> {
    if current == Status::Closed {
        return None;
    }
    match payload {
        Payload::CustomerNotified(notified) => match pb::NotificationKind::try_from(notified.kind) {
            Ok(pb::NotificationKind::Acknowledgement) if current == Status::Received => Some(Status::Acknowledged),
            Ok(pb::NotificationKind::Result) if current != Status::Executed => Some(Status::AwaitingResponse),
            _ => None,
        },
        Payload::RemedyExecuted(_) => Some(Status::Executed),
        _ => None,
    }
}

impl EventHandler for Handler {
    async fn handle(&self, tx: &mut Tx, event: &Event) -> Result<(), HandlerError> {
        let complaint = store::find(&mut **tx, &event.envelope.complaint_id)
            .await?
            .ok_or_else(|| HandlerError::Poison(format!("unknown complaint {}", event.envelope.complaint_id)))?;
        if let Some(status) = next_status(complaint.status, &event.payload) {
            store::set_status(tx, &complaint.complaint_id, status).await?;
            tracing::info!(complaint_id = %complaint.complaint_id, status = status.as_str(), "complaint status updated");
        }
        Ok(())
    }

    fn committed(&self) {
        self.relay.notify();
    }
}
