//! The messages sent to customers: acknowledgement, result (conclusion, basis, amount,
//! execution method, rights) and execution notice.

use complaints_domain::events::{
    ClockStopped, ComplaintReassigned, ComplaintTriaged, ComplaintWithdrawn, DeadlineExtended, MarkedOutOfScope, MergedInto, ReassignCause,
    RemedyExecuted, RepeatDetected, ReplyDue, ResolutionApproved, ReviewDecided, StopReason, UnifiedStatement,
};
use complaints_domain::{ClockSnapshot, Money};
use serde::Serialize;

/// What is sent to the gateway.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Message {
    pub subject: String,
    pub text: String,
}

fn amount_text(amount: Option<&Money>) -> String {
    match amount {
        Some(money) if money.minor_units > 0 => money.to_string(),
        _ => "none".to_owned(),
    }
}

/// The acknowledgement states the reply date the complaint's clocks give (the statutory limit
/// of its rule pack), never a fixed promise.
pub fn acknowledgement(institution: &str, number: &str, received_at: &str, reply_due: Option<&ReplyDue>) -> Message {
    let reply = match reply_due {
        Some(due) if due.provisional => format!(
            " You will have our answer by {} at the latest (provisional: the holiday calendar for that date is not yet \
             published; we will confirm the date).",
            due.local
        ),
        Some(due) => format!(" You will have our answer by {} at the latest.", due.local),
        None => String::new(),
    };
    Message {
        subject: format!("Complaint {number} received"),
        text: format!(
            "{institution} registered your complaint {number} on {received_at}. A member of staff will contact you \
             to confirm the details and the process.{reply} Quote {number} in any contact with us."
        ),
    }
}

fn clock_line(clock: &ClockSnapshot) -> String {
    let provisional = if clock.provisional { " (provisional)" } else { "" };
    format!("the {} clock ({}, {} rules) is due {}{provisional}", clock.kind, clock.period, clock.jurisdiction, clock.due_local)
}

pub fn clock_warning(number: &str, clock: &ClockSnapshot) -> Message {
    Message {
        subject: format!("Complaint {number}: {} clock at risk", clock.kind),
        text: format!("Complaint {number}: {}. It has passed its warning point; act before it is due.", clock_line(clock)),
    }
}

pub fn clock_breached(number: &str, clock: &ClockSnapshot) -> Message {
    let owner = clock.owner.as_ref().map(|owner| format!(" Owner: {owner}.")).unwrap_or_default();
    Message {
        subject: format!("Complaint {number}: {} clock breached", clock.kind),
        text: format!("Complaint {number}: {} and was not met. It is escalated to you.{owner}", clock_line(clock)),
    }
}

pub fn red_alert(number: &str, triaged: &ComplaintTriaged) -> Message {
    Message {
        subject: format!("Red complaint {number}: task group"),
        text: format!(
            "Complaint {number} is graded Red ({}: {}). The special task group responds immediately.",
            triaged.category,
            triaged.reasons.join("; ")
        ),
    }
}

pub fn result(institution: &str, number: &str, approved: &ResolutionApproved) -> Message {
    let resolution = &approved.resolution;
    Message {
        subject: format!("Outcome of complaint {number}"),
        text: format!(
            "{institution} has concluded complaint {number}.\nConclusion: {}\nBasis: {}\nAmount: {}\nExecution: {}\n\
             You may accept this outcome or object within 3 working days; without an answer it is taken as accepted. \
             If you remain dissatisfied you may ask for a review or turn to mediation, arbitration, the courts or the \
             industry association.",
            resolution.conclusion,
            resolution.basis,
            amount_text(resolution.amount.as_ref()),
            resolution.execution_method,
        ),
    }
}

pub fn execution(institution: &str, number: &str, executed: &RemedyExecuted) -> Message {
    if executed.nothing_to_execute {
        return Message {
            subject: format!("Complaint {number}: handling complete"),
            text: format!(
                "{institution} has completed the handling of complaint {number}; the outcome you accepted needs nothing \
                 further to be carried out. We will contact you within a week to ask whether you are satisfied."
            ),
        };
    }
    Message {
        subject: format!("Complaint {number}: remedy carried out"),
        text: format!(
            "{institution} has carried out the agreed remedy for complaint {number} (reference {}, amount {}). \
             We will contact you within a week to ask whether you are satisfied.",
            executed.reference,
            amount_text(executed.amount.as_ref()),
        ),
    }
}

/// Confirms a withdrawal to the customer; the procedure has ended.
pub fn withdrawal(institution: &str, number: &str, withdrawn: &ComplaintWithdrawn) -> Message {
    Message {
        subject: format!("Complaint {number} withdrawn"),
        text: format!(
            "{institution} has recorded the withdrawal of your complaint {number} ({}). Its handling has ended. If you \
             did not ask for this, contact us quoting {number}.",
            withdrawn.reason
        ),
    }
}

/// Tells the customer the matter is outside the institution's remit and which external routes
/// are open, and asks which they choose.
pub fn out_of_scope(institution: &str, number: &str, marked: &MarkedOutOfScope) -> Message {
    let routes: Vec<String> = marked.routes.iter().map(|route| format!("- {} ({})", route.describe(), route.as_str())).collect();
    Message {
        subject: format!("Complaint {number}: outside our remit"),
        text: format!(
            "{institution} has examined your complaint {number} and cannot decide the matter: {}\nYou may pursue it \
             through:\n{}\nPlease tell us which route you choose, or that you choose none; we will then close the complaint.",
            marked.reason,
            routes.join("\n")
        ),
    }
}

