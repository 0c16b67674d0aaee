//! How each lifecycle event reads on the timeline and what it does to the complaint's status.

use complaints_proto::v1 as pb;
use complaints_proto::v1::event_envelope::Payload;
use complaints_shared::domain::{Channel, Grade, Money};

/// One timeline line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub stage: String,
    pub actor: String,
    pub detail: String,
}

/// A status the complaint moves to: forward moves need a higher rank; rework moves (returned,
/// objected) apply whenever they are newer than the current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub status: &'static str,
    pub rank: i64,
    pub rework: bool,
}

const fn forward(status: &'static str, rank: i64) -> Option<StatusChange> {
    Some(StatusChange { status, rank, rework: false })
}

fn money(amount: Option<&pb::Money>) -> String {
    match Money::parse("amount", amount) {
        Ok(Some(m)) => m.to_string(),
        _ => "no amount".into(),
    }
}

/// Reads an event for the timeline and the status summary.
pub fn interpret(payload: &Payload, producer: &str) -> (Entry, Option<StatusChange>) {
    let entry = |stage: &str, actor: &str, detail: String| Entry { stage: stage.to_owned(), actor: actor.to_owned(), detail };
    match payload {
        Payload::Received(p) => {
            let channel = Channel::from_proto(p.channel).map(Channel::as_str).unwrap_or("unknown");
            let actor = if p.receiving_staff.is_empty() { "customer" } else { &p.receiving_staff };
            (entry("received", actor, format!("via {channel}: {}", p.summary)), forward("received", 1))
        }
        Payload::CustomerNotified(p) => {
            let kind = pb::NotificationKind::try_from(p.kind).unwrap_or(pb::NotificationKind::Unspecified);
            let (stage, change) = match kind {
                pb::NotificationKind::Acknowledgement => ("acknowledged", forward("acknowledged", 2)),
                pb::NotificationKind::Result => ("customer_informed", forward("customer_informed", 8)),
                _ => ("customer_notified", None),
            };
            (entry(stage, producer, format!("{} notice delivered", kind.as_str_name())), change)
        }
        Payload::Triaged(p) => {
            let grade = Grade::from_proto(p.grade).map(Grade::as_str).unwrap_or("unknown");
            (entry("triaged", producer, format!("grade {grade}, category {}: {}", p.category, p.reasons.join("; "))), forward("triaged", 3))
        }
        Payload::Assigned(p) => (entry("assigned", producer, format!("{} / {}", p.department, p.handler_id)), forward("assigned", 4)),
        Payload::InvestigationOpened(p) => (entry("investigating", &p.handler_id, "case opened".into()), forward("investigating", 5)),
        Payload::EvidenceRegistered(p) => (
            entry("evidence_registered", &p.registered_by, format!("#{} sha256 {}", p.evidence_number, p.sha256)),
            None,
        ),
        Payload::ResolutionProposed(p) => {
            let amount = p.resolution.as_ref().and_then(|r| r.amount.as_ref());
            (entry("resolution_proposed", &p.proposed_by, money(amount)), forward("awaiting_approval", 6))
        }
        Payload::ResolutionApproved(p) => (
            entry("approved", &p.approvers.join(", "), format!("level {}", p.approval_level)),
            forward("approved", 7),
        ),
        Payload::ResolutionReturned(p) => (
            entry("returned_for_rework", &p.returned_by, p.reason.clone()),
            Some(StatusChange { status: "investigating", rank: 5, rework: true }),
        ),
        Payload::CustomerResponded(p) => match pb::CustomerResponse::try_from(p.response) {
            Ok(pb::CustomerResponse::Objected) => (
                entry("customer_objected", &p.recorded_by, p.comment.clone()),
                Some(StatusChange { status: "investigating", rank: 5, rework: true }),
            ),
            _ => (entry("customer_accepted", &p.recorded_by, p.comment.clone()), forward("accepted", 9)),
        },
        Payload::RemedyExecuted(p) => (
            entry("executed", &p.executed_by, format!("{} ({})", p.reference, money(p.amount.as_ref()))),
            forward("executed", 10),
        ),
        Payload::FollowUpRecorded(p) => {
            let satisfaction = pb::Satisfaction::try_from(p.satisfaction).unwrap_or(pb::Satisfaction::Unspecified);
            (entry("followed_up", &p.recorded_by, satisfaction.as_str_name().to_lowercase()), forward("followed_up", 11))
        }
        Payload::Closed(p) => (entry("closed", producer, p.reason.clone()), forward("closed", 12)),
    }
}
