//! The approval decision rules: who may sign next, and when a proposal is fully approved.

use complaints_shared::domain::org::{Involvement, OrgDirectory};
use complaints_shared::domain::ApprovalLevel;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Returned,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Returned => "returned",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Returned].into_iter().find(|s| s.as_str() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("approver_id: {0} is not in the org directory")]
    UnknownApprover(String),
    #[error("approver_id: the proposer may not approve their own proposal")]
    OwnProposal,
    #[error("approver_id: {approver} does not hold the role {role} that must sign next")]
    WrongRole { approver: String, role: String },
    #[error("approver_id: {0} already signed this proposal")]
    AlreadySigned(String),
    #[error("approver_id: recused: {0}")]
    Conflict(String),
    #[error("the proposal is {0}, not pending")]
    NotPending(&'static str),
}

/// Checks that `approver_id` may give the next signature on a proposal at `level`, after
/// `signed_by` have signed. Returns the role they sign for.
pub fn may_sign(
    org: &OrgDirectory,
    level: ApprovalLevel,
    status: ApprovalStatus,
    proposed_by: &str,
    signed_by: &[String],
    approver_id: &str,
    involvement: &Involvement<'_>,
) -> Result<&'static str, Refusal> {
    if status != ApprovalStatus::Pending {
        return Err(Refusal::NotPending(status.as_str()));
    }
    let approver = org.staff(approver_id).ok_or_else(|| Refusal::UnknownApprover(approver_id.to_owned()))?;
    if approver_id == proposed_by {
        return Err(Refusal::OwnProposal);
    }
    if signed_by.iter().any(|s| s == approver_id) {
        return Err(Refusal::AlreadySigned(approver_id.to_owned()));
    }
    let roles = level.required_roles();
    let role = roles.get(signed_by.len()).copied().ok_or(Refusal::NotPending("fully signed"))?;
    if !approver.roles.iter().any(|r| r == role) {
        return Err(Refusal::WrongRole { approver: approver_id.to_owned(), role: role.to_owned() });
    }
    if let Some(reason) = org.conflict(approver, involvement) {
        return Err(Refusal::Conflict(reason));
    }
    Ok(role)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = r#"
        [[department]]
        id = "d"
        name = "D"
        [[staff]]
        id = "H"
        name = "Head"
        department = "d"
        roles = ["department_head"]
        [[staff]]
        id = "R"
        name = "Risk"
        department = "d"
        roles = ["head_office_risk_legal"]
        [[staff]]
        id = "E"
        name = "Exec"
        department = "d"
        roles = ["senior_executive"]
    "#;

    #[test]
    fn proposer_cannot_approve_and_roles_sign_in_order() {
        let org = OrgDirectory::parse(ORG, "test").expect("org");
        let none = Involvement::default();
        let pending = ApprovalStatus::Pending;
        assert_eq!(may_sign(&org, ApprovalLevel::DepartmentHead, pending, "H", &[], "H", &none), Err(Refusal::OwnProposal));
        assert_eq!(may_sign(&org, ApprovalLevel::DepartmentHead, pending, "X", &[], "H", &none), Ok("department_head"));
        assert!(matches!(may_sign(&org, ApprovalLevel::HeadOffice, pending, "X", &[], "E", &none), Err(Refusal::WrongRole { .. })));
        assert_eq!(may_sign(&org, ApprovalLevel::HeadOffice, pending, "X", &[], "R", &none), Ok("head_office_risk_legal"));
        assert_eq!(may_sign(&org, ApprovalLevel::HeadOffice, pending, "X", &["R".into()], "E", &none), Ok("senior_executive"));
    }

    #[test]
    fn named_approver_is_recused() {
        let org = OrgDirectory::parse(ORG, "test").expect("org");
        let named = vec!["H".to_owned()];
        let involvement = Involvement { staff: &named, branch: "" };
        let result = may_sign(&org, ApprovalLevel::DepartmentHead, ApprovalStatus::Pending, "X", &[], "H", &involvement);
        assert!(matches!(result, Err(Refusal::Conflict(_))));
    }
}
