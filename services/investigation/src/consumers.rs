//! Investigation opens a case on `assigned` and follows the complaint's lifecycle through the
//! events that move a case: approval decisions, the result reaching the customer, the
//! customer's answer, the follow-up, withdrawal, closure and archiving. A `reassigned` hands the case and
//! its clocks to the new handler.

use complaints_domain::events::{CustomerErased, 
    ComplaintArchived, ComplaintAssigned, ComplaintClosed, ComplaintReassigned, ComplaintWithdrawn, DeadlineExtended, JoinedMassIncident, LeftMassIncident, MergedInto,
    ReviewRequested, ExtensionDecided, CustomerNotified, CustomerResponded, EventMeta, FollowUpRecorded, InvestigationOpened,
    LifecycleEvent, NotificationKind, ResolutionApproved, ResolutionReturned,
};
use complaints_domain::lifecycle::{self, Stage, Step, Verdict};
use std::sync::Arc;

use complaints_domain::events::CustomerResponse;
use complaints_domain::ClockKind;
use complaints_plumbing::clocks::{self, ClockBook};
use complaints_plumbing::consumer::{EventHandler, HandlerError};
use complaints_plumbing::outbox::{self, Subject};
use complaints_plumbing::store::{StoreError, Tx};

use crate::clocks::CaseClock;
use crate::domain::{decision, STOP_CLOCK_STAGES};
use crate::store::{self, NewCase};
use crate::SERVICE;

complaints_plumbing::consumes! {
    pub enum Consumed {
        CustomerErased(CustomerErased),
        Assigned(ComplaintAssigned),
        ResolutionApproved(ResolutionApproved),
        ResolutionReturned(ResolutionReturned),
        CustomerNotified(CustomerNotified),
        CustomerResponded(CustomerResponded),
        FollowUpRecorded(FollowUpRecorded),
        Closed(ComplaintClosed),
        ExtensionDecided(ExtensionDecided),
        Withdrawn(ComplaintWithdrawn),
        Reassigned(ComplaintReassigned),
        MergedInto(MergedInto),
        JoinedMassIncident(JoinedMassIncident),
        LeftMassIncident(LeftMassIncident),
        ReviewRequested(ReviewRequested),
        Archived(ComplaintArchived),
    }
}

pub struct Handler {
    pub book: Arc<ClockBook>,
    /// Destroys the case's data key when the customer is erased.
    pub vault: complaints_plumbing::vault::Vault,
}

impl Handler {
    /// Opens the case (stage `investigating`) and announces it; a redelivery changes nothing.
    async fn open(&self, tx: &mut Tx, meta: &EventMeta, assigned: ComplaintAssigned) -> Result<(), HandlerError> {
        let stage = lifecycle::next(Stage::Assigned, &Step::InvestigationOpened).map_err(|e| HandlerError::Poison(e.to_string()))?;
        let case = NewCase {
            complaint_id: &meta.complaint_id,
            complaint_number: &meta.complaint_number,
            handler: &assigned.handler,
            department: &assigned.department,
            grade: assigned.grade,
            traceparent: &meta.traceparent,
            jurisdiction: &assigned.jurisdiction,
        };
        if store::open_case(tx, &case, stage).await? {
            let clock = CaseClock {
                complaint_id: &meta.complaint_id,
                complaint_number: &meta.complaint_number,
                jurisdiction: &assigned.jurisdiction,
                grade: assigned.grade,
                handler: &assigned.handler,
                department: &assigned.department,
                traceparent: &meta.traceparent,
            };
            let changed = clock.start_first(tx, &self.book, &[ClockKind::InvestigationStart, ClockKind::Investigation], meta.occurred_at_ms).await?;
            clock.announce(tx, changed).await?;
            let opened = LifecycleEvent::InvestigationOpened(InvestigationOpened {
                handler: assigned.handler.clone(),
                department: assigned.department.clone(),
            });
            outbox::enqueue(tx, SERVICE, Subject::new(&meta.complaint_id, &meta.complaint_number), opened).await?;
            tracing::info!(handler_id = %assigned.handler, "case opened");
        }
        Ok(())
    }
}

