//! Intake's clocks: the customer-facing ones (SPEC §4–5), started, met and cancelled in the
//! transactions that register the complaint, apply the other services' events and record the
//! customer's answers.
//!
//! | clock | starts | ends |
//! |---|---|---|
//! | acknowledge (1 working hour) | receipt | acknowledgement delivered |
//! | first_contact (24 hours) | receipt | contact recorded (`RecordContact`) |
//! | handover (24 hours, staffed channels) | receipt | hand-over record written |
//! | statutory: regulator_decision, or payment_services_decision for payment products; summary_resolution (UK window) | receipt | result delivered |
//! | response (by grade) | receipt, once assigned | result delivered |
//! | objection_window (3 working days) | result delivered | answer recorded; **silence: accepted** |
//! | review_window (CN 复核, 30 days) | result delivered | runs out (informational) |
//! | follow_up (1 week) | remedy executed | follow-up recorded |
//!
//! Closing the complaint cancels what is still open except the review window.

use complaints_domain::events::{CustomerResponse, DeadlineExtended, ExtensionDecided, LifecycleEvent, NotificationKind, ReplyDue};
use complaints_domain::lifecycle::{self, Step};
use complaints_domain::{ClockKind, ClockSnapshot, ComplaintId, ComplaintKey, Grade};
use complaints_plumbing::clocks::{self, ClockBook, Ending, StartClock, StoredClock};
use complaints_plumbing::scheduler::DueAction;
use complaints_plumbing::store::{StoreError, Tx};

use crate::store::{self, StoredComplaint};
use crate::Config;

/// Whether the customer may still ask for a review (复核) at `now_ms`: the review window of the
/// complaint's rule pack is open and not yet due. Requests need it open; archiving needs it past.
pub async fn review_window_open(tx: &mut Tx, complaint_id: &ComplaintId, now_ms: i64) -> Result<bool, StoreError> {
    let window = clocks::open_clock(tx, complaint_id, ClockKind::ReviewWindow).await?;
    Ok(window.is_some_and(|clock| clock.due_at_ms > now_ms))
}

/// The statutory clocks of a complaint's rule pack.
pub fn statutory(book: &ClockBook, jurisdiction: &str, payment_services: bool) -> Vec<ClockKind> {
    let mut kinds = Vec::new();
    if payment_services && book.has_rule(jurisdiction, ClockKind::PaymentServicesDecision) {
        kinds.push(ClockKind::PaymentServicesDecision);
    } else if book.has_rule(jurisdiction, ClockKind::RegulatorDecision) {
        kinds.push(ClockKind::RegulatorDecision);
    }
    if book.has_rule(jurisdiction, ClockKind::SummaryResolution) {
        kinds.push(ClockKind::SummaryResolution);
    }
    kinds
}

/// Fails start-up when the configuration names a jurisdiction without a rule pack.
pub fn check_rule_packs(book: &ClockBook, config: &Config) -> anyhow::Result<()> {
    let named = &config.jurisdiction;
    for jurisdiction in std::iter::once(&named.default)
        .chain(named.by_channel.values())
        .chain(named.by_branch.values())
        .chain(named.by_product.values())
    {
        if !book.knows(jurisdiction) {
            anyhow::bail!("jurisdiction {jurisdiction:?} in intake's configuration has no rule pack in {}", book.config().rule_packs_dir.display());
        }
    }
    Ok(())
}

fn start<'a>(complaint: &'a StoredComplaint, kind: ClockKind, at_ms: i64, department: Option<&'a str>) -> StartClock<'a> {
    StartClock {
        complaint_id: &complaint.complaint_id,
        complaint_number: &complaint.complaint_number,
        kind,
        jurisdiction: &complaint.jurisdiction,
        grade: Grade::Green,
        owner: complaint.receiving_staff.as_ref(),
        department,
        at_ms,
        traceparent: &complaint.traceparent,
    }
}

/// Starts the clocks of a new complaint; returns them and the reply date promised to the
/// customer (the statutory limit).
pub async fn on_registered(
    tx: &mut Tx,
    book: &ClockBook,
    config: &Config,
    complaint: &StoredComplaint,
) -> Result<(Vec<ClockSnapshot>, Option<ReplyDue>), StoreError> {
    let department = Some(config.first_contact_department.as_str());
    let received = complaint.received_at_ms;
    let mut specs = vec![start(complaint, ClockKind::Acknowledge, received, department), start(complaint, ClockKind::FirstContact, received, department)];
    if complaint.receiving_staff.is_some() {
        specs.push(start(complaint, ClockKind::Handover, received, department));
    }
    for kind in statutory(book, &complaint.jurisdiction, complaint.payment_services) {
        specs.push(StartClock { owner: None, ..start(complaint, kind, received, department) });
    }
    let changed = clocks::start_first(tx, book, &specs).await?;
    let reply_due = changed
        .iter()
        .find(|clock| clock.kind.is_statutory() && !clock.kind.is_window())
        .map(|clock| ReplyDue { at_ms: clock.due_at_ms, local: clock.due_local.clone(), provisional: clock.provisional });
    Ok((changed, reply_due))
}

