//! The case lifecycle inside investigation and the validation of proposals.

use complaints_proto::v1 as pb;
use complaints_shared::domain::Money;
use complaints_shared::grpc::FieldError;
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
            if value.trim().is_empty() {
                return Err(FieldError::new(field, "is required"));
            }
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

/// The status an incoming event moves a case to; `None` when it does not apply in `current`.
pub fn next_status(current: CaseStatus, payload: &pb::event_envelope::Payload, proposal_id: Option<&str>) -> Option<CaseStatus> {
    use pb::event_envelope::Payload;
    match payload {
        Payload::ResolutionApproved(approved) if current == CaseStatus::Proposed && proposal_id == Some(approved.proposal_id.as_str()) => {
            Some(CaseStatus::Approved)
        }
        Payload::ResolutionReturned(returned) if current == CaseStatus::Proposed && proposal_id == Some(returned.proposal_id.as_str()) => {
            Some(CaseStatus::Investigating)
        }
        Payload::CustomerResponded(responded) if current == CaseStatus::Approved => {
            match pb::CustomerResponse::try_from(responded.response) {
                Ok(pb::CustomerResponse::Accepted) => Some(CaseStatus::AwaitingExecution),
                // An objection reopens the case for re-review.
                Ok(pb::CustomerResponse::Objected) => Some(CaseStatus::Investigating),
                _ => None,
            }
        }
        Payload::Closed(_) => Some(CaseStatus::Closed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::event_envelope::Payload;

    #[test]
    fn approval_of_another_proposal_changes_nothing() {
        let approved = Payload::ResolutionApproved(pb::ResolutionApproved { proposal_id: "p1".into(), ..Default::default() });
        assert_eq!(next_status(CaseStatus::Proposed, &approved, Some("p1")), Some(CaseStatus::Approved));
        assert_eq!(next_status(CaseStatus::Proposed, &approved, Some("p2")), None);
    }

    #[test]
    fn objection_reopens_acceptance_awaits_execution() {
        let objected = Payload::CustomerResponded(pb::CustomerResponded { response: pb::CustomerResponse::Objected as i32, ..Default::default() });
        let accepted = Payload::CustomerResponded(pb::CustomerResponded { response: pb::CustomerResponse::Accepted as i32, ..Default::default() });
        assert_eq!(next_status(CaseStatus::Approved, &objected, None), Some(CaseStatus::Investigating));
        assert_eq!(next_status(CaseStatus::Approved, &accepted, None), Some(CaseStatus::AwaitingExecution));
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
        assert_eq!(Resolution::parse(Some(&proposal)).unwrap_err().field, "resolution.amount");
    }
}