impl Handler {
    /// A repeat was merged into the customer's open complaint: its facts go into that case
    /// file; new facts restart the investigation limit while the case is being investigated.
    async fn merged(&self, tx: &mut Tx, meta: &EventMeta, merged: &MergedInto) -> Result<(), HandlerError> {
        let Some(target) = store::case(&mut **tx, merged.target_complaint_id.as_str()).await? else {
            return Err(HandlerError::Retry(anyhow::anyhow!("no case for {} yet", merged.target_number)));
        };
        if !target.stage.is_open() {
            return Ok(());
        }
        let what = if merged.new_facts { "repeat with new facts" } else { "repeat without new facts" };
        let note = format!("{what} {} merged: {}", meta.complaint_number, merged.facts);
        store::add_note(tx, &target.complaint_id, "merged", &note, "system:routing").await?;
        if merged.new_facts && STOP_CLOCK_STAGES.contains(&target.stage) {
            let clock = CaseClock::of(&target);
            let changed = clock.start(tx, &self.book, ClockKind::Investigation, meta.occurred_at_ms).await?;
            clock.announce(tx, changed).await?;
        }
        Ok(())
    }

    /// Hands the case and its open clocks to the new handler and records why in the case file.
    async fn reassign(&self, tx: &mut Tx, case: &store::Case, reassigned: &ComplaintReassigned) -> Result<(), HandlerError> {
        if case.stage.is_terminal() {
            return Ok(());
        }
        store::reassign(tx, &case.complaint_id, &reassigned.handler, &reassigned.department, reassigned.grade).await?;
        let mut note = format!("to {} ({}): {}", reassigned.handler, reassigned.department, reassigned.reason);
        if !reassigned.co_reviewers.is_empty() {
            let names: Vec<&str> = reassigned.co_reviewers.iter().map(|id| id.as_str()).collect();
            note.push_str(&format!("; with {}", names.join(", ")));
        }
        store::add_note(tx, &case.complaint_id, reassigned.cause.as_str(), &note, &reassigned.reassigned_by).await?;
        let kinds = [ClockKind::InvestigationStart, ClockKind::Investigation, ClockKind::Execution, ClockKind::ReviewDecision];
        let changed = clocks::reassign(tx, &case.complaint_id, &kinds, &reassigned.handler, &reassigned.department).await?;
        CaseClock::of(case).announce(tx, changed).await?;
        tracing::info!(handler_id = %reassigned.handler, cause = reassigned.cause.as_str(), "case reassigned");
        Ok(())
    }

    /// Applies an approved extension of the investigation limit and tells whom it concerns.
    async fn extend(&self, tx: &mut Tx, meta: &EventMeta, case: &store::Case, decided: &ExtensionDecided) -> Result<(), HandlerError> {
        let extended = match clocks::extend(tx, &self.book, &case.complaint_id, decided.clock, None, meta.occurred_at_ms, &decided.reason).await {
            Ok(Some(clock)) => clock,
            Ok(None) => {
                tracing::warn!("extension approved for an investigation clock that is no longer open; nothing to extend");
                return Ok(());
            }
            Err(StoreError::Clock(reason)) => return Err(HandlerError::Poison(reason)),
            Err(other) => return Err(other.into()),
        };
        let clock = CaseClock::of(case);
        clock.announce(tx, vec![extended.clone()]).await?;
        let event = LifecycleEvent::DeadlineExtended(DeadlineExtended { clock: extended, reason: decided.reason.clone() });
        outbox::enqueue(tx, SERVICE, Subject::new(&case.complaint_id, &case.complaint_number).in_trace(&case.traceparent), event).await?;
        Ok(())
    }
}

impl EventHandler for Handler {
    type Event = Consumed;

    /// Only the result notice moves a case; the acknowledgement (which usually arrives before
    /// the case exists) and the execution notice are nothing to investigation.
    fn ignores(&self, event: &Consumed) -> bool {
        match event {
            Consumed::CustomerNotified(notified) => !matches!(notified.kind, NotificationKind::Result | NotificationKind::UnifiedStatement),
            // Only an approved extension of the investigation limit is investigation's to apply.
            Consumed::ExtensionDecided(decided) => !decided.approved || decided.clock != ClockKind::Investigation,
            _ => false,
        }
    }

