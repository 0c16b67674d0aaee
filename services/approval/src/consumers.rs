//! Approval records what each complaint is about (`received`: who and which branch, for
//! recusal) and opens an approval at the level the amount requires for each
//! `resolution_proposed` (which names the department whose line approves).

use complaints_domain::approval::ApprovalBands;
use complaints_domain::events::{ComplaintReceived, ComplaintWithdrawn, EventMeta, ExtensionRequested, ResolutionProposed};
use std::sync::Arc;

use complaints_domain::{ClockKind, Grade};
use complaints_plumbing::clocks::{self, ClockBook, StartClock};
use complaints_plumbing::consumer::{EventHandler, HandlerError};
use complaints_plumbing::outbox::Subject;
use complaints_plumbing::store::Tx;

use crate::domain::ProposalStatus;
use crate::store::{self, Approval};
use crate::SERVICE;

complaints_plumbing::consumes! {
    pub enum Consumed {
        Received(ComplaintReceived),
        ResolutionProposed(ResolutionProposed),
        ExtensionRequested(ExtensionRequested),
        Withdrawn(ComplaintWithdrawn),
    }
}

pub struct Handler {
    pub bands: ApprovalBands,
    pub book: Arc<ClockBook>,
}

impl EventHandler for Handler {
    type Event = Consumed;

    async fn handle(&self, tx: &mut Tx, meta: &EventMeta, event: Consumed) -> Result<(), HandlerError> {
        match event {
            Consumed::Received(received) => {
                store::save_involvement(tx, &meta.complaint_id, &received.staff_involved, &received.branch_involved, &received.jurisdiction)
                    .await?;
            }
            Consumed::Withdrawn(_) => {
                // Nothing is left to decide and no approval clock runs on.
                let ended = store::withdraw(tx, &meta.complaint_id).await?;
                let changed = clocks::cancel_all(tx, &self.book, &meta.complaint_id, meta.occurred_at_ms, &[]).await?;
                let subject = Subject::new(&meta.complaint_id, &meta.complaint_number).in_trace(&meta.traceparent);
                clocks::announce(tx, SERVICE, subject, changed).await?;
                tracing::info!(ended, "pending decisions withdrawn");
            }
            Consumed::ExtensionRequested(requested) => {
                crate::extensions::insert(tx, &meta.complaint_id, &meta.complaint_number, &meta.traceparent, &requested).await?;
                tracing::info!(clock = %requested.clock, "extension request opened");
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
                let jurisdiction = store::involved(tx, &meta.complaint_id)
                    .await?
                    .ok_or_else(|| HandlerError::Retry(anyhow::anyhow!("received not seen yet for {}", meta.complaint_id)))?
                    .jurisdiction;
                if store::insert(tx, &approval).await? {
                    let clock = StartClock {
                        complaint_id: &meta.complaint_id,
                        complaint_number: &meta.complaint_number,
                        kind: ClockKind::Approval,
                        jurisdiction: &jurisdiction,
                        grade: Grade::Green,
                        owner: None,
                        department: Some(&approval.department),
                        at_ms: meta.occurred_at_ms,
                        traceparent: &meta.traceparent,
                    };
                    let changed = clocks::start(tx, &self.book, clock).await?;
                    let subject = Subject::new(&meta.complaint_id, &meta.complaint_number).in_trace(&meta.traceparent);
                    clocks::announce(tx, SERVICE, subject, changed).await?;
                }
                tracing::info!(level = level.as_str(), proposal_id = %proposed.proposal_id, "approval opened");
            }
        }
        Ok(())
    }
}
