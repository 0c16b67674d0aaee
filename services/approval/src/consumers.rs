//! Approval records what each complaint is about (`received`: who and which branch, for
//! recusal) and opens an approval at the level the amount requires for each
//! `resolution_proposed` (which names the department whose line approves).

use complaints_domain::approval::ApprovalBands;
use complaints_domain::events::{ComplaintReceived, EventMeta, ResolutionProposed};
use complaints_plumbing::consumer::{EventHandler, HandlerError};
use complaints_plumbing::store::Tx;

use crate::domain::ProposalStatus;
use crate::store::{self, Approval};

complaints_plumbing::consumes! {
    pub enum Consumed {
        Received(ComplaintReceived),
        ResolutionProposed(ResolutionProposed),
    }
}

pub struct Handler {
    pub bands: ApprovalBands,
}

impl EventHandler for Handler {
    type Event = Consumed;

    async fn handle(&self, tx: &mut Tx, meta: &EventMeta, event: Consumed) -> Result<(), HandlerError> {
        match event {
            Consumed::Received(received) => {
                store::save_involvement(tx, &meta.complaint_id, &received.staff_involved, &received.branch_involved).await?;
            }
            Consumed::ResolutionProposed(proposed) => {
                let level = self.bands.level_for(proposed.resolution.amount.as_ref());
                let approval = Approval {
                    proposal_id: proposed.proposal_id.clone(),
                    complaint_id: meta.complaint_id.clone(),
                    complaint_number: meta.complaint_number.clone(),
                    level,
                    status: ProposalStatus::Pending,
                    resolution: proposed.resolution,
                    proposed_by: proposed.proposed_by,
                    department: proposed.department,
                    signed_by: Vec::new(),
                    traceparent: meta.traceparent.clone(),
                };
                store::insert(tx, &approval).await?;
                tracing::info!(level = level.as_str(), proposal_id = %proposed.proposal_id, "approval opened");
            }
        }
        Ok(())
    }
}