    async fn handle(&self, tx: &mut Tx, meta: &EventMeta, event: Consumed) -> Result<(), HandlerError> {
        if let Consumed::CustomerErased(_) = event {
            // The evidence content no longer opens; the register and its chain stay.
            let key = crate::chain::key_ref(meta.complaint_id.as_str());
            self.vault.shred_in(tx, &key).await?;
            return Ok(());
        }
        if let Consumed::Assigned(assigned) = event {
            return self.open(tx, meta, assigned).await;
        }
        if let Consumed::MergedInto(merged) = &event {
            // The merged complaint itself never had a case.
            return self.merged(tx, meta, merged).await;
        }
        let Some(case) = store::case(&mut **tx, meta.complaint_id.as_str()).await? else {
            // A complaint withdrawn or merged before assignment is archived without ever
            // having had a case; anything else waits for the case to open.
            if matches!(event, Consumed::Archived(_)) {
                return Ok(());
            }
            return Err(HandlerError::Retry(anyhow::anyhow!("no case for complaint {} yet", meta.complaint_id)));
        };
        if let Consumed::ExtensionDecided(decided) = event {
            return self.extend(tx, meta, &case, &decided).await;
        }
        if let Consumed::Reassigned(reassigned) = event {
            return self.reassign(tx, &case, &reassigned).await;
        }
        if let Consumed::Withdrawn(withdrawn) = &event {
            if case.stage.is_open() {
                store::add_note(tx, &case.complaint_id, "withdrawn", &withdrawn.reason, &withdrawn.recorded_by).await?;
            }
        }
        let clock_effect = match &event {
            Consumed::CustomerResponded(responded) if responded.response == CustomerResponse::Accepted => Some(ClockKind::Execution),
            Consumed::CustomerResponded(_) => Some(ClockKind::Investigation),
            // The left member's own investigation resumes with a fresh limit.
            Consumed::LeftMassIncident(_) => Some(ClockKind::Investigation),
            // The superior institution's review runs on its own limit.
            Consumed::ReviewRequested(_) => Some(ClockKind::ReviewDecision),
            _ => None,
        };
        // The unified statement answers the member: its investigation clocks are met.
        let meets = matches!(&event, Consumed::CustomerNotified(notified) if notified.kind == NotificationKind::UnifiedStatement);
        let closes = matches!(event, Consumed::Closed(_) | Consumed::Withdrawn(_) | Consumed::Archived(_));
        let verdict = match event {
            Consumed::Assigned(_) => return Ok(()),
            Consumed::ResolutionApproved(approved) => {
                decision(case.stage, case.proposal_id.as_ref(), &approved.proposal_id, &Step::ResolutionApproved)
            }
            Consumed::ResolutionReturned(returned) => {
                decision(case.stage, case.proposal_id.as_ref(), &returned.proposal_id, &Step::ResolutionReturned)
            }
            other => match LifecycleEvent::from(other).step() {
                Some(step) => lifecycle::classify(case.stage, &step),
                None => return Ok(()),
            },
        };
        match verdict {
            Verdict::To(stage) if stage == case.stage => Ok(()),
            Verdict::To(stage) => {
                store::move_stage(tx, &case.complaint_id, case.stage, stage).await?;
                tracing::info!(from = case.stage.as_str(), to = stage.as_str(), "case stage moved");
                let clock = CaseClock::of(&case);
                let mut changed = Vec::new();
                if let Some(kind) = clock_effect {
                    changed.extend(clock.start(tx, &self.book, kind, meta.occurred_at_ms).await?);
                }
                if closes {
                    changed.extend(clocks::cancel_all(tx, &self.book, &case.complaint_id, meta.occurred_at_ms, &[]).await?);
                }
                if meets {
                    changed.extend(clock.complete(tx, &self.book, &[ClockKind::InvestigationStart, ClockKind::Investigation], meta.occurred_at_ms).await?);
                }
                clock.announce(tx, changed).await?;
                Ok(())
            }
            Verdict::Stale => Ok(()),
            Verdict::Early => Err(HandlerError::Retry(anyhow::anyhow!(
                "case is {}; the event arrived before the step it follows",
                case.stage.as_str()
            ))),
            Verdict::Illegal => Err(HandlerError::Poison(format!("not a legal step for a case that is {}", case.stage.as_str()))),
        }
    }
}