/// Tells the customer the complaint is handled under their open complaint on the matter.
pub fn merged(institution: &str, number: &str, merged: &MergedInto) -> Message {
    let clock = if merged.new_facts { " The new facts you gave are added to it and its handling time starts again from today." } else { "" };
    Message {
        subject: format!("Complaint {number}: handled with complaint {}", merged.target_number),
        text: format!(
            "{institution} is already handling your complaint {} on the same matter. Complaint {number} is handled together with \
             it; you will receive one answer, under {}.{clock}",
            merged.target_number, merged.target_number
        ),
    }
}

/// The superior institution's review decision.
pub fn review_outcome(institution: &str, number: &str, decided: &ReviewDecided) -> Message {
    let outcome = if decided.upheld {
        "The review upholds the decision."
    } else {
        "The review changes the decision; you will receive the new outcome once it is approved."
    };
    Message {
        subject: format!("Complaint {number}: review decision"),
        text: format!(
            "{institution} has reviewed the decision on your complaint {number} at your request. {outcome}\nConclusion: {}\n\
             If you remain dissatisfied you may turn to mediation, arbitration, the courts or the financial regulator.",
            decided.conclusion
        ),
    }
}

/// A mass incident's one statement, as every member receives it.
pub fn unified_statement(institution: &str, number: &str, statement: &UnifiedStatement) -> Message {
    Message {
        subject: format!("Complaint {number}: statement on incident {}", statement.incident_number),
        text: format!(
            "{institution} has received complaints from many customers about the same problem ({}), yours among them \
             ({number}).\n{}\nYou may accept this outcome or object within 3 working days; without an answer it is taken \
             as accepted.",
            statement.incident_number, statement.text
        ),
    }
}

/// The supervisor (and counsel) a repeated complaint is escalated to.
pub fn repeat_escalated(number: &str, repeat: &RepeatDetected) -> Message {
    Message {
        subject: format!("Complaint {number}: repeat complaint #{} escalated to you", repeat.count),
        text: format!(
            "Complaint {number} is the customer's complaint #{} on the matter (earlier: {}). It is escalated to you; you track it \
             until it is resolved.",
            repeat.count,
            repeat.earlier_numbers.join(", ")
        ),
    }
}

/// Tells the new handler (and counsel joining a re-review) that a case is theirs now.
pub fn case_assigned(number: &str, reassigned: &ComplaintReassigned) -> Message {
    let why = match reassigned.cause {
        ReassignCause::Reassignment => "reassigned to you",
        ReassignCause::Retriage => "re-triaged and assigned to you",
        ReassignCause::ReReview => "escalated for re-review after the customer's objection",
        ReassignCause::Review => "yours to review for the superior institution (复核)",
        ReassignCause::RepeatEscalation => "escalated to you: the customer has complained repeatedly about the matter; you track it",
    };
    let previous = reassigned.previous_handler.as_ref().map(|id| format!(" Previous handler: {id}.")).unwrap_or_default();
    Message {
        subject: format!("Complaint {number}: {why}"),
        text: format!(
            "Complaint {number} ({}, {}) is {why} by {}: {}.{previous}",
            reassigned.department,
            reassigned.grade.as_str(),
            reassigned.reassigned_by,
            reassigned.reason
        ),
    }
}

/// A progress update or holding response, sent when a statutory limit is near (its warning
/// point) and the complaint is unresolved; the wording follows the rule pack's jurisdiction.
pub fn holding_response(institution: &str, number: &str, clock: &ClockSnapshot) -> Message {
    let due = &clock.due_local;
    let provisional = if clock.provisional { " (provisional: the holiday calendar for that date is not yet published)" } else { "" };
    let rights = match clock.jurisdiction.as_str() {
        "gb" => " If you do not have our final response by then, or you are unhappy with it, you may refer your complaint \
                  to the Financial Ombudsman Service free of charge; you must do so within six months of our final response."
            .to_owned(),
        "us" => " You can follow the complaint's status on the CFPB portal.".to_owned(),
        "eu" => " If you are not satisfied, you may turn to the competent authority or an out-of-court redress body.".to_owned(),
        _ => " If the case needs longer, we will tell you the new date and the reason before then.".to_owned(),
    };
    Message {
        subject: format!("Complaint {number}: still in progress"),
        text: format!(
            "{institution} is still handling your complaint {number}. We will send you our decision by {due}{provisional}.{rights}"
        ),
    }
}

/// The customer is told why the clock stands still; the time does not count against the limit.
pub fn clock_stopped(institution: &str, number: &str, stopped: &ClockStopped) -> Message {
    let why = match stopped.reason {
        StopReason::ExternalAppraisal => "while an external appraisal or test is carried out",
        StopReason::WaitingForCustomer => "while we wait for information from you",
    };
    Message {
        subject: format!("Complaint {number}: handling paused"),
        text: format!(
            "{institution} has paused the handling time of your complaint {number} {why} ({}). The time this takes \
             does not count towards the time limit; we will tell you when handling continues.",
            stopped.note
        ),
    }
}

/// An approved extension: the customer hears the new date and why (CN extension notice).
pub fn deadline_extended(institution: &str, number: &str, extended: &DeadlineExtended) -> Message {
    let provisional = if extended.clock.provisional { " (provisional: the holiday calendar for that date is not yet published)" } else { "" };
    Message {
        subject: format!("Complaint {number}: new reply date"),
        text: format!(
            "{institution} needs more time for your complaint {number} ({}). We will now send you our decision by {}{provisional}.",
            extended.reason, extended.clock.due_local
        ),
    }
}
