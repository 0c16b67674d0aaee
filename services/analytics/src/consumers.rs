//! Analytics consumes every lifecycle event: one timeline line each, and the read side's
//! status, moved through the one lifecycle as events arrive (an event that overtook the one it
//! follows is retried, so the status never runs ahead of or behind the events).

use complaints_domain::events::{
    ClockBreached, ClockRestarted, ClockStopped, ClockWarning, ClocksChanged, DeadlineExtended, ExtensionDecided, ExtensionRequested, ComplaintAssigned, ComplaintClosed, ComplaintReceived, ComplaintTriaged, CustomerNotified, CustomerResponded, EventMeta,
    EvidenceRegistered, FollowUpRecorded, InvestigationOpened, LifecycleEvent, RemedyExecuted, ResolutionApproved,
    ResolutionProposed, ResolutionReturned, ComplaintWithdrawn, MarkedOutOfScope, ComplaintReassigned, RepeatDetected, MergedInto,
    JoinedMassIncident, LeftMassIncident, UnifiedStatement, ReviewRequested, ReviewDecided, ComplaintArchived, CustomerErased,
};
use complaints_domain::lifecycle::{self, Verdict};
use complaints_plumbing::consumer::{EventHandler, HandlerError};
use complaints_plumbing::store::Tx;
use complaints_plumbing::telemetry::trace_id_of;

use crate::case_file::{self, JournalEntry};
use crate::domain::interpret;
use crate::store::{self, Attribute, Recorded};

complaints_plumbing::consumes! {
    /// Every kind: the timeline is complete.
    pub enum Consumed {
        Received(ComplaintReceived),
        Triaged(ComplaintTriaged),
        Assigned(ComplaintAssigned),
        InvestigationOpened(InvestigationOpened),
        EvidenceRegistered(EvidenceRegistered),
        ResolutionProposed(ResolutionProposed),
        ResolutionApproved(ResolutionApproved),
        ResolutionReturned(ResolutionReturned),
        CustomerNotified(CustomerNotified),
        CustomerResponded(CustomerResponded),
        RemedyExecuted(RemedyExecuted),
        FollowUpRecorded(FollowUpRecorded),
        Closed(ComplaintClosed),
        ClocksChanged(ClocksChanged),
        ClockWarning(ClockWarning),
        ClockBreached(ClockBreached),
        ClockStopped(ClockStopped),
        ClockRestarted(ClockRestarted),
        ExtensionRequested(ExtensionRequested),
        ExtensionDecided(ExtensionDecided),
        DeadlineExtended(DeadlineExtended),
        Withdrawn(ComplaintWithdrawn),
        MarkedOutOfScope(MarkedOutOfScope),
        Reassigned(ComplaintReassigned),
        RepeatDetected(RepeatDetected),
        MergedInto(MergedInto),
        JoinedMassIncident(JoinedMassIncident),
        LeftMassIncident(LeftMassIncident),
        UnifiedStatement(UnifiedStatement),
        ReviewRequested(ReviewRequested),
        ReviewDecided(ReviewDecided),
        Archived(ComplaintArchived),
        CustomerErased(CustomerErased),
    }
}

pub struct Handler;

impl EventHandler for Handler {
    type Event = Consumed;

