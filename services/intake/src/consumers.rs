//! Intake owns the complaint's authoritative stage: it applies every stage-changing event of the
//! other services through the one lifecycle. A step the stage already passed is acknowledged and
//! changes nothing; a step that overtook the one it follows is retried; a step no history
//! explains is dead-lettered.

use complaints_domain::events::{
    ClockRestarted, ClockStopped, ComplaintAssigned, ComplaintReassigned, ExtensionDecided, JoinedMassIncident, LeftMassIncident, MarkedOutOfScope,
    MergedInto, ReviewDecided, ComplaintTriaged, CustomerNotified, EventMeta, NotificationKind, InvestigationOpened, RemedyExecuted, ResolutionApproved,
    ResolutionProposed, ResolutionReturned,
};
use complaints_domain::lifecycle::{self, Verdict};
use std::sync::Arc;

use complaints_domain::{ComplaintKey, LifecycleEvent};
use complaints_plumbing::clocks::ClockBook;
use complaints_plumbing::consumer::{EventHandler, HandlerError};
use complaints_plumbing::store::Tx;

use crate::{clocks, store, Config};

complaints_plumbing::consumes! {
    /// The other services' events that move a complaint's stage.
    pub enum Consumed {
        Triaged(ComplaintTriaged),
        Assigned(ComplaintAssigned),
        InvestigationOpened(InvestigationOpened),
        ResolutionProposed(ResolutionProposed),
        ResolutionApproved(ResolutionApproved),
        ResolutionReturned(ResolutionReturned),
        CustomerNotified(CustomerNotified),
        RemedyExecuted(RemedyExecuted),
        ClockStopped(ClockStopped),
        ClockRestarted(ClockRestarted),
        ExtensionDecided(ExtensionDecided),
        MarkedOutOfScope(MarkedOutOfScope),
        Reassigned(ComplaintReassigned),
        MergedInto(MergedInto),
        JoinedMassIncident(JoinedMassIncident),
        LeftMassIncident(LeftMassIncident),
        ReviewDecided(ReviewDecided),
    }
}

pub struct Handler {
    pub book: Arc<ClockBook>,
    pub config: Config,
}

/// Whether applying `event` moves one of intake's clocks.
fn moves_clocks(event: &LifecycleEvent) -> bool {
    matches!(
        event,
        LifecycleEvent::Assigned(_)
            | LifecycleEvent::CustomerNotified(_)
            | LifecycleEvent::RemedyExecuted(_)
            | LifecycleEvent::Reassigned(_)
            | LifecycleEvent::MergedInto(_)
    )
}

impl Handler {
    /// Applies an approved extension of the statutory limit; the customer is told the new date.
    async fn extend(&self, tx: &mut Tx, meta: &EventMeta, decided: &ExtensionDecided) -> Result<(), HandlerError> {
        let complaint = store::find(&mut **tx, &ComplaintKey::Id(meta.complaint_id.clone()))
            .await?
            .ok_or_else(|| HandlerError::Poison(format!("unknown complaint {}", meta.complaint_id)))?;
        match clocks::on_extension(tx, &self.book, &complaint, decided, meta.occurred_at_ms).await {
            Ok(()) => Ok(()),
            Err(complaints_plumbing::store::StoreError::Clock(reason)) => Err(HandlerError::Poison(reason)),
            Err(other) => Err(other.into()),
        }
    }

    /// The handler's stop-clock pauses (and its restart resumes) intake's limits too.
    async fn stop_clock(&self, tx: &mut Tx, meta: &EventMeta, event: &LifecycleEvent) -> Result<(), HandlerError> {
        let complaint = store::find(&mut **tx, &ComplaintKey::Id(meta.complaint_id.clone()))
            .await?
            .ok_or_else(|| HandlerError::Poison(format!("unknown complaint {}", meta.complaint_id)))?;
        let changed = clocks::on_stop_clock(tx, &self.book, &complaint, matches!(event, LifecycleEvent::ClockStopped(_)), meta.occurred_at_ms).await?;
        store::announce_clocks(tx, &complaint, changed).await?;
        Ok(())
    }

    async fn move_clocks(&self, tx: &mut Tx, meta: &EventMeta, event: &LifecycleEvent) -> Result<(), HandlerError> {
        if !moves_clocks(event) {
            return Ok(());
        }
        let complaint = store::find(&mut **tx, &ComplaintKey::Id(meta.complaint_id.clone()))
            .await?
            .ok_or_else(|| HandlerError::Poison(format!("unknown complaint {}", meta.complaint_id)))?;
        let changed = clocks::on_event(tx, &self.book, &self.config, &complaint, event, meta.occurred_at_ms).await?;
        store::announce_clocks(tx, &complaint, changed).await?;
        Ok(())
    }
}

impl EventHandler for Handler {
    type Event = Consumed;

    /// The execution notice, progress updates and the withdrawal confirmation move nothing here
    /// (the execution and the withdrawal themselves did); only an approved extension of a
    /// statutory limit is intake's to apply.
    fn ignores(&self, event: &Consumed) -> bool {
        match event {
            Consumed::CustomerNotified(notified) => {
                matches!(
                    notified.kind,
                    NotificationKind::Execution | NotificationKind::Progress | NotificationKind::Withdrawal | NotificationKind::Merged
                )
            }
            Consumed::ExtensionDecided(decided) => !decided.approved || !decided.clock.is_statutory(),
            _ => false,
        }
    }

    async fn handle(&self, tx: &mut Tx, meta: &EventMeta, event: Consumed) -> Result<(), HandlerError> {
        let event = LifecycleEvent::from(event);
        if matches!(event, LifecycleEvent::ClockStopped(_) | LifecycleEvent::ClockRestarted(_)) {
            return self.stop_clock(tx, meta, &event).await;
        }
        if let LifecycleEvent::ExtensionDecided(decided) = &event {
            return self.extend(tx, meta, decided).await;
        }
        // A reassignment and the out-of-scope notice move clocks, not the stage.
        let Some(step) = event.step() else { return self.move_clocks(tx, meta, &event).await };
        let current = store::stage(tx, &meta.complaint_id)
            .await?
            .ok_or_else(|| HandlerError::Poison(format!("unknown complaint {}", meta.complaint_id)))?;
        match lifecycle::classify(current, &step) {
            Verdict::To(stage) if stage == current => self.move_clocks(tx, meta, &event).await,
            Verdict::To(stage) => {
                store::move_stage(tx, &meta.complaint_id, current, stage).await?;
                tracing::info!(complaint_id = %meta.complaint_id, from = current.as_str(), to = stage.as_str(), "stage moved");
                self.move_clocks(tx, meta, &event).await
            }
            Verdict::Stale => {
                tracing::debug!(stage = current.as_str(), step = step.name(), "step already passed; stage unchanged");
                Ok(())
            }
            Verdict::Early => Err(HandlerError::Retry(anyhow::anyhow!(
                "complaint is {}; {} arrived before the step it follows",
                current.as_str(),
                step.name()
            ))),
            Verdict::Illegal => Err(HandlerError::Poison(format!(
                "{} is not a legal step for a complaint that is {}",
                step.name(),
                current.as_str()
            ))),
        }
    }
}
