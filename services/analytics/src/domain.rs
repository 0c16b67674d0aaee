//! How each lifecycle event reads on the timeline. The complaint's status on the read side is
//! the one lifecycle applied to the events as they arrive (see `consumers`).

use complaints_domain::events::{CustomerResponse, LifecycleEvent, NotificationKind};
use complaints_domain::{ClockSnapshot, Money};

/// One timeline line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub stage: String,
    pub actor: String,
    pub detail: String,
}

fn money(amount: Option<&Money>) -> String {
    amount.map(ToString::to_string).unwrap_or_else(|| "no amount".into())
}

fn clock_detail(clock: &ClockSnapshot) -> String {
    let provisional = if clock.provisional { " (provisional: past the published calendar)" } else { "" };
    format!("{} clock ({}, {}) due {}{provisional}", clock.kind, clock.period, clock.jurisdiction, clock.due_local)
}

/// Reads an event for the timeline; `None` for bookkeeping events that have no line of their
/// own (clock starts and ends, which the clock view shows).
pub fn interpret(event: &LifecycleEvent, producer: &str) -> Option<Entry> {
    let entry = |stage: &str, actor: &str, detail: String| Entry { stage: stage.to_owned(), actor: actor.to_owned(), detail };
    Some(match event {
        LifecycleEvent::Received(p) => {
            let actor = p.receiving_staff.as_ref().map(|s| s.as_str()).unwrap_or("customer");
            entry("received", actor, format!("via {}: {}", p.channel.as_str(), p.summary))
        }
        LifecycleEvent::CustomerNotified(p) => {
            let stage = match p.kind {
                NotificationKind::Acknowledgement => "acknowledged",
                NotificationKind::Result => "customer_informed",
                NotificationKind::Execution => "customer_notified",
                NotificationKind::Progress => "customer_updated",
                NotificationKind::Withdrawal => "withdrawal_confirmed",
                NotificationKind::OutOfScope => "external_routes_offered",
                NotificationKind::Merged => "merge_notice_delivered",
                NotificationKind::UnifiedStatement => "customer_informed",
                NotificationKind::ReviewOutcome => "review_outcome_delivered",
            };
            entry(stage, producer, format!("{} notice delivered via {}", p.kind.as_str(), p.channel.as_str()))
        }
        LifecycleEvent::Triaged(p) => entry("triaged", producer, format!("grade {}, category {}: {}", p.grade, p.category, p.reasons.join("; "))),
        LifecycleEvent::Assigned(p) => entry("assigned", producer, format!("{} / {}", p.department, p.handler)),
        LifecycleEvent::InvestigationOpened(p) => entry("investigating", p.handler.as_str(), "case opened".into()),
        LifecycleEvent::EvidenceRegistered(p) => {
            entry("evidence_registered", p.registered_by.as_str(), format!("#{} sha256 {}", p.evidence_number, p.sha256))
        }
        LifecycleEvent::ResolutionProposed(p) => entry("resolution_proposed", p.proposed_by.as_str(), money(p.resolution.amount.as_ref())),
        LifecycleEvent::ResolutionApproved(p) => {
            let approvers: Vec<&str> = p.approvers.iter().map(|a| a.as_str()).collect();
            entry("approved", &approvers.join(", "), format!("level {}", p.approval_level.as_str()))
        }
        LifecycleEvent::ResolutionReturned(p) => entry("returned_for_rework", p.returned_by.as_str(), p.reason.clone()),
        LifecycleEvent::CustomerResponded(p) => match p.response {
            CustomerResponse::Objected => entry("customer_objected", &p.recorded_by, p.comment.clone()),
            CustomerResponse::Accepted => entry("customer_accepted", &p.recorded_by, p.comment.clone()),
        },
        LifecycleEvent::RemedyExecuted(p) if p.nothing_to_execute => {
            entry("nothing_to_execute", p.executed_by.as_str(), "the accepted resolution needs nothing executed".into())
        }
        LifecycleEvent::RemedyExecuted(p) => {
            entry("executed", p.executed_by.as_str(), format!("{} ({})", p.reference, money(p.amount.as_ref())))
        }
        LifecycleEvent::FollowUpRecorded(p) => entry("followed_up", &p.recorded_by, p.satisfaction.as_str().to_owned()),
        LifecycleEvent::Closed(p) => match p.external_route {
            Some(route) => entry("closed", producer, format!("{}; the customer chose {}", p.reason, route.as_str())),
            None => entry("closed", producer, p.reason.clone()),
        },
        LifecycleEvent::Withdrawn(p) => {
            let how = if p.on_behalf { "recorded by staff on the customer's behalf" } else { "by the customer" };
            entry("withdrawn", &p.recorded_by, format!("{how}: {}", p.reason))
        }
        LifecycleEvent::MarkedOutOfScope(p) => {
            let routes: Vec<&str> = p.routes.iter().map(|route| route.as_str()).collect();
            entry("out_of_scope", p.marked_by.as_str(), format!("{}; routes offered: {}", p.reason, routes.join(", ")))
        }
        LifecycleEvent::RepeatDetected(p) => {
            let escalated = p.escalated_to.as_ref().map(|id| format!("; escalated to {id}")).unwrap_or_default();
            let facts = if p.new_facts { "new facts" } else { "no new facts" };
            entry(
                "repeat_detected",
                producer,
                format!("complaint #{} on the matter after {} ({facts}, similarity {:.2}){escalated}", p.count, p.earlier_numbers.join(", "), p.similarity),
            )
        }
        LifecycleEvent::MergedInto(p) => {
            let facts = if p.new_facts { "with new facts; its clocks restart" } else { "without new facts" };
            entry("merged", producer, format!("into {} {facts}", p.target_number))
        }
        LifecycleEvent::ReviewRequested(p) => entry("review_requested", &p.requested_by, p.reason.clone()),
        LifecycleEvent::ReviewDecided(p) => {
            entry(if p.upheld { "review_upheld" } else { "review_changed" }, p.decided_by.as_str(), p.conclusion.clone())
        }
        LifecycleEvent::JoinedMassIncident(p) => entry("mass_member", &p.linked_by, format!("member of incident {}", p.incident_number)),
        LifecycleEvent::LeftMassIncident(p) => {
            entry("left_mass_incident", p.unlinked_by.as_str(), format!("unlinked from incident {}: {}", p.incident_number, p.reason))
        }
        LifecycleEvent::UnifiedStatement(p) => entry("unified_statement", p.issued_by.as_str(), format!("incident {}: {}", p.incident_number, p.text)),
        LifecycleEvent::Reassigned(p) => {
            let from = p.previous_handler.as_ref().map(|id| format!(" from {id}")).unwrap_or_default();
            let with = if p.co_reviewers.is_empty() {
                String::new()
            } else {
                format!(" with {}", p.co_reviewers.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(", "))
            };
            entry(p.cause.as_str(), &p.reassigned_by, format!("{} / {}{from}{with}: {}", p.department, p.handler, p.reason))
        }
        LifecycleEvent::Archived(p) => {
            let note = if p.note.is_empty() { String::new() } else { format!(": {}", p.note) };
            entry("archived", p.archived_by.as_str(), format!("case file archived{note}"))
        }
        LifecycleEvent::CustomerErased(p) => entry("customer_erased", p.erased_by.as_str(), format!("personal data erased: {}", p.reason)),
        LifecycleEvent::ClocksChanged(_) => return None,
        LifecycleEvent::ClockStopped(p) => entry("clock_stopped", p.stopped_by.as_str(), format!("{}: {}", p.reason.as_str(), p.note)),
        LifecycleEvent::ClockRestarted(p) => entry("clock_restarted", p.restarted_by.as_str(), p.note.clone()),
        LifecycleEvent::ExtensionRequested(p) => {
            entry("extension_requested", p.requested_by.as_str(), format!("{} clock: {}", p.clock, p.reason))
        }
        LifecycleEvent::ExtensionDecided(p) => entry(
            if p.approved { "extension_approved" } else { "extension_refused" },
            p.decided_by.as_str(),
            format!("{} clock: {}", p.clock, if p.comment.is_empty() { &p.reason } else { &p.comment }),
        ),
        LifecycleEvent::DeadlineExtended(p) => entry("deadline_extended", producer, format!("{}; {}", clock_detail(&p.clock), p.reason)),
        LifecycleEvent::ClockWarning(p) => {
            let told: Vec<&str> = p.notify.iter().map(|s| s.as_str()).collect();
            entry("clock_warning", producer, format!("{}; told {}", clock_detail(&p.clock), told.join(", ")))
        }
        LifecycleEvent::ClockBreached(p) => {
            let to: Vec<&str> = p.escalated_to.iter().map(|s| s.as_str()).collect();
            entry("clock_breached", producer, format!("{}; escalated to {}", clock_detail(&p.clock), to.join(", ")))
        }
    })
}