/// Moves intake's clocks for another service's event that intake applied.
pub async fn on_event(
    tx: &mut Tx,
    book: &ClockBook,
    config: &Config,
    complaint: &StoredComplaint,
    event: &LifecycleEvent,
    at_ms: i64,
) -> Result<Vec<ClockSnapshot>, StoreError> {
    let id = &complaint.complaint_id;
    let mut changed = Vec::new();
    match event {
        LifecycleEvent::Assigned(assigned) => {
            let mut response = start(complaint, ClockKind::Response, complaint.received_at_ms, Some(&assigned.department));
            response.grade = assigned.grade;
            response.owner = Some(&assigned.handler);
            changed.extend(clocks::start(tx, book, response).await?);
            let statutory = statutory(book, &complaint.jurisdiction, complaint.payment_services);
            changed.extend(clocks::reassign(tx, id, &statutory, &assigned.handler, &assigned.department).await?);
        }
        LifecycleEvent::CustomerNotified(notified) if notified.kind == NotificationKind::Acknowledgement => {
            changed.extend(clocks::end(tx, book, id, ClockKind::Acknowledge, at_ms, Ending::Completed).await?);
        }
        LifecycleEvent::Reassigned(reassigned) => {
            let mut kinds = statutory(book, &complaint.jurisdiction, complaint.payment_services);
            kinds.push(ClockKind::Response);
            changed.extend(clocks::reassign(tx, id, &kinds, &reassigned.handler, &reassigned.department).await?);
        }
        LifecycleEvent::CustomerNotified(notified) if notified.kind == NotificationKind::OutOfScope => {
            // Telling the customer the matter is outside the bank's remit, with the external
            // routes, is the decision the statutory and response clocks wait for.
            for kind in statutory(book, &complaint.jurisdiction, complaint.payment_services).into_iter().chain([ClockKind::Response]) {
                changed.extend(clocks::end(tx, book, id, kind, at_ms, Ending::Completed).await?);
            }
        }
        LifecycleEvent::MergedInto(merged) => {
            // This complaint is handled under the open one: its own clocks end. With new
            // facts, the open complaint's statutory limit counts anew from now.
            changed.extend(clocks::cancel_all(tx, book, id, at_ms, &[]).await?);
            if merged.new_facts {
                let target = crate::store::find(&mut **tx, &complaints_domain::ComplaintKey::Id(merged.target_complaint_id.clone()))
                    .await?
                    .ok_or_else(|| StoreError::Clock(format!("merge target {} unknown", merged.target_number)))?;
                if target.stage.is_open() {
                    let mut restarted = Vec::new();
                    for kind in statutory(book, &target.jurisdiction, target.payment_services) {
                        restarted.extend(clocks::start(tx, book, start(&target, kind, at_ms, None)).await?);
                    }
                    crate::store::announce_clocks(tx, &target, restarted).await?;
                }
            }
        }
        LifecycleEvent::CustomerNotified(notified)
            if matches!(notified.kind, NotificationKind::Result | NotificationKind::UnifiedStatement) =>
        {
            for kind in statutory(book, &complaint.jurisdiction, complaint.payment_services).into_iter().chain([ClockKind::Response]) {
                changed.extend(clocks::end(tx, book, id, kind, at_ms, Ending::Completed).await?);
            }
            let mut windows = vec![ClockKind::ObjectionWindow];
            if book.has_rule(&complaint.jurisdiction, ClockKind::ReviewWindow) {
                windows.push(ClockKind::ReviewWindow);
            }
            for kind in windows {
                changed.extend(clocks::start(tx, book, StartClock { owner: None, ..start(complaint, kind, at_ms, None) }).await?);
            }
        }
        LifecycleEvent::RemedyExecuted(_) => {
            let follow_up = start(complaint, ClockKind::FollowUp, at_ms, Some(&config.first_contact_department));
            changed.extend(clocks::start(tx, book, StartClock { owner: None, ..follow_up }).await?);
        }
        _ => {}
    }
    Ok(changed)
}

/// The customer answered inside the objection window.
pub async fn on_response(tx: &mut Tx, book: &ClockBook, complaint: &StoredComplaint, at_ms: i64) -> Result<Vec<ClockSnapshot>, StoreError> {
    Ok(clocks::end(tx, book, &complaint.complaint_id, ClockKind::ObjectionWindow, at_ms, Ending::Completed).await?.into_iter().collect())
}

