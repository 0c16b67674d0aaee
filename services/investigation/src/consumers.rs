//! Investigation opens a case on `assigned` and follows approval, the customer's answer and
//! closure.

use complaints_proto::v1 as pb;
use complaints_proto::v1::event_envelope::Payload;
use complaints_shared::consumer::{EventHandler, HandlerError};
use complaints_shared::domain::Grade;
use complaints_shared::events::Event;
use complaints_shared::outbox::{self, RelayHandle, Subject};
use complaints_shared::store::Tx;

use crate::domain::{next_status, Transition};
use crate::store;
use crate::SERVICE;

pub struct Handler {
    pub relay: RelayHandle,
}

impl EventHandler for Handler {
    async fn handle(&self, tx: &mut Tx, event: &Event) -> Result<(), HandlerError> {
        let envelope = &event.envelope;
        if let Payload::Assigned(assigned) = &event.payload {
            let grade = Grade::from_proto(assigned.grade).map(Grade::as_str).unwrap_or("green");
            if store::open_case(tx, &envelope.complaint_id, &envelope.complaint_number, &assigned.handler_id, &assigned.department, grade, &envelope.traceparent).await? {
                let subject = Subject::new(&envelope.complaint_id, &envelope.complaint_number);
                let opened = Payload::InvestigationOpened(pb::InvestigationOpened {
                    handler_id: assigned.handler_id.clone(),
                    department: assigned.department.clone(),
                });
                outbox::enqueue(tx, SERVICE, subject, opened).await?;
                tracing::info!(handler_id = %assigned.handler_id, "case opened");
            }
            return Ok(());
        }
        let case = store::case(&mut **tx, &envelope.complaint_id)
            .await?
            .ok_or_else(|| HandlerError::Poison(format!("no case for complaint {}", envelope.complaint_id)))?;
        match next_status(case.status, &event.payload, case.proposal_id.as_deref()) {
            Transition::To(status) => {
                store::set_status(tx, &case.complaint_id, status).await?;
                tracing::info!(status = status.as_str(), "case status updated");
                Ok(())
            }
            Transition::Stale => {
                tracing::info!(status = case.status.as_str(), event = event.name(), "event is past; case unchanged");
                Ok(())
            }
            Transition::Early => Err(HandlerError::Retry(anyhow::anyhow!(
                "case is {}; {} arrived before the step it follows",
                case.status.as_str(),
                event.name()
            ))),
        }
    }

    fn committed(&self) {
        self.relay.notify();
    }
}
