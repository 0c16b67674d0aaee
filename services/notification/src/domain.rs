//! The messages sent to customers: acknowledgement, result (conclusion, basis, amount,
//! execution method, rights) and execution notice.

use complaints_domain::events::{RemedyExecuted, ResolutionApproved};
use complaints_domain::Money;
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

pub fn acknowledgement(institution: &str, number: &str, received_at: &str) -> Message {
    Message {
        subject: format!("Complaint {number} received"),
        text: format!(
            "{institution} registered your complaint {number} on {received_at}. A member of staff will contact you \
             within 24 hours to confirm the details, the process and the expected handling time. Quote {number} in \
             any contact with us."
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