    async fn handle(&self, tx: &mut Tx, meta: &EventMeta, event: Consumed) -> Result<(), HandlerError> {
        let event = LifecycleEvent::from(event);
        let complaint_id = meta.complaint_id.as_str();
        let entry = interpret(&event, &meta.producer);
        let recorded = Recorded {
            event_id: meta.event_id.as_str(),
            complaint_id,
            complaint_number: meta.complaint_number.as_str(),
            occurred_at_ms: meta.occurred_at_ms,
            producer: &meta.producer,
            trace_id: trace_id_of(&meta.traceparent),
        };
        store::record(tx, &recorded, entry.as_ref()).await?;
        let journalled = JournalEntry {
            event_id: recorded.event_id,
            complaint_id,
            occurred_at_ms: meta.occurred_at_ms,
            kind: event.kind(),
            producer: &meta.producer,
        };
        case_file::journal(tx, &journalled, &event).await?;
        match &event {
            LifecycleEvent::ClocksChanged(changed) => {
                store::upsert_clocks(tx, &recorded, &changed.clocks).await?;
                store::refresh_due(tx, complaint_id).await?;
            }
            LifecycleEvent::ClockWarning(ClockWarning { clock, .. })
            | LifecycleEvent::ClockBreached(ClockBreached { clock, .. })
            | LifecycleEvent::DeadlineExtended(DeadlineExtended { clock, .. }) => {
                store::upsert_clocks(tx, &recorded, std::slice::from_ref(clock)).await?;
                store::refresh_due(tx, complaint_id).await?;
            }
            LifecycleEvent::Received(received) => {
                store::received(tx, complaint_id, received.received_at_ms).await?;
                let values = [
                    (Attribute::Channel, received.channel.as_str()),
                    (Attribute::Summary, received.summary.as_str()),
                    (Attribute::Jurisdiction, received.jurisdiction.as_str()),
                    (Attribute::CustomerKey, received.customer_key.as_str()),
                ];
                store::set_attributes(tx, complaint_id, &values).await?;
            }
            LifecycleEvent::Triaged(triaged) => {
                let values = [
                    (Attribute::Grade, triaged.grade.as_str()),
                    (Attribute::Category, triaged.category.as_str()),
                    (Attribute::Product, triaged.product.as_str()),
                ];
                store::set_attributes(tx, complaint_id, &values).await?;
            }
            LifecycleEvent::Assigned(assigned) => {
                let values = [(Attribute::Handler, assigned.handler.as_str()), (Attribute::Department, assigned.department.as_str())];
                store::set_attributes(tx, complaint_id, &values).await?;
            }
            LifecycleEvent::CustomerErased(_) => {
                // Search by ID number no longer finds the erased customer's complaints.
                store::forget_customer(tx, complaint_id).await?;
            }
            LifecycleEvent::JoinedMassIncident(_) => {
                store::set_attributes(tx, complaint_id, &[(Attribute::Grade, complaints_domain::Grade::Red.as_str())]).await?;
            }
            LifecycleEvent::Reassigned(moved) => {
                let values = [
                    (Attribute::Handler, moved.handler.as_str()),
                    (Attribute::Department, moved.department.as_str()),
                    (Attribute::Grade, moved.grade.as_str()),
                    (Attribute::Category, moved.category.as_str()),
                    (Attribute::Product, moved.product.as_str()),
                ];
                store::set_attributes(tx, complaint_id, &values).await?;
            }
            _ => {}
        }
        let Some(step) = event.step() else { return Ok(()) };
        let current = store::stage(tx, complaint_id).await?;
        match lifecycle::classify(current, &step) {
            Verdict::To(stage) if stage == current => {}
            Verdict::To(stage) => store::move_stage(tx, complaint_id, current, stage, meta.occurred_at_ms).await?,
            Verdict::Stale => {}
            Verdict::Early => {
                return Err(HandlerError::Retry(anyhow::anyhow!(
                    "complaint is {} here; {} arrived before the step it follows",
                    current.as_str(),
                    step.name()
                )))
            }
            Verdict::Illegal => {
                // The timeline keeps the event; the status does not move on a step no history explains.
                tracing::warn!(stage = current.as_str(), step = step.name(), "illegal step recorded on the timeline only");
            }
        }
        if let LifecycleEvent::Archived(_) = event {
            // Every earlier event of the complaint is applied by now (the status followed them).
            let sealed = case_file::seal(tx, complaint_id, meta.complaint_number.as_str(), meta.occurred_at_ms).await?;
            tracing::info!(sha256 = %sealed.sha256, "case file sealed");
        }
        Ok(())
    }
}
