//! Approval records what each complaint is about (`received`, for recusal) and opens an approval
//! at the level the amount requires for each `resolution_proposed`.

use complaints_proto::v1::event_envelope::Payload;
use complaints_shared::consumer::{EventHandler, HandlerError};
use complaints_shared::domain::approval::ApprovalBands;
use complaints_shared::domain::Money;
use complaints_shared::events::Event;
use complaints_shared::store::Tx;

use crate::domain::ApprovalStatus;
use crate::store::{self, Approval};

pub struct Handler {
    pub bands: ApprovalBands,
}

impl EventHandler for Handler {
    async fn handle(&self, tx: &mut Tx, event: &Event) -> Result<(), HandlerError> {
        let envelope = &event.envelope;
        match &event.payload {
            Payload::Received(received) => {
                store::save_involvement(tx, &envelope.complaint_id, &received.staff_involved, &received.branch_involved).await?;
                Ok(())
            }
            Payload::ResolutionProposed(proposed) => {
                let resolution = proposed.resolution.clone().unwrap_or_default();
                let amount = Money::parse("resolution.amount", resolution.amount.as_ref())
                    .map_err(|e| HandlerError::Poison(e.to_string()))?;
                let level = self.bands.level_for(amount.as_ref());
                let approval = Approval {
                    proposal_id: proposed.proposal_id.clone(),
                    complaint_id: envelope.complaint_id.clone(),
                    complaint_number: envelope.complaint_number.clone(),
                    level,
                    status: ApprovalStatus::Pending,
                    resolution,
                    proposed_by: proposed.proposed_by.clone(),
                    signed_by: Vec::new(),
                    traceparent: envelope.traceparent.clone(),
                };
                store::insert(tx, &approval).await?;
                tracing::info!(level = level.as_str(), proposal_id = %proposed.proposal_id, "approval opened");
                Ok(())
            }
            _ => Err(HandlerError::Poison(format!("approval does not handle {}", event.name()))),
        }
    }
}