/// The follow-up was recorded and the complaint closed: the follow-up clock is met and what is
/// still open ends, but the customer's review window, which outlives the complaint.
pub async fn on_closed(tx: &mut Tx, book: &ClockBook, complaint: &StoredComplaint, at_ms: i64) -> Result<Vec<ClockSnapshot>, StoreError> {
    let mut changed: Vec<ClockSnapshot> =
        clocks::end(tx, book, &complaint.complaint_id, ClockKind::FollowUp, at_ms, Ending::Completed).await?.into_iter().collect();
    changed.extend(clocks::cancel_all(tx, book, &complaint.complaint_id, at_ms, &[ClockKind::ReviewWindow]).await?);
    Ok(changed)
}

/// The customer withdrew the complaint: every clock stops, the review window too.
pub async fn on_withdrawn(tx: &mut Tx, book: &ClockBook, complaint: &StoredComplaint, at_ms: i64) -> Result<Vec<ClockSnapshot>, StoreError> {
    clocks::cancel_all(tx, book, &complaint.complaint_id, at_ms, &[]).await
}

/// A contact with the customer or the hand-over record was written.
pub async fn on_contact(tx: &mut Tx, book: &ClockBook, complaint: &StoredComplaint, kind: ClockKind, at_ms: i64) -> Result<Vec<ClockSnapshot>, StoreError> {
    Ok(clocks::end(tx, book, &complaint.complaint_id, kind, at_ms, Ending::Completed).await?.into_iter().collect())
}

/// The stop-clock (external appraisal, waiting for the customer) pauses the statutory limit and
/// the response clock; its end resumes them. A clock already paused, resumed or ended is left
/// as it is (the events may be redelivered).
pub async fn on_stop_clock(tx: &mut Tx, book: &ClockBook, complaint: &StoredComplaint, stop: bool, at_ms: i64) -> Result<Vec<ClockSnapshot>, StoreError> {
    let mut changed = Vec::new();
    let kinds = statutory(book, &complaint.jurisdiction, complaint.payment_services).into_iter().filter(|kind| !kind.is_window());
    for kind in kinds.chain([ClockKind::Response]) {
        let result = if stop {
            clocks::pause(tx, book, &complaint.complaint_id, kind, at_ms).await
        } else {
            clocks::resume(tx, book, &complaint.complaint_id, kind, at_ms).await
        };
        match result {
            Ok(snapshot) => changed.extend(snapshot),
            Err(StoreError::Clock(reason)) => tracing::info!(clock = %kind, %reason, "stop-clock leaves this clock as it is"),
            Err(other) => return Err(other),
        }
    }
    Ok(changed)
}

/// Applies an approved extension of a statutory limit (CN: 30 days for a complex case, a
/// further 30 with the superior institution's approval; CFPB: the final response by 60 days)
/// and announces the new date for the customer.
pub async fn on_extension(tx: &mut Tx, book: &ClockBook, complaint: &StoredComplaint, decided: &ExtensionDecided, at_ms: i64) -> Result<(), StoreError> {
    let Some(extended) = clocks::extend(tx, book, &complaint.complaint_id, decided.clock, None, at_ms, &decided.reason).await? else {
        tracing::warn!(clock = %decided.clock, "extension approved for a clock that is not open; nothing to extend");
        return Ok(());
    };
    store::announce_clocks(tx, complaint, vec![extended.clone()]).await?;
    let event = LifecycleEvent::DeadlineExtended(DeadlineExtended { clock: extended, reason: decided.reason.clone() });
    store::announce(tx, complaint, event).await
}

/// What intake does when one of its windows runs out: the objection window's end without an
/// answer is the customer's acceptance (SPEC §3: silence = accepted after the window).
pub struct Silence;

/// Who records an acceptance by silence.
pub const SILENCE_ACTOR: &str = "system:intake";

impl DueAction for Silence {
    async fn expired<'a>(&'a self, tx: &'a mut Tx, clock: &'a StoredClock) -> Result<(), StoreError> {
        if clock.kind != ClockKind::ObjectionWindow {
            return Ok(());
        }
        let Some(complaint) = store::find(&mut **tx, &ComplaintKey::Id(clock.complaint_id.clone())).await? else {
            return Ok(());
        };
        let Ok(to) = lifecycle::next(complaint.stage, &Step::CustomerAccepted { by_silence: true }) else {
            // Answered (or withdrawn) in the meantime: nothing to deem.
            return Ok(());
        };
        store::record_response(tx, &complaint, to, CustomerResponse::Accepted, "no objection within the objection window", SILENCE_ACTOR, true)
            .await?;
        tracing::info!(complaint_number = %complaint.complaint_number, "objection window ended without an answer: accepted by silence");
        Ok(())
    }
}
