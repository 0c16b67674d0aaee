//! The case lifecycle inside investigation and the validation of proposals.

use complaints_proto::v1 as pb;
use complaints_shared::domain::Money;
use complaints_shared::grpc::{at_most, required, FieldError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatus {
    Investigating,
    Proposed,
    Approved,
    AwaitingExecution,
    Executed,
    Closed,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "investigating",
            Self::Proposed => "proposed",
            Self::Approved => "approved",
            Self::AwaitingExecution => "awaiting_execution",
            Self::Executed => "executed",
            Self::Closed => "closed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Investigating, Self::Proposed, Self::Approved, Self::AwaitingExecution, Self::Executed, Self::Closed]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// A remedy as investigation stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub resolution_type: i32,
    pub amount_minor: i64,
    pub currency: String,
    pub conclusion: String,
    pub basis: String,
    pub execution_method: String,
}

impl Resolution {
    /// Validates a proposed resolution; monetary remedies need a positive amount.
    pub fn parse(resolution: Option<&pb::Resolution>) -> Result<Self, FieldError> {
        let resolution = resolution.ok_or_else(|| FieldError::new("resolution", "is required"))?;
        let kind = pb::ResolutionType::try_from(resolution.resolution_type)
            .ok()
            .filter(|t| *t != pb::ResolutionType::Unspecified)
            .ok_or_else(|| FieldError::new("resolution.resolution_type", "must name the kind of remedy"))?;
        let amount = Money::parse("resolution.amount", resolution.amount.as_ref())?;
        let monetary = matches!(
            kind,
            pb::ResolutionType::FullRefund
                | pb::ResolutionType::PartialRefund
                | pb::ResolutionType::Compensation
                | pb::ResolutionType::FeeWaiver
        );
        if monetary && amount.as_ref().is_none_or(|m| m.minor_units == 0) {
            return Err(FieldError::new("resolution.amount", "a refund, compensation or fee waiver needs a positive amount"));
        }
        for (field, value) in [
            ("resolution.conclusion", &resolution.conclusion),
            ("resolution.basis", &resolution.basis),
            ("resolution.execution_method", &resolution.execution_method),
        ] {
            required(field, value, usize::MAX)?;
            at_most(field, value, 4000)?;
        }
        Ok(Self {
            resolution_type: kind as i32,
            amount_minor: amount.as_ref().map(|m| m.minor_units).unwrap_or(0),
            currency: amount.map(|m| m.currency).unwrap_or_default(),
            conclusion: resolution.conclusion.trim().to_owned(),
            basis: resolution.basis.trim().to_owned(),
            execution_method: resolution.execution_method.trim().to_owned(),
        })
    }

    pub fn amount(&self) -> Option<pb::Money> {
        (!self.currency.is_empty()).then(|| pb::Money { minor_units: self.amount_minor, currency: self.currency.clone() })
    }

    pub fn to_proto(&self) -> pb::Resolution {
        pb::Resolution {
            resolution_type: self.resolution_type,
            amount: self.amount(),
            conclusion: self.conclusion.clone(),
            basis: self.basis.clone(),
            execution_method: self.execution_method.clone(),
        }
    }
}

/// What an incoming event does to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Move the case to this status.
    To(CaseStatus),
    /// The case is past what the event is about (an old proposal, a repeat): nothing to do.
    Stale,
    /// The event assumes a step the case has not reached yet (it overtook another event):
    /// try again later.
    Early,
}

/// The transition an incoming event causes in a case in `current` status.
pub fn next_status(current: CaseStatus, payload: &pb::event_envelope::Payload, proposal_id: Option<&str>) -> Transition {
    use pb::event_envelope::Payload;
    match payload {
        Payload::ResolutionApproved(decided) if proposal_id == Some(decided.proposal_id.as_str()) && current == CaseStatus::Proposed => {
            Transition::To(CaseStatus::Approved)
        }
        Payload::ResolutionReturned(decided) if proposal_id == Some(decided.proposal_id.as_str()) && current == CaseStatus::Proposed => {
            Transition::To(CaseStatus::Investigating)
        }
        Payload::ResolutionApproved(_) | Payload::ResolutionReturned(_) => Transition::Stale,
        Payload::CustomerResponded(responded) => match current {
            // The approval that precedes any answer has not been applied yet.
            CaseStatus::Proposed => Transition::Early,
            CaseStatus::Approved => match pb::CustomerResponse::try_from(responded.response) {
                Ok(pb::CustomerResponse::Accepted) => Transition::To(CaseStatus::AwaitingExecution),
                // An objection reopens the case for re-review.
                Ok(pb::CustomerResponse::Objected) => Transition::To(CaseStatus::Investigating),
                _ => Transition::Stale,
            },
            _ => Transition::Stale,
        },
        Payload::Closed(_) if current == CaseStatus::Closed => Transition::Stale,
        Payload::Closed(_) => Transition::To(CaseStatus::Closed),
        _ => Transition::Stale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::event_envelope::Payload;

    #[test]
    fn approval_of_another_proposal_changes_nothing() {
        let approved = Payload::ResolutionApproved(pb::ResolutionApproved { proposal_id: "p1".into(), ..Default::default() });
        assert_eq!(next_status(CaseStatus::Proposed, &approved, Some("p1")), Transition::To(CaseStatus::Approved));
        assert_eq!(next_status(CaseStatus::Proposed, &approved, Some("p2")), Transition::Stale);
    }

    #[test]
    fn objection_reopens_acceptance_awaits_execution() {
        let objected = Payload::CustomerResponded(pb::CustomerResponded { response: pb::CustomerResponse::Objected as i32, ..Default::default() });
        let accepted = Payload::CustomerResponded(pb::CustomerResponded { response: pb::CustomerResponse::Accepted as i32, ..Default::default() });
        assert_eq!(next_status(CaseStatus::Approved, &objected, None), Transition::To(CaseStatus::Investigating));
        assert_eq!(next_status(CaseStatus::Approved, &accepted, None), Transition::To(CaseStatus::AwaitingExecution));
        assert_eq!(next_status(CaseStatus::Proposed, &accepted, None), Transition::Early, "overtook the approval");
        assert_eq!(next_status(CaseStatus::AwaitingExecution, &accepted, None), Transition::Stale);
    }

    #[test]
    fn monetary_remedy_needs_an_amount() {
        let proposal = pb::Resolution {
            resolution_type: pb::ResolutionType::Compensation as i32,
            conclusion: "c".into(),
            basis: "b".into(),
            execution_method: "e".into(),
            ..Default::default()
        };
        assert_eq!(Resolution::parse(Some(&proposal)).expect_err("no amount").field, "resolution.amount");
    }
}
